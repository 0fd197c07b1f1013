"""Cells: one policy, at one setting of its hyper-parameters, on one seed's stream.

A benchmark run (and its tuning) is a list of cells. Each is played on its own (the world's
per-run caches are reset, its seed fixes the stream, the clicks and the policy), so cells can
run in any order, in this process or in forked workers sharing the prepared world
copy-on-write (:class:`CellRunner`): ``--jobs`` does not change any number. A reported cell
writes its per-topic table, (for the first seed, by default) decision log and, last, its
record; a tuning cell writes its score under ``.tuning-cells/`` and returns it. Every file is
written atomically, so a cell is finished exactly when its record (or score) is there: a
write that fails (a full disk) raises :class:`~ltrr.errors.WriteError` and leaves the cells
finished before it whole (:func:`kept_work` says what they are).

A cell already finished, in the output folder or in the folders of an earlier run that was
killed (``earlier``), is not played again: its files are kept (moved over), so a run resumed
after a kill ends with the records of one that ran through. Finished means made from the
same benchmark file (SHA-256) and stream length, for the same policy, resolved
hyper-parameters, seed, feature groups, ranking stage and tuning, with every side file the
run asks for.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ltrr.contracts import ability
from ltrr.errors import InputError, WriteError
from ltrr.evaluation.metrics import run_metrics
from ltrr.experiments.benchmark import Benchmark
from ltrr.experiments.cell import Cell
from ltrr.decision_log import trace_decisions, write_decision_log
from ltrr.paths import writing
from ltrr.results.records import (RunOutcome, make_record, record_filename, write_json,
                                  write_topics)
from ltrr.simulation.loop import World, run_policy
from ltrr.simulation.stream import sample_stream


TUNING_CELLS = ".tuning-cells"  # a run's tuning scores, one file per cell, until it ends


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


@dataclass
class CellOutput:
    """What a reported cell leaves: its record, per-topic table and decision log (or None)."""

    record: dict
    topics: object
    decisions: object | None = None


def json_ready(value):
    """``value`` as it reads back from JSON (tuples become lists, keys strings)."""
    return json.loads(json.dumps(value))


def reward_range(world: World, stage: str | None = None) -> tuple[float, float]:
    """The range of rewards a policy can see: what a page can earn (its clicks, or 1 for the
    other rewards) minus what it can cost with ranking stage ``stage`` (None: the fusion)."""
    probe = world.probe.cost if world.probe is not None else 0.0
    top = float(world.settings.page) if world.settings.reward == "clicks" else 1.0
    cost = world.plan_cost(stage)
    return -float(cost.max()) - probe, top - float(cost.min())


def play(world: World, featurizer, cell: Cell, zipf: float, progress=None, ranker=None,
         target=None):
    """Play one cell with ``featurizer`` (the features its policy sees) and ``ranker`` (a
    learned ranking stage, or None: the fusion); returns the policy and its trace (an
    exploring run logs ``target``'s pages, a trained stage's, beside its own). A policy
    that learns before the stream first learns the world's examples for its ranking stage
    (``world.training``, made by :func:`~ltrr.experiments.runner.prepare`). A tuning
    cell skips Thompson sampling's propensities (its score is its rewards; the decisions are
    the same)."""
    from ltrr.selection.policies import build_policy

    stage = ranker.config.name if ranker is not None else None
    policy = build_policy(cell.name, cell.params, world.plans,
                          n_features=featurizer.dim, random_state=cell.seed,
                          reward_range=reward_range(world, stage))
    if ability(policy, "policy", "uses_training"):  # learns from the training topics first
        policy.fit(world.training[stage].select(featurizer.names))
    stream = sample_stream(world.topics, cell.length, zipf, cell.seed)
    return policy, run_policy(world, policy, featurizer, stream, cell.seed, progress=progress,
                              ranker=ranker, propensity=not cell.tuning, target=target)


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


def outside_code(benchmark: Benchmark, policy_name: str, ranker: str | None) -> dict:
    """The outside components a run used (its policy, the benchmark's outside arms and click
    model, its ranker's model), by where the file names them, each with
    :func:`ltrr.registry.code_origin` (import path, source hash, distribution and version):
    a record of a plugin's run says which code made it. Empty when all are ltrr's own."""
    from ltrr.arms import REGISTRY as ARMS
    from ltrr.ranking.learned import REGISTRY as RANKERS
    from ltrr.selection.policies import REGISTRY as POLICIES
    from ltrr.selection.policies import is_builtin
    from ltrr.simulation.clicks import REGISTRY as CLICKS

    raw = benchmark.raw
    code = {}
    if not is_builtin(policy_name):
        code["policies.name"] = POLICIES.origin(policy_name)
    for arm, table in raw.get("arms", {}).items():
        if isinstance(table, dict) and "class" in table:
            code[f"arms.{arm}.class"] = ARMS.origin(table["class"])
    clicks = CLICKS.origin(raw["clicks"]["model"])
    if clicks is not None:
        code["clicks.model"] = clicks
    if ranker is not None:
        model = RANKERS.origin(raw.get("rankers", {}).get(ranker, {}).get("model", "lambdamart"))
        if model is not None:
            code[f"rankers.{ranker}.model"] = model
    return code


class CellRunner:
    """Plays cells in this process or in forked workers; reported cells write their
    per-topic table (and log) and record into ``tmp``, tuning cells their score. Cells found
    finished in ``tmp`` or in the ``earlier`` folders are skipped (their files kept)."""

    def __init__(self, benchmark: Benchmark, world: World, featurizer, *, tmp: Path | None = None,
                 logs: str = "none", bar=None, jobs: int = 1, command: str | None = None,
                 policy_order: list[str] | None = None, earlier: list[Path] | None = None,
                 provenance: dict | None = None, stages: dict | None = None) -> None:
        """What is played (``benchmark``, its prepared ``world`` and ``featurizer``, the
        learned ranking ``stages`` by ranker name) and where it goes: ``tmp`` (None: nothing
        written, as ``ltrr reproduce`` plays), decision ``logs`` (``first``, ``all``,
        ``none``), a progress ``bar``, ``jobs`` worker processes, the ``command`` records
        name, the file's ``policy_order``, ``earlier`` folders of a killed run to resume from
        and ``provenance`` entries added to every record."""
        self.benchmark, self.world, self.featurizer = benchmark, world, featurizer
        self.tmp, self.logs, self.bar, self.jobs = tmp, logs, bar, jobs
        self.command = command
        self.policy_order = policy_order  # the file's policy labels, before --policies
        self.earlier = list(earlier or [])
        self.provenance = provenance or {}  # entries added to every record's provenance
        self.tuning: dict = {}  # the chosen settings, as tuning.json holds them
        self.stages = stages or {}  # learned ranking stages by ranker name
        self._compiled = False  # compile() has run
        self.skipped = 0  # cells found finished by :meth:`map`
        self._code: dict | None = None
        self._outside: dict[tuple, dict] = {}  # (policy name, ranker) -> outside_code

    def map(self, cells: list[Cell], play=None) -> list[float | None]:
        """Each cell's tuning score (None for reported cells), playing only unfinished ones:
        here (``jobs=1``), in forked workers, or by ``play(runner, cells)`` (a Dask client's
        :class:`~ltrr.experiments.sweep.DaskCells`)."""
        scores: list[float | None] = [None] * len(cells)
        todo = []
        for i, cell in enumerate(cells):
            done, score = self.finished(cell)
            if done:
                scores[i] = score
                self.skipped += 1
                if self.bar is not None:
                    self.bar.update(cell.length)
            else:
                todo.append(i)
        pending = [cells[i] for i in todo]
        if play is not None:
            ran = play(self, pending) if pending else []
        elif self.jobs == 1 or len(pending) <= 1:
            ran = [self.run(cell, self.bar) for cell in pending]
        else:
            from ltrr.experiments.pool import run_forked

            self.compile(pending[0])
            ran = run_forked(self, pending)
        for i, score in zip(todo, ran):
            scores[i] = score
        return scores

    def compile(self, cell: Cell) -> None:
        """Play a few queries of ``cell`` (and score them) here, before workers are forked:
        the compiled loop and metrics are then compiled (or loaded from numba's cache) once,
        in this process, and the workers inherit them instead of each compiling its own."""
        if self._compiled:
            return
        from dataclasses import replace

        self.play(replace(cell, length=min(cell.length, 20), tuning=False))
        self._compiled = True

    def run(self, cell: Cell, progress) -> float | None:
        """Play ``cell`` and write what it leaves; its tuning score (None when reported)."""
        return self.write(cell, self.compute(cell, progress))

    def spec(self, cell: Cell):
        return next(p for p in self.benchmark.policies if p.label == cell.label)

    def features_of(self, spec):
        return self.featurizer if spec.features is None else self.featurizer.select(spec.features)

    def compute(self, cell: Cell, progress) -> float | CellOutput:
        """Play ``cell``: its tuning score, or the record, table and log it leaves."""
        from ltrr.experiments.tuning import tuning_summary

        if hasattr(progress, "set_postfix_str"):
            progress.set_postfix_str(f"{'tuning ' if cell.tuning else ''}{cell.label} "
                                     f"seed {cell.seed}")
        start = time.perf_counter()
        spec = self.spec(cell)
        played = self.play(cell, progress)
        if cell.tuning:
            return tuning_score(played.trace, self.world, self.benchmark.tuning.metric)
        wall = time.perf_counter() - start
        outcome = RunOutcome(label=cell.label, policy_name=cell.name,
                             params=played.policy.params, seed=cell.seed,
                             stream_length=cell.length, plan_ids=self.world.plan_ids,
                             metrics=played.metrics, curves=played.curves, wall_time=wall,
                             tuning=tuning_summary(spec, self.tuning),
                             features=played.featurizer.groups,
                             ranker=self.ranking(played.stage), command=self.command,
                             policy_order=self.policy_order)
        record = make_record(self.benchmark, outcome)
        record["candidate_lists"] = dict(played.trace.list_hashes)
        if getattr(played.policy, "training_info", None):
            record["training"] = json_ready(played.policy.training_info)
        record["provenance"].update(self.provenance)
        key = (cell.name, spec.ranker)  # the same for every seed: hash plugin files once
        if key not in self._outside:
            self._outside[key] = outside_code(self.benchmark, cell.name, spec.ranker)
        code = self._outside[key]
        if code:
            record["provenance"]["outside_code"] = json_ready(code)  # a copy per record
        decisions = None
        if self.wants_log(cell):
            decisions = trace_decisions(played.trace, self.world, played.featurizer.names)
        return CellOutput(record, played.topics, decisions)

    def play(self, cell: Cell, progress=None) -> Played:
        """Play ``cell`` with its policy's features and ranking stage; writes nothing
        (``ltrr reproduce`` replays a record's cell with it)."""
        spec = self.spec(cell)
        featurizer = self.features_of(spec)
        stage = None if spec.ranker is None else self.stages[spec.ranker].for_run()
        target = self.benchmark.settings.target
        try:
            policy, trace = play(self.world, featurizer, cell, self.benchmark.zipf, progress,
                                 stage, None if target is None else self.stages[target])
        except InputError as err:  # an outside component broke its contract mid-run
            if err.file is not None:
                raise
            run = f"{'tuning run' if cell.tuning else 'run'} '{cell.label}', seed {cell.seed}"
            raise InputError(f"{err} ({run})", file=str(self.benchmark.path)) from None
        if cell.tuning:  # a tuning cell is scored from its trace (no nDCG evaluation)
            return Played(policy, trace, None, None, None, featurizer, stage)
        metrics, curves, topics = run_metrics(trace, self.world)
        return Played(policy, trace, metrics, curves, topics, featurizer, stage)

    def write(self, cell: Cell, output: float | CellOutput) -> float | None:
        """Write what a played cell leaves into ``tmp``, the record (or score) last."""
        if cell.tuning:
            path = self.tmp / TUNING_CELLS / self.score_name(cell)
            with writing(path.parent):
                path.parent.mkdir(exist_ok=True)
            write_json({**self.identity(cell), "score": output}, path)
            return output
        name = record_filename(cell.label, cell.seed)
        write_topics(output.topics, self.tmp / name.replace(".json", ".topics.parquet"))
        if output.decisions is not None:
            write_decision_log(output.decisions,
                               self.tmp / name.replace(".json", ".decisions.parquet"))
        write_json(output.record, self.tmp / name)
        return None

    def wants_log(self, cell: Cell) -> bool:
        first = cell.seed == self.benchmark.seeds[0]
        return self.logs == "all" or (self.logs == "first" and first)

    def ranking(self, stage) -> dict:
        """What a record says about its ranking stage: the fusion, or the learned ranker (and
        the Plackett-Luce sampling over it when the run explored)."""
        s = self.benchmark.settings
        described = {"name": s.fusion, "fusion": s.fusion, "k": s.k} if stage is None \
            else stage.describe()
        if s.exploration is not None:
            described["logging"] = {"name": "plackett-luce",
                                    "temperature": s.exploration.temperature}
        return described

    # -- finished cells ----------------------------------------------------------------
    def code(self) -> dict:
        """The ltrr version and git commit records are made with now (a record made by
        other code is not a finished cell of this run)."""
        if self._code is None:
            from ltrr import __version__
            from ltrr.results.records import git_state

            commit = git_state(Path(self.benchmark.path).resolve().parent)["commit"]
            self._code = {"ltrr_version": __version__, "commit": commit}
        return self._code

    def identity(self, cell: Cell) -> dict:
        """What a finished cell's record (or score) must say to stand for ``cell``."""
        from ltrr.selection.policies import default_params

        spec = self.spec(cell)
        return {**self.code(), "benchmark_sha256": self.benchmark.sha256,
                "stream_length": cell.length,
                "policy": cell.label, "policy_name": cell.name,
                "policy_params": json_ready({**default_params(cell.name), **cell.params}),
                "seed": cell.seed, "features": list(self.features_of(spec).groups),
                "ranker": spec.ranker or self.benchmark.settings.fusion}

    def score_name(self, cell: Cell) -> str:
        params = hashlib.sha1(json.dumps(cell.params, sort_keys=True).encode()).hexdigest()[:12]
        return record_filename(f"{cell.label}-{params}", cell.seed)

    def finished(self, cell: Cell) -> tuple[bool, float | None]:
        """Whether ``cell`` is finished in ``tmp`` or an earlier folder (then its files are
        moved into ``tmp``), and its tuning score."""
        from ltrr.experiments.tuning import tuning_summary

        want = self.identity(cell)
        for folder in [self.tmp, *self.earlier]:
            if cell.tuning:
                path = folder / TUNING_CELLS / self.score_name(cell)
                found = read_json_object(path)
                if found is not None and {k: found.get(k) for k in want} == want \
                        and isinstance(found.get("score"), float):
                    _move_into(folder, self.tmp, [path.relative_to(folder)])
                    return True, found["score"]
                continue
            name = record_filename(cell.label, cell.seed)
            record = read_json_object(folder / name)
            if record is None:
                continue
            prov = record.get("provenance") or {}
            have = {**{k: record.get(k) for k in want},
                    "ltrr_version": prov.get("ltrr_version"),
                    "commit": (prov.get("git") or {}).get("commit"),
                    "benchmark_sha256": prov.get("benchmark_sha256"),
                    "ranker": (record.get("ranker") or {}).get("name")}
            files = [Path(name.replace(".json", ".topics.parquet"))]
            if self.wants_log(cell):
                files.append(Path(name.replace(".json", ".decisions.parquet")))
            if (have == want and record.get("tuning") == tuning_summary(self.spec(cell), self.tuning)
                    and all((folder / f).is_file() for f in files)):
                _move_into(folder, self.tmp, [*files, Path(name)])  # the record last
                return True, None
        return False, None


def kept_work(error: WriteError, folder: Path) -> bool:
    """Say in ``error`` what finished work ``folder`` keeps after a failed write (its records
    and tuning scores: resuming skips them) and how to resume; False when it keeps none."""
    counts = [(len(list(folder.glob("*-seed*.json"))), "finished record"),
              (len(list((folder / TUNING_CELLS).glob("*.json"))), "tuning score")]
    kept = [f"{n} {what}{'s' * (n != 1)}" for n, what in counts if n]
    again = f"{error.remedy()}, then run the same command again"
    if not kept:
        error.kept = f"nothing had finished; {again}"
        return False
    verb = "is" if sum(n for n, _ in counts) == 1 else "are"
    error.kept = f"the {' and '.join(kept)} {verb} kept in {folder}; {again} to resume"
    return True


def read_json_object(path: Path) -> dict | None:
    """The JSON object in ``path``; None when it cannot be read or is not an object."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _move_into(folder: Path, tmp: Path, names: list[Path]) -> None:
    """Move files of a finished cell from an earlier run's folder into ``tmp``."""
    if folder == tmp:
        return
    for name in names:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / name, tmp / name)
