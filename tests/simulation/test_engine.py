"""The compiled run loop against the per-step loop, and numbers that do not move with the
last bit of a float or with another arm's lists.

A small music world (400 entities, documents released during the stream, the memory arm
online) is played by every built-in policy on both paths: the traces must be identical,
array for array. Then the world is rebuilt with an arm whose scores differ in their last
bits (float32 ulps), or with another arm's lists changed, and the numbers are compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.experiments.benchmark import load_benchmark
from ltrr.experiments.cell_runner import reward_range
from ltrr.experiments.runner import prepare
from ltrr.selection.policies import POLICIES, build_policy, uses_training
from ltrr.simulation.loop import run_policy
from ltrr.simulation.stream import sample_stream
from ltrr.simulation.world import World

MUSIC = """
[benchmark]
name = "engine"
version = "1"
dataset = "ltrr:music?size=400&seed=3"
seeds = [0]

[arms]
names = ["lexical", "memory", "fuzzy", "structured"]

[plans]
budget = 12
single = true
equal_splits = [2]
union = true

[features]
groups = {groups}
{probe}

[stream]
length = 600
new_release_days = 60

[clicks]
model = "{clicks}"
params = "navigational"

[ranking]
fusion = "{fusion}"
k = 60
page = 5

[cost]
per_candidate = 0.01
per_arm_call = 0.05
sources = {{ per_candidate = "a test's price", per_arm_call = "a test's price" }}

