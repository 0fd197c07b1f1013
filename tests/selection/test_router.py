"""The supervised router and LinUCB warm-started: what they learn from (only training topics,
never a reported topic's qrels or query text), that the router picks the plan the training
says is best, its propensities, its determinism, the compiled loop against the per-step one,
the refusals, and the leaderboard's LinUCB-vs-router tests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import ltrr.datasets
from ltrr.cli import main
from ltrr.datasets.splits import text_keys
from ltrr.errors import InputError
from ltrr.experiments.benchmark import load_benchmark
from ltrr.experiments.cell_runner import reward_range
from ltrr.experiments.runner import prepare
from ltrr.results.leaderboard import comparisons, summary
from ltrr.selection.plans import Plan, PlanSpace
from ltrr.selection.policies import build_policy, uses_training
from ltrr.selection.policies.router import TrainingSet
from ltrr.simulation.loop import run_policy
from ltrr.simulation.stream import sample_stream

MUSIC = """
[benchmark]
name = "router"
dataset = "ltrr:music?size=400&seed=3"
seeds = [0, 1]

[arms]
names = ["lexical", "memory", "fuzzy", "structured"]

[plans]
budget = 12
single = true
equal_splits = [2]
union = true

[features]
groups = ["query", "idf", "memory", "context"]

[stream]
length = 300
new_release_days = 60
{split}

[clicks]
model = "pbm"
params = "navigational"

[ranking]
page = 5

[[policies]]
name = "uniform"

[[policies]]
name = "linucb"

[[policies]]
name = "router"

[[policies]]
name = "linucb_warm"
"""


def space(n: int) -> PlanSpace:
    arms = tuple(f"a{i}" for i in range(n))
    return PlanSpace(arms, 10, [Plan(f"a{i}:10", tuple((a, 10 if j == i else 0)
                                                        for j, a in enumerate(arms)))
                                for i in range(n)])


def synthetic(n_topics: int = 400, seed: int = 0) -> TrainingSet:
    """Three plans; plan 0 is best when feature 0 is high, plan 2 when it is low, plan 1
    never; feature 1 is noise, the last is the bias."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.random(n_topics), rng.random(n_topics), np.ones(n_topics)])
    values = np.column_stack([x[:, 0], np.full(n_topics, 0.3), 1 - x[:, 0]]) + 0.5
    return TrainingSet(tuple(f"t{i}" for i in range(n_topics)), ("f0", "f1", "bias"), x, values,
                       tuple(space(3).ids), {"source": "synthetic"})


def test_registered_as_policies_that_learn_first():
    assert uses_training("router") and uses_training("linucb_warm")
    assert not uses_training("linucb") and not uses_training("single:lexical")


def test_the_router_picks_the_plan_the_training_says_is_best():
    router = build_policy("router", {}, space(3),
                          n_features=3, random_state=0, reward_range=(0.0, 1.0)).fit(synthetic())
    for f0, best in ((0.95, 0), (0.8, 0), (0.2, 2), (0.05, 2)):
        for noise in (0.1, 0.9):
            plan, propensity = router.choose(np.array([f0, noise, 1.0]))
            assert (plan, propensity) == (best, 1.0), (f0, noise)
    # the compiled forest is LightGBM's own prediction
    X, y = router.examples(synthetic(50, seed=1))
    assert X.shape == (150, 3 + 6) and np.allclose(y.reshape(50, 3).sum(axis=1), 0)
    mine = np.concatenate([router.scores(x) for x in synthetic(50, seed=1).contexts])
    np.testing.assert_array_equal(mine, router.booster.predict(X, num_threads=1))


def test_propensities_ties_and_determinism():
    router = build_policy("router", {}, space(3),
                          n_features=3, random_state=7, reward_range=(0.0, 1.0)).fit(synthetic())
    x = np.array([0.9, 0.5, 1.0])
    probabilities = router.probabilities(x)
    plan, propensity = router.choose(x)
    assert probabilities.sum() == 1.0 and probabilities[plan] == propensity == 1.0
    # values that never differ between plans: every plan scores the same, ties go to the rng
    flat = synthetic()
    flat = replace(flat, values=np.ones_like(flat.values))

    def picks(seed: int) -> list[tuple[int, float]]:
        tied = build_policy("router", {}, space(3),
                            n_features=3, random_state=seed, reward_range=(0.0, 1.0)).fit(flat)
        assert np.allclose(tied.probabilities(x), 1 / 3)
        return [tied.choose(x) for _ in range(60)]

    first = picks(3)
    assert {p for _, p in first} == {1 / 3} and {plan for plan, _ in first} == {0, 1, 2}
    assert picks(3) == first and picks(4) != first  # seeded
    again = build_policy("router", {}, space(3),
                         n_features=3, random_state=7, reward_range=(0.0, 1.0)).fit(synthetic())
    assert again.booster.model_to_string() == router.booster.model_to_string()


