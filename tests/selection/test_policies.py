"""Policies: registry and errors, seeding, propensities, and learning on synthetic bandits."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import (POLICIES, POLICY_NAMES, build_policy, default_params,
                                     policy_class)

LEARNERS = ["epsilon_greedy", "ucb1", "thompson", "exp3", "linucb", "lints",
            "lin_epsilon_greedy", "semibandit"]
NON_CONTEXTUAL = ["uniform", "epsilon_greedy", "ucb1", "thompson", "exp3", "semibandit"]


def singles(k: int) -> PlanSpace:
    """k plans, plan i = arm ``a<i>`` alone."""
    return PlanSpace.from_config([f"a{i}" for i in range(k)], 10, {"union": False})


def run_stationary(name: str, seed: int, steps: int = 2000, means=(0.3, 0.4, 0.8, 0.35, 0.3),
                   params: dict | None = None):
    """Bernoulli rewards, plan 2 clearly best; contexts are noise. Returns plans, propensities."""
    policy = build_policy(name, params or {}, singles(len(means)),
                          n_features=3, random_state=seed, reward_range=(0.0, 1.0))
    env = np.random.default_rng(1000 + seed)
    plans, props = [], []
    for _ in range(steps):
        x = np.array([env.random(), env.random(), 1.0])
        plan, prop = policy.choose(x)
        reward = float(env.random() < means[plan])
        policy.update(x, plan, reward, {f"a{plan}": reward})
        plans.append(plan)
        props.append(prop)
    return np.array(plans), np.array(props)


def test_registry_names_and_defaults():
    assert POLICY_NAMES == ["single:<arm>", "best_single", "static_union", "uniform", "epsilon_greedy", "ucb1",
                            "thompson", "exp3", "linucb", "linucb_warm", "lints",
                            "lin_epsilon_greedy", "semibandit", "router", "oracle"]
    assert default_params("epsilon_greedy") == {"epsilon": 0.1}
    assert default_params("ucb1") == {"c": 2.0}
    assert default_params("thompson") == {"alpha": 1.0, "beta": 1.0, "reward_cap": 1.0}
    assert default_params("exp3") == {"gamma": 0.1, "reward_cap": 1.0}
    assert default_params("linucb") == {"alpha": 1.0}
    assert default_params("lints") == {"v": 0.5}
    assert default_params("semibandit") == {"c": 0.5}
    assert default_params("router") == {"trees": 100, "leaves": 8, "learning_rate": 0.05}
    assert default_params("linucb_warm") == {"alpha": 1.0}
    assert default_params("single:lexical") == {}
    policy = build_policy("linucb", {"alpha": 0.3}, singles(3),
                          n_features=4, random_state=0, reward_range=(0, 1))
    assert policy.params == {"alpha": 0.3}
    assert policy.model.epsilon == 0.3  # obp's name for LinUCB's alpha


@pytest.mark.parametrize("name, params, message", [
    ("bandit", {}, "unknown policy 'bandit' (expected one of single:<arm>, best_single, static_union, uniform, "
                   "epsilon_greedy, ucb1, thompson, exp3, linucb, linucb_warm, lints, "
                   "lin_epsilon_greedy, semibandit, router, oracle)"),
    ("linucb", {"epsilon": 1.0}, "policy 'linucb': unknown param 'epsilon' (known: alpha)"),
    ("uniform", {"seed": 1}, "policy 'uniform': unknown param 'seed' (it takes none)"),
    ("epsilon_greedy", {"epsilon": 1.5},
     "policy 'epsilon_greedy': param 'epsilon' must be a number in [0, 1], got 1.5"),
    ("exp3", {"gamma": "0.1"}, "policy 'exp3': param 'gamma' must be a number in (0, 1], got '0.1'"),
    ("thompson", {"reward_cap": 0},
     "policy 'thompson': param 'reward_cap' must be a finite number > 0, got 0"),
    ("exp3", {"reward_cap": float("inf")},
     "policy 'exp3': param 'reward_cap' must be a finite number > 0, got inf"),
    ("lints", {"n_propensity_draws": 200},
     "policy 'lints': unknown param 'n_propensity_draws' (known: v)"),
    ("single:bm25", {}, "policy 'single:bm25': unknown arm 'bm25' (benchmark arms: a0, a1, a2)"),
    ("static_union", {}, "policy 'static_union' needs plan 'a0:4+a1:3+a2:3', which is not in the "
                         "plan space (a0:10, a1:10, a2:10)"),
])
def test_bad_policy_specs(name, params, message):
    with pytest.raises(InputError) as err:
        build_policy(name, params, singles(3),
                     n_features=4, random_state=0, reward_range=(0.0, 1.0))
    assert str(err.value) == message


def test_obp_policies_need_two_plans_and_ranges_are_checked():
    one = PlanSpace.from_config(["a"], 10, {"union": False})
    with pytest.raises(InputError, match=r"^policy 'linucb' needs at least 2 plans; the plan "
                                         r"space has 1 \(a:10\)$"):
        build_policy("linucb", {}, one, n_features=4, random_state=0, reward_range=(0.0, 1.0))
    with pytest.raises(InputError, match=r"reward range must be two finite numbers low < high"):
        build_policy("ucb1", {}, singles(3), n_features=4, random_state=0, reward_range=(1.0, 1.0))


def test_fixed_plans_and_uniform():
    space = PlanSpace.from_config(["lexical", "dense"], 100, {})
    single = build_policy("single:dense", {}, space,
                          n_features=2, random_state=0, reward_range=(0, 1))
    union = build_policy("static_union", {}, space,
                         n_features=2, random_state=0, reward_range=(0, 1))
    assert single.choose(np.ones(2)) == (1, 1.0) and single.name == "single:dense"
    assert union.choose(np.ones(2)) == (2, 1.0)
    plans, props = run_stationary("uniform", seed=3)
    assert (props == 0.2).all()
    assert abs(np.mean(plans[-400:] == 2) - 0.2) < 0.06


@pytest.mark.parametrize("name", LEARNERS + ["uniform"])
def test_same_seed_same_run_other_seed_other_run(name):
    a_plans, a_props = run_stationary(name, seed=5, steps=300)
    b_plans, b_props = run_stationary(name, seed=5, steps=300)
    np.testing.assert_array_equal(a_plans, b_plans)
    np.testing.assert_array_equal(a_props, b_props)
    assert ((a_props > 0) & (a_props <= 1)).all()
    if name not in ("linucb",):  # LinUCB is deterministic given the rewards
        c_plans, _ = run_stationary(name, seed=6, steps=300)
        assert not np.array_equal(a_plans, c_plans)


@pytest.mark.parametrize("name", LEARNERS)
def test_learners_find_the_best_plan(name):
    plans, _ = run_stationary(name, seed=0)
    assert np.mean(plans[-400:] == 2) > 0.8


@pytest.mark.parametrize("name", ["epsilon_greedy", "exp3", "ucb1", "semibandit",
                                  "lin_epsilon_greedy", "uniform"])
def test_exact_propensities_sum_to_one_and_match_the_choice(name):
    policy = build_policy(name, {}, singles(4),
                          n_features=2, random_state=11, reward_range=(0.0, 2.0))
    env = np.random.default_rng(0)
    for _ in range(300):
        x = np.array([env.random(), 1.0])
        probs = policy.probabilities(x)
        plan, prop = policy.choose(x)
        assert probs.sum() == pytest.approx(1.0)
        assert prop == pytest.approx(probs[plan]) and prop > 0
        reward = 2.0 * float(env.random() < 0.2 + 0.2 * plan)
        policy.update(x, plan, reward, {f"a{plan}": reward})


def test_epsilon_greedy_propensity_values_and_random_tie_rule():
    policy = build_policy("epsilon_greedy", {"epsilon": 0.2}, singles(4),
                          n_features=1, random_state=0, reward_range=(0.0, 1.0))
    x = np.ones(1)
    assert policy.probabilities(x).tolist() == [0.25] * 4  # obp explores until all are tried
    for plan, reward in [(0, 1.0), (1, 1.0), (2, 0.0), (3, 0.0)]:
        policy.update(x, plan, reward)
    probs = policy.probabilities(x)  # plans 0 and 1 tie on the best mean: they share it
    assert probs.tolist() == pytest.approx([0.45, 0.45, 0.05, 0.05])
    picks = np.array([policy.choose(x)[0] for _ in range(4000)])
    freqs = np.bincount(picks, minlength=4) / 4000
    np.testing.assert_allclose(freqs, probs, atol=0.025)  # the choices follow the numbers


def test_exp3_probabilities_follow_its_weights():
    policy = build_policy("exp3", {"gamma": 0.3}, singles(3),
                          n_features=1, random_state=0, reward_range=(0.0, 1.0))
    x = np.ones(1)
    np.testing.assert_allclose(policy.probabilities(x), [1 / 3] * 3)
    policy.update(x, 0, 1.0)  # weight of plan 0 grows by exp(0.3 * 1 / (1/3 * 3)) = e^0.3
    w = np.array([np.exp(0.3), 1.0, 1.0])
    np.testing.assert_allclose(policy.probabilities(x), 0.7 * w / w.sum() + 0.1)


def thompson_with_counts(counts: list[tuple[int, int, int]], **params):
    """A thompson policy whose obp model saw ``trials`` rewards of plan ``plan``, ``successes``
    of them 1."""
    policy = build_policy("thompson", params, singles(len(counts)),
                          n_features=1, random_state=0, reward_range=(0.0, 1.0))
    for plan, successes, trials in counts:
        for i in range(trials):
            policy.model.update_params(action=plan, reward=float(i < successes))
    return policy


def test_thompson_propensity_is_the_probability_of_obps_choice():
    policy = thompson_with_counts([(0, 3, 6), (1, 4, 6), (2, 1, 6)])
    x = np.ones(1)
    probs = policy.probabilities(x)
    picks = np.bincount([policy.model.select_action()[0] for _ in range(20000)], minlength=3)
    np.testing.assert_allclose(probs, picks / 20000, atol=0.015)  # obp's choices follow it
    for _ in range(20):
        plan, prop = policy.choose(x)
        assert prop == pytest.approx(probs[plan], abs=1e-10)


def test_thompson_propensities_match_a_million_posterior_draws():
    """A late, peaked state (thousands of plays) next to barely tried plans: the propensity
    of every plan, rare ones included, is its share of a million draws."""
    counts = [(0, 2700, 5000), (1, 2660, 5000), (2, 1300, 2500), (3, 2, 5), (4, 0, 1),
              (5, 1, 40), (6, 2500, 5000), (7, 9, 17)]
    policy = thompson_with_counts(counts)
    a = policy.model.reward_counts + 1.0
    b = policy.model.action_counts - policy.model.reward_counts + 1.0
    rng = np.random.default_rng(0)
    wins = sum(np.bincount(rng.beta(a, b, size=(100_000, 8)).argmax(axis=1), minlength=8)
               for _ in range(10))
    shares = wins / 1_000_000
    probs = policy.probabilities(np.ones(1))
    np.testing.assert_allclose(probs, shares, atol=1e-3, rtol=0)
    assert (np.abs(probs - shares) <= 5 * np.sqrt(probs * (1 - probs) / 1e6) + 1e-6).all()
    assert probs.min() < 0.01  # the check covers rare plans
    for _ in range(20):
        plan, prop = policy.choose(np.ones(1))
        assert prop == pytest.approx(probs[plan], abs=1e-10)


def test_propensities_draw_nothing_from_the_policy_rng():
    """Asking for probabilities does not change the policy's decisions."""
    def decisions(name: str, ask: bool) -> list[int]:
        policy = build_policy(name, {}, singles(4),
                              n_features=2, random_state=3, reward_range=(0.0, 1.0))
        env = np.random.default_rng(0)
        plans = []
        for _ in range(200):
            x = np.array([env.random(), 1.0])
            if ask:
                state = policy.rng.bit_generator.state
                assert policy.probabilities(x).sum() == pytest.approx(1.0, abs=1e-12)
                assert policy.rng.bit_generator.state == state
            plan, _ = policy.choose(x)
            policy.update(x, plan, float(env.random() < 0.2 + 0.2 * plan))
            plans.append(plan)
        return plans

    for name in ("thompson", "lints"):
        assert decisions(name, ask=True) == decisions(name, ask=False)


