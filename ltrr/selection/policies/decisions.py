"""How policies turn scores into a decision, a propensity and a learning signal.

- :class:`RewardScale` gives a policy the reward in the units it learns in. Policies whose
  method needs rewards in [0, 1] (Bernoulli Thompson sampling, EXP3) set
  ``rescale_rewards = True`` and get the loop's raw reward (clicks minus cost) mapped onto
  [0, 1] with the benchmark's ``reward_range`` (values outside are clipped). The others
  learn from the raw reward, in clicks, so their exploration constants (UCB1's ``c``,
  LinUCB's ``alpha``, LinTS's ``v``) are in clicks on every ltrr benchmark: rescaling by a
  range as loose as "every result on the page clicked" (width 10) would shrink reward
  differences of a tenth of a click to 0.01 and drown them in exploration.
- :func:`argmax_random_ties` picks a best score uniformly among ties and returns the exact
  propensity ``1 / n_ties``.
- :func:`monte_carlo_argmax_share` estimates how often a plan wins a randomised argmax
  (Thompson sampling) from vectorised draws.
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
    """Affine map of ``[low, high]`` onto ``[0, 1]``, clipping outside values; with
    ``rescale=False`` the identity (the range is still checked)."""

    def __init__(self, reward_range: tuple[float, float], rescale: bool = True) -> None:
        low, high = (float(v) for v in reward_range)
        if not np.isfinite([low, high]).all() or not high > low:
            raise InputError(f"reward range must be two finite numbers low < high, "
                             f"got {tuple(reward_range)!r}", field="reward_range")
        self.low, self.width, self.rescale = low, high - low, rescale

    def __call__(self, reward: float) -> float:
        if not self.rescale:
            return float(reward)
        return min(1.0, max(0.0, (float(reward) - self.low) / self.width))


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


def monte_carlo_argmax_share(samples: np.ndarray, chosen: int) -> float:
    """Propensity of ``chosen`` from ``samples`` (``n_draws x n_plans`` sampled scores).

    The decision itself was one more draw from the same distribution and it picked
    ``chosen``; counting it, the estimate is ``(1 + wins) / (1 + n_draws)``. That keeps the
    propensity above zero (a logged choice always had positive probability), at a bias of at
    most ``1 / (1 + n_draws)``.
    """
    wins = int(np.count_nonzero(samples.argmax(axis=1) == chosen))
    return (1 + wins) / (1 + samples.shape[0])


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


class PlanPolicy(Policy):
    """Common state of ltrr's policies: the plan space, the reward scale and the context check.

    Hyper-parameters are the keyword-only arguments of a subclass's ``__init__``; their
    defaults are the documented defaults (see :func:`hyper_parameters`).
    ``rescale_rewards``: whether ``self.scale`` maps rewards onto [0, 1] (see RewardScale).
    """

    rescale_rewards = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__(len(plans), n_features, random_state)
        self.plans = plans
        self.scale = RewardScale(reward_range, rescale=self.rescale_rewards)

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
