"""The policies a benchmark can run, by name, and :func:`build_policy` that makes them.

=====================  ============================================  =========================
name                   what                                          hyper-parameters (default)
=====================  ============================================  =========================
``single:<arm>``       that arm alone at full budget                 none
``best_single``        one arm alone at full budget (tune ``arm``     ``arm`` (the first arm)
                       over the arms: the best single arm)
``static_union``       every arm, equal split                        none
``uniform``            a uniformly random plan                       none
``epsilon_greedy``     obp ``EpsilonGreedy``                         ``epsilon`` (0.1)
``ucb1``               UCB1                                          ``c`` (2.0)
``thompson``           obp ``BernoulliTS`` (Agrawal-Goyal rewards)   ``alpha`` (1.0), ``beta``
                                                                     (1.0), ``reward_cap`` (1.0)
``exp3``               EXP3                                          ``gamma`` (0.1),
                                                                     ``reward_cap`` (1.0)
``linucb``             obp ``LinUCB`` (disjoint)                     ``alpha`` (1.0)
``linucb_warm``        LinUCB that first learns the training topics  ``alpha`` (1.0)
``lints``              obp ``LinTS`` (disjoint)                      ``v`` (0.5)
``lin_epsilon_greedy`` obp ``LinEpsilonGreedy`` (disjoint)           ``epsilon`` (0.1)
``semibandit``         ESCB over (arm, depth) with click credit      ``c`` (0.5)
``router``             supervised router (Arabzadeh et al. 2021):    ``trees`` (100),
                       LightGBM trained on the training topics,      ``leaves`` (8),
                       fixed during the stream                       ``learning_rate`` (0.05)
``oracle``             argmax of the simulator's truth (bound)       none
=====================  ============================================  =========================

Every policy is seeded by ``random_state`` and returns its propensity with each choice: the
exact probability of the chosen plan, for Thompson sampling (``thompson``, ``lints``) too,
where it is a one-dimensional integral computed by quadrature (``argmax``), not a Monte
Carlo estimate. ``router`` and ``linucb_warm`` learn before the stream from the dataset's
training topics (``uses_training``: ``ltrr run`` computes their examples, never from a topic
or a query text the stream asks, and calls their ``fit``; :mod:`.router`). ``thompson`` and
``exp3`` need rewards in [0, 1] and learn from ``min(max(reward, 0), reward_cap) /
reward_cap``; the default cap of 1 makes a click-rewarded
page a success when it earned a click net of its cost. The others learn from the raw reward
(the page's reward minus cost), so their exploration constants are in its unit, clicks by
default (:mod:`.plan_policy`).

Outside policies are named like the built-ins, through :data:`REGISTRY` (one
:class:`ltrr.registry.Registry`, the mechanism arms, rankers and click models share): an
import path ``module:Name``, an entry point of group ``ltrr.policies``, or a class registered
in this process. They are built by :func:`~ltrr.selection.policies.checked_policy.build_outside`
and checked at every step (``docs/plugins.md`` has the contract).
"""

from __future__ import annotations

import inspect

from ltrr.contracts import ability
from ltrr.errors import InputError
from ltrr.registry import Registry, class_or_factory
from ltrr.selection.base import Policy
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies.plan_policy import hyper_parameters
from ltrr.selection.policies.baselines import SingleArm
from ltrr.selection.policies.checked_policy import build_outside

