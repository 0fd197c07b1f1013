"""The locked environment: ``requirements/lock.txt`` pins every dependency with hashes, tox
installs it, a record says whether it was made in it (``provenance.environment``), and CI's
sample of committed records to reproduce names real records."""

from __future__ import annotations

import configparser
import hashlib
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from ltrr.experiments.reproduce import environment_notes, read_list
from ltrr.results import environment as env
from ltrr.results.records import RERUN_FIELDS, read_record

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / env.LOCK_FILE
COMMAND = ("pip-compile --allow-unsafe --extra=test --generate-hashes --no-emit-find-links "
           "--no-emit-index-url --output-file=requirements/lock.txt --strip-extras pyproject.toml")


def _entries(text: str) -> list[tuple[str, list[str]]]:
    """Each requirement of a pip-compile file (its continuation lines joined) and its hashes."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        if line.strip() and not line.startswith((" ", "#")):
            out.append((line.split()[0], re.findall(r"--hash=sha256:([0-9a-f]{64})", line)))
    return out


def test_the_lock_pins_every_package_exactly_with_hashes():
    text = LOCK.read_text()
    entries = _entries(text)
    assert len(entries) > 50
    for requirement, hashes in entries:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[^=\s]+", requirement), requirement
        assert hashes, f"{requirement} has no --hash"
    pins = env.read_lock(text)
    assert len(pins) == len(entries)
    assert pins["torch"] == "2.13.0+cpu"  # the CPU build, never a CUDA one
    for name in ("numba", "ranx", "sentence-transformers", "pytest", "setuptools"):
        assert name in pins, name


def test_the_lock_header_says_the_command_that_regenerates_it_and_the_docs_repeat_it():
    header = LOCK.read_text().split("\n\n")[0]
    assert f"#    {COMMAND}\n" in header + "\n"
    for doc in ("docs/reproducibility.md", "README.md"):
        assert COMMAND in " ".join((ROOT / doc).read_text().replace("\\\n", " ").split()), doc


def test_every_dependency_and_test_extra_is_locked_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = env.read_lock(LOCK.read_text())
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    assert "numba>=0.59" in project["dependencies"]
    assert any(r.startswith("ranx") for r in project["optional-dependencies"]["test"])
    for text in wanted:
        req = Requirement(text)
        name = env.normalise(req.name)
        assert name in pins, f"{text} is not in {env.LOCK_FILE}"
        assert req.specifier.contains(Version(pins[name]), prereleases=True), (text, pins[name])
        for extra in req.extras:  # dask[distributed]: the extra's package is locked too
            assert extra in pins, f"{text}: {extra}"


def test_tox_installs_the_lock_in_every_environment():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert f"-r {env.LOCK_FILE}" in tox["testenv"]["deps"].split("\n")
    assert tox["testenv"]["package"] == "editable"
    for name in ("tests", "music", "reproduce"):
        section = tox[f"testenv:{name}"]
        assert "deps" not in section, f"{name} must install the lock the base section names"
    assert "--list results/REPRODUCED.txt" in tox["testenv:reproduce"]["commands"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("-e tests") < ci.index("-e reproduce")


def test_ci_reproduces_committed_records_of_each_family():
    """Every committed folder of records (each benchmark's, each sweep's; a study's variants,
    ``sweeps/<name>/<benchmark>/<users>/<reward>``, count as one family) has a record in CI's
    sample."""
    results = ROOT / "results"
    listed = read_list(results / "REPRODUCED.txt")

    def family(folder: Path) -> Path:
        return Path(*folder.parts[:3]) if folder.parts[0] == "sweeps" else folder

    families = set()
    for path in listed:
        record = read_record(path, RERUN_FIELDS)
        assert (ROOT / record["provenance"]["benchmark_file"]).is_file(), path
        families.add(family(path.resolve().parent.relative_to(results)))
    committed = {family(p.parent.relative_to(results)) for p in results.rglob("*-seed*.json")}
    assert {"music", "music-post", "music-b100", "music-ranking", "nfcorpus", "mixed",
            "nfcorpus-ranking"} <= {str(f) for f in committed}
    assert committed == families


def test_lines_names_and_versions_are_read_and_compared_exactly():
    text = ("# header\nPyYAML==6.0.4 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via x\n"
            "ir_datasets==0.6.3\ntorch==2.13.0+cpu \\\n    --hash=sha256:" + "b" * 64 + "\n"
            "dask[distributed]==2026.8.0\n"
            "pywin32==311 ; sys_platform == 'win32'\n--find-links /opt/wheels\n")
    pins = env.read_lock(text)
    assert pins == {"pyyaml": "6.0.4", "ir-datasets": "0.6.3", "torch": "2.13.0+cpu",
                    "dask": "2026.8.0"}  # pywin32's marker does not hold on Linux
    installed = {"pyyaml": "6.0.4", "ir-datasets": "0.6.3.0", "torch": "2.13.0"}
    assert env.differences(pins, installed) == {"dask": ["2026.8.0", None],
                                                "torch": ["2.13.0+cpu", "2.13.0"]}
    assert env.same_version("1.0", "1.0.0") and not env.same_version("2.13.0+cpu", "2.13.0")
    assert env.differs_text(env.differences(pins, installed)) == \
        "dask 2026.8.0 locked, not installed; torch 2.13.0+cpu locked, 2.13.0 installed"


def test_describe_a_lock_against_the_installed_packages(tmp_path):
    lock = tmp_path / "requirements" / "lock.txt"
    lock.parent.mkdir()
    lock.write_text("numpy==2.4.6 \\\n    --hash=sha256:" + "c" * 64 + "\n")
    sha = hashlib.sha256(lock.read_bytes()).hexdigest()
    assert env.describe(lock, tmp_path, {"numpy": "2.4.6", "other": "1"}) == {
        "lock": "requirements/lock.txt", "lock_sha256": sha, "locked": True, "differs": {}}
    assert env.describe(lock, tmp_path, {"numpy": "2.4.5"})["differs"] == \
        {"numpy": ["2.4.6", "2.4.5"]}
    assert env.describe(None) == {"lock": None, "lock_sha256": None, "locked": False,
                                  "differs": {}}


def test_this_process_s_environment_is_computed_once_and_copied():
    first = env.environment()
    assert first["lock"] == env.LOCK_FILE and first["locked"] == (not first["differs"])
    assert first["lock_sha256"] == hashlib.sha256(LOCK.read_bytes()).hexdigest()
    first["differs"]["x"] = ["1", "2"]
    assert "x" not in env.environment()["differs"]
    assert env._environment.cache_info().misses == 1


LOCKED = {"lock": "requirements/lock.txt", "lock_sha256": "d" * 64, "locked": True,
          "differs": {}}


@pytest.mark.parametrize("then, now, expected", [
    (LOCKED, LOCKED, []),
    (LOCKED, {**LOCKED, "locked": False, "differs": {"torch": ["2.13.0+cpu", "2.13.0"]}},
     ["the record was made in the locked environment (requirements/lock.txt, SHA-256 "
      "dddddddddddd); this environment is not: torch 2.13.0+cpu locked, 2.13.0 installed"]),
    (LOCKED, {**LOCKED, "lock_sha256": "e" * 64},
     ["the record was made in the locked environment of another lock (requirements/lock.txt, "
      "SHA-256 dddddddddddd); here requirements/lock.txt has SHA-256 eeeeeeeeeeee"]),
    (LOCKED, {"lock": None, "lock_sha256": None, "locked": False, "differs": {}},
     ["the record was made in the locked environment (requirements/lock.txt, SHA-256 "
      "dddddddddddd); here ltrr has no lock file beside it, so this environment cannot be "
      "checked against it"]),
    ({**LOCKED, "locked": False, "differs": {"ranx": ["0.3.21", None]}}, LOCKED,
     ["the record was not made in the locked environment (it differed from "
      "requirements/lock.txt: ranx 0.3.21 locked, not installed)"]),
    ({**LOCKED, "locked": False, "differs": {"x": ["1", "2"]}},  # the same unlocked one
     {**LOCKED, "locked": False, "differs": {"x": ["1", "2"]}}, []),
    (None, {**LOCKED, "locked": False, "differs": {"x": ["1", "2"]}}, []),  # older records
])
def test_environment_notes(then, now, expected):
    prov = {"packages": {"numpy": "2.4.6"}} | ({"environment": then} if then else {})
    assert environment_notes(prov, now, {"numpy": "2.4.6"}) == expected


def test_key_package_versions_other_than_the_record_s_are_noted():
    prov = {"packages": {"sentence-transformers": "6.2.0", "numpy": "2.4.6"}}
    assert environment_notes(prov, LOCKED, {"sentence-transformers": "6.3.0",
                                            "numpy": "2.4.6"}) == [
        "key package versions differ from the record's: sentence-transformers 6.2.0 then, "
        "6.3.0 now"]


def test_a_record_is_dirty_only_when_an_input_differs_from_the_commit(tmp_path):
    """Rewriting results or prose while a benchmark runs does not mark its records dirty; a
    changed source or benchmark file does."""
    import subprocess

    from ltrr.results.records import git_state

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    for path in ("ltrr/code.py", "benchmarks/b.toml", "results/b/r.json", "README.md",
                 "docs/notes.md"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("0\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    where = tmp_path / "benchmarks"
    assert git_state(where)["dirty"] is False
    for path in ("results/b/r.json", "README.md", "docs/notes.md"):
        (tmp_path / path).write_text("1\n")
    (tmp_path / "results/b/new.json").write_text("{}\n")
    assert git_state(where)["dirty"] is False
    (tmp_path / "benchmarks/b.toml").write_text("1\n")
    assert git_state(where)["dirty"] is True
    git("checkout", "benchmarks/b.toml")
    (tmp_path / "ltrr/code.py").write_text("1\n")
    state = git_state(where)
    assert state["dirty"] is True and len(state["commit"]) == 40
