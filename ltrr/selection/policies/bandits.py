"""Non-contextual bandits over plans: epsilon-greedy, UCB1, Beta-Bernoulli Thompson, EXP3.

All ignore the context. ``thompson`` and ``exp3`` need rewards in [0, 1]: they learn from
the reward clipped to ``[0, reward_cap]`` and divided by ``reward_cap`` (default 1: with
click rewards, a page with a click, net of its cost, is a full success, a page without
one, or one that cost more than it earned, a failure). ``epsilon_greedy`` and ``ucb1``
learn from the raw reward in clicks (see
:class:`~ltrr.selection.policies.decisions.RewardScale`).

- ``epsilon_greedy`` and ``thompson`` wrap obp's ``EpsilonGreedy`` and ``BernoulliTS``
  (``len_list=1``, ``batch_size=1``: updated every step, seeded with ``random_state``); obp
  decides, ltrr adds the propensity obp does not report.
- ``ucb1`` and ``exp3`` are written here because obp 0.4.1 has neither.
"""

from __future__ import annotations

import numpy as np

from ltrr.compat import obp
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies.argmax import beta_argmax_probabilities, beta_argmax_probability
from ltrr.selection.policies.decisions import (IndexPolicy, PlanPolicy, capped_scale, check_param,
                                               checked_epsilon, is_number)


class EpsilonGreedy(PlanPolicy):
    """obp's ``EpsilonGreedy``: with probability ``epsilon`` a uniform plan, else the plan
    with the best mean reward (obp plays uniformly until every plan has been tried once).

    Propensity (exact): ``1 - epsilon + epsilon / K`` for the greedy plan, ``epsilon / K``
    for the others, ``1 / K`` while some plan is untried. Greedy ties are broken as obp
    breaks them (deterministically, by its ``argsort``), so the greedy plan here is obp's.
    """

    name = "epsilon_greedy"
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *,
                 epsilon: float = 0.1) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        self.epsilon = checked_epsilon(self.name, epsilon)
        self.model = obp().policy.EpsilonGreedy(n_actions=self.n_plans, len_list=1, batch_size=1,
                                                random_state=random_state, epsilon=self.epsilon)

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        m, k = self.model, self.n_plans
        if m.action_counts.min() == 0:
            return np.full(k, 1.0 / k)
        greedy = (m.reward_counts / m.action_counts).argsort()[::-1][0]  # obp's own rule
        probs = np.full(k, self.epsilon / k)
        probs[greedy] += 1.0 - self.epsilon
        return probs

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        plan = int(self.model.select_action()[0])
        return plan, float(self.probabilities(context)[plan])

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        self.model.update_params(action=plan, reward=self.scale(reward))


class UCB1(IndexPolicy):
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002): the plan maximising
    ``mean + sqrt(c * ln t / n)``; untried plans first. Rewards are raw (clicks): ``c = 2``
    is the textbook constant for rewards of unit range, here for noise of about one click. Ties (including among untried plans)
    are broken uniformly at random, so the propensity is ``1 / n_ties`` (else 1.0).
    Written here: obp 0.4.1 has no UCB1.
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

    def _scores(self) -> np.ndarray:
        if self.counts.min() == 0:
            return (self.counts == 0).astype(float)  # untried plans tie at the top
        t = self.counts.sum()
        return self.sums / self.counts + np.sqrt(self.c * np.log(t) / self.counts)

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        self.counts[plan] += 1
        self.sums[plan] += self.scale(reward)


class BernoulliThompson(PlanPolicy):
    """obp's ``BernoulliTS``: Beta(alpha, beta) prior per plan, the plan whose posterior draw
    is highest.

    Rewards need not be binary: following Agrawal & Goyal (2012), each reward on the capped
    [0, 1] scale (see the module doc) is turned into a Bernoulli draw with that success
    probability (from this policy's own rng) before obp updates its Beta posterior.

    Propensity (exact): the probability that the chosen plan's Beta posterior draw is the
    largest, a one-dimensional integral computed by quadrature to ~1e-11
    (:func:`~ltrr.selection.policies.argmax.beta_argmax_probability`; all plans:
    ``beta_argmax_probabilities``). It draws nothing, so decisions do not depend on whether
    probabilities were asked for.
    """

    name = "thompson"
    uses_context = False

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, alpha: float = 1.0,
                 beta: float = 1.0, reward_cap: float = 1.0) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        for key, value in (("alpha", alpha), ("beta", beta)):
            check_param(is_number(value) and value > 0, self.name, key,
                        f"must be a number > 0, got {value!r}")
        self.scale = capped_scale(self.name, reward_cap)
        self.model = obp().policy.BernoulliTS(
            n_actions=self.n_plans, len_list=1, batch_size=1, random_state=random_state,
            alpha=np.full(self.n_plans, float(alpha)), beta=np.full(self.n_plans, float(beta)))

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Per plan, the Beta parameters obp's ``select_action`` draws from."""
        m = self.model
        return m.reward_counts + m.alpha, m.action_counts - m.reward_counts + m.beta

    def probabilities(self, context: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
        return beta_argmax_probabilities(*self.posterior())

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        plan = int(self.model.select_action()[0])
        return plan, beta_argmax_probability(*self.posterior(), plan)

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        success = float(self.rng.random() < self.scale(reward))
        self.model.update_params(action=plan, reward=success)


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
        self.scale = capped_scale(self.name, reward_cap)
        self.log_weights = np.zeros(self.n_plans)

    def probabilities(self, context: np.ndarray | None = None,
                      truth: np.ndarray | None = None) -> np.ndarray:
        w = np.exp(self.log_weights - self.log_weights.max())
        return (1.0 - self.gamma) * w / w.sum() + self.gamma / self.n_plans

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        probs = self.probabilities()
        plan = int(np.searchsorted(np.cumsum(probs), self.rng.random() * probs.sum(), side="right"))
        plan = min(plan, self.n_plans - 1)
        return plan, float(probs[plan])

    def update(self, context: np.ndarray, plan: int, reward: float,
               arm_rewards: dict[str, float] | None = None) -> None:
        p = self.probabilities()[plan]
        self.log_weights[plan] += self.gamma * self.scale(reward) / (p * self.n_plans)
