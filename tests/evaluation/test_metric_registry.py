"""One metric registry (``ltrr.evaluation.registry``): a fresh run's record holds the declared
metrics in the declared order; the record checks, per-topic tables, curves, leaderboard
columns (Markdown, CSV, LaTeX, terminal), best marks, paired tests and ``[tuning] metric`` are
derived from it; an optional column (latency) shows only when records carry it; the docs
list what it declares."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.evaluation.metrics import run_metrics
from ltrr.evaluation.registry import (BY_NAME, HEADLINE, METRICS, PER_TOPIC, TUNABLE, Metric,
                                      ordered, shown)
from ltrr.experiments.benchmark import load_benchmark
from ltrr.results.export import csv_text, latex_text
from ltrr.results.folder import load_folder
from ltrr.results.leaderboard import markdown, summary, terminal_summary
from ltrr.results.records import _KINDS, RECORD_FIELDS, check_record
from worlds import BENCHMARK, write_benchmark

REPO = Path(__file__).resolve().parents[2]
LATENCY = ("latency_ms", "latency_p95_ms")  # computed only when the trace carries latency
COSTLY = BENCHMARK.replace("[ranking]", "[cost]\nper_arm_call = 0.01\n"
                           'sources = { per_arm_call = "a test price" }\n\n[ranking]')


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny benchmark run with a price per arm call: 4 policies x 2 seeds."""
    tmp = tmp_path_factory.mktemp("registry")
    path = write_benchmark(tmp, COSTLY)
    out = tmp / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--logs", "none"]) == 0
    return path, out


def _header(text: str, first: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {first} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def _with_latency(records: list[dict]) -> list[dict]:
    """The records as if each trace had carried its latency: linucb fastest."""
    out = copy.deepcopy(records)
    for r in out:
        fast = r["policy"] == "linucb"
        r["metrics"]["latency_ms"] = (1.0 if fast else 2.0) + 0.1 * r["seed"]
        r["metrics"]["latency_p95_ms"] = (3.0 if fast else 4.0) + 0.1 * r["seed"]
    return out


def test_a_fresh_record_holds_every_declared_metric_in_declared_order(finished):
    _, out = finished
    for path in sorted(out.glob("*-seed*.json")):
        metrics = json.loads(path.read_text())["metrics"]
        assert list(metrics) == [m.name for m in METRICS if m.name in metrics], path.name
        assert {m.name for m in METRICS} - set(metrics) <= set(LATENCY), path.name
        for m in METRICS:
            if m.record:
                test, expected = _KINDS[m.record]
                assert test(metrics[m.name]), (path.name, m.name, expected)


def test_record_checks_require_exactly_the_declared_metrics(finished):
    _, out = finished
    required = [name.removeprefix("metrics.") for name, _ in RECORD_FIELDS
                if name.startswith("metrics.")]
    assert required == [m.name for m in METRICS if m.record]
    record = json.loads((out / "linucb-seed0.json").read_text())
    for m in METRICS:
        damaged = copy.deepcopy(record)
        damaged["metrics"].pop(m.name, None)
        if m.record:
            with pytest.raises(InputError, match=re.escape(f"x.json, field 'metrics.{m.name}': "
                                                           "missing")):
                check_record(damaged, "x.json")
        else:  # optional: older records lack it
            check_record(damaged, "x.json")


def test_per_topic_tables_and_curves_have_every_per_topic_metric(finished):
    _, out = finished
    assert PER_TOPIC == ("reward", "candidate_recall", "ndcg@10")
    table = pd.read_parquet(out / "linucb-seed0.topics.parquet")
    assert list(table.columns) == ["qid", "steps", "judged_steps", *PER_TOPIC]
    record = json.loads((out / "linucb-seed0.json").read_text())
    weighted = (table["reward"] * table["steps"]).sum() / table["steps"].sum()
    assert weighted == pytest.approx(record["metrics"]["reward"], rel=1e-6)
    for name in PER_TOPIC:
        assert len(record["curves"][name]) == 20, name


def test_leaderboard_columns_marks_and_tests_come_from_the_registry(finished):
    _, out = finished
    results = load_folder(out)
    records, order = results.records, results.order
    columns = [m for m in METRICS if m.label and m.record]
    assert shown(records) == columns
    board = (out / "LEADERBOARD.md").read_text()
    assert _header(board, "policy") == ["policy"] + [m.label for m in columns]
    csv = pd.read_csv(out / "leaderboard.csv")
    assert [c for c in csv.columns if c in BY_NAME] == [m.name for m in columns]
    tex = (out / "leaderboard.tex").read_text()
    assert f"policy & {' & '.join(m.label for m in columns)} \\\\" in tex
    tests = pd.DataFrame([dict(zip(_header(board, "policy | vs"), row)) for row in
                          [[c.strip() for c in line.strip("|").split("|")]
                           for line in board.splitlines()
                           if re.match(r"\| linucb \| (single:lexical|static_union) \|", line)]])
    assert sorted(set(tests["metric"])) == sorted(m.name for m in METRICS if m.tested)
    assert "(highest reward, recall, any-rel and nDCG@10; lowest regret and cost)" in board
    terminal = terminal_summary(records, order)
    head = terminal.splitlines()[2].split()
    assert head[:2] == ["policy", "tuned"]
    # every terminal column; cost too, since these runs paid for arm calls
    assert " ".join(head[2:]) == " ".join(m.label for m in columns if m.terminal)
    assert summary(records, order)["cost"].gt(0).all()


def test_optional_latency_columns_show_only_when_records_carry_them(finished):
    _, out = finished
    results = load_folder(out)
    records, order = _with_latency(results.records), results.order
    board = markdown(records, "t", order, results.topics)
    header = _header(board, "policy")
    assert header[-3:] == ["cost", "latency ms", "p95 ms"]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in board.splitlines()
            if line.startswith("| linucb | ")]
    assert rows[0][-2].startswith("**1.0500") and rows[0][-1].startswith("**3.0500")  # min
    assert "lowest regret, cost, latency ms and p95 ms)" in board
    csv = pd.read_csv(io.StringIO(csv_text(records, order)))
    assert csv.loc[csv["policy"] == "linucb", "latency_ms"].item() == pytest.approx(1.05)
    assert "latency ms & p95 ms" in latex_text(records, order)
    terminal = terminal_summary(records, order).splitlines()[2]
    assert "latency ms" in terminal and "p95 ms" not in terminal
    # a record without latency (made before it was measured) leaves a gap, not an error
    records[0]["metrics"].pop("latency_ms")
    assert "latency ms" in _header(markdown(records, "t", order), "policy")
    # and records that all lack it show the leaderboard as before
    plain = markdown(results.records, "t", order, results.topics)
    assert "latency" not in plain and "p95" not in plain


