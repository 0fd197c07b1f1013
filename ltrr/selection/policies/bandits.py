"""Non-contextual bandits over plans: epsilon-greedy, UCB1, Beta-Bernoulli Thompson, EXP3.

All ignore the context. ``thompson`` and ``exp3`` need rewards in [0, 1]: they learn from
the reward clipped to ``[0, reward_cap]`` and divided by ``reward_cap`` (default 1: with
click rewards, a page with a click, net of its cost, is a full success, a page without
one, or one that cost more than it earned, a failure). ``epsilon_greedy`` and ``ucb1``
learn from the raw reward in clicks (see :mod:`~ltrr.selection.policies.plan_policy`).

- ``epsilon_greedy`` and ``thompson`` keep their counts in obp's ``EpsilonGreedy`` and
  ``BernoulliTS`` models (``len_list=1``, ``batch_size=1``: updated every step); the
  decision is ltrr's compiled one (:mod:`~ltrr.selection.policies.kernels`), drawn from the
  policy's own Generator, with obp's rules and an exact propensity obp does not report.
- ``ucb1`` and ``exp3`` are written here because obp 0.4.1 has neither.
"""

from __future__ import annotations

import numpy as np

from ltrr.compat import obp
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import kernels
from ltrr.selection.policies.argmax import BETA, family_stats
from ltrr.selection.policies.plan_policy import (PlanPolicy, check_param, checked_cap,
                                                 checked_epsilon, is_number)
from ltrr.selection.policies.kernels import PolicyArrays


def _share_counts(model) -> None:
    """obp's counts as float arrays, its per-batch copies the same arrays (``batch_size=1``:
    obp would copy them after every update anyway)."""
    model.action_counts = model.action_counts.astype(float)
    model.reward_counts = model.reward_counts.astype(float)
    model.action_counts_temp = model.action_counts
    model.reward_counts_temp = model.reward_counts


class EpsilonGreedy(PlanPolicy):
    """obp's ``EpsilonGreedy`` rule: with probability ``epsilon`` a uniform plan, else the
    plan with the best mean reward (uniformly until every plan has been tried once).

    Propensity (exact): ``(1 - epsilon) / ties + epsilon / K`` for a greedy plan (``ties``
    plans share the best mean: obp breaks such ties by its ``argsort``'s order, ltrr
    uniformly at random), ``epsilon / K`` for the others, ``1 / K`` while some plan is
    untried.
    """

    name = "epsilon_greedy"
    min_plans = 2  # obp needs at least 2 actions
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *,
                 epsilon: float = 0.1) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        self.epsilon = checked_epsilon(self.name, epsilon)
        self.model = obp("policy").policy.EpsilonGreedy(n_actions=self.n_plans, len_list=1, batch_size=1,
                                                random_state=random_state, epsilon=self.epsilon)
        _share_counts(self.model)

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.EPSILON_GREEDY, ints=np.array([-1, self.n_plans]),
                               floats=np.array([self.epsilon]), v0=self.model.action_counts,
                               v1=self.model.reward_counts)


class UCB1(PlanPolicy):
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002): the plan maximising
    ``mean + sqrt(c * ln t / n)``; untried plans first. Rewards are raw (clicks): ``c = 2``
    is the textbook constant for rewards of unit range, here for noise of about one click.
    Ties (including among untried plans) are broken uniformly at random, so the propensity
    is ``1 / n_ties`` (else 1.0). Written here: obp 0.4.1 has no UCB1.
    """

    name = "ucb1"
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, c: float = 2.0) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        check_param(is_number(c) and c >= 0, self.name, "c", f"must be a number >= 0, got {c!r}")
        self.c = float(c)
        self.counts = np.zeros(self.n_plans)
        self.sums = np.zeros(self.n_plans)

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.UCB1, ints=np.array([-1, self.n_plans]),
                               floats=np.array([self.c]), v0=self.counts, v1=self.sums)


class BernoulliThompson(PlanPolicy):
    """obp's ``BernoulliTS``: Beta(alpha, beta) prior per plan, the plan whose posterior draw
    is highest.

    Rewards need not be binary: following Agrawal & Goyal (2012), each reward on the capped
    [0, 1] scale (see the module doc) is turned into a Bernoulli draw with that success
    probability (from this policy's own rng) before the Beta posterior is updated.

    Propensity (exact): the probability that the chosen plan's Beta posterior draw is the
    largest, a one-dimensional integral computed by quadrature to ~1e-11
    (:mod:`~ltrr.selection.policies.argmax`). It draws nothing, so decisions do not depend on
    whether probabilities were asked for.
    """

    name = "thompson"
    min_plans = 2  # obp needs at least 2 actions
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, alpha: float = 1.0,
                 beta: float = 1.0, reward_cap: float = 1.0) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        for key, value in (("alpha", alpha), ("beta", beta)):
            check_param(is_number(value) and value > 0, self.name, key,
                        f"must be a number > 0, got {value!r}")
        self.alpha, self.beta = float(alpha), float(beta)
        self.reward_cap = checked_cap(self.name, reward_cap)
        self.model = obp("policy").policy.BernoulliTS(
            n_actions=self.n_plans, len_list=1, batch_size=1, random_state=random_state,
            alpha=np.full(self.n_plans, self.alpha), beta=np.full(self.n_plans, self.beta))
        _share_counts(self.model)

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Per plan, the Beta parameters of its posterior."""
        m = self.model
        return m.reward_counts + m.alpha, m.action_counts - m.reward_counts + m.beta

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.THOMPSON, ints=np.array([-1, self.n_plans]),
                               floats=np.array([self.alpha, self.beta, self.reward_cap]),
                               v0=self.model.reward_counts, v1=self.model.action_counts,
                               m0=family_stats(BETA, *self.posterior()))


class EXP3(PlanPolicy):
    """EXP3 (Auer et al. 2002) for adversarial rewards in [0, 1] (the capped scale of the
    module doc): ``p = (1 - gamma) * w / sum(w) + gamma / K``; the chosen plan's weight grows
    by ``exp(gamma * r / (p * K))``. Weights are kept as logs for stability. Propensity exact
    (``p`` of the chosen plan). Written here: obp 0.4.1 has no EXP3.
    """

    name = "exp3"
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, gamma: float = 0.1,
                 reward_cap: float = 1.0) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        check_param(is_number(gamma) and 0 < gamma <= 1, self.name, "gamma",
                    f"must be a number in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)
        self.reward_cap = checked_cap(self.name, reward_cap)
        self.log_weights = np.zeros(self.n_plans)

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(kernels.EXP3, ints=np.array([-1, self.n_plans]),
                               floats=np.array([self.gamma, self.reward_cap]),
                               v0=self.log_weights)
