"""Metrics, regret, intervals and significance on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.evaluation.intervals import paired_test, t_interval
from ltrr.evaluation.metrics import ndcg_per_step, windowed
from ltrr.evaluation.regret import regret_summary


def test_regret_against_oracle_and_best_fixed():
    expected = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.5], [1.0, 0.5]])
    plan = np.array([1, 1, 1, 0])
    r = regret_summary(expected, plan)
    assert r["oracle_curve"].tolist() == [1.0, 1.0, 1.5, 1.5]
    assert r["best_fixed_plan"] == 0  # totals 3.0 vs 2.0
    assert r["best_fixed_curve"].tolist() == [1.0, 0.0, 0.5, 0.5]
    assert r["oracle_first_half"] == 1.0 and r["oracle_second_half"] == 0.5


def test_t_interval_matches_the_formula():
    mean, low, high = t_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2  # t(0.975, 3) * s / sqrt(4)
    assert mean == 2.5 and low == pytest.approx(2.5 - half) and high == pytest.approx(2.5 + half)
    assert t_interval([5.0, 5.0]) == (5.0, 5.0, 5.0)
    assert np.isnan(t_interval([1.0])[1])


def test_paired_test():
    a = [0.50, 0.52, 0.55, 0.51, 0.53]
    b = [0.40, 0.43, 0.44, 0.42, 0.41]
    out = paired_test(a, b)
    assert out["mean_diff"] == pytest.approx(0.102)
    assert out["t_pvalue"] < 1e-4
    assert out["permutation_pvalue"] == pytest.approx(2 / 32)  # all 5 differences positive
    assert paired_test(a, a)["t_pvalue"] == 1.0


def test_windowed_means():
    assert windowed(np.arange(10), 5) == [0.5, 2.5, 4.5, 6.5, 8.5]
    assert windowed(np.array([1.0, 3.0]), 20) == [1.0, 3.0]


class _Tables:
    """Topic "1" judges a (id 0, label 2) and b (id 1, label 1), b released later; topic "2"
    judges d (id 3, label 1): the world's judged-document tables for nDCG."""

    g_off = np.array([0, 2, 3])
    g_ids = np.array([0, 1, 3])
    g_label = np.array([2, 1, 1])
    g_release = np.array([0, 1, 0])
    r_off = np.array([0, 2, 3])  # relevant documents per topic, in release order
    r_label = np.array([2, 1, 1])


class _World:
    tables = _Tables()


class _Trace:
    topic = np.array([0, 0, 1, 1, 0, 1])
    n_relevant = np.array([2, 2, 1, 1, 1, 0])
    shown = np.array([[0, 1, 2], [2, 1, 0], [3, -1, -1], [0, 1, 2], [2, 0, -1], [3, -1, -1]])


def test_ndcg_of_each_page_by_ir_measures():
    values = ndcg_per_step(_Trace(), _World(), cutoff=10)
    ideal = 2 + 1 / np.log2(3)  # ir_measures' nDCG (trec_eval): gain = label
    assert values[0] == pytest.approx(1.0)
    assert values[1] == pytest.approx((1 / np.log2(3) + 2 / np.log2(4)) / ideal)
    assert values[2] == pytest.approx(1.0)
    assert values[3] == 0.0


def test_ndcg_ideal_counts_only_released_documents():
    """With 'b' not out yet, topic 1's ideal page is 'a' alone (gain 2); a page with 'a' at
    rank 2 scores 1/log2(3), not 1/log2(3) / (1 + 1/(2 log2 3)); no released relevant
    document at all: undefined (NaN), not 0."""
    values = ndcg_per_step(_Trace(), _World(), cutoff=10)
    assert values[4] == pytest.approx(1 / np.log2(3))
    assert np.isnan(values[5])


def test_ndcg_matches_ir_measures_on_random_pages():
    """The compiled nDCG@10 against ir_measures (trec_eval's ndcg_cut) on random pages of
    random graded judgements, with some relevant documents not released yet."""
    import ir_measures

    rng = np.random.default_rng(4)
    n_topics, n_docs, n_steps = 6, 40, 200
    judged = [rng.choice(n_docs, size=rng.integers(1, 12), replace=False) for _ in range(n_topics)]
    labels = [rng.integers(1, 4, size=len(j)) for j in judged]

    class Tables:
        g_off = np.concatenate([[0], np.cumsum([len(j) for j in judged])])
        order = [np.argsort(j) for j in judged]
        g_ids = np.concatenate([j[o] for j, o in zip(judged, order)])
        g_label = np.concatenate([lab[o] for lab, o in zip(labels, order)])
        g_release = np.concatenate(order)
        r_off = g_off
        r_label = np.concatenate(labels)  # release order: as listed

    class World:
        tables = Tables()

    class Trace:
        topic = rng.integers(0, n_topics, n_steps)
        n_relevant = np.array([rng.integers(0, len(judged[t]) + 1) for t in topic])
        shown = np.array([rng.permutation(n_docs)[:10] for _ in range(n_steps)])
        shown[::7, 6:] = -1  # short pages too

    values = ndcg_per_step(Trace(), World(), cutoff=10)
    runs, qrels = [], []
    for i, (t, n) in enumerate(zip(Trace.topic, Trace.n_relevant)):
        for rank, d in enumerate(Trace.shown[i]):
            if d >= 0:
                runs.append((f"s{i}", f"d{d}", float(10 - rank)))
        for d, lab in list(zip(judged[t], labels[t]))[:n]:
            qrels.append((f"s{i}", f"d{d}", int(lab)))
    run = pd.DataFrame(runs, columns=["query_id", "doc_id", "score"])
    judgements = pd.DataFrame(qrels, columns=["query_id", "doc_id", "relevance"])
    expected = np.full(n_steps, np.nan)
    for m in ir_measures.iter_calc([ir_measures.parse_measure("nDCG@10")], judgements, run):
        expected[int(m.query_id[1:])] = m.value
    judged_steps = Trace.n_relevant > 0
    assert np.isnan(values[~judged_steps]).all()
    np.testing.assert_allclose(values[judged_steps], np.nan_to_num(expected[judged_steps]),
                               rtol=0, atol=1e-12)
