"""Ground truth for off-policy estimates from ltrr's own simulator (``benchmarks/ope-*.toml``).

Per seed, on one query stream and click seed, for each declared behaviour policy (logger):

1. the logger plays the loop and writes its decision log (ltrr's decision-log frame, read by
   the same validation as ``ltrr ope``);
2. every fixed **target** policy is estimated from that log by ``ltrr ope``'s estimators (all
   targets share one reward model and one set of bootstrap resamples) and run on-policy in
   the same simulator; its on-policy value ``V`` is the mean expected reward of its own
   choices (the click model's expectation, free of click noise). Also ``V_log``, the
   target's expected reward on the logged stream itself (``sum_a pi(a|x_t) expected[t, a]``):
   the two differ when the world learns from clicks (the memory arm learns from the
   logger's clicks in the log, from the target's own clicks on-policy);
3. every **learner** (a learning policy) is replayed over the log (:mod:`ltrr.ope.replay`).
   Replay accepts each row with probability ``c`` (``c = 1/K`` for a uniform logger over K
   plans), so it estimates the learner's value over its first ``N ~ c T`` decisions, spread
   over the whole stream while the logger drives the world. Its on-policy counterpart,
   ``V_N``, is an :class:`Interleaved` run on the same stream: at each step, with
   probability ``c``, the learner decides (and learns), otherwise the logger does; ``V_N``
   is the mean expected reward of the learner's decisions. Also reported: ``V_first``, the
   learner's plain on-policy value over its first ``N`` queries (a deployment of ``N``
   queries: early in the stream, the memory arm still cold), ``V_T``, its on-policy value
   over all ``T`` queries (what replay from ``T`` rows cannot tell), and ``V_log``, its
   value along the replay path (the mean over every logged row of the expected reward of
   the plan it proposed there), which replay estimates without any drift of the world.

File format (TOML)::

    [ope]
    base = "music.toml"            # the benchmark whose world is used (relative to this file)
    seeds = [0, 1, 2]
    stream_length = 3000
    loggers = ["uniform", {name = "thompson", params = {}}]   # each must explore
    targets = ["single:lexical", "static_union"]            # fixed (non-learning) policies
    learners = ["linucb", {name = "epsilon_greedy", params = {epsilon = 0.1}}]  # optional
    estimators = ["dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os"]
    reward_model = "lightgbm"
    folds = 3
    n_bootstrap = 50

Tables: :mod:`ltrr.experiments.ope_truth.groundtruth_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ltrr.contracts import ability
from ltrr.errors import InputError
from ltrr.experiments.cell_runner import reward_range
from ltrr.ope import estimators, replay
from ltrr.ope.target import with_positions
from ltrr.experiments.ope_truth.truthfiles import read_table, write_results
from ltrr.ope.validation import to_logged_data

KEYS = {"base": str, "seeds": list, "stream_length": int, "loggers": list, "targets": list,
        "learners": list, "estimators": list, "reward_model": str, "folds": int, "n_bootstrap": int}
REQUIRED = ("base", "seeds", "stream_length", "loggers", "targets")


@dataclass(frozen=True)
class PolicySpec:
    """A policy name and its hyper-parameters (the benchmark's defaults when empty)."""

    name: str
    params: dict = field(default_factory=dict, hash=False)


@dataclass
class OpeBenchmark:
    path: Path
    sha256: str
    base: Path
    seeds: list[int]
    stream_length: int
    loggers: list[PolicySpec]
    targets: list[str]
    learners: list[PolicySpec] = field(default_factory=list)
    estimators: list[str] = field(default_factory=lambda: list(estimators.ESTIMATORS))
    reward_model: str = "lightgbm"
    folds: int = 3
    n_bootstrap: int = 50


def policy_specs(path: Path, key: str, entries: list) -> list[PolicySpec]:
    """``["name", {name = "x", params = {...}}, ...]`` as PolicySpecs."""
    specs = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("params", {}), dict) or set(entry) - {"name", "params"}:
            raise InputError(f"{path}: ope.{key}[{i}]: expected a policy name or a table "
                             f"{{name = \"...\", params = {{...}}}}, got {entry!r}")
        if _learns_before_the_stream(entry["name"]):
            raise InputError(f"{path}: ope.{key}[{i}]: {_NOT_PREPARED.format(entry['name'])}")
        specs.append(PolicySpec(entry["name"], dict(entry.get("params", {}))))
    return specs


