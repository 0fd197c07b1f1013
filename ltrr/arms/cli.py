"""``ltrr arms DATASET``: measure each retrieval arm on its own.

    ltrr arms beir/nfcorpus/test
    ltrr arms vaswani --arms lexical --measures nDCG@10,R@100,R@1000,RR,AP,nDCG
    ltrr arms ltrr:music --json
    ltrr arms ltrr:music --latency [--depths 10,50,100] [--latency-queries 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

from ltrr.errors import InputError

EPILOG = """\
Topics: only split=='test' rows when the topics have a split column. Groups: all topics,
each intent (intent column) and head queries (head == True).

Memory warm-up (datasets with split=='train' topics, e.g. ltrr:music): each train topic is
issued once, in order; the page shown for it is the union of the top-10 of every measured arm
(the memory in its cold, predicted-query state); a perfect-click user clicks every shown
document the qrels judge relevant (label > 0); those clicks update the memory, which is then
measured on the test topics.

Indexes are cached under $LTRR_HOME (default ~/.cache/ltrr) and reused by the next run.

--latency times each arm instead: after one untimed warm-up pass over the timed queries at the
deepest depth, each query is timed on its own at each of --depths (one transform call, what a
PyTerrier pipeline pays per query); mean, p50, p95, p99 in ms, with the machine's CPUs and load.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``arms`` command."""
    parser = subparsers.add_parser(
        "arms", help="measure each retrieval arm (nDCG@10, R@100, R@1000, RR)",
        description="Measure each retrieval arm on its own: nDCG@10, R@100, R@1000 and RR\n"
                    "through pt.Experiment, per intent and for head queries where the topics\n"
                    "say so; * marks each group's best arm by R@100.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", metavar="DATASET",
                        help="an ir_datasets id, beir:FOLDER[#split], trec:FOLDER, ltrr:music or "
                        "ltrr:mixed")
    parser.add_argument("--arms", default=None,
                        help="comma-separated arms (default: every arm the corpus supports: "
                             "lexical,dense,memory,fuzzy,structured)")
    parser.add_argument("--depth", type=int, default=1000, help="results per query (1000)")
    parser.add_argument("--measures", default=None,
                        help="comma-separated ir_measures measures "
                             "(default nDCG@10,R@100,R@1000,RR)")
    parser.add_argument("--model", default=None,
                        help="dense arm: sentence-transformers model name or path "
                             "(default: bundled all-MiniLM-L6-v2)")
    parser.add_argument("--query-generator", default=None,
                        help="memory arm: 'extractive' (default) or 'doc2query:NAME_OR_PATH'")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--latency", action="store_true",
                        help="time each arm per query (mean, p50, p95, p99 in ms) instead")
    parser.add_argument("--depths", default="10,50,100",
                        help="--latency: comma-separated depths to time (10,50,100)")
    parser.add_argument("--latency-queries", type=int, default=500,
                        help="--latency: time the first N test topics (500)")
    parser.set_defaults(handler=_arms)


def parse_arm_names(value: str | None, dataset) -> list[str]:
    """``--arms``: the named arms (each known, none twice), or, without the option, every
    built-in arm the dataset supports (``dataset`` None: only check the names)."""
    from ltrr.arms import BUILTIN_ARMS, arm_class

    if value is None:
        names = [n for n in BUILTIN_ARMS if _supports(n, dataset)]
    else:
        names = [n.strip() for n in value.split(",") if n.strip()]
        for name in names:
            arm_class(name)  # InputError for an unknown arm
        if not names:
            raise InputError(f"--arms is empty; valid arms: {', '.join(BUILTIN_ARMS)}")
        if len(set(names)) != len(names):
            raise InputError(f"--arms names an arm twice: {value}")
    return names


def _supports(name: str, dataset) -> bool:
    """Whether the default arm list should include ``name`` for this corpus."""
    if name == "structured":
        return bool(dataset.meta.get("structured_fields"))
    if name == "fuzzy":
        return "title" in dataset.fields
    return True


def _arms(args: argparse.Namespace) -> int:
    import ltrr.datasets
    from ltrr.arms.report import MEASURES, measure_arms

    if args.depth < 1:
        raise InputError(f"--depth must be >= 1, got {args.depth}")
    measures = MEASURES if args.measures is None else \
        [m.strip() for m in args.measures.split(",") if m.strip()]
    check_measures(measures)
    depths = _depths(args.depths) if args.latency else None  # checked before any loading
    if args.latency and args.latency_queries < 1:
        raise InputError(f"--latency-queries must be >= 1, got {args.latency_queries}",
                         field="--latency-queries")
    if args.arms is not None:
        parse_arm_names(args.arms, None)  # unknown arms fail before a dataset is loaded
    dataset = ltrr.datasets.load(args.dataset)
    names = parse_arm_names(args.arms, dataset)
    params: dict[str, dict] = {}
    if args.model:
        params["dense"] = {"model": args.model}
    if args.query_generator:
        params["memory"] = {"query_generator": args.query_generator}
    if args.latency:
        from ltrr.arms.latency import measure_latency

        report = measure_latency(dataset, names, depths, params, args.latency_queries)
    else:
        report = measure_arms(dataset, names, depth=args.depth, measures=measures,
                              arm_params=params)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print(report.table())
    return 0


def _depths(value: str) -> list[int]:
    """``--depths``: distinct integers >= 1."""
    try:
        depths = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        depths = []
    if not depths or min(depths) < 1 or len(set(depths)) != len(depths):
        raise InputError(f"--depths needs distinct integers >= 1, comma-separated, got '{value}'",
                         field="--depths")
    return depths


def check_measures(measures: list[str]) -> None:
    """``--measures``: at least one, each parsed by ir_measures (InputError otherwise)."""
    import ir_measures

    if not measures:
        raise InputError("--measures is empty")
    for m in measures:
        try:
            ir_measures.parse_measure(m)
        except (ValueError, NameError, TypeError, AttributeError):
            raise InputError(f"--measures: unknown measure '{m}' (ir_measures syntax, e.g. nDCG@10)")
