"""Measuring each arm on its own: effectiveness per arm, per intent and for head queries.

:func:`measure_arms` runs every requested arm over a dataset's test topics (the ``split ==
"test"`` rows when topics have a ``split`` column, else all), times index loading/building and
retrieval, and evaluates the runs with ``pt.Experiment`` (ir_measures). Topic groups: ``all``;
``intent=<x>`` for each intent when topics have an ``intent`` column, ``collection=<x>`` for
each source collection when they have a ``collection`` column (``ltrr:mixed``); ``head`` for
``head == True`` rows when they have a ``head`` column.

Datasets scored with BEIR's ``ignore_identical_ids`` (``Dataset.meta``; see
:mod:`ltrr.datasets.identical_ids`): each arm is asked for ``depth + 1`` results, a document
whose id equals the query id is dropped and the run cut to ``depth``, as BEIR's own
retrievers and evaluator do; the report's notes say how many such self-hits each arm returned.

The memory arm is measured after a warm-up when the topics have ``split == "train"`` rows
(:func:`warm_up_memory`): each train topic whose query text no test topic asks
(:func:`ltrr.datasets.splits.split_topics`) is issued once, in topic order; the page shown for it
is the union of the top-10 of every measured arm (the memory in its cold, predicted-query
state); a perfect-click user clicks every shown document that the qrels judge relevant
(label > 0); those clicks go to ``memory.update(query, clicked)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from ltrr.arms import build_arm
from ltrr.arms.base import Arm
from ltrr.datasets.base import Dataset
from ltrr.datasets.identical_ids import ignores_identical_ids, retrieve
from ltrr.datasets.splits import split_topics, topic_groups
from ltrr.errors import InputError

MEASURES = ("nDCG@10", "R@100", "R@1000", "RR")
# Topic columns whose values name groups of topics measured on their own.
WARMUP_PAGE = 10
WARMUP_DESCRIPTION = (
    "memory warm-up: each split=='train' topic whose query text no test topic asks issued once, "
    f"in order; shown page = union of the top-{WARMUP_PAGE} of every measured arm (memory cold); "
    "a perfect-click user clicks every shown document with qrels label > 0; clicks feed "
    "memory.update(query, clicked)")


@dataclass
class ArmTiming:
    """How long an arm took: index (build or load) and retrieval, and where the index came from."""

    index_source: str
    index_seconds: float
    retrieve_seconds: float = 0.0


@dataclass
class ArmsReport:
    """Everything ``ltrr arms`` prints, also as JSON (:meth:`to_dict`)."""

    dataset: str
    depth: int
    measures: list[str]
    n_topics: int
    timings: dict[str, ArmTiming]
    groups: dict[str, pd.DataFrame]            # group -> frame (arm x measures)
    group_sizes: dict[str, int]
    warmup: dict | None = None
    total_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)
    self_hits: dict[str, int] | None = None    # per arm, when ignore_identical_ids applied

    @property
    def key_measure(self) -> str:
        """The measure groups are compared by: R@100 (candidate recall) when measured."""
        return "R@100" if "R@100" in self.measures else self.measures[0]

    def best(self, group: str) -> tuple[str, float]:
        """(best arm, its lead over the runner-up) in ``group`` by :attr:`key_measure`."""
        values = self.groups[group][self.key_measure].sort_values(ascending=False)
        lead = values.iloc[0] - values.iloc[1] if len(values) > 1 else float("nan")
        return str(values.index[0]), float(lead)

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset, "depth": self.depth, "measures": self.measures,
            "n_topics": self.n_topics, "total_seconds": round(self.total_seconds, 3),
            "arms": {name: {"index_source": t.index_source,
                            "index_seconds": round(t.index_seconds, 3),
                            "retrieve_seconds": round(t.retrieve_seconds, 3),
                            "settings": self.descriptions.get(name, "")}
                     for name, t in self.timings.items()},
            "key_measure": self.key_measure,
            "groups": {g: {"n_queries": self.group_sizes[g],
                           "best": self.best(g)[0], "lead": self.best(g)[1],
                           "arms": {arm: {m: float(row[m]) for m in self.measures}
                                    for arm, row in frame.iterrows()}}
                       for g, frame in self.groups.items()},
            "warmup": self.warmup, "notes": self.notes,
            "ignore_identical_ids": self.self_hits is not None, "self_hits_dropped": self.self_hits,
        }

    def table(self) -> str:
        """The results as one readable text table (group, arm, measures, queries)."""
        rows = []
        for group, frame in self.groups.items():
            best = self.best(group)[0]
            for arm, row in frame.iterrows():
                rows.append({"group": group, "arm": arm, **{m: row[m] for m in self.measures},
                             "queries": self.group_sizes[group],
                             "best": "*" if arm == best else ""})
        table = pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.4f}")
        timing = pd.DataFrame([{"arm": n, "index": t.index_source,
                                "index_s": t.index_seconds, "retrieve_s": t.retrieve_seconds}
                               for n, t in self.timings.items()])
        lines = [f"dataset {self.dataset}: {self.n_topics} test topics, depth {self.depth}",
                 f"(* = best arm of the group by {self.key_measure})", "", table, "", timing.to_string(index=False, float_format=lambda x: f"{x:.2f}")]
        if self.warmup:
            lines += ["", WARMUP_DESCRIPTION,
                      f"  {self.warmup['topics']} train topics, {self.warmup['clicks']} clicks, "
                      f"shown pages from arms {', '.join(self.warmup['shown_by'])}, "
                      f"{self.warmup.get('seconds', 0.0):.1f} s"]
        lines += [*self.notes, "", f"total wall time {self.total_seconds:.1f} s"]
        return "\n".join(lines)


def warm_up_memory(memory: Arm, arms: dict[str, Arm], dataset: Dataset) -> dict | None:
    """Feed the memory perfect clicks on the train topics (see the module docstring)."""
    train = split_topics(dataset.topics, "train")
    if not len(train):
        return None
    queries = train[["qid", "query"]].reset_index(drop=True)
    shown: dict[str, set[str]] = {qid: set() for qid in queries["qid"]}
    for arm in arms.values():
        run, _ = retrieve(arm, queries, WARMUP_PAGE, ignores_identical_ids(dataset))
        for qid, docno in zip(run["qid"], run["docno"]):
            shown[qid].add(docno)
    qrels = dataset.qrels[dataset.qrels["label"] > 0]
    relevant = qrels.groupby("qid")["docno"].apply(set).to_dict()
    clicks = 0
    for qid, query in zip(queries["qid"], queries["query"]):
        clicked = sorted(shown[qid] & relevant.get(qid, set()))
        memory.update(query, clicked)
        clicks += len(clicked)
    return {"topics": len(queries), "clicks": clicks, "shown_by": list(arms),
            "page": WARMUP_PAGE, "description": WARMUP_DESCRIPTION}


def identical_ids_line(self_hits: dict[str, int], depth: int) -> str:
    """The note saying that BEIR's convention was applied and what it removed, per arm."""
    counts = ", ".join(f"{arm} {n}" for arm, n in self_hits.items())
    return (f"ignore_identical_ids (BEIR's convention for this dataset): each arm asked for "
            f"{depth + 1} results, documents whose id equals the query id dropped, runs cut to "
            f"{depth}; self-hits dropped per arm: {counts}")


