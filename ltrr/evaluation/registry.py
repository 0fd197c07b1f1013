"""Every metric a run's record holds, declared once.

A run's ``metrics`` (:func:`ltrr.evaluation.metrics.run_metrics`) holds exactly the metrics
declared here, in this order, and everything that reads metrics by name is derived from this
table rather than spelling the names again:

- the fields every record must carry (:data:`ltrr.results.records.RECORD_FIELDS`; a metric
  with ``record=None`` is optional, so records made before it existed stay readable);
- the per-topic tables and learning curves (``per_topic``: a value at every step);
- the leaderboard's columns (``label``; an optional one only when some record has it), its
  best marks (``better``), its paired tests (``tested``) and the columns ``ltrr run`` prints
  (``terminal``) (:mod:`ltrr.results.leaderboard`, :mod:`ltrr.results.export`);
- the metrics a ``[tuning]`` table may name (``tunable``; :mod:`ltrr.experiments.benchmark`);
- the study's metrics (:mod:`ltrr.results.study`);
- the tests, which play a run and check it against every entry (``tests/evaluation/test_metric_registry.py``).

This is a fixed table of ltrr's own measurements, not a registry of plug-in components
(:mod:`ltrr.registry`): a new metric is computed in ``run_metrics`` and declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Metric:
    """One metric of a run.

    ``name``: its key in a record's ``metrics``. ``label``: its leaderboard column header
    (None: not a column). ``better``: ``"max"`` or ``"min"`` for a column that ranks (its best
    entry is marked), None for one that describes (candidates drawn, arm calls) or a count.
    ``per_topic``: it has a value at every step, so each run also gives its per-topic means
    (the topic-level tests' input) and its learning curve. ``tunable``: a ``[tuning]`` table
    may choose settings by it (the largest mean wins, so it must be ``"max"``). ``tested``:
    the leaderboard's paired tests compare it, by seed and by topic (so it must be per-topic).
    ``record``: the kind of value every record must carry (a kind of
    :data:`ltrr.results.records.RECORD_FIELDS`), None when records may lack it; an optional
    column is shown only when some record has it. ``terminal``: whether ``ltrr run``'s closing
    summary prints it (``"nonzero"``: only when some run's mean is not zero)."""

    name: str
    label: str | None = None
    better: Literal["max", "min"] | None = None
    per_topic: bool = False
    tunable: bool = False
    tested: bool = False
    record: str | None = None
    terminal: Literal["always", "nonzero"] | None = None

    def __post_init__(self) -> None:
        if self.tunable and self.better != "max":
            raise ValueError(f"metric {self.name!r}: tuning keeps the largest mean, so a "
                             "tunable metric must be better='max'")
        if self.tested and not (self.per_topic and self.better and self.label):
            raise ValueError(f"metric {self.name!r}: a tested metric needs per-topic values, "
                             "a direction and a leaderboard column")
        if self.terminal and not self.label:
            raise ValueError(f"metric {self.name!r}: only leaderboard columns are printed")


# in the order of a record's ``metrics``, of the leaderboard's columns and of their tests
METRICS: tuple[Metric, ...] = (
    Metric("reward", "reward", "max", per_topic=True, tunable=True, tested=True,
           record="number", terminal="always"),
    Metric("clicks", better="max", tunable=True),
    Metric("expected_reward", better="max", tunable=True),
    Metric("candidate_recall", "recall@B", "max", per_topic=True, tunable=True, tested=True,
           record="number", terminal="always"),
    Metric("any_relevant", "any-rel", "max", record="number"),
    Metric("ndcg@10", "nDCG@10", "max", per_topic=True, tunable=True, tested=True,
           record="number", terminal="always"),
    Metric("steps_without_relevant", record="count"),
    Metric("regret_oracle", "regret(oracle)", "min", record="number", terminal="always"),
    Metric("regret_best_fixed", "regret(best fixed)", "min", record="number"),
    Metric("regret_oracle_first_half", "regret 1st half", "min", record="number"),
    Metric("regret_oracle_second_half", "regret 2nd half", "min", record="number"),
    Metric("candidates_drawn", "cands", record="number"),
    Metric("arm_calls", "arm calls", record="number"),
    Metric("cost", "cost", "min", record="number", terminal="nonzero"),
    Metric("latency_ms", "latency ms", "min", terminal="always"),
    Metric("latency_p95_ms", "p95 ms", "min"),
    Metric("probe_arm_calls", record="count"),
    Metric("probe_candidates", record="count"),
    Metric("probe_cost", record="finite"),
    Metric("best_fixed_plan"),
    Metric("mean_propensity"),
)
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
# the metric that picks the leaderboard's best learning policy, fills its selection x ranking
# table and draws the learned rankers' learning-curve plot
HEADLINE = "ndcg@10"
TUNABLE = tuple(m.name for m in METRICS if m.tunable)
PER_TOPIC = tuple(m.name for m in METRICS if m.per_topic)
COLUMNS = tuple(m for m in METRICS if m.label)


def label_of(name: str) -> str:
    """A metric's column header (its name when it is not a column)."""
    return BY_NAME[name].label or name


def ordered(values: dict) -> dict:
    """``values`` (a run's metrics) in the declared order. A key that is not declared, or a
    metric every record must carry that is missing, is a mistake in ltrr (ValueError): every
    metric enters records through this table."""
    unknown = [k for k in values if k not in BY_NAME]
    missing = [m.name for m in METRICS if m.record and m.name not in values]
    if unknown or missing:
        raise ValueError(f"run metrics not declared in ltrr.evaluation.registry: {unknown}; "
                         f"declared as required but missing: {missing}")
    return {m.name: values[m.name] for m in METRICS if m.name in values}


def shown(records: list[dict]) -> list[Metric]:
    """The leaderboard's columns for ``records``: every column records must carry, and each
    optional one that some record has."""
    return [m for m in COLUMNS
            if m.record or any(m.name in r.get("metrics", {}) for r in records)]
