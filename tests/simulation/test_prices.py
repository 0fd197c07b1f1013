"""The price of retrieval (``[cost]``): per-arm prices, plan latency in parallel or in
sequence, the latency limit, and bad input refused with the file and key named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.experiments.benchmark import load_benchmark
from ltrr.simulation.prices import Prices
from worlds import BENCHMARK, SETTING, write_benchmark

ARMS = ("lexical", "fuzzy", "memory")
# arms' latency per call: lexical 2 ms at depth 10 rising to 6 ms at 50; fuzzy 1 ms; memory 4 ms
LATENCY = """
[cost]
latency_ms = { lexical = { 10 = 2.0, 50 = 6.0 }, fuzzy = 1.0, memory = 4.0 }
latency = "{combine}"
per_arm_call = { lexical = 0.01, fuzzy = 0.02, memory = 0.04 }
per_candidate = 0.001
sources = { latency_ms = "a test", per_arm_call = "a test", per_candidate = "a test" }
{extra}
"""


def benchmark_text(combine: str = "parallel", extra: str = "", policies: bool = True) -> str:
    text = BENCHMARK if policies else SETTING + '\n[[policies]]\nname = "uniform"\n'
    return text.replace("[ranking]", LATENCY.replace("{combine}", combine)
                             .replace("{extra}", extra) + "\n[ranking]")


def test_a_plan_waits_for_its_slowest_arm_in_parallel_and_for_all_in_sequence():
    prices = Prices.from_table(
        {"latency_ms": {"lexical": {"10": 2.0, "50": 6.0}, "fuzzy": 1.0, "memory": 4.0},
         "sources": {"latency_ms": "a test"}}, ARMS, ["rrf"], "f.toml")
    depths = np.array([[12, 0, 0], [6, 6, 0], [4, 4, 4], [60, 0, 0], [0, 0, 0]])
    lexical = np.interp([12, 6, 4, 60], [10, 50], [2.0, 6.0])  # 2.2, 2.0 (flat), 2.0, 6.0
    assert lexical.tolist() == pytest.approx([2.2, 2.0, 2.0, 6.0])
    assert prices.retrieval_latency(depths).tolist() == pytest.approx([2.2, 2.0, 4.0, 6.0, 0.0])
    sequential = Prices.from_table(
        {"latency_ms": {"lexical": {"10": 2.0, "50": 6.0}, "fuzzy": 1.0, "memory": 4.0},
         "latency": "sequential", "sources": {"latency_ms": "a test"}}, ARMS, ["rrf"], "f.toml")
    assert sequential.retrieval_latency(depths).tolist() == pytest.approx(
        [2.2, 3.0, 7.0, 6.0, 0.0])


def test_prices_per_arm_call_per_candidate_and_per_candidate_ranked_by_stage():
    prices = Prices.from_table(
        {"per_arm_call": {"lexical": 0.01, "memory": 0.04}, "per_candidate": 0.001,
         "per_candidate_ranked": {"lambdamart": 0.0005}, "ranking_ms_per_candidate": {
             "lambdamart": 0.01}, "latency_ms": {"lexical": 1.0, "fuzzy": 1.0, "memory": 3.0},
         "sources": {k: "a test" for k in ("per_arm_call", "per_candidate",
                                            "per_candidate_ranked", "ranking_ms_per_candidate",
                                            "latency_ms")}},
        ARMS, ["rrf", "lambdamart"], "f.toml")
    depths = np.array([[12, 0, 0], [6, 0, 6]])
    assert prices.plan_cost(depths, "rrf").tolist() == pytest.approx(
        [0.01 + 0.012, 0.05 + 0.012])
    assert prices.plan_cost(depths, "lambdamart").tolist() == pytest.approx(
        [0.01 + 0.012 + 0.006, 0.05 + 0.012 + 0.006])
    assert prices.plan_latency(depths, "rrf").tolist() == pytest.approx([1.0, 3.0])
    assert prices.plan_latency(depths, "lambdamart").tolist() == pytest.approx([1.12, 3.12])


@pytest.mark.parametrize("combine", ["parallel", "sequential"])
def test_records_carry_each_policys_latency_per_query(tmp_path, combine):
    """Mean and p95 latency per query are the chosen plans' latencies: a single-arm policy
    always waits for its arm; the static union (4 candidates from each arm) for the slowest
    (parallel, memory's 4 ms) or for all three (sequential, 2 + 1 + 4 ms)."""
    path = write_benchmark(tmp_path, benchmark_text(combine))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--seeds", "0",
                 "--stream-length", "40", "--policies", "single:lexical,static_union,linucb"]) == 0
    single = json.loads((out / "single-lexical-seed0.json").read_text())["metrics"]
    union = json.loads((out / "static_union-seed0.json").read_text())["metrics"]
    assert single["latency_ms"] == pytest.approx(2.2)
    assert single["latency_p95_ms"] == pytest.approx(2.2)
    expected = 4.0 if combine == "parallel" else 7.0
    assert union["latency_ms"] == pytest.approx(expected)
    assert union["cost"] == pytest.approx(0.07 + 0.012)
    linucb = json.loads((out / "linucb-seed0.json").read_text())["metrics"]
    assert 1.0 <= linucb["latency_ms"] <= linucb["latency_p95_ms"] <= 7.0
    board = (out / "LEADERBOARD.md").read_text()
    assert "latency ms" in board and "p95 ms" in board


