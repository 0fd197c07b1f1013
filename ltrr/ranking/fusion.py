"""The ranking stage: fuse the chosen arms' candidates into the shown page.

Two unsupervised fusions:

- ``rrf``: reciprocal rank fusion (Cormack et al., SIGIR 2009), a document's score is
  ``sum over arms of 1 / (k + rank)`` with PyTerrier's 0-based rank, exactly as
  ``pyterrier_alpha.fusion.rr_fusion`` computes it;
- ``combsum``: normalised CombSUM, each arm's scores min-max scaled over the candidates
  that arm contributed (``pyterrier_alpha.fusion.PerQueryMaxMinScore``: a constant list
  scales to 0), then summed.

Two faces of the same computation:

- :class:`Fusion`, a ``pyterrier.Transformer`` over a ranking frame that carries an
  ``arm`` column (the PyTerrier-facing API; RRF delegates to pyterrier_alpha);
- :func:`plan_pages`, a vectorised numpy version used on the interaction loop's hot
  path. The loop needs the page of *every* plan of the plan space at every step (the
  simulator's truths: the oracle and regret), over a pool of a few hundred candidates;
  building and merging DataFrames per plan and step would cost milliseconds each, the
  array version costs microseconds. ``tests/test_fusion.py`` checks both give the same
  page up to the order of exact ties.

Ties in fused score are common (under RRF, two documents at the same rank of different arms
tie exactly). :func:`plan_pages` breaks them by a rule that does not depend on identifiers:
first the document's best rank in any of the plan's lists (a document some arm put first
beats one no arm ranked as high), then a seeded random key per document (``tie_keys``; the
loop derives it from the run's seed and the docno, :func:`tie_keys`), so no entity type or
id range wins ties systematically. Without keys the last resort is the pool order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.errors import InputError

FUSIONS = ("rrf", "combsum")
ABSENT = np.iinfo(np.int32).max  # rank of a document an arm did not retrieve


@dataclass
class CandidatePool:
    """The candidates every arm offers for one query, as arrays over a pool of documents.

    Attributes:
        docs: pool document ids (unique, ascending), shape ``(U,)``.
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
        """Build the pool from per-arm ranked lists (doc ids best first, with scores)."""
        lengths = np.array([len(x) for x in ids], dtype=np.int64)
        flat = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
        # np.unique(flat, return_inverse=True), without its general-purpose overhead
        ordered = np.sort(flat)
        first = np.ones(len(ordered), dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        docs = ordered[first]
        inverse = np.searchsorted(docs, flat)
        n_arms = len(ids)
        ranks = np.full((n_arms, len(docs)), ABSENT, dtype=np.int64)
        pool_scores = np.zeros((n_arms, len(docs)))
        if len(flat):  # every list's entries at once: arm, rank within the list, pool column
            arm = np.repeat(np.arange(n_arms), lengths)
            ranks[arm, inverse] = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths,
                                                                   lengths)
            pool_scores[arm, inverse] = np.concatenate(scores)
        return cls(docs, ranks, pool_scores, [np.asarray(s, dtype=float) for s in scores], inverse)


def tie_keys(docnos, seed: int) -> np.ndarray:
    """A seeded random key per docno (uint64 from BLAKE2b of ``seed|docno``): the last tie
    breaker of :func:`plan_pages`. It depends on the docno only through a hash, so the order
    it induces is a random permutation that changes with the seed and favours no prefix."""
    import hashlib

    salt = f"{int(seed)}|".encode()
    return np.fromiter((int.from_bytes(hashlib.blake2b(salt + str(d).encode(),
                                                       digest_size=8).digest(), "little")
                        for d in docnos), dtype=np.uint64)