def test_thompson_learns_from_capped_rewards():
    """Agrawal-Goyal: a reward becomes a success with probability min(max(r, 0), cap) / cap."""
    def success_rate(reward: float, **params) -> float:
        policy = build_policy("thompson", params, singles(2),
                              n_features=1, random_state=0, reward_range=(-1.0, 10.0))
        for _ in range(2000):
            policy.update(np.ones(1), 0, reward)
        assert set(np.unique(policy.model.reward_counts)) <= set(range(2001))
        return policy.model.reward_counts[0] / 2000

    assert success_rate(3.0) == 1.0  # a page with clicks is a success at the default cap 1
    assert success_rate(0.4) == pytest.approx(0.4, abs=0.03)  # one click minus a cost of 0.6
    assert success_rate(-0.5) == 0.0  # cost more than it earned
    assert success_rate(3.0, reward_cap=10.0) == pytest.approx(0.3, abs=0.03)


def test_lints_draws_match_obp_lints_and_its_propensity():
    space = singles(3)
    policy = build_policy("lints", {"v": 1.0}, space,
                          n_features=2, random_state=0, reward_range=(0, 1))
    env = np.random.default_rng(2)
    for _ in range(30):
        x = np.array([env.random(), 1.0])
        plan = int(env.integers(3))
        policy.update(x, plan, float(env.random() < 0.3 + 0.2 * plan))
    x = np.array([0.5, 1.0])
    obp_freqs = np.bincount([policy.model.select_action(x[None, :])[0] for _ in range(4000)],
                            minlength=3) / 4000
    ours = np.bincount([policy.choose(x)[0] for _ in range(4000)], minlength=3) / 4000
    probs = policy.probabilities(x)
    np.testing.assert_allclose(ours, obp_freqs, atol=0.04)
    np.testing.assert_allclose(probs, obp_freqs, atol=0.04)
    np.testing.assert_allclose(probs, ours, atol=0.03)
    plan, prop = policy.choose(x)
    assert prop == pytest.approx(probs[plan], abs=1e-10)


