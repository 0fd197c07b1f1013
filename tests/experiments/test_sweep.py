"""``ltrr sweep``: a grid of policies x settings x seeds on the tiny BEIR benchmark, in a
process pool and on a Dask LocalCluster (same records), resumed after SIGKILL (same
records), and its bad input (one message, exit 2, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ltrr.experiments.cell_runner as cells_module
from ltrr.cli import main
from ltrr.experiments.sweep import load_sweep, run_sweep
from worlds import records_of, start_and_kill
from worlds import BENCHMARK, write_benchmark

ROOT = Path(__file__).resolve().parents[2]
SWEEP = """
[sweep]
name = "grid"
benchmarks = ["tiny.toml"]
seeds = [0, 1]
stream_length = 600

[[policies]]
name = "linucb"
grid = { alpha = [0.5, 2.0] }

[[policies]]
name = "thompson"
label = "ts"
params = { beta = 2.0 }
grid = { alpha = [1, 3] }

[[policies]]
name = "oracle"
"""
LABELS = ["linucb@alpha=0.5", "linucb@alpha=2.0", "ts@alpha=1", "ts@alpha=3", "oracle"]
FILES = ["linucb-alpha-0.5", "linucb-alpha-2.0", "ts-alpha-1", "ts-alpha-3", "oracle"]


def write_sweep(tmp: Path, text: str = SWEEP) -> Path:
    write_benchmark(tmp)
    path = tmp / "grid.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    path = write_sweep(tmp)
    assert main(["sweep", str(path), "--out", str(tmp / "pool"), "--jobs", "2", "--quiet"]) == 0
    return path, tmp / "pool" / "tiny"


def test_every_cell_has_its_record_and_the_leaderboard_its_row(swept):
    path, folder = swept
    names = {p.name for p in folder.iterdir()}
    assert {f"{f}-seed{s}.json" for f in FILES for s in (0, 1)} \
        == {n for n in names if n.endswith(".json")}
    assert {f"{f}-seed{s}.topics.parquet" for f in FILES for s in (0, 1)} <= names
    assert not [n for n in names if n.endswith(".decisions.parquet")]  # logs: none by default
    record = json.loads((folder / "ts-alpha-3-seed1.json").read_text())
    assert record["policy"] == "ts@alpha=3" and record["seed"] == 1
    assert record["policy_name"] == "thompson"
    assert record["policy_params"] == {"alpha": 3, "beta": 2.0, "reward_cap": 1.0}
    assert record["stream_length"] == 600 and "tuning" not in record
    prov = record["provenance"]
    assert prov["sweep"]["file"] == str(path) and len(prov["sweep"]["sha256"]) == 64
    assert prov["command"].startswith("ltrr sweep")
    board = (folder / "LEADERBOARD.md").read_text()
    assert board.startswith("# tiny leaderboard")
    rows = [line.split(" | ")[0][2:] for line in board.splitlines()
            if line.startswith("| ") and line[2:].split(" | ")[0] in LABELS]
    assert rows[:5] == LABELS
    alphas = [json.loads((folder / f"linucb-alpha-{a}-seed0.json").read_text())["metrics"]
              for a in ("0.5", "2.0")]
    assert alphas[0] != alphas[1]  # the setting reached the policy


def test_a_sweep_cell_is_the_run_of_that_policy_setting(swept, tmp_path):
    """The same numbers as ``ltrr run`` of a benchmark file with that policy's params."""
    path, folder = swept
    bench = tmp_path / "tiny.toml"
    text = (path.parent / "tiny.toml").read_text().replace("length = 150", "length = 600")
    bench.write_text(text.split("[[policies]]")[0]
                     + '[[policies]]\nname = "linucb"\nparams = { alpha = 2.0 }\n')
    assert main(["run", str(bench), "--out", str(tmp_path / "run"), "--seeds", "1",
                 "--quiet", "--logs", "none"]) == 0
    ran = json.loads((tmp_path / "run" / "linucb-seed1.json").read_text())
    cell = json.loads((folder / "linucb-alpha-2.0-seed1.json").read_text())
    assert cell["metrics"] == ran["metrics"] and cell["curves"] == ran["curves"]


def test_dask_local_cluster_gives_the_records_of_the_process_pool(swept, tmp_path):
    path, folder = swept
    run_sweep(path, out=tmp_path / "dask", dask_workers=2, progress=False,
              command=json.loads((folder / "oracle-seed0.json").read_text())
              ["provenance"]["command"])
    assert records_of(tmp_path / "dask" / "tiny") == records_of(folder)


def test_a_restart_plays_only_unfinished_or_changed_cells(swept, tmp_path, monkeypatch):
    path, folder = swept
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy / "tiny")
    (copy / "tiny" / "oracle-seed1.json").unlink()
    (copy / "tiny" / "ts-alpha-1-seed0.json").write_text('{"policy": "ts@alp')  # truncated
    record = json.loads((copy / "tiny" / "linucb-alpha-0.5-seed0.json").read_text())
    record["policy_params"]["alpha"] = 0.7  # made with another setting: not this cell
    (copy / "tiny" / "linucb-alpha-0.5-seed0.json").write_text(json.dumps(record))
    plays = []
    played = cells_module.play
    monkeypatch.setattr(cells_module, "play",
                        lambda world, featurizer, cell, *a, **kw:
                        plays.append(cell.label) or played(world, featurizer, cell, *a, **kw))
    command = json.loads((folder / "oracle-seed0.json").read_text())["provenance"]["command"]
    run_sweep(path, out=copy, jobs=1, progress=False, command=command)
    assert sorted(plays) == ["linucb@alpha=0.5", "oracle", "ts@alpha=1"]
    assert records_of(copy / "tiny") == records_of(folder)


