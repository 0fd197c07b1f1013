"""Sweeps: a grid of benchmarks x policies x hyper-parameter settings x seeds, resumable.

A sweep file (``docs/sweeps.md``) names benchmark files and, optionally, the seeds, a stream
length and ``[[policies]]`` (the benchmark format's own entries, with ``grid``) that replace
each benchmark's. A *cell* is one (benchmark, policy label, setting of its grid, seed); every
cell is reported: a sweep does not choose a setting, it shows them all (a tuning study, an
ablation). A grid setting's label is ``<label>@<key>=<value>,...`` (``linucb@alpha=0.5``).

Each benchmark's records go to ``<out>/<benchmark file stem>/``, named and written as
``ltrr run`` writes them (``<label>-seed<k>.json``, ``.topics.parquet``, a decision log when
asked), so ``ltrr leaderboard`` and the tests read a sweep's folders as any results folder;
a ``LEADERBOARD.md`` and ``regret.png`` are rebuilt there at the end. A record is written
atomically once its cell is done, to its final path; a restarted sweep skips every cell whose
record is there and was made from the same benchmark file, stream length, policy setting,
seed and code (:meth:`~ltrr.experiments.cells.CellRunner.finished`), so a sweep killed
midway, or stopped by a file it could not write (a full disk:
:class:`~ltrr.errors.WriteError`, its message naming the file, the cause and the records kept),
and started again ends with the records of one that ran through (only each record's
``provenance.wall_time_s`` differs).

Where cells run: a pool of ``jobs`` processes forked after the world is prepared, sharing it
copy-on-write (the default), or Dask distributed (:mod:`ltrr.experiments.cluster`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ltrr.errors import InputError, WriteError, check_type
from ltrr.experiments.benchmark import (Benchmark, PolicySpec, _build, load_benchmark, policy_specs,
                                        read_toml)
from ltrr.results.records import record_filename

SWEEP_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "description": str, "benchmarks": list, "seeds": list, "stream_length": int,
    "out": str, "logs": str}
LOG_CHOICES = ("none", "first", "all")


@dataclass
class Sweep:
    """A checked sweep file: each benchmark with its cells' policies, seeds and length."""

    path: Path
    sha256: str
    name: str
    benchmarks: list[Benchmark]  # one per file, its policies the sweep's cells' labels
    out: Path
    logs: str = "none"
    orders: list[list[str]] = field(default_factory=list)  # leaderboard rows per benchmark

    def folder(self, benchmark: Benchmark) -> Path:
        """Where the records of one benchmark of the sweep go."""
        return self.out / benchmark.path.stem


def setting_label(spec: PolicySpec, setting: dict) -> str:
    """A grid setting's label: ``<label>@<key>=<value>,...`` over the grid's keys (a policy
    without a grid keeps its label)."""
    if not spec.grid:
        return spec.label

    def text(value) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    return spec.label + "@" + ",".join(f"{k}={text(setting[k])}" for k in spec.grid)


