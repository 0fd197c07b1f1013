"""``ltrr arms --latency``: per-query timing after a warm-up pass, its statistics, the CLI and
its bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ltrr.arms.latency as latency
from ltrr.cli import main
from ltrr.errors import InputError
from worlds import make_tiny_beir, report_world as world


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "ltrr_home"))


def test_statistics_are_numpys_percentiles_in_ms():
    seconds = [0.001, 0.002, 0.003, 0.010]
    row = latency.latency_row("lexical", 10, seconds)
    ms = np.array(seconds) * 1000
    assert row == {"arm": "lexical", "depth": 10, "mean_ms": 4.0,
                   "p50_ms": round(float(np.percentile(ms, 50)), 4),
                   "p95_ms": round(float(np.percentile(ms, 95)), 4),
                   "p99_ms": round(float(np.percentile(ms, 99)), 4)}
    assert row["p50_ms"] == 2.5 and row["p99_ms"] == pytest.approx(9.79)


def test_each_query_is_timed_alone_after_a_warm_up(monkeypatch):
    """The arm sees the warm-up batch first, then one-row frames at each depth, in order; the
    clock reads around each one-row call only."""
    calls = []
    real = latency.build_arm

    def spy(name, dataset, **kwargs):
        arm = real(name, dataset, **kwargs)
        transform = arm.transform

        def recorded(frame):
            calls.append((len(frame), arm.num_results))
            return transform(frame)

        arm.transform = recorded
        return arm

    ticks = iter(np.arange(0.0, 100.0, 0.5))
    monkeypatch.setattr(latency, "build_arm", spy)
    monkeypatch.setattr(latency.time, "perf_counter", lambda: float(next(ticks)))
    report = latency.measure_latency(world(), ["lexical", "fuzzy"], depths=[5, 2])
    assert report.queries == 4 and report.depths == [2, 5]
    assert calls == [(4, 5), *[(1, 2)] * 4, *[(1, 5)] * 4] * 2
    assert [(r["arm"], r["depth"]) for r in report.rows] == [
        ("lexical", 2), ("lexical", 5), ("fuzzy", 2), ("fuzzy", 5)]
    assert all(r["mean_ms"] == r["p50_ms"] == r["p99_ms"] == 500.0 for r in report.rows)


def test_cli_json_and_bad_input(tmp_path, capsys):
    folder = make_tiny_beir(tmp_path / "tiny")
    assert main(["arms", f"beir:{folder}", "--arms", "lexical,fuzzy", "--latency",
                 "--depths", "5,10", "--latency-queries", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["queries"] == 6 and out["depths"] == [5, 10]
    rows = out["latency_ms"]
    assert [(r["arm"], r["depth"]) for r in rows] == [("lexical", 5), ("lexical", 10),
                                                       ("fuzzy", 5), ("fuzzy", 10)]
    for r in rows:
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]
    assert out["machine"]["cpus"] >= 1
    for bad, message in (("0,5", "--depths needs distinct integers >= 1, comma-separated, "
                                 "got '0,5'"),
                         ("5,5", "--depths needs distinct integers >= 1, comma-separated, "
                                 "got '5,5'"),
                         ("ten", "--depths needs distinct integers >= 1, comma-separated, "
                                 "got 'ten'")):
        assert main(["arms", f"beir:{folder}", "--latency", "--depths", bad]) == 2
        assert capsys.readouterr().err.strip() == f"ltrr arms: error: field '--depths': {message}"
    assert main(["arms", f"beir:{folder}", "--latency", "--latency-queries", "0"]) == 2
    assert "--latency-queries must be >= 1, got 0" in capsys.readouterr().err
    dataset = world()
    dataset.topics = dataset.topics.iloc[:0]
    with pytest.raises(InputError, match="no test topics"):
        latency.measure_latency(dataset, ["lexical"])
