"""Metrics, regret, intervals and significance on hand-made numbers."""

from __future__ import annotations

import itertools
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from ltrr.evaluation.intervals import (EXACT_PERMUTATION_SEEDS, PERMUTATION_RESAMPLES,
                                       paired_test, permutation_floor, permutation_pvalue,
                                       t_interval)
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


def _sign_flip_p(diff: list[int]) -> float:
    """Two-sided sign-flip p-value of integer differences, exactly: the distribution of
    ``sum(+-d)`` over all ``2^n`` sign patterns, counted by convolution (fast at any n), and
    the share of patterns at least as far from 0 as the observed sum."""
    counts = Counter({0: 1})
    for d in diff:
        step = Counter()
        for total, ways in counts.items():
            step[total + d] += ways
            step[total - d] += ways
        counts = step
    observed = abs(sum(diff))
    return sum(w for total, w in counts.items() if abs(total) >= observed) / 2 ** len(diff)


def _monte_carlo_se(p: float, resamples: int) -> float:
    """Standard error of a Monte Carlo two-sided p-value, twice a one-sided share ``p / 2``
    estimated from ``resamples`` draws."""
    return 2 * np.sqrt(p / 2 * (1 - p / 2) / resamples)


def test_exact_permutation_p_is_the_hand_enumeration():
    # integers: sums compare exactly. |sum| = 12 of 18: the patterns whose flipped values sum
    # to at most 3 (11 subsets of 1, 1, 2, 2, 3, 4, 5, twice for the 0) or at least 15: 44
    diff = [3.0, -1.0, 2.0, 5.0, -2.0, 1.0, 0.0, 4.0]
    observed = abs(sum(diff))
    flips = list(itertools.product([1, -1], repeat=len(diff)))
    by_hand = sum(abs(sum(s * d for s, d in zip(signs, diff))) >= observed
                  for signs in flips) / len(flips)
    assert by_hand == 44 / 256
    assert permutation_pvalue(diff, np.zeros(len(diff))) == by_hand
    assert paired_test(np.array(diff) + 0.5, np.full(len(diff), 0.5))["permutation_pvalue"] \
        == by_hand
    assert _sign_flip_p([int(d) for d in diff]) == by_hand


def test_permutation_test_is_exact_up_to_the_limit_and_monte_carlo_beyond():
    rng = np.random.default_rng(7)
    exact = permutation_pvalue(rng.normal(0.3, 1, EXACT_PERMUTATION_SEEDS),
                               np.zeros(EXACT_PERMUTATION_SEEDS))
    assert (exact * 2 ** EXACT_PERMUTATION_SEEDS) % 2 == 0  # a count of patterns out of 2^n
    n = EXACT_PERMUTATION_SEEDS + 1
    a, b = rng.normal(0.3, 1, n), np.zeros(n)
    sampled = permutation_pvalue(a, b)
    count = sampled * (PERMUTATION_RESAMPLES + 1) / 2  # (flips as extreme + 1) of R + 1
    assert count == pytest.approx(round(count), abs=1e-6) and round(count) >= 1
    assert permutation_pvalue(a, b) == sampled  # fixed seed: the same p on every call
    assert permutation_floor(10) == 2 / 1024
    assert permutation_floor(EXACT_PERMUTATION_SEEDS) == 2 / 2 ** EXACT_PERMUTATION_SEEDS
    assert permutation_floor(n) == 2 / (PERMUTATION_RESAMPLES + 1)
    assert permutation_floor(n) < permutation_floor(EXACT_PERMUTATION_SEEDS)


def test_permutation_test_at_30_seeds_is_fast_and_agrees_with_the_exact_p():
    """2^30 sign flips cannot be enumerated by scipy in time; the Monte Carlo p is checked
    against the exact p of integer differences, counted by convolution."""
    for low, seed, expected in [(-4, 1, 0.0188), (-5, 3, 0.788)]:  # a gain, and none
        diff = [int(d) for d in np.random.default_rng(seed).integers(low, 8, 30)]
        exact = _sign_flip_p(diff)
        assert exact == pytest.approx(expected, abs=1e-3)
        start = time.perf_counter()
        out = paired_test(np.array(diff, dtype=float), np.zeros(30))
        assert time.perf_counter() - start < 1.0
        assert abs(out["permutation_pvalue"] - exact) < \
            4 * _monte_carlo_se(exact, PERMUTATION_RESAMPLES)
    # all 30 differences positive: the exact p, 2/2^30, is below what 100,000 flips resolve
    assert paired_test(np.arange(1, 31), np.zeros(30))["permutation_pvalue"] \
        == permutation_floor(30)


@pytest.mark.parametrize("n, resamples", [(12, 4_000), (16, 50_000)])
def test_monte_carlo_p_agrees_with_the_exact_p_within_its_error(n, resamples):
    """Forced to Monte Carlo (fewer resamples than 2^n, else scipy enumerates anyway), the p
    is within 4 standard errors of the exact p on the same differences."""
    rng = np.random.default_rng(n)
    for shift in (0.0, 0.4, 0.8):
        a, b = rng.normal(shift, 1, n), rng.normal(0, 1, n)
        exact = permutation_pvalue(a, b)
        sampled = permutation_pvalue(a, b, exact_seeds=0, resamples=resamples)
        assert sampled != exact  # resolution 2 / (resamples + 1), not 2 / 2^n
        assert abs(sampled - exact) < 4 * _monte_carlo_se(exact, resamples) + 2 / resamples


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
