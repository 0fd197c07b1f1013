"""Tuning: every setting of each policy's ``grid`` on the ``[tuning]`` seeds, and the choice.

The seeds are disjoint from the reported ones (checked when the file is read), the stream
length is the benchmark's own, and the setting with the best mean tuning metric is kept (ties:
the first in grid order). ``tuning.json`` holds every setting's per-seed and mean score; each
reported record's ``tuning`` entry summarises it (:func:`tuning_summary`).
"""

from __future__ import annotations

import json
from ltrr.experiments.benchmark import Benchmark, PolicySpec
from ltrr.experiments.cell import Cell


def tuning_cells(benchmark: Benchmark) -> list[Cell]:
    """Every grid setting of every tuned policy on every tuning seed."""
    if benchmark.tuning is None:
        return []
    return [Cell(spec.label, spec.name, setting, seed, benchmark.stream_length, tuning=True)
            for spec in benchmark.policies if spec.grid
            for setting in spec.settings() for seed in benchmark.tuning.seeds]


def choose_settings(benchmark: Benchmark, cells: list[Cell], scores: list[float]) -> dict:
    """Per tuned policy: its grid, every setting's per-seed and mean tuning metric, and the
    chosen setting (the best mean; ties go to the first in grid order)."""
    out: dict = {}
    for spec in benchmark.policies:
        if not spec.grid:
            continue
        rows = []
        for setting in spec.settings():
            values = {c.seed: v for c, v in zip(cells, scores)
                      if c.label == spec.label and c.params == setting}
            rows.append({"params": setting, "values": values,
                         "mean": sum(values.values()) / len(values)})
        best = max(range(len(rows)), key=lambda i: (rows[i]["mean"], -i))
        out[spec.label] = {"grid": spec.grid, "metric": benchmark.tuning.metric,
                           "seeds": benchmark.tuning.seeds, "settings": rows,
                           "chosen": rows[best]["params"]}
    return out


def tuning_summary(spec: PolicySpec, tuning: dict) -> dict | None:
    """What a reported record says of its tuning: grid, metric, seeds, chosen setting, each
    setting's mean score and its score on each tuning seed (in ``seeds`` order, so the
    leaderboard can give intervals and paired differences), from ``tuning`` as
    ``tuning.json`` holds it (:func:`as_stored`)."""
    if not spec.grid:
        return None
    entry = tuning[spec.label]
    return {"grid": entry["grid"], "metric": entry["metric"], "seeds": entry["seeds"],
            "chosen": entry["chosen"],
            "means": [[row["params"], row["mean"]] for row in entry["settings"]],
            "values": [[row["params"], [row["values"][str(s)] for s in entry["seeds"]]]
                       for row in entry["settings"]]}  # JSON keys the seeds as strings


def as_stored(tuning: dict) -> dict:
    """``tuning`` (:func:`choose_settings`) as ``tuning.json`` stores it and reads back."""
    return json.loads(json.dumps(tuning))
