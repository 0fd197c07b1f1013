"""An outside selection policy for ltrr: Boltzmann (softmax) exploration over the plans.

This file is not part of ltrr: a benchmark file names the class by import path,
``name = "my_policy:Softmax"`` (with this folder on PYTHONPATH, or the module in an installed
package), and the Python API takes the class itself. ``docs/plugins.md`` has the contract.

Per query it plays plan ``i`` with probability ``exp(mean_i / T) / sum_j exp(mean_j / T)``
over the plans' mean observed rewards (clicks minus cost), and returns that probability as
the propensity: exact, as off-policy evaluation needs it. It does not read the context
(``uses_context = False``), so it pays for no post-retrieval probe, and ltrr gives it a zero
context vector.
"""

from __future__ import annotations

import numpy as np

from ltrr.errors import InputError
from ltrr.selection.base import Policy


class Softmax(Policy):
    """Boltzmann exploration: plan ``i`` with probability proportional to ``exp(mean_i / T)``.

    Args (ltrr's, positional): the plan space, the context length, the seed of the policy's
    own generator and the benchmark's reward range. Hyper-parameters are keyword-only:

    - ``temperature``: ``T`` > 0, in reward units (clicks); small is greedy.
    """

    name = "softmax"
    uses_context = False  # a non-contextual bandit: no probe to pay for

    def __init__(self, plans, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *,
                 temperature: float = 0.1) -> None:
        super().__init__(len(plans), n_features, random_state)
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise InputError(f"policy 'softmax': param 'temperature' must be a number > 0, "
                             f"got {temperature!r}")
        self.temperature = float(temperature)
        self.counts = np.zeros(self.n_plans)
        self.means = np.zeros(self.n_plans)

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        """The distribution ``choose`` draws from (it draws nothing itself)."""
        z = (self.means - self.means.max()) / self.temperature
        weights = np.exp(z)
        return weights / weights.sum()

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        p = self.probabilities(context)
        plan = int(self.rng.choice(self.n_plans, p=p))
        return plan, float(p[plan])

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        self.counts[plan] += 1
        self.means[plan] += (reward - self.means[plan]) / self.counts[plan]
