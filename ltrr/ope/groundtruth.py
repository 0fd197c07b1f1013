"""Ground truth for off-policy estimates from ltrr's own simulator (``benchmarks/ope-*.toml``).

Per seed: a stochastic behaviour policy (uniform or epsilon-greedy) plays the loop and
writes its decision log; each target policy is then (a) estimated off-policy from that log
by ``ltrr ope``'s estimators and (b) run on-policy in the same simulator on the same query
stream and click seed. The on-policy value ``V`` is the mean expected reward of the
target's own choices (the simulator's click model, free of click noise). Each estimator's
relative error is ``|V_hat - V| / V``; the table gives its mean and a 95% t-interval over
seeds, and how often the estimator's bootstrap interval covered ``V``.

Also reported, to separate estimator error from non-stationarity: ``V_log``, the target's
expected reward on the logged stream itself (``sum_a pi_e(a|x_t) * expected[t, a]``). The
two differ when the world learns from clicks (the memory arm learns from the behaviour
policy's clicks in the log, from the target's own clicks on-policy).

File format (TOML)::

    [ope]
    base = "music.toml"            # the benchmark whose world is used (relative to this file)
    seeds = [0, 1, 2]
    stream_length = 3000
    logger = "uniform"             # any ltrr policy name that explores
    logger_params = {}             # e.g. {epsilon = 0.3} for epsilon_greedy
    targets = ["single:lexical", "static_union"]   # fixed (non-learning) policies
    estimators = ["dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os"]
    reward_model = "lightgbm"
    folds = 3
    n_bootstrap = 500
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from ltrr.errors import InputError
from ltrr.ope import estimators
from ltrr.ope.target import EvaluationPolicy, with_positions
from ltrr.ope.validation import to_logged_data

KEYS = {"base": str, "seeds": list, "stream_length": int, "logger": str, "logger_params": dict,
        "targets": list, "estimators": list, "reward_model": str, "folds": int, "n_bootstrap": int}
REQUIRED = ("base", "seeds", "stream_length", "logger", "targets")


@dataclass
class OpeBenchmark:
    path: Path
    sha256: str
    base: Path
    seeds: list[int]
    stream_length: int
    logger: str
    targets: list[str]
    logger_params: dict = field(default_factory=dict)
    estimators: list[str] = field(default_factory=lambda: list(estimators.ESTIMATORS))
    reward_model: str = "lightgbm"
    folds: int = 3
    n_bootstrap: int = 500


def load(path: str | Path) -> OpeBenchmark:
    """Read and check an OPE ground-truth benchmark file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such benchmark file")
    blob = path.read_bytes()
    try:
        raw = tomllib.loads(blob.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    if set(raw) != {"ope"}:
        raise InputError(f"{path}: expected exactly one table [ope], got {', '.join(raw) or 'none'}")
    table = raw["ope"]
    for key, value in table.items():
        if key not in KEYS:
            raise InputError(f"{path}: ope.{key}: unknown key (expected one of {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool):
            raise InputError(f"{path}: ope.{key}: expected {KEYS[key].__name__}, got {value!r}")
    for key in REQUIRED:
        if key not in table:
            raise InputError(f"{path}: ope.{key}: missing required key")
    if "estimators" in table:
        table["estimators"] = estimators.parse_estimators(",".join(table["estimators"]))
    if table.get("reward_model", "lightgbm") not in estimators.MODELS:
        raise InputError(f"{path}: ope.reward_model: must be one of {', '.join(estimators.MODELS)}")
    base = (path.parent / table.pop("base")).resolve()
    return OpeBenchmark(path=path, sha256=hashlib.sha256(blob).hexdigest(), base=base, **table)


def expected_value(dist: np.ndarray, expected: np.ndarray) -> float:
    """Mean over steps of sum_a pi(a|x_t) * expected[t, a]."""
    return float((dist * expected).sum(axis=1).mean())


def policy_distribution(policy, contexts: np.ndarray) -> np.ndarray:
    """(steps, plans) action distribution of a fixed policy on the logged contexts."""
    return np.stack([policy.probabilities(c) for c in contexts])


def run_seed(spec: OpeBenchmark, seed: int, world, featurizer, zipf: float) -> list[dict]:
    """One seed: log with the behaviour policy, then each target off- and on-policy."""
    from ltrr.selection.policies import build_policy  # noqa: PLC0415
    from ltrr.simulation.decision_log import decision_frame  # noqa: PLC0415
    from ltrr.simulation.loop import run_policy  # noqa: PLC0415
    from ltrr.simulation.stream import sample_stream  # noqa: PLC0415

    page = float(world.settings.page)
    reward_range = (-float(world.cost.max()), page - float(world.cost.min()))
    stream = sample_stream(world.topics, spec.stream_length, zipf, seed)
    make = lambda name, params=None: build_policy(name, params or {}, world.plans,  # noqa: E731
                                                  featurizer.dim, seed, reward_range)
    trace = run_policy(world, make(spec.logger, spec.logger_params), featurizer, stream, seed)
    frame = decision_frame(trace, world, featurizer.names)
    logs = to_logged_data(frame, f"{spec.logger}-seed{seed}",
                          reward_range=reward_range, needs_exploration=True, min_rows=100)
    column = [world.plan_ids.index(a) for a in logs.actions]  # log's action order -> plan index
    rows = []
    for name in spec.targets:
        dist = policy_distribution(make(name), trace.contexts)
        on_policy = run_policy(world, make(name), featurizer, stream, seed)
        truth = float(on_policy.expected[np.arange(len(stream)), on_policy.plan].mean())
        policy = EvaluationPolicy(spec=name, logs=logs, n_train=0,
                                  action_dist=with_positions(dist[:, column], 1))
        result = estimators.estimate(policy, spec.estimators, model=spec.reward_model,
                                     folds=spec.folds, n_bootstrap=spec.n_bootstrap, seed=seed)
        for est in result["estimates"].values():
            if np.isinf(est.get("hyperparameter", 0.0)):
                est["hyperparameter"] = "inf"  # JSON has no infinity
        rows.append({"seed": seed, "target": name, "v_on_policy": truth,
                     "v_on_policy_realized": float(on_policy.reward.mean()),
                     "v_log": expected_value(dist, trace.expected),
                     "logging_value": float(trace.reward.mean()),
                     "diagnostics": result["diagnostics"], "estimates": result["estimates"]})
    return rows


def summarize(rows: list[dict], names: list[str]) -> list[dict]:
    """Per target and estimator: relative error mean and 95% t-interval over seeds, coverage."""
    summary = []
    for target in dict.fromkeys(r["target"] for r in rows):
        mine = [r for r in rows if r["target"] == target]
        truth = np.array([r["v_on_policy"] for r in mine])
        truth_log = np.array([r["v_log"] for r in mine])
        for name in names:
            est = np.array([r["estimates"][name]["value"] for r in mine])
            rel = np.abs(est - truth) / truth
            half = (stats.t.ppf(0.975, len(rel) - 1) * rel.std(ddof=1) / np.sqrt(len(rel))
                    if len(rel) > 1 else float("nan"))
            covered = [r["estimates"][name]["ci_lower"] <= r["v_on_policy"] <= r["estimates"][name]["ci_upper"]
                       for r in mine]
            summary.append({"target": target, "estimator": name, "v_on_policy": float(truth.mean()),
                            "v_log": float(np.mean([r["v_log"] for r in mine])),
                            "estimate": float(est.mean()), "relative_error": float(rel.mean()),
                            "relative_error_ci": [float(rel.mean() - half), float(rel.mean() + half)],
                            "coverage": float(np.mean(covered)), "seeds": len(mine),
                            "relative_error_vs_v_log": float((np.abs(est - truth_log) / truth_log).mean())})
    return summary


def run(path: str | Path, progress: bool = True) -> dict:
    """Run an OPE ground-truth benchmark; returns per-seed rows and the summary."""
    from ltrr.simulation.benchmark import load_benchmark  # noqa: PLC0415
    from ltrr.simulation.runner import prepare, select  # noqa: PLC0415

    spec = load(path)
    benchmark = select(load_benchmark(spec.base), spec.seeds, None, spec.stream_length)
    world, featurizer = prepare(benchmark)
    rows = []
    for seed in spec.seeds:
        rows += run_seed(spec, seed, world, featurizer, benchmark.zipf)
        if progress:
            print(f"seed {seed} done", flush=True)
    return {"benchmark": str(spec.path), "benchmark_sha256": spec.sha256, "base": str(spec.base),
            "base_sha256": benchmark.sha256, "logger": spec.logger, "logger_params": spec.logger_params,
            "stream_length": spec.stream_length, "seeds": spec.seeds,
            "reward_model": spec.reward_model, "rows": rows,
            "summary": summarize(rows, spec.estimators)}


LABELS = {"dm": "DM", "ipw": "IPW", "snipw": "SNIPW", "dr": "DR", "sndr": "SNDR",
          "switch-dr": "Switch-DR", "dr-os": "DRos"}


def markdown(result: dict) -> str:
    """The summary as a Markdown table (one row per target and estimator)."""
    lines = [f"Logger `{result['logger']}` {result['logger_params'] or ''}, "
             f"{len(result['seeds'])} seeds x {result['stream_length']} queries, "
             f"reward model {result['reward_model']}. V: on-policy value (mean expected clicks "
             "of the target's own run); V_log: the target's value on the logged stream; "
             "relative error |V_hat - V| / V, mean [95% t-interval over seeds]; coverage: share "
             "of seeds whose 95% bootstrap interval contains V; last column: relative error "
             "against V_log instead (estimator error without the world's drift).", "",
             "| target | V | V_log | estimator | mean V_hat | relative error | coverage | vs V_log |",
             "|---|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        lo, hi = s["relative_error_ci"]
        lines.append(f"| {s['target']} | {s['v_on_policy']:.4f} | {s['v_log']:.4f} | "
                     f"{LABELS[s['estimator']]} | {s['estimate']:.4f} | {s['relative_error']:.3f} "
                     f"[{max(lo, 0):.3f}, {hi:.3f}] | {s['coverage']:.2f} | "
                     f"{s['relative_error_vs_v_log']:.3f} |")
    return "\n".join(lines) + "\n"


def run_and_write(benchmark: str | Path, out: str | Path | None = None,
                  progress: bool = True) -> str:
    """Run an ``[ope]`` benchmark, write ``ope_groundtruth.json`` and ``README.md`` to ``out``
    (default ``results/<file stem>``), and return the markdown table."""
    import json  # noqa: PLC0415

    from ltrr.ope.report import write_atomic  # noqa: PLC0415

    result = run(benchmark, progress=progress)
    out = Path(out or Path("results") / Path(benchmark).stem)
    table = markdown(result)
    write_atomic(out / "ope_groundtruth.json", json.dumps(result, indent=2) + "\n")
    write_atomic(out / "README.md", f"# {Path(benchmark).name}\n\n" + table)
    return table


def main(argv: list[str] | None = None) -> int:
    """``python -m ltrr.ope.groundtruth BENCHMARK.toml [--out DIR]`` (same as ``ltrr run``)."""
    import argparse  # noqa: PLC0415
    import sys  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m ltrr.ope.groundtruth", description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark")
    parser.add_argument("--out", default=None, help="results folder (default results/<file stem>)")
    args = parser.parse_args(argv)
    try:
        print(run_and_write(args.benchmark, args.out))
    except InputError as err:
        print(f"ltrr ope ground truth: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
