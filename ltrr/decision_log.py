"""The decision log, ltrr's logged-data format: one row per decision, the input of ``ltrr ope``.

One module owns the format: the loop's runs (:func:`trace_decisions`) and the PyTerrier
:class:`~ltrr.selection.selector.Selector` (:func:`decision_table`) write it, and
:mod:`ltrr.ope.schema` reads it with the same names. Columns (``docs/decision-log.md``)::

    step, timestamp (= step), qid, query, ctx_<feature>..., action (plan id),
    action_index, propensity, action_set ("|"-joined plan ids, in index order),
    reward (the page's reward - cost), clicks_total, cost (the plan's and the probe's),
    probe_cost, candidates_<arm>..., shown (list of docnos), clicks (list of 0/1 per shown
    position)[, awaiting_feedback][, pscore, pscore_cascade, pscore_item_position,
    pscore_positions[, evaluation_policy_pscore, evaluation_policy_pscore_cascade,
    evaluation_policy_pscore_item_position]]

The context columns hold exactly the vector the policy saw; ``propensity`` is the
probability the policy gave the chosen plan at decision time. A selector's log also has
``awaiting_feedback``: True on a decision whose reward is not known yet (its ``reward`` is
empty), which ``ltrr ope`` leaves out. A run that explored (``[ranking] logging =
"plackett-luce"``) also has the shown pages' probabilities under the logging ranker, lists
per shown position with obp's slate names (``ltrr ope --pages`` reads them as they are):
``pscore`` the whole page's (repeated per position), ``pscore_cascade`` the page's top
``k + 1``'s, ``pscore_item_position`` the item's at its position, and ``pscore_positions``
the item's at each position (a list of lists); with ``[ranking] target``, the trained
ranker's as obp's ``evaluation_policy_pscore``, ``..._cascade`` and ``..._item_position``
(1 where its page agrees with the shown one, else 0). The file is written to a temporary
name and renamed, so a log on disk is always complete.
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
                   steps: np.ndarray | None = None,
                   page_pscores: dict[str, list] | None = None) -> pd.DataFrame:
    """A decision log from its columns as arrays over decisions (``drawn`` ``(n, arms)``,
    ``shown``/``clicks`` lists per decision; ``page_pscores``: an exploring run's page
    probability columns, lists per decision)."""
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
    frame.update(page_pscores or {})
    return pd.DataFrame(frame)


def trace_decisions(trace, world, feature_names: list[str]) -> pd.DataFrame:
    """The decision log of one run of the loop (a :class:`~ltrr.simulation.loop.Trace` in
    its :class:`~ltrr.simulation.world.World`)."""
    topics = world.topics.iloc[trace.topic]
    docnos = world.vocab.docnos
    lengths = (trace.shown >= 0).sum(axis=1)
    return decision_table(
        qids=topics["qid"].astype(str).to_numpy(), queries=topics["query"].astype(str).to_numpy(),
        contexts=trace.contexts, feature_names=feature_names, plan_ids=world.plan_ids,
        plan=trace.plan, propensity=trace.propensity, reward=trace.reward,
        clicks_total=trace.clicks_total, cost=trace.cost,
        probe_cost=np.full(len(trace.plan), float(trace.probe_cost)),
        arm_names=world.arm_names, drawn=trace.drawn,
        shown=[docnos[row[row >= 0]].tolist() for row in trace.shown],
        clicks=[c[:n].tolist() for c, n in zip(trace.clicks, lengths)],
        page_pscores=None if trace.pages is None else _page_pscores(trace.pages, trace.shown,
                                                                    lengths))


def _page_pscores(pages, shown: np.ndarray, lengths: np.ndarray) -> dict[str, list]:
    """The page probability columns of an exploring run's
    :class:`~ltrr.simulation.loop.PageProbabilities` (lists over each page's shown positions)."""
    cascade = [c[:n].tolist() for c, n in zip(pages.cascade, lengths)]
    columns = {"pscore": [[c[-1]] * len(c) if c else [] for c in cascade],
               "pscore_cascade": cascade,
               "pscore_item_position": [p[:n].tolist()
                                        for p, n in zip(pages.item_position, lengths)],
               "pscore_positions": [p[:n].tolist() for p, n in zip(pages.positions, lengths)]}
    if pages.target is not None:  # a deterministic target: 1 where it agrees, else 0
        agree = [(t[:n] == s[:n]).astype(float) for t, s, n in zip(pages.target, shown, lengths)]
        prefix = [np.cumprod(a) for a in agree]
        columns.update({
            "evaluation_policy_pscore": [[float(p[-1])] * len(p) if len(p) else []
                                         for p in prefix],
            "evaluation_policy_pscore_cascade": [p.tolist() for p in prefix],
            "evaluation_policy_pscore_item_position": [a.tolist() for a in agree]})
    return columns


def write_decision_log(frame: pd.DataFrame, path: Path) -> None:
    """Write the log as Parquet (zstd), atomically."""
    write_atomically(Path(path), lambda tmp: frame.to_parquet(tmp, index=False,
                                                              compression="zstd"))
