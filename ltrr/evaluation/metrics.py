"""Per-run metrics of an interaction trace: reward, candidate recall, nDCG@10, cost, curves.

- reward: the realised reward (the benchmark's ``[reward]``: clicks by default) minus cost
  per query (what the policy saw); expected reward: the same in expectation under the click
  model (the simulator's truth);
- candidate recall: relevant documents (released so far) in the union the chosen plan
  drew, over the topic's relevant documents released so far; any-relevant: whether the
  union held one;
- nDCG@10 of the shown page, as ir_measures computes it (checked in the tests), against the
  dataset's original graded qrels without the relevant documents not released yet (the
  ideal ranking is the one that was possible at that step);
- recall, any-relevant and nDCG are undefined at a step whose topic has no released
  relevant document: such steps are left out of those three means, and counted
  (``steps_without_relevant``); reward, cost and regret count every step;
- cost: candidates drawn and arms called per query, the post-retrieval probe included
  when the run paid for it (also reported on its own: ``probe_*``);
- learning curves: means over consecutive windows of the stream;
- per topic (:func:`per_topic`): each visited topic's mean reward, recall and nDCG, for
  the topic-level paired tests of the leaderboard;
- latency, when the trace carries each step's (``latency``, ms): its mean and 95th
  percentile over the stream.

Which metrics a run has, and in which order a record holds them, is declared in
:mod:`ltrr.evaluation.registry`; a metric computed here must be declared there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from ltrr.evaluation.registry import PER_TOPIC, ordered
from ltrr.evaluation.regret import regret_summary
from ltrr.kernel.pools import find_sorted


def ndcg_per_step(trace, world, cutoff: int = 10) -> np.ndarray:
    """nDCG@cutoff of each shown page against the qrels of that step (the topic's qrels less
    its relevant documents not yet released); NaN where the topic had no released relevant
    document.

    The measure is ir_measures' ``nDCG@10`` (trec_eval's ``ndcg_cut``: gain = the qrels
    label, discount ``log2(rank + 1)``, the ideal ranking of the judged documents), computed
    by :func:`page_ndcg`, compiled, because a benchmark evaluates millions of pages; the
    tests check it against ir_measures on random pages.
    """
    tb = world.tables
    return page_ndcg(np.ascontiguousarray(trace.topic, dtype=np.int64),
                     np.ascontiguousarray(trace.n_relevant, dtype=np.int64),
                     np.ascontiguousarray(trace.shown, dtype=np.int64), tb.g_off, tb.g_ids,
                     tb.g_label, tb.g_release, tb.r_off, tb.r_label, int(cutoff))


@njit(cache=True)
def page_ndcg(topic: np.ndarray, n_relevant: np.ndarray, shown: np.ndarray, g_off: np.ndarray,
              g_ids: np.ndarray, g_label: np.ndarray, g_release: np.ndarray, r_off: np.ndarray,
              r_label: np.ndarray, cutoff: int) -> np.ndarray:
    """nDCG@cutoff per step (see :func:`ndcg_per_step`): ``g_*`` the topics' judged relevant
    documents (ascending ids), labels and places in release order, ``r_*`` the labels in
    release order (the first ``n_relevant[i]`` are out, and judged, at step ``i``)."""
    out = np.full(topic.shape[0], np.nan)
    labels = np.empty(0, dtype=np.int64)
    for i in range(topic.shape[0]):
        n = n_relevant[i]
        if n == 0:
            continue
        t = topic[i]
        dcg = 0.0
        for j in range(min(cutoff, shown.shape[1])):
            d = shown[i, j]
            if d < 0:
                continue
            at = find_sorted(g_ids, g_off[t], g_off[t + 1], d)
            if at >= 0 and g_release[at] < n:
                dcg += g_label[at] / np.log2(j + 2.0)
        if labels.shape[0] < n:
            labels = np.empty(n, dtype=np.int64)
        for j in range(n):
            labels[j] = r_label[r_off[t] + j]
        ideal = np.sort(labels[:n])[::-1]
        idcg = 0.0
        for j in range(min(cutoff, n)):
            idcg += ideal[j] / np.log2(j + 2.0)
        out[i] = dcg / idcg if idcg > 0 else 0.0
    return out


def windowed(values: np.ndarray, windows: int = 20) -> list[float]:
    """Means of ``values`` over ``windows`` consecutive, near-equal parts of the stream
    (NaN entries left out; a window of only NaN gives NaN)."""
    parts = np.array_split(np.asarray(values, dtype=float), min(windows, max(len(values), 1)))
    return [float(np.nanmean(p)) if len(p) and not np.isnan(p).all() else float("nan")
            for p in parts]


def per_step(trace, ndcg: np.ndarray) -> dict[str, np.ndarray]:
    """The value at every step of each per-topic metric (:data:`~ltrr.evaluation.registry.
    PER_TOPIC`): reward, candidate recall and nDCG@10 (the last two NaN where the topic had no
    released relevant document)."""
    steps = {"reward": trace.reward, "candidate_recall": trace.recall, "ndcg@10": ndcg}
    return {name: steps[name] for name in PER_TOPIC}


def per_topic(trace, ndcg: np.ndarray, topics: pd.DataFrame) -> pd.DataFrame:
    """Each visited topic's ``steps``, ``judged_steps`` (with a released relevant document)
    and mean of each per-topic metric (reward, ``candidate_recall``, ``ndcg@10``; the last two
    over judged steps, NaN when it has none)."""
    frame = pd.DataFrame({"topic": trace.topic, **per_step(trace, ndcg),
                          "judged": trace.n_relevant > 0})
    grouped = frame.groupby("topic", sort=True)
    out = grouped[list(PER_TOPIC)].mean()  # pandas skips NaN
    out.insert(0, "judged_steps", grouped["judged"].sum().astype(np.int64))
    out.insert(0, "steps", grouped.size().astype(np.int64))
    out.insert(0, "qid", topics["qid"].astype(str).to_numpy()[out.index.to_numpy()])
    return out.reset_index(drop=True)


def run_metrics(trace, world, windows: int = 20, checkpoints: int = 100
                ) -> tuple[dict, dict, pd.DataFrame]:
    """``(metrics, curves, per_topic)`` of one run: scalars for the leaderboard, lists for
    plots, per-topic means for topic-level tests."""
    ndcg = ndcg_per_step(trace, world)
    judged = trace.n_relevant > 0
    expected_chosen = trace.expected[np.arange(len(trace.plan)), trace.plan] - trace.probe_cost
    regret = regret_summary(trace.expected, trace.plan, trace.probe_cost)
    drawn = trace.drawn.sum(axis=1) + trace.probe_candidates
    calls = world.arm_calls[trace.plan] + trace.probe_calls
    shares = np.bincount(trace.plan, minlength=len(world.plan_ids)) / max(len(trace.plan), 1)

    def judged_mean(values: np.ndarray) -> float:
        return float(np.mean(values[judged])) if judged.any() else float("nan")

    metrics = {
        "reward": float(trace.reward.mean()),
        "clicks": float(trace.clicks_total.mean()),
        "expected_reward": float(expected_chosen.mean()),
        "candidate_recall": judged_mean(trace.recall),
        "any_relevant": judged_mean(trace.any_relevant.astype(float)),
        "ndcg@10": judged_mean(ndcg),
        "steps_without_relevant": int((~judged).sum()),
        "regret_oracle": regret["oracle"],
        "regret_best_fixed": regret["best_fixed"],
        "regret_oracle_first_half": regret["oracle_first_half"],
        "regret_oracle_second_half": regret["oracle_second_half"],
        "candidates_drawn": float(drawn.mean()),
        "arm_calls": float(calls.mean()),
        "cost": float(trace.cost.mean()),
        "probe_arm_calls": int(trace.probe_calls),
        "probe_candidates": int(trace.probe_candidates),
        "probe_cost": float(trace.probe_cost),
        "best_fixed_plan": world.plan_ids[regret["best_fixed_plan"]],
        "mean_propensity": float(trace.propensity.mean()),
    }
    latency = getattr(trace, "latency", None)
    if latency is not None:
        metrics["latency_ms"] = float(np.mean(latency))
        metrics["latency_p95_ms"] = float(np.percentile(latency, 95))
    n = len(trace.plan)
    marks = np.unique(np.linspace(0, n - 1, min(checkpoints, n)).round().astype(int))
    curves = {
        "steps": (marks + 1).tolist(),
        "regret_oracle": regret["oracle_curve"][marks].tolist(),
        "regret_best_fixed": regret["best_fixed_curve"][marks].tolist(),
        **{name: windowed(values, windows) for name, values in per_step(trace, ndcg).items()},
        "plan_share": {pid: float(s) for pid, s in zip(world.plan_ids, shares) if s > 0},
    }
    return ordered(metrics), curves, per_topic(trace, ndcg, world.topics)
