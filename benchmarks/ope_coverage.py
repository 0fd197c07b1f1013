"""Coverage of every estimator's interval against an exact truth (the study behind docs/ope.md).

Three studies on the synthetic world of ``ltrr.ope.synthetic``, each over many independent
logs with a fixed stochastic target policy whose value is an exact sum:

1. ``softmax``: the default world (context-action interactions, 0/1 rewards, a softmax
   logger); IPW and SNIPW, which need no reward model.
2. ``linear``: the linear world (rewards 0..2, additive in context and action, so the
   Ridge reward model of ``--reward-model logistic`` is well specified and DM is unbiased);
   all seven estimators.
3. ``thompson``: the default world logged by ltrr's Bernoulli Thompson sampling, which
   learns as it logs (adaptive, non-uniform propensities); IPW and SNIPW.

For each estimator: coverage of the 95% interval, mean width, width / (2 z sd) (sd: the
estimates' spread over seeds; 1 = as wide as the sampling error), bias, and obp 0.4.1's
own ``estimate_interval`` on the same logs for comparison.

    python benchmarks/ope_coverage.py [--seeds 500] [--n-bootstrap 200] [--study linear] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time

from ltrr.ope import coverage, estimators, synthetic

STUDIES = {
    "softmax": (synthetic.make_world, {}, 2000, ["ipw", "snipw"], None),
    "linear": (synthetic.make_world, {"linear": True, "trials": 2}, 1000, list(estimators.ESTIMATORS), None),
    "thompson": (synthetic.make_world, {}, 2000, ["ipw", "snipw"], "thompson"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--study", choices=[*STUDIES, "all"], default="all")
    parser.add_argument("--json", default=None, help="also write the summaries here")
    args = parser.parse_args()
    out = {}
    for name in STUDIES if args.study == "all" else [args.study]:
        make, kwargs, n_rows, names, logger = STUDIES[name]
        start = time.perf_counter()
        summary = coverage.study(make(**kwargs), n_rows=n_rows, seeds=range(args.seeds), names=names,
                                 n_bootstrap=args.n_bootstrap, logger=logger)
        summary["seconds"] = time.perf_counter() - start
        out[name] = summary
        print(f"## {name}: {summary['seeds']} seeds x {n_rows} rows, {args.n_bootstrap} resamples, "
              f"truth {summary['truth']:.4f} ({summary['seconds']:.0f} s)\n")
        print(coverage.markdown(summary), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
