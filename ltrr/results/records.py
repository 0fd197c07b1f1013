"""Result records: one JSON file per (policy, seed) run, with what is needed to reproduce it.

A record holds the run's metrics and learning curves, how its hyper-parameters were chosen
(``tuning``: the grid, the tuning seeds and metric, each setting's mean score, the chosen
setting; absent for untuned policies), the post-retrieval probe it paid for (in its
metrics), and its provenance: ltrr version, git commit of the working tree (and whether it
had uncommitted changes), versions of the key dependencies, the benchmark file's SHA-256,
the seed, wall time and platform. Everything but ``provenance`` is a pure function of the
benchmark file and the seed. Beside it, ``<label>-seed<k>.topics.parquet`` holds each
visited topic's mean reward, recall and nDCG (the topic-level tests' input).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ltrr.paths import write_atomically

KEY_PACKAGES = ("numpy", "pandas", "scipy", "python-terrier", "pyterrier-pisa", "pyterrier-dr",
                "pyterrier-alpha", "sentence-transformers", "torch", "ir_measures",
                "ir_datasets", "obp", "scikit-learn")


def package_versions() -> dict[str, str | None]:
    """Installed versions of ltrr's key dependencies (None when absent)."""
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(where: Path) -> dict[str, object]:
    """The commit of the git repository holding ``where``, and whether it is dirty."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def provenance(benchmark, seed: int, wall_time: float, command: str | None = None) -> dict:
    """Where and how a run was made (``command``: the command line that made it)."""
    from ltrr import __version__

    return {
        "ltrr_version": __version__,
        "git": git_state(Path(benchmark.path).resolve().parent),
        "packages": package_versions(),
        "command": command,
        "benchmark_file": str(benchmark.path),
        "benchmark_sha256": benchmark.sha256,
        "seed": seed,
        "wall_time_s": round(wall_time, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def make_record(benchmark, label: str, policy_name: str, params: dict, seed: int,
                metrics: dict, curves: dict, plan_ids: list[str], wall_time: float,
                stream_length: int, tuning: dict | None = None,
                features: list[str] | None = None, ranker: dict | None = None,
                command: str | None = None) -> dict:
    """The JSON-ready record of one run (``features``: the groups its policy saw; ``ranker``:
    its ranking stage)."""
    record = {
        "benchmark": benchmark.name,
        "benchmark_version": benchmark.version,
        "dataset": benchmark.dataset,
        "policy": label,
        "policy_name": policy_name,
        "policy_params": params,
        "seed": seed,
        "stream_length": stream_length,
        "budget": benchmark.budget,
        "plans": plan_ids,
        "features": list(benchmark.features if features is None else features),
        "ranker": ranker or {"name": benchmark.settings.fusion},
        "metrics": metrics,
        "curves": curves,
        "provenance": provenance(benchmark, seed, wall_time, command),
    }
    if tuning is not None:
        record["tuning"] = tuning
    return record


def record_filename(label: str, seed: int) -> str:
    """``<label>-seed<k>.json`` with the label made filesystem-safe (``single:dense`` -> ``single-dense``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return f"{safe}-seed{seed}.json"


def write_json(obj: dict, path: Path) -> None:
    """Write ``obj`` as JSON, atomically (a temporary sibling renamed into place): a run
    killed midway leaves the old file or the whole new one, never half a record."""
    text = json.dumps(obj, indent=1, sort_keys=False) + "\n"
    write_atomically(Path(path), lambda tmp: tmp.write_text(text))


def write_topics(table, path: Path) -> None:
    """A run's per-topic table (:func:`ltrr.evaluation.metrics.per_topic`) as Parquet, float
    columns in float32 (ample for tests over topics; keeps result folders small)."""
    table = table.astype({c: "float32" for c in ("reward", "candidate_recall", "ndcg@10")})
    write_atomically(Path(path), lambda tmp: table.to_parquet(tmp, index=False,
                                                              compression="zstd"))


def read_topic_tables(folder: Path, records: list[dict]) -> dict:
    """``{(policy label, seed): per-topic table}`` for the records whose table is in
    ``folder`` (``<label>-seed<k>.topics.parquet``)."""
    import pandas as pd

    out = {}
    for r in records:
        path = Path(folder) / record_filename(r["policy"], r["seed"]).replace(".json",
                                                                             ".topics.parquet")
        if path.exists():
            out[r["policy"], r["seed"]] = pd.read_parquet(path)
    return out


def read_records(folder: Path) -> list[dict]:
    """Every run record (``*-seed*.json``) in a results folder."""
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*-seed*.json"))]
