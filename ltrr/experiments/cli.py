"""``ltrr run BENCHMARK.toml``: run every policy x seed of a benchmark, print a summary.

    ltrr run benchmarks/music.toml [--seeds 0,1] [--policies linucb,oracle]
             [--out DIR] [--stream-length N] [--logs first|all|none] [--jobs N] [--quiet]

Results go to ``results/<file stem>/`` (``--out`` to change): one JSON record and per-topic
table per run, decision logs (Parquet), ``tuning.json``, ``LEADERBOARD.md``, ``leaderboard.csv``,
``leaderboard.tex``, ``regret.png`` (and ``ndcg.png`` with learned rankers); ``ltrr
leaderboard DIR`` rebuilds the last five from the records. A run killed midway, or stopped
by a file it cannot write (a full disk: one message naming the file, exit code 74), resumes:
the same command again keeps what it had finished and plays the rest.

A file with an ``[ope]`` table (``benchmarks/ope-music.toml``) is an off-policy evaluation
benchmark against simulated ground truth: ``ltrr run`` hands it to
:mod:`ltrr.experiments.ope_truth.groundtruth`, one with an ``[ope_ranking]`` table
(``benchmarks/ope-ranking.toml``, rankers from logged pages) to
:mod:`ltrr.experiments.ope_truth.ranking_truth` (only ``--out``, ``--jobs`` (seeds in
parallel) and ``--quiet`` apply there).
"""

from __future__ import annotations

import argparse
import shlex
import sys


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    run = subparsers.add_parser("run", help="run a learning-to-retrieve benchmark (TOML)",
                                description=__doc__.split("\n\n")[0])
    run.add_argument("benchmark", metavar="BENCHMARK.toml", help="a benchmark definition")
    run.add_argument("--seeds", type=_int_list, help="comma-separated seeds (default: the file's)")
    run.add_argument("--policies", help="comma-separated policy labels (default: all)")
    run.add_argument("--out", help="results folder (default: results/<file stem>)")
    run.add_argument("--stream-length", type=int, help="override the stream length")
    run.add_argument("--logs", default="first", choices=("first", "all", "none"),
                     help="write decision logs for the first seed (default), all seeds, or none")
    run.add_argument("--jobs", type=int, default=1,
                     help="worker processes, one seed each at a time (default 1)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)


def _ope_table(path: str) -> str | None:
    """``"ope"`` or ``"ope_ranking"`` when ``path`` is a TOML file with that table, else None
    (unreadable files too: the benchmark loader reports those)."""
    import tomllib

    try:
        with open(path, "rb") as handle:
            tables = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return next((t for t in ("ope", "ope_ranking") if t in tables), None)


def _command(args: argparse.Namespace) -> str:
    """The ``ltrr run`` command line as typed (for the records' provenance)."""
    if len(sys.argv) > 2 and sys.argv[1] == "run":
        return "ltrr run " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    return f"ltrr run {args.benchmark}"


def _run(args: argparse.Namespace) -> int:
    from ltrr.errors import InputError
    from ltrr.experiments.runner import run_benchmark

    table = _ope_table(args.benchmark)
    if table is not None:
        if table == "ope":
            from ltrr.experiments.ope_truth.groundtruth import run_and_write
        else:
            from ltrr.experiments.ope_truth.ranking_truth import run_and_write

        given = [flag for flag, value in (("--seeds", args.seeds), ("--policies", args.policies),
                                          ("--stream-length", args.stream_length))
                 if value is not None]
        if given or args.logs != "first":
            given += ["--logs"] * (args.logs != "first")
            raise InputError(f"{', '.join(given)}: not used by an [{table}] benchmark (its "
                             f"seeds and stream length are set in its [{table}] table)",
                             file=args.benchmark)
        print(run_and_write(args.benchmark, args.out, progress=not args.quiet, jobs=args.jobs,
                            command=_command(args)))
        return 0

    policies = [p for p in args.policies.split(",") if p] if args.policies else None
    command = _command(args)
    out = run_benchmark(args.benchmark, seeds=args.seeds, policies=policies, out=args.out,
                        stream_length=args.stream_length, logs=args.logs,
                        progress=not args.quiet, command=command, jobs=args.jobs)
    from ltrr.results.folder import load_folder
    from ltrr.results.leaderboard import terminal_summary

    found = load_folder(out)
    order = found.records[0].get("benchmark_policies") if found.records else None
    print(terminal_summary(found.records, order, found.topics))
    print(f"results: {out} (every column, the tuning table and the tests in full: "
          f"{out / 'LEADERBOARD.md'})")
    return 0
