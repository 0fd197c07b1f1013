"""Run a benchmark: tuning, every policy x seed, result records, decision logs, leaderboard, plot.

Order of work, so that bad input never leaves anything behind:

1. read and check the benchmark file (:func:`~ltrr.experiments.benchmark.load_benchmark`);
2. load the dataset and build the arms (unknown dataset or arm parameter -> InputError);
3. prepare the world (indexes and candidate lists, cached under ``LTRR_HOME``);
4. tune: every setting of each policy's ``grid`` is played on the ``[tuning]`` seeds (disjoint
   from the reported ones) and the setting with the best mean tuning metric is kept
   (ties: the first in grid order); ``tuning.json`` holds every score;
5. run the reported seeds with the chosen settings, writing into a temporary sibling of the
   output folder, which replaces the output folder only at the end (records of other
   policies/seeds already there, made from the same benchmark file, are kept and join the
   leaderboard).

A run killed midway (or interrupted with Ctrl-C), or stopped by a file it could not write (a
full disk: :class:`~ltrr.errors.WriteError`, whose message then names the file, the cause and
the folder kept), leaves its temporary folder behind; the next run of the same output folder
resumes from it: the tuning scores and records of cells it finished (same benchmark file,
stream length, policy, setting, seed and code; see :class:`~ltrr.experiments.cell_runner.CellRunner`)
are kept and only the other cells are played, so the results are those of a run that was never
stopped. Then the stale folder is deleted.

Seeds: seed ``k`` fixes the stream (the same for every policy), the click Generator
(the same seed for every policy, so comparisons are paired) and the policy's
``random_state``. Each (policy, setting, seed) is one *cell*, played on its own (the world's
per-run caches are reset), so cells can run in any order or process: ``--jobs`` does not
change any number. Decision logs are written for the first seed only by default
(``logs="first"``): they are the OPE input and can be large.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

from ltrr.errors import InputError, WriteError
from ltrr.experiments.benchmark import Benchmark, check_disjoint, load_benchmark
from ltrr.experiments.cell_runner import (TUNING_CELLS, CellRunner, kept_work,
                                          read_json_object, report_cells)
from ltrr.experiments.tuning import as_stored, choose_settings, tuning_cells
from ltrr.paths import remove, stale_temporaries, temporary_sibling, write_atomically, writing
from ltrr.results.folder import load_folder, write_leaderboard
from ltrr.results.records import write_json
from ltrr.simulation.loop import World

LOG_CHOICES = ("first", "all", "none")


def select(benchmark: Benchmark, seeds: list[int] | None, policies: list[str] | None,
           stream_length: int | None) -> Benchmark:
    """Narrow a benchmark to some seeds / policy labels / a shorter stream (CLI options)."""
    if seeds is not None:
        if not seeds or any(s < 0 for s in seeds):
            raise InputError(f"--seeds needs integers >= 0, got {seeds}", field="--seeds")
        if benchmark.tuning is not None:
            check_disjoint(benchmark.tuning.seeds, seeds, str(benchmark.path), field="--seeds")
        benchmark.seeds = list(dict.fromkeys(seeds))
    if policies is not None:
        labels = [p.label for p in benchmark.policies]
        for name in policies:
            if name not in labels:
                raise InputError(f"no policy labelled '{name}' in {benchmark.path} "
                                 f"(it has {', '.join(labels)})", field="--policies")
        benchmark.policies = [p for p in benchmark.policies if p.label in policies]
    if stream_length is not None:
        if stream_length < 1:
            raise InputError(f"must be >= 1, got {stream_length}", field="--stream-length")
        benchmark.stream_length = stream_length
    return benchmark


class Prepared(NamedTuple):
    """What every cell of a benchmark shares: the world, the context featurizer and the
    learned ranking stages the policies name (by ranker name)."""

    world: World
    featurizer: object
    stages: dict


def prepare(benchmark: Benchmark) -> Prepared:
    """Load the dataset, build arms, plan space, world and featurizer, train (or load) the
    learned rankers the policies name (may build indexes), and make the examples of the
    policies that learn before the stream (``world.training``,
    :mod:`~ltrr.experiments.pretraining`)."""
    from ltrr import datasets
    from ltrr.arms import build_arm
    from ltrr.selection.context import ContextFeaturizer

    file = str(benchmark.path)
    try:
        dataset = datasets.load(benchmark.dataset)
    except InputError as err:
        raise InputError(str(err), file=file, field="benchmark.dataset") from None
    arms = {}
    for name in benchmark.arms:
        try:
            arms[name] = build_arm(name, dataset, **benchmark.arm_params.get(name, {}))
        except InputError as err:
            raise InputError(str(err), file=file, field=f"arms.{name}") from None
    topics = dataset.topics
    if benchmark.split is not None:
        if "split" not in topics.columns or not (topics["split"] == benchmark.split).any():
            have = sorted(topics["split"].astype(str).unique()) if "split" in topics else []
            raise InputError(f"dataset '{dataset.id}' has no topics in split "
                             f"'{benchmark.split}' (splits: {', '.join(have) or 'none'})",
                             file=file, field="stream.split")
        topics = topics[topics["split"] == benchmark.split]
    topics = topics.reset_index(drop=True)
    space = benchmark.plan_space()
    settings = benchmark.settings
    try:
        featurizer = ContextFeaturizer(benchmark.features, dataset, arms,
                                       probe_arms=list(settings.probe_arms) or None,
                                       probe_depth=settings.probe_depth)
    except InputError as err:
        raise InputError(str(err), file=file, field="features.groups") from None
    world = World(dataset, arms, space, settings, benchmark.stream_length, topics)
    try:
        featurizer.fit(topics, late=world.late, stream_length=benchmark.stream_length)
    except InputError as err:
        raise InputError(str(err), file=file, field="features.groups") from None
    from ltrr.experiments.pretraining import prepare_training
    from ltrr.ranking.stage import prepare_stages

    stages = prepare_stages(benchmark, world, dataset)
    world.training = prepare_training(benchmark, world, featurizer, dataset, stages)
    return Prepared(world, featurizer, stages)


def run_benchmark(path: str | Path | Benchmark, seeds: list[int] | None = None,
                  policies: list[str] | None = None, out: str | Path | None = None,
                  stream_length: int | None = None, logs: str = "first",
                  progress: bool = True, command: str | None = None, jobs: int = 1) -> Path:
    """Run a benchmark file (or a checked :class:`Benchmark`, as the Python API passes it);
    return the results folder (``results/<file stem>`` by default).

    ``jobs > 1`` runs cells in that many forked worker processes; they share the prepared
    world (candidate lists, memory index) copy-on-write. Numbers do not depend on ``jobs``.
    """
    from tqdm import tqdm

    if logs not in LOG_CHOICES:
        raise InputError(f"--logs must be one of {', '.join(LOG_CHOICES)}, got '{logs}'")
    if jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {jobs}", field="--jobs")
    benchmark = path if isinstance(path, Benchmark) else load_benchmark(path)
    path = benchmark.path
    order = [p.label for p in benchmark.policies]  # the leaderboard's rows, all policies
    benchmark = select(benchmark, seeds, policies, stream_length)
    out_dir = Path(out) if out is not None else Path("results") / Path(path).stem
    world, featurizer, stages = prepare(benchmark)
    tune_cells = tuning_cells(benchmark)
    total = sum(c.length for c in tune_cells) + \
        len(benchmark.seeds) * len(benchmark.policies) * benchmark.stream_length
    earlier = stale_temporaries(out_dir)  # what runs killed midway left behind
    olds = stale_temporaries(out_dir, "old")  # a run killed while it swapped folders
    if olds and not out_dir.exists():
        os.rename(olds.pop(), out_dir)
    for old in olds:
        remove(old)
    tmp = temporary_sibling(out_dir)
    with writing(tmp):
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    keep = False
    try:
        bar = tqdm(total=total, desc=benchmark.name, unit="q", disable=not progress,
                   mininterval=1.0)
        runner = CellRunner(benchmark, world, featurizer, tmp=tmp, logs=logs, bar=bar, jobs=jobs,
                            command=command or f"ltrr run {path}", policy_order=order,
                            earlier=earlier, stages=stages)
        scores = runner.map(tune_cells)
        tuning = choose_settings(benchmark, tune_cells, scores)
        if tuning:
            write_json(tuning, tmp / "tuning.json")
        runner.tuning = as_stored(tuning)
        runner.map(report_cells(benchmark, tuning))
        bar.close()
        for folder in earlier:
            remove(folder)
        _keep_earlier(out_dir, tmp, benchmark)
        write_summary(tmp, "ltrr run")
        remove(tmp / TUNING_CELLS)
        _swap(tmp, out_dir)
    except KeyboardInterrupt:
        keep = True  # the next run of this output folder resumes from it
        raise
    except WriteError as err:
        keep = kept_work(err, tmp)  # as after a kill: the next run resumes from it
        raise
    finally:
        if tmp.exists() and not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def write_summary(folder: Path, command: str) -> None:
    """The leaderboard files of the records in ``folder`` (what ``ltrr leaderboard`` reads:
    the same files, byte for byte); records left out are named on stderr."""
    results = load_folder(folder)
    for message in results.skipped:
        print(f"{command}: warning: {message}", file=sys.stderr)
    write_leaderboard(results)


def _keep_earlier(out_dir: Path, tmp: Path, benchmark: Benchmark) -> None:
    """Copy records (and their tables and logs) of runs not redone now, made from the same
    file and stream length."""
    if not out_dir.is_dir():
        return
    for path in sorted(out_dir.glob("*-seed*.json")):
        if (tmp / path.name).exists():
            continue
        record = read_json_object(path)
        if record is not None and (record.get("provenance", {}).get("benchmark_sha256") == benchmark.sha256
                and record.get("stream_length") == benchmark.stream_length):
            for side in (path.with_name(path.name.replace(".json", ".decisions.parquet")),
                         path.with_name(path.name.replace(".json", ".topics.parquet")), path):
                if side.exists():  # the record last, each copy atomic
                    _copy(side, tmp / side.name)
    if not (tmp / "tuning.json").exists() and (out_dir / "tuning.json").exists():
        _copy(out_dir / "tuning.json", tmp / "tuning.json")


def _copy(source: Path, target: Path) -> None:
    write_atomically(target, lambda tmp: shutil.copy2(source, tmp))


def _swap(tmp: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``tmp`` (the old folder is removed only after the rename)."""
    old = None
    if out_dir.exists():
        old = temporary_sibling(out_dir, "old")
        os.rename(out_dir, old)
    os.rename(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
