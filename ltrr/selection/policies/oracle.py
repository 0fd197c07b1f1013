"""The oracle: the plan with the highest expected reward under the simulator's truth.

An upper bound for regret, never a contender: it reads ``truth`` (the expected reward of
every plan for this query and context, which only the simulator knows). Ties go to the
plan listed first. Written by hand: obp has no policy that reads the truth.
"""

from __future__ import annotations

import numpy as np

from ltrr.selection.policies.decisions import PlanPolicy


class Oracle(PlanPolicy):
    """``argmax(truth)`` (first plan among ties); propensity 1.0."""

    name = "oracle"
    uses_context = False
    uses_truth = True

    def _best(self, truth: np.ndarray | None) -> int:
        if truth is None:
            raise ValueError("oracle: choose() needs truth (the expected reward of every plan)")
        truth = np.asarray(truth, dtype=float)
        if truth.shape != (self.n_plans,):
            raise ValueError(f"oracle: truth has shape {truth.shape}, expected ({self.n_plans},)")
        return int(np.argmax(truth))

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        return self._best(truth), 1.0

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        return np.eye(self.n_plans)[self._best(truth)]
