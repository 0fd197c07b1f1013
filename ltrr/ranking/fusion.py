"""The fusion ranking stage as a PyTerrier transformer: fuse the chosen arms' candidates into
the shown page.

Two unsupervised fusions (the loop computes the same ones, compiled, for every plan at every
step: :mod:`ltrr.kernel.pages`, which says how ties are broken):

- ``rrf``: reciprocal rank fusion as Cormack, Clarke and Buettcher (SIGIR 2009) define it, a
  document's score is ``sum over arms of 1 / (k + rank)`` with 1-based ranks (``k = 60`` is
  their constant; ranx's ``fuse(method="rrf")`` is the same, tested). PyTerrier's ranks are
  0-based and ``pyterrier_alpha.fusion.rr_fusion`` adds ``k`` to them, so :class:`Fusion`
  passes it ``k + 1``;
- ``combsum``: normalised CombSUM, each arm's scores min-max scaled over the candidates that
  arm contributed (``pyterrier_alpha.fusion.PerQueryMaxMinScore``: a constant list scales to
  0), then summed.
"""

from __future__ import annotations

import pandas as pd
import pyterrier as pt

from ltrr.errors import InputError
from ltrr.kernel.pages import FUSIONS


class Fusion(pt.Transformer):
    """Fuse a ranking frame holding several arms' results (column ``arm``) per query.

    Input: ``qid, query, docno, score, rank, arm``; output: a ranking frame of the fused
    top ``num_results`` per query. RRF calls ``pyterrier_alpha.fusion.rr_fusion`` (with
    ``k + 1``: see the module doc); CombSUM min-max scales each arm's scores per query (as
    ``PerQueryMaxMinScore``) and sums.
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
        if not frames:  # no arm found anything: no page
            return pd.DataFrame(columns=["qid", "query", "docno", "score", "rank"])
        if self.method == "rrf":
            return pta.fusion.rr_fusion(*frames, k=self.k + 1, num_results=self.num_results)
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