def evaluate(runs: dict[str, pd.DataFrame], topics: pd.DataFrame, qrels: pd.DataFrame,
             measures: list[str]) -> pd.DataFrame:
    """Mean of ``measures`` per arm on ``topics`` via ``pt.Experiment`` (arm-indexed frame).

    Queries an arm returns nothing for count as 0 (pt.Experiment averages over all judged
    topics); an arm with no results at all on ``topics`` (which pt.Experiment refuses) scores 0.
    """
    import ir_measures
    import pyterrier as pt

    parsed = [ir_measures.parse_measure(m) for m in measures]
    qids = set(topics["qid"])
    systems = {name: run[run["qid"].isin(qids)][["qid", "docno", "score", "rank"]]
               for name, run in runs.items()}
    found = {name: run for name, run in systems.items() if len(run)}
    res = pd.DataFrame(0.0, index=pd.Index(list(runs), name="name"), columns=measures)
    if found:
        exp = pt.Experiment(list(found.values()), topics[["qid", "query"]], qrels, parsed,
                            names=list(found), verbose=False).set_index("name")
        exp.columns = [str(c) for c in exp.columns]
        res.loc[list(found)] = exp.loc[list(found), [str(m) for m in parsed]].to_numpy()
    return res


def measure_arms(dataset: Dataset, arm_names: list[str], depth: int = 1000,
                 measures: list[str] | tuple[str, ...] = MEASURES,
                 arm_params: dict[str, dict] | None = None) -> ArmsReport:
    """Build/load each arm, warm up the memory, run the test topics and evaluate per group."""
    start = time.perf_counter()
    measures = list(measures)
    test = split_topics(dataset.topics, "test")
    if not len(test):
        raise InputError(f"dataset '{dataset.id}' has no test topics to measure arms on",
                         field="split")
    arms, timings = {}, {}
    for name in arm_names:
        arm = build_arm(name, dataset, num_results=depth, **(arm_params or {}).get(name, {}))
        t0 = time.perf_counter()
        arm.load()
        timings[name] = ArmTiming(arm.index_source, time.perf_counter() - t0)
        arms[name] = arm
    warmup = None
    if "memory" in arms:
        t0 = time.perf_counter()
        warmup = warm_up_memory(arms["memory"], arms, dataset)
        if warmup is not None:
            warmup["seconds"] = round(time.perf_counter() - t0, 3)
    queries = test.reset_index(drop=True)
    ignore_identical = ignores_identical_ids(dataset)
    runs, self_hits = {}, {}
    for name, arm in arms.items():
        t0 = time.perf_counter()
        runs[name], self_hits[name] = retrieve(arm, queries[["qid", "query"]], depth,
                                               ignore_identical)
        timings[name].retrieve_seconds = time.perf_counter() - t0
    groups, sizes = {}, {}
    for group, topics in topic_groups(queries).items():
        judged = topics[topics["qid"].isin(set(dataset.qrels["qid"]))]
        if not len(judged):
            continue
        groups[group] = evaluate(runs, judged, dataset.qrels, measures)
        sizes[group] = len(judged)
    descriptions = {name: arm.describe() for name, arm in arms.items()}
    notes = ["", "arm settings:"] + [f"  {d}" for d in descriptions.values()]
    if ignore_identical:
        notes += ["", identical_ids_line(self_hits, depth)]
    return ArmsReport(dataset.id, depth, measures, len(queries), timings, groups, sizes, warmup,
                      time.perf_counter() - start, notes, descriptions,
                      self_hits if ignore_identical else None)