def test_lints_propensities_match_a_million_score_draws():
    """16 plans after a short run: the score distributions overlap; rare plans included."""
    policy = build_policy("lints", {}, singles(16),
                          n_features=3, random_state=0, reward_range=(0.0, 1.0))
    env = np.random.default_rng(5)
    for _ in range(300):
        x = np.array([env.random(), env.random(), 1.0])
        plan = int(env.integers(16))
        policy.update(x, plan, float(env.random() < 0.1 + 0.05 * plan * x[0]))
    x = np.array([0.7, 0.2, 1.0])
    mean, variance = policy.estimates(x)
    rng = np.random.default_rng(1)
    wins = sum(np.bincount((mean + np.sqrt(variance) * rng.standard_normal((100_000, 16)))
                           .argmax(axis=1), minlength=16) for _ in range(10))
    shares = wins / 1_000_000
    probs = policy.probabilities(x)
    np.testing.assert_allclose(probs, shares, atol=1e-3, rtol=0)
    assert (np.abs(probs - shares) <= 5 * np.sqrt(probs * (1 - probs) / 1e6) + 1e-6).all()
    assert probs.min() < 0.01  # the check covers rare plans


def test_lints_zero_context_is_a_tie_of_point_masses():
    """At x = 0 every plan's score is exactly 0: a uniform tie, logged as 1/K."""
    policy = build_policy("lints", {}, singles(4),
                          n_features=2, random_state=0, reward_range=(0.0, 1.0))
    policy.update(np.array([1.0, 1.0]), 2, 1.0)
    assert policy.probabilities(np.zeros(2)).tolist() == [0.25] * 4
    picks = [policy.choose(np.zeros(2)) for _ in range(400)]
    assert {prop for _, prop in picks} == {0.25}
    assert {plan for plan, _ in picks} == {0, 1, 2, 3}


