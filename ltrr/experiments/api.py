"""The Python API: run a benchmark file from a notebook, with your own policies, and read the
results as DataFrames.

    import ltrr

    bench = ltrr.load_benchmark("benchmarks/music.toml")     # read and checked, as ltrr run does
    results = bench.run(seeds=[0, 1], stream_length=2000,
                        policies=["linucb", MyPolicy, {"name": MyPolicy, "label": "mine-0.1",
                                                       "params": {"epsilon": 0.1}}])
    results.records        # one row per policy x seed: label, name, params, every metric
    results.summary()      # one row per policy: mean and 95% interval of each metric
    print(results.leaderboard())                             # LEADERBOARD.md

:meth:`Benchmark.run` is :func:`run`. It goes
through the runner ``ltrr run`` uses (:func:`~ltrr.experiments.runner.run_benchmark`: the
same world, cells, records, tuning and leaderboard), so a policy run from Python gets the
numbers ``ltrr run`` would give it. A policy is named by:

- a label of the file's ``[[policies]]`` (that entry, with its params and grid);
- a policy name: a built-in (``linucb``, ``single:lexical``), ``module:Name`` or an entry point;
- a class or factory ``(plans, n_features, random_state, reward_range, **params) -> policy``;
  the records name it by its import path (``my_policy:Softmax``). One that cannot be imported
  by that path (defined inside a function, a lambda) is registered in this process
  (:meth:`ltrr.registry.Registry.register`) and runs here, not in a later ``ltrr reproduce``;
- a dict, a ``[[policies]]`` table: ``{"name": ..., "label": ..., "params": ..., "grid": ...,
  "features": ..., "ranker": ...}``, whose ``name`` may be a class or factory.

A policy *object* is refused: ltrr builds a fresh policy for every seed with that seed's
``random_state`` (an object built once would replay one random stream on every seed).
"""

from __future__ import annotations

import copy
import inspect
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from ltrr.errors import InputError
from ltrr.experiments import benchmark as benchmark_file
from ltrr.experiments.benchmark import check_policies, policy_specs
from ltrr.registry import describe, import_object, is_import_path


def policy_name(obj) -> str:
    """The name a class or factory runs under: its import path ``module:qualname``; one that
    path does not reach is registered under it in this process."""
    from ltrr.selection.policies import REGISTRY

    name = f"{getattr(obj, '__module__', None) or 'local'}:{getattr(obj, '__qualname__', id(obj))}"
    if is_import_path(name):
        try:
            if import_object(name, "policy") is obj:
                return name
        except InputError:
            pass
    REGISTRY.register(name, obj)
    return name


def _entry(i: int, item: object, labels: dict) -> dict:
    """One ``policies=`` item as a ``[[policies]]`` table (a file label: its own entry)."""
    if isinstance(item, str):
        return labels.get(item, {"name": item})
    if isinstance(item, dict):
        entry = dict(item)
        if "name" in entry and not isinstance(entry["name"], str) and callable(entry["name"]):
            entry["name"] = policy_name(entry["name"])
        return entry
    if callable(getattr(item, "choose", None)) and not inspect.isclass(item):
        raise InputError(f"policies[{i}] is {describe(item)}, a policy object: pass its class (or "
                         "a factory) and its params; ltrr builds a fresh policy for every seed "
                         "with that seed's random_state")
    if callable(item):
        return {"name": policy_name(item), "label": getattr(item, "__name__", f"policy{i}")}
    raise InputError(f"policies[{i}] is {describe(item)}: pass a label of the file, a policy name, "
                     "a class or factory, or a dict like a [[policies]] table")


def _spec_table(spec) -> dict:
    table = {"name": spec.name, "label": spec.label, "params": spec.params, "grid": spec.grid,
             "features": spec.features, "ranker": spec.ranker}
    return {k: v for k, v in table.items() if v is not None}


class Benchmark(benchmark_file.Benchmark):
    """A checked benchmark file that runs from Python: what :func:`load_benchmark` (and
    ``ltrr.load_benchmark``) returns. Every field is the description's
    (:class:`ltrr.experiments.benchmark.Benchmark`); this class adds :meth:`run`, so the
    description never imports the runner."""

    def run(self, *, seeds: list[int] | None = None, policies: list | None = None,
            stream_length: int | None = None, out: str | Path | None = None, jobs: int = 1,
            logs: str = "first", progress: bool = True) -> Results:
        """Run this benchmark from Python, as ``ltrr run`` would; returns
        :class:`~ltrr.experiments.api.Results` (records and summary as DataFrames, the
        leaderboard, decision logs). This object is left unchanged.

        Args:
            seeds: the seeds to report (default: the file's ``benchmark.seeds``).
            policies: what to run instead of the file's ``[[policies]]``: labels of the file,
                policy names (``linucb``, ``module:Name``), classes or factories, or dicts like
                a ``[[policies]]`` table (:mod:`ltrr.experiments.api`).
            stream_length: queries per run (default: the file's).
            out: the results folder (default: a fresh temporary folder; never ``results/``).
            jobs: worker processes (numbers do not depend on it).
            logs: decision logs for the ``"first"`` seed, ``"all"`` or ``"none"``.
            progress: a progress bar.

        Raises:
            InputError: a policy that does not exist or cannot be built, seeds that overlap
                the tuning seeds, a plugin breaking its contract mid-run (nothing is written).
        """
        return run(self, seeds=seeds, policies=policies, stream_length=stream_length, out=out,
                   jobs=jobs, logs=logs, progress=progress)


