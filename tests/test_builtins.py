"""Adding a built-in of each kind is one file plus one registry line (``docs/architecture.md``,
"Adding a built-in"): a toy policy, arm, ranker and click model (``ltrr_toy_builtins``), each
added by one entry in its kind's built-in table and nothing else, are then used end to end as
ltrr's own are: not wrapped or checked as outside code, named in messages, cached, compiled.
A second list that had to be edited too would leave the toy unknown, or treated as outside."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import ltrr_toy_builtins as toy
from ltrr.arms import BUILTIN_ARMS, build_arm
from ltrr.arms import REGISTRY as ARMS
from ltrr.errors import InputError
from ltrr.kernel.clicks import CLICK_MODELS
from ltrr.ranking.checked_ranker import ranker_factory
from ltrr.ranking.learned import BUILTIN_RANKERS, can_be_saved, check_ranker
from ltrr.ranking.training import TrainingRequest, train_ranker
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import POLICIES, build_policy, default_params, is_builtin
from ltrr.simulation.clicks import REGISTRY as CLICKS
from ltrr.simulation.clicks import describe_users, make_click_model
from ltrr.simulation.loop import LoopSettings, World, run_policy
from ltrr.simulation.stream import sample_stream
from worlds import text_dataset
from worlds import FakeArm, TopicFeaturizer, fake_dataset


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path))
    return tmp_path


def fake_world(clicks, length: int = 60) -> World:
    arms = {"lexical": FakeArm("lexical", set(range(7))), "dense": FakeArm("dense", {7, 8, 9})}
    space = PlanSpace.from_config(list(arms), 6, {"single": True, "union": True})
    return World(fake_dataset(), arms, space, LoopSettings(page=5, clicks=clicks), length)


def test_a_policy_is_its_class_plus_one_line(monkeypatch):
    # the one registry line, as it would stand in POLICIES
    monkeypatch.setitem(POLICIES, "round_robin", "ltrr_toy_builtins:RoundRobin")
    world = fake_world(make_click_model("pbm", "navigational"))
    assert is_builtin("round_robin") and default_params("round_robin") == {"stride": 1}
    policy = build_policy("round_robin", {"stride": 2}, world.plans, n_features=2,
                          random_state=0, reward_range=(0.0, 5.0))
    assert type(policy) is toy.RoundRobin  # ltrr's own: not wrapped as an outside policy
    assert policy.params == {"stride": 2}
    stream = sample_stream(world.topics, 60, 1.0, 0)
    trace = run_policy(world, policy, TopicFeaturizer(), stream, 0)
    n = len(world.plans)
    assert trace.plan.tolist() == [(2 * t) % n for t in range(60)]
    assert np.all(trace.propensity == 1.0)
    with pytest.raises(InputError, match="round_robin"):  # listed among the known names
        build_policy("round_robbin", None, world.plans, n_features=2, random_state=0,
                     reward_range=(0.0, 5.0))


def test_an_arm_is_its_class_plus_one_line(monkeypatch):
    monkeypatch.setitem(BUILTIN_ARMS, "word_overlap", "ltrr_toy_builtins:WordOverlapArm")
    assert ARMS.is_builtin("word_overlap") and ARMS.origin("word_overlap") is None
    arm = build_arm("word_overlap", text_dataset(), num_results=5)
    assert type(arm) is toy.WordOverlapArm  # not wrapped as an outside transformer
    ranking = arm.transform(pd.DataFrame({"qid": ["1"], "query": ["mountain rivers"]}))
    assert ranking[["docno", "score", "rank"]].values.tolist() == [["d2", 2.0, 0], ["d1", 1.0, 1]]
    assert arm.index_source == "built"
    again = build_arm("word_overlap", text_dataset())
    again.load()
    assert again.index_source == "cache"
    with pytest.raises(InputError, match="word_overlap"):
        build_arm("word_overlaps", text_dataset())


class Pools:
    """The training pools ``train_ranker`` reads: rows per topic and their labels."""

    def __init__(self, X: np.ndarray, group: np.ndarray, labels: np.ndarray) -> None:
        self.X, self.group, self._labels = X, group, labels

    def stacked(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X, self.group

    def labels(self, qrels) -> list[np.ndarray]:
        return [self._labels[self.group == g] for g in np.unique(self.group)]


def test_a_ranker_is_its_class_plus_one_line_and_cached_by_its_declared_format(monkeypatch):
    monkeypatch.setitem(BUILTIN_RANKERS, "least_squares", "ltrr_toy_builtins:LeastSquares")
    assert check_ranker("least_squares", outside=False) == "least_squares"
    make = ranker_factory("least_squares")
    assert make is toy.LeastSquares and can_be_saved(make)  # not wrapped: ltrr's own
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X @ np.array([2.0, -1.0]) > 0).astype(int)
    group = np.repeat(np.arange(4), 10)
    request = TrainingRequest(mode="qrels", pools={"train": Pools(X, group, y)},
                              train=SimpleNamespace(qrels=None, source="toy qrels"), valid=None,
                              spec=SimpleNamespace(names=["a", "b"]), priors=None,
                              key={"dataset": "toy"}, name="toy-ranker", ranker=make)
    model, info = train_ranker(request)
    assert info["source"] == "trained" and info["rows"] == 40 and info["labels"] == "toy qrels"
    cached, info = train_ranker(request)
    assert info["source"] == "cache" and type(cached) is toy.LeastSquares
    np.testing.assert_array_equal(cached.score(X), model.score(X))


def test_an_outside_ranker_that_declares_its_format_is_cached_by_the_same_rule(tmp_path,
                                                                            monkeypatch):
    """The one caching rule whatever the class: the same toy named by import path (an outside
    ranker, its scores checked) is cached too, under a key holding its source file's hash."""
    monkeypatch.setenv("LTRR_HOME", str(tmp_path))
    make = ranker_factory("ltrr_toy_builtins:LeastSquares")
    assert make is not toy.LeastSquares and can_be_saved(make)  # wrapped, and saved all the same
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    y = (X @ np.array([1.0, 2.0]) > 0).astype(int)
    group = np.repeat(np.arange(4), 10)
    request = TrainingRequest(mode="qrels", pools={"train": Pools(X, group, y)},
                              train=SimpleNamespace(qrels=None, source="toy qrels"), valid=None,
                              spec=SimpleNamespace(names=["a", "b"]), priors=None,
                              key={"dataset": "toy"}, name="outside-ranker", ranker=make)
    model, info = train_ranker(request)
    assert info["source"] == "trained"
    cached, info = train_ranker(request)
    assert info["source"] == "cache" and type(cached.model) is toy.LeastSquares
    np.testing.assert_array_equal(cached.score(X), model.score(X))
    (saved,) = (tmp_path / "rankers").glob("outside-ranker-*.json")
    assert json.loads(saved.read_text())["key"]["code"] == make.source_sha1
    make.source_sha1 = "0" * 12  # the plugin's file changed: another key, trained again
    assert train_ranker(request)[1]["source"] == "trained"


def test_a_click_model_is_its_class_plus_one_line(monkeypatch):
    monkeypatch.setitem(CLICK_MODELS, "attentive", "ltrr_toy_builtins:AttentiveReader")
    assert CLICKS.is_builtin("attentive") and CLICKS.origin("attentive") is None
    users = make_click_model("attentive", "perfect")
    assert type(users) is toy.AttentiveReader and describe_users(users) == "attentive/perfect"
    page = np.array([4, 3, 2, 1, 0])
    np.testing.assert_allclose(users.expected_clicks(page), [1.0, 0.8, 0.4, 0.2, 0.0])
    clicks = np.array([users.sample(page, np.random.default_rng(s)) for s in range(2000)])
    np.testing.assert_allclose(clicks.mean(axis=0), [1.0, 0.8, 0.4, 0.2, 0.0], atol=0.04)
    world = fake_world(users)  # a built-in runs compiled: its code and arrays in the tables
    assert world.tables.click[0] == toy.PBM
    np.testing.assert_allclose(world.expected_reward(page[None, :]), [2.4])
    with pytest.raises(InputError, match="attentive"):
        make_click_model("attentives", "perfect")