def test_linucb_warm_starts_from_every_example_then_learns_as_linucb():
    training = synthetic(200)
    warm = build_policy("linucb_warm", {"alpha": 0.5}, space(3),
                        n_features=3, random_state=0, reward_range=(0.0, 1.0)).fit(training)
    cold = build_policy("linucb", {"alpha": 0.5}, space(3),
                        n_features=3, random_state=0, reward_range=(0.0, 1.0))
    for x, values in zip(training.contexts, training.values):
        for p, value in enumerate(values):
            cold.update(x, p, value)
    np.testing.assert_allclose(warm.model.A_inv, cold.model.A_inv, rtol=0, atol=1e-12)
    np.testing.assert_allclose(warm.model.b, cold.model.b, rtol=0, atol=1e-12)
    assert warm.choose(np.array([0.95, 0.5, 1.0]))[0] == 0
    assert warm.choose(np.array([0.05, 0.5, 1.0]))[0] == 2
    assert warm.model.n_trial == 600 and warm.training_info == {"source": "synthetic"}


def test_bad_params_untrained_use_and_mismatched_training():
    with pytest.raises(InputError, match="policy 'router': param 'leaves' must be an integer >= 2"):
        build_policy("router", {"leaves": 1}, space(3),
                     n_features=3, random_state=0, reward_range=(0.0, 1.0))
    with pytest.raises(InputError, match="param 'learning_rate' must be a number > 0"):
        build_policy("router", {"learning_rate": 0}, space(3),
                     n_features=3, random_state=0, reward_range=(0.0, 1.0))
    router = build_policy("router", {}, space(3),
                          n_features=3, random_state=0, reward_range=(0.0, 1.0))
    with pytest.raises(InputError, match="policy 'router' has not been trained"):
        router.choose(np.ones(3))
    with pytest.raises(ValueError, match="training contexts have 3 features, expected 4"):
        build_policy("router", {}, space(3),
                     n_features=4, random_state=0, reward_range=(0.0, 1.0)).fit(synthetic())
    with pytest.raises(ValueError, match="training values are for plans"):
        build_policy("linucb_warm", {}, space(4),
                     n_features=3, random_state=0, reward_range=(0.0, 1.0)).fit(synthetic())
    assert synthetic().select(["bias", "f0"]).contexts[0, 0] == 1.0
    with pytest.raises(KeyError, match="lack features"):
        synthetic().select(["f9"])


# -- on a small music world ----------------------------------------------------------------
def write(tmp_path, split: str = 'split = "test"') -> str:
    path = tmp_path / "router.toml"
    path.write_text(MUSIC.format(split=split))
    return str(path)


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("router"))
    return load_benchmark(path), prepare(load_benchmark(path))


def test_trained_on_training_topics_only_never_a_reported_one(music):
    benchmark, (world, featurizer, _) = music
    training = world.training[None]
    topics = ltrr.datasets.load(benchmark.dataset).topics
    train = topics[topics["split"] == "train"]
    assert training.qids == tuple(train["qid"]) and len(training.qids) == 141
    streamed = set(world.topics["qid"])
    assert len(streamed) == 259 and not streamed & set(training.qids)
    assert not set(text_keys(world.topics["query"])) & set(text_keys(train["query"]))
    assert training.names == tuple(featurizer.names)
    assert training.contexts.shape == (141, featurizer.dim)
    assert training.values.shape == (141, len(world.plan_ids))
    assert training.info["overlap"]["left_out"] == 0 and training.info["topics"] == 141
    assert (training.values.max(axis=1) > 0).mean() > 0.5  # the training qrels are read
    assert not training.contexts[:, [featurizer.names.index(n) for n in
                                     ("mem:seen", "mem:ctr", "mem:issues")]].any()  # cold


def test_the_reported_topics_qrels_never_reach_the_training(music, tmp_path, monkeypatch):
    """Judge every reported topic differently (its qrels reversed onto other documents): the
    examples the router learns from do not move by one bit."""
    benchmark, (world, _, _) = music
    load = ltrr.datasets.load

    def rejudged(dataset_id: str):
        dataset = load(dataset_id)
        qrels = dataset.qrels.copy()
        reported = qrels["qid"].isin(set(world.topics["qid"]))
        qrels.loc[reported, "docno"] = qrels.loc[reported, "docno"].to_numpy()[::-1]
        qrels.loc[reported, "label"] = 4 - qrels.loc[reported, "label"]
        return replace(dataset, qrels=qrels)

    monkeypatch.setattr(ltrr.datasets, "load", rejudged)
    other, _, _ = prepare(load_benchmark(benchmark.path))
    assert not np.array_equal(other.tables.g_val, world.tables.g_val)  # the stream did change
    before, after = world.training[None], other.training[None]
    assert after.qids == before.qids
    np.testing.assert_array_equal(after.contexts, before.contexts)
    np.testing.assert_array_equal(after.values, before.values)