def test_linear_policies_decide_as_obp_would():
    """LinUCB's vectorised scores pick obp's choice; LinEpsilonGreedy's numbers match its picks."""
    space = singles(4)
    ucb = build_policy("linucb", {"alpha": 0.7}, space,
                       n_features=3, random_state=0, reward_range=(0, 1))
    greedy = build_policy("lin_epsilon_greedy", {"epsilon": 0.3}, space,
                          n_features=3, random_state=0, reward_range=(0, 1))
    env = np.random.default_rng(4)
    for step in range(200):
        x = np.array([env.random(), env.random(), 1.0])
        plan = int(env.integers(4))
        reward = float(env.random() < 0.2 * plan + 0.3 * x[0])
        ucb.update(x, plan, reward)
        greedy.update(x, plan, reward)
        if step >= 20:  # every plan updated: no exact ties left
            assert ucb.choose(x) == (int(ucb.model.select_action(x[None, :])[0]), 1.0)
    x = np.array([0.9, 0.1, 1.0])
    picks = np.bincount([greedy.choose(x)[0] for _ in range(4000)], minlength=4) / 4000
    probs = greedy.probabilities(x)
    assert sorted(probs) == pytest.approx([0.075, 0.075, 0.075, 0.775])
    np.testing.assert_allclose(picks, probs, atol=0.025)
    assert probs.argmax() == np.argmax([x @ greedy.model.A_inv[k] @ greedy.model.b[:, k]
                                        for k in range(4)])  # obp's rule, plan by plan


