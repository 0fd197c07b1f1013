"""Confidence intervals over seeds, paired significance tests and their correction.

A benchmark's seeds are independent replications (stream, clicks and policy seeds all
derive from the seed), so a metric's mean over seeds gets a Student-t interval. Policies
run on the same seed share the stream and the click Generator's seed, so comparisons
between policies are paired:

- by seed (:func:`paired_test`): the paired t-test and the paired permutation test
  (:func:`permutation_pvalue`), exact up to :data:`EXACT_PERMUTATION_SEEDS` seeds (all ``2^n``
  sign flips; its smallest possible two-sided p-value is ``2 / 2^n``: 0.0625 with 5 seeds,
  0.002 with 10) and Monte Carlo beyond (:data:`PERMUTATION_RESAMPLES` random sign flips drawn
  with a fixed seed, so a leaderboard is still a function of its records; its smallest
  possible p-value is ``2 / (resamples + 1)``); :func:`permutation_floor` gives either floor;
- by topic (:func:`topic_test`), IR's convention: each topic's mean over the steps that
  asked it (and over seeds), the two policies' means paired by topic, a paired t-test over
  topics (scipy.stats.ttest_rel);
- a table of such tests is corrected for multiple comparisons by Holm-Bonferroni
  (:func:`holm`, statsmodels' ``multipletests``, as ``pt.Experiment(correction="holm")``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

# Up to this many seeds the permutation test enumerates all 2^n sign flips (65,536 at 16: a
# fraction of a second with a vectorised statistic); beyond, 2^n outgrows what a leaderboard
# can wait for and hold in memory (a billion flips at 30 seeds), so the test samples them.
EXACT_PERMUTATION_SEEDS = 16
# Random sign flips of the Monte Carlo test, and the seed they are drawn with. More than
# 2^16, so no Monte Carlo test is coarser than the largest exact one; fewer than 2^17, so
# scipy does not fall back to enumerating at 17 seeds. The p-value's Monte Carlo standard error
# is at most 1/sqrt(resamples), 0.0032; its resolution, 2 / (resamples + 1), is 2.0e-5.
PERMUTATION_RESAMPLES = 100_000
PERMUTATION_SEED = 20_240_601
# sign flips evaluated at a time by the Monte Carlo test: bounds its memory at many seeds
_BATCH = 10_000


def format_p(value: float) -> str:
    """A p-value to 2 significant digits, ``n/a`` for NaN; one that underflowed to 0 in double
    precision (a t-test over thousands of queries can) is shown as the bound it is, never as 0."""
    if math.isnan(value):
        return "n/a"
    return "<1e-300" if value == 0 else f"{value:.2g}"


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)`` of a t-interval; with one value the bounds are NaN."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if len(x) else math.nan
    if len(x) < 2:
        return mean, math.nan, math.nan
    sem = stats.sem(x)
    if sem == 0:
        return mean, mean, mean
    low, high = stats.t.interval(level, len(x) - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def paired_test(a, b) -> dict:
    """Paired comparison of two policies' per-seed values (same seeds, same order).

    Returns the mean difference ``a - b``, the paired t-test p-value and, as a
    distribution-free check, the paired permutation p-value (:func:`permutation_pvalue`:
    exact up to :data:`EXACT_PERMUTATION_SEEDS` seeds, Monte Carlo beyond).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = a - b
    out = {"mean_diff": float(diff.mean()) if len(diff) else math.nan,
           "t_pvalue": math.nan, "permutation_pvalue": math.nan}
    if len(diff) < 2:
        return out
    if np.all(diff == diff[0]):
        out["t_pvalue"] = 0.0 if diff[0] != 0 else 1.0
    else:
        out["t_pvalue"] = float(stats.ttest_rel(a, b).pvalue)
    out["permutation_pvalue"] = permutation_pvalue(a, b)
    return out


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def permutation_pvalue(a, b, exact_seeds: int = EXACT_PERMUTATION_SEEDS,
                       resamples: int = PERMUTATION_RESAMPLES) -> float:
    """Two-sided paired permutation p-value of the mean difference ``a - b`` (sign flips of
    the pairs, ``scipy.stats.permutation_test``).

    With at most ``exact_seeds`` pairs, exact: all ``2^n`` sign flips. With more, Monte
    Carlo: ``resamples`` random sign flips drawn from :data:`PERMUTATION_SEED` (the same
    p-value on every call), the observed pattern counted among them, so the p-value is
    never below ``2 / (resamples + 1)`` (scipy enumerates anyway where ``resamples`` reaches
    ``2^n``). :func:`permutation_floor` gives the smallest p-value of either.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) <= exact_seeds:
        test = stats.permutation_test((a, b), _mean_difference, vectorized=True,
                                      permutation_type="samples", n_resamples=np.inf)
    else:
        test = stats.permutation_test((a, b), _mean_difference, vectorized=True,
                                      permutation_type="samples", n_resamples=resamples,
                                      batch=_BATCH, rng=np.random.default_rng(PERMUTATION_SEED))
    return float(test.pvalue)


def permutation_floor(n: int) -> float:
    """The smallest two-sided p-value :func:`paired_test`'s permutation test can give on ``n``
    pairs: exact (``n <= EXACT_PERMUTATION_SEEDS``), the observed sign pattern and its mirror
    out of ``2^n``; Monte Carlo, ``2 / (PERMUTATION_RESAMPLES + 1)`` (no sampled flip as
    extreme as the observed one, which is counted as one of them)."""
    if n <= 0:
        return 1.0
    if n <= EXACT_PERMUTATION_SEEDS:
        return min(1.0, 2.0 / 2.0 ** n)
    return 2.0 / (PERMUTATION_RESAMPLES + 1)


def topic_test(a: list[pd.DataFrame], b: list[pd.DataFrame], metric: str) -> dict:
    """Paired t-test over topics of two policies' per-topic tables (one per seed, the same
    seeds in the same order, as :func:`ltrr.evaluation.metrics.per_topic` writes them).

    A topic's value is its mean ``metric`` over the seeds whose stream asked it (NaN, i.e.
    no judged step, left out); topics where either policy has no value are dropped.
    """
    def means(tables: list[pd.DataFrame]) -> pd.Series:
        stacked = pd.concat([t[["qid", metric]] for t in tables])
        return stacked.groupby("qid")[metric].mean()

    pairs = pd.concat([means(a), means(b)], axis=1, keys=["a", "b"]).dropna()
    out = {"topics": int(len(pairs)), "mean_diff": math.nan, "t_pvalue": math.nan}
    if len(pairs) < 2:
        return out
    diff = (pairs["a"] - pairs["b"]).to_numpy(dtype=float)
    out["mean_diff"] = float(diff.mean())
    if np.all(diff == diff[0]):
        out["t_pvalue"] = 0.0 if diff[0] != 0 else 1.0
    else:
        out["t_pvalue"] = float(stats.ttest_rel(pairs["a"], pairs["b"]).pvalue)
    return out


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values of a family of tests (NaN entries stay NaN and do
    not count towards the family size)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), math.nan)
    known = ~np.isnan(p)
    if known.any():
        out[known] = multipletests(p[known], method="holm")[1]
    return out.tolist()