[[policies]]
name = "static_union"
"""
FIELDS = ("plan", "propensity", "reward", "clicks_total", "expected", "recall", "any_relevant",
          "n_relevant", "shown", "clicks", "drawn", "contexts", "cost")


def world_of(tmp_path, clicks="pbm", fusion="rrf", probe=False):
    groups = '["query", "idf", "memory", "context", "post_retrieval"]' if probe else \
        '["query", "idf", "memory", "context"]'
    path = tmp_path / f"engine-{clicks}-{fusion}-{probe}.toml"
    path.write_text(MUSIC.format(groups=groups, probe="probe_depth = 4" if probe else "",
                                 clicks=clicks, fusion=fusion))
    benchmark = load_benchmark(path)
    return benchmark, prepare(benchmark)


def every_policy(world) -> list[str]:
    """Every built-in but those that learn from training topics first (this stream asks all
    the topics; tests/selection/test_router.py compares their two paths)."""
    return ["single:fuzzy", *[n for n in POLICIES if n != "lin_epsilon_greedy"
                              and not uses_training(n)], "lin_epsilon_greedy"]


def play(world, featurizer, name: str, seed: int, length: int, per_step: bool, zipf=1.0):
    policy = build_policy(name, {}, world.plans,
                          n_features=featurizer.dim, random_state=seed,
                          reward_range=reward_range(world))
    stream = sample_stream(world.topics, length, zipf, seed)
    return run_policy(world, policy, featurizer, stream, seed, per_step=per_step)


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    return world_of(tmp_path_factory.mktemp("engine"))


def assert_same(a, b) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.list_hashes == b.list_hashes


def test_compiled_runs_equal_per_step_runs_for_every_policy(music):
    benchmark, (world, featurizer, _) = music
    assert world.memory is not None  # the memory arm runs compiled
    for name in every_policy(world):
        compiled = play(world, featurizer, name, 5, 600, per_step=False)
        stepped = play(world, featurizer, name, 5, 600, per_step=True)
        assert_same(compiled, stepped)


@pytest.mark.parametrize("clicks,fusion,probe", [("cascade", "combsum", False),
                                                 ("dcm", "rrf", True)])
def test_compiled_equals_per_step_under_other_settings(tmp_path, clicks, fusion, probe):
    _, (world, featurizer, _) = world_of(tmp_path, clicks, fusion, probe)
    for name in ("linucb", "thompson", "semibandit", "oracle"):
        assert_same(play(world, featurizer, name, 2, 400, per_step=False),
                    play(world, featurizer, name, 2, 400, per_step=True))


def test_runs_of_a_seed_share_its_truths_without_changing_them(tmp_path):
    """A run played after others of its seed (their cached static truths) equals the same
    run played first, in a world of its own."""
    _, (world, featurizer, _) = world_of(tmp_path)
    for name in ("uniform", "ucb1", "static_union"):
        play(world, featurizer, name, 1, 500, per_step=False)
    after = play(world, featurizer, "linucb", 1, 500, per_step=False)
    _, (fresh_world, fresh_featurizer, _) = world_of(tmp_path)
    alone = play(fresh_world, fresh_featurizer, "linucb", 1, 500, per_step=False)
    assert_same(after, alone)


def test_tuning_runs_decide_as_reported_runs_without_propensities(music):
    _, (world, featurizer, _) = music
    for name in ("thompson", "lints"):
        stream = sample_stream(world.topics, 300, 1.0, 4)
        runs = []
        for propensity in (True, False):
            policy = build_policy(name, {}, world.plans,
                                  n_features=featurizer.dim, random_state=4,
                                  reward_range=reward_range(world))
            runs.append(run_policy(world, policy, featurizer, stream, 4, propensity=propensity))
        np.testing.assert_array_equal(runs[0].plan, runs[1].plan)
        np.testing.assert_array_equal(runs[0].reward, runs[1].reward)
        assert np.isnan(runs[1].propensity).all() and (runs[0].propensity > 0).all()


class Perturbed:
    """An arm's lists with every score moved by ``ulps`` float32 ulps, and ties listed in
    reverse: what another library build or CPU might give for the same ranking."""

    def __init__(self, arm, ulps: int) -> None:
        self.arm, self.ulps = arm, ulps
        self.name, self.dataset = arm.name, arm.dataset
        self.num_results = arm.num_results

    @property
    def cache_key(self) -> str:
        return f"{self.arm.cache_key}|perturbed{self.ulps}"

    def with_depth(self, k: int):
        self.arm.with_depth(k)
        self.num_results = k
        return self

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        from ltrr.kernel.ties import round_scores

        res = self.arm.transform(queries)
        exact = round_scores(res["score"].to_numpy())  # scores on the 6-digit grid
        moved = exact.astype(np.float32)
        for _ in range(abs(self.ulps)):
            moved = np.nextafter(moved, np.float32(np.inf if self.ulps > 0 else -np.inf))
        res = res.assign(score=moved.astype(float), _key=exact, _d=res["docno"])
        # the same ranking, ties in the opposite docno order
        res = res.sort_values(["qid", "_key", "_d"], ascending=[True, False, False])
        res["rank"] = res.groupby("qid").cumcount()
        return res.drop(columns=["_key", "_d"]).reset_index(drop=True)


def rebuilt(world, arm: str, ulps: int) -> World:
    arms = dict(world.arms)
    arms[arm] = Perturbed(world.arms[arm], ulps)
    return World(world.dataset, arms, world.plans, world.settings, world.stream_length,
                 world.topics)


def test_scores_differing_in_the_last_bits_give_identical_lists_and_runs(music):
    """The fuzzy arm's scores a float32 ulp up, or down, with its ties listed the other way
    round: the world's lists and every run's numbers are the same."""
    _, (world, featurizer, _) = music
    base = rebuilt(world, "fuzzy", 0)
    for ulps in (1, -1, 3):
        other = rebuilt(world, "fuzzy", ulps)
        for name in ("s_ids", "s_scores", "s_off"):
            np.testing.assert_array_equal(getattr(base.tables, name),
                                          getattr(other.tables, name), err_msg=name)
        assert base.list_hashes == other.list_hashes
        for policy in ("static_union", "linucb", "oracle"):
            assert_same(play(base, featurizer, policy, 3, 400, per_step=False),
                        play(other, featurizer, policy, 3, 400, per_step=False))


def test_a_single_arm_run_does_not_move_when_another_arms_lists_change(music):
    """single:fuzzy's pages, clicks, rewards, recall and nDCG are the same whether the
    structured arm's lists are its own or another arm's (the lexical arm's, renamed): only
    the numbers that compare every plan (regret, the oracle) may move."""
    from ltrr.evaluation.metrics import run_metrics

    _, (world, featurizer, _) = music
    arms = dict(world.arms)
    swapped = World(world.dataset, {**arms, "structured": Renamed(arms["lexical"], "structured")},
                    world.plans, world.settings, world.stream_length, world.topics)
    assert swapped.list_hashes["structured"] != world.list_hashes["structured"]
    a = play(world, featurizer, "single:fuzzy", 6, 500, per_step=False)
    b = play(swapped, featurizer, "single:fuzzy", 6, 500, per_step=False)
    shown_a = world.vocab.docnos[np.maximum(a.shown, 0)]
    shown_b = swapped.vocab.docnos[np.maximum(b.shown, 0)]
    np.testing.assert_array_equal(np.where(a.shown >= 0, shown_a, ""),
                                  np.where(b.shown >= 0, shown_b, ""))
    for name in ("clicks", "reward", "recall", "any_relevant", "n_relevant"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    ma, _, _ = run_metrics(a, world)
    mb, _, _ = run_metrics(b, swapped)
    for name in ("reward", "clicks", "candidate_recall", "any_relevant", "ndcg@10",
                 "expected_reward", "candidates_drawn", "cost"):
        assert ma[name] == mb[name], name


class Renamed:
    """Another arm's lists under this arm's name."""

    def __init__(self, arm, name: str) -> None:
        self.arm, self.name, self.dataset = arm, name, arm.dataset
        self.num_results = arm.num_results

    @property
    def cache_key(self) -> str:
        return f"{self.arm.cache_key}|as-{self.name}"

    def with_depth(self, k: int):
        self.arm.with_depth(k)
        self.num_results = k
        return self

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        return self.arm.transform(queries)