def test_cold_start_ties_are_broken_at_random():
    policy = build_policy("linucb", {}, singles(4),
                          n_features=2, random_state=0, reward_range=(0, 1))
    assert policy.choose(np.array([0.5, 1.0]))[1] == 0.25
    firsts = {build_policy("linucb", {}, singles(4),
                           n_features=2, random_state=seed,
                           reward_range=(0, 1)).choose(np.ones(2))[0]
              for seed in range(20)}
    assert firsts == {0, 1, 2, 3}


def test_contextual_policies_beat_every_non_contextual_one():
    """The best plan is 0 when the context bit is 0 and 1 when it is 1."""
    def second_half_reward(name: str, seed: int) -> float:
        policy = build_policy(name, {}, singles(5),
                              n_features=3, random_state=seed, reward_range=(0.0, 1.0))
        env = np.random.default_rng(100 + seed)
        rewards = []
        for _ in range(2000):
            bit = int(env.integers(2))
            x = np.array([bit, 1 - bit, 1.0])
            plan, _ = policy.choose(x)
            reward = float(env.random() < (0.8 if plan == bit else 0.3))
            policy.update(x, plan, reward, {f"a{plan}": reward})
            rewards.append(reward)
        return float(np.mean(rewards[1000:]))

    best_context_free = max(second_half_reward(name, 0) for name in NON_CONTEXTUAL)
    assert best_context_free < 0.62  # 0.55 at best without the context
    for name in ("linucb", "lints"):
        assert second_half_reward(name, 0) > best_context_free + 0.1


def test_oracle_picks_argmax_truth_uniformly_among_ties():
    oracle = build_policy("oracle", {}, singles(4),
                          n_features=1, random_state=0, reward_range=(0.0, 1.0))
    assert oracle.uses_truth
    tied = np.array([0.1, 0.7, 0.2, 0.7])
    picks = np.bincount([oracle.choose(np.ones(1), truth=tied)[0] for _ in range(2000)],
                        minlength=4)
    assert picks[[0, 2]].sum() == 0 and abs(picks[1] - 1000) < 120  # not the first listed
    assert oracle.choose(np.ones(1), truth=tied)[1] == 0.5
    env = np.random.default_rng(0)
    for _ in range(50):
        truth = env.random(4)
        assert oracle.choose(np.ones(1), truth=truth) == (int(np.argmax(truth)), 1.0)
    with pytest.raises(ValueError, match="needs truth"):
        oracle.choose(np.ones(1))


def test_semibandit_learns_the_arm_with_more_credit():
    """Credit per (arm, depth): arm a earns most, and drawing it deeper earns more.

    Credits are 0/1 per arm, so the reward range given is (0, 1), the range of one credit.
    """
    space = PlanSpace.from_config(["a", "b", "c"], 90, {"equal_splits": [2]})
    rate = {"a": {90: 0.8, 45: 0.5, 30: 0.35}, "b": {90: 0.3, 45: 0.2, 30: 0.15},
            "c": {90: 0.2, 45: 0.1, 30: 0.1}}
    policy = build_policy("semibandit", {}, space,
                          n_features=1, random_state=0, reward_range=(0.0, 1.0))
    env = np.random.default_rng(0)
    picks = []
    for _ in range(2000):
        plan, _ = policy.choose(np.ones(1))
        credit = {arm: float(env.random() < rate[arm][depth]) for arm, depth in space[plan].depths}
        policy.update(np.ones(1), plan, sum(credit.values()), credit)
        picks.append(plan)
    assert np.mean(np.array(picks[-400:]) == space.index("a:90")) > 0.8
    a90 = policy.base_arms.index(("a", 90))
    assert policy.sums[a90] / policy.counts[a90] == pytest.approx(0.8, abs=0.05)


