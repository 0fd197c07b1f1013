"""A file that cannot be written (a full disk) stops ``ltrr run`` / ``ltrr sweep`` with one
message naming the file and the cause, exit code 74, every finished record kept whole (the
half-written file removed), and the same command run again resumes and ends with the records
of a run that was never stopped. The failure is a patched writer raising ``ENOSPC`` on its
k-th result file (in a subprocess, so the stopped run's process is gone when the rerun looks
at its folder, as after a real failure), with one worker and with forked workers; and, where
this process may mount one, a real tmpfs that fills up."""

from __future__ import annotations

import copy
import errno
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import ltrr.experiments.cell_runner as cells_module
from ltrr.cli import main
from ltrr.errors import WRITE_FAILED, WriteError
from ltrr.paths import write_atomically
from worlds import results_of
from worlds import write_benchmark
from worlds import records_of

ROOT = Path(__file__).resolve().parents[2]
N_CELLS = 4 * 2  # test_run_cli's BENCHMARK: 4 policies x seeds 0, 1

# ``ltrr *argv`` with pandas' parquet writer or pathlib's text writer failing (ENOSPC) on the
# k-th result file this process (or forked worker) writes, after writing half of it
FAILING = """
import errno, pathlib, sys
import pandas as pd
from ltrr.cli import main

writer, k, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
owner, name = (pd.DataFrame, "to_parquet") if writer == "parquet" else (pathlib.Path, "write_text")
real, calls = getattr(owner, name), []

def failing(self, *args, **kwargs):
    target = pathlib.Path(args[0] if writer == "parquet" else self)
    if "-seed" in target.name:
        calls.append(target)
        if len(calls) == k:
            target.write_bytes(b"half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
    return real(self, *args, **kwargs)

setattr(owner, name, failing)
sys.exit(main(argv))
"""


def run_failing(writer: str, k: int, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FAILING, writer, str(k), *argv], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"},
                          capture_output=True, text=True, timeout=300)


def the_message(proc: subprocess.CompletedProcess, command: str) -> str:
    """The one line the command said about its failure (the index build's own log lines
    aside), with no traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr
    said = [line for line in proc.stderr.splitlines() if line.startswith("ltrr")]
    assert len(said) == 1 and said[0].startswith(f"ltrr {command}: error: cannot write "), said
    return said[0]


def check_kept(folder: Path, failed: Path, count: int) -> dict[str, float]:
    """``folder`` holds ``count`` finished records, each whole and with its topic table, no
    temporary and nothing at the path of the failed write; their wall times."""
    records = sorted(folder.glob("*-seed*.json"))
    assert len(records) == count >= 1
    assert not failed.exists()
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
    walls = {}
    for path in records:
        walls[path.name] = json.loads(path.read_text())["provenance"]["wall_time_s"]
        assert len(pd.read_parquet(path.with_name(path.name.replace(".json", ".topics.parquet"))))
    return walls


def same_results(resumed: dict, through: dict) -> None:
    assert resumed.keys() == through.keys()
    for name, value in through.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(resumed[name], value)
        else:
            assert resumed[name] == value, name


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_benchmark(tmp_path_factory.mktemp("write-failure"))


@pytest.fixture(scope="module")
def through(tiny, tmp_path_factory) -> dict:
    """The results of ``ltrr run`` on the tiny benchmark, never stopped."""
    cwd = tmp_path_factory.mktemp("through")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(cwd)
        assert main(["run", str(tiny), "--out", "results", "--quiet"]) == 0
    return results_of(cwd / "results")


@pytest.mark.parametrize("writer, k, jobs", [("parquet", 3, 1), ("json", 3, 1),
                                             ("parquet", 3, 2)])
def test_a_failed_write_keeps_the_finished_records_and_the_rerun_resumes(
        writer, k, jobs, tiny, through, tmp_path, monkeypatch):
    argv = ["run", str(tiny), "--out", "results", "--quiet", "--jobs", str(jobs)]
    proc = run_failing(writer, k, argv, tmp_path)
    assert proc.returncode == WRITE_FAILED == 74
    message = the_message(proc, "run")
    found = re.fullmatch(r"ltrr run: error: cannot write (\S+): No space left on device; the "
                         r"(\d+) finished records? (?:is|are) kept in (\S+); free some space, "
                         r"then run the same command again to resume", message)
    assert found, message
    failed, count, kept = Path(found[1]), int(found[2]), tmp_path / found[3]
    assert kept.parent == tmp_path and kept.name.startswith(".results.tmp-")
    assert failed.parent == Path(found[3])
    assert failed.name.endswith(".topics.parquet" if writer == "parquet" else ".json")
    if jobs == 1:  # seed 0 writes a cell's topic table, decision log, then its record
        assert count == (1 if writer == "parquet" else 2)
    walls = check_kept(kept, tmp_path / failed, count)
    assert not (tmp_path / "results").exists()

    plays = []
    played = cells_module.play
    monkeypatch.setattr(cells_module, "play",
                        lambda *args, **kw: plays.append(1) or played(*args, **kw))
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    if jobs == 1:  # forked workers play in their own processes
        assert len(plays) == N_CELLS - count  # what was finished is not played again
    out = tmp_path / "results"
    same_results(results_of(out), through)
    for name, wall in walls.items():  # the stopped run's records themselves
        assert json.loads((out / name).read_text())["provenance"]["wall_time_s"] == wall
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".results")] == []


SWEEP = """
[sweep]
benchmarks = ["tiny.toml"]
seeds = [0, 1]

