"""Result records: one JSON file per (policy, seed) run, with what is needed to reproduce it.

A record holds the run's metrics and learning curves, how its hyper-parameters were chosen
(``tuning``: the grid, the tuning seeds and metric, each setting's mean score, the chosen
setting; absent for untuned policies), the post-retrieval probe it paid for (in its
metrics), and its provenance: ltrr version, git commit of the working tree (and whether it
had uncommitted changes), versions of the key dependencies, whether it was made in the
locked environment (``environment``: every version ``requirements/lock.txt`` pins compared
with what was installed, :mod:`ltrr.results.environment`), the benchmark file's SHA-256,
the seed, wall time and platform. Everything but ``provenance`` is a pure function of the
benchmark file and the seed. Beside it, ``<label>-seed<k>.topics.parquet`` holds each
visited topic's mean reward, recall and nDCG (the topic-level tests' input).

:func:`read_record` reads one record and checks every field the leaderboard and
``ltrr reproduce`` use (:data:`RECORD_FIELDS`), raising an :class:`~ltrr.errors.InputError`
that names the file and the first bad field.
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ltrr.errors import InputError
from ltrr.evaluation.registry import HEADLINE, METRICS, PER_TOPIC
from ltrr.paths import write_atomically

KEY_PACKAGES = ("numpy", "pandas", "scipy", "python-terrier", "pyterrier-pisa", "pyterrier-dr",
                "pyterrier-alpha", "sentence-transformers", "torch", "ir_measures",
                "ir_datasets", "obp", "scikit-learn", "numba")


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    """Installed versions of ltrr's key dependencies (None when absent), looked up once per
    process (the imported packages cannot change under it); callers copy it."""
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


# What can change a number: every tracked file but the results themselves and prose. A run
# that regenerates results/ (or one made while a README is edited) is still clean.
_NOT_INPUTS = (":(top,exclude)results", ":(top,exclude,glob)**/*.md")


def git_state(where: Path) -> dict[str, object]:
    """The commit of the git repository holding ``where``, and whether it is dirty: whether a
    tracked file other than under ``results/`` or a markdown file differs from the commit."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ":(top)", *_NOT_INPUTS],
                               cwd=where, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def provenance(benchmark, seed: int | None, wall_time: float,
               command: str | None = None) -> dict:
    """Where and how a run was made (``benchmark``: anything with ``path`` and ``sha256``;
    ``seed``: None for a run over several seeds; ``command``: the command line that made it)."""
    from ltrr import __version__
    from ltrr.results.environment import environment

    made = {
        "ltrr_version": __version__,
        "git": git_state(Path(benchmark.path).resolve().parent),
        "packages": dict(package_versions()),
        "environment": environment(),
        "command": command,
        "benchmark_file": str(benchmark.path),
        "benchmark_sha256": benchmark.sha256,
        "seed": seed,
        "wall_time_s": round(wall_time, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    if seed is None:
        del made["seed"]
    return made


@dataclass(frozen=True)
class RunOutcome:
    """What one run of a cell was and measured, the part of its record the benchmark does not
    say: the policy (``label`` in the file, registry ``policy_name``, resolved ``params``),
    the ``seed`` and ``stream_length``, the plan ids, ``metrics`` and ``curves`` as
    :func:`~ltrr.evaluation.metrics.run_metrics` gives them, the ``wall_time`` in seconds,
    and optionally its ``tuning`` summary, the feature groups its policy saw (``features``,
    default the benchmark's), its ranking stage (``ranker``, default the benchmark's fusion),
    the ``command`` that ran it and ``policy_order``: every policy label of the benchmark
    file, in its order, the leaderboard's rows (default the benchmark's policies)."""

    label: str
    policy_name: str
    params: dict
    seed: int
    stream_length: int
    plan_ids: list[str]
    metrics: dict
    curves: dict
    wall_time: float
    tuning: dict | None = None
    features: list[str] | None = None
    ranker: dict | None = None
    command: str | None = None
    policy_order: list[str] | None = None


def make_record(benchmark, run: RunOutcome) -> dict:
    """The JSON-ready record of one run of ``benchmark`` (``users``: the click model;
    ``reward_name``: what the policy was paid, before costs; ``cost_model``, when the
    benchmark prices anything or declares latencies: its ``[cost]`` as read)."""
    from ltrr.simulation.clicks import describe_users

    record = {
        "benchmark": benchmark.name,
        "benchmark_version": benchmark.version,
        "benchmark_policies": list(run.policy_order or [p.label for p in benchmark.policies]),
        "dataset": benchmark.dataset,
        "policy": run.label,
        "policy_name": run.policy_name,
        "policy_params": run.params,
        "seed": run.seed,
        "stream_length": run.stream_length,
        "budget": benchmark.budget,
        "plans": run.plan_ids,
        "features": list(benchmark.features if run.features is None else run.features),
        "ranker": run.ranker or {"name": benchmark.settings.fusion},
        "users": describe_users(benchmark.settings.clicks),
        "reward_name": benchmark.settings.reward,
        "metrics": run.metrics,
        "curves": run.curves,
        "provenance": provenance(benchmark, run.seed, run.wall_time, run.command),
    }
    prices = benchmark.settings.prices
    if prices is not None and prices.describe() is not None:
        record["cost_model"] = prices.describe()
    if run.tuning is not None:
        record["tuning"] = run.tuning
    return record


def record_filename(label: str, seed: int) -> str:
    """``<label>-seed<k>.json`` with the label made filesystem-safe (``single:dense`` -> ``single-dense``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return f"{safe}-seed{seed}.json"


def write_json(obj: dict, path: Path) -> None:
    """Write ``obj`` as JSON, atomically (a temporary sibling renamed into place): a run
    killed midway leaves the old file or the whole new one, never half a record; a write
    that fails (a full disk) removes the temporary and raises
    :class:`~ltrr.errors.WriteError` naming ``path``."""
    text = json.dumps(obj, indent=1, sort_keys=False) + "\n"
    write_atomically(Path(path), lambda tmp: tmp.write_text(text))


def write_topics(table, path: Path) -> None:
    """A run's per-topic table (:func:`ltrr.evaluation.metrics.per_topic`) as Parquet, float
    columns in float32 (ample for tests over topics; keeps result folders small), written
    atomically as :func:`write_json` writes."""
    table = table.astype({c: "float32" for c in PER_TOPIC})
    write_atomically(Path(path), lambda tmp: table.to_parquet(tmp, index=False,
                                                              compression="zstd"))


TOPIC_COLUMNS = ("qid", *PER_TOPIC)


def read_topic_tables(folder: Path, records: list[dict],
                      problems: list[str] | None = None) -> dict:
    """``{(policy label, seed): per-topic table}`` for the records whose table is in
    ``folder`` (``<label>-seed<k>.topics.parquet``). A table that cannot be read or lacks
    a column is left out, with a message appended to ``problems`` (the topic-level tests
    then leave that pair out)."""
    import pandas as pd

    out = {}
    for r in records:
        path = Path(folder) / record_filename(r["policy"], r["seed"]).replace(".json",
                                                                             ".topics.parquet")
        if not path.exists():
            continue
        try:
            table = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises several types for a damaged file
            if problems is not None:
                problems.append(f"{path}: unreadable per-topic table ({type(err).__name__}); "
                                "left out of the topic-level tests")
            continue
        missing = [c for c in TOPIC_COLUMNS if c not in table.columns]
        if missing:
            if problems is not None:
                problems.append(f"{path}: field '{missing[0]}': missing from the per-topic "
                                "table; left out of the topic-level tests")
            continue
        out[r["policy"], r["seed"]] = table
    return out


def is_number(v: object) -> bool:
    """A JSON number (a bool is not one)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# what each kind of field must be: (test, what the message says it should be)
_KINDS = {
    "text": (lambda v: isinstance(v, str), "a string"),
    "text or null": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "texts": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
              "a list of strings"),
    "object": (lambda v: isinstance(v, dict), "a JSON object"),
    "count": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
              "an integer >= 0"),
    "positive": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                 "an integer >= 1"),
    "number": (is_number, "a number"),
    "finite": (lambda v: is_number(v) and math.isfinite(v), "a finite number"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "numbers": (lambda v: isinstance(v, list) and all(is_number(x) for x in v),
                "a list of numbers"),
    "sha256": (lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{64}", v) is not None,
               "a SHA-256 (64 hexadecimal digits)"),
}
# every field the leaderboard, its plots and ltrr reproduce read; parents before children (the
# metrics every record carries are declared in ltrr.evaluation.registry)
RECORD_FIELDS = (
    ("benchmark", "text"), ("benchmark_version", "text"), ("benchmark_policies", "texts"),
    ("dataset", "text"), ("policy", "text"), ("policy_name", "text"),
    ("policy_params", "object"), ("seed", "count"), ("stream_length", "positive"),
    ("budget", "positive"), ("plans", "texts"), ("features", "texts"), ("ranker", "object"),
    ("ranker.name", "text"), ("metrics", "object"),
    *((f"metrics.{m.name}", m.record) for m in METRICS if m.record),
    ("curves", "object"), ("curves.steps", "numbers"), ("curves.regret_oracle", "numbers"),
    (f"curves.{HEADLINE}", "numbers"), ("provenance", "object"),
    ("provenance.ltrr_version", "text"), ("provenance.benchmark_file", "text"),
    ("provenance.benchmark_sha256", "sha256"), ("provenance.command", "text or null"),
)
# what ltrr reproduce needs to rerun a record (it reports the other fields that differ)
RERUN_FIELDS = tuple((name, kind) for name, kind in RECORD_FIELDS if name in (
    "policy", "policy_name", "policy_params", "seed", "stream_length", "metrics", "curves",
    "provenance", "provenance.ltrr_version", "provenance.benchmark_file",
    "provenance.benchmark_sha256"))
