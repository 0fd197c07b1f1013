"""What the simulator knows at one step: every plan's page and expected clicks.

:class:`StepTruth` holds, for a set of plans, each plan's page (pool indices and doc ids), the
grades shown, where each shown document stood in each arm's list, the expected clicks under the
click model, the relevant documents each union holds and the candidates each plan draws.
:class:`PlanTruths` puts the parts a step was computed in (static plans, online plans) together
without copying. These are the oracle's input and the basis of regret; learning policies never
see them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr.ranking.fusion import ABSENT, CandidatePool, plan_pages


@dataclass
class StepTruth:
    """What the simulator knows about one query's candidates, for a set of plans: each
    plan's page and expected clicks, and what its union holds."""

    pages: np.ndarray  # (P, page) pool indices, -1 empty
    shown: np.ndarray  # (P, page) doc ids, -1 empty
    page_grades: np.ndarray  # (P, page) 0..4 grades, -1 empty
    shown_ranks: np.ndarray  # (P, A, page) rank of each shown doc in each arm's list (or ABSENT)
    expected: np.ndarray  # (P,) expected clicks (cost not subtracted)
    hits: np.ndarray  # (P,) relevant documents in each plan's union
    drawn: np.ndarray  # (P, A) candidates each plan draws from each arm

    @staticmethod
    def pool_of(lists: list[tuple[np.ndarray, ...]]) -> tuple[CandidatePool, np.ndarray]:
        """The candidate pool of the arms' ``lists`` ((ids, scores, grades) per arm) and its
        documents' 0..4 grades."""
        pool = CandidatePool.from_lists([x[0] for x in lists], [x[1] for x in lists])
        grades = np.zeros(len(pool.docs), dtype=np.int64)
        if len(pool.docs):
            grades[pool.slots] = np.concatenate([x[2] for x in lists])
        return pool, grades

    @classmethod
    def of(cls, lists: list[tuple[np.ndarray, ...]], depths: np.ndarray, settings,
           keys: np.ndarray) -> "StepTruth":
        """The truth for the plans ``depths`` (P, A) from the arms' ``lists``, ranked by the
        benchmark's fusion (``keys``: tie keys by doc id)."""
        pool, grades = cls.pool_of(lists)
        pages, in_union = plan_pages(pool, depths, settings.fusion, settings.k, settings.page,
                                     keys=keys[pool.docs])
        return cls.from_pages(pool, grades, pages, in_union, depths, settings)

    @classmethod
    def from_pages(cls, pool: CandidatePool, grades: np.ndarray, pages: np.ndarray,
                   in_union: np.ndarray, depths: np.ndarray, settings) -> "StepTruth":
        """The truth of plans whose pages (pool indices) and unions are given."""
        filled = pages >= 0
        at = np.maximum(pages, 0)
        page_grades = np.where(filled, grades[at], -1)
        shown_ranks = np.where(filled[:, None, :], pool.ranks[:, at].transpose(1, 0, 2), ABSENT)
        lengths = (pool.ranks < ABSENT).sum(axis=1)
        return cls(pages, np.where(filled, pool.docs[at], -1), page_grades, shown_ranks,
                   settings.clicks.expected_total(page_grades),
                   (in_union & (grades > 0)).sum(axis=1), np.minimum(depths, lengths[None, :]))

    def arm_clicks(self, plan: int, depths: np.ndarray, clicked: np.ndarray) -> np.ndarray:
        """Clicks on the shown documents each arm retrieved under ``plan`` (a document
        several arms retrieved credits each)."""
        retrieved = self.shown_ranks[plan] < depths[:, None]  # (A, page)
        return (retrieved & clicked.astype(bool)[None, :]).sum(axis=1)


class PlanTruths:
    """The truths of every plan at one step, held as the parts they were computed in (the
    static plans' and the online plans'), without copying them into one array per step."""

    def __init__(self, parts: list[StepTruth], part_rows: list[np.ndarray],
                 part_of: np.ndarray) -> None:
        self.parts, self._part_of = parts, part_of
        if len(parts) == 1:
            self.expected = parts[0].expected
        else:
            self.expected = np.empty(len(part_of))
            for rows, part in zip(part_rows, parts):
                self.expected[rows] = part.expected

    def plan(self, p: int) -> tuple[StepTruth, int]:
        """The part holding plan ``p`` and its row there."""
        part, row = self._part_of[p]
        return self.parts[part], int(row)
