"""A combinatorial semi-bandit that learns per arm and assembles the plan from the parts.

The loop reports, besides the page's reward, the clicks on shown documents each arm
retrieved (``arm_rewards``; a document several arms retrieved credits each). This policy is
a combinatorial semi-bandit over *base arms* = (retrieval arm, depth) pairs that occur in the
plan space: a plan is the set of its (arm, depth) pairs, and its value is estimated as the
sum of their mean click credit. Keeping the depth in the base arm keeps
the diminishing returns of drawing deeper (credit is not linear in depth: clicks come from
the top of each arm's list), while pooling what is learnt about, say, ``lexical@50``
across every plan that contains it. So the policy chooses how many candidates to draw from
each arm, not only which arms: with skewed splits in the plan space (``lexical:40+dense:10``
beside ``lexical:10+dense:40`` and ``lexical:25+dense:25``) each arm is a base arm at each
of its depths, and the plan assembled from the best parts may be a skewed one.

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
charges per candidate or arm call (rewards are net of cost; credits are not).
Written here: obp has no combinatorial semi-bandit.
"""

from __future__ import annotations

import numpy as np

from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import kernels
from ltrr.selection.policies.plan_policy import PlanPolicy, check_param, is_number
from ltrr.selection.policies.kernels import PolicyArrays


class SemiBanditUCB(PlanPolicy):
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
        # base[i, a]: the base arm of plan i's arm a (-1: the plan does not draw from it)
        self.base = np.full((self.n_plans, len(plans.arms)), -1, dtype=np.int64)
        self.incidence = np.zeros((self.n_plans, len(self.base_arms)))
        for i, plan in enumerate(plans):
            for a, pair in enumerate(plan.depths):
                if pair[1] > 0:
                    self.base[i, plans.arms.index(pair[0])] = position[pair]
                    self.incidence[i, position[pair]] = 1.0
        self.counts = np.zeros(len(self.base_arms))
        self.sums = np.zeros(len(self.base_arms))
        self.plays = np.zeros(self.n_plans)
        self.residual_sums = np.zeros(self.n_plans)

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.SEMIBANDIT, ints=np.array([-1, self.n_plans]),
                               floats=np.array([self.c]), v0=self.counts, v1=self.sums,
                               v2=self.plays, v3=self.residual_sums, m0=self.incidence,
                               im0=self.base)

    def _credit(self, plan: int, arm_rewards: dict[str, float] | None) -> np.ndarray:
        if arm_rewards is None:
            raise ValueError("semibandit: update() needs arm_rewards (clicks credited per arm)")
        return np.array([float(arm_rewards.get(arm, 0.0)) for arm in self.plans.arms])
