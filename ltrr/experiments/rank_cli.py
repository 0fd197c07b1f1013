"""``ltrr rank DATASET``: train a learned ranker offline and compare it with the fusions.

    ltrr rank ltrr:music
    ltrr rank beir/nfcorpus/test --arms lexical,dense,memory,fuzzy
    ltrr rank ltrr:music --mode qrels,clicks --correction position,ips,none --json
    ltrr rank ltrr:music --priors none
    ltrr rank ltrr:music --mode clicks --log results/music/uniform-seed0.decisions.parquet
"""

from __future__ import annotations

import argparse
import json
import sys

from ltrr.errors import InputError

EPILOG = """\
Topics: the ranker trains on the training topics (split=='train' rows; for an ir_datasets
'.../test' id its '.../train' sibling, with '.../dev' for early stopping; for a BEIR folder
its '#train' split) and is reported on the test topics, never trained on them nor on their
query texts: training topics whose text (lower-case, alphanumeric tokens) a test topic asks
are left out, and the report says how many were, on each side. Each topic's
candidate union holds every arm's top --depth; it is ranked by RRF, by CombSUM and by each
trained ranker (ties: best constituent rank, then seeded per-docno keys), and judged with
pt.Experiment (ir_measures). Differences to --baseline are paired over the test queries
(95% t-interval, paired t-test).

Training modes: qrels (the training topics' judgements) and clicks (a click log: --log
FILE, ltrr's decision log or the long format qid,docno,position,click; without --log, a
seeded log is simulated on the training topics: --sessions sessions, each showing the RRF
page of a random subset of the arms to a --click-model user). Click corrections: ips
(weights from PBM's examination probability 1/(position+1), the default), position
(LightGBM's unbiased LambdaMART: position-bias factors learned jointly), none (naive).
The online mode retrains inside the loop (ltrr run), not here.

Trained models are cached under $LTRR_HOME/rankers, keyed by dataset, arms, depths,
features, mode, parameters and a hash of the training data.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rank`` command."""
    parser = subparsers.add_parser(
        "rank", help="train a learned ranker (LambdaMART) and compare it with RRF and CombSUM",
        description="Train LambdaMART rankers on a dataset's training topics and compare them\n"
                    "with RRF and CombSUM fusion of the same candidate union on its test topics.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", metavar="DATASET",
                        help="an ir_datasets id, beir:FOLDER[#split], trec:FOLDER or ltrr:music")
    parser.add_argument("--arms", default=None,
                        help="comma-separated arms of the union (default: every arm the corpus "
                             "supports)")
    parser.add_argument("--depth", default="100",
                        help="candidates per arm: one number, or arm=N pairs "
                             "(e.g. lexical=100,dense=50; unnamed arms get 100)")
    parser.add_argument("--ranker", default="lambdamart", help="the ranker (lambdamart)")
    parser.add_argument("--mode", default="qrels",
                        help="comma-separated training modes: qrels, clicks (default qrels)")
    parser.add_argument("--correction", default="ips",
                        help="clicks mode: comma-separated position-bias corrections: "
                             "ips, position, none (default ips)")
    parser.add_argument("--train", default=None, metavar="DATASET",
                        help="the dataset whose topics and qrels to train on (same corpus)")
    parser.add_argument("--valid", default=None, metavar="DATASET",
                        help="validation topics for early stopping (same corpus)")
    parser.add_argument("--log", default=None, metavar="FILE",
                        help="clicks mode: a click log (decision log or long format)")
    parser.add_argument("--sessions", type=int, default=10000,
                        help="clicks mode without --log: simulated sessions (10000)")
    parser.add_argument("--click-model", default="pbm",
                        help="simulated clicks: a click model (pbm, cascade, dcm, module:Name "
                             "or an entry point)")
    parser.add_argument("--click-params", default="navigational",
                        help="simulated clicks: perfect, navigational, informational")
    parser.add_argument("--params", default=None,
                        help="LightGBM parameters as JSON, over ltrr's defaults")
    parser.add_argument("--measures", default="nDCG@10,R@100", help="ir_measures measures")
    parser.add_argument("--baseline", default="rrf",
                        help="comma-separated systems to take paired differences to "
                             "(default rrf; e.g. rrf,lambdamart:clicks/none)")
    parser.add_argument("--seed", type=int, default=0, help="seed (simulated log, tie draws)")
    parser.add_argument("--priors", default=None, metavar="NAMES",
                        help="the dataset's document priors the learned rankers see, "
                             "comma-separated (default: every declared one; 'none': none, to "
                             "measure what the rankers gain from the arms' scores alone)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--latency", action="store_true",
                        help="also print what each ranker costs to score a pool (ms per pool, "
                             "us per candidate; always in --json's setup)")
    parser.set_defaults(handler=_rank)


