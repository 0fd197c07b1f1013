"""How scores are compared and ties are broken, so that no number depends on the last bit of
a float or on the order of identifiers.

- **Precision**: an arm's scores are compared at :data:`SCORE_DIGITS` significant digits
  (:func:`round_scores`: a cosine of 0.81234567 compares as 0.812346, a BM25 score of
  12.3456789 as 12.3457). Float32 embeddings or index scores carry about 7 significant
  digits, and another CPU, BLAS or library build can move the last of them; rounding before
  anything sorts, fuses or reads the scores makes such a change move no number, unless it
  happens to cross a rounding boundary between two otherwise tied documents.
- **Ties**: documents whose rounded scores are equal are ordered by a key that is a pure
  function of the run's seed and the document id (:func:`tie_keys`, BLAKE2b of
  ``seed|docno``), never by docno, entity type or the order an index returns them in; the
  order is a random permutation that changes with the seed, so results average over tie
  orders across seeds.

The rounding is exact arithmetic on correctly rounded powers of ten (a table, not ``pow``
or ``log10``, whose last bits differ between libm builds), so the same score rounds the same
way on every machine.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit

SCORE_DIGITS = 6
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


def tie_keys(docnos, seed: int) -> np.ndarray:
    """A seeded random key per docno (uint64 from BLAKE2b of ``seed|docno``): the last tie
    breaker everywhere. It depends on the docno only through a hash, so the order it
    induces is a random permutation that changes with the seed and favours no prefix."""
    salt = f"{int(seed)}|".encode()
    return np.fromiter((int.from_bytes(hashlib.blake2b(salt + str(d).encode(),
                                                       digest_size=8).digest(), "little")
                        for d in docnos), dtype=np.uint64)


def order_by_score(scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The order of entries by (rounded score descending, key ascending): how every arm's
    list is ordered in the loop (``scores`` already rounded)."""
    return np.lexsort((np.asarray(keys, dtype=np.uint64), -np.asarray(scores, dtype=float)))
