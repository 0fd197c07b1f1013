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

Seeds: seed ``k`` fixes the stream (the same for every policy), the click Generator
(the same seed for every policy, so comparisons are paired) and the policy's
``random_state``. Each (policy, setting, seed) is one *cell*, played on its own (the world's
per-run caches are reset), so cells can run in any order or process: ``--jobs`` does not
change any number. Decision logs are written for the first seed only by default
(``logs="first"``): they are the OPE input and can be large.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ltrr.errors import InputError
from ltrr.evaluation.metrics import run_metrics
from ltrr.results.leaderboard import markdown
from ltrr.results.plots import curve_plot, regret_plot
from ltrr.results.records import (make_record, read_records, read_topic_tables,
                                  record_filename, write_json, write_topics)
from ltrr.experiments.benchmark import Benchmark, PolicySpec, check_disjoint, load_benchmark
from ltrr.experiments.decision_log import decision_frame, write_decision_log
from ltrr.simulation.loop import World, run_policy
from ltrr.simulation.stream import sample_stream

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


def prepare(benchmark: Benchmark):
    """Load the dataset, build arms, plan space, world and featurizer (may build indexes)."""
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
    from ltrr.ranking.stage import prepare_stages

    world.rankers = prepare_stages(benchmark, world, dataset)
    return world, featurizer


@dataclass(frozen=True)
class Cell:
    """One run: a policy with one setting of its hyper-parameters on one seed's stream."""

    label: str
    name: str
    params: dict = field(hash=False)
    seed: int = 0
    length: int = 0
    tuning: bool = False  # a tuning run (scores only) or a reported one (records)


def reward_range(world: World) -> tuple[float, float]:
    """The range of rewards a policy can see: clicks on a page minus what it can cost."""
    probe = world.probe.cost if world.probe is not None else 0.0
    return -float(world.cost.max()) - probe, float(world.settings.page) - float(world.cost.min())


def play(world: World, featurizer, cell: Cell, zipf: float, progress=None, ranker=None):
    """Play one cell with ``featurizer`` (the features its policy sees) and ``ranker`` (a
    learned ranking stage, or None: the fusion); returns the policy, its trace and
    ``run_metrics``'s three parts."""
    from ltrr.selection.policies import build_policy

    policy = build_policy(cell.name, cell.params, world.plans, featurizer.dim, cell.seed,
                          reward_range(world))
    stream = sample_stream(world.topics, cell.length, zipf, cell.seed)
    trace = run_policy(world, policy, featurizer, stream, cell.seed, progress=progress,
                       ranker=ranker)
    return policy, trace, run_metrics(trace, world)


