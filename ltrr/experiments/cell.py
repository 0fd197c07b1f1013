"""What one cell is (a policy at one setting on one seed's stream), and how cells are batched
over worker processes.

Its own module because the cells' runner (:mod:`ltrr.experiments.cell_runner`), the tuning that
makes its cells (:mod:`ltrr.experiments.tuning`) and the process pool and Dask workers that
play them (:mod:`ltrr.experiments.pool`, :mod:`ltrr.experiments.cluster`) all need it, and
none of them should import another only for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    """One run: a policy with one setting of its hyper-parameters on one seed's stream."""

    label: str
    name: str
    params: dict = field(hash=False)
    seed: int = 0
    length: int = 0
    tuning: bool = False  # a tuning run (scores only) or a reported one (records)


def seed_batches(cells: list[Cell], workers: int) -> list[list[int]]:
    """Indexes of ``cells`` in batches to hand to ``workers`` processes, one batch at a time.

    The world caches the simulator's step truths per seed, so the cells of one seed played
    in one process after another compute them once (as a run on one process does), while
    spread over processes each computes them again. A batch is therefore cells of one seed,
    in order; a seed with more than ``ceil(len(cells) / (4 * workers))`` cells is cut into
    near-equal pieces, so that there are enough batches (about four per worker) to keep
    every worker busy to the end: recomputing a seed's truths costs far less than a worker
    idling through the last batch (5 tuning seeds on 2 workers would otherwise split 3:2).
    """
    by_seed: dict[int, list[int]] = {}
    for i, cell in enumerate(cells):
        by_seed.setdefault(cell.seed, []).append(i)
    limit = max(1, -(-len(cells) // (4 * workers)))
    batches = []
    for group in by_seed.values():
        pieces = -(-len(group) // limit)
        size, extra = divmod(len(group), pieces)
        start = 0
        for k in range(pieces):
            end = start + size + (k < extra)
            batches.append(group[start:end])
            start = end
    return batches
