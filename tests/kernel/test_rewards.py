"""What a page pays the policy (ltrr.kernel.rewards): closed forms against an enumeration of
every session and against 10^5 sampled pages, what each reward pays for under cascade and DCM
users, the oracle of each reward, both loops agreeing, and bad [reward] / [clicks] input."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from worlds import BENCHMARK, FakeArm, TopicFeaturizer, fake_dataset, write_benchmark

from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.evaluation.metrics import run_metrics
from ltrr.experiments.benchmark import load_benchmark
from ltrr.kernel.clicks import (
    CascadeModel,
    ClickModel,
    DependentClickModel,
    PositionBasedModel,
)
from ltrr.kernel.rewards import REWARD_CODES, REWARDS, expected_reward_row, page_reward
from ltrr.selection.policies import build_policy
from ltrr.simulation.clicks import make_click_model
from ltrr.simulation.loop import LoopSettings, World, run_policy
from ltrr.simulation.prices import Prices
from ltrr.simulation.stream import sample_stream

USERS = [PositionBasedModel("navigational"), PositionBasedModel("informational", "eye-tracking"),
         CascadeModel("navigational"), CascadeModel("informational"),
         DependentClickModel("navigational"), DependentClickModel("informational"),
         DependentClickModel("perfect")]


def expected(click: ClickModel, grades, reward: str) -> float:
    code, p_click, p_stop, p_satisfy, exam = click.arrays(len(grades))
    return expected_reward_row(np.asarray(grades, dtype=np.int64), REWARD_CODES[reward], code,
                               p_click, p_stop, p_satisfy, exam)


def enumerated(click: ClickModel, grades) -> dict[str, float]:
    """Every reward's expectation by summing over every session the model allows, written
    from the model's definition rather than the closed forms."""
    grades = list(grades)
    a = [0.0 if g < 0 else click.p_click[g] for g in grades]
    s = [0.0 if g < 0 else click.p_satisfy[g] for g in grades]
    totals = dict.fromkeys(REWARDS, 0.0)

    def add(prob: float, clicks: list[int], satisfied: bool) -> None:
        totals["clicks"] += prob * len(clicks)
        totals["any_click"] += prob * bool(clicks)
        totals["first_click_rr"] += prob * (1.0 / (clicks[0] + 1) if clicks else 0.0)
        totals["satisfied"] += prob * satisfied

    if click.model == "pbm":
        exam = click.examination(len(grades))
        c = [a[i] * exam[i] for i in range(len(grades))]
        for pattern in itertools.product((0, 1), repeat=len(grades)):
            prob = float(np.prod([c[i] if x else 1 - c[i] for i, x in enumerate(pattern)]))
            clicks = [i for i, x in enumerate(pattern) if x]
            if clicks:  # the last click satisfies with its grade's probability
                add(prob * s[clicks[-1]], clicks, True)
                add(prob * (1 - s[clicks[-1]]), clicks, False)
            else:
                add(prob, clicks, False)
        return totals
    stop = [1.0 if click.model == "cascade" else x for x in s]

    def scan(i: int, prob: float, clicks: list[int]) -> None:
        if i == len(grades):
            add(prob, clicks, False)  # went past the page unsatisfied
            return
        scan(i + 1, prob * (1 - a[i]), clicks)
        # a click, then a stop (satisfied with P(satisfy) / P(stop) of the stops), or on
        if stop[i] > 0:
            add(prob * a[i] * s[i], clicks + [i], True)
            add(prob * a[i] * (stop[i] - s[i]), clicks + [i], False)
        if stop[i] < 1:
            scan(i + 1, prob * a[i] * (1 - stop[i]), clicks + [i])

    scan(0, 1.0, [])
    return totals


@pytest.mark.parametrize("click", USERS, ids=lambda c: c.name)
def test_closed_forms_equal_an_enumeration_of_sessions(click):
    rng = np.random.default_rng(3)
    for _ in range(20):
        grades = rng.integers(-1, 5, size=6)
        grades = np.concatenate([grades[grades >= 0], grades[grades < 0]])  # empty slots last
        truth = enumerated(click, grades)
        for reward in REWARDS:
            assert expected(click, grades, reward) == pytest.approx(truth[reward], abs=1e-12)