def test_the_run_fits_the_router_on_those_examples_and_it_beats_uniform(music, monkeypatch):
    from ltrr.experiments.cell import Cell
    from ltrr.experiments.cell_runner import play
    from ltrr.selection.policies.router import Router

    benchmark, (world, featurizer, _) = music
    seen = []
    fit = Router.fit
    monkeypatch.setattr(Router, "fit", lambda self, training: seen.append(training) or
                        fit(self, training))
    rewards = {}
    for name in ("router", "uniform"):
        for seed in (0, 1):
            _, trace = play(world, featurizer, Cell(name, name, {}, seed, 2000), benchmark.zipf)
            rewards[name, seed] = trace.expected[np.arange(2000), trace.plan].mean()
    assert [t.qids for t in seen] == [world.training[None].qids] * 2
    for seed in (0, 1):
        assert rewards["router", seed] > rewards["uniform", seed] + 0.2


@pytest.mark.parametrize("name", ["router", "linucb_warm"])
def test_compiled_runs_equal_per_step_runs(music, name):
    _, (world, featurizer, _) = music
    stream = sample_stream(world.topics, 400, 1.0, 5)
    traces = []
    for per_step in (False, True):
        policy = build_policy(name, {}, world.plans,
                              n_features=featurizer.dim, random_state=5,
                              reward_range=reward_range(world))
        policy.fit(world.training[None])
        traces.append(run_policy(world, policy, featurizer, stream, 5, per_step=per_step))
    for field in ("plan", "propensity", "reward", "expected", "contexts", "shown"):
        np.testing.assert_array_equal(getattr(traces[0], field), getattr(traces[1], field))
    assert (traces[0].propensity > 0).all()


def test_a_stream_that_asks_training_topics_is_refused(tmp_path, capsys):
    path = write(tmp_path, split="")  # every topic, train ones included
    with pytest.raises(InputError) as err:
        prepare(load_benchmark(path))
    assert err.value.file == path and err.value.field == "stream.split"
    assert "policy 'router' learns from the training topics (split == 'train') before the " \
           "stream, and the stream asks 141 of them" in str(err.value)
    out = tmp_path / "out"
    assert main(["run", path, "--out", str(out), "--quiet"]) == 2
    assert f"{path}, field 'stream.split'" in capsys.readouterr().err and not out.exists()
    # without a policy that learns first, the same file runs
    assert prepare(_without_training(path)).world.training == {}


def _without_training(path: str):
    benchmark = load_benchmark(path)
    benchmark.policies = [p for p in benchmark.policies if not uses_training(p.name)]
    return benchmark


def test_a_dataset_without_training_topics_is_named(tmp_path):
    from worlds import make_tiny_beir

    folder = make_tiny_beir(tmp_path / "tiny")
    path = tmp_path / "tiny.toml"
    path.write_text(f"""
[benchmark]
name = "tiny"
dataset = "beir:{folder}"
seeds = [0]

[arms]
names = ["lexical", "fuzzy"]

[plans]
budget = 6
single = true
union = true

[features]
groups = ["query"]

[stream]
length = 20

[clicks]
model = "pbm"
params = "navigational"

[[policies]]
name = "router"
""")
    with pytest.raises(InputError) as err:
        prepare(load_benchmark(path))
    assert (err.value.file, err.value.field) == (str(path), "benchmark.dataset")
    assert "policy 'router' learns from the dataset's training topics: dataset " in str(err.value)
    assert "has no training topics" in str(err.value)


# -- the leaderboard -----------------------------------------------------------------------
def records_of(rows: dict) -> list[dict]:
    """Fake records: label -> (policy name, ranker, nDCG@10 per seed)."""
    out = []
    for label, (name, ranker, ndcgs) in rows.items():
        for seed, value in enumerate(ndcgs):
            metrics = {"reward": value, "candidate_recall": value, "ndcg@10": value}
            out.append({"policy": label, "policy_name": name, "seed": seed, "metrics": metrics,
                        "features": ["query"], "ranker": {"name": ranker}})
    return out


def test_the_leaderboard_tests_linucb_against_the_router_under_each_ranking():
    records = records_of({
        "static_union": ("static_union", "rrf", [0.50, 0.51, 0.52, 0.50]),
        "linucb": ("linucb", "rrf", [0.55, 0.57, 0.56, 0.58]),
        "lints": ("lints", "rrf", [0.60, 0.61, 0.62, 0.63]),
        "router": ("router", "rrf", [0.70, 0.71, 0.73, 0.72]),
        "linucb/qrels": ("linucb", "lm", [0.56, 0.58, 0.57, 0.59]),
        "router/qrels": ("router", "lm", [0.68, 0.69, 0.70, 0.67])})
    tests = comparisons(records, summary(records))
    pairs = list(dict.fromkeys((t["policy"], t["rival"], t["supervised"]) for t in tests))
    # the router, a baseline, is never "the best learner", though its nDCG@10 is the highest
    assert pairs == [("lints", "static_union", False), ("linucb", "router", True),
                     ("linucb/qrels", "router/qrels", True)]
    assert len(tests) == 9
    raw = [t["t_pvalue"] for t in tests]
    assert [t["t_pvalue_holm"] for t in tests] != raw  # Holm over all nine
    router = next(t for t in tests if t["rival"] == "router" and t["metric"] == "ndcg@10")
    assert router["mean_diff"] == pytest.approx(-0.15)