_NOT_PREPARED = ("policy '{}' learns from training topics before the stream, which the OPE "
                 "ground truth does not prepare; compare it on-policy with `ltrr run`")


def _learns_before_the_stream(name: str) -> bool:
    """Whether a policy name is one that fits on training topics first (the router)."""
    from ltrr.selection.policies import policy_class  # noqa: PLC0415

    try:
        return ability(policy_class(name), "policy", "uses_training")
    except InputError:
        return False  # an unknown name is refused where policies are built, with its message


def load(path: str | Path) -> OpeBenchmark:
    """Read and check an OPE ground-truth benchmark file."""
    path = Path(path)
    table, sha256 = read_table(path, "ope", KEYS, REQUIRED)
    for key in ("loggers", "learners"):
        if key in table:
            table[key] = policy_specs(path, key, table[key])
    for i, name in enumerate(table["targets"]):
        if isinstance(name, str) and _learns_before_the_stream(name):
            raise InputError(f"{path}: ope.targets[{i}]: {_NOT_PREPARED.format(name)}")
    if not table["loggers"]:
        raise InputError(f"{path}: ope.loggers: name at least one logging policy")
    for i, learner in enumerate(table.get("learners", [])):
        if learner.name not in replay.LEARNERS:
            raise InputError(f"{path}: ope.learners[{i}]: '{learner.name}' is not a learning "
                             f"policy replay can evaluate (one of {', '.join(replay.LEARNERS)})")
    if "estimators" in table:
        table["estimators"] = estimators.parse_estimators(",".join(table["estimators"]))
    if table.get("reward_model", "lightgbm") not in estimators.MODELS:
        raise InputError(f"{path}: ope.reward_model: must be one of {', '.join(estimators.MODELS)}")
    base = (path.parent / table.pop("base")).resolve()
    return OpeBenchmark(path=path, sha256=sha256, base=base, **table)


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it (a committed result
    must not carry the absolute path of the machine that made it), else as it is."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def expected_value(dist: np.ndarray, expected: np.ndarray) -> float:
    """Mean over steps of sum_a pi(a|x_t) * expected[t, a]."""
    return float((dist * expected).sum(axis=1).mean())


def fixed_distribution(policy, contexts: np.ndarray) -> np.ndarray:
    """(steps, plans) action distribution of a fixed policy on the logged contexts."""
    return np.stack([policy.probabilities(c) for c in contexts])


def chosen_values(trace) -> np.ndarray:
    """Per step, the expected reward of the plan the run chose."""
    return trace.expected[np.arange(len(trace.plan)), trace.plan]


class Interleaved:
    """A policy for the loop: at each step, with probability ``rate``, ``learner`` decides and
    learns from the outcome; otherwise ``logger`` does. The on-policy counterpart of a replay
    that accepts each logged row with probability ``rate`` (``turns``: the learner's steps)."""

    uses_truth = False
    uses_arm_rewards = False

    def __init__(self, learner, logger, rate: float, seed: int) -> None:
        self.learner, self.logger, self.rate = learner, logger, rate
        self.uses_context = (ability(learner, "policy", "uses_context")
                             or ability(logger, "policy", "uses_context"))
        self.rng = np.random.default_rng([seed, 0x1EA])
        self.turns: list[bool] = []

    def acting(self):
        return self.learner if self.turns[-1] else self.logger

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        self.turns.append(bool(self.rng.random() < self.rate))
        return self.acting().choose(context)

    def update(self, context: np.ndarray, plan: int, reward: float, arm_rewards=None) -> None:
        self.acting().update(context, plan, reward, None)


class Seed:
    """One seed's stream and the on-policy runs every logger's rows are compared with."""

    def __init__(self, spec: OpeBenchmark, seed: int, world, featurizer, zipf: float) -> None:
        from ltrr.simulation.stream import sample_stream  # noqa: PLC0415

        self.spec, self.seed, self.world, self.featurizer = spec, seed, world, featurizer
        self.stream = sample_stream(world.topics, spec.stream_length, zipf, seed)
        self._on_policy: dict = {}

    def make(self, name: str, params: dict | None = None):
        from ltrr.selection.policies import build_policy  # noqa: PLC0415

        return build_policy(name, params or {}, self.world.plans,
                            n_features=self.featurizer.dim, random_state=self.seed,
                            reward_range=reward_range(self.world))

    def run(self, policy):
        from ltrr.simulation.loop import run_policy  # noqa: PLC0415

        return run_policy(self.world, policy, self.featurizer, self.stream, self.seed)

    def on_policy(self, key: PolicySpec) -> np.ndarray:
        """Per-step expected reward of the policy's own on-policy run (run once per seed)."""
        if key not in self._on_policy:
            self._on_policy[key] = chosen_values(self.run(self.make(key.name, key.params)))
        return self._on_policy[key]


