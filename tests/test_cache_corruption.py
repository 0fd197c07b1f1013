"""Broken cache entries under LTRR_HOME are named on stderr and rebuilt, with unchanged numbers;
temporaries of killed builds are cleaned; an entry that cannot be removed stops the run with
one message and the command that clears it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltrr.arms import build_arm
from ltrr.arms.base import MANIFEST, atomic_build
from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.paths import host_name, stale_temporaries, temporary_sibling
from ltrr.arms.lists import arm_lists
from worlds import music_dataset
from worlds import paraphrase_dataset
from worlds import write_benchmark


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An LTRR_HOME of this test's own (its entries are broken on purpose)."""
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def metrics_of(out: Path) -> dict:
    return {p.name: json.loads(p.read_text())["metrics"] for p in sorted(out.glob("*-seed*.json"))}


def run(path: Path, out: Path) -> dict:
    assert main(["run", str(path), "--out", str(out), "--quiet", "--seeds", "0",
                 "--stream-length", "120", "--logs", "none"]) == 0
    return metrics_of(out)


@pytest.fixture
def reference(home, tmp_path):
    path = write_benchmark(tmp_path)
    return path, run(path, tmp_path / "first")


def test_truncated_candidate_list_is_named_and_rebuilt(reference, home, tmp_path, capsys):
    path, first = reference
    # the lexical arm's lists (asked deeper where a tie group reaches the end of a list, so
    # there may be more than one file): break the one that holds every topic
    lists = sorted((home / "candidates").glob("lexical-*.npz"), key=lambda p: -p.stat().st_size)
    assert lists
    intact = lists[0].read_bytes()
    os.truncate(lists[0], 100)
    capsys.readouterr()
    assert run(path, tmp_path / "again") == first
    err = capsys.readouterr().err
    assert f"ltrr: {lists[0]}: corrupt cached candidate list (BadZipFile: " in err
    assert err.count("corrupt cached") == 1
    assert lists[0].read_bytes() == intact  # the same lists, computed again


def test_truncated_index_is_named_and_rebuilt(reference, home, tmp_path):
    """PISA would crash (SIGSEGV) on this file: the manifest's sizes catch it first. (The
    second run is a subprocess, so that a regression fails this test, not the session.)"""
    path, first = reference
    folder = next((home / "lexical").iterdir())
    sizes = json.loads((folder / MANIFEST).read_text())
    scores = next(name for name in sizes if name.endswith(".block_simdbp"))  # PISA's BM25 index
    os.truncate(folder / scores, 300)
    for lists in (home / "candidates").glob("lexical-*.npz"):
        lists.unlink()  # so that the index is searched again
    again = tmp_path / "again"
    done = subprocess.run([sys.executable, "-m", "ltrr.cli", "run", str(path), "--out",
                           str(again), "--quiet", "--seeds", "0", "--stream-length", "120",
                           "--logs", "none"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(again) == first
    err = done.stderr
    assert (f"ltrr: {folder}: corrupt cached lexical index ({scores} has 300 bytes, "
            f"{sizes[scores]} when built); rebuilding") in err
    assert (folder / scores).stat().st_size == sizes[scores]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # nothing aside


def test_index_without_manifest_that_fails_to_open_is_rebuilt(home, capsys):
    """An entry made before manifests: the manifest is written on first open; a file that
    does not load (here a truncated .npz) is still caught, by the error it raises."""
    arm = build_arm("fuzzy", music_dataset(), num_results=3)
    before = arm.transform(pd.DataFrame({"qid": ["1"], "query": ["silvr crow"]}))
    folder = arm.index_dir
    (folder / MANIFEST).unlink()
    os.truncate(folder / "names.npz", 50)
    again = build_arm("fuzzy", music_dataset(), num_results=3)
    pd.testing.assert_frame_equal(again.transform(
        pd.DataFrame({"qid": ["1"], "query": ["silvr crow"]})), before)
    assert again.index_source == "built"
    assert f"ltrr: {folder}: corrupt cached fuzzy index (BadZipFile: " in capsys.readouterr().err
    assert (folder / MANIFEST).is_file()


def test_truncated_embeddings_are_rebuilt(home, capsys):
    queries = pd.DataFrame({"qid": ["a"], "query": ["songs to dance to at a disco"]})
    arm = build_arm("dense", paraphrase_dataset(), num_results=3)
    before = arm.transform(queries)
    vectors = arm.index_dir / "vecs.f4"
    size = vectors.stat().st_size
    os.truncate(vectors, size // 2)
    again = build_arm("dense", paraphrase_dataset(), num_results=3)
    pd.testing.assert_frame_equal(again.transform(queries), before, check_exact=False,
                                  atol=1e-5)
    assert (f"ltrr: {arm.index_dir}: corrupt cached dense index (vecs.f4 has {size // 2} "
            f"bytes, {size} when built); rebuilding") in capsys.readouterr().err


def test_an_entry_that_cannot_be_removed_stops_with_the_command_that_clears_it(
        home, monkeypatch):
    arm = build_arm("lexical", music_dataset(), num_results=3).load()
    folder = arm.index_dir
    (folder / "fwd").write_bytes(b"")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("ltrr.paths.os.rename", refuse)
    with pytest.raises(InputError) as caught:
        build_arm("lexical", music_dataset(), num_results=3).load()
    assert str(caught.value).startswith(f"{folder}: corrupt cached lexical index (fwd has 0 "
                                        "bytes, ")
    assert str(caught.value).endswith(f"; clear it with: rm -r {folder}")


def test_candidate_list_of_other_topics_is_not_taken(home, capsys):
    """A file that reads but does not cut into these topics' lists is rebuilt, not used."""
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["golden raven", "silver crow"]})
    arm = build_arm("lexical", music_dataset())
    lists = arm_lists(arm, topics, 3)
    path = next((home / "candidates").glob("lexical-*.npz"))
    with np.load(path) as data:
        arrays = {key: data[key] for key in ("docnos", "scores", "offsets")}
    with open(path, "wb") as out:  # the lists of the first topic only
        np.savez(out, docnos=arrays["docnos"], scores=arrays["scores"],
                 offsets=arrays["offsets"][:-1])
    again = arm_lists(arm, topics, 3)
    assert [d.tolist() for d in again.docnos] == [d.tolist() for d in lists.docnos]
    assert "its offsets do not cut" in capsys.readouterr().err


def test_temporaries_of_killed_builds_are_removed_and_live_ones_kept(home):
    target = home / "lexical" / "entry"
    target.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    killed = target.parent / f".{target.name}.tmp-{host_name()}-{dead}-0badc0de"
    killed.mkdir()
    live = temporary_sibling(target)  # this process: alive
    live.mkdir()
    elsewhere = target.parent / f".{target.name}.tmp-otherhost-{dead}-0badc0de"
    elsewhere.mkdir()  # another host's build on a shared file system: never touched
    assert stale_temporaries(target) == [killed]
    assert atomic_build(target, lambda tmp: tmp.mkdir()) is True
    assert not killed.exists() and live.exists() and elsewhere.exists()
    assert json.loads((target / MANIFEST).read_text()) == {}
