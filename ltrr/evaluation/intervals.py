"""Confidence intervals over seeds and paired significance tests (scipy.stats).

A benchmark's seeds are independent replications (stream, clicks and policy seeds all
derive from the seed), so a metric's mean over seeds gets a Student-t interval. Policies
run on the same seed share the stream and the click Generator's seed, so comparisons
between policies are paired by seed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


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
