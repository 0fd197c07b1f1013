"""A combinatorial semi-bandit that learns per arm and assembles the plan from the parts.

The loop reports, besides the page's reward, the clicks on shown documents each arm
retrieved (``arm_rewards``; a document several arms retrieved credits each). This policy is
a combinatorial semi-bandit over *base arms* = (retrieval arm, depth) pairs that occur in the
plan space: a plan is the set of its (arm, depth) pairs, and its value is estimated as the
sum of their mean click credit. Keeping the depth in the base arm keeps
the diminishing returns of drawing deeper (credit is not linear in depth: clicks come from
the top of each arm's list), while pooling what is learnt about, say, ``lexical@50``
across every plan that contains it.

Choice: every plan with an untried base arm ties at the top (so each base arm is tried);
then the plan maximising the ESCB index (Combes, Talebi, Proutiere & Lelarge, NeurIPS 2015)
``sum(mean_i) + sqrt(c * ln t * sum(1 / n_i))`` over its base arms ``i``, plus the plan's
*residual* (below); ties broken uniformly at random: propensity ``1 / n_ties``. ESCB's one
confidence width for the whole sum, unlike CUCB's sum of per-arm widths, does not favour
plans for merely having more parts. With one base arm it is UCB1 with ``2c`` in place of
UCB1's ``c``. Credits and rewards are raw (clicks), like UCB1's; plans are enumerated, so
the index is one matrix-vector product per step.

Residual: a plan's reward minus the credits of its arms, averaged over the times it was
played (0 until then: optimistic, as a price or an overlap only lowers it). It absorbs what the per-arm sum misses: the double credit of a
clicked document that several arms retrieved, and the plan's price when the benchmark
charges per candidate or arm call (rewards are clicks minus cost; credits are clicks only).
Written here: obp has no combinatorial semi-bandit.
"""

from __future__ import annotations

import numpy as np

from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies.decisions import IndexPolicy, check_param, is_number


class SemiBanditUCB(IndexPolicy):
    """ESCB over (arm, depth) base arms with a per-plan residual (see module doc)."""

    name = "semibandit"
    uses_context = False
    uses_arm_rewards = True

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, c: float = 0.5) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        check_param(is_number(c) and c >= 0, self.name, "c", f"must be a number >= 0, got {c!r}")
        self.c = float(c)
        self.base_arms = sorted({pair for plan in plans for pair in plan.depths if pair[1] > 0},
                                key=lambda pair: (plans.arms.index(pair[0]), pair[1]))
        position = {pair: j for j, pair in enumerate(self.base_arms)}
        # members[i]: base-arm positions of plan i; incidence: the same as a 0/1 matrix
        self.members = [np.array([position[p] for p in plan.depths if p[1] > 0]) for plan in plans]
        self.member_arms = [[arm for arm, depth in plan.depths if depth > 0] for plan in plans]
        self.incidence = np.zeros((self.n_plans, len(self.base_arms)))
        for i, cols in enumerate(self.members):
            self.incidence[i, cols] = 1.0
        self.counts = np.zeros(len(self.base_arms))
        self.sums = np.zeros(len(self.base_arms))
        self.plays = np.zeros(self.n_plans)
        self.residual_sums = np.zeros(self.n_plans)

    def _scores(self) -> np.ndarray:
        untried = self.incidence @ (self.counts == 0) > 0
        if untried.any():
            return untried.astype(float)
        t = self.plays.sum()
        means = self.incidence @ (self.sums / self.counts)
        widths = np.sqrt(self.c * np.log(t) * (self.incidence @ (1.0 / self.counts)))
        residual = np.divide(self.residual_sums, self.plays, out=np.zeros(self.n_plans),
                             where=self.plays > 0)
        return means + widths + residual

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        if arm_rewards is None:
            raise ValueError("semibandit: update() needs arm_rewards (clicks credited per arm)")
        credits = np.array([float(arm_rewards.get(arm, 0.0)) for arm in self.member_arms[plan]])
        cols = self.members[plan]
        self.counts[cols] += 1
        self.sums[cols] += credits
        self.plays[plan] += 1
        self.residual_sums[plan] += float(reward) - credits.sum()
