"""``ltrr ope LOGS --policy SPEC``: estimate another policy's value from logged decisions."""

from __future__ import annotations

import argparse
import sys

from ltrr.errors import InputError

DESCRIPTION = """\
Estimate how another policy would have done on logged decisions, without deploying it.

A fixed policy (uniform, greedy-dm, ipw-learner, file:) is evaluated by obp's estimators
(DM, IPW, SNIPW, DR, SNDR, Switch-DR, DRos) with bootstrap intervals that resample rows
and re-run each estimator, its reward model included. A learning policy (learn:NAME) is
evaluated by replay (Li, Chu, Langford, Wang 2011): it is fed the logged rows in time order
and learns only from those where its choice matches the logged action; on non-uniform logs
the matches are thinned by rejection sampling with the logged propensities."""

EPILOG = """\
logs (.parquet, .csv, .jsonl), one row per decision:
  action       the action taken (or --action-column NAME)
  propensity   the logging policy's probability of it, in (0, 1]; obp's 'pscore' is
               accepted (or --propensity-column NAME)
  reward       the observed reward, inside --reward-range (or --reward-column NAME)
  context      every ctx_* column, else obp-style x0..xN columns; or --context a,b,c,
               --context PREFIX* or --context none (a log with no context columns stops)
  optional     position (slot, int >= 0), timestamp (orders the rows), action_set
               (the row's available actions, joined by '|'); other columns are ignored

policies (--policy):
  uniform                      uniform over each row's available actions
  greedy-dm:MODEL[:EPSILON]    argmax of a reward model (logistic|lightgbm) trained on the
                               first --train-fraction of the rows, evaluated on the rest
  ipw-learner:MODEL            obp's IPWLearner, trained and evaluated the same way
  file:PATH                    your policy's probability of every action on every row:
                                 wide: one column per action id, one row per logged row
                                   (file order), or a 'row' column of 0-based logged rows
                                 long: columns row, action, probability
                               rows must sum to 1 within 0.001 (they are renormalised)
  learn:NAME[:KEY=VALUE,...]   a learning policy replayed over the logs, NAME one of
                               epsilon_greedy, ucb1, thompson, exp3, linucb, lints,
                               lin_epsilon_greedy, with its hyper-parameters
                               (e.g. learn:linucb:alpha=0.5); the estimate is its value
                               over its first N decisions, N the accepted rows (about
                               rows / actions on uniform logs)

pages (--pages): a ranker's value (expected reward per page) from logged pages, one row
per page and position (or per page, with list columns), obp's slate names: slate_id,
position, action, reward, and the logging ranker's pscore (page), pscore_cascade (prefix),
pscore_item_position (item at position), optionally pscore_positions (the item at every
position) and qid. Estimators: sips, iips, rips (obp's slate IPS) and pbm-ips (the
position-based model's examination, --examination or estimated from the logs). Policies:
  log            the log's evaluation_policy_pscore[_item_position|_cascade] columns
  scores:PATH    slate_id or qid, action, score: pages by descending score
  pages:PATH     slate_id or qid, position, action: a deterministic policy's pages

bad input (a missing column, a value out of range, a policy file that does not fit)
prints one message naming the file, column and rows, and exits with code 2; --output is
written only when everything succeeded. See docs/ope.md."""


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
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", help="logged decisions: .parquet, .csv or .jsonl (format below)")
    p.add_argument("--policy", required=True,
                   help="the policy to evaluate: uniform | greedy-dm:MODEL[:EPSILON] | "
                        "ipw-learner:MODEL | file:PATH | learn:NAME[:KEY=VALUE,...] (below)")
    p.add_argument("--estimators", default=None,
                   help="comma-separated: dm, ipw, snipw, dr, sndr, switch-dr, dr-os (default: "
                        "all seven; not for learn: policies, which are evaluated by replay)")
    p.add_argument("--action-column", default=None, metavar="NAME",
                   help="the column of the logged action (default 'action')")
    p.add_argument("--propensity-column", default=None, metavar="NAME",
                   help="the column of the logging propensity (default 'propensity', else 'pscore')")
    p.add_argument("--reward-column", default=None, metavar="NAME",
                   help="the column of the reward (default 'reward')")
    p.add_argument("--context", default=None, metavar="COLUMNS",
                   help="context columns: a list a,b,c, a prefix PREFIX* or none "
                        "(default: ctx_* columns, else x0..xN)")
    p.add_argument("--reward-range", default="0,1", metavar="LO,HI",
                   help="declared reward range; a reward outside it is an error (default 0,1)")
    p.add_argument("--reward-model", default="logistic", choices=("logistic", "lightgbm"),
                   help="reward model of DM and the DR family and of the trained policies: "
                        "logistic (LogisticRegression, or Ridge for non-0/1 rewards) or lightgbm "
                        "(default logistic)")
    p.add_argument("--folds", type=int, default=3,
                   help="cross-fitting folds of the reward model (default 3)")
    p.add_argument("--train-fraction", type=float, default=0.5,
                   help="share of rows (in time order) that trains greedy-dm / ipw-learner; "
                        "they are evaluated on the rest (default 0.5)")
    p.add_argument("--n-bootstrap", type=int, default=1000,
                   help="bootstrap resamples per interval; each re-runs every estimator and "
                        "refits the reward model, so on large logs or with lightgbm fewer "
                        "save time at some coverage (default 1000)")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="1 - confidence level of the intervals (default 0.05: 95%%)")
    p.add_argument("--switch-tau", type=float, default=None,
                   help="fix Switch-DR's tau (default: tuned by SLOPE)")
    p.add_argument("--dros-lambda", type=float, default=None,
                   help="fix DRos's lambda (default: tuned by SLOPE)")
    p.add_argument("--min-rows", type=int, default=100,
                   help="refuse logs with fewer rows (default 100)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the bootstrap, cross-fitting and learning policies (default 0)")
    p.add_argument("--pages", action="store_true",
                   help="the logs are pages (one row per page and position) and the policy a "
                        "ranker: log | scores:PATH | pages:PATH (below)")
    p.add_argument("--examination", default=None, metavar="P0,P1,...",
                   help="--pages: PBM-IPS's examination probability of each position "
                        "(default: estimated from the logs by result randomisation)")
    p.add_argument("--page-length", type=int, default=None,
                   help="--pages: positions per page; a larger position is an error "
                        "(default: the largest logged position + 1)")
    p.add_argument("--json", action="store_true", help="print the JSON record instead of the table")
    p.add_argument("--output", default=None, metavar="PATH",
                   help="also write the JSON record to PATH (written last, atomically)")
    p.set_defaults(handler=run)


