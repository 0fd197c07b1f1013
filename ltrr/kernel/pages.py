"""Every plan's page for one query: fuse the plan's share of each arm's list, take the top.

A plan draws the top ``depths[p, a]`` of each arm ``a``'s list; its union is fused and the
best ``page`` documents are shown. Two unsupervised fusions:

- ``rrf``: reciprocal rank fusion as Cormack, Clarke and Buettcher (SIGIR 2009) define it, a
  document's score is ``sum over arms of 1 / (k + rank)`` with 1-based ranks (``k = 60`` is
  their constant; ranx's ``fuse(method="rrf")`` computes the same);
- ``combsum``: normalised CombSUM, each arm's scores min-max scaled over the candidates that
  arm contributed to the plan (a constant list scales to 0), then summed.

A document's per-arm contributions are summed in ascending order, so two documents with the
same contributions get the same float whatever arms they came from (an exact tie stays
exact). **Ties** in fused score go to the document with the better best rank in the plan's
lists, then to the smaller seeded key (:func:`ltrr.kernel.ties.tie_keys`), never to an id.
:func:`pages_from_scores` ranks each plan's union by one score per candidate (a learned
ranker's) with the same rule.

The loop needs the page of *every* plan at every step (the simulator's truths: the oracle
and regret), so this is compiled: a plan costs a pass over the pool and a bounded insertion
of its best ``page`` documents.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ltrr.kernel.pools import CandidatePool

FUSIONS = ("rrf", "combsum")
RRF, COMBSUM = 0, 1


def fusion_code(fusion: str) -> int:
    """The compiled code of a fusion name (``rrf`` 0, ``combsum`` 1)."""
    return FUSIONS.index(fusion)


@njit(cache=True)
def _before(score: float, rank: int, key: np.uint64, other_score: float, other_rank: int,
            other_key: np.uint64) -> bool:
    """Whether a document goes before another: higher score, then better best rank, then
    smaller key."""
    if score != other_score:
        return score > other_score
    if rank != other_rank:
        return rank < other_rank
    return key < other_key


@njit(cache=True)
def _top_of(score: np.ndarray, best: np.ndarray, keys: np.ndarray, members: np.ndarray,
            n_members: int, out: np.ndarray) -> None:
    """The best ``len(out)`` of ``members[:n_members]`` (pool indices) by (score desc, best
    rank asc, key asc), into ``out`` (-1 past the end of the union)."""
    page = out.shape[0]
    out[:] = -1
    filled = 0
    for i in range(n_members):
        u = members[i]
        if filled == page and not _before(score[u], best[u], keys[u], score[out[page - 1]],
                                          best[out[page - 1]], keys[out[page - 1]]):
            continue
        at = filled if filled < page else page - 1
        while at > 0 and _before(score[u], best[u], keys[u], score[out[at - 1]],
                                 best[out[at - 1]], keys[out[at - 1]]):
            out[at] = out[at - 1]
            at -= 1
        out[at] = u
        if filled < page:
            filled += 1


@njit(cache=True)
def fuse_plans(where: np.ndarray, pool_scores: np.ndarray, size: int, list_scores: np.ndarray,
               lengths: np.ndarray, depths: np.ndarray, fusion: int, k: float,
               keys: np.ndarray, grades: np.ndarray, pages: np.ndarray, hits: np.ndarray,
               drawn: np.ndarray) -> None:
    """Every plan's page of one query's pool.

    Args:
        where: ``(A, L)`` the pool index of each list entry (:func:`~.pools.build_pool`).
        pool_scores: ``(A, >=U)`` each arm's score of each pool document; ``size`` = U.
        list_scores, lengths: the arms' lists' scores ``(A, L)`` and lengths (CombSUM's
            min-max bounds are a list's first and depth-th score).
        depths: ``(P, A)`` depths of the plans to fuse.
        fusion: :data:`RRF` or :data:`COMBSUM`; ``k`` the RRF constant.
        keys: ``(>=U,)`` tie keys of the pool's documents.
        grades: ``(>=U,)`` the pool documents' grades (> 0: relevant).
        pages: out, ``(P, page)`` pool indices best first, -1 past the end of the union.
        hits: out, ``(P,)`` relevant documents in each plan's union.
        drawn: out, ``(P, A)`` candidates each plan draws from each arm.
    """
    n_plans, n_arms = depths.shape
    score = np.empty(size)
    best = np.empty(size, dtype=np.int64)
    count = np.zeros(size, dtype=np.int64)
    parts = np.empty((size, n_arms))
    members = np.empty(size, dtype=np.int64)
    for p in range(n_plans):
        n_members = 0
        for a in range(n_arms):
            depth = min(depths[p, a], lengths[a])
            drawn[p, a] = depth
            if depth <= 0:
                continue
            low = list_scores[a, depth - 1]
            span = list_scores[a, 0] - low
            if not span > 0:
                span = 1.0
            for r in range(depth):
                u = where[a, r]
                if fusion == RRF:
                    value = 1.0 / (k + r + 1.0)
                else:
                    value = (pool_scores[a, u] - low) / span
                n = count[u]
                if n == 0:
                    members[n_members] = u
                    n_members += 1
                    best[u] = r
                elif r < best[u]:
                    best[u] = r
                at = n  # contributions kept ascending: the same sum whatever their arms
                while at > 0 and parts[u, at - 1] > value:
                    parts[u, at] = parts[u, at - 1]
                    at -= 1
                parts[u, at] = value
                count[u] = n + 1
        relevant = 0
        for i in range(n_members):
            u = members[i]
            total = 0.0
            for j in range(count[u]):
                total += parts[u, j]
            score[u] = total
            count[u] = 0
            if grades[u] > 0:
                relevant += 1
        hits[p] = relevant
        _top_of(score, best, keys, members, n_members, pages[p])


@njit(cache=True)
def rank_plans(where: np.ndarray, size: int, lengths: np.ndarray, depths: np.ndarray,
               scores: np.ndarray, keys: np.ndarray, pages: np.ndarray) -> None:
    """Every plan's page of the pool ranked by one ``scores`` entry per candidate (a learned
    ranker's), with :func:`fuse_plans`'s tie rule, into ``pages`` ``(P, page)``."""
    n_plans, n_arms = depths.shape
    best = np.full(size, -1, dtype=np.int64)
    members = np.empty(size, dtype=np.int64)
    for p in range(n_plans):
        n_members = 0
        for a in range(n_arms):
            for r in range(min(depths[p, a], lengths[a])):
                u = where[a, r]
                if best[u] < 0:
                    members[n_members] = u
                    n_members += 1
                    best[u] = r
                elif r < best[u]:
                    best[u] = r
        _top_of(scores, best, keys, members, n_members, pages[p])
        for i in range(n_members):
            best[members[i]] = -1


def _pool_keys(pool: CandidatePool, keys: np.ndarray | None) -> np.ndarray:
    if keys is None:  # the last resort: the pool order
        return np.arange(len(pool.docs), dtype=np.uint64)
    return np.ascontiguousarray(keys, dtype=np.uint64)


def _lists_of(pool: CandidatePool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pool's lists as ``(A, L)`` scores, lengths and pool indices of their entries."""
    lengths = np.array([len(s) for s in pool.sorted_scores], dtype=np.int64)
    width = max(int(lengths.max()) if len(lengths) else 0, 1)
    scores = np.zeros((len(lengths), width))
    where = np.full((len(lengths), width), -1, dtype=np.int64)
    start = 0
    for a, s in enumerate(pool.sorted_scores):
        scores[a, :len(s)] = s
        where[a, :len(s)] = pool.slots[start:start + len(s)]
        start += len(s)
    return scores, lengths, where


def plan_pages(pool: CandidatePool, depths: np.ndarray, fusion: str = "rrf", k: int = 60,
               page: int = 10, keys: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """The page each plan shows, and which pool docs each plan's union holds.

    Args:
        pool: the query's candidate pool.
        depths: ``(P, A)`` int depths per plan and arm.
        fusion: ``"rrf"`` or ``"combsum"``.
        k: the RRF constant (Cormack et al.'s: 1-based ranks).
        page: page length.
        keys: ``(U,)`` seeded tie keys of the pool's documents (without: the pool order).

    Returns:
        ``pages`` ``(P, page)`` pool indices best first (-1 where the union is shorter than
        the page) and ``in_union`` ``(P, U)`` booleans.
    """
    depths = np.ascontiguousarray(np.atleast_2d(depths), dtype=np.int64)
    size = len(pool.docs)
    scores, lengths, where = _lists_of(pool)
    pages = np.full((depths.shape[0], page), -1, dtype=np.int64)
    hits = np.zeros(depths.shape[0], dtype=np.int64)
    drawn = np.zeros(depths.shape, dtype=np.int64)
    fuse_plans(where, np.ascontiguousarray(pool.scores, dtype=np.float64), size, scores,
               lengths, depths, fusion_code(fusion), float(k), _pool_keys(pool, keys),
               np.zeros(size, dtype=np.int64), pages, hits, drawn)
    return pages, in_union(pool, depths)


def pages_from_scores(pool: CandidatePool, depths: np.ndarray, scores: np.ndarray,
                      page: int = 10, keys: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Every plan's page from one plan-independent score per candidate (a learned ranker's):
    each plan's union ranked by ``scores`` descending, ties as :func:`plan_pages` breaks
    them. Returns ``(pages, in_union)`` as :func:`plan_pages` does."""
    depths = np.ascontiguousarray(np.atleast_2d(depths), dtype=np.int64)
    pages = np.full((depths.shape[0], page), -1, dtype=np.int64)
    _, lengths, where = _lists_of(pool)
    rank_plans(where, len(pool.docs), lengths, depths,
               np.ascontiguousarray(scores, dtype=np.float64), _pool_keys(pool, keys), pages)
    return pages, in_union(pool, depths)


def in_union(pool: CandidatePool, depths: np.ndarray) -> np.ndarray:
    """``(P, U)``: which pool documents each plan's union holds."""
    return (pool.ranks[None, :, :] < np.atleast_2d(depths)[:, :, None]).any(axis=1)
