"""Cells on Dask distributed: an existing scheduler (``--scheduler ADDRESS``) or a
``LocalCluster`` of N worker processes (``--dask-workers N``).

Each task (``Client.submit``) is a batch of cells of one seed, which share the step truths the
world caches per seed (:func:`~ltrr.experiments.cell.seed_batches`); results come back
through ``as_completed`` and the client writes them (records atomically, into the sweep's
folder), so workers need no access to the results folder, only to the benchmark's data and to
``LTRR_HOME``. A sweep stopped midway loses the batches in flight, at most one per worker. The world is not
shipped to workers (it does not pickle: datasets read their corpus through closures, arms
hold native index handles): each worker
prepares it once per benchmark, on its first cell of that benchmark, and keeps it for the
next ones (:data:`_WORLDS`). The client prepares it first, so every index and candidate
list is in ``LTRR_HOME`` by then and a worker's prepare is a load, not a build: on a cluster,
``LTRR_HOME`` must be a shared folder (or each worker builds its own cache). Workers run one
task at a time (``threads_per_worker=1``): cells are single-threaded NumPy loops.

Numbers do not depend on where a cell runs: it is a pure function of the benchmark file,
its policy setting and its seed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path

from ltrr.errors import InputError
from ltrr.experiments.benchmark import Benchmark
from ltrr.experiments.cell import Cell, seed_batches
from ltrr.experiments.cell_runner import CellOutput, CellRunner

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("Dask distributed is not installed; install the extra: "
                         "pip install 'ltrr[dask]'", field="--scheduler/--dask-workers") from None
    return distributed


def connect(scheduler: str | None = None, workers: int | None = None,
            timeout: float = CONNECT_TIMEOUT):
    """A Dask client on ``scheduler`` (an address such as ``tcp://host:8786``) or on a new
    ``LocalCluster`` of ``workers`` processes; close it with :func:`close`.

    An address that cannot be reached within ``timeout`` seconds raises one InputError
    naming it (the connection is tried first on its own, so no client is left retrying).
    """
    distributed = _import_distributed()
    if not timeout > 0:
        raise InputError(f"must be > 0 seconds, got {timeout}", field="--connect-timeout")
    if scheduler is not None:
        async def probe() -> None:
            comm = await distributed.comm.connect(scheduler, timeout=timeout)
            await comm.close()

        try:
            asyncio.run(probe())
        except (OSError, ValueError, TimeoutError) as err:
            raise InputError(f"cannot reach the Dask scheduler at '{scheduler}' "
                             f"({type(err).__name__}: {err})", field="--scheduler") from None
        return distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    if workers is None or workers < 1:
        raise InputError(f"must be >= 1, got {workers}", field="--dask-workers")
    # a task's error reaches the client (and the user) through its future; the workers' own
    # logs would only add noise, e.g. heartbeats failing while the cluster shuts down
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.CRITICAL)
    return distributed.Client(cluster, set_as_default=False)


def close(client) -> None:
    """Close a client from :func:`connect` (and the LocalCluster it started, if any)."""
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def world_key(benchmark: Benchmark) -> str:
    """What identifies a prepared world on a worker: the benchmark file and what the sweep
    changed in it."""
    blob = json.dumps(benchmark.raw, sort_keys=True, default=str)
    return hashlib.sha256(f"{benchmark.sha256}\n{blob}".encode()).hexdigest()


_WORLDS: dict[str, tuple] = {}  # in a worker process: world key -> prepare()'s (world, featurizer, stages)


def prepared(benchmark: Benchmark) -> tuple:
    """This worker's world for ``benchmark``, prepared on first use (one at a time: a sweep
    runs its benchmarks one after another)."""
    from ltrr.experiments.runner import prepare

    from ltrr.experiments.cell_runner import reward_range
    from ltrr.selection.policies import build_policy

    key = world_key(benchmark)
    if key not in _WORLDS:
        _WORLDS.clear()
        prepared = prepare(benchmark)
        world, featurizer = prepared.world, prepared.featurizer
        # build each policy once, as the client did when it checked the file: the code they
        # need (obp, ...) is loaded now, with the world, not during this worker's first cell
        for spec in benchmark.policies:
            build_policy(spec.name, spec.params, world.plans,
                         n_features=featurizer.dim, random_state=0,
                         reward_range=reward_range(world))
        _WORLDS[key] = prepared
    return _WORLDS[key]


def play_on_worker(benchmark: Benchmark, cells: list[Cell], logs: str, command: str,
                   policy_order: list[str] | None, provenance: dict,
                   tuning: dict | None = None) -> list[CellOutput]:
    """The task of a batch of cells: play them on this worker's world, in order, and return
    what each leaves (``tuning``: the chosen settings the records describe)."""
    world, featurizer, stages = prepared(benchmark)
    runner = CellRunner(benchmark, world, featurizer, tmp=Path("."), logs=logs, command=command,
                        policy_order=policy_order, provenance=provenance, stages=stages)
    runner.tuning = tuning or {}
    return [runner.compute(cell, None) for cell in cells]


class DaskCells:
    """Plays a runner's pending cells as Dask tasks and writes each result as it arrives
    (pass to :meth:`CellRunner.map` as ``play``)."""

    def __init__(self, client) -> None:
        self.client = client

    def __call__(self, runner: CellRunner, cells: list[Cell]) -> list[float | None]:
        distributed = _import_distributed()
        workers = len(self.client.scheduler_info().get("workers", {})) or 1
        futures = {self.client.submit(play_on_worker, runner.benchmark,
                                      [cells[i] for i in batch], runner.logs, runner.command,
                                      runner.policy_order, runner.provenance, runner.tuning,
                                      pure=False): batch
                   for batch in seed_batches(cells, workers)}
        scores: list[float | None] = [None] * len(cells)
        try:
            for future in distributed.as_completed(futures, loop=self.client.loop):
                for i, output in zip(futures[future], future.result()):  # a worker's error here
                    scores[i] = runner.write(cells[i], output)
                    if runner.bar is not None:
                        runner.bar.update(cells[i].length)
                future.release()  # the worker may drop the results now
        finally:
            self.client.cancel(list(futures))
        return scores
