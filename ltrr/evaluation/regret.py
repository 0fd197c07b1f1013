"""Cumulative regret in expectation, from the simulator's expected reward of every plan.

- against the oracle: per step, the best plan's expected reward minus the chosen plan's;
- against the best fixed plan in hindsight: the one plan with the largest total expected
  reward over the steps of this run, minus the chosen plan's. With a memory arm the
  expected rewards depend on what the run clicked before, so this is the best fixed plan
  *on the states this run visited* (the usual adversarial-bandit definition); it can be
  negative when a policy adapts better than any fixed plan.

A policy that pays for a post-retrieval probe (``probe_cost`` per query) has that price
subtracted from its own expected reward; the oracle and the fixed plans read no features
and pay none.

"Sublinear" is checked by halves: regret accumulated in the second half of the stream
should be smaller than in the first.
"""

from __future__ import annotations

import numpy as np


def regret_summary(expected: np.ndarray, plan: np.ndarray, probe_cost: float = 0.0) -> dict:
    """Cumulative regret curves and totals for one run.

    Args:
        expected: ``(T, P)`` expected reward of every plan at every step.
        plan: ``(T,)`` the plan chosen at each step.
        probe_cost: what the policy paid per query for its features.
    """
    steps = np.arange(len(plan))
    chosen = expected[steps, plan] - probe_cost
    oracle = np.cumsum(expected.max(axis=1) - chosen)
    best = int(np.argmax(expected.sum(axis=0))) if len(plan) else 0
    fixed = np.cumsum(expected[:, best] - chosen)
    half = len(plan) // 2
    first = float(oracle[half - 1]) if half > 0 else 0.0
    total = float(oracle[-1]) if len(plan) else 0.0
    return {
        "oracle": total,
        "best_fixed": float(fixed[-1]) if len(plan) else 0.0,
        "oracle_first_half": first,
        "oracle_second_half": total - first,
        "best_fixed_plan": best,
        "oracle_curve": oracle,
        "best_fixed_curve": fixed,
    }