def run_benchmark(path: str | Path, seeds: list[int] | None = None,
                  policies: list[str] | None = None, out: str | Path | None = None,
                  stream_length: int | None = None, logs: str = "first",
                  progress: bool = True, command: str | None = None, jobs: int = 1) -> Path:
    """Run a benchmark file; return the results folder (``results/<file stem>`` by default).

    ``jobs > 1`` runs cells in that many forked worker processes; they share the prepared
    world (candidate lists, memory index) copy-on-write. Numbers do not depend on ``jobs``.
    """
    from tqdm import tqdm

    if logs not in LOG_CHOICES:
        raise InputError(f"--logs must be one of {', '.join(LOG_CHOICES)}, got '{logs}'")
    if jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {jobs}", field="--jobs")
    benchmark = load_benchmark(path)
    order = [p.label for p in benchmark.policies]  # the leaderboard's rows, all policies
    benchmark = select(benchmark, seeds, policies, stream_length)
    out_dir = Path(out) if out is not None else Path("results") / Path(path).stem
    world, featurizer = prepare(benchmark)
    tune_cells = tuning_cells(benchmark)
    total = sum(c.length for c in tune_cells) + \
        len(benchmark.seeds) * len(benchmark.policies) * benchmark.stream_length
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir(parents=True)
    try:
        bar = tqdm(total=total, desc=benchmark.name, unit="q", disable=not progress,
                   mininterval=1.0)
        runner = _Runner(benchmark, world, featurizer, tmp, logs, bar, jobs)
        scores = runner.map(tune_cells)
        tuning = choose_settings(benchmark, tune_cells, scores)
        if tuning:
            write_json(tuning, tmp / "tuning.json")
        runner.map(report_cells(benchmark, tuning))
        bar.close()
        _keep_earlier(out_dir, tmp, benchmark)
        records = read_records(tmp)
        (tmp / "LEADERBOARD.md").write_text(markdown(records, f"{benchmark.name} leaderboard",
                                                     command, order,
                                                     read_topic_tables(tmp, records)))
        regret_plot(records, tmp / "regret.png", f"{benchmark.name}: cumulative expected regret",
                    order)
        if benchmark.rankers:
            curve_plot(records, "ndcg@10", tmp / "ndcg.png",
                       f"{benchmark.name}: nDCG@10 over the stream", order)
        _swap(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def tuning_cells(benchmark: Benchmark) -> list[Cell]:
    """Every grid setting of every tuned policy on every tuning seed."""
    if benchmark.tuning is None:
        return []
    return [Cell(spec.label, spec.name, setting, seed, benchmark.stream_length, tuning=True)
            for spec in benchmark.policies if spec.grid
            for setting in spec.settings() for seed in benchmark.tuning.seeds]


def choose_settings(benchmark: Benchmark, cells: list[Cell], scores: list[float]) -> dict:
    """Per tuned policy: its grid, every setting's per-seed and mean tuning metric, and the
    chosen setting (the best mean; ties go to the first in grid order)."""
    out: dict = {}
    for spec in benchmark.policies:
        if not spec.grid:
            continue
        rows = []
        for setting in spec.settings():
            values = {c.seed: v for c, v in zip(cells, scores)
                      if c.label == spec.label and c.params == setting}
            rows.append({"params": setting, "values": values,
                         "mean": sum(values.values()) / len(values)})
        best = max(range(len(rows)), key=lambda i: (rows[i]["mean"], -i))
        out[spec.label] = {"grid": spec.grid, "metric": benchmark.tuning.metric,
                           "seeds": benchmark.tuning.seeds, "settings": rows,
                           "chosen": rows[best]["params"]}
    return out


def report_cells(benchmark: Benchmark, tuning: dict) -> list[Cell]:
    """Every policy (at its chosen setting) on every reported seed, seed-major."""
    return [Cell(spec.label, spec.name, tuning.get(spec.label, {}).get("chosen", spec.params),
                 seed, benchmark.stream_length)
            for seed in benchmark.seeds for spec in benchmark.policies]


class _Runner:
    """Plays cells in this process or in forked workers; reported cells write their record,
    per-topic table (and log) into ``tmp``, tuning cells return their score."""

    def __init__(self, benchmark: Benchmark, world: World, featurizer, tmp: Path, logs: str,
                 bar, jobs: int) -> None:
        self.benchmark, self.world, self.featurizer = benchmark, world, featurizer
        self.tmp, self.logs, self.bar, self.jobs = tmp, logs, bar, jobs
        self.tuning: dict = {}

    def map(self, cells: list[Cell]) -> list[float | None]:
        if self.jobs == 1 or len(cells) <= 1:
            return [self.run(cell, self.bar) for cell in cells]
        return _run_forked(self, cells)

    def run(self, cell: Cell, progress) -> float | None:
        if hasattr(progress, "set_postfix_str"):
            progress.set_postfix_str(f"{'tuning ' if cell.tuning else ''}{cell.label} "
                                     f"seed {cell.seed}")
        start = time.perf_counter()
        spec = next(p for p in self.benchmark.policies if p.label == cell.label)
        featurizer = self.featurizer if spec.features is None else \
            self.featurizer.select(spec.features)
        stage = None if spec.ranker is None else self.world.rankers[spec.ranker].for_run()
        policy, trace, (metrics, curves, topics) = play(self.world, featurizer, cell,
                                                        self.benchmark.zipf, progress, stage)
        if cell.tuning:
            return float(metrics[self.benchmark.tuning.metric])
        wall = time.perf_counter() - start
        record = make_record(self.benchmark, cell.label, cell.name, policy.params, cell.seed,
                             metrics, curves, self.world.plan_ids, wall, cell.length,
                             tuning=_tuning_summary(spec, self.tmp), features=featurizer.groups,
                             ranker=self.ranking(stage))
        name = record_filename(cell.label, cell.seed)
        write_json(record, self.tmp / name)
        write_topics(topics, self.tmp / name.replace(".json", ".topics.parquet"))
        first = cell.seed == self.benchmark.seeds[0]
        if self.logs == "all" or (self.logs == "first" and first):
            frame = decision_frame(trace, self.world, featurizer.names)
            write_decision_log(frame, self.tmp / name.replace(".json", ".decisions.parquet"))
        return None

    def ranking(self, stage) -> dict:
        """What a record says about its ranking stage: the fusion, or the learned ranker."""
        s = self.benchmark.settings
        if stage is None:
            return {"name": s.fusion, "fusion": s.fusion, "k": s.k}
        return stage.describe()


def _tuning_summary(spec: PolicySpec, tmp: Path) -> dict | None:
    """What a reported record says of its tuning: grid, metric, seeds, chosen setting and
    each setting's mean score (read from ``tuning.json``)."""
    if not spec.grid:
        return None
    entry = json.loads((tmp / "tuning.json").read_text())[spec.label]
    return {"grid": entry["grid"], "metric": entry["metric"], "seeds": entry["seeds"],
            "chosen": entry["chosen"],
            "means": [[row["params"], row["mean"]] for row in entry["settings"]]}


class _SharedCount:
    """A progress sink for worker processes: adds to a shared counter every few hundred steps."""

    def __init__(self, value) -> None:
        self.value, self.pending = value, 0

    def update(self, n: int) -> None:
        self.pending += n
        if self.pending >= 250:
            self.flush()

    def flush(self) -> None:
        with self.value.get_lock():
            self.value.value += self.pending
        self.pending = 0


_FORKED: dict = {}  # what forked workers inherit: the prepared run


def _cell_worker(i: int) -> tuple[int, float | None]:
    runner, cells, count = _FORKED["runner"], _FORKED["cells"], _FORKED["count"]
    sink = _SharedCount(count)
    score = runner.run(cells[i], sink)
    sink.flush()
    return i, score


def _run_forked(runner: _Runner, cells: list[Cell]) -> list[float | None]:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("fork")
    count = ctx.Value("q", 0)
    start = runner.bar.n
    _FORKED.update(runner=runner, cells=cells, count=count)
    scores: list[float | None] = [None] * len(cells)
    try:
        with ProcessPoolExecutor(max_workers=runner.jobs, mp_context=ctx) as pool:
            pending = {pool.submit(_cell_worker, i) for i in range(len(cells))}
            while pending:
                done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                for future in done:
                    i, score = future.result()  # re-raise a worker's error here
                    scores[i] = score
                runner.bar.n = start + count.value
                runner.bar.refresh()
    finally:
        _FORKED.clear()
    return scores


def _keep_earlier(out_dir: Path, tmp: Path, benchmark: Benchmark) -> None:
    """Copy records (and their tables and logs) of runs not redone now, made from the same
    file and stream length."""
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
            for side in (path, path.with_name(path.name.replace(".json", ".decisions.parquet")),
                         path.with_name(path.name.replace(".json", ".topics.parquet"))):
                if side.exists():
                    shutil.copy2(side, tmp / side.name)
    if not (tmp / "tuning.json").exists() and (out_dir / "tuning.json").exists():
        shutil.copy2(out_dir / "tuning.json", tmp / "tuning.json")


def _swap(tmp: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``tmp`` (the old folder is removed only after the rename)."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        os.rename(out_dir, old)
    os.rename(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