def parse_examination(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise InputError(f"--examination must be probabilities P0,P1,... got {text!r}") from None
    if not all(0 < v <= 1 for v in values):
        raise InputError(f"--examination: probabilities must lie in (0, 1], got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    from ltrr.ope import evaluate, evaluate_pages, report  # noqa: PLC0415 - heavy imports

    if args.pages:
        doc = evaluate_pages(args.logs, args.policy, estimators=args.estimators,
                             examination=parse_examination(args.examination),
                             reward_range=parse_range(args.reward_range),
                             page_length=args.page_length, n_bootstrap=args.n_bootstrap,
                             alpha=args.alpha, seed=args.seed)
        return show(args, doc, report.pages_table)
    doc = evaluate(args.logs, args.policy, estimators=args.estimators,
                   reward_range=parse_range(args.reward_range), reward_model=args.reward_model,
                   folds=args.folds, context=args.context, action_column=args.action_column,
                   propensity_column=args.propensity_column, reward_column=args.reward_column,
                   train_fraction=args.train_fraction, n_bootstrap=args.n_bootstrap,
                   alpha=args.alpha, switch_tau=args.switch_tau, dros_lambda=args.dros_lambda,
                   min_rows=args.min_rows, seed=args.seed)
    return show(args, doc, report.table)


def show(args: argparse.Namespace, doc: dict, table) -> int:
    """Write ``--output`` (atomically, after everything succeeded) and print the result."""
    from ltrr.ope import report  # noqa: PLC0415

    if args.output:
        report.write_atomic(args.output, report.to_json(doc))
    sys.stdout.write(report.to_json(doc) if args.json else table(doc) + "\n")
    return 0