def parse_depths(value: str, arms: list[str]) -> dict[str, int]:
    """``"100"`` or ``"lexical=100,dense=50"`` -> depth per arm (unnamed arms: 100)."""
    depths = {a: 100 for a in arms}
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) == 1 and "=" not in items[0]:
        depths = {a: _positive(items[0], "--depth") for a in arms}
        return depths
    for item in items:
        name, sep, number = item.partition("=")
        if not sep or name.strip() not in depths:
            raise InputError(f"--depth: '{item}' is not arm=N for one of the arms "
                             f"({', '.join(arms)})")
        depths[name.strip()] = _positive(number, f"--depth {name.strip()}")
    return depths


def _positive(text: str, what: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"{what} must be a positive integer, got '{text}'")
    return n


def _rank(args: argparse.Namespace) -> int:
    import ltrr.datasets
    from ltrr.arms.cli import check_measures, parse_arm_names
    from ltrr.experiments.rank import parse_rankers, rank_experiment
    from ltrr.ranking.learned import check_ranker

    check_ranker(args.ranker, outside=False)  # ltrr rank compares ltrr's own rankers
    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    corrections = [c.strip() for c in args.correction.split(",") if c.strip()]
    rankers = parse_rankers(modes, corrections)
    if not rankers:
        raise InputError("--mode is empty; choose from qrels, clicks")
    measures = [m.strip() for m in args.measures.split(",") if m.strip()]
    check_measures(measures)
    params = _params(args.params)
    clicks = None
    if any(r.mode == "clicks" for r in rankers):
        clicks = _click_source(args)
    if args.arms is not None:
        parse_arm_names(args.arms, None)  # unknown arms fail before a dataset is loaded
    dataset = ltrr.datasets.load(args.dataset)
    names = parse_arm_names(args.arms, dataset)
    depths = parse_depths(args.depth, names)
    systems = ["rrf", "combsum"] + [r.name for r in rankers]
    baselines = [b.strip() for b in args.baseline.split(",") if b.strip()] or ["rrf"]
    for b in baselines:
        if b not in systems:
            raise InputError(f"--baseline '{b}' is not one of the compared systems "
                             f"({', '.join(systems)})")
    priors = None if args.priors is None else \
        [p.strip() for p in args.priors.split(",") if p.strip() and p.strip() != "none"]
    report = rank_experiment(dataset, names, depths, rankers, params, args.train, args.valid,
                             clicks, args.seed, tuple(measures), baselines=tuple(baselines),
                             priors=priors)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, default=str)
        print()
    else:
        print(report.table(latency=args.latency))
    return 0


def _params(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"--params is not valid JSON: {err.msg}") from None
    if not isinstance(params, dict):
        raise InputError("--params must be a JSON object of LightGBM parameters")
    return params


def _click_source(args: argparse.Namespace):
    from ltrr.ranking.clicklogs import read_click_log
    from ltrr.ranking.training import ClickSource
    from ltrr.simulation.clicks import make_click_model

    if args.log is not None:
        return ClickSource(log=read_click_log(args.log), log_path=args.log)
    if args.sessions < 1:
        raise InputError(f"--sessions must be >= 1, got {args.sessions}")
    return ClickSource(click_model=make_click_model(args.click_model, args.click_params),
                       sessions=args.sessions)