@pytest.mark.parametrize("click", USERS[:6], ids=lambda c: c.name)
def test_sampled_rewards_match_their_expectations(click):
    """10^5 sampled pages: each reward's mean within 5 standard errors of its closed form,
    and the per-position contributions sum to the reward."""
    grades = np.array([2, 0, 4, 1, 3, 0, 2, 1, 0, 4])
    rng = np.random.default_rng(11)
    n = 100_000
    values = {r: np.empty(n) for r in REWARDS}
    contribution = np.zeros(len(grades))
    for i in range(n):
        clicks, satisfied = click.sample_session(grades, rng)
        for reward in REWARDS:
            value = page_reward(REWARD_CODES[reward], clicks, int(clicks.sum()), satisfied,
                                contribution)
            assert contribution.sum() == pytest.approx(value)
            values[reward][i] = value
    for reward in REWARDS:
        mean, se = values[reward].mean(), values[reward].std() / np.sqrt(n)
        assert abs(mean - expected(click, grades, reward)) < 5 * se + 5 / n, reward


def test_sampling_does_not_depend_on_the_reward():
    """Satisfaction reuses the click draws: the clicks of a seed are the same whatever the
    benchmark pays (so adding [reward] moves no click of an existing benchmark)."""
    click = DependentClickModel("navigational")
    grades = np.array([4, 1, 0, 3, 2])
    a = [click.sample(grades, np.random.default_rng(5)) for _ in range(2)]
    b, _ = click.sample_session(grades, np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b)


@pytest.mark.parametrize("model", ["cascade", "dcm"])
@pytest.mark.parametrize("params", ["navigational", "informational"])
def test_an_answer_at_rank_1_is_satisfying_and_earns_fewer_clicks(model, params):
    click = make_click_model(model, params)
    answer = [4] + [0] * 9  # the relevant item at rank 1, nothing else of use
    near_misses = [1] * 10  # ten marginally relevant documents
    assert expected(click, answer, "clicks") < expected(click, near_misses, "clicks")
    assert expected(click, answer, "first_click_rr") > expected(click, near_misses,
                                                                "first_click_rr")
    satisfied = expected(click, answer, "satisfied"), expected(click, near_misses, "satisfied")
    if (model, params) == ("dcm", "informational"):
        # the documented exception (docs/benchmark-format.md): these users stop after a
        # perfect document only half of the time, and ten marginal ones satisfy more often
        assert satisfied == pytest.approx((0.619, 0.721), abs=1e-3)
    else:
        assert satisfied[0] > satisfied[1]


def test_eye_tracking_examination_curve():
    click = PositionBasedModel("navigational", "eye-tracking")
    np.testing.assert_allclose(click.examination(10), [.68, .61, .48, .34, .28, .20, .11, .10,
                                                      .08, .06])
    np.testing.assert_allclose(click.examination(3), [.68, .61, .48])
    assert click.name == "pbm/navigational/eye-tracking"
    with pytest.raises(InputError, match="has 10 values, the page shows 12"):
        click.examination(12)
    own = PositionBasedModel("perfect", [1, 0.5, 0.25])
    assert own.expected_total(np.array([4, 4, 4])) == pytest.approx(1.75)


def make_world(reward: str, click: ClickModel, length: int = 300) -> World:
    arms = {"lexical": FakeArm("lexical", set(range(7))), "dense": FakeArm("dense", {7, 8, 9})}
    from ltrr.selection.plans import PlanSpace

    space = PlanSpace.from_config(list(arms), 6, {"single": True, "union": True,
                                                  "equal_splits": [2]})
    settings = LoopSettings(page=5, clicks=click, reward=reward,
                            prices=Prices.flat(["lexical", "dense"], per_candidate=0.001))
    return World(fake_dataset(), arms, space, settings, length)