[[policies]]
name = "linucb"
grid = { alpha = [0.5, 2.0] }

[[policies]]
name = "oracle"
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failed_write_in_a_sweep_keeps_its_records_and_the_rerun_resumes(
        jobs, tiny, tmp_path, monkeypatch):
    sweep = tiny.with_name(f"grid-{jobs}.toml")
    sweep.write_text(SWEEP)
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "through"), "--jobs", "1",
                 "--quiet"]) == 0
    argv = ["sweep", str(sweep), "--out", str(tmp_path / "stopped"), "--jobs", str(jobs),
            "--quiet"]
    proc = run_failing("json", 2, argv, tmp_path)
    assert proc.returncode == 74
    message = the_message(proc, "sweep")
    folder = tmp_path / "stopped" / "tiny"
    where = re.escape(str(folder))
    found = re.fullmatch(rf"ltrr sweep: error: cannot write {where}/(\S+\.json): No space "
                         rf"left on device; the (\d+) finished records? (?:is|are) kept in "
                         rf"{where}; free some space, then run the same command again to "
                         r"resume", message)
    assert found, message
    check_kept(folder, folder / found[1], int(found[2]))
    assert not (folder / "LEADERBOARD.md").exists()

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    ran = records_of(tmp_path / "through" / "tiny")
    assert len(ran) == 3 * 2 and records_of(folder) == ran
    assert (folder / "LEADERBOARD.md").read_text() == \
        (tmp_path / "through" / "tiny" / "LEADERBOARD.md").read_text()


def test_a_leaderboard_that_cannot_be_written_changes_nothing(tiny, tmp_path, monkeypatch,
                                                              capsys):
    """``ltrr leaderboard`` on a full disk: the message, 74, the old files as they were and
    no temporary left."""
    folder = tmp_path / "results"
    assert main(["run", str(tiny), "--out", str(folder), "--quiet", "--seeds", "0",
                 "--policies", "linucb,oracle", "--logs", "none"]) == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (folder / "LEADERBOARD.md").unlink()
    del before["LEADERBOARD.md"]
    capsys.readouterr()
    real = Path.write_bytes

    def full(self, data):
        real(self, data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)  # regret.png, after the text files
    assert main(["leaderboard", str(folder)]) == 74
    err = capsys.readouterr().err
    assert err == (f"ltrr leaderboard: error: cannot write {folder / 'regret.png'}: No space "
                   "left on device\n")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_write_atomically_names_the_file_and_removes_the_half_written_one(tmp_path):
    target = tmp_path / "record.json"

    def half(tmp: Path) -> None:
        tmp.write_text("{\"half")
        raise OSError(errno.EDQUOT, "Error writing bytes to file. Detail: [errno 122] ...")

    with pytest.raises(WriteError) as caught:
        write_atomically(target, half)
    assert str(caught.value) == f"cannot write {target}: {os.strerror(errno.EDQUOT)}"
    assert caught.value.errno == errno.EDQUOT and caught.value.remedy() == "free some space"
    assert list(tmp_path.iterdir()) == []
    caught.value.kept = "the 2 finished records are kept in x"
    again = pickle.loads(pickle.dumps(caught.value))  # as a forked worker's error arrives
    assert type(again) is WriteError and str(again) == str(caught.value)
    assert again.errno == errno.EDQUOT
    assert WriteError(target, OSError(errno.EROFS, "")).remedy() == "make the folder writable"


def _mount_tmpfs(where: Path, size: str) -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


def test_a_real_full_tmpfs(tiny, through, tmp_path, monkeypatch):
    """``ltrr run`` into a 160 KiB tmpfs (the run writes about 330 KiB): pyarrow's or Python's
    own ENOSPC, the message and 74; grown to 2 MiB, the same command resumes and completes."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "160k"):
        pytest.skip("cannot mount a tmpfs here (needs root and mount permission)")
    try:
        argv = ["run", str(tiny), "--out", str(disk / "results"), "--quiet"]
        proc = subprocess.run([sys.executable, "-m", "ltrr.cli", *argv], cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 74
        message = the_message(proc, "run")
        found = re.fullmatch(r"ltrr run: error: cannot write (\S+): No space left on device; "
                             r"the (\d+) finished records? (?:is|are) kept in (\S+); free some "
                             r"space, then run the same command again to resume", message)
        assert found, message
        check_kept(Path(found[3]), Path(found[1]), int(found[2]))
        subprocess.run(["mount", "-o", "remount,size=2m", str(disk)], check=True)
        monkeypatch.chdir(tmp_path)
        assert main(argv) == 0
        resumed, ran = results_of(disk / "results"), copy.deepcopy(through)
        for found in (resumed, ran):  # the stopped run's command line names another --out
            found.pop("LEADERBOARD.md")
            for name in found:
                if name.endswith(".json") and "provenance" in found[name]:
                    found[name]["provenance"].pop("command")
        same_results(resumed, ran)
    finally:
        subprocess.run(["umount", str(disk)], check=False)