def test_killed_sweep_restarted_ends_with_the_records_of_one_that_ran_through(swept, tmp_path):
    """SIGKILL to the sweep and its forked workers once 3 records exist, then run it again:
    the same record files with the same contents (but wall time) as an uninterrupted one."""
    path, folder = swept
    argv = ["sweep", str(path), "--out", "results", "--jobs", "2", "--quiet"]
    start_and_kill(argv, tmp_path, "results/tiny/*-seed*.json", 3)
    out = tmp_path / "results" / "tiny"
    left = records_of(out, drop=())
    assert 3 <= len(left) < 10
    done = subprocess.run([sys.executable, "-m", "ltrr.cli", *argv], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = {name: {**r, "provenance": {**r["provenance"], "command": "ltrr " + " ".join(argv)}}
                for name, r in records_of(folder).items()}
    assert records_of(out) == expected
    assert {name: records_of(out, drop=())[name] for name in left} == left  # kept, not redone
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("text, message", [
    ("[sweep]\nbenchmarks = []\n", "field 'sweep.benchmarks': expected a non-empty list of "
     "benchmark files, got []"),
    ('[sweep]\nbenchmarks = ["tiny.toml"]\nseed = [1]\n', "field 'sweep.seed': unknown key "
     "(expected one of name, description, benchmarks, seeds, stream_length, out, logs, tune)"),
    ('[sweep]\nbenchmarks = ["tiny.toml"]\nseeds = [1, 1]\n', "field 'sweep.seeds': expected a "
     "non-empty list of distinct integers >= 0, got [1, 1]"),
    ('[sweep]\nbenchmarks = ["nope.toml"]\n', "field 'sweep.benchmarks': benchmark "
     "'nope.toml': {dir}/nope.toml: no such benchmark file"),
    ('[sweep]\nbenchmarks = ["tiny.toml"]\n\n[[policies]]\nname = "oracle"\n\n[[policies]]\n'
     'name = "linucb"\ngrid = { alpah = [1.0] }\n', "field 'policies[1]': policy 'linucb': "
     "unknown param 'alpah' (known: alpha) (on benchmark {dir}/tiny.toml)"),
    ('[sweep]\nbenchmarks = ["tiny.toml"]\n\n[[policies]]\nname = "linucb"\nranker = "lm"\n',
     "field 'policies[0].ranker': unknown ranker 'lm' (the file declares none in "
     "[rankers.<name>] tables) (on benchmark {dir}/tiny.toml)"),
    ('[sweep]\nbenchmarks = ["tiny.toml"]\n\n[[policies]]\nname = "linucb"\nlabel = "a:b"\n\n'
     '[[policies]]\nname = "oracle"\nlabel = "a-b"\n', "field 'policies': policy labels 'a:b' "
     "and 'a-b' give the same record file name (make the labels differ in letters or digits)"),
])
def test_bad_sweep_files_get_one_message_and_nothing_is_written(text, message, tmp_path, capsys):
    path = write_sweep(tmp_path, text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"ltrr sweep: error: {path}, {message.format(dir=tmp_path)}\n"
    assert not out.exists()


def test_unreachable_scheduler_is_one_message_exit_2_and_nothing_written(tmp_path, capsys):
    path = write_sweep(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1",
                 "--connect-timeout", "1"]) == 2
    assert capsys.readouterr().err == (
        "ltrr sweep: error: field '--scheduler': cannot reach the Dask scheduler at "
        "'tcp://127.0.0.1:1' (OSError: Timed out trying to connect to tcp://127.0.0.1:1 "
        "after 1 s)\n")
    assert not out.exists()


def test_sweep_of_the_benchmarks_own_policies_expands_their_grids(tmp_path):
    text = BENCHMARK.replace('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [0.5, 1.0] }')
    write_benchmark(tmp_path, text + "\n[tuning]\nseeds = [9]\n")
    path = tmp_path / "own.toml"
    path.write_text('[sweep]\nbenchmarks = ["tiny.toml"]\nseeds = [9]\n')  # a tuning seed
    sweep = load_sweep(path)
    assert [p.label for p in sweep.benchmarks[0].policies] == [
        "single:lexical", "static_union", "linucb@alpha=0.5", "linucb@alpha=1.0", "oracle"]
    assert sweep.benchmarks[0].seeds == [9] and sweep.benchmarks[0].tuning is None
    assert sweep.out == Path("results") / "own"


def test_the_example_sweep_file_is_valid():
    sweep = load_sweep(ROOT / "benchmarks" / "sweeps" / "music-linucb-alpha.toml")
    assert [p.label for p in sweep.benchmarks[0].policies] == [
        "linucb@alpha=0.1", "linucb@alpha=0.25", "linucb@alpha=0.5", "linucb@alpha=1.0",
        "linucb@alpha=2.0", "static_union", "single:dense", "oracle"]
    assert sweep.benchmarks[0].stream_length == 5000 and sweep.benchmarks[0].seeds == [0, 1, 2, 3, 4]
    assert sweep.out == Path("results/sweeps/music-linucb-alpha")


def test_ltrr_reproduce_reruns_a_sweep_cell(swept):
    from ltrr.experiments.reproduce import reproduce

    path, folder = swept
    outcome = reproduce(folder / "ts-alpha-3-seed1.json")
    assert outcome.matches and outcome.compared > 20 and not outcome.notes