@pytest.mark.parametrize("reward", REWARDS)
def test_the_oracle_maximises_the_declared_reward(reward):
    click = DependentClickModel("navigational")
    world = make_world(reward, click)
    stream = sample_stream(world.topics, 300, 1.0, 0)
    traces = {name: run_policy(world, build_policy(name, {}, world.plans,
                                                   n_features=2, random_state=0,
                                                   reward_range=(0.0, 5.0)),
                               TopicFeaturizer(), stream, 0)
              for name in ("oracle", "single:lexical", "static_union", "uniform")}
    oracle = traces["oracle"]
    steps = np.arange(len(stream))
    # the truths are the declared reward's expectation of each plan's page, minus its cost
    for t in range(0, len(stream), 37):
        for p in range(len(world.plan_ids)):
            page = world.expected_reward(world_page_grades(world, oracle, t, p))
            assert oracle.expected[t, p] == pytest.approx(page[0] - world.cost[p])
    assert np.all(oracle.expected[steps, oracle.plan] == oracle.expected.max(axis=1))
    metrics, _, _ = run_metrics(oracle, world)
    assert metrics["regret_oracle"] == 0.0
    for name, trace in traces.items():
        assert oracle.expected[steps, oracle.plan].mean() >= \
            trace.expected[steps, trace.plan].mean() - 1e-12, name
    # the realised reward is the sampled page's reward, minus the cost
    for trace in traces.values():
        earned = trace.reward + world.cost[trace.plan]
        clicked = trace.clicks.astype(bool)
        first = np.where(clicked.any(axis=1), clicked.argmax(axis=1), -1)
        if reward == "clicks":
            np.testing.assert_allclose(earned, trace.clicks_total)
        elif reward == "any_click":
            np.testing.assert_allclose(earned, first >= 0)
        elif reward == "first_click_rr":
            np.testing.assert_allclose(earned, np.where(first >= 0, 1.0 / (np.abs(first) + 1),
                                                        0.0))
        else:
            assert set(np.round(earned, 12)) <= {0.0, 1.0}
            assert np.all(earned <= (first >= 0))


def world_page_grades(world: World, trace, t: int, plan: int) -> np.ndarray:
    """The grades of plan ``plan``'s page at step ``t``, recomputed by the per-step step
    functions (a plan's page does not depend on the policy)."""
    from ltrr.simulation.truths import fill_lists, fill_truths

    st = world.seed(0)
    buf = world.buffers()
    topic = int(trace.topic[t])
    fill_lists(world.tables, st.lists, topic, t, buf)
    fill_truths(world.tables, st.cache, topic, t, buf)
    return buf.page_grades[plan:plan + 1].copy()


@pytest.mark.parametrize("reward", REWARDS)
@pytest.mark.parametrize("name", ["semibandit", "linucb"])
def test_both_loops_pay_the_same(reward, name):
    """The compiled run loop and the per-step loop give the same trace under every reward
    (the semi-bandit's per-arm credit included)."""
    world = make_world(reward, CascadeModel("informational"), length=200)
    stream = sample_stream(world.topics, 200, 1.0, 1)
    runs = [run_policy(world, build_policy(name, {}, world.plans,
                                           n_features=2, random_state=1, reward_range=(0.0, 5.0)),
                       TopicFeaturizer(), stream, 1, per_step=per_step)
            for per_step in (False, True)]
    for field in ("plan", "reward", "clicks_total", "expected"):
        np.testing.assert_array_equal(getattr(runs[0], field), getattr(runs[1], field))
    if reward == "satisfied":
        assert set(np.unique(runs[0].reward + world.cost[runs[0].plan])) <= {0.0, 1.0}


