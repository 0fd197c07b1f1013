"""The candidate pool of one query: every document some arm offers, with its rank and score
in each arm's list.

Lists come as a padded ``(A, L)`` array of document ids (``-1`` past each list's end) with
their scores, each list best first, as the arms give them for one query and step. The pool
holds each document once, in order of first appearance (arm by arm, rank by rank), with
``ranks[a, u]`` its 0-based rank in arm ``a``'s list (:data:`ABSENT` where that arm did not
return it) and ``scores[a, u]`` that arm's score (0 where absent). :func:`build_pool` is the
compiled builder the loop calls per step; :meth:`CandidatePool.from_lists` gives the same
pool from Python lists, for the learned ranker, the PyTerrier face and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

ABSENT = np.iinfo(np.int32).max  # rank of a document an arm did not retrieve


@njit(cache=True)
def build_pool(ids: np.ndarray, scores: np.ndarray, lengths: np.ndarray, slot: np.ndarray,
               docs: np.ndarray, ranks: np.ndarray, pool_scores: np.ndarray,
               where: np.ndarray, list_grades: np.ndarray, list_keys: np.ndarray,
               grades: np.ndarray, keys: np.ndarray) -> int:
    """Fill the pool of the lists ``ids`` / ``scores`` (``(A, L)``, ``lengths[a]`` entries
    each) into ``docs``, ``ranks`` and ``pool_scores`` (``(A*L,)``, ``(A, A*L)``,
    ``(A, A*L)``), the pool index of every list entry into ``where`` (``(A, L)``), and each
    pool document's grade and tie key (from ``list_grades`` / ``list_keys``, ``(A, L)``, the
    lists' own) into ``grades`` / ``keys``; returns the pool size U. ``slot`` is a scratch
    array over document ids, all -1 on entry and on return."""
    n_arms = ids.shape[0]
    size = 0
    for a in range(n_arms):
        for r in range(lengths[a]):
            d = ids[a, r]
            u = slot[d]
            if u < 0:
                u = size
                slot[d] = u
                docs[u] = d
                grades[u] = list_grades[a, r]
                keys[u] = list_keys[a, r]
                for b in range(n_arms):
                    ranks[b, u] = ABSENT
                    pool_scores[b, u] = 0.0
                size += 1
            ranks[a, u] = r
            pool_scores[a, u] = scores[a, r]
            where[a, r] = u
    for u in range(size):
        slot[docs[u]] = -1
    return size


@dataclass
class CandidatePool:
    """The candidates every arm offers for one query, as arrays over a pool of documents.

    Attributes:
        docs: pool document ids (unique, in order of first appearance), shape ``(U,)``.
        ranks: ``ranks[a, u]`` 0-based rank of pool doc ``u`` in arm ``a``'s list, or
            ``ABSENT``; shape ``(A, U)``.
        scores: ``scores[a, u]`` that arm's score (0 where absent); shape ``(A, U)``.
        sorted_scores: per arm, its list's scores best first (for min-max scaling).
        slots: the pool index of every entry of the concatenated input lists (``docs[slots]``
            gives the lists back), or None.
    """

    docs: np.ndarray
    ranks: np.ndarray
    scores: np.ndarray
    sorted_scores: list[np.ndarray]
    slots: np.ndarray | None = None

    @classmethod
    def from_lists(cls, ids: list[np.ndarray], scores: list[np.ndarray]) -> "CandidatePool":
        """Build the pool from per-arm ranked lists (doc ids >= 0 best first, with scores):
        the pool :func:`build_pool` gives."""
        padded, values, lengths = padded_lists(ids, scores)
        n_arms, width = padded.shape
        top = int(padded.max()) + 1 if padded.size and padded.max() >= 0 else 1
        slot = np.full(top, -1, dtype=np.int64)
        docs = np.empty(max(n_arms * width, 1), dtype=np.int64)
        ranks = np.empty((n_arms, max(n_arms * width, 1)), dtype=np.int64)
        pool_scores = np.empty((n_arms, max(n_arms * width, 1)))
        where = np.full((n_arms, width), -1, dtype=np.int64)
        size = build_pool(padded, values, lengths, slot, docs, ranks, pool_scores, where,
                          np.zeros(padded.shape, dtype=np.int64),
                          np.zeros(padded.shape, dtype=np.uint64),
                          np.empty(docs.shape[0], dtype=np.int64),
                          np.empty(docs.shape[0], dtype=np.uint64))
        slots = np.concatenate([where[a, :lengths[a]] for a in range(n_arms)]) if n_arms \
            else np.empty(0, dtype=np.int64)
        return cls(docs[:size].copy(), ranks[:, :size].copy(), pool_scores[:, :size].copy(),
                   [np.asarray(s, dtype=float) for s in scores], slots)


def padded_lists(ids: list[np.ndarray], scores: list[np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-arm lists as ``(A, L)`` id and score arrays padded with -1 / 0, and the lengths."""
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    width = int(lengths.max()) if len(lengths) else 0
    padded = np.full((len(ids), max(width, 1)), -1, dtype=np.int64)
    values = np.zeros((len(ids), max(width, 1)))
    for a, (i, s) in enumerate(zip(ids, scores)):
        padded[a, :len(i)] = i
        values[a, :len(i)] = s
    return padded, values, lengths


@njit(cache=True)
def find_sorted(values: np.ndarray, start: int, stop: int, x: int) -> int:
    """The index of ``x`` in the ascending ``values[start:stop]`` (-1 if absent), by bisection:
    a topic's judged documents in the world's CSR tables."""
    lo, hi = start, stop
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < stop and values[lo] == x else -1