def test_the_latency_limit_removes_exactly_the_plans_over_it(tmp_path):
    """Limit 2.1 ms in parallel: over it are lexical alone (2.2 ms at depth 12) and every
    plan with memory (4 ms); left: fuzzy alone (1 ms) and lexical:6+fuzzy:6 (2 ms)."""
    path = write_benchmark(tmp_path, benchmark_text(extra="latency_limit_ms = 2.1", policies=False))
    space = load_benchmark(path).plan_space()
    assert space.ids == ["fuzzy:12", "lexical:6+fuzzy:6"]
    whole = load_benchmark(write_benchmark(tmp_path, benchmark_text())).plan_space()
    latency = load_benchmark(path).settings.prices.retrieval_latency(whole.depth_matrix())
    assert sorted(whole.ids[i] for i in np.flatnonzero(latency <= 2.1)) == sorted(space.ids)


def test_the_latency_limit_penalises_exactly_the_plans_over_it(tmp_path):
    from ltrr.experiments.runner import prepare

    extra = ('latency_limit_ms = 2.1\nover_limit = "penalise"\nover_limit_penalty = 0.5\n')
    path = write_benchmark(tmp_path, benchmark_text(extra=extra).replace(
        'sources = { latency_ms', 'sources = { over_limit_penalty = "a test", latency_ms'))
    benchmark = load_benchmark(path)
    assert len(benchmark.plan_space()) == 7  # nothing removed
    free = load_benchmark(write_benchmark(tmp_path, benchmark_text()))
    penalised, unpenalised = prepare(benchmark).world, prepare(free).world
    over = benchmark.settings.prices.over(penalised.depths)
    assert over.sum() == 5
    assert (penalised.cost - unpenalised.cost).tolist() == pytest.approx((0.5 * over).tolist())


@pytest.mark.parametrize("cost, key, message", [
    ("per_arm_call = -0.1", "cost.per_arm_call", "must be >= 0"),
    ('latency_ms = { lexical = 1.0, fuzzy = -2.0, memory = 1.0 }', "cost.latency_ms.fuzzy",
     "must be >= 0"),
    ("per_arm_call = { dense = 0.1 }\nsources = { per_arm_call = 'x' }", "cost.per_arm_call.dense",
     "which the benchmark does not have"),
    ("latency_ms = { lexical = 1.0, fuzzy = 1.0, memory = 1.0, dense = 2.0 }\n"
     "sources = { latency_ms = 'x' }", "cost.latency_ms.dense", "does not have"),
    ("latency_ms = { lexical = 1.0, fuzzy = 1.0 }\nsources = { latency_ms = 'x' }",
     "cost.latency_ms", "no latency for arm(s) memory"),
    ("latency_ms = { lexical = 3.0, fuzzy = 2.0, memory = 4.0 }\nlatency_limit_ms = 1.5\n"
     "sources = { latency_ms = 'x', latency_limit_ms = 'x' }", "cost.latency_limit_ms",
     "every plan's retrieval latency is over the limit of 1.5 ms"),
    ("latency_limit_ms = 10", "cost.latency_limit_ms", "needs every arm's latency_ms"),
    ("ranking_ms_per_candidate = 0.01\nsources = { ranking_ms_per_candidate = 'x' }",
     "cost.ranking_ms_per_candidate", "needs every arm's latency_ms"),
    ("per_candidate = 0.01", "cost.sources.per_candidate", "has no source"),
    ('latency = "overlapped"', "cost.latency", "expected one of parallel, sequential"),
    ("per_candidate_ranked = { lambdamart = 0.1 }\nsources = { per_candidate_ranked = 'x' }",
     "cost.per_candidate_ranked.lambdamart", "ranking stage 'lambdamart'"),
])
def test_bad_prices_are_refused_with_file_and_key_and_nothing_written(tmp_path, capsys, cost,
                                                                       key, message):
    path = write_benchmark(tmp_path, BENCHMARK.replace("[ranking]", f"[cost]\n{cost}\n\n[ranking]"))
    with pytest.raises(InputError) as caught:
        load_benchmark(path)
    assert str(path) in str(caught.value) and key in str(caught.value)
    assert message in str(caught.value)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert key in capsys.readouterr().err
    assert not out.exists()