TUNING_FIELDS = (("tuning", "object"), ("tuning.grid", "object"), ("tuning.chosen", "object"),
                 ("tuning.seeds", "numbers"), ("tuning.metric", "text"),
                 ("tuning.means", "list"))


def check_record(record: object, file: str, fields: tuple = RECORD_FIELDS) -> None:
    """Raise :class:`InputError` naming ``file`` and the first of ``fields`` (default: every
    field the leaderboard reads; and ``tuning``'s, when present) that is missing or of the
    wrong kind."""
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object (a result record), got "
                         f"{type(record).__name__}", file=file)
    full = fields == RECORD_FIELDS
    for name, kind in fields + (TUNING_FIELDS if full and "tuning" in record else ()):
        value = record
        for part in name.split("."):  # the parents are objects: checked before
            value = value.get(part, KeyError)
        if value is KeyError:
            raise InputError("missing", file=file, field=name)
        test, expected = _KINDS[kind]
        if not test(value):
            raise InputError(f"is {json.dumps(value)[:60]}, expected {expected}", file=file,
                             field=name)
    if not full:
        return
    if len(record["curves"]["regret_oracle"]) != len(record["curves"]["steps"]):
        raise InputError(f"has {len(record['curves']['regret_oracle'])} points, 'curves.steps' "
                         f"{len(record['curves']['steps'])}", file=file,
                         field="curves.regret_oracle")
    tuning = record.get("tuning")
    if tuning is not None:
        for i, entry in enumerate(tuning["means"]):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], dict)
                    and is_number(entry[1]) and set(tuning["grid"]) <= set(entry[0])):
                raise InputError(f"entry {i} is {json.dumps(entry)[:60]}, expected "
                                 "[setting, mean score]", file=file, field="tuning.means")
        missing = [k for k in tuning["grid"] if k not in tuning["chosen"]]
        if missing:
            raise InputError(f"has no value for grid key '{missing[0]}'", file=file,
                             field="tuning.chosen")


def read_record(path: str | Path, fields: tuple = RECORD_FIELDS) -> dict:
    """One result record, read and checked (:func:`check_record` of ``fields``); unreadable
    or invalid JSON raises :class:`InputError` naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot be read ({err.__class__.__name__})", file=str(path)) from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})",
                         file=str(path)) from None
    check_record(record, str(path), fields)
    return record
