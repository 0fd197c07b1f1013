"""How policies turn scores into a decision, a propensity and a learning signal.

- :class:`RewardScale` gives a policy the reward in the units it learns in. Most policies
  learn from the loop's raw reward (clicks minus cost), so their exploration constants
  (UCB1's ``c``, LinUCB's ``alpha``, LinTS's ``v``) are in clicks on every ltrr benchmark.
  Bernoulli Thompson sampling and EXP3 need rewards in [0, 1]; they take a hyper-parameter
  ``reward_cap`` and learn from ``min(max(reward, 0), cap) / cap``. With the default cap of
  1 and click rewards that is "did the page earn a click, net of its cost": a page with one
  or more clicks and no cost is a success, a click minus a cost of 0.2 is a success with
  probability 0.8 (Thompson) or a reward of 0.8 (EXP3), a page without clicks or one that
  cost more than it earned is a failure; the scale a practitioner would pick. (Rescaling
  by the benchmark's whole reward range, "every result on the page clicked", put typical
  rewards near 0.1 and made both learn far more slowly than the policies that see
  clicks.) A tuning grid can vary ``reward_cap`` like any other hyper-parameter.
- :func:`argmax_random_ties` picks a best score uniformly among ties and returns the exact
  propensity ``1 / n_ties``.
- Thompson sampling's propensities are exact integrals: see
  :mod:`ltrr.selection.policies.argmax`.
- :class:`PlanPolicy` is the common base of ltrr's policies, and :func:`hyper_parameters`
  lists a policy's hyper-parameters with their defaults (its keyword-only arguments).
- :func:`check_param` turns a bad hyper-parameter into an :class:`~ltrr.errors.InputError`
  naming the policy and the key.
"""

from __future__ import annotations

import inspect

import numpy as np

from ltrr.errors import InputError
from ltrr.selection.base import Policy
from ltrr.selection.plans import PlanSpace


class RewardScale:
    """The reward a policy learns from: the raw reward (``cap=None``), or the reward clipped
    to ``[0, cap]`` and divided by ``cap`` (a number in [0, 1])."""

    def __init__(self, cap: float | None = None) -> None:
        self.cap = cap

    def __call__(self, reward: float) -> float:
        if self.cap is None:
            return float(reward)
        return min(self.cap, max(0.0, float(reward))) / self.cap


def check_reward_range(reward_range: tuple[float, float]) -> None:
    """The benchmark's reward bounds must be two finite numbers ``low < high``."""
    low, high = (float(v) for v in reward_range)
    if not np.isfinite([low, high]).all() or not high > low:
        raise InputError(f"reward range must be two finite numbers low < high, "
                         f"got {tuple(reward_range)!r}", field="reward_range")


def argmax_random_ties(scores: np.ndarray, rng: np.random.Generator) -> tuple[int, float]:
    """Index of a maximal score, uniform among exact ties; and its probability."""
    best = np.flatnonzero(scores == scores.max())
    if len(best) == 1:
        return int(best[0]), 1.0
    return int(best[rng.integers(len(best))]), 1.0 / len(best)


def tie_distribution(scores: np.ndarray) -> np.ndarray:
    """Distribution of :func:`argmax_random_ties` over all indices."""
    best = scores == scores.max()
    return best / best.sum()


def check_param(ok: bool, policy: str, key: str, message: str) -> None:
    """Raise ``InputError("policy 'x': param 'key' <message>")`` unless ``ok``."""
    if not ok:
        raise InputError(f"policy '{policy}': param '{key}' {message}")


def is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def checked_epsilon(policy: str, epsilon: object) -> float:
    """An exploration rate: a number in [0, 1] (InputError naming the policy otherwise)."""
    check_param(is_number(epsilon) and 0 <= epsilon <= 1, policy, "epsilon",
                f"must be a number in [0, 1], got {epsilon!r}")
    return float(epsilon)


def capped_scale(policy: str, reward_cap: object) -> RewardScale:
    """The [0, 1] scale of a policy with hyper-parameter ``reward_cap`` (a finite number > 0)."""
    check_param(is_number(reward_cap) and 0 < reward_cap < np.inf, policy, "reward_cap",
                f"must be a finite number > 0, got {reward_cap!r}")
    return RewardScale(float(reward_cap))


class PlanPolicy(Policy):
    """Common state of ltrr's policies: the plan space, the reward scale and the context check.

    Hyper-parameters are the keyword-only arguments of a subclass's ``__init__``; their
    defaults are the documented defaults (see :func:`hyper_parameters`). ``reward_range``
    (the benchmark's reward bounds) is checked; ``self.scale`` is the raw reward unless a
    subclass sets a capped one (see :class:`RewardScale`).
    """

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__(len(plans), n_features, random_state)
        check_reward_range(reward_range)
        self.plans = plans
        self.scale = RewardScale()

    def check_context(self, context: np.ndarray) -> np.ndarray:
        """The context as a float vector of length ``n_features`` (ValueError otherwise)."""
        x = np.asarray(context, dtype=float).reshape(-1)
        if x.shape[0] != self.n_features:
            raise ValueError(f"{self.name}: context has {x.shape[0]} features, "
                             f"expected {self.n_features}")
        return x


class IndexPolicy(PlanPolicy):
    """A policy that plays the plan with the highest index (UCB1, the semi-bandit): the
    subclass gives ``_scores()``; ties are broken at random, so the propensity is 1/ties."""

    def _scores(self) -> np.ndarray:
        raise NotImplementedError

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        return argmax_random_ties(self._scores(), self.rng)

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        return tie_distribution(self._scores())


def hyper_parameters(cls: type) -> dict[str, object]:
    """``{name: default}`` of a policy class's keyword-only ``__init__`` arguments."""
    signature = inspect.signature(cls.__init__)
    return {name: p.default for name, p in signature.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}
