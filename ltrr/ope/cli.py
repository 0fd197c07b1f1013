"""``ltrr ope LOGS --policy SPEC``: estimate another policy's value from logged decisions."""

from __future__ import annotations

import argparse
import sys

from ltrr.errors import InputError


def parse_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"--reward-range must be LO,HI (e.g. 0,1), got {text!r}") from None
    if not lo < hi:
        raise InputError(f"--reward-range must have LO < HI, got {text!r}")
    return lo, hi


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ope", help="evaluate a policy off-policy on logged decisions",
                              description=__doc__)
    p.add_argument("logs", help="logged decisions: .parquet, .csv or .jsonl (see docs/ope.md)")
    p.add_argument("--policy", required=True,
                   help="uniform | greedy-dm:MODEL[:EPSILON] | ipw-learner:MODEL | file:PATH")
    p.add_argument("--estimators", default="dm,ipw,snipw,dr,sndr,switch-dr,dr-os",
                   help="comma-separated obp estimators (default: all seven)")
    p.add_argument("--reward-model", default="logistic", choices=("logistic", "lightgbm"),
                   help="base model of the reward regression (DM/DR family) and built-in policies")
    p.add_argument("--folds", type=int, default=3, help="cross-fitting folds of the reward model")
    p.add_argument("--context", default=None,
                   help="comma-separated context columns (default: every ctx_* column)")
    p.add_argument("--reward-range", default="0,1", help="declared reward range LO,HI (default 0,1)")
    p.add_argument("--train-fraction", type=float, default=0.5,
                   help="share of rows (in time order) that trains a built-in policy")
    p.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples per interval")
    p.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level of intervals")
    p.add_argument("--switch-tau", type=float, default=None, help="fix Switch-DR's tau (default: SLOPE)")
    p.add_argument("--dros-lambda", type=float, default=None, help="fix DRos's lambda (default: SLOPE)")
    p.add_argument("--min-rows", type=int, default=100, help="refuse logs with fewer rows")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--output", default=None, help="also write the JSON record to this path")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ltrr.ope import evaluate, report  # noqa: PLC0415 - heavy imports

    context = [c.strip() for c in args.context.split(",")] if args.context else None
    doc = evaluate(args.logs, args.policy, estimators=args.estimators,
                   reward_range=parse_range(args.reward_range), reward_model=args.reward_model,
                   folds=args.folds, context=context, train_fraction=args.train_fraction,
                   n_bootstrap=args.n_bootstrap, alpha=args.alpha, switch_tau=args.switch_tau,
                   dros_lambda=args.dros_lambda, min_rows=args.min_rows, seed=args.seed)
    if args.output:
        report.write_atomic(args.output, report.to_json(doc))
    sys.stdout.write(report.to_json(doc) if args.json else report.table(doc) + "\n")
    return 0
