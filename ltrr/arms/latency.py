"""How long each arm takes per query, measured as search engines measure it: ``ltrr arms
DATASET --latency``.

Each arm is built (its index loaded from ``LTRR_HOME``, or built first), then asked for every
timed query once at the deepest depth, untimed: the warm-up pass of PISA's query benchmarks,
which pays for reading the index into memory and for first calls. Then each query is timed on
its own at each depth: one ``transform`` of a one-row query frame, with ``time.perf_counter``,
i.e. what a PyTerrier pipeline pays per query for this arm (its search plus PyTerrier's frame
handling; batching queries is cheaper per query, see ``benchmarks/arm_throughput.py``).
Reported per arm and depth: mean, p50, p95 and p99 in milliseconds over the timed queries (the
first ``max_queries`` test topics, in topic order), with the machine they were measured on, so
a benchmark file's prices can cite them.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field

import numpy as np

from ltrr.arms import build_arm
from ltrr.datasets.base import Dataset
from ltrr.datasets.splits import split_topics
from ltrr.errors import InputError

DEPTHS = (10, 50, 100)
MAX_QUERIES = 500
PERCENTILES = (50, 95, 99)


@dataclass
class LatencyReport:
    """Per-query latency of each arm at each depth, and where it was measured."""

    dataset: str
    queries: int
    depths: list[int]
    rows: list[dict] = field(default_factory=list)  # arm, depth, mean_ms, p50_ms, p95_ms, p99_ms
    machine: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "queries": self.queries, "depths": self.depths,
                "latency_ms": self.rows, "machine": self.machine,
                "method": "one untimed warm-up pass of every timed query at the deepest depth, "
                          "then each query timed on its own (one transform call) per depth"}

    def table(self) -> str:
        lines = [f"dataset {self.dataset}: per-query latency in ms over {self.queries} test "
                 f"queries, after a warm-up pass ({self.machine['cpus']} CPUs, "
                 f"{self.machine['platform']}, load average {self.machine['load_average']})",
                 "", f"{'arm':<12} {'depth':>5} {'mean':>8} {'p50':>8} {'p95':>8} {'p99':>8}"]
        for r in self.rows:
            lines.append(f"{r['arm']:<12} {r['depth']:>5} {r['mean_ms']:>8.2f} "
                         f"{r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f}")
        return "\n".join(lines)


def latency_row(arm: str, depth: int, seconds: list[float]) -> dict:
    """Mean and percentiles (numpy's linear interpolation) of per-query times, in ms."""
    ms = np.asarray(seconds, dtype=float) * 1000.0
    row = {"arm": arm, "depth": int(depth), "mean_ms": round(float(ms.mean()), 4)}
    for q in PERCENTILES:
        row[f"p{q}_ms"] = round(float(np.percentile(ms, q)), 4)
    return row


def measure_latency(dataset: Dataset, arm_names: list[str], depths=DEPTHS,
                    arm_params: dict[str, dict] | None = None,
                    max_queries: int = MAX_QUERIES) -> LatencyReport:
    """Time each arm per query at each depth, after a warm-up pass (see the module doc)."""
    depths = sorted({int(d) for d in depths})
    if not depths or depths[0] < 1:
        raise InputError(f"--depths needs integers >= 1, got {list(depths)}", field="--depths")
    if max_queries < 1:
        raise InputError(f"--latency-queries must be >= 1, got {max_queries}",
                         field="--latency-queries")
    test = split_topics(dataset.topics, "test")
    if not len(test):
        raise InputError(f"dataset '{dataset.id}' has no test topics to time arms on",
                         field="split")
    queries = test[["qid", "query"]].head(max_queries).reset_index(drop=True)
    report = LatencyReport(dataset.id, len(queries), depths, machine={
        "platform": platform.platform(), "processor": platform.processor() or "unknown",
        "cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)})
    for name in arm_names:
        arm = build_arm(name, dataset, num_results=depths[-1],
                        **(arm_params or {}).get(name, {}))
        arm.transform(queries)  # the warm-up pass, untimed
        for depth in depths:
            arm.with_depth(depth)
            seconds = []
            for i in range(len(queries)):
                one = queries.iloc[i:i + 1]
                start = time.perf_counter()
                arm.transform(one)
                seconds.append(time.perf_counter() - start)
            report.rows.append(latency_row(name, depth, seconds))
    return report
