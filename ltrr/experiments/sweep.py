"""Sweeps: a grid of benchmarks x policies x hyper-parameter settings x seeds, resumable.

A sweep file (``docs/sweeps.md``) names benchmark files and, optionally, the seeds, a stream
length and ``[[policies]]`` (the benchmark format's own entries, with ``grid``) that replace
each benchmark's. A *cell* is one (benchmark, policy label, setting of its grid, seed); every
cell is reported: a sweep does not choose a setting, it shows them all (a tuning study, an
ablation). A grid setting's label is ``<label>@<key>=<value>,...`` (``linucb@alpha=0.5``).

A sweep with ``[vary]`` runs every benchmark once per *variant*: the product of its axes'
lists, each a list of values (:data:`AXES`, in this order): ``clicks`` (``[clicks]`` tables:
who the users are), ``reward`` (reward names: what the policies are paid), ``plans`` (named
plan-space tables: which plans exist), ``budget`` (integers: the candidate budget) and
``cost`` (named tables merged over the benchmark's ``[cost]``: what candidates and arm calls
cost). A variant's tables are checked as the benchmark file's own are, and a problem names
the sweep file and ``vary.<axis>[i]``; a (users, reward) pair the click model cannot produce
is skipped (said on stdout). With ``tune = true`` each variant is tuned as ``ltrr run`` tunes
(its ``[tuning]`` seeds and grids, on its own reward) and its policies are reported at the
chosen settings. A variant's records go to ``<out>/<benchmark stem>/<level>/...``, one level
per varied axis (:func:`variant_folder`), and carry the variant in ``provenance.variant``;
:func:`ltrr.results.study.write_study` tabulates the study.

Each benchmark's records go to ``<out>/<benchmark file stem>/``, named and written as
``ltrr run`` writes them (``<label>-seed<k>.json``, ``.topics.parquet``, a decision log when
asked), so ``ltrr leaderboard`` and the tests read a sweep's folders as any results folder;
a ``LEADERBOARD.md`` and ``regret.png`` are rebuilt there at the end. A record is written
atomically once its cell is done, to its final path; a restarted sweep skips every cell whose
record is there and was made from the same benchmark file, stream length, policy setting,
seed and code (:meth:`~ltrr.experiments.cell_runner.CellRunner.finished`), so a sweep killed
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
from itertools import product
from pathlib import Path

from ltrr.errors import InputError, WriteError, check_keys
from ltrr.experiments.benchmark import (Benchmark, PolicySpec, _build, click_model_of,
                                        load_benchmark, policy_specs, read_toml)
from ltrr.kernel.rewards import REWARDS
from ltrr.results.records import record_filename
from ltrr.selection.plans import PLAN_KEYS
from ltrr.simulation.clicks import describe_users, producible_rewards, why_not

SWEEP_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "description": str, "benchmarks": list, "seeds": list, "stream_length": int,
    "out": str, "logs": str, "tune": bool}
VARY_KEYS: dict[str, type | tuple[type, ...]] = {
    "clicks": list, "reward": list, "plans": list, "budget": list, "cost": list}
AXES = tuple(VARY_KEYS)  # the order of a variant folder's levels
NAMED = ("plans", "cost")  # axes whose values are tables with a name (their folder)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a named table's name: a folder name
LOG_CHOICES = ("none", "first", "all")


@dataclass
class Sweep:
    """A checked sweep file: each benchmark with its cells' policies, seeds and length."""

    path: Path
    sha256: str
    name: str
    benchmarks: list[Benchmark]  # one per file (and variant), its policies the cells' labels
    out: Path
    logs: str = "none"
    orders: list[list[str]] = field(default_factory=list)  # leaderboard rows per benchmark
    tune: bool = False  # tune each benchmark as `ltrr run` does, then report the chosen settings
    skipped: list[str] = field(default_factory=list)  # variants no click model can produce

    def folder(self, benchmark: Benchmark) -> Path:
        """Where the records of one benchmark (variant) of the sweep go."""
        if benchmark.variant is None:
            return self.out / benchmark.path.stem
        return self.out / benchmark.path.stem / variant_folder(benchmark.variant)


