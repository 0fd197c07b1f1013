"""The oracle: the plan with the highest expected reward under the simulator's truth.

An upper bound for regret, never a contender: it reads ``truth`` (the expected reward of
every plan for this query and context, which only the simulator knows). Exact ties (plans
whose pages are the same) are broken uniformly at random, not by the order plans are
listed. Written by hand: obp has no policy that reads the truth.
"""

from __future__ import annotations

import numpy as np

from ltrr.selection.policies import kernels
from ltrr.selection.policies.plan_policy import PlanPolicy
from ltrr.selection.policies.kernels import PolicyArrays


class Oracle(PlanPolicy):
    """``argmax(truth)`` (uniform among exact ties); propensity 1.0, or ``1 / ties``."""

    name = "oracle"
    uses_context = False
    uses_truth = True

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.ORACLE, ints=np.array([-1, self.n_plans]))