def target_rows(s: Seed, logger: PolicySpec, trace, logs) -> list[dict]:
    """Every target estimated from ``logs`` (one shared reward model and bootstrap)."""
    spec = s.spec
    column = [s.world.plan_ids.index(a) for a in logs.actions]  # log's action order -> plan index
    dists = [fixed_distribution(s.make(name), trace.contexts) for name in spec.targets]
    results = estimators.estimate_many(logs, [with_positions(d[:, column], 1) for d in dists],
                                       spec.estimators, model=spec.reward_model, folds=spec.folds,
                                       n_bootstrap=spec.n_bootstrap, seed=s.seed)
    rows = []
    for name, dist, result in zip(spec.targets, dists, results):
        rows.append({"seed": s.seed, "logger": logger.name, "target": name,
                     "v_on_policy": float(s.on_policy(PolicySpec(name)).mean()),
                     "v_log": expected_value(dist, trace.expected),
                     "logging_value": float(trace.reward.mean()),
                     "diagnostics": result["diagnostics"], "estimates": result["estimates"]})
    return rows


def learner_rows(s: Seed, logger: PolicySpec, trace, logs) -> list[dict]:
    """Every learner replayed over ``logs`` and compared with its on-policy run."""
    to_log = np.array([logs.actions.index(p) for p in s.world.plan_ids])  # plan -> log action
    rows = []
    for learner in s.spec.learners:
        result = replay.replay(logs, s.make(learner.name, learner.params), seed=s.seed,
                               name=learner.name, params=learner.params, to_log=to_log)
        n = result.n_accepted
        on_policy = s.on_policy(learner)
        v_log = float(trace.expected[np.arange(len(trace.plan)), result.proposals].mean())
        mixed = Interleaved(s.make(learner.name, learner.params), s.make(logger.name, logger.params),
                            result.rate, s.seed)
        mixed_values = chosen_values(s.run(mixed))[np.array(mixed.turns)]
        rows.append({"seed": s.seed, "logger": logger.name, "learner": learner.name,
                     "params": learner.params, "accepted": n, "acceptance_probability": result.rate,
                     "method": result.method,
                     "v_interleaved": float(mixed_values.mean()) if len(mixed_values) else None,
                     "interleaved_decisions": len(mixed_values),
                     "v_first_n": float(on_policy[:n].mean()) if n else None,
                     "v_all": float(on_policy.mean()), "v_log": v_log,
                     "estimate": None if n < 2 else result.value,
                     "ci_lower": None if n < 2 else result.ci[0],
                     "ci_upper": None if n < 2 else result.ci[1]})
    return rows


def run_seed(spec: OpeBenchmark, seed: int, world, featurizer, zipf: float) -> dict:
    """One seed: each logger's log, the targets' estimates and the learners' replays."""
    from ltrr.decision_log import trace_decisions  # noqa: PLC0415

    s = Seed(spec, seed, world, featurizer, zipf)
    out = {"targets": [], "learners": []}
    for logger in spec.loggers:
        trace = s.run(s.make(logger.name, logger.params))
        logs = to_logged_data(trace_decisions(trace, world, featurizer.names),
                              f"{logger.name}-seed{seed}", reward_range=reward_range(world),
                              needs_exploration=True, min_rows=100)
        out["targets"] += target_rows(s, logger, trace, logs)
        out["learners"] += learner_rows(s, logger, trace, logs)
    return out


_FORKED: dict = {}  # what forked workers inherit: the prepared world


def _seed_worker(seed: int) -> dict:
    return run_seed(*_FORKED["args"][:1], seed, *_FORKED["args"][1:])


