"""``[vary]`` over the plan space, the budget and the prices: one folder level per varied axis,
each record's ``provenance.variant``, ``ltrr reproduce`` of a variant's record, bad input
(one message naming the sweep file and ``vary.<axis>[i]``, exit 2, nothing written), and the
study's regret table and figure (from a sweep, and from a handful of synthetic records)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ltrr.cli import main
from ltrr.results import growth
from ltrr.results.study import HEADERS, axis_labels
from worlds import write_benchmark

PLANS = ('{ name = "singles" }',
         '{ name = "skewed", equal_splits = [2], skewed = [[0.75, 0.25]] }')
COSTS = ('{ name = "free" }', '{ name = "priced", per_arm_call = 0.05, per_candidate = 0.001, '
         'sources = { per_arm_call = "a test", per_candidate = "a test" } }')
SWEEP = f"""
[sweep]
name = "spaces"
benchmarks = ["tiny.toml"]
seeds = [0, 1]
stream_length = 120

[vary]
plans = [{", ".join(PLANS)}]
budget = [6, 12]
cost = [{", ".join(COSTS)}]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vary")
    write_benchmark(tmp)
    path = tmp / "spaces.toml"
    path.write_text(SWEEP)
    out = tmp / "out"
    assert main(["sweep", str(path), "--out", str(out), "--jobs", "2", "--quiet"]) == 0
    return tmp, out / "tiny"


def test_each_variant_has_its_folder_and_says_what_it_varied(swept):
    tmp, root = swept
    folders = {str(p.parent.relative_to(root)) for p in root.glob("**/oracle-seed0.json")}
    assert folders == {f"{p}/budget-{b}/{c}" for p in ("singles", "skewed") for b in (6, 12)
                       for c in ("free", "priced")}
    record = json.loads((root / "skewed/budget-12/priced/single-lexical-seed1.json").read_text())
    assert record["provenance"]["variant"] == {
        "plans": {"name": "skewed", "equal_splits": [2], "skewed": [[0.75, 0.25]]},
        "budget": 12,
        "cost": {"name": "priced", "per_arm_call": 0.05, "per_candidate": 0.001,
                 "sources": {"per_arm_call": "a test", "per_candidate": "a test"}}}
    assert record["budget"] == 12
    # 3 single arms, 3 pairs at 6 + 6, 6 ordered pairs at 9 + 3, the union
    assert len(record["plans"]) == 13
    assert "lexical:9+fuzzy:3" in record["plans"] and "fuzzy:3+memory:9" in record["plans"]
    assert record["plans"][-1] == "lexical:4+fuzzy:4+memory:4"
    # the priced variant pays per arm call and per candidate; the free one does not
    assert record["metrics"]["cost"] == pytest.approx(0.05 + 0.001 * 12)
    free = json.loads((root / "skewed/budget-12/free/single-lexical-seed1.json").read_text())
    assert free["metrics"]["cost"] == 0.0
    assert free["metrics"]["reward"] - record["metrics"]["reward"] == pytest.approx(0.062)
    small = json.loads((root / "singles/budget-6/free/static_union-seed0.json").read_text())
    assert small["plans"] == ["lexical:6", "fuzzy:6", "memory:6", "lexical:2+fuzzy:2+memory:2"]
    assert small["provenance"]["variant"]["budget"] == 6


def test_a_variant_s_record_reproduces(swept):
    from ltrr.experiments.reproduce import reproduce

    tmp, root = swept
    rep = reproduce(root / "skewed/budget-6/priced/linucb-seed1.json",
                    benchmark=tmp / "tiny.toml")
    assert rep.matches


def test_the_study_draws_regret_against_the_number_of_plans(swept):
    _, root = swept
    text = (root / "STUDY.md").read_text()
    assert "| plan space | budget | cost | best learner |" in text
    assert "| skewed (13 plans) | 12 | priced | linucb |" in text
    assert "## Regret against the oracle as the plan space grows" in text
    assert "| plan space | budget | cost | plans | single:lexical | static_union | linucb |" \
        in text
    assert (root / "study-regret.png").read_bytes()[:4] == b"\x89PNG"
    table = pd.read_csv(root / "study-regret.csv")
    assert "oracle" not in set(table["policy"])
    row = table[(table["plans"] == "skewed") & (table["budget"] == 6) & (table["cost"] == "priced")
                & (table["policy"] == "linucb")].iloc[0]
    regrets = [json.loads((root / f"skewed/budget-6/priced/linucb-seed{s}.json").read_text())
               ["metrics"]["regret_oracle"] for s in (0, 1)]
    assert row["x"] == row["n_plans"] == 13 and row["seeds"] == 2
    assert row["regret"] == pytest.approx(np.mean(regrets), rel=1e-5)
    assert row["panel"] == "budget 6 · cost priced"


