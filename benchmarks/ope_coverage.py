"""Coverage of every estimator's interval against an exact truth (the study behind docs/ope.md).

Three studies on the synthetic world of ``ltrr.ope.synthetic``, each over many independent
logs with a fixed stochastic target policy whose value is an exact sum:

1. ``softmax``: the default world (context-action interactions, 0/1 rewards, a softmax
   logger); IPW and SNIPW, which need no reward model.
2. ``linear``: the linear world (rewards 0..2, additive in context and action, so the
   Ridge reward model of ``--reward-model logistic`` is well specified and DM is unbiased);
   all seven estimators.
3. ``thompson``: the default world logged by ltrr's Bernoulli Thompson sampling, which
   learns as it logs (adaptive, non-uniform propensities), with its default Beta(1, 1)
   prior: it concentrates within a few hundred rows, so the target's weights on the plans
   it left reach 30-90; IPW and SNIPW of the softmax target.
4. ``thompson-prior10``: the same with a Beta(10, 10) prior, which keeps it exploring longer
   (weights stay moderate), and the uniform policy as the target; IPW and SNIPW.

For each estimator: coverage of the 95% interval, mean width, width / (2 z sd) (sd: the
estimates' spread over seeds; 1 = as wide as the sampling error), bias, and obp 0.4.1's
own ``estimate_interval`` on the same logs for comparison.

    python benchmarks/ope_coverage.py [--seeds 500] [--n-bootstrap 200] [--study linear] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ltrr.ope import coverage, estimators, synthetic

UNIFORM = np.full((8, 4), 0.25)
# name: (world keywords, rows per log, estimators, study keywords)
STUDIES = {
    "softmax": ({}, 2000, ["ipw", "snipw"], {}),
    "linear": ({"linear": True, "trials": 2}, 1000, list(estimators.ESTIMATORS), {}),
    "thompson": ({}, 1000, ["ipw", "snipw"], {"logger": "thompson"}),
    "thompson-prior10": ({}, 1000, ["ipw", "snipw"],
                         {"logger": "thompson", "logger_params": {"alpha": 10.0, "beta": 10.0},
                          "target": UNIFORM}),
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
        world, n_rows, names, options = STUDIES[name]
        start = time.perf_counter()
        summary = coverage.study(synthetic.make_world(**world), n_rows=n_rows, seeds=range(args.seeds),
                                 names=names, n_bootstrap=args.n_bootstrap, **options)
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
