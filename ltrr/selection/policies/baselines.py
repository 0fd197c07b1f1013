"""Non-learning reference policies: one fixed plan, or a uniformly random plan.

- ``single:<arm>``: always the plan ``"<arm>:<budget>"`` (that arm alone at full budget);
- ``best_single``: one arm alone at full budget, the arm a hyper-parameter: with
  ``grid = { arm = [...] }`` tuning picks the best single arm on the tuning seeds (the
  "best single strategy" baseline, chosen as carefully as the learners' settings);
- ``static_union``: always the union plan (every arm, equal split of the budget);
- ``uniform``: a plan drawn uniformly at random (propensity ``1 / n_plans``), the
  logging policy of choice for off-policy evaluation.

Written by hand: they are a few lines each, and obp's ``Random`` policy has no propensity
interface nor a fixed-plan mode.
"""

from __future__ import annotations

import numpy as np

from ltrr.errors import InputError
from ltrr.selection.plans import PlanSpace, plan_id, split_budget
from ltrr.selection.policies import kernels
from ltrr.selection.policies.plan_policy import PlanPolicy
from ltrr.selection.policies.kernels import PolicyArrays


class FixedPlan(PlanPolicy):
    """Always the same plan, given by id (propensity 1.0)."""

    name = "fixed"
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), plan_id: str = "") -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        try:
            self.plan = plans.index(plan_id)
        except KeyError:
            raise InputError(f"policy '{self.name}' needs plan '{plan_id}', which is not in the "
                             f"plan space ({', '.join(plans.ids)})") from None

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.FIXED, ints=np.array([self.plan, self.n_plans]))


class SingleArm(FixedPlan):
    """``single:<arm>``: that arm alone at full budget (needs ``plans.single = true``)."""

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), arm: str = "") -> None:
        self.name = f"single:{arm}"
        if arm not in plans.arms:
            raise InputError(f"policy '{self.name}': unknown arm '{arm}' "
                             f"(benchmark arms: {', '.join(plans.arms)})")
        super().__init__(plans, n_features, random_state, reward_range,
                         plan_id=f"{arm}:{plans.budget}")


class BestSingleArm(SingleArm):
    """``best_single``: the single arm ``arm`` (default the benchmark's first) at full
    budget; tuned over ``arm`` it is the best single arm on the tuning seeds."""

    name = "best_single"

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, arm: str = "") -> None:
        if arm and arm not in plans.arms:
            raise InputError(f"policy 'best_single': unknown arm '{arm}' "
                             f"(benchmark arms: {', '.join(plans.arms)})")
        super().__init__(plans, n_features, random_state, reward_range,
                         arm=arm or plans.arms[0])
        self.name = "best_single"


class StaticUnion(FixedPlan):
    """``static_union``: every arm, equal split of the budget (needs ``plans.union = true``)."""

    name = "static_union"

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0)) -> None:
        depths = split_budget(plans.budget, [1.0 / len(plans.arms)] * len(plans.arms))
        super().__init__(plans, n_features, random_state, reward_range,
                         plan_id=plan_id(list(zip(plans.arms, depths))))


class Uniform(PlanPolicy):
    """A uniformly random plan per query (propensity ``1 / n_plans``)."""

    name = "uniform"
    uses_context = False

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.UNIFORM, ints=np.array([-1, self.n_plans]))
