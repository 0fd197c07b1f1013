"""The decision log, ltrr's logged-data format: one row per decision, the input of ``ltrr ope``.

One module owns the format: the loop's runs (:func:`trace_decisions`) and the PyTerrier
:class:`~ltrr.selection.selector.Selector` (:func:`decision_table`) write it, and
:mod:`ltrr.ope.schema` reads it with the same names. Columns (``docs/decision-log.md``)::

    step, timestamp (= step), qid, query, ctx_<feature>..., action (plan id),
    action_index, propensity, action_set ("|"-joined plan ids, in index order),
    reward (the page's reward - cost), clicks_total, cost (the plan's and the probe's),
    probe_cost, candidates_<arm>..., shown (list of docnos), clicks (list of 0/1 per shown
    position)[, awaiting_feedback]

The context columns hold exactly the vector the policy saw; ``propensity`` is the
probability the policy gave the chosen plan at decision time. A selector's log also has
``awaiting_feedback``: True on a decision whose reward is not known yet (its ``reward`` is
empty), which ``ltrr ope`` leaves out. The file is written to a temporary name and renamed,
so a log on disk is always complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ltrr.paths import write_atomically

ACTION_SET_SEPARATOR = "|"
CONTEXT_PREFIX = "ctx_"
AWAITING = "awaiting_feedback"


def decision_table(*, qids: Sequence[str], queries: Sequence[str], contexts: np.ndarray,
                   feature_names: Sequence[str], plan_ids: Sequence[str], plan: np.ndarray,
                   propensity: np.ndarray, reward: np.ndarray, clicks_total: np.ndarray,
                   cost: np.ndarray, probe_cost: np.ndarray, arm_names: Sequence[str],
                   drawn: np.ndarray, shown: list, clicks: list,
                   steps: np.ndarray | None = None) -> pd.DataFrame:
    """A decision log from its columns as arrays over decisions (``drawn`` ``(n, arms)``,
    ``shown``/``clicks`` lists per decision)."""
    steps = np.arange(len(plan)) if steps is None else np.asarray(steps)
    frame = {"step": steps, "timestamp": steps, "qid": np.asarray(qids, dtype=object),
             "query": np.asarray(queries, dtype=object)}
    names = list(feature_names)
    contexts = np.asarray(contexts, dtype=float).reshape(len(steps), -1)
    if len(names) != contexts.shape[1]:
        names = [f"f{i}" for i in range(contexts.shape[1])]
    for i, name in enumerate(names):
        frame[f"{CONTEXT_PREFIX}{name}"] = contexts[:, i]
    plan = np.asarray(plan, dtype=np.int64)
    frame.update({
        "action": np.asarray(plan_ids, dtype=object)[plan] if len(plan) else np.array([], object),
        "action_index": plan,
        "propensity": np.asarray(propensity, dtype=float),
        "action_set": ACTION_SET_SEPARATOR.join(plan_ids),
        "reward": np.asarray(reward, dtype=float),
        "clicks_total": np.asarray(clicks_total),
        "cost": np.asarray(cost, dtype=float),
        "probe_cost": np.asarray(probe_cost, dtype=float),
    })
    drawn = np.asarray(drawn).reshape(len(steps), len(arm_names))
    for i, arm in enumerate(arm_names):
        frame[f"candidates_{arm}"] = drawn[:, i]
    frame["shown"] = list(shown)
    frame["clicks"] = list(clicks)
    return pd.DataFrame(frame)


def trace_decisions(trace, world, feature_names: list[str]) -> pd.DataFrame:
    """The decision log of one run of the loop (a :class:`~ltrr.simulation.loop.Trace` in
    its :class:`~ltrr.simulation.world.World`)."""
    topics = world.topics.iloc[trace.topic]
    docnos = world.vocab.docnos
    return decision_table(
        qids=topics["qid"].astype(str).to_numpy(), queries=topics["query"].astype(str).to_numpy(),
        contexts=trace.contexts, feature_names=feature_names, plan_ids=world.plan_ids,
        plan=trace.plan, propensity=trace.propensity, reward=trace.reward,
        clicks_total=trace.clicks_total, cost=trace.cost,
        probe_cost=np.full(len(trace.plan), float(trace.probe_cost)),
        arm_names=world.arm_names, drawn=trace.drawn,
        shown=[docnos[row[row >= 0]].tolist() for row in trace.shown],
        clicks=[c[: int((row >= 0).sum())].tolist() for c, row in zip(trace.clicks, trace.shown)])


def write_decision_log(frame: pd.DataFrame, path: Path) -> None:
    """Write the log as Parquet (zstd), atomically."""
    write_atomically(Path(path), lambda tmp: frame.to_parquet(tmp, index=False,
                                                              compression="zstd"))