def variant_levels(variant: dict) -> list[str]:
    """The variant's value on each axis it varies, in :data:`AXES` order: the users as tables
    name them (``pbm/navigational``), the reward, the plans' and cost's names, and
    ``budget-<B>``."""
    levels = []
    for axis in AXES:
        if axis not in variant:
            continue
        value = variant[axis]
        if axis == "clicks":
            levels.append(describe_users(click_model_of("", value, 10)))
        elif axis == "budget":
            levels.append(f"budget-{value}")
        else:
            levels.append(value["name"] if axis in NAMED else str(value))
    return levels


def variant_folder(variant: dict) -> str:
    """One folder level per varied axis, in :data:`AXES` order: e.g.
    ``pbm-navigational-eye-tracking/satisfied`` (users, reward) or ``pairs/budget-50``
    (plans, budget)."""
    return "/".join(level.replace("/", "-") for level in variant_levels(variant))


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
        if table not in ("sweep", "policies", "vary"):
            raise InputError("unknown table (expected sweep, policies, vary)", file=file,
                             field=table)
    table = raw.get("sweep")
    if not isinstance(table, dict):
        raise InputError("missing [sweep] table", file=file, field="sweep")
    check_keys(file, "sweep", table, SWEEP_KEYS)
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
    tune = table.get("tune", False)
    variants = _variants(file, raw.get("vary"))
    benchmarks, orders, stems, skipped = [], [], {}, []
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
        if tune and base.tuning is None:
            raise InputError(f"benchmark '{name}' has no [tuning] table to tune with",
                             file=file, field="sweep.tune")
        for variant in variants:
            varied = base
            if variant is not None:
                try:
                    varied = vary(base, variant)
                except InputError as err:
                    raise _blame(err, file, raw["vary"], variant, name) from None
                if varied is None:
                    skipped.append(f"{bench_path.stem}: {' x '.join(variant_levels(variant))} "
                                   f"({_cannot(_varied_raw(base, variant), str(base.path))})")
                    continue
            benchmark = _derive(file, varied, specs, seeds, length, tune)
            benchmarks.append(benchmark)
            orders.append([p.label for p in benchmark.policies])
    default_out = Path("results") / path.stem
    return Sweep(path, hashlib.sha256(blob).hexdigest(), table.get("name", path.stem),
                 benchmarks, Path(out or table.get("out") or default_out), logs, orders,
                 tune, skipped)


def _variants(file: str, table: dict | None) -> list[dict | None]:
    """The variants of ``[vary]``: one dict per element of the product of its lists, holding
    the varied axes only ([None]: the benchmarks as they are). Each entry is checked here as
    far as it can be without a benchmark; :func:`vary` checks the rest."""
    if table is None:
        return [None]
    if not isinstance(table, dict):
        raise InputError("expected a table", file=file, field="vary")
    check_keys(file, "vary", table, VARY_KEYS)
    for axis, values in table.items():
        if not values:
            raise InputError("expected a non-empty list", file=file, field=f"vary.{axis}")
        seen: dict[str, int] = {}
        for i, value in enumerate(values):
            field = f"vary.{axis}[{i}]"
            _check_entry(file, field, axis, value)
            level = variant_folder({axis: value})
            if level in seen:
                raise InputError(f"gives the variant folder '{level}', as vary.{axis}"
                                 f"[{seen[level]}] does (each value once, names distinct)",
                                 file=file, field=field)
            seen[level] = i
    axes = [axis for axis in AXES if axis in table]
    return [dict(zip(axes, values)) for values in product(*(table[axis] for axis in axes))]


