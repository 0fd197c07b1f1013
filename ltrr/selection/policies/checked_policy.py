"""Policies from outside ltrr (``module:Name``, an entry point, or a class handed to the Python
API): built like ltrr's own, and held to the contract at every step.

An outside policy is a class (or a factory function) called as ltrr calls its own::

    policy = Policy(plans, n_features, random_state, reward_range, **hyper_parameters)

whose hyper-parameters are its keyword-only arguments (their defaults are the defaults; one
without a default must be given in ``params``). The object must have ``choose(context)`` and
``update(context, plan, reward, arm_rewards)``. :class:`CheckedPolicy` wraps it and checks what
``choose`` returns at every step, so a broken plugin stops the run at its first bad step with
one :class:`~ltrr.errors.InputError` naming it, rather than with an IndexError deep in the loop
or, worse, a wrong propensity silently logged. It also enforces the two information rules of
the benchmark: a policy that declares ``uses_context = False`` (and so pays no post-retrieval
probe) is given a zero context vector, and no outside policy may declare ``uses_truth`` (the
simulator's expected rewards are the oracle's alone).
"""

from __future__ import annotations

import math

import numpy as np

from ltrr.contracts import ability, missing_methods
from ltrr.errors import InputError
from ltrr.registry import describe, where_raised

PROPENSITY_SLACK = 1e-9  # a probability computed as p / p.sum() may exceed 1 by rounding


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def build_outside(name: str, factory, plans, n_features: int, random_state: int,
                  reward_range: tuple[float, float], params: dict) -> "CheckedPolicy":
    """Call ``factory`` as ltrr calls its own policies and wrap the result; InputError naming
    ``name`` when it cannot be built or is not a policy."""
    try:
        policy = factory(plans, n_features, random_state, tuple(reward_range), **params)
    except InputError as err:
        raise InputError(str(err) if f"'{name}'" in str(err) else f"policy '{name}': {err}") \
            from None
    except Exception as err:  # the plugin's constructor failed: one line, with where
        raise InputError(f"policy '{name}': building it failed: {where_raised(err)}") from None
    missing = missing_methods(policy, "policy")
    if missing:
        raise InputError(f"policy '{name}' built {describe(policy)}, which has no method "
                         f"{', '.join(missing)} (see docs/plugins.md)")
    if ability(policy, "policy", "uses_truth"):
        raise InputError(f"policy '{name}' declares uses_truth = True: the simulator's expected "
                         "rewards are the oracle's alone, never a compared policy's")
    return CheckedPolicy(name, policy, len(plans), n_features)


class CheckedPolicy:
    """An outside policy with its ``choose`` results checked at every step.

    Every other attribute (``uses_context``, ``uses_arm_rewards``, ``probabilities``...) is the
    wrapped policy's. The check costs about a microsecond per step, next to the loop's
    hundreds.
    """

    uses_truth = False

    def __init__(self, name: str, policy, n_plans: int, n_features: int) -> None:
        self.name, self.policy, self.n_plans = name, policy, n_plans
        self.reads_context = ability(policy, "policy", "uses_context")
        self._zeros = np.zeros(n_features)
        self.step = 0

    def __getattr__(self, attr: str):
        if attr == "policy":  # not set yet (unpickling): no recursion
            raise AttributeError(attr)
        return getattr(self.policy, attr)

    def _context(self, context: np.ndarray) -> np.ndarray:
        return context if self.reads_context else self._zeros

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        out = self.policy.choose(self._context(context))
        where = f"policy '{self.name}': choose() returned"
        if not isinstance(out, tuple) or len(out) != 2:
            raise InputError(f"{where} {_short(out)} at step {self.step}; it must return a tuple "
                             "(plan_index, propensity)")
        plan, propensity = out
        if isinstance(plan, (bool, np.bool_)) or not isinstance(plan, (int, np.integer)):
            raise InputError(f"{where} plan {_short(plan)} ({type(plan).__name__}) at step "
                             f"{self.step}; a plan is an integer index 0..{self.n_plans - 1}")
        if not 0 <= plan < self.n_plans:
            raise InputError(f"{where} plan {plan} at step {self.step}, outside "
                             f"0..{self.n_plans - 1}")
        ok = isinstance(propensity, (int, float, np.integer, np.floating)) \
            and not isinstance(propensity, (bool, np.bool_))
        if not ok or not math.isfinite(propensity) \
                or not 0 < propensity <= 1 + PROPENSITY_SLACK:
            raise InputError(f"{where} propensity {_short(propensity)} for plan {plan} at step "
                             f"{self.step}; it must be the probability of that choice, a number "
                             "in (0, 1]")
        self.step += 1
        return int(plan), min(float(propensity), 1.0)

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        self.policy.update(self._context(context), plan, reward, arm_rewards)

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        return self.policy.probabilities(self._context(context))