# The built-in policies, by name: the one list of them, each class named by its import path and
# imported on first use. Adding a built-in policy is its module plus one line here
# (``docs/architecture.md``, "Adding a built-in").
POLICIES: dict[str, object] = {
    "best_single": "ltrr.selection.policies.baselines:BestSingleArm",
    "static_union": "ltrr.selection.policies.baselines:StaticUnion",
    "uniform": "ltrr.selection.policies.baselines:Uniform",
    "epsilon_greedy": "ltrr.selection.policies.bandits:EpsilonGreedy",
    "ucb1": "ltrr.selection.policies.bandits:UCB1",
    "thompson": "ltrr.selection.policies.bandits:BernoulliThompson",
    "exp3": "ltrr.selection.policies.bandits:EXP3",
    "linucb": "ltrr.selection.policies.contextual:LinUCB",
    "linucb_warm": "ltrr.selection.policies.router:LinUCBWarm",
    "lints": "ltrr.selection.policies.contextual:LinTS",
    "lin_epsilon_greedy": "ltrr.selection.policies.contextual:LinEpsilonGreedy",
    "semibandit": "ltrr.selection.policies.semibandit:SemiBanditUCB",
    "router": "ltrr.selection.policies.router:Router",
    "oracle": "ltrr.selection.policies.oracle:Oracle",
}
POLICY_NAMES: list[str] = ["single:<arm>", *POLICIES]

REGISTRY = Registry(
    "policy", POLICIES, class_or_factory("policy", ("choose", "update")),
    lambda name, known: f"unknown policy {name!r} (expected one of "
                        f"{', '.join(['single:<arm>', *known])})")


def policy_class(name: str):
    """The class (or an outside factory) behind a policy name (``single:<arm>`` ->
    :class:`SingleArm`)."""
    if isinstance(name, str) and name.startswith("single:"):
        return SingleArm
    return REGISTRY.resolve(name)


def is_builtin(name: str) -> bool:
    """Whether ``name`` is one of ltrr's own policies (``single:<arm>`` included)."""
    return isinstance(name, str) and (name.startswith("single:") or name in POLICIES)


def default_params(name: str) -> dict[str, object]:
    """The hyper-parameters of a policy with their defaults."""
    return hyper_parameters(policy_class(name))


def build_policy(name: str, params: dict | None, plans: PlanSpace, *, n_features: int,
                 random_state: int, reward_range: tuple[float, float]) -> Policy:
    """Make policy ``name`` with ``params`` overriding its defaults, over ``plans``, for
    contexts of ``n_features`` values, seeded by ``random_state``, learning from rewards in
    ``reward_range`` (keyword-only: four numbers in a row say nothing at the call).

    The resolved hyper-parameters are kept as ``policy.params`` (for result records).

    Raises:
        InputError: unknown policy, unknown or invalid param (the message names the policy
            and the key), an arm or plan the policy needs that the benchmark lacks, or a plan
            space smaller than the policy's ``min_plans`` (obp's policies need 2 actions).
    """
    cls = policy_class(name)
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise InputError(f"policy '{name}': params must be a table, got {params!r}")
    known = hyper_parameters(cls)
    for key in params:
        if key not in known:
            accepted = f"known: {', '.join(known)}" if known else "it takes none"
            raise InputError(f"policy '{name}': unknown param '{key}' ({accepted})")
    if not is_builtin(name):
        required = [k for k, v in known.items() if v is inspect.Parameter.empty and k not in params]
        if required:
            raise InputError(f"policy '{name}': missing required param(s) {', '.join(required)} "
                             "(keyword-only arguments without a default)")
        policy = build_outside(name, cls, plans, n_features, random_state, reward_range, params)
        policy.params = {**known, **params}
        return policy
    min_plans = ability(cls, "policy", "min_plans")
    if len(plans) < min_plans:  # obp's policies need 2 actions
        raise InputError(f"policy '{name}' needs at least {min_plans} plans; the plan space "
                         f"has {len(plans)} ({', '.join(plans.ids)})")
    extra = {"arm": name.split(":", 1)[1]} if cls is SingleArm else {}
    policy = cls(plans, n_features, random_state, tuple(reward_range), **extra, **params)
    policy.params = {**known, **params}
    return policy


def uses_training(name: str) -> bool:
    """Whether policy ``name`` learns from the dataset's training topics before the stream
    (it then needs ``fit(training)`` before its first choice)."""
    return ability(policy_class(name), "policy", "uses_training")


__all__ = ["POLICIES", "POLICY_NAMES", "REGISTRY", "build_policy", "default_params",
           "is_builtin", "policy_class", "uses_training"]