def load_benchmark(path: str | Path) -> Benchmark:
    """Read and check a benchmark file as ``ltrr run`` does
    (:func:`ltrr.experiments.benchmark.load_benchmark`); the result runs with ``.run``."""
    checked = benchmark_file.load_benchmark(path)
    return Benchmark(**{f.name: getattr(checked, f.name) for f in fields(checked)})


def run(benchmark, *, seeds: list[int] | None = None, policies: list | None = None,
        stream_length: int | None = None, out: str | Path | None = None, jobs: int = 1,
        logs: str = "first", progress: bool = True) -> "Results":
    """Run ``benchmark`` (a :class:`~ltrr.experiments.benchmark.Benchmark`, left unchanged)
    with these overrides; see :meth:`Benchmark.run`."""
    from ltrr.experiments.runner import run_benchmark

    bench = copy.deepcopy(benchmark)
    shown = []
    if policies is not None:
        if isinstance(policies, (str, dict)) or not hasattr(policies, "__iter__"):
            policies = [policies]
        labels = {spec.label: _spec_table(spec) for spec in bench.policies}
        entries = [_entry(i, item, labels) for i, item in enumerate(policies)]
        where = f"{bench.path} (run's policies=)"
        bench.policies = policy_specs(where, entries)
        check_policies(where, bench, bench.policies)
        shown = [e.get("label", e.get("name")) for e in entries]
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="ltrr-")) / bench.path.stem
    options = {"seeds": seeds, "policies": shown or None, "stream_length": stream_length}
    command = f"python: ltrr.load_benchmark({str(bench.path)!r}).run(" + ", ".join(
        f"{k}={v!r}" for k, v in options.items() if v is not None) + ")"
    folder = run_benchmark(bench, seeds=seeds, out=out, stream_length=stream_length, logs=logs,
                           progress=progress, command=command, jobs=jobs)
    return Results(Path(folder), [spec.label for spec in bench.policies])


@dataclass
class Results:
    """A results folder (records, decision logs, ``LEADERBOARD.md``) read as DataFrames.

    Attributes:
        folder: where the run wrote (``out``, or a fresh temporary folder).
        order: the policies' labels in the order they were run (the leaderboard's rows).
    """

    folder: Path
    order: list[str]

    def raw(self) -> list[dict]:
        """The result records as dicts (the JSON files, checked as ``ltrr leaderboard`` checks
        them: :func:`ltrr.results.folder.load_folder`)."""
        from ltrr.results.folder import load_folder

        return load_folder(self.folder).records

    @property
    def records(self) -> pd.DataFrame:
        """One row per policy x seed: ``policy`` (label), ``policy_name``, ``seed``,
        ``stream_length``, ``params`` and every metric of the record."""
        rows = [{"policy": r["policy"], "policy_name": r["policy_name"], "seed": r["seed"],
                 "stream_length": r["stream_length"], "params": r["policy_params"],
                 **r["metrics"]} for r in self.raw()]
        rank = {label: i for i, label in enumerate(self.order)}
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        frame["_order"] = frame["policy"].map(rank).fillna(len(rank))
        return frame.sort_values(["_order", "seed"], kind="stable").drop(columns="_order") \
            .reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per policy: mean and 95% t-interval over seeds of each leaderboard metric
        (:func:`ltrr.results.leaderboard.summary`)."""
        from ltrr.results.leaderboard import summary

        return summary(self.raw(), self.order)

    def leaderboard(self) -> str:
        """The run's ``LEADERBOARD.md``."""
        return (self.folder / "LEADERBOARD.md").read_text()

    def decisions(self, policy: str, seed: int | None = None) -> pd.DataFrame:
        """The decision log of ``policy`` (a label) on ``seed`` (default: the first seed that
        has one), the input of :func:`ltrr.ope.evaluate`; InputError when none was written."""
        from ltrr.results.records import record_filename

        seeds = sorted({r["seed"] for r in self.raw() if r["policy"] == policy})
        for s in ([seed] if seed is not None else seeds):
            path = self.folder / record_filename(policy, s).replace(".json", ".decisions.parquet")
            if path.exists():
                return pd.read_parquet(path)
        raise InputError(f"no decision log of policy '{policy}'"
                         f"{'' if seed is None else f' seed {seed}'} in {self.folder} (logs are "
                         "written for the first seed unless run(logs='all'))")
