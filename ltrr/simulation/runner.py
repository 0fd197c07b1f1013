"""Run a benchmark: every policy x seed, result records, decision logs, leaderboard, plot.

Order of work, so that bad input never leaves anything behind:

1. read and check the benchmark file (:func:`~ltrr.simulation.benchmark.load_benchmark`);
2. load the dataset and build the arms (unknown dataset or arm parameter -> InputError);
3. prepare the world (indexes and candidate lists, cached under ``LTRR_HOME``);
4. run, writing into a temporary sibling of the output folder, which replaces the output
   folder only at the end (records of other policies/seeds already there, made from the
   same benchmark file, are kept and join the leaderboard).

Seeds: seed ``k`` fixes the stream (the same for every policy), the click Generator
(the same seed for every policy, so comparisons are paired) and the policy's
``random_state``. Decision logs are written for the first seed only by default
(``logs="first"``): they are the OPE input and can be large.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

from ltrr.errors import InputError
from ltrr.evaluation.metrics import run_metrics
from ltrr.results.leaderboard import markdown
from ltrr.results.plots import regret_plot
from ltrr.results.records import make_record, read_records, record_filename, write_json
from ltrr.simulation.benchmark import Benchmark, load_benchmark
from ltrr.simulation.decision_log import decision_frame, write_decision_log
from ltrr.simulation.loop import World, run_policy
from ltrr.simulation.stream import sample_stream

LOG_CHOICES = ("first", "all", "none")


def select(benchmark: Benchmark, seeds: list[int] | None, policies: list[str] | None,
           stream_length: int | None) -> Benchmark:
    """Narrow a benchmark to some seeds / policy labels / a shorter stream (CLI options)."""
    if seeds is not None:
        if not seeds or any(s < 0 for s in seeds):
            raise InputError(f"--seeds needs integers >= 0, got {seeds}", field="--seeds")
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


def prepare(benchmark: Benchmark):
    """Load the dataset, build arms, plan space, featurizer and world (may build indexes)."""
    from ltrr import datasets
    from ltrr.arms import build_arm
    from ltrr.selection.features import ContextFeaturizer

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
    try:
        featurizer = ContextFeaturizer(benchmark.features, dataset, arms)
        featurizer.fit(topics)
    except InputError as err:
        raise InputError(str(err), file=file, field="features.groups") from None
    world = World(dataset, arms, space, benchmark.settings, benchmark.stream_length, topics)
    return world, featurizer


def run_benchmark(path: str | Path, seeds: list[int] | None = None,
                  policies: list[str] | None = None, out: str | Path | None = None,
                  stream_length: int | None = None, logs: str = "first",
                  progress: bool = True, command: str | None = None, jobs: int = 1) -> Path:
    """Run a benchmark file; return the results folder (``results/<file stem>`` by default).

    ``jobs > 1`` runs seeds in that many forked worker processes; they share the prepared
    world (candidate lists, memory index) copy-on-write. Numbers do not depend on ``jobs``.
    """
    from tqdm import tqdm

    if logs not in LOG_CHOICES:
        raise InputError(f"--logs must be one of {', '.join(LOG_CHOICES)}, got '{logs}'")
    if jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {jobs}", field="--jobs")
    benchmark = select(load_benchmark(path), seeds, policies, stream_length)
    out_dir = Path(out) if out is not None else Path("results") / Path(path).stem
    world, featurizer = prepare(benchmark)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir(parents=True)
    try:
        total = len(benchmark.seeds) * len(benchmark.policies) * benchmark.stream_length
        bar = tqdm(total=total, desc=benchmark.name, unit="q", disable=not progress,
                   mininterval=1.0)
        if jobs == 1 or len(benchmark.seeds) == 1:
            for seed in benchmark.seeds:
                _run_seed(benchmark, world, featurizer, seed, tmp, logs, bar)
        else:
            _run_parallel(benchmark, world, featurizer, tmp, logs, bar, jobs)
        bar.close()
        _keep_earlier(out_dir, tmp, benchmark)
        records = read_records(tmp)
        order = [p.label for p in load_benchmark(path).policies]
        (tmp / "LEADERBOARD.md").write_text(markdown(records, f"{benchmark.name} leaderboard",
                                                     command, order))
        regret_plot(records, tmp / "regret.png", f"{benchmark.name}: cumulative expected regret",
                    order)
        _swap(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _run_seed(benchmark: Benchmark, world: World, featurizer, seed: int, tmp: Path, logs: str,
              bar) -> None:
    """Every policy on one seed's stream; records (and logs) written into ``tmp``."""
    from ltrr.selection.policies import build_policy

    cost = world.cost
    reward_range = (-float(cost.max()), float(benchmark.settings.page) - float(cost.min()))
    stream = sample_stream(world.topics, benchmark.stream_length, benchmark.zipf, seed)
    for spec in benchmark.policies:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(f"{spec.label} seed {seed}")
        policy = build_policy(spec.name, spec.params, world.plans, featurizer.dim, seed,
                              reward_range)
        start = time.perf_counter()
        trace = run_policy(world, policy, featurizer, stream, seed, progress=bar)
        metrics, curves = run_metrics(trace, world)
        wall = time.perf_counter() - start
        record = make_record(benchmark, spec.label, spec.name, spec.params, seed, metrics,
                             curves, world.plan_ids, wall, benchmark.stream_length)
        name = record_filename(spec.label, seed)
        write_json(record, tmp / name)
        if logs == "all" or (logs == "first" and seed == benchmark.seeds[0]):
            frame = decision_frame(trace, world, featurizer.names)
            write_decision_log(frame, tmp / name.replace(".json", ".decisions.parquet"))


class _SharedCount:
    """A progress sink for worker processes: adds to a shared counter every few hundred steps."""

    def __init__(self, value) -> None:
        self.value, self.pending = value, 0

    def update(self, n: int) -> None:
        self.pending += n
        if self.pending >= 250:
            with self.value.get_lock():
                self.value.value += self.pending
            self.pending = 0


_FORKED: dict = {}  # what forked workers inherit: the prepared run


def _seed_worker(seed: int) -> int:
    state = _FORKED
    _run_seed(state["benchmark"], state["world"], state["featurizer"], seed, state["tmp"],
              state["logs"], _SharedCount(state["count"]))
    return seed


def _run_parallel(benchmark: Benchmark, world: World, featurizer, tmp: Path, logs: str, bar,
                  jobs: int) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("fork")
    count = ctx.Value("q", 0)
    _FORKED.update(benchmark=benchmark, world=world, featurizer=featurizer, tmp=tmp, logs=logs,
                   count=count)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            pending = {pool.submit(_seed_worker, seed) for seed in benchmark.seeds}
            while pending:
                done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()  # re-raise a worker's error here
                bar.n = count.value
                bar.refresh()
    finally:
        _FORKED.clear()


def _keep_earlier(out_dir: Path, tmp: Path, benchmark: Benchmark) -> None:
    """Copy records (and logs) of runs not redone now, made from the same file and length."""
    if not out_dir.is_dir():
        return
    for path in sorted(out_dir.glob("*-seed*.json")):
        if (tmp / path.name).exists():
            continue
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if (record.get("provenance", {}).get("benchmark_sha256") == benchmark.sha256
                and record.get("stream_length") == benchmark.stream_length):
            shutil.copy2(path, tmp / path.name)
            log = path.with_name(path.name.replace(".json", ".decisions.parquet"))
            if log.exists():
                shutil.copy2(log, tmp / log.name)


def _swap(tmp: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``tmp`` (the old folder is removed only after the rename)."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        os.rename(out_dir, old)
    os.rename(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