@pytest.mark.parametrize("vary,field,message", [
    ('plans = [{ name = "a" }, { name = "a", union = false }]', "vary.plans[1]",
     "gives the variant folder 'a', as vary.plans[0] does (each value once, names distinct)"),
    ('budget = [12, 12]', "vary.budget[1]",
     "gives the variant folder 'budget-12', as vary.budget[0] does (each value once, names "
     "distinct)"),
    ('cost = [{ name = "free" }, { name = "free", per_arm_call = 1.0 }]', "vary.cost[1]",
     "gives the variant folder 'free', as vary.cost[0] does (each value once, names distinct)"),
    ('budget = [0]', "vary.budget[0]", "expected a budget, an integer >= 1, got 0"),
    ('budget = ["50"]', "vary.budget[0]", "expected a budget, an integer >= 1, got '50'"),
    ('plans = [{ single = true }]', "vary.plans[0].name",
     "expected a name (letters, digits, '_', '-', '.'; it names the variant's folder), got None"),
    ('cost = [{ name = "a/b" }]', "vary.cost[0].name",
     "expected a name (letters, digits, '_', '-', '.'; it names the variant's folder), "
     "got 'a/b'"),
    ('plans = ["pairs"]', "vary.plans[0]", "expected a [plans] table with a name, got 'pairs'"),
    ('plans = [{ name = "b", budget = 50 }]', "vary.plans[0].budget",
     "the budget is not part of a plans table: vary it with vary.budget"),
    ('plans = [{ name = "ok" }, { name = "over", skewed = [[0.7, 0.5]] }]',
     "vary.plans[1].skewed[0]", "weights [0.7, 0.5] sum to 1.2, over the budget (the weights "
     "of a split sum to at most 1) (on benchmark 'tiny.toml')"),
    ('plans = [{ name = "p", pairs = [2] }]', "vary.plans[0].pairs",
     "unknown key (expected one of name, single, equal_splits, skewed, custom, union)"),
    ('plans = [{ name = "p", custom = [{ lexical = 10, fuzzy = 10 }] }]', "vary.plans[0].custom[0]",
     "depths sum to 20, over the budget 12 (on benchmark 'tiny.toml')"),
    ('budget = [12, 2]', "vary.budget[1]",
     "budget 2 is too small for a plan over lexical+fuzzy+memory (depths [1, 1, 0]; every "
     "depth must be >= 1) (on benchmark 'tiny.toml')"),
    ('cost = [{ name = "neg", per_arm_call = -1.0 }]', "vary.cost[0].per_arm_call",
     "must be >= 0, got -1.0 (on benchmark 'tiny.toml')"),
    ('cost = [{ name = "typo", per_call = 1.0 }]', "vary.cost[0].per_call",  # [cost]'s keys
     re.compile(r"unknown key \(expected one of per_arm_call, per_candidate.*\) \(on benchmark "
                r"'tiny.toml'\)")),
    ('depth = [10]', "vary.depth",
     "unknown key (expected one of clicks, reward, plans, budget, cost)"),
    ('budget = []', "vary.budget", "expected a non-empty list"),
])
def test_bad_vary_entries(tmp_path, capsys, vary, field, message):
    write_benchmark(tmp_path)
    path = tmp_path / "spaces.toml"
    path.write_text('[sweep]\nbenchmarks = ["tiny.toml"]\n[vary]\n' + vary + "\n")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    prefix = f"ltrr sweep: error: {path}, field '{field}': "
    assert err.startswith(prefix)
    if isinstance(message, re.Pattern):
        assert message.fullmatch(err[len(prefix):]), err
    else:
        assert err == prefix + message
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spaces.toml", "tiny", "tiny.toml"]


def synthetic(space: str, n_plans: int, budget: int, regrets: dict[str, list[float]]) -> list:
    """A variant folder's records as the study reads them (only the fields it reads)."""
    variant = {"plans": {"name": space}, "budget": budget}
    return [{"policy": policy, "policy_name": policy, "seed": seed, "budget": budget,
             "plans": [f"p{i}" for i in range(n_plans)], "stream_length": 1000,
             "reward_name": "clicks", "benchmark_policies": list(regrets),
             "metrics": {"regret_oracle": value}, "provenance": {"variant": variant}}
            for policy, values in regrets.items() for seed, value in enumerate(values)]


