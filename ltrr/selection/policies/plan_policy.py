"""What ltrr's policies share: the base class that calls the compiled decisions, the checks
of hyper-parameters, and the rewards a policy learns from.

- Rewards: most policies learn from the loop's raw reward (the page's reward minus cost), so
  their exploration constants (UCB1's ``c``, LinUCB's ``alpha``, LinTS's ``v``) are in its
  unit (clicks, with the default ``[reward]``). Bernoulli Thompson sampling and EXP3 need
  rewards in [0, 1]; they take a hyper-parameter ``reward_cap`` and learn from
  ``min(max(reward, 0), cap) / cap``
  (:func:`~ltrr.selection.policies.kernels.capped`). With the default cap of
  1 and click rewards that is "did the page earn a click, net of its cost": a page with one
  or more clicks and no cost is a success, a click minus a cost of 0.2 is a success with
  probability 0.8 (Thompson) or a reward of 0.8 (EXP3), a page without clicks or one that
  cost more than it earned is a failure; the scale a practitioner would pick. (Rescaling
  by the benchmark's whole reward range, "every result on the page clicked", put typical
  rewards near 0.1 and made both learn far more slowly than the policies that see
  clicks.) A tuning grid can vary ``reward_cap`` like any other hyper-parameter.
- Decisions: :class:`PlanPolicy` is the common base of ltrr's policies; its ``choose``,
  ``update`` and ``probabilities`` call :mod:`ltrr.selection.policies.kernels` (exact ties
  broken uniformly at random, propensity ``1 / n_ties``; Thompson sampling's propensities
  are exact integrals, :mod:`ltrr.selection.policies.argmax`). :func:`hyper_parameters`
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
from ltrr.selection.policies import kernels


def check_reward_range(reward_range: tuple[float, float]) -> None:
    """The benchmark's reward bounds must be two finite numbers ``low < high``."""
    low, high = (float(v) for v in reward_range)
    if not np.isfinite([low, high]).all() or not high > low:
        raise InputError(f"reward range must be two finite numbers low < high, "
                         f"got {tuple(reward_range)!r}", field="reward_range")


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


def checked_cap(policy: str, reward_cap: object) -> float:
    """A reward cap: a finite number > 0 (the policy learns from rewards on [0, 1])."""
    check_param(is_number(reward_cap) and 0 < reward_cap < np.inf, policy, "reward_cap",
                f"must be a finite number > 0, got {reward_cap!r}")
    return float(reward_cap)


class PlanPolicy(Policy):
    """Common state of ltrr's policies: the plan space and the compiled decision.

    A subclass keeps its state in arrays and returns them from :meth:`arrays` as a
    :class:`~ltrr.selection.policies.kernels.PolicyArrays` (made once, mutated in place);
    :meth:`choose`, :meth:`update` and :meth:`probabilities` call the compiled
    :mod:`~ltrr.selection.policies.kernels`, which the compiled run loop calls too.
    Hyper-parameters are the keyword-only arguments of a subclass's ``__init__``; their
    defaults are the documented defaults (see :func:`hyper_parameters`). ``reward_range``
    (the benchmark's reward bounds) is checked.
    """

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__(len(plans), n_features, random_state)
        check_reward_range(reward_range)
        self.plans = plans
        self._arrays = None

    def arrays(self):
        """The policy's state as the compiled code reads it."""
        if self._arrays is None:
            self._arrays = self._make_arrays()
        return self._arrays

    def _make_arrays(self):
        raise NotImplementedError

    def _context(self, context) -> np.ndarray:
        if not self.uses_context:
            return _NO_CONTEXT
        return np.ascontiguousarray(self.check_context(context))

    def check_context(self, context: np.ndarray) -> np.ndarray:
        """The context as a float vector of length ``n_features`` (ValueError otherwise)."""
        x = np.asarray(context, dtype=float).reshape(-1)
        if x.shape[0] != self.n_features:
            raise ValueError(f"{self.name}: context has {x.shape[0]} features, "
                             f"expected {self.n_features}")
        return x

    def _truth(self, truth) -> np.ndarray:
        if not self.uses_truth:
            return _NO_CONTEXT
        if truth is None:
            raise ValueError(f"{self.name}: choose() needs truth (the expected reward of every "
                             "plan)")
        truth = np.ascontiguousarray(truth, dtype=float)
        if truth.shape != (self.n_plans,):
            raise ValueError(f"{self.name}: truth has shape {truth.shape}, expected "
                             f"({self.n_plans},)")
        return truth

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        plan, propensity = kernels.choose(self.arrays(), self._context(context),
                                          self._truth(truth), self.rng, True)
        return int(plan), float(propensity)

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        kernels.update(self.arrays(), self._context(context), int(plan), float(reward),
                       self._credit(plan, arm_rewards), self.rng)

    def _credit(self, plan: int, arm_rewards: dict[str, float] | None) -> np.ndarray:
        return _NO_CONTEXT

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        return kernels.probabilities(self.arrays(), self._context(context), self._truth(truth))


_NO_CONTEXT = np.zeros(0)


def hyper_parameters(cls) -> dict[str, object]:
    """``{name: default}`` of a policy class's keyword-only ``__init__`` arguments (of a
    factory function's keyword-only arguments; ``inspect.Parameter.empty`` for one without a
    default, which an outside policy's ``params`` must then give)."""
    signature = inspect.signature(cls.__init__ if inspect.isclass(cls) else cls)
    return {name: p.default for name, p in signature.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}