def load_sweep(path: str | Path, out: str | Path | None = None) -> Sweep:
    """Read and check a sweep file and every benchmark it names (InputError naming the file
    and key on any problem; nothing is run or written)."""
    path = Path(path)
    file = str(path)
    raw, blob = read_toml(path, "sweep")
    for table in raw:
        if table not in ("sweep", "policies"):
            raise InputError("unknown table (expected sweep, policies)", file=file, field=table)
    table = raw.get("sweep")
    if not isinstance(table, dict):
        raise InputError("missing [sweep] table", file=file, field="sweep")
    for key, value in table.items():
        if key not in SWEEP_KEYS:
            raise InputError(f"unknown key (expected one of {', '.join(SWEEP_KEYS)})",
                             file=file, field=f"sweep.{key}")
        check_type(file, f"sweep.{key}", value, SWEEP_KEYS[key])
    names = table.get("benchmarks")
    if not names or not all(isinstance(n, str) for n in names):
        raise InputError(f"expected a non-empty list of benchmark files, got {names!r}",
                         file=file, field="sweep.benchmarks")
    seeds = table.get("seeds")
    if seeds is not None and (not seeds or len(set(seeds)) != len(seeds) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise InputError(f"expected a non-empty list of distinct integers >= 0, got {seeds!r}",
                         file=file, field="sweep.seeds")
    length = table.get("stream_length")
    if length is not None and length < 1:
        raise InputError(f"must be >= 1, got {length}", file=file, field="sweep.stream_length")
    logs = table.get("logs", "none")
    if logs not in LOG_CHOICES:
        raise InputError(f"expected one of {', '.join(LOG_CHOICES)}, got '{logs}'",
                         file=file, field="sweep.logs")
    entries = raw.get("policies")
    specs = None if entries is None else policy_specs(file, entries)
    benchmarks, orders, stems = [], [], {}
    for name in names:
        bench_path = (path.parent / name) if not Path(name).is_absolute() else Path(name)
        if bench_path.stem in stems:
            raise InputError(f"'{name}' and '{stems[bench_path.stem]}' would share the results "
                             f"folder '{bench_path.stem}' (give them distinct file names)",
                             file=file, field="sweep.benchmarks")
        stems[bench_path.stem] = name
        try:
            base = load_benchmark(bench_path)
        except InputError as err:
            raise InputError(f"benchmark '{name}': {err}", file=file,
                             field="sweep.benchmarks") from None
        benchmark = _derive(file, base, specs, seeds, length)
        benchmarks.append(benchmark)
        orders.append([p.label for p in benchmark.policies])
    default_out = Path("results") / path.stem
    return Sweep(path, hashlib.sha256(blob).hexdigest(), table.get("name", path.stem),
                 benchmarks, Path(out or table.get("out") or default_out), logs, orders)


def _derive(file: str, base: Benchmark, specs: list[PolicySpec] | None,
            seeds: list[int] | None, length: int | None) -> Benchmark:
    """``base`` with the sweep's seeds and length and one policy entry per grid setting (the
    sweep's policies, or the benchmark's own), checked as a benchmark file is. Its
    ``[tuning]`` table is dropped: a sweep reports every setting."""
    raw = copy.deepcopy(base.raw)
    raw.pop("tuning", None)
    if seeds is not None:
        raw["benchmark"]["seeds"] = list(seeds)
    if length is not None:
        raw["stream"]["length"] = length
    source = file if specs is not None else str(base.path)
    specs = specs if specs is not None else policy_specs(str(base.path), raw["policies"])
    entries, origin = [], []
    for i, spec in enumerate(specs):
        for setting in spec.settings():
            entry = {"name": spec.name, "label": setting_label(spec, setting), "params": setting}
            if spec.features is not None:
                entry["features"] = spec.features
            if spec.ranker is not None:
                entry["ranker"] = spec.ranker
            entries.append(entry)
            origin.append(i)
    raw["policies"] = entries
    try:
        benchmark = _build(base.path, str(base.path), raw, base.sha256)
    except InputError as err:
        where = re.match(r"policies\[(\d+)\](.*)", err.field or "")
        if where is None:
            raise
        i = origin[int(where[1])]
        raise InputError(f"{err.message} (on benchmark {base.path})", file=source,
                         field=f"policies[{i}]{where[2]}") from None
    files: dict[str, str] = {}
    for spec in benchmark.policies:
        name = record_filename(spec.label, 0)
        if name in files:
            raise InputError(f"policy labels '{files[name]}' and '{spec.label}' give the same "
                             "record file name (make the labels differ in letters or digits)",
                             file=source, field="policies")
        files[name] = spec.label
    return benchmark


def cell_benchmark(base: Benchmark, record: dict) -> Benchmark:
    """The benchmark a sweep record's cell ran on: ``base`` (its benchmark file) with the
    record's stream length and seed and one policy, the record's own (name, label, resolved
    parameters, feature groups, learned ranker); what ``ltrr reproduce`` reruns."""
    ranker = (record.get("ranker") or {}).get("name")
    features = record.get("features")
    spec = PolicySpec(record["policy_name"], record["policy"], dict(record["policy_params"]),
                      features=None if features in (None, base.features) else list(features),
                      ranker=ranker if ranker in base.rankers else None)
    return _derive(str(base.path), base, [spec], [record["seed"]], record["stream_length"])


def run_sweep(path: str | Path, out: str | Path | None = None, jobs: int | None = None,
              scheduler: str | None = None, dask_workers: int | None = None,
              logs: str | None = None, progress: bool = True, command: str | None = None,
              connect_timeout: float | None = None) -> Sweep:
    """Run every unfinished cell of a sweep; return the sweep (its folders hold the records).

    Cells run in ``jobs`` forked processes (default: one per CPU), or on Dask: an existing
    ``scheduler`` address, or a LocalCluster of ``dask_workers`` processes.
    """
    from tqdm import tqdm

    from ltrr.experiments import cluster
    from ltrr.experiments.cells import CellRunner, kept_work, report_cells
    from ltrr.experiments.runner import prepare, write_summary
    from ltrr.paths import remove_stale_temporaries, writing

    if sum(x is not None for x in (jobs, scheduler, dask_workers)) > 1:
        raise InputError("give one of --jobs, --scheduler, --dask-workers")
    if jobs is not None and jobs < 1:
        raise InputError(f"must be >= 1, got {jobs}", field="--jobs")
    if logs is not None and logs not in LOG_CHOICES:
        raise InputError(f"must be one of {', '.join(LOG_CHOICES)}, got '{logs}'", field="--logs")
    sweep = load_sweep(path, out)
    logs = logs or sweep.logs
    command = command or f"ltrr sweep {path}"
    client = None
    if scheduler is not None or dask_workers is not None:
        client = cluster.connect(scheduler, dask_workers, cluster.CONNECT_TIMEOUT
                                 if connect_timeout is None else connect_timeout)
    try:
        for benchmark, order in zip(sweep.benchmarks, sweep.orders):
            world, featurizer, stages = prepare(benchmark)
            folder = sweep.folder(benchmark)
            with writing(folder):
                folder.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(folder)
            cells = report_cells(benchmark, {})
            bar = tqdm(total=sum(c.length for c in cells), desc=benchmark.name, unit="q",
                       disable=not progress, mininterval=1.0)
            runner = CellRunner(benchmark, world, featurizer, folder, logs, bar,
                                jobs or os.cpu_count() or 1, command, policy_order=order,
                                provenance={"sweep": {"file": str(sweep.path),
                                                      "sha256": sweep.sha256}},
                                stages=stages)
            try:
                runner.map(cells, play=None if client is None else cluster.DaskCells(client))
                bar.close()
                write_summary(folder, "ltrr sweep")
            except WriteError as err:
                kept_work(err, folder)  # records are written in place: a rerun skips them
                raise
            if progress:
                print(f"{benchmark.name}: {len(cells)} cells ({runner.skipped} finished "
                      f"earlier) -> {folder}")
    finally:
        if client is not None:
            cluster.close(client)
    return sweep
