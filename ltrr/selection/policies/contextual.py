"""Contextual bandits over plans: LinUCB, linear Thompson sampling, linear epsilon-greedy.

All three keep their model in obp's linear policies (``LinUCB``, ``LinTS``,
``LinEpsilonGreedy``): one ridge regression per plan over the context vector (obp's
*disjoint* model, Li et al. 2010; prior ``A = I``), updated every step (``batch_size=1``) by
obp's Sherman-Morrison update of the inverse design matrix ``A_inv`` and the vector ``b``.
The plan features of :meth:`~ltrr.selection.plans.PlanSpace.features` are not used: with
disjoint models each plan has its own weights, so a plan's identity is already in the model.
The update is obp's formula, ``A_inv -= (A_inv x)(A_inv x)' / (1 + x' A_inv x)`` (obp writes
``A_inv x x' A_inv``, the same matrix since ``A_inv`` is symmetric), applied in place to the
chosen plan's matrix: O(d^2) instead of obp's O(d^3) product, and without obp's copy of every
plan's matrix at each step (with ``batch_size=1`` obp copies ``A_inv_temp`` into ``A_inv``
after every update; here both are the same array).
obp learns from the raw reward (the page's reward minus cost, clicks by default), as in obp's
own simulations, so ``alpha`` and ``v`` are in the reward's unit.

The decision is computed by ltrr's compiled kernel (:mod:`~ltrr.selection.policies.kernels`)
from obp's ``A_inv`` and ``b``, for every plan in one pass (each plan's estimate
``x . theta_a`` and variance ``x' A_a^-1 x``), where obp's ``select_action`` loops over plans
in Python (and LinTS draws a full multivariate normal per plan through an SVD). The rules
are obp's, with exact ties (a cold start: every plan's model identical) broken uniformly at
random rather than by obp's ``argsort`` order. Randomness comes from the policy's own seeded
rng.
"""

from __future__ import annotations

import numpy as np

from ltrr.compat import obp
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import kernels
from ltrr.selection.policies.plan_policy import PlanPolicy, check_param, checked_epsilon, is_number
from ltrr.selection.policies.kernels import PolicyArrays


class _LinearPolicy(PlanPolicy):
    """obp's model, updated in place by obp's rank-one formula; per-plan means and variances."""

    kind = -1
    min_plans = 2  # obp needs at least 2 actions

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int,
                 reward_range: tuple[float, float]) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        check_param(isinstance(n_features, int) and n_features >= 1, self.name, "n_features",
                    f"must be an integer >= 1, got {n_features!r}")

    def _share_arrays(self) -> None:
        """Make obp's per-batch copies the model itself (``batch_size=1``: obp would copy
        them after every update anyway)."""
        self.model.A_inv = np.ascontiguousarray(self.model.A_inv, dtype=float)
        self.model.b = np.ascontiguousarray(self.model.b, dtype=float)
        self.model.A_inv_temp = self.model.A_inv
        self.model.b_temp = self.model.b

    def _setting(self) -> float:
        raise NotImplementedError

    def _make_arrays(self) -> PolicyArrays:
        return PolicyArrays.of(self.kind, ints=np.array([-1, self.n_plans]),
                               floats=np.array([self._setting()]), t0=self.model.A_inv,
                               m0=self.model.b)

    def estimates(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per plan: ``x . theta_a`` and ``x' A_a^-1 x``."""
        means, variances = np.empty(self.n_plans), np.empty(self.n_plans)
        kernels.linear_estimates(self.model.A_inv, self.model.b,
                                 np.ascontiguousarray(self.check_context(x)), means, variances)
        return means, variances

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        super().update(context, plan, reward, arm_rewards)
        self.model.n_trial += 1
        self.model.action_counts[plan] += 1


class LinUCB(_LinearPolicy):
    """LinUCB on obp's ``LinUCB`` model, exploration weight ``alpha`` (obp's ``epsilon``):
    the plan maximising ``x . theta_a + alpha * sqrt(x' A_a^-1 x)``. Deterministic but for
    exact ties (broken uniformly): propensity 1.0, or ``1 / n_ties``.
    """

    name = "linucb"
    kind = kernels.LINUCB

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, alpha: float = 1.0) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        check_param(is_number(alpha) and alpha >= 0, self.name, "alpha",
                    f"must be a number >= 0, got {alpha!r}")
        self.alpha = float(alpha)
        self.model = obp("policy").policy.LinUCB(dim=n_features, n_actions=self.n_plans, len_list=1,
                                         batch_size=1, random_state=random_state,
                                         epsilon=self.alpha)
        self._share_arrays()

    def _setting(self) -> float:
        return self.alpha

    def scores(self, context: np.ndarray) -> np.ndarray:
        means, variances = self.estimates(context)
        return means + self.alpha * np.sqrt(variances)


class LinTS(_LinearPolicy):
    """Linear Thompson sampling on obp's ``LinTS`` model: per plan, draw
    ``theta_a ~ N(theta_hat_a, v^2 A_a^-1)`` and play the best ``x . theta_a``.

    Only the score ``x . theta_a`` matters, and it is normal with mean ``x . theta_hat_a``
    and variance ``v^2 x' A_a^-1 x``, independent across plans, so the scores are drawn
    directly: the decision distribution of obp's ``select_action`` (checked in the tests),
    without a ``dim``-variate draw and SVD per plan.

    obp fixes the posterior scale ``v`` at 1; ltrr exposes it by feeding obp the reward
    divided by ``v`` (posterior means scale by ``1/v``, the covariance stays, so the argmax
    is that of scale ``v``).

    Propensity (exact): the probability that the chosen plan's normal score is the largest,
    a one-dimensional integral computed by quadrature to ~1e-11
    (:mod:`~ltrr.selection.policies.argmax`; a plan with zero variance, at a zero context, is
    a point mass, handled exactly). It draws nothing from the rng.
    """

    name = "lints"
    kind = kernels.LINTS

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, v: float = 0.5) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        check_param(is_number(v) and v > 0, self.name, "v", f"must be a number > 0, got {v!r}")
        self.reward_factor = 1.0 / float(v)
        self.model = obp("policy").policy.LinTS(dim=n_features, n_actions=self.n_plans, len_list=1,
                                        batch_size=1, random_state=random_state)
        self._share_arrays()

    def _setting(self) -> float:
        return self.reward_factor

    def score_distribution(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per plan, the mean and standard deviation of the score ``x . theta_a``."""
        means, variances = self.estimates(context)
        return means, np.sqrt(variances)


class LinEpsilonGreedy(_LinearPolicy):
    """Linear epsilon-greedy on obp's ``LinEpsilonGreedy`` model: with probability
    ``epsilon`` a uniform plan, else the plan with the best ridge estimate ``x . theta_a``
    (uniform among exact ties). Propensity exact: ``(1 - epsilon) / n_ties + epsilon / K``
    for a best plan, ``epsilon / K`` for the others.
    """

    name = "lin_epsilon_greedy"
    kind = kernels.LIN_EPSILON

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *,
                 epsilon: float = 0.1) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        self.epsilon = checked_epsilon(self.name, epsilon)
        self.model = obp("policy").policy.LinEpsilonGreedy(dim=n_features, n_actions=self.n_plans,
                                                   len_list=1, batch_size=1,
                                                   random_state=random_state,
                                                   epsilon=self.epsilon)
        self._share_arrays()

    def _setting(self) -> float:
        return self.epsilon
