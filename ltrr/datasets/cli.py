"""``ltrr data …``: set up datasets for offline use and look at what a dataset id loads.

    ltrr data link DIR [--force]   symlink the archives under DIR at ir_datasets' cache paths
    ltrr data list                 the known archives and whether each is in place
    ltrr data info DATASET         counts, fields and a sample record of a dataset id
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its subcommands."""
    data = subparsers.add_parser("data", help="dataset set-up: link offline archives, inspect ids",
                                 description=__doc__.split("\n\n")[0])
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    link = sub.add_parser("link", help="symlink local dataset archives at ir_datasets' cache paths")
    link.add_argument("folder", metavar="DIR", type=Path,
                      help="a folder holding the archives (any depth), e.g. shared/datasets")
    link.add_argument("--force", action="store_true",
                      help="replace a different file already at a cache path")
    link.set_defaults(handler=_link)

    listing = sub.add_parser("list", help="the known offline archives and whether each is linked")
    listing.set_defaults(handler=_list)

    info = sub.add_parser("info", help="counts, fields and a sample record of a dataset id")
    info.add_argument("dataset", metavar="DATASET",
                      help="an ir_datasets id, beir:FOLDER[#split], trec:FOLDER, ltrr:music or "
                      "ltrr:mixed")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=_info)


def _link(args: argparse.Namespace) -> int:
    from ltrr.datasets import links
    rows = links.link_archives(args.folder, force=args.force)
    print(f"IR_DATASETS_HOME={links.irds_home()}")
    for archive, source, outcome in rows:
        print(f"{outcome:>14}  {archive.cache_path} -> {source}  ({', '.join(archive.dataset_ids)})")
    return 0


def _list(args: argparse.Namespace) -> int:
    from ltrr.datasets import links
    print(f"IR_DATASETS_HOME={links.irds_home()}")
    for archive, state in links.archive_status():
        print(f"{archive.file_name:<24} {', '.join(archive.dataset_ids):<22} {state}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from ltrr.datasets import load
    from ltrr.datasets.identical_ids import ignores_identical_ids
    dataset = load(args.dataset)
    first = next(dataset.docs(), None)
    summary = {
        "id": dataset.id,
        "docs": dataset.num_docs,
        "queries": len(dataset.topics),
        "qrels": len(dataset.qrels),
        "labels": {str(k): int(v) for k, v in dataset.qrels["label"].value_counts().sort_index().items()},
        "text_fields": dataset.text_fields,
        "fields": dataset.fields,
        "first_doc": {k: str(v)[:200] for k, v in (first or {}).items()},
        "first_query": dataset.topics.iloc[0].astype(str).to_dict() if len(dataset.topics) else None,
        "context_columns": dataset.context_columns,
        "ignore_identical_ids": ignores_identical_ids(dataset),
    }
    if "collection" in dataset.topics.columns:
        summary["collections"] = _per_collection(dataset)
    notes = list(dataset.meta.get("notes", []))
    if args.json:
        print(json.dumps({**summary, "notes": notes}, indent=2, ensure_ascii=False))
        return 0
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"{key:>{width}}: {value}")
    for note in notes:
        print(f"note: {note}")
    return 0


def _per_collection(dataset) -> dict[str, dict[str, int]]:
    """Topics and qrels per value of the topics' ``collection`` column (``ltrr:mixed``)."""
    collection = dataset.topics.set_index("qid")["collection"]
    judged = dataset.qrels["qid"].map(collection)
    return {str(name): {"queries": int((dataset.topics["collection"] == name).sum()),
                        "qrels": int((judged == name).sum())}
            for name in dataset.topics["collection"].unique()}
