"""Cells: one policy, at one setting of its hyper-parameters, on one seed's stream.

A benchmark run (and its tuning) is a list of cells. Each is played on its own (the world's
per-run caches are reset, its seed fixes the stream, the clicks and the policy), so cells can
run in any order, in this process or in forked workers sharing the prepared world
copy-on-write (:class:`CellRunner`): ``--jobs`` does not change any number. A reported cell
writes its record, per-topic table and (for the first seed, by default) decision log; a
tuning cell returns its score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ltrr.evaluation.metrics import run_metrics
from ltrr.experiments.benchmark import Benchmark
from ltrr.experiments.decision_log import decision_frame, write_decision_log
from ltrr.results.records import make_record, record_filename, write_json, write_topics
from ltrr.simulation.loop import World, run_policy
from ltrr.simulation.stream import sample_stream


@dataclass(frozen=True)
class Cell:
    """One run: a policy with one setting of its hyper-parameters on one seed's stream."""

    label: str
    name: str
    params: dict = field(hash=False)
    seed: int = 0
    length: int = 0
    tuning: bool = False  # a tuning run (scores only) or a reported one (records)


class Played(NamedTuple):
    """A played cell: its policy and trace, ``run_metrics``'s three parts (None for a tuning
    cell, scored from its trace), the featurizer its policy saw and its ranking stage (None:
    the fusion)."""

    policy: object
    trace: object
    metrics: dict | None
    curves: dict | None
    topics: object
    featurizer: object
    stage: object


def reward_range(world: World) -> tuple[float, float]:
    """The range of rewards a policy can see: clicks on a page minus what it can cost."""
    probe = world.probe.cost if world.probe is not None else 0.0
    return -float(world.cost.max()) - probe, float(world.settings.page) - float(world.cost.min())


def play(world: World, featurizer, cell: Cell, zipf: float, progress=None, ranker=None):
    """Play one cell with ``featurizer`` (the features its policy sees) and ``ranker`` (a
    learned ranking stage, or None: the fusion); returns the policy and its trace."""
    from ltrr.selection.policies import build_policy

    policy = build_policy(cell.name, cell.params, world.plans, featurizer.dim, cell.seed,
                          reward_range(world))
    stream = sample_stream(world.topics, cell.length, zipf, cell.seed)
    return policy, run_policy(world, policy, featurizer, stream, cell.seed, progress=progress,
                              ranker=ranker)


def tuning_score(trace, world: World, metric: str) -> float:
    """A tuning cell's score: its mean ``metric`` (rewards straight from the trace; the
    other metrics through :func:`ltrr.evaluation.metrics.run_metrics`)."""
    if metric == "reward":
        return float(trace.reward.mean())
    if metric == "clicks":
        return float(trace.clicks_total.mean())
    return float(run_metrics(trace, world)[0][metric])


def report_cells(benchmark: Benchmark, tuning: dict) -> list[Cell]:
    """Every policy (at its chosen setting) on every reported seed, seed-major."""
    return [Cell(spec.label, spec.name, tuning.get(spec.label, {}).get("chosen", spec.params),
                 seed, benchmark.stream_length)
            for seed in benchmark.seeds for spec in benchmark.policies]


class CellRunner:
    """Plays cells in this process or in forked workers; reported cells write their record,
    per-topic table (and log) into ``tmp``, tuning cells return their score."""

    def __init__(self, benchmark: Benchmark, world: World, featurizer, tmp: Path, logs: str,
                 bar, jobs: int, command: str, policy_order: list[str] | None = None) -> None:
        self.benchmark, self.world, self.featurizer = benchmark, world, featurizer
        self.tmp, self.logs, self.bar, self.jobs = tmp, logs, bar, jobs
        self.command = command
        self.policy_order = policy_order  # the file's policy labels, before --policies

    def map(self, cells: list[Cell]) -> list[float | None]:
        if self.jobs == 1 or len(cells) <= 1:
            return [self.run(cell, self.bar) for cell in cells]
        return _run_forked(self, cells)

    def run(self, cell: Cell, progress) -> float | None:
        from ltrr.experiments.tuning import tuning_summary

        if hasattr(progress, "set_postfix_str"):
            progress.set_postfix_str(f"{'tuning ' if cell.tuning else ''}{cell.label} "
                                     f"seed {cell.seed}")
        start = time.perf_counter()
        spec = next(p for p in self.benchmark.policies if p.label == cell.label)
        played = self.play(cell, progress)
        if cell.tuning:
            return tuning_score(played.trace, self.world, self.benchmark.tuning.metric)
        wall = time.perf_counter() - start
        record = make_record(self.benchmark, cell.label, cell.name, played.policy.params,
                             cell.seed, played.metrics, played.curves, self.world.plan_ids,
                             wall, cell.length, tuning=tuning_summary(spec, self.tmp),
                             features=played.featurizer.groups,
                             ranker=self.ranking(played.stage), command=self.command,
                             policy_order=self.policy_order)
        name = record_filename(cell.label, cell.seed)
        write_json(record, self.tmp / name)
        write_topics(played.topics, self.tmp / name.replace(".json", ".topics.parquet"))
        first = cell.seed == self.benchmark.seeds[0]
        if self.logs == "all" or (self.logs == "first" and first):
            frame = decision_frame(played.trace, self.world, played.featurizer.names)
            write_decision_log(frame, self.tmp / name.replace(".json", ".decisions.parquet"))
        return None

    def play(self, cell: Cell, progress=None) -> Played:
        """Play ``cell`` with its policy's features and ranking stage; writes nothing
        (``ltrr reproduce`` replays a record's cell with it)."""
        spec = next(p for p in self.benchmark.policies if p.label == cell.label)
        featurizer = self.featurizer if spec.features is None else \
            self.featurizer.select(spec.features)
        stage = None if spec.ranker is None else self.world.rankers[spec.ranker].for_run()
        policy, trace = play(self.world, featurizer, cell, self.benchmark.zipf, progress, stage)
        if cell.tuning:  # a tuning cell is scored from its trace (no nDCG evaluation)
            return Played(policy, trace, None, None, None, featurizer, stage)
        metrics, curves, topics = run_metrics(trace, self.world)
        return Played(policy, trace, metrics, curves, topics, featurizer, stage)

    def ranking(self, stage) -> dict:
        """What a record says about its ranking stage: the fusion, or the learned ranker."""
        s = self.benchmark.settings
        if stage is None:
            return {"name": s.fusion, "fusion": s.fusion, "k": s.k}
        return stage.describe()


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


def _run_forked(runner: CellRunner, cells: list[Cell]) -> list[float | None]:
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