def _check_entry(file: str, field: str, axis: str, value: object) -> None:
    """One value of a ``[vary]`` list, as far as it is known without a benchmark."""
    if axis == "clicks":
        if not (isinstance(value, dict) and {"model", "params"} <= set(value)
                and set(value) <= {"model", "params", "examination"}):
            raise InputError(f"expected a [clicks] table (model, params, examination?), got "
                             f"{value!r}", file=file, field=field)
        try:
            click_model_of(file, value, 10)
        except InputError as err:
            raise InputError(err.message, file=file, field=field) from None
    elif axis == "reward":
        if value not in REWARDS:
            raise InputError(f"unknown reward '{value}' (choose from {', '.join(REWARDS)})",
                             file=file, field=field)
    elif axis == "budget":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"expected a budget, an integer >= 1, got {value!r}",
                             file=file, field=field)
    else:
        table = "[plans]" if axis == "plans" else "[cost]"
        if not isinstance(value, dict):
            raise InputError(f"expected a {table} table with a name, got {value!r}",
                             file=file, field=field)
        name = value.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise InputError(f"expected a name (letters, digits, '_', '-', '.'; it names the "
                             f"variant's folder), got {name!r}", file=file, field=f"{field}.name")
        if axis == "plans" and "budget" in value:
            raise InputError("the budget is not part of a plans table: vary it with "
                             "vary.budget", file=file, field=f"{field}.budget")
        for key in value if axis == "plans" else ():
            if key not in ("name", *PLAN_KEYS):
                raise InputError(f"unknown key (expected one of name, {', '.join(PLAN_KEYS)})",
                                 file=file, field=f"{field}.{key}")


def vary(base: Benchmark, variant: dict) -> Benchmark | None:
    """``base`` with the variant's tables: its users (``[clicks]``), reward (``[reward]
    name``), plan space (``[plans]`` but its budget), budget (``[plans] budget``) and cost
    (merged over ``[cost]``), each where the variant varies it; None when the click model
    cannot produce the reward. Checked as a benchmark file is: an InputError names the
    benchmark file and its key."""
    raw = _varied_raw(base, variant)
    if _cannot(raw, str(base.path)):
        return None
    benchmark = _build(base.path, str(base.path), raw, base.sha256)
    benchmark.variant = copy.deepcopy(variant)
    return benchmark


def _varied_raw(base: Benchmark, variant: dict) -> dict:
    """``base``'s tables with the variant's in their place."""
    raw = copy.deepcopy(base.raw)
    if "clicks" in variant:
        raw["clicks"] = dict(variant["clicks"])
    if "reward" in variant:
        raw["reward"] = {**raw.get("reward", {}), "name": variant["reward"]}
    if "plans" in variant:
        raw["plans"] = {"budget": raw["plans"]["budget"],
                        **{k: v for k, v in variant["plans"].items() if k != "name"}}
    if "budget" in variant:
        raw["plans"]["budget"] = variant["budget"]
    if "cost" in variant:  # its prices over the benchmark's, each with its own source
        declared = raw.get("cost", {})
        cost = {k: v for k, v in variant["cost"].items() if k != "name"}
        sources = {k: v for k, v in declared.get("sources", {}).items() if k not in cost}
        raw["cost"] = {**declared, **cost, "sources": {**sources, **cost.get("sources", {})}}
    return raw


def _cannot(raw: dict, file: str) -> str:
    """Why the tables' click model cannot produce their reward ('' when it can)."""
    clicks = click_model_of(file, raw["clicks"], raw.get("ranking", {}).get("page", 10))
    reward = raw.get("reward", {}).get("name", "clicks")
    return "" if reward in producible_rewards(clicks) else why_not(clicks, reward)


def _blame(err: InputError, file: str, table: dict, variant: dict, name: str) -> InputError:
    """A variant's error (naming a key of the benchmark) as one naming the sweep's ``[vary]``
    entry that caused it: ``vary.<axis>[i]``, with the key inside the entry
    (``vary.plans[1].skewed[0]``, ``vary.cost[0].per_arm_call``)."""
    key = err.field or ""
    head, _, rest = key.partition(".")
    head = head.split("[")[0]
    axis = head if head in variant else None
    if head in ("plans", "budget") and "budget" in variant and (
            "plans" not in variant or key in ("budget", "plans.budget")):
        axis, rest = "budget", ""
    if axis is None:
        return InputError(f"{err.message} (benchmark '{name}', field '{key}', in the variant "
                          f"{' x '.join(variant_levels(variant))})", file=file, field="vary")
    i = table[axis].index(variant[axis])
    inner = f".{rest}" if rest and axis in NAMED else ""
    return InputError(f"{err.message} (on benchmark '{name}')", file=file,
                      field=f"vary.{axis}[{i}]{inner}")


