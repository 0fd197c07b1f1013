"""``ltrr run`` end to end on a tiny BEIR folder: records, logs, leaderboard, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from worlds import BENCHMARK, write_benchmark


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    path = write_benchmark(tmp)
    out = tmp / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return path, out


def test_writes_records_logs_leaderboard_plot(finished):
    _, out = finished
    names = sorted(p.name for p in out.iterdir())
    for label in ("single-lexical", "static_union", "linucb", "oracle"):
        for seed in (0, 1):
            assert f"{label}-seed{seed}.json" in names
        assert f"{label}-seed0.decisions.parquet" in names
        assert f"{label}-seed1.decisions.parquet" not in names  # logs: first seed only
    assert "LEADERBOARD.md" in names and "regret.png" in names
    record = json.loads((out / "linucb-seed1.json").read_text())
    prov = record["provenance"]
    assert prov["seed"] == 1 and len(prov["benchmark_sha256"]) == 64
    assert prov["packages"]["numpy"] == np.__version__
    assert record["metrics"]["regret_oracle"] >= 0
    assert len(record["curves"]["regret_oracle"]) == len(record["curves"]["steps"])
    oracle = json.loads((out / "oracle-seed0.json").read_text())
    assert oracle["metrics"]["regret_oracle"] == 0.0


def test_the_run_ends_with_a_summary_a_terminal_can_show(finished, capsys):
    """``ltrr run`` prints the main columns with intervals, one row per policy in the
    file's order, the paired tests, and where the full leaderboard is (not its Markdown).
    Run again on the finished folder, every cell is kept and only the summary is made."""
    from ltrr.results.folder import load_folder
    from ltrr.results.leaderboard import summary

    path, out = finished
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("tiny (version 1): 2 seeds x 150 queries, budget 12, "
                               "pbm/navigational users paying clicks; mean")
    head = lines[2].split()
    assert head[:2] == ["policy", "tuned"] and "nDCG@10" in head and "cost" not in head
    assert [line.split()[0] for line in lines[3:7]] == ["single:lexical", "static_union",
                                                        "linucb", "oracle"]
    linucb = summary(load_folder(out).records).set_index("policy").loc["linucb"]
    assert f"{linucb['reward']:.4f} [{linucb['reward_low']:.4f}" in lines[5]
    assert "Paired tests, Holm-corrected p" in text and "| policy |" not in text
    assert f"full: {out / 'LEADERBOARD.md'})" in text


def test_decision_log_is_complete(finished):
    _, out = finished
    log = pd.read_parquet(out / "linucb-seed0.decisions.parquet")
    assert len(log) == 150
    assert {"step", "qid", "query", "action", "action_index", "propensity", "reward",
            "action_set", "shown", "clicks", "candidates_lexical", "timestamp"} <= set(log.columns)
    assert any(c.startswith("ctx_") for c in log.columns)
    assert log["propensity"].between(0, 1).all()
    record = json.loads((out / "linucb-seed0.json").read_text())
    assert log["reward"].mean() == pytest.approx(record["metrics"]["reward"])


def test_leaderboard_lists_every_policy(finished):
    _, out = finished
    board = (out / "LEADERBOARD.md").read_text()
    for label in ("single:lexical", "static_union", "linucb", "oracle"):
        assert f"| {label} |" in board
    assert "Paired comparisons" in board


def test_same_file_and_seed_give_identical_numbers(finished, tmp_path):
    """Also with seeds run in two worker processes."""
    path, out = finished
    again = tmp_path / "again"
    assert main(["run", str(path), "--out", str(again), "--quiet", "--seeds", "0,1",
                 "--policies", "linucb,oracle", "--logs", "none", "--jobs", "2"]) == 0
    for name in ("linucb-seed1.json", "oracle-seed1.json", "linucb-seed0.json"):
        a, b = json.loads((out / name).read_text()), json.loads((again / name).read_text())
        assert a["metrics"] == b["metrics"]
        assert a["curves"] == b["curves"]
    a = json.loads((out / "linucb-seed0.json").read_text())["metrics"]
    b = json.loads((out / "linucb-seed1.json").read_text())["metrics"]
    assert a != b


def test_rerun_of_some_policies_keeps_the_others(finished, tmp_path):
    path, out = finished
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    assert main(["run", str(path), "--out", str(copy), "--quiet", "--seeds", "0",
                 "--policies", "oracle"]) == 0
    assert len(list(copy.glob("*-seed*.json"))) == 8
    assert not list(tmp_path.glob(".copy*"))  # no temporary folder left behind


def test_run_refuses_loop_options_for_an_ope_benchmark(tmp_path, capsys) -> None:
    """``ltrr run`` hands files with an [ope] table to the ground-truth runner; loop-only
    options are refused before anything runs or is written."""
    spec = tmp_path / "ope-x.toml"
    spec.write_text('[ope]\nbase = "music.toml"\nseeds = [0]\nstream_length = 10\n'
                    'logger = "uniform"\ntargets = ["static_union"]\n')
    out = tmp_path / "out"
    assert main(["run", str(spec), "--seeds", "1", "--logs", "all", "--jobs", "2",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"ltrr run: error: {spec}: --seeds, --logs: not used by an [ope] "
                           "benchmark (its seeds and stream length are set in its [ope] table)")
    assert not out.exists()


def test_post_retrieval_probe_is_paid_by_policies_that_read_the_context(tmp_path):
    """With post-retrieval features every arm is probed for its top probe_depth candidates
    before the plan is chosen; LinUCB reads them and pays: 3 arm calls and 3 x 4 candidates
    per query, at the benchmark's prices, in its records and its log. A fixed plan reads no
    features and pays nothing."""
    text = (BENCHMARK.replace('groups = ["query", "memory"]',
                              'groups = ["query", "memory", "post_retrieval"]\nprobe_depth = 4')
            .replace("[ranking]", "[cost]\nper_arm_call = 0.1\nper_candidate = 0.01\n"
                     'sources = { per_arm_call = "test", per_candidate = "test" }\n\n[ranking]'))
    path = write_benchmark(tmp_path, text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--seeds", "0",
                 "--stream-length", "60", "--policies", "single:lexical,linucb"]) == 0
    probe_cost = 3 * 0.1 + 12 * 0.01
    lin = json.loads((out / "linucb-seed0.json").read_text())["metrics"]
    fixed = json.loads((out / "single-lexical-seed0.json").read_text())["metrics"]
    assert (lin["probe_arm_calls"], lin["probe_candidates"]) == (3, 12)
    assert lin["probe_cost"] == pytest.approx(probe_cost)
    assert (fixed["probe_arm_calls"], fixed["probe_candidates"], fixed["probe_cost"]) == (0, 0, 0.0)
    assert fixed["arm_calls"] == 1.0 and fixed["cost"] == pytest.approx(0.1 + 12 * 0.01)
    log = pd.read_parquet(out / "linucb-seed0.decisions.parquet")
    plan_calls = (log[[c for c in log.columns if c.startswith("candidates_")]] > 0).sum(axis=1)
    drawn = log[[c for c in log.columns if c.startswith("candidates_")]].sum(axis=1)
    assert lin["arm_calls"] == pytest.approx(plan_calls.mean() + 3)
    assert lin["candidates_drawn"] == pytest.approx(drawn.mean() + 12)
    assert np.allclose(log["probe_cost"], probe_cost)
    assert np.allclose(log["cost"], 0.1 * plan_calls + 0.01 * 12 + probe_cost)
    assert np.allclose(log["reward"], log["clicks_total"] - log["cost"])
    assert lin["reward"] == pytest.approx(lin["clicks"] - lin["cost"])
    board = (out / "LEADERBOARD.md").read_text()
    assert "pays a probe of 3 arm calls and 12 candidates per query (cost 0.42)" in board
