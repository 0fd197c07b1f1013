"""``ltrr sweep SWEEP.toml``: run a grid of benchmarks x policies x settings x seeds.

    ltrr sweep SWEEP.toml [--out DIR] [--jobs N | --dask-workers N | --scheduler ADDRESS]
               [--logs none|first|all] [--connect-timeout S] [--quiet]

Records go to ``<out>/<benchmark file stem>/`` (``out``: ``--out``, the file's ``out``, or
``results/<sweep file stem>``), with a ``LEADERBOARD.md`` per benchmark. Cells already
finished there are skipped, so a stopped sweep (killed, or stopped by a full disk: one
message naming the file, exit code 74) is resumed by running it again. The file's format is in
``docs/sweeps.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command."""
    sweep = subparsers.add_parser("sweep", help="run a grid of benchmarks x policies x "
                                  "settings x seeds (resumable; process pool or Dask)",
                                  description=__doc__.split("\n\n")[0])
    sweep.add_argument("sweep", metavar="SWEEP.toml", help="a sweep definition")
    sweep.add_argument("--out", help="results folder (default: the file's out, else "
                       "results/<file stem>)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, help="worker processes forked after the world is "
                       "prepared (default: one per CPU)")
    where.add_argument("--dask-workers", type=int, metavar="N",
                       help="run cells on a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run cells on the Dask scheduler at ADDRESS (tcp://host:8786)")
    sweep.add_argument("--connect-timeout", type=float, metavar="S",
                       help="seconds to reach the scheduler (default 10)")
    sweep.add_argument("--logs", choices=("none", "first", "all"),
                       help="decision logs: none (default, or the file's logs), the first "
                       "seed's, or all")
    sweep.add_argument("--quiet", action="store_true", help="no progress bars")
    sweep.add_argument("--study-only", action="store_true",
                       help="run nothing: rebuild the study (STUDY.md, its figures, the "
                            "frontier) from the records already in the results folder")
    sweep.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from ltrr.experiments.sweep import load_sweep, run_sweep

    if args.study_only:
        from ltrr.results.study import write_study

        for written in write_study(load_sweep(args.sweep, out=args.out)):
            print(f"study -> {written}")
        return 0
    command = "ltrr sweep " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 2 and sys.argv[1] == "sweep" else f"ltrr sweep {args.sweep}"
    sweep = run_sweep(args.sweep, out=args.out, jobs=args.jobs, scheduler=args.scheduler,
                      dask_workers=args.dask_workers, logs=args.logs, progress=not args.quiet,
                      command=command, connect_timeout=args.connect_timeout)
    for benchmark in sweep.benchmarks:
        print(f"{benchmark.name}: {sweep.folder(benchmark) / 'LEADERBOARD.md'}")
    print(f"results: {sweep.out}")
    return 0
