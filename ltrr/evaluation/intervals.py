"""Confidence intervals over seeds, paired significance tests and their correction.

A benchmark's seeds are independent replications (stream, clicks and policy seeds all
derive from the seed), so a metric's mean over seeds gets a Student-t interval. Policies
run on the same seed share the stream and the click Generator's seed, so comparisons
between policies are paired:

- by seed (:func:`paired_test`): the paired t-test and the exact paired permutation test
  (all ``2^n`` sign flips), whose smallest possible two-sided p-value is ``2 / 2^n``
  (:func:`permutation_floor`: 0.0625 with 5 seeds, 0.002 with 10);
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
    distribution-free check, the exact paired permutation p-value (all 2^n sign flips,
    ``scipy.stats.permutation_test``).
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
    test = stats.permutation_test((a, b), lambda x, y: np.mean(x - y), vectorized=False,
                                  permutation_type="samples", n_resamples=np.inf)
    out["permutation_pvalue"] = float(test.pvalue)
    return out


def permutation_floor(n: int) -> float:
    """The smallest two-sided p-value the exact paired permutation test can give on ``n``
    pairs: the observed sign pattern and its mirror out of ``2^n``."""
    return min(1.0, 2.0 / 2.0 ** n) if n > 0 else 1.0


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
