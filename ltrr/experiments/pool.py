"""Cells in forked worker processes (``--jobs N``), sharing the prepared world.

The world (dataset, arms, candidate lists, features) is prepared once in this process; the
workers are forked from it afterwards and share it copy-on-write, so nothing is rebuilt or
reloaded per worker. Each task is a batch of cells of one seed
(:func:`~ltrr.experiments.cell.seed_batches`); a worker writes each cell's files as it
finishes it, and progress comes back through a shared counter. A worker's error (a
:class:`~ltrr.errors.WriteError` on a full disk, an outside component's InputError) is raised
here, whole, once the batches already running have ended; batches not started are dropped.
"""

from __future__ import annotations

from typing import Any, Protocol

from ltrr.experiments.cell import Cell, seed_batches


class PlaysCells(Protocol):
    """What the pool needs of the cells' runner (:class:`~ltrr.experiments.cell_runner.CellRunner`,
    which imports this module to fork its workers): its worker count, progress bar, and
    ``run(cell, progress)`` returning a cell's tuning score (None for a reported cell)."""

    jobs: int
    bar: Any

    def run(self, cell: Cell, progress: Any) -> float | None: ...


class _SharedCount:
    """A progress sink for worker processes: adds to a shared counter every few hundred steps."""

    def __init__(self, value) -> None:
        self.value, self.pending = value, 0

    def update(self, n: int) -> None:
        self.pending += n
        if self.pending >= 250:
            self.flush()

    def flush(self) -> None:
        with self.value.get_lock():
            self.value.value += self.pending
        self.pending = 0


_FORKED: dict = {}  # what forked workers inherit: the prepared run


def _batch_worker(batch: list[int]) -> list[tuple[int, float | None]]:
    runner, cells, count = _FORKED["runner"], _FORKED["cells"], _FORKED["count"]
    sink = _SharedCount(count)
    scores = []
    for i in batch:
        scores.append((i, runner.run(cells[i], sink)))
        sink.flush()
    return scores


def run_forked(runner: PlaysCells, cells: list[Cell]) -> list[float | None]:
    """Play ``cells`` in ``runner.jobs`` forked processes; their tuning scores (None for
    reported cells), in order."""
    import gc
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # What exists now (the world, the imported libraries) lives as long as the process: move
    # it out of the collector's reach before forking, as the gc docs advise for fork without
    # exec, so collections neither copy shared pages into the workers nor walk it again (in
    # this process: statsmodels' Holm correction, say, calls gc.collect() for every table).
    gc.freeze()
    ctx = mp.get_context("fork")
    count = ctx.Value("q", 0)
    start = runner.bar.n if runner.bar is not None else 0
    _FORKED.update(runner=runner, cells=cells, count=count)
    scores: list[float | None] = [None] * len(cells)
    batches = seed_batches(cells, runner.jobs)
    try:
        with ProcessPoolExecutor(max_workers=min(runner.jobs, len(batches)),
                                 mp_context=ctx) as pool:
            pending = {pool.submit(_batch_worker, batch) for batch in batches}
            try:
                while pending:
                    done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                    for future in done:
                        for i, score in future.result():  # re-raise a worker's error here
                            scores[i] = score
                    if runner.bar is not None:
                        runner.bar.n = start + count.value
                        runner.bar.refresh()
            except BaseException:
                pool.shutdown(cancel_futures=True)  # no new batch after an error
                raise
    finally:
        _FORKED.clear()
    return scores