def _derive(file: str, base: Benchmark, specs: list[PolicySpec] | None,
            seeds: list[int] | None, length: int | None, tune: bool = False) -> Benchmark:
    """``base`` with the sweep's seeds and length and one policy entry per grid setting (the
    sweep's policies, or the benchmark's own), checked as a benchmark file is. Its
    ``[tuning]`` table is dropped: a sweep reports every setting; with ``tune`` the grids and
    ``[tuning]`` are kept, to be tuned as ``ltrr run`` tunes."""
    raw = copy.deepcopy(base.raw)
    if not tune:
        raw.pop("tuning", None)
    if seeds is not None:
        raw["benchmark"]["seeds"] = list(seeds)
    if length is not None:
        raw["stream"]["length"] = length
    source = file if specs is not None else str(base.path)
    specs = specs if specs is not None else policy_specs(str(base.path), raw["policies"])
    entries, origin = [], []
    for i, spec in enumerate(specs):
        for setting in ([spec.params] if tune else spec.settings()):
            label = spec.label if tune else setting_label(spec, setting)
            entry = {"name": spec.name, "label": label, "params": setting}
            if tune and spec.grid:
                entry["grid"] = spec.grid
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
    benchmark.variant = base.variant
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
    variant = (record.get("provenance") or {}).get("variant")
    if variant is not None:
        base = vary(base, variant) or base
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
    from ltrr.experiments.cell_runner import CellRunner, kept_work, report_cells
    from ltrr.experiments.runner import prepare, write_summary
    from ltrr.experiments.tuning import as_stored, choose_settings, tuning_cells
    from ltrr.paths import remove_stale_temporaries, writing
    from ltrr.results.records import write_json

    if sum(x is not None for x in (jobs, scheduler, dask_workers)) > 1:
        raise InputError("give one of --jobs, --scheduler, --dask-workers")
    if jobs is not None and jobs < 1:
        raise InputError(f"must be >= 1, got {jobs}", field="--jobs")
    if logs is not None and logs not in LOG_CHOICES:
        raise InputError(f"must be one of {', '.join(LOG_CHOICES)}, got '{logs}'", field="--logs")
    sweep = load_sweep(path, out)
    logs = logs or sweep.logs
    command = command or f"ltrr sweep {path}"
    if progress:
        for line in sweep.skipped:
            print(f"skipped {line}")
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
            tune = tuning_cells(benchmark) if sweep.tune else []
            cells = report_cells(benchmark, {}) if not sweep.tune else []
            reported = len(benchmark.seeds) * len(benchmark.policies) * benchmark.stream_length
            bar = tqdm(total=sum(c.length for c in tune) + reported,
                       desc=_title(benchmark), unit="q", disable=not progress, mininterval=1.0)
            provenance = {"sweep": {"file": str(sweep.path), "sha256": sweep.sha256}}
            if benchmark.variant is not None:
                provenance["variant"] = benchmark.variant
            runner = CellRunner(benchmark, world, featurizer, tmp=folder, logs=logs, bar=bar,
                                jobs=jobs or os.cpu_count() or 1, command=command, policy_order=order,
                                provenance=provenance, stages=stages)
            play = None if client is None else cluster.DaskCells(client)
            try:
                if sweep.tune:  # as `ltrr run` tunes; the scores stay in .tuning-cells/
                    tuning = choose_settings(benchmark, tune, runner.map(tune, play=play))
                    write_json(tuning, folder / "tuning.json")
                    runner.tuning = as_stored(tuning)
                    cells = report_cells(benchmark, tuning)
                runner.map(cells, play=play)
                bar.close()
                write_summary(folder, "ltrr sweep")
            except WriteError as err:
                kept_work(err, folder)  # records are written in place: a rerun skips them
                raise
            if progress:
                print(f"{_title(benchmark)}: {len(tune) + len(cells)} cells ({runner.skipped} "
                      f"finished earlier) -> {folder}")
        if any(b.variant is not None for b in sweep.benchmarks):
            from ltrr.results.study import write_study

            for written in write_study(sweep):
                if progress:
                    print(f"study -> {written}")
    finally:
        if client is not None:
            cluster.close(client)
    return sweep


def _title(benchmark: Benchmark) -> str:
    """A benchmark's name, with its variant's values."""
    if benchmark.variant is None:
        return benchmark.name
    return " ".join([benchmark.name, *variant_levels(benchmark.variant)])
