"""The interaction loop on a tiny fake world: truths, oracle, learning, memory, determinism.

The fake world has 10 topics and two static arms: ``lexical`` finds the relevant
documents of topics 0-6, ``dense`` those of topics 7-9 (each returns the other topics'
relevant documents nowhere). A memory arm stub returns previously clicked documents.
"""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.evaluation.metrics import run_metrics
from ltrr.kernel.clicks import PositionBasedModel
from ltrr.selection.policies import build_policy
from ltrr.simulation.loop import run_policy
from ltrr.simulation.stream import sample_stream
from worlds import TopicFeaturizer, make_world



@pytest.fixture(scope="module")
def world():
    return make_world()


def play(world, name: str, seed: int = 0, length: int = 400):
    policy = build_policy(name, {}, world.plans,
                          n_features=2, random_state=seed, reward_range=(0.0, 5.0))
    stream = sample_stream(world.topics, length, 1.0, seed)
    return run_policy(world, policy, TopicFeaturizer(), stream, seed)


def test_truths_match_the_world(world):
    trace = play(world, "single:lexical", length=200)
    lexical = world.plan_ids.index("lexical:6")
    dense = world.plan_ids.index("dense:6")
    good_for_lexical = trace.topic < 7
    # the lexical plan finds every relevant doc of topics 0-6 and none of 7-9
    assert np.all(trace.recall[good_for_lexical] == 1.0)
    assert np.all(trace.recall[~good_for_lexical] == 0.0)
    exp = trace.expected
    assert np.all(exp[good_for_lexical, lexical] > exp[good_for_lexical, dense])
    assert np.all(exp[~good_for_lexical, dense] > exp[~good_for_lexical, lexical])
    # navigational PBM on grades (3,2,1) mapped to 0..4 = (4,3,1) at the top of the page
    click = PositionBasedModel("navigational")
    top = np.array([4, 3, 1, 0, 0])
    assert exp[np.flatnonzero(good_for_lexical)[0], lexical] == pytest.approx(
        click.expected_total(top))


def test_oracle_has_zero_regret(world):
    trace = play(world, "oracle")
    metrics, _, _ = run_metrics(trace, world)
    assert metrics["regret_oracle"] == 0.0
    assert metrics["candidate_recall"] == 1.0
    assert metrics["regret_best_fixed"] < 0  # it beats every fixed plan on this world


def test_learning_policy_regret_is_sublinear(world):
    trace = play(world, "linucb", length=600)
    metrics, curves, _ = run_metrics(trace, world)
    assert metrics["regret_oracle_second_half"] < metrics["regret_oracle_first_half"]
    assert curves["regret_oracle"][-1] == pytest.approx(metrics["regret_oracle"])


def test_single_arm_regret_grows_linearly(world):
    metrics, _, _ = run_metrics(play(world, "single:lexical", length=600), world)
    first, second = metrics["regret_oracle_first_half"], metrics["regret_oracle_second_half"]
    assert second == pytest.approx(first, rel=0.35)
    assert metrics["regret_best_fixed"] == pytest.approx(0.0, abs=1e-9)


def test_same_seed_same_numbers(world):
    a, _, _ = run_metrics(play(world, "thompson", seed=3), world)
    b, _, _ = run_metrics(play(world, "thompson", seed=3), world)
    c, _, _ = run_metrics(play(world, "thompson", seed=4), world)
    assert a == b
    assert a != c


def test_memory_arm_learns_from_clicks():
    world = make_world(memory=True)
    memory_only = world.plan_ids.index("memory:6")
    trace = play(world, "single:memory", length=300)
    # memory alone starts empty (nothing to show) and never gets clicks to learn from
    assert trace.clicks_total.sum() == 0
    trace = play(world, "static_union", length=300)
    first_seen = {}
    for step, t in enumerate(trace.topic):
        first_seen.setdefault(int(t), step)
    later = [s for s in range(len(trace.topic)) if first_seen[int(trace.topic[s])] < s - 20]
    assert trace.expected[later, memory_only].mean() > 0.5  # it learned what users click
    assert trace.expected[[first_seen[t] for t in first_seen], memory_only].max() == 0.0


def test_decision_log_columns(world):
    from ltrr.decision_log import trace_decisions

    trace = play(world, "uniform", length=50)
    frame = trace_decisions(trace, world, TopicFeaturizer.names)
    assert list(frame.columns[:6]) == ["step", "timestamp", "qid", "query", "ctx_dense_topic",
                                       "ctx_bias"]
    assert set(frame["action"]) <= set(world.plan_ids)
    assert np.allclose(frame["propensity"], 1 / len(world.plan_ids))
    assert frame["action_set"].iloc[0].split("|") == world.plan_ids
    row = frame.iloc[0]
    assert len(row["shown"]) == len(row["clicks"]) == 5
    assert row["clicks_total"] == sum(row["clicks"])
    assert row["candidates_lexical"] + row["candidates_dense"] == 6 or row["action"] != "lexical:3+dense:3"


def test_cached_truths_equal_truths_computed_afresh(monkeypatch):
    """The loop keeps each topic's static plans per seed and release epoch; a run that
    recomputes every plan at every step (a cache that keeps nothing) gives the same trace."""
    from ltrr.simulation.truths import StaticCache

    world = make_world(memory=True)
    cached = play(world, "linucb", length=300)
    again = play(world, "linucb", length=300)  # a second run of the seed reuses its truths
    np.testing.assert_array_equal(cached.expected, again.expected)
    assert world.seed(0).cache.used[0] > 0
    empty = StaticCache.empty.__func__
    monkeypatch.setattr(StaticCache, "empty",
                        classmethod(lambda cls, n, capacity, *rest: empty(cls, n, 0, *rest)))
    fresh_world = make_world(memory=True)
    fresh = play(fresh_world, "linucb", length=300)
    assert fresh_world.seed(0).cache.used[0] == 0
    np.testing.assert_array_equal(cached.expected, fresh.expected)
    np.testing.assert_array_equal(cached.shown, fresh.shown)
    np.testing.assert_array_equal(cached.plan, fresh.plan)
    np.testing.assert_array_equal(cached.recall, fresh.recall)
