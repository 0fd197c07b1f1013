"""Simulated users for a PyTerrier pipeline: clicks of ltrr's click models on shown pages.

The loop simulates its users inside the compiled step (:mod:`ltrr.kernel.clicks`); a pipeline
built from ltrr's transformers (a :class:`~ltrr.selection.selector.Selector` before a
:class:`~ltrr.ranking.fusion.Fusion` or a learned ranker) needs the same users outside it:

    users = SimulatedUsers(qrels, DependentClickModel("informational"), seed=0)
    results = (selector >> Fusion(num_results=10)).transform(topics)
    selector.learn(users(results))          # qid, docno, rank, click, satisfied per shown doc

The page is each query's top ``page`` rows by ``rank`` (or by ``score`` without one); a
document's grade is its qrels label scaled to 0..4 (:func:`~ltrr.kernel.clicks.scale_grades`,
the loop's rule: the largest label is 4); the clicks, and which click satisfied the user, are
sampled by :meth:`ClickModel.sample_session <ltrr.kernel.clicks.ClickModel.sample_session>`
from the users' own seeded Generator, page after page in the frame's query order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.errors import InputError
from ltrr.kernel.clicks import ClickModel, DependentClickModel, scale_grades


class SimulatedUsers:
    """Users who click on ranked pages as ``click_model`` says, judging documents by ``qrels``.

    Args:
        qrels: ``qid, docno, label``.
        click_model: ltrr's click model (default: DCM with the informational parameters).
        page: the documents a user is shown per query.
        seed: the seed of the users' Generator.
        max_grade: the label that is grade 4 (default: the qrels' largest).
    """

    def __init__(self, qrels: pd.DataFrame, click_model: ClickModel | None = None,
                 page: int = 10, seed: int = 0, max_grade: int | None = None) -> None:
        missing = [c for c in ("qid", "docno", "label") if c not in qrels.columns]
        if missing:
            raise InputError(f"qrels need columns qid, docno, label; missing {missing}",
                             field=missing[0])
        self.click_model = click_model or DependentClickModel()
        self.page = int(page)
        labels = qrels["label"].astype(int).to_numpy()
        self.max_grade = int(max_grade) if max_grade else max(int(labels.max(initial=1)), 1)
        grades = scale_grades(labels, self.max_grade)
        self.grades = dict(zip(zip(qrels["qid"].astype(str), qrels["docno"].astype(str)),
                               grades.tolist()))
        self.rng = np.random.default_rng([int(seed), 303])

    def grades_of(self, qid: str, docnos) -> np.ndarray:
        """The 0..4 grades of ``docnos`` for ``qid`` (0 where unjudged)."""
        return np.array([self.grades.get((str(qid), str(d)), 0) for d in docnos], dtype=np.int64)

    def __call__(self, results: pd.DataFrame) -> pd.DataFrame:
        """The feedback on each query's page: ``qid, docno, rank, click, satisfied``."""
        missing = [c for c in ("qid", "docno") if c not in results.columns]
        if missing:
            raise InputError(f"SimulatedUsers needs a ranking frame with qid, docno; missing "
                             f"{missing}", field=missing[0])
        by = "rank" if "rank" in results.columns else "score"
        rows = []
        for qid, ranking in results.groupby("qid", sort=False):
            ranking = ranking.sort_values(by, ascending=by == "rank", kind="stable")
            docnos = ranking["docno"].astype(str).to_numpy()[: self.page]
            clicks, satisfied = self.click_model.sample_session(self.grades_of(qid, docnos),
                                                                self.rng)
            rows.append(pd.DataFrame({"qid": str(qid), "docno": docnos,
                                      "rank": np.arange(len(docnos)),
                                      "click": np.asarray(clicks[: len(docnos)], dtype=np.int64),
                                      "satisfied": (np.arange(len(docnos)) == satisfied)
                                      .astype(np.int64)}))
        if not rows:
            return pd.DataFrame(columns=["qid", "docno", "rank", "click", "satisfied"])
        return pd.concat(rows, ignore_index=True)
