"""Time ``ltrr ope`` with all seven estimators on a large synthetic log (1,000,000 rows).

Writes a synthetic Parquet log first (not timed), then runs ``ltrr ope`` in a child
process and reports wall seconds, the child's peak memory, and the shares of
(a) loading + validation (``validation.read_logs``), (b) building the evaluation policy, and
(c) the estimates (``estimators.estimate``), of which the point estimate's cross-fitted
reward model (obp's ``fit_predict``) and the bootstrap (``bootstrap.resampled_estimates``:
each resample refits the reward model and re-runs every estimator).
The goal is (a) being a small share of the whole.

    python benchmarks/ope_speed.py [--rows 1000000] [--policy uniform] [--n-bootstrap 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
from ltrr.ope import bootstrap, validation, target, estimators
from ltrr.cli import main
spent = {}
def timed(module, name, key):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start
    setattr(module, name, wrapper)
timed(validation, "read_logs", "loading_and_validation")
timed(target, "build", "evaluation_policy")
timed(estimators, "estimate", "regression_model_and_estimators")
from ltrr.compat import obp
timed(obp().ope.RegressionModel, "fit_predict", "of_which_regression_model")
timed(bootstrap, "resampled_estimates", "of_which_bootstrap")
start = time.perf_counter()
code = main(sys.argv[1:])
spent["total"] = time.perf_counter() - start
print("TIMINGS " + json.dumps(spent), file=sys.stderr)
sys.exit(code)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--policy", default="uniform")
    parser.add_argument("--n-bootstrap", type=int, default=20)
    args = parser.parse_args()

    from ltrr.ope import synthetic  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "logs.parquet"
        start = time.perf_counter()
        synthetic.generate(synthetic.make_world(n_actions=8, dim=5), args.rows, seed=0).to_parquet(path)
        print(f"generated {args.rows} rows in {time.perf_counter() - start:.1f} s (not timed below)")
        command = [sys.executable, "-c", CHILD, "ope", str(path), "--policy", args.policy,
                   "--n-bootstrap", str(args.n_bootstrap), "--json"]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"ltrr ope failed ({proc.returncode}):\n{proc.stderr}")
    spent = json.loads(proc.stderr.split("TIMINGS ", 1)[1])
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    total = spent["total"]
    print(f"ltrr ope, all estimators, {args.rows} rows, policy {args.policy}, "
          f"{args.n_bootstrap} bootstrap resamples: {wall:.1f} s wall (process), "
          f"{total:.1f} s in the command, peak memory {peak_gib:.2f} GiB")
    for key in ("loading_and_validation", "evaluation_policy", "regression_model_and_estimators",
                "of_which_regression_model", "of_which_bootstrap"):
        print(f"  {key:<34} {spent.get(key, 0.0):7.1f} s  {100 * spent.get(key, 0.0) / total:5.1f} %")
    result = json.loads(proc.stdout)
    print("  estimates:", {k: round(v["value"], 4) for k, v in result["estimates"].items()})


if __name__ == "__main__":
    main()