BAD = [
    ("[ranking]", '[reward]\nname = "dwell"\n[ranking]',
     "field 'reward.name': unknown reward 'dwell' (choose from clicks, any_click, "
     "first_click_rr, satisfied)"),
    ('params = "navigational"', 'params = "perfect"\n[reward]\nname = "satisfied"',
     "field 'reward.name': click model dcm/perfect cannot produce reward 'satisfied' "
     "(P(stop | click) is 0 for every grade in the 'perfect' set: no click satisfies); it can "
     "produce clicks, any_click, first_click_rr"),
    ('params = "navigational"', 'params = "navigational"\nexamination = [0.9, 1.2, 0.5]',
     "field 'clicks.examination': an examination curve needs probabilities in (0, 1], one per "
     "position; got [0.9, 1.2, 0.5]"),
    ('params = "navigational"', 'params = "navigational"\nexamination = [0.9, 0.0, 0.5]',
     "field 'clicks.examination': an examination curve needs probabilities in (0, 1], one per "
     "position; got [0.9, 0.0, 0.5]"),
    ('params = "navigational"', 'params = "navigational"\nexamination = [0.9, 0.5]',
     "field 'clicks.examination': the examination curve has 2 values, the page shows 5 "
     "documents: give one value per position"),
    ('params = "navigational"', 'params = "navigational"\nexamination = "gaze"',
     "field 'clicks.examination': unknown examination curve 'gaze' (choose from reciprocal, "
     "eye-tracking, or a list of probabilities in (0, 1], one per position)"),
]