def _seeds_rows(spec: OpeBenchmark, world, featurizer, zipf: float, jobs: int,
                progress: bool):
    """Each seed's rows, in seed order: in this process, or in ``jobs`` processes forked from
    it (sharing the prepared world copy-on-write; each seed is independent)."""
    if jobs <= 1 or len(spec.seeds) == 1:
        for seed in spec.seeds:
            yield run_seed(spec, seed, world, featurizer, zipf)
            if progress:
                print(f"seed {seed} done", flush=True)
        return
    import multiprocessing as mp  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    _FORKED["args"] = (spec, world, featurizer, zipf)
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(spec.seeds)),
                                 mp_context=mp.get_context("fork")) as pool:
            for seed, rows in zip(spec.seeds, pool.map(_seed_worker, spec.seeds)):
                yield rows
                if progress:
                    print(f"seed {seed} done", flush=True)
    finally:
        _FORKED.clear()


def run(path: str | Path, progress: bool = True, jobs: int = 1,
        command: str | None = None) -> dict:
    """Run an OPE ground-truth benchmark over its seeds (``jobs`` processes); returns per-seed
    rows, the summaries and the run's provenance (environment, commit, ``command``)."""
    import time  # noqa: PLC0415

    from ltrr.experiments.benchmark import load_benchmark  # noqa: PLC0415
    from ltrr.experiments.runner import prepare, select  # noqa: PLC0415
    from ltrr.experiments.ope_truth import groundtruth_tables  # noqa: PLC0415
    from ltrr.results.records import provenance  # noqa: PLC0415

    started = time.perf_counter()
    spec = load(path)
    base = load_benchmark(spec.base)
    if base.settings.probe_depth:
        # the on-policy values below are expected clicks without a probe's price, while a
        # logged reward would include it: refuse rather than compare the two
        raise InputError("the base benchmark has a post-retrieval probe ([features] "
                         "post_retrieval), which the OPE ground truth does not price yet; "
                         "use a base without it", file=str(path), field="ope.base")
    benchmark = select(base, spec.seeds, None, spec.stream_length)
    world, featurizer, _ = prepare(benchmark)
    rows = {"targets": [], "learners": []}
    for found in _seeds_rows(spec, world, featurizer, benchmark.zipf, jobs, progress):
        for kind, seed_rows in found.items():
            rows[kind] += seed_rows
    return {"benchmark": str(spec.path), "benchmark_sha256": spec.sha256, "base": _shown(spec.base),
            "base_sha256": benchmark.sha256,
            "loggers": [{"name": p.name, "params": p.params} for p in spec.loggers],
            "learners": [{"name": p.name, "params": p.params} for p in spec.learners],
            "stream_length": spec.stream_length, "seeds": spec.seeds,
            "reward_model": spec.reward_model, "n_bootstrap": spec.n_bootstrap,
            "rows": rows["targets"], "learner_rows": rows["learners"],
            "summary": groundtruth_tables.summarize(rows["targets"], spec.estimators),
            "learner_summary": groundtruth_tables.summarize_learners(rows["learners"]),
            "provenance": provenance(spec, None, time.perf_counter() - started,
                                     command or f"ltrr run {path}")}


def run_and_write(benchmark: str | Path, out: str | Path | None = None,
                  progress: bool = True, jobs: int = 1, command: str | None = None) -> str:
    """Run an ``[ope]`` benchmark, write ``ope_groundtruth.json`` and ``README.md`` to ``out``
    (default ``results/<file stem>``), and return the markdown tables."""
    from ltrr.experiments.ope_truth.groundtruth_tables import markdown  # noqa: PLC0415

    result = run(benchmark, progress=progress, jobs=jobs, command=command)
    return write_results(benchmark, out, "ope_groundtruth.json", result, markdown(result))


def main(argv: list[str] | None = None) -> int:
    """``python -m ltrr.experiments.ope_truth.groundtruth BENCHMARK.toml [--out DIR]`` (as
    ``ltrr run``)."""
    import argparse  # noqa: PLC0415
    import sys  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m ltrr.experiments.ope_truth.groundtruth",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark")
    parser.add_argument("--out", default=None, help="results folder (default results/<file stem>)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds in parallel (default 1)")
    args = parser.parse_args(argv)
    try:
        print(run_and_write(args.benchmark, args.out, jobs=args.jobs))
    except InputError as err:
        print(f"ltrr ope ground truth: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
