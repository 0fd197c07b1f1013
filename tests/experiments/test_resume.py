"""A killed ``ltrr run`` resumed gives the results of one that ran through: the tuning
scores and records its temporary folder holds are kept (not played again), the rest is
played, the stale folder is removed. Killed with SIGKILL in a subprocess, during tuning and
during the reported cells."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import ltrr.experiments.cell_runner as cells_module
from ltrr.experiments.runner import run_benchmark
from worlds import BENCHMARK, results_of, start_and_kill, write_benchmark

ROOT = Path(__file__).resolve().parents[2]
TUNED = BENCHMARK.replace("length = 150", "length = 1500") + """
[tuning]
seeds = [100, 101]

[[policies]]
name = "epsilon_greedy"
grid = { epsilon = [0.05, 0.1, 0.2] }
"""
N_TUNING, N_REPORTED = 3 * 2, 5 * 2


def command(path: Path) -> list[str]:
    return ["run", str(path), "--out", "results", "--quiet"]


def run_here(path: Path, cwd: Path, monkeypatch) -> Path:
    """``ltrr run`` in-process, in ``cwd``, with the command line the subprocess had."""
    monkeypatch.chdir(cwd)
    return run_benchmark(path, out="results", progress=False,
                         command="ltrr " + " ".join(command(path)))


def kill_when(path: Path, cwd: Path, pattern: str, count: int) -> list[Path]:
    """Kill ``ltrr run`` in ``cwd`` once ``count`` files match ``pattern`` under its
    temporary folder; the finished cells' files there then (scores, records)."""
    start_and_kill(command(path), cwd, f".results.tmp-*/{pattern}", count)
    return sorted([*cwd.glob(".results.tmp-*/.tuning-cells/*.json"),
                   *cwd.glob(".results.tmp-*/*-seed*.json")])


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    return write_benchmark(tmp, TUNED)


@pytest.fixture(scope="module")
def through(tuned, tmp_path_factory):
    """The results of a run that was never stopped."""
    cwd = tmp_path_factory.mktemp("through")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return results_of(run_here(tuned, cwd, monkeypatch))


@pytest.mark.parametrize("phase", ["tuning", "reported"])
def test_killed_run_resumed_gives_the_results_of_one_that_ran_through(
        phase, tuned, through, tmp_path, monkeypatch):
    if phase == "tuning":
        left = kill_when(tuned, tmp_path, ".tuning-cells/*.json", 2)
        assert 2 <= len(left) < N_TUNING and all(p.parent.name == ".tuning-cells" for p in left)
    else:
        left = kill_when(tuned, tmp_path, "*-seed*.json", 3)
        records = [p for p in left if p.parent.name != ".tuning-cells"]
        assert 3 <= len(records) < N_REPORTED
        walls = {p.name: json.loads(p.read_text())["provenance"]["wall_time_s"] for p in records}
    plays = []
    played = cells_module.play
    monkeypatch.setattr(cells_module, "play",
                        lambda *args, **kw: plays.append(1) or played(*args, **kw))
    out = run_here(tuned, tmp_path, monkeypatch)
    assert len(plays) == N_TUNING + N_REPORTED - len(left)  # what was finished is kept
    resumed = results_of(out)
    assert resumed.keys() == through.keys()
    for name, value in through.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(resumed[name], value)
        else:
            assert resumed[name] == value, name
    if phase == "reported":  # the killed run's records themselves, not recomputed ones
        for name, wall in walls.items():
            assert json.loads((out / name).read_text())["provenance"]["wall_time_s"] == wall
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".results")]
    assert not (out / ".tuning-cells").exists()


def test_a_stale_folder_of_another_file_is_not_taken(tuned, through, tmp_path, monkeypatch):
    """Records of a killed run of another benchmark file (or stream length) are not kept."""
    left = kill_when(tuned, tmp_path, "*-seed*.json", 1)
    assert left
    other = tuned.with_name("other.toml")
    other.write_text(tuned.read_text().replace("length = 1500", "length = 1400"))
    plays = []
    played = cells_module.play
    monkeypatch.setattr(cells_module, "play",
                        lambda *args, **kw: plays.append(1) or played(*args, **kw))
    monkeypatch.chdir(tmp_path)
    out = run_benchmark(other, out="results", progress=False)
    assert len(plays) == N_TUNING + N_REPORTED
    assert {json.loads(p.read_text())["stream_length"] for p in out.glob("*-seed*.json")} \
        == {1400}
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".results")]
