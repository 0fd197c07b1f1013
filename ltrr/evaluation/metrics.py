"""Per-run metrics of an interaction trace: reward, candidate recall, nDCG@10, cost, curves.

- reward: realised clicks minus cost per query (what the policy saw); expected reward:
  the same in expectation under the click model (the simulator's truth);
- candidate recall: relevant documents (released so far) in the union the chosen plan
  drew, over the topic's relevant documents released so far; any-relevant: whether the
  union held one;
- nDCG@10 of the shown page, by ir_measures against the dataset's original graded qrels
  without the relevant documents not released yet (the ideal ranking is the one that was
  possible at that step);
- recall, any-relevant and nDCG are undefined at a step whose topic has no released
  relevant document: such steps are left out of those three means, and counted
  (``steps_without_relevant``); reward, cost and regret count every step;
- cost: candidates drawn and arms called per query, the post-retrieval probe included
  when the run paid for it (also reported on its own: ``probe_*``);
- learning curves: means over consecutive windows of the stream;
- per topic (:func:`per_topic`): each visited topic's mean reward, recall and nDCG, for
  the topic-level paired tests of the leaderboard.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.evaluation.regret import regret_summary


def ndcg_per_step(trace, world, cutoff: int = 10) -> np.ndarray:
    """nDCG@cutoff of each shown page, computed by ir_measures; NaN where the topic had no
    released relevant document.

    Pages repeat (head queries, converged policies), so each distinct (topic, released
    relevant documents, page) is evaluated once and the value mapped back to its steps; the
    numbers are those of evaluating one query per step against the qrels of that step (the
    topic's qrels less its relevant documents not yet out). Frames are assembled with numpy
    (no per-page DataFrames), so a 10,000-step run evaluates in about a second.
    """
    import ir_measures

    keys = np.concatenate([trace.topic[:, None], trace.n_relevant[:, None], trace.shown], axis=1)
    unique, combo = np.unique(keys, axis=0, return_inverse=True)
    combo = combo.ravel()
    topic_of, n_rel, pages = unique[:, 0], unique[:, 1], unique[:, 2:]
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
    starts = np.searchsorted(q_topic, topic_of, side="left")
    ends = np.searchsorted(q_topic, topic_of, side="right")
    docnos = world.vocab.docnos
    rows, owner = [], []
    for i, (t, m, a, b) in enumerate(zip(topic_of, n_rel, starts, ends)):
        if m == 0:
            continue
        later = world.relevant_by_release[t][m:]  # relevant, not out yet: not in the ideal
        at = np.arange(a, b)
        if len(later):
            at = at[~np.isin(q_doc[at], docnos[later])]
        rows.append(at)
        owner.append(np.full(len(at), i))
    rows = np.concatenate(rows) if rows else np.empty(0, np.int64)
    owner = np.concatenate(owner) if owner else np.empty(0, np.int64)
    judged = pd.DataFrame({"query_id": names[owner], "doc_id": q_doc[rows],
                           "relevance": q_label[rows]})
    values = np.where(n_rel > 0, 0.0, np.nan)
    if len(judged) and len(run):
        measure = ir_measures.parse_measure(f"nDCG@{cutoff}")
        for m in ir_measures.iter_calc([measure], judged, run):
            values[int(m.query_id[1:])] = m.value
    return values[combo]


def windowed(values: np.ndarray, windows: int = 20) -> list[float]:
    """Means of ``values`` over ``windows`` consecutive, near-equal parts of the stream
    (NaN entries left out; a window of only NaN gives NaN)."""
    parts = np.array_split(np.asarray(values, dtype=float), min(windows, max(len(values), 1)))
    return [float(np.nanmean(p)) if len(p) and not np.isnan(p).all() else float("nan")
            for p in parts]


def per_topic(trace, ndcg: np.ndarray, topics: pd.DataFrame) -> pd.DataFrame:
    """Each visited topic's ``steps``, ``judged_steps`` (with a released relevant document)
    and mean ``reward``, ``candidate_recall``, ``ndcg@10`` (the last two over judged steps;
    NaN when it has none)."""
    frame = pd.DataFrame({"topic": trace.topic, "reward": trace.reward,
                          "candidate_recall": trace.recall, "ndcg@10": ndcg,
                          "judged": trace.n_relevant > 0})
    grouped = frame.groupby("topic", sort=True)
    out = grouped[["reward", "candidate_recall", "ndcg@10"]].mean()  # pandas skips NaN
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
    return metrics, curves, per_topic(trace, ndcg, world.topics)
