"""The contract between the interaction loop and every selection policy.

A *plan* maps arms to depths (how many candidates to draw from each), with the sum of
depths within the benchmark's candidate budget. A *policy* picks one plan index per
query from a context vector, reports the probability it gave that choice (the
propensity, logged for off-policy evaluation), and learns from the clicks it observes.

The loop calls, per interaction::

    plan_index, propensity = policy.choose(context, truth=expected_rewards_or_None)
    ...retrieve, rank, show, simulate clicks...
    policy.update(context, plan_index, reward, arm_rewards)

``truth`` (expected reward of every plan for this query under the simulator) is passed
only to policies with ``uses_truth = True`` (the oracle); learning policies never see it.
``arm_rewards`` (clicks credited to each arm of the plan) is computed only for policies with
``uses_arm_rewards = True`` (the semi-bandit; others get None). A policy that reads the
context (``uses_context``, True unless it says otherwise) pays for the post-retrieval probe
when the benchmark's features include one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plan:
    """Which arms to call and how deep: ``depths[arm] = k`` candidates from that arm."""

    id: str
    depths: tuple[tuple[str, int], ...]  # ((arm, depth), ...) in the benchmark's arm order

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(arm for arm, depth in self.depths if depth > 0)

    @property
    def size(self) -> int:
        """Candidates drawn in total (before de-duplication of the union)."""
        return sum(depth for _, depth in self.depths)

    def depth(self, arm: str) -> int:
        return dict(self.depths).get(arm, 0)


class Policy(ABC):
    """A seeded policy over a finite plan space.

    Args:
        n_plans: number of plans (actions), indexed 0..n_plans-1.
        n_features: length of the context vector ``choose`` and ``update`` receive.
        random_state: seed of the policy's own ``numpy.random.Generator``.
    """

    name: str = "policy"
    uses_truth: bool = False
    uses_context: bool = True  # reads the context vector (and so pays for a feature probe)
    uses_arm_rewards: bool = False  # learns from per-arm click credit

    def __init__(self, n_plans: int, n_features: int, random_state: int = 0) -> None:
        self.n_plans = n_plans
        self.n_features = n_features
        self.random_state = random_state
        self.rng = np.random.default_rng(random_state)

    @abstractmethod
    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        """Pick a plan for one query; return ``(plan_index, propensity)``."""

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        """Learn from the reward observed for ``plan`` (the page's reward minus cost);
        default: nothing."""

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        """The probability of every plan under the current state (length ``n_plans``).

        Exact for every ltrr policy (Thompson sampling's by quadrature), and it draws nothing
        from ``self.rng``, so asking does not change later decisions. Optional: a policy that
        cannot say raises ``NotImplementedError``.
        """
        raise NotImplementedError(f"{self.name} does not expose its action distribution")
