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


class _Vocab:
    docnos = np.array(["a", "b", "c", "d"])


class _World:
    vocab = _Vocab()
    topics = pd.DataFrame({"qid": ["1", "2"], "query": ["x", "y"]})
    # relevant documents per topic, in release order: topic 1's 'b' (id 1) comes out late
    relevant_by_release = [np.array([0, 1]), np.array([3])]

    class dataset:  # noqa: N801 - a stand-in namespace
        qrels = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "d"], "label": [2, 1, 1]})


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
