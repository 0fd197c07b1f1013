"""How scores are compared and ties are broken, so that no number depends on the last bit of
a float or on the order of identifiers.

- **Precision**: an arm's scores are compared at :data:`SCORE_DIGITS` significant digits
  (:func:`round_scores`: a cosine of 0.81234567 compares as 0.81235, a BM25 score of
  12.3456789 as 12.346). Float32 embeddings or index scores carry about 7 significant digits,
  and another CPU, BLAS or library build can move the last of them (a dot product of float32
  vectors by up to a few 1e-7); rounding before anything sorts, fuses or reads the scores
  makes such a change move no number unless a score sits next to a rounding boundary, and
  the order only when it then ties or un-ties with a neighbour. ``benchmarks/last_bits.py``
  measures it on the music world's dense arm: moving every vector by a float32 ulp changes
  0.3% of the compared scores at 5 digits (2.5% at 6, 25% at 7) and no topic's top-50 order
  in 1,500 (2 at 6 digits): rare, not impossible; records carry a hash of each arm's lists,
  so ``ltrr reproduce`` can say whose lists moved.
- **Ties**: documents whose rounded scores are equal are ordered by a key that is a pure
  function of the run's seed and the document id (:func:`tie_keys`: the docno's BLAKE2b
  digest mixed with the seed by SplitMix64), never by docno, entity type or the order an
  index returns them in; the order is a random permutation that changes with the seed, so
  results average over tie orders across seeds.

The rounding is exact arithmetic on correctly rounded powers of ten (a table, not ``pow``
or ``log10``, whose last bits differ between libm builds), so the same score rounds the same
way on every machine.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit

SCORE_DIGITS = 5
_LOWEST = -300  # POW10[i] = 10 ** (i + _LOWEST), correctly rounded
POW10 = np.array([float(f"1e{e}") for e in range(_LOWEST, 301)])


@njit(cache=True)
def round_significant(x: float, digits: int = SCORE_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (half to even); 0, inf and NaN as
    they are."""
    if x == 0.0 or not np.isfinite(x):
        return x
    a = abs(x)
    lo, hi = 0, len(POW10) - 1  # the largest e with 10^e <= a, by bisection over the table
    if a < POW10[0]:
        return x
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if POW10[mid] <= a:
            lo = mid
        else:
            hi = mid - 1
    at = digits - 1 - (lo + _LOWEST) - _LOWEST
    if at < 0 or at >= len(POW10):
        return x
    scale = POW10[at]
    return np.rint(x * scale) / scale


@njit(cache=True)
def _round_array(values: np.ndarray, digits: int) -> np.ndarray:
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = round_significant(values[i], digits)
    return out


def round_scores(scores, digits: int = SCORE_DIGITS) -> np.ndarray:
    """Scores as float64 rounded to ``digits`` significant digits (see the module doc)."""
    values = np.ascontiguousarray(np.asarray(scores, dtype=np.float64).reshape(-1))
    return _round_array(values, int(digits)).reshape(np.shape(scores))


def digests(docnos) -> np.ndarray:
    """A 64-bit BLAKE2b digest of each docno (its UTF-8 bytes): what :func:`seeded` mixes
    with a seed. Made once per document; a seed's keys are then a vectorised mix."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(str(d).encode(), digest_size=8)
                                       .digest(), "little") for d in docnos), dtype=np.uint64)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijection of 64-bit integers that
    scatters every input bit over the output."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def seeded(digest: np.ndarray, seed: int) -> np.ndarray:
    """The seed's tie keys of documents with these :func:`digests`: the SplitMix64 mix of
    each digest with the seed's own, a random permutation of the documents per seed."""
    salt = _splitmix64(np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    return _splitmix64(np.asarray(digest, dtype=np.uint64) ^ salt)


def tie_keys(docnos, seed: int) -> np.ndarray:
    """A seeded random key per docno (uint64): the last tie breaker everywhere, a pure
    function of the seed and the docno (:func:`seeded` of its BLAKE2b :func:`digests`). It
    depends on the docno only through a hash, so the order it induces is a random
    permutation that changes with the seed and favours no prefix or entity type."""
    return seeded(digests(docnos), seed)


@njit(cache=True)
def order_ties(offsets: np.ndarray, scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The order of the entries of many lists (``offsets``: where each starts; each list's
    ``scores`` rounded and non-increasing) by (score descending, key ascending) within each
    list: how every arm's list is ordered in the loop. Only runs of tied scores move, each
    sorted by key in place, so the pass is linear but for the ties."""
    order = np.arange(scores.shape[0])
    for i in range(offsets.shape[0] - 1):
        start = offsets[i]
        while start < offsets[i + 1]:
            end = start + 1
            while end < offsets[i + 1] and scores[end] == scores[start]:
                end += 1
            for j in range(start + 1, end):  # insertion sort of the tie group by key
                e = order[j]
                at = j
                while at > start and keys[order[at - 1]] > keys[e]:
                    order[at] = order[at - 1]
                    at -= 1
                order[at] = e
            start = end
    return order