def test_run_metrics_reports_latency_when_the_trace_carries_it(finished):
    from ltrr.experiments.cell import Cell
    from ltrr.experiments.cell_runner import play, tuning_score
    from ltrr.experiments.runner import prepare

    path, _ = finished
    benchmark = load_benchmark(path)
    world, featurizer, _ = prepare(benchmark)
    _, trace = play(world, featurizer, Cell("linucb", "linucb", {}, 0, 150), 1.0)
    fields = {k: v for k, v in vars(trace).items() if k != "latency"}
    plain, _, _ = run_metrics(SimpleNamespace(**fields), world)
    assert not set(LATENCY) & set(plain)
    latency = np.linspace(1.0, 20.0, len(trace.plan))
    timed, _, _ = run_metrics(SimpleNamespace(**fields, latency=latency), world)
    assert timed["latency_ms"] == pytest.approx(float(latency.mean()))
    assert timed["latency_p95_ms"] == pytest.approx(float(np.percentile(latency, 95)))
    assert list(timed) == [m.name for m in METRICS]
    assert {k: v for k, v in timed.items() if k not in LATENCY} == plain
    for name in TUNABLE:  # every tuning metric scores a cell as the record reports it
        assert tuning_score(trace, world, name) == pytest.approx(plain[name]), name


def test_ordered_refuses_an_undeclared_or_a_missing_required_metric():
    values = {m.name: 0 for m in METRICS if m.record}
    assert list(ordered(dict(reversed(values.items())))) == list(values)
    with pytest.raises(ValueError, match=r"not declared .*\['vibes'\]"):
        ordered({**values, "vibes": 1.0})
    del values[HEADLINE]
    with pytest.raises(ValueError, match=r"missing: \['ndcg@10'\]"):
        ordered(values)


@pytest.mark.parametrize("metric", ["vibes", "regret_oracle", "latency_ms", "ndcg@5"])
def test_an_unknown_or_untunable_tuning_metric_is_refused_with_the_list(tmp_path, metric):
    path = write_benchmark(tmp_path, BENCHMARK.replace(
        'name = "linucb"', f'name = "linucb"\ngrid = {{ alpha = [1.0] }}\n[tuning]\nseeds = [7]\n'
                           f'metric = "{metric}"', 1))
    with pytest.raises(InputError) as err:
        load_benchmark(path)
    assert str(err.value) == (f"{path}, field 'tuning.metric': unknown metric '{metric}' "
                              f"(choose from {', '.join(TUNABLE)})")


@pytest.mark.parametrize("metric", TUNABLE)
def test_every_tunable_metric_is_accepted(tmp_path, metric):
    path = write_benchmark(tmp_path, BENCHMARK.replace(
        'name = "linucb"', f'name = "linucb"\ngrid = {{ alpha = [1.0] }}\n[tuning]\nseeds = [7]\n'
                           f'metric = "{metric}"', 1))
    assert load_benchmark(path).tuning.metric == metric


def test_declarations_are_consistent():
    assert len(BY_NAME) == len(METRICS)
    assert BY_NAME[HEADLINE].tested and BY_NAME[HEADLINE].label == "nDCG@10"
    with pytest.raises(ValueError, match="tunable metric must be better='max'"):
        Metric("regret", "regret", "min", tunable=True)
    with pytest.raises(ValueError, match="a tested metric needs per-topic values"):
        Metric("cands", "cands", tested=True)


def _docs_table() -> list[list[str]]:
    text = (REPO / "docs" / "benchmark-format.md").read_text()
    start = text.index("| metric | leaderboard column |")
    lines = text[start:].split("\n\n")[0].splitlines()[2:]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines]


def test_the_docs_list_every_declared_metric_and_the_tuning_metrics():
    def yes(flag: bool) -> str:
        return "yes" if flag else ""

    assert _docs_table() == [
        [f"`{m.name}`", m.label or "", m.better or "", yes(m.per_topic), yes(m.tunable),
         yes(m.tested), m.record or "optional"] for m in METRICS]
    text = (REPO / "docs" / "benchmark-format.md").read_text()
    assert f'metric = "reward"              # {" | ".join(TUNABLE)}' in text
