"""The ``ltrr`` command line.

Each command lives with the part of ltrr it drives and registers itself here through a
``register(subparsers)`` function; this module only assembles them and turns
:class:`~ltrr.errors.InputError` into one message on stderr and exit code 2, and
:class:`~ltrr.errors.WriteError` (a file that cannot be written: a full disk, a read-only
folder) into one message naming the file, the cause and what was kept, and exit code 74.

    ltrr data link DIR        place local dataset archives at ir_datasets' cache paths
    ltrr arms DATASET         measure each retrieval arm on a dataset
    ltrr rank DATASET         train a learned ranker and compare it with the fusions
    ltrr run BENCHMARK.toml   run a learning-to-retrieve benchmark
    ltrr sweep SWEEP.toml     run a grid of benchmarks x policies x settings x seeds
    ltrr reproduce RECORD...  rerun records' policy x seed and compare every metric
    ltrr leaderboard [DIRS]   rebuild leaderboards (Markdown, CSV, LaTeX, HTML) from records
    ltrr ope LOGS --policy P  evaluate a policy off-policy on logged decisions
    ltrr check module:Name    run a plugin through its kind's contract on a tiny world
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ltrr import __version__
from ltrr.errors import WRITE_FAILED, InputError, WriteError

# Modules with a ``register(subparsers)`` function, in the order --help lists them.
COMMAND_MODULES = (
    "ltrr.datasets.cli",
    "ltrr.arms.cli",
    "ltrr.experiments.rank_cli",
    "ltrr.experiments.cli",
    "ltrr.experiments.sweep_cli",
    "ltrr.experiments.reproduce",
    "ltrr.results.cli",
    "ltrr.ope.cli",
    "ltrr.check",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command module registered."""
    parser = argparse.ArgumentParser(
        prog="ltrr",
        description="Benchmarks and off-policy evaluation for learning to rank and retrieve.",
        epilog="Run 'ltrr COMMAND --help' for a command's options. Bad input exits with code 2; "
               f"a file that cannot be written (a full disk) with code {WRITE_FAILED}.")
    parser.add_argument("--version", action="version", version=f"ltrr {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue  # a command whose module is not written yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ltrr`` console script; returns the exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except InputError as err:
        print(f"ltrr {args.command}: error: {err}", file=sys.stderr)
        return 2
    except WriteError as err:
        print(f"ltrr {args.command}: error: {err}", file=sys.stderr)
        return WRITE_FAILED
    except KeyboardInterrupt:
        print("ltrr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
