"""Per-run metrics of an interaction trace: reward, candidate recall, nDCG@10, cost, curves.

- reward: realised clicks minus cost per query (what the policy saw); expected reward:
  the same in expectation under the click model (the simulator's truth);
- candidate recall: relevant documents (released so far) in the union the chosen plan
  drew, over the topic's relevant documents; any-relevant: whether the union held one;
- nDCG@10 of the shown page, by ir_measures against the dataset's original graded qrels
  (each interaction is one query of the run: ``qid`` per step);
- cost: candidates drawn and arms called per query;
- learning curves: means over consecutive windows of the stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.evaluation.regret import regret_summary


def ndcg_per_step(trace, world, cutoff: int = 10) -> np.ndarray:
    """nDCG@cutoff of each shown page, computed by ir_measures.

    Pages repeat (head queries, converged policies), so each distinct (topic, page)
    pair is evaluated once and the value mapped back to its steps; the numbers are those
    of evaluating one query per step. Frames are assembled with numpy (no per-page
    DataFrames), so a 10,000-step run evaluates in about a second.
    """
    import ir_measures

    keys = np.concatenate([trace.topic[:, None], trace.shown], axis=1)
    unique, combo = np.unique(keys, axis=0, return_inverse=True)
    combo = combo.ravel()
    pages = unique[:, 1:]
    filled = pages >= 0
    n = len(unique)
    names = np.array([f"c{i}" for i in range(n)], dtype=object)
    run = pd.DataFrame({
        "query_id": np.repeat(names, filled.sum(axis=1)),
        "doc_id": world.vocab.docnos[pages[filled]].astype(object),
        "score": np.tile(np.arange(pages.shape[1], 0, -1, dtype=float), (n, 1))[filled],
    })
    qrels = world.dataset.qrels
    qpos = pd.Series(np.arange(len(world.topics)), index=world.topics["qid"].astype(str))
    q_topic = qpos.reindex(qrels["qid"].astype(str)).to_numpy()
    known = ~np.isnan(q_topic)
    q_topic = q_topic[known].astype(np.int64)
    q_doc = qrels["docno"].astype(str).to_numpy()[known]
    q_label = qrels["label"].astype(int).to_numpy()[known]
    order = np.argsort(q_topic, kind="stable")
    q_topic, q_doc, q_label = q_topic[order], q_doc[order], q_label[order]
    starts = np.searchsorted(q_topic, unique[:, 0], side="left")
    ends = np.searchsorted(q_topic, unique[:, 0], side="right")
    counts = ends - starts
    rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if n else \
        np.empty(0, np.int64)
    judged = pd.DataFrame({"query_id": np.repeat(names, counts), "doc_id": q_doc[rows],
                           "relevance": q_label[rows]})
    values = np.zeros(n)
    if len(judged) and len(run):
        measure = ir_measures.parse_measure(f"nDCG@{cutoff}")
        for m in ir_measures.iter_calc([measure], judged, run):
            values[int(m.query_id[1:])] = m.value
    return values[combo]


def windowed(values: np.ndarray, windows: int = 20) -> list[float]:
    """Means of ``values`` over ``windows`` consecutive, near-equal parts of the stream."""
    parts = np.array_split(np.asarray(values, dtype=float), min(windows, max(len(values), 1)))
    return [float(p.mean()) if len(p) else 0.0 for p in parts]


def run_metrics(trace, world, windows: int = 20, checkpoints: int = 100) -> tuple[dict, dict]:
    """``(metrics, curves)`` of one run: scalars for the leaderboard, lists for plots."""
    ndcg = ndcg_per_step(trace, world)
    expected_chosen = trace.expected[np.arange(len(trace.plan)), trace.plan]
    regret = regret_summary(trace.expected, trace.plan)
    drawn = trace.drawn.sum(axis=1)
    calls = world.arm_calls[trace.plan]
    shares = np.bincount(trace.plan, minlength=len(world.plan_ids)) / max(len(trace.plan), 1)
    metrics = {
        "reward": float(trace.reward.mean()),
        "clicks": float(trace.clicks_total.mean()),
        "expected_reward": float(expected_chosen.mean()),
        "candidate_recall": float(trace.recall.mean()),
        "any_relevant": float(trace.any_relevant.mean()),
        "ndcg@10": float(ndcg.mean()),
        "regret_oracle": regret["oracle"],
        "regret_best_fixed": regret["best_fixed"],
        "regret_oracle_first_half": regret["oracle_first_half"],
        "regret_oracle_second_half": regret["oracle_second_half"],
        "candidates_drawn": float(drawn.mean()),
        "arm_calls": float(calls.mean()),
        "cost": float(trace.cost.mean()),
        "best_fixed_plan": world.plan_ids[regret["best_fixed_plan"]],
        "mean_propensity": float(trace.propensity.mean()),
    }
    n = len(trace.plan)
    marks = np.unique(np.linspace(0, n - 1, min(checkpoints, n)).round().astype(int))
    curves = {
        "steps": (marks + 1).tolist(),
        "regret_oracle": regret["oracle_curve"][marks].tolist(),
        "regret_best_fixed": regret["best_fixed_curve"][marks].tolist(),
        "reward": windowed(trace.reward, windows),
        "candidate_recall": windowed(trace.recall, windows),
        "ndcg@10": windowed(ndcg, windows),
        "plan_share": {pid: float(s) for pid, s in zip(world.plan_ids, shares) if s > 0},
    }
    return metrics, curves
