"""The decision log: one Parquet row per interaction, the input of off-policy evaluation.

Columns (documented in ``docs/decision-log.md``)::

    step, timestamp (= step), qid, query, ctx_<feature>..., action (plan id),
    action_index, propensity, action_set ("|"-joined plan ids, in index order),
    reward (the page's reward - cost), clicks_total, cost (the plan's and the probe's), probe_cost,
    candidates_<arm>..., shown (list of docnos), clicks (list of 0/1 per shown position)

The context columns hold exactly the vector the policy saw; ``propensity`` is the
probability the policy gave the chosen plan at decision time. The file is written to a
temporary name and renamed, so a log on disk is always complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.paths import write_atomically


def decision_frame(trace, world, feature_names: list[str]) -> pd.DataFrame:
    """The decision log of one run as a DataFrame."""
    steps = np.arange(len(trace.plan))
    topics = world.topics.iloc[trace.topic]
    frame = {"step": steps, "timestamp": steps,
             "qid": topics["qid"].astype(str).to_numpy(),
             "query": topics["query"].astype(str).to_numpy()}
    names = list(feature_names)
    if len(names) != trace.contexts.shape[1]:
        names = [f"f{i}" for i in range(trace.contexts.shape[1])]
    for i, name in enumerate(names):
        frame[f"ctx_{name}"] = trace.contexts[:, i]
    plan_ids = np.asarray(world.plan_ids, dtype=object)
    frame.update({
        "action": plan_ids[trace.plan],
        "action_index": trace.plan,
        "propensity": trace.propensity,
        "action_set": "|".join(world.plan_ids),
        "reward": trace.reward.astype(float),
        "clicks_total": trace.clicks_total,
        "cost": trace.cost.astype(float),
        "probe_cost": np.full(len(steps), float(trace.probe_cost)),
    })
    for i, arm in enumerate(world.arm_names):
        frame[f"candidates_{arm}"] = trace.drawn[:, i]
    docnos = world.vocab.docnos
    frame["shown"] = [docnos[row[row >= 0]].tolist() for row in trace.shown]
    frame["clicks"] = [c[: int((row >= 0).sum())].tolist()
                       for c, row in zip(trace.clicks, trace.shown)]
    return pd.DataFrame(frame)


def write_decision_log(frame: pd.DataFrame, path: Path) -> None:
    """Write the log as Parquet (zstd), atomically."""
    write_atomically(Path(path), lambda tmp: frame.to_parquet(tmp, index=False,
                                                              compression="zstd"))
