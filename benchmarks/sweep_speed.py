"""Speed-up of ``ltrr sweep`` on 2 workers against 1, for the process pool and for Dask.

The same independent cells (by default 8: LinUCB at 2 settings x 4 seeds on
``benchmarks/music.toml``, 2,000 queries each; no cell reads another's results, and the two
cells of a seed go to one worker, as :func:`ltrr.experiments.cell.seed_batches` hands them
out, so they share the step truths the world caches per seed just as they do when run one
after the other) are run four times into fresh folders: a pool
of 1 process (the cells played in this process) and of 2 forked processes, then a Dask
``LocalCluster`` of 1 worker and of 2. The world is prepared once here before the pool runs
(timed apart: it is the same for 1 and 2 workers), and each Dask worker prepares its own
copy from the ``LTRR_HOME`` cache once before its timed run (also timed apart: it happens on
all workers at once, once per benchmark, however many cells follow). Prints wall times,
the speed-ups (1-worker time / 2-worker time; 2.0 is the ceiling on 2 cores) and whether all
four runs wrote the same records (they must: cells do not depend on where they run).

The machine's load average is printed first: on a shared machine, other work takes cores
from the 2-worker runs and lowers the ratios.

    python benchmarks/sweep_speed.py [--stream-length 2000] [--seeds 4] [--policy linucb]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
ROOT = Path(__file__).resolve().parents[1]


def records(folder: Path) -> dict:
    """The records of a folder, without their wall time."""
    out = {}
    for path in sorted(folder.glob("*-seed*.json")):
        record = json.loads(path.read_text())
        record["provenance"].pop("wall_time_s")
        out[path.name] = record
    return out


def warm(benchmark) -> None:
    """Prepare a Dask worker's world (run on every worker; returns nothing to ship back)."""
    from ltrr.experiments.cluster import prepared

    prepared(benchmark)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default=str(ROOT / "benchmarks" / "music.toml"))
    parser.add_argument("--stream-length", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=4, help="seeds per setting")
    parser.add_argument("--policy", default="linucb",
                        help="a policy with an 'alpha' hyper-parameter (2 settings)")
    args = parser.parse_args()

    from ltrr.experiments import cluster
    from ltrr.experiments.cell_runner import CellRunner, report_cells
    from ltrr.experiments.runner import prepare
    from ltrr.experiments.sweep import load_sweep

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    work = Path(tempfile.mkdtemp(prefix="ltrr-sweep-speed-"))
    try:
        spec = work / "speed.toml"
        spec.write_text(f'[sweep]\nbenchmarks = ["{Path(args.benchmark).resolve()}"]\n'
                        f"seeds = {list(range(args.seeds))}\n"
                        f"stream_length = {args.stream_length}\n\n"
                        f'[[policies]]\nname = "{args.policy}"\n'
                        "grid = { alpha = [0.5, 2.0] }\n")
        benchmark = load_sweep(spec, out=work / "out").benchmarks[0]
        cells = report_cells(benchmark, {})
        print(f"{len(cells)} cells of {args.stream_length} queries "
              f"({', '.join(p.label for p in benchmark.policies)} x {args.seeds} seeds)")

        start = time.perf_counter()
        world, featurizer, stages = prepare(benchmark)
        print(f"prepare (once, before the pool forks): {time.perf_counter() - start:6.1f} s")

        def runner(folder: Path, jobs: int) -> CellRunner:
            folder.mkdir(parents=True)
            return CellRunner(benchmark, world, featurizer, tmp=folder, jobs=jobs,
                              command="sweep_speed", stages=stages)

        times, folders = {}, {}
        for jobs in (1, 2):
            folders["pool", jobs] = work / f"pool-{jobs}"
            run = runner(folders["pool", jobs], jobs)
            start = time.perf_counter()
            run.map(cells)
            times["pool", jobs] = time.perf_counter() - start
            print(f"process pool, {jobs} worker(s): {times['pool', jobs]:6.1f} s")
        for workers in (1, 2):
            client = cluster.connect(workers=workers)
            try:
                start = time.perf_counter()
                client.run(warm, benchmark)  # each worker's one prepare
                warmup = time.perf_counter() - start
                folders["dask", workers] = work / f"dask-{workers}"
                run = runner(folders["dask", workers], 1)
                start = time.perf_counter()
                run.map(cells, play=cluster.DaskCells(client))
                times["dask", workers] = time.perf_counter() - start
            finally:
                cluster.close(client)
            print(f"Dask LocalCluster, {workers} worker(s): {times['dask', workers]:6.1f} s "
                  f"(+ {warmup:.1f} s for the workers' prepare, in parallel)")
        for kind in ("pool", "dask"):
            print(f"speed-up on 2 workers, {'process pool' if kind == 'pool' else 'Dask'}: "
                  f"{times[kind, 1] / times[kind, 2]:.2f}x")
        reference = records(folders["pool", 1])
        same = all(records(folder) == reference for folder in folders.values())
        print(f"all runs wrote the same {len(reference)} records: {'yes' if same else 'NO'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
