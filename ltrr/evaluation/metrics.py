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
    of evaluating one query per step.
    """
    import ir_measures

    combos: dict[tuple[int, bytes], int] = {}
    combo = np.fromiter((combos.setdefault((int(t), row.tobytes()), len(combos))
                         for t, row in zip(trace.topic, trace.shown)), dtype=np.int64,
                        count=len(trace.topic))
    firsts = np.unique(combo, return_index=True)[1]
    run_rows, qrel_frames = [], []
    qrels = world.dataset.qrels
    qrels = qrels.assign(qid=qrels["qid"].astype(str), docno=qrels["docno"].astype(str))
    by_topic = {q: g for q, g in qrels.groupby("qid")}
    qids = world.topics["qid"].astype(str).to_numpy()
    for c, step in enumerate(firsts):
        page = trace.shown[step]
        page = page[page >= 0]
        name = f"c{c}"
        docnos = world.vocab.docnos[page]
        run_rows.append(pd.DataFrame({"query_id": name, "doc_id": docnos,
                                      "score": np.arange(len(page), 0, -1, dtype=float)}))
        judged = by_topic.get(qids[trace.topic[step]])
        if judged is not None:
            qrel_frames.append(pd.DataFrame({"query_id": name, "doc_id": judged["docno"],
                                             "relevance": judged["label"].astype(int)}))
    values = np.zeros(len(firsts))
    if qrel_frames and run_rows:
        run = pd.concat(run_rows, ignore_index=True)
        judged = pd.concat(qrel_frames, ignore_index=True)
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
    calls = (trace.drawn > 0).sum(axis=1)
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