def test_the_regret_table_and_figure_from_synthetic_records():
    variants = [
        synthetic("big", 40, 50, {"ucb1": [90.0, 110.0, 100.0], "linucb": [30.0, 34.0, 32.0],
                                  "oracle": [0.0, 0.0, 0.0]}),
        synthetic("small", 16, 50, {"ucb1": [40.0, 44.0, 42.0], "linucb": [20.0, 26.0, 23.0],
                                    "oracle": [0.0, 0.0, 0.0]}),
    ]
    axes = ["plans", "budget"]
    assert growth.x_axis(axes) == "plans" and growth.x_axis(["budget", "cost"]) == "budget"
    assert growth.x_axis(["clicks"]) is None
    table = growth.growth_table([(r, axis_labels(r[0], axes)) for r in variants], "plans")
    assert list(zip(table["plans"], table["policy"])) == [
        ("small", "ucb1"), ("small", "linucb"), ("big", "ucb1"), ("big", "linucb")]
    assert table["x"].tolist() == [16, 16, 40, 40] and set(table["panel"]) == {"budget 50"}
    half = stats.t.ppf(0.975, 2) * stats.sem([90.0, 110.0, 100.0])
    big = table[(table["plans"] == "big") & (table["policy"] == "ucb1")].iloc[0]
    assert big["regret"] == pytest.approx(100.0)
    assert (big["regret_low"], big["regret_high"]) == pytest.approx((100 - half, 100 + half))
    text = growth.markdown(table, "plans", axes, HEADERS)
    assert "| plan space | budget | plans | ucb1 | linucb |" in text
    assert f"| small | 50 | 16 | 42.0 [{42 - stats.t.ppf(0.975, 2) * stats.sem([40, 44, 42]):.1f}" \
        in text
    assert "| big | 50 | 40 | 100.0 [75.2, 124.8] | **32.0 [27.0, 37.0]** |" in text
    png = growth.plot(table, "plans", "regret by number of plans")
    assert png[:4] == b"\x89PNG"
    # by budget: the x axis is the budget, the plan spaces' counts a column
    by_budget = [synthetic("pairs", 16, b, {"ucb1": [b / 2, b / 2 + 2]}) for b in (100, 20)]
    table = growth.growth_table([(r, axis_labels(r[0], ["budget"])) for r in by_budget],
                                "budget")
    assert table["x"].tolist() == [20, 100] and table["regret"].tolist() == [11.0, 51.0]
    assert "| budget | plans | ucb1 |" in growth.markdown(table, "budget", ["budget"], HEADERS)


def test_the_plan_space_sweep_file_is_valid():
    """benchmarks/sweeps/plan-space.toml: the music benchmark under five growing plan spaces,
    each the previous one plus more plans, tuned, on the benchmark's 10 seeds."""
    from pathlib import Path

    from ltrr.experiments.sweep import load_sweep

    sweep = load_sweep(Path(__file__).resolve().parents[2] / "benchmarks" / "sweeps"
                       / "plan-space.toml")
    spaces = [b.plan_space() for b in sweep.benchmarks]
    assert [len(s) for s in spaces] == [16, 26, 46, 66, 91]
    assert all(set(a.ids) < set(b.ids) for a, b in zip(spaces, spaces[1:]))
    assert "lexical:40+dense:10" in spaces[2].ids and "dense:45+structured:5" in spaces[4].ids
    assert [sweep.folder(b).name for b in sweep.benchmarks] == [
        "pairs", "triples", "skewed-80-20", "skewed-60-40", "quads-90-10"]
    assert sweep.tune and all(b.seeds == list(range(10)) and b.budget == 50
                              for b in sweep.benchmarks)
    assert [p.label for p in sweep.benchmarks[0].policies] == [
        "static_union", "uniform", "ucb1", "thompson", "linucb", "lints", "semibandit", "oracle"]
    assert sweep.out == Path("results/sweeps/plan-space")


def test_study_only_rebuilds_the_study_from_the_records_and_runs_nothing(swept):
    tmp, root = swept
    before = (root / "STUDY.md").read_text()
    records = sorted(p.stat().st_mtime_ns for p in root.rglob("*-seed*.json"))
    (root / "STUDY.md").unlink()
    assert main(["sweep", str(tmp / "spaces.toml"), "--out", str(root.parent),
                 "--study-only"]) == 0
    assert (root / "STUDY.md").read_text() == before
    assert sorted(p.stat().st_mtime_ns for p in root.rglob("*-seed*.json")) == records