def plan_pages(pool: CandidatePool, depths: np.ndarray, fusion: str = "rrf", k: int = 60,
               page: int = 10, keys: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The page each plan shows, and which pool docs each plan's union holds.

    Args:
        pool: the query's candidate pool.
        depths: ``(P, A)`` int depths per plan and arm.
        fusion: ``"rrf"`` or ``"combsum"``.
        k: the RRF constant.
        page: page length.
        keys: ``(U,)`` seeded tie keys of the pool's documents (:func:`tie_keys`); ties in
            fused score go to the better best rank, then the smaller key.

    Returns:
        ``pages`` ``(P, page)`` pool indices best first (-1 where the union is shorter than
        the page) and ``in_union`` ``(P, U)`` booleans.
    """
    depths = np.atleast_2d(depths)
    included = pool.ranks[None, :, :] < depths[:, :, None]  # (P, A, U)
    in_union = included.any(axis=1)
    if fusion == "rrf":
        contrib = np.where(pool.ranks < ABSENT, 1.0 / (k + pool.ranks), 0.0)  # (A, U)
        fused = np.einsum("pau,au->pu", included, contrib)
    elif fusion == "combsum":
        fused = _combsum(pool, depths, included)
    else:
        raise InputError(f"unknown fusion '{fusion}' (choose from {', '.join(FUSIONS)})")
    fused = np.where(in_union, fused, -np.inf)
    return _top(fused, included, pool, keys, page), in_union


def _top(fused: np.ndarray, included: np.ndarray, pool: CandidatePool, keys: np.ndarray | None,
         page: int) -> np.ndarray:
    """Per plan row, the pool indices of the ``page`` best documents by (fused score desc,
    best rank in the plan's lists asc, key asc); -1 past the end of the union.

    Only the documents that can reach the page are ordered: ``argpartition`` finds each row's
    page-th best score, and every document scoring at least that (ties at the cut included)
    is sorted by the full rule with one ``lexsort``.
    """
    n_plans, n_docs = fused.shape
    pages = np.full((n_plans, page), -1, dtype=np.int64)
    if n_docs == 0:
        return pages
    k = min(page, n_docs)
    part = np.argpartition(-fused, k - 1, axis=1)[:, :k]
    cut = fused[np.arange(n_plans)[:, None], part].min(axis=1)
    rows, cols = np.nonzero((fused >= cut[:, None]) & (fused > -np.inf))
    ranks = np.where(included[rows, :, cols], pool.ranks[:, cols].T, ABSENT).min(axis=1)
    last = cols if keys is None else keys[cols]
    order = np.lexsort((last, ranks, -fused[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    position = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = position < page
    pages[rows[keep], position[keep]] = cols[keep]
    return pages


def _combsum(pool: CandidatePool, depths: np.ndarray, included: np.ndarray) -> np.ndarray:
    """Normalised CombSUM per plan: min-max over each arm's top-depth list, then sum."""
    n_plans, n_arms = depths.shape
    top = np.zeros((n_plans, n_arms))
    low = np.zeros((n_plans, n_arms))
    for a, ranked in enumerate(pool.sorted_scores):
        if len(ranked) == 0:
            continue
        last = np.clip(np.minimum(depths[:, a], len(ranked)) - 1, 0, None)
        top[:, a] = ranked[0]
        low[:, a] = ranked[last]
    span = top - low
    span = np.where(span > 0, span, 1.0)  # sklearn's minmax_scale: constant lists -> 0
    scaled = (pool.scores[None, :, :] - low[:, :, None]) / span[:, :, None]
    return np.where(included, scaled, 0.0).sum(axis=1)


class Fusion(pt.Transformer):
    """Fuse a ranking frame holding several arms' results (column ``arm``) per query.

    Input: ``qid, query, docno, score, rank, arm``; output: a ranking frame of the fused
    top ``num_results`` per query. RRF calls ``pyterrier_alpha.fusion.rr_fusion``;
    CombSUM min-max scales each arm's scores per query (as ``PerQueryMaxMinScore``) and sums.
    """

    def __init__(self, method: str = "rrf", k: int = 60, num_results: int = 10) -> None:
        if method not in FUSIONS:
            raise InputError(f"unknown fusion '{method}' (choose from {', '.join(FUSIONS)})")
        self.method = method
        self.k = k
        self.num_results = num_results

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        import pyterrier_alpha as pta

        frames = [g.drop(columns="arm").reset_index(drop=True)
                  for _, g in inp.groupby("arm", sort=False)]
        if self.method == "rrf":
            return pta.fusion.rr_fusion(*frames, k=self.k, num_results=self.num_results)
        from sklearn.preprocessing import minmax_scale

        # pyterrier_alpha 0.16.5's PerQueryMaxMinScore fails on import (``from .validate
        # import validate``), so the same per-query minmax_scale is applied here.
        scaled = [f.assign(score=f.groupby("qid")["score"].transform(minmax_scale))
                  for f in frames]
        merged = (pd.concat(scaled).groupby(["qid", "query", "docno"], as_index=False)["score"]
                  .sum())
        merged = merged.sort_values(["qid", "score"], ascending=[True, False], kind="stable")
        merged["rank"] = merged.groupby("qid").cumcount()
        return merged[merged["rank"] < self.num_results].reset_index(drop=True)