@pytest.mark.parametrize("old,new,message", BAD)
def test_bad_reward_or_users(tmp_path, capsys, old, new, message):
    text = BENCHMARK.replace(old, new, 1)
    if "perfect" in new:
        text = text.replace('model = "pbm"', 'model = "dcm"', 1)
    path = write_benchmark(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_benchmark(path)
    assert str(err.value) == f"{path}, {message}"
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"ltrr run: error: {path}, {message}"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny.toml"]


def test_an_examination_curve_is_pbm_only(tmp_path):
    text = BENCHMARK.replace('model = "pbm"', 'model = "cascade"', 1).replace(
        'params = "navigational"', 'params = "navigational"\nexamination = "eye-tracking"', 1)
    path = write_benchmark(tmp_path, text)
    with pytest.raises(InputError, match="field 'clicks.examination': an examination curve is "
                                         "a position-based model's"):
        load_benchmark(path)


STUDY = """
[sweep]
name = "study"
benchmarks = ["tiny.toml"]
tune = true

[vary]
clicks = [{ model = "pbm", params = "navigational" }, { model = "dcm", params = "perfect" }]
reward = ["clicks", "satisfied"]
"""
TUNED = BENCHMARK.replace('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [0.3, 2.0] }') \
    + "\n[tuning]\nseeds = [7, 8]\n"


def test_a_study_of_users_and_rewards(tmp_path, capsys):
    """A sweep with [vary] and tune = true: each producible variant tuned on its own reward
    and reported, its records naming users and reward; the pair the users cannot produce is
    skipped and said; STUDY.md compares the best learner with the union; a rerun plays
    nothing; a variant's record reproduces under its own users and reward."""
    from ltrr.experiments.reproduce import reproduce
    from ltrr.experiments.sweep import run_sweep

    write_benchmark(tmp_path, TUNED)
    sweep_file = tmp_path / "study.toml"
    sweep_file.write_text(STUDY)
    out = tmp_path / "out"
    assert main(["sweep", str(sweep_file), "--out", str(out), "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "skipped tiny: dcm/perfect x satisfied (P(stop | click) is 0" in printed
    variants = {"pbm-navigational/clicks", "pbm-navigational/satisfied", "dcm-perfect/clicks"}
    found = {f"{p.parent.parent.name}/{p.parent.name}" for p in (out / "tiny").glob("*/*/*.json")
             if p.name != "tuning.json"}
    assert found == variants
    rewards = {}
    for variant in variants:
        folder = out / "tiny" / variant
        tuning = json.loads((folder / "tuning.json").read_text())
        assert tuning["linucb"]["seeds"] == [7, 8] and len(tuning["linucb"]["settings"]) == 2
        record = json.loads((folder / "linucb-seed0.json").read_text())
        users, reward = variant.split("/")
        assert record["users"] == users.replace("-", "/") and record["reward_name"] == reward
        assert record["provenance"]["variant"]["reward"] == reward
        assert record["policy_params"] == tuning["linucb"]["chosen"]
        assert record["tuning"]["chosen"] == tuning["linucb"]["chosen"]
        rewards[variant] = record["metrics"]["reward"]
        assert "(LEADERBOARD.md" not in (folder / "LEADERBOARD.md").read_text()
        assert f"the policies are paid `{reward}`" in (folder / "LEADERBOARD.md").read_text()
    assert 0 <= rewards["pbm-navigational/satisfied"] <= 1
    study = (out / "tiny" / "STUDY.md").read_text()
    table = pd.read_csv(out / "tiny" / "study.csv")
    assert len(table) == 3 and set(table["learner"]) == {"linucb"}
    assert (out / "tiny" / "study.png").read_bytes()[:4] == b"\x89PNG"
    assert "| pbm/navigational | `satisfied` | linucb |" in study
    # the paired differences are the records' own
    row = table[(table["users"] == "pbm/navigational") & (table["reward_name"] == "clicks")].iloc[0]
    folder = out / "tiny" / "pbm-navigational" / "clicks"
    diffs = [json.loads((folder / f"linucb-seed{s}.json").read_text())["metrics"]["ndcg@10"]
             - json.loads((folder / f"static_union-seed{s}.json").read_text())["metrics"]["ndcg@10"]
             for s in (0, 1)]
    assert row["diff_ndcg@10"] == pytest.approx(np.mean(diffs))
    # a rerun finds every cell finished
    sweep = run_sweep(sweep_file, out=out, jobs=1, progress=False)
    assert len(sweep.benchmarks) == 3
    before = {p: p.read_bytes() for p in (out / "tiny").glob("*/*/*-seed*.json")}
    run_sweep(sweep_file, out=out, jobs=1, progress=False)
    assert {p: p.read_bytes() for p in (out / "tiny").glob("*/*/*-seed*.json")} == before
    rep = reproduce(out / "tiny" / "pbm-navigational" / "satisfied" / "linucb-seed1.json",
                    benchmark=tmp_path / "tiny.toml")
    assert rep.matches


@pytest.mark.parametrize("vary,field,message", [
    ('[vary]\nreward = ["dwell"]', "vary.reward[0]",
     "unknown reward 'dwell' (choose from clicks, any_click, first_click_rr, satisfied)"),
    ('[vary]\nclicks = [{ model = "pbm" }]', "vary.clicks[0]",
     "expected a [clicks] table (model, params, examination?), got {'model': 'pbm'}"),
    ('[vary]\nclicks = [{ model = "pbm", params = "navigational", examination = [1.5] }]',
     "vary.clicks[0]",
     "an examination curve needs probabilities in (0, 1], one per position; got [1.5]"),
    ('[vary]\nusers = ["pbm"]', "vary.users", "unknown key (expected one of clicks, reward, plans, budget, cost)"),
    ('tune = true\n[vary]\nreward = ["clicks"]', "sweep.tune",
     "benchmark 'tiny.toml' has no [tuning] table to tune with"),
])
def test_bad_study_files(tmp_path, capsys, vary, field, message):
    write_benchmark(tmp_path)  # no [tuning] table
    path = tmp_path / "study.toml"
    path.write_text('[sweep]\nbenchmarks = ["tiny.toml"]\n' + vary + "\n")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"ltrr sweep: error: {path}, field '{field}': {message}"
    assert not out.exists()


def test_the_world_refuses_a_reward_its_users_cannot_produce():
    """The Python API's path (no benchmark file): the world checks it too."""
    with pytest.raises(InputError, match="click model dcm/perfect cannot produce reward "
                                         "'satisfied'.*it can produce clicks, any_click, "
                                         "first_click_rr"):
        make_world("satisfied", DependentClickModel("perfect"))