def test_semibandit_charges_plan_costs_through_its_residual():
    """Two arms with equal credit; the union costs 1.0 more: the policy leaves it."""
    space = PlanSpace.from_config(["a", "b"], 10, {})
    policy = build_policy("semibandit", {}, space,
                          n_features=1, random_state=0, reward_range=(-1.0, 2.0))
    env = np.random.default_rng(0)
    union = space.index("a:5+b:5")
    picks = []
    for _ in range(1500):
        plan, _ = policy.choose(np.ones(1))
        credit = {arm: float(env.random() < 0.4) for arm, _ in space[plan].depths}
        cost = 1.0 if plan == union else 0.0
        policy.update(np.ones(1), plan, sum(credit.values()) - cost, credit)
        picks.append(plan)
    assert np.mean(np.array(picks[-300:]) == union) < 0.1


def test_every_policy_is_registered_with_its_name():
    for name in POLICIES:
        assert policy_class(name).name == name


def test_reward_units_raw_or_capped():
    """UCB-style and linear policies learn in clicks; EXP3 (and Thompson, above) from
    min(max(reward, 0), reward_cap) / reward_cap, whatever the benchmark's reward range."""
    ucb = build_policy("ucb1", {}, singles(2),
                       n_features=1, random_state=0, reward_range=(-1.0, 9.0))
    ucb.update(np.ones(1), 0, 3.0)
    assert ucb.sums[0] == 3.0
    linucb = build_policy("linucb", {}, singles(2),
                          n_features=1, random_state=0, reward_range=(-1.0, 9.0))
    linucb.update(np.ones(1), 1, 3.0)
    assert linucb.model.b[0, 1] == 3.0
    exp3 = build_policy("exp3", {"gamma": 0.2}, singles(2),
                        n_features=1, random_state=0, reward_range=(-1.0, 9.0))
    exp3.update(np.ones(1), 0, 0.5)  # below the cap of 1: 0.5; probability 0.5 at the start
    assert exp3.log_weights[0] == pytest.approx(0.2 * 0.5 / (0.5 * 2))
    exp3.update(np.ones(1), 1, 4.0)  # above the cap: 1
    p1 = 0.8 * 1 / (1 + np.exp(0.1)) + 0.1
    assert exp3.log_weights[1] == pytest.approx(0.2 * 1.0 / (p1 * 2))
    before = exp3.log_weights.copy()
    exp3.update(np.ones(1), 0, -1.0)  # cost more than it earned: 0, no change
    np.testing.assert_array_equal(exp3.log_weights, before)
    wide = build_policy("exp3", {"gamma": 0.2, "reward_cap": 4.0}, singles(2),
                        n_features=1, random_state=0, reward_range=(-1.0, 9.0))
    wide.update(np.ones(1), 0, 2.0)  # 2 / 4
    assert wide.log_weights[0] == pytest.approx(0.2 * 0.5 / (0.5 * 2))


def test_best_single_is_the_single_arm_its_parameter_names():
    """``best_single`` tuned over ``arm`` is the best single arm on the tuning seeds; each
    setting is that arm alone at full budget, and an arm the benchmark lacks is refused."""
    space = PlanSpace.from_config(["lexical", "dense"], 10, {"single": True, "union": True})
    chosen = build_policy("best_single", {"arm": "dense"}, space,
                          n_features=2, random_state=0, reward_range=(0.0, 1.0))
    assert space.ids[chosen.choose(np.zeros(2))[0]] == "dense:10"
    assert build_policy("best_single", {}, space,
                        n_features=2, random_state=0, reward_range=(0.0, 1.0)).plan == 0
    with pytest.raises(InputError, match="policy 'best_single': unknown arm 'x'"):
        build_policy("best_single", {"arm": "x"}, space,
                     n_features=2, random_state=0, reward_range=(0.0, 1.0))
