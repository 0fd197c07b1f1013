"""``ltrr leaderboard [DIRS...]``: rebuild each results folder's leaderboard from its records.

    ltrr leaderboard results/music [results/nfcorpus ...] [--html]

Writes ``LEADERBOARD.md`` (byte for byte what ``ltrr run`` wrote for the same records),
``leaderboard.csv``, ``leaderboard.tex`` (booktabs) and the plots into each folder, and with
``--html`` a self-contained ``leaderboard.html``. Without DIRS: every folder under
``results/`` that holds records. A record that cannot be read, misses a field or comes from
another benchmark version is named on stderr and left out; a folder that does not exist or
has no valid record stops the command (exit 2) before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ltrr.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``leaderboard`` command."""
    p = subparsers.add_parser("leaderboard", help="rebuild leaderboards from result records",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("dirs", nargs="*", metavar="DIR",
                   help="results folders (default: every folder under results/ with records)")
    p.add_argument("--html", action="store_true",
                   help="also write leaderboard.html, one self-contained page")
    p.set_defaults(handler=_leaderboard)


def default_folders(root: Path = Path("results")) -> list[Path]:
    """The folders under ``root`` that hold result records."""
    if not root.is_dir():
        return []
    return [d for d in sorted(root.iterdir()) if d.is_dir() and any(d.glob("*-seed*.json"))]


def _leaderboard(args: argparse.Namespace) -> int:
    from ltrr.results.folder import load_folder, write_leaderboard

    folders = [Path(d) for d in args.dirs] or default_folders()
    if not folders:
        raise InputError("no results folder given, and none with records under results/")
    loaded = [load_folder(folder) for folder in folders]  # every folder checked first
    for results in loaded:
        for message in results.skipped:
            print(f"ltrr leaderboard: warning: {message}", file=sys.stderr)
    for results in loaded:
        written = write_leaderboard(results, html=args.html)
        skipped = f", {len(results.skipped)} skipped" if results.skipped else ""
        print(f"{results.path}: {len(results.records)} records{skipped} -> "
              f"{', '.join(p.name for p in written)}")
    return 0
