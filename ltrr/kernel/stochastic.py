"""A stochastic logging ranker: Plackett-Luce sampling over a ranker's scores, with the exact
probabilities off-policy evaluation of rankings needs.

A deterministic ranker shows every query the same page, so logs of it say nothing about the
pages another ranker would show. :class:`PlackettLuce` shows a random page instead: position
by position, each remaining candidate is drawn with probability proportional to
``exp(z_i / temperature)``, ``z`` the ranker's scores standardised per query (mean 0,
standard deviation 1, so a temperature means the same for every ranker). A low temperature is
nearly the ranker itself; a high one nearly uniform.

For each logged page it gives the three probabilities obp's slate estimators read
(:mod:`ltrr.ope.slate`): the whole page's (``pscore``, SIPS), each prefix's
(``pscore_cascade``, RIPS), and each item's marginal probability of its position
(``pscore_item_position``, IIPS and PBM-IPS). The first two are products of the sampling
steps. The marginal ``P(item i at position k)`` sums over every page that puts ``i`` at
``k``, which no library computes for Plackett-Luce over tens of candidates (obp enumerates
permutations, feasible for a handful); :func:`position_marginals` computes it exactly from
the exponential-race form of Plackett-Luce: with independent ``T_j ~ Exp(w_j)``, the order
of the ``T_j`` is a Plackett-Luce sample, so

    P(i at k) = integral over t of w_i exp(-w_i t) * P(exactly k of the others have T_j < t)

whose integrand is a Poisson-binomial probability (a dynamic programme over the candidates)
integrated on a fine grid in log t (the trapezoid rule, accurate to about 1e-10 here:
``tests/ope/test_pages.py`` checks it against enumeration of every page).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID_STEP = 0.1  # step of the trapezoid rule in log t (its error falls like exp(-pi^2 / step))
LOW_TAIL, HIGH_TAIL = 1e-12, 60.0  # w t below LOW_TAIL or above HIGH_TAIL adds nothing


def standardised(scores: np.ndarray) -> np.ndarray:
    """Scores with mean 0 and standard deviation 1 (all zeros when they are all equal)."""
    scores = np.asarray(scores, dtype=float)
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 0 else np.zeros_like(scores)


def sample_page(logits: np.ndarray, page: int, rng: np.random.Generator) -> np.ndarray:
    """A Plackett-Luce page of ``min(page, n)`` candidate indices, best first (Gumbel-max:
    the top of ``logits + Gumbel noise`` is exactly a Plackett-Luce sample)."""
    noisy = np.asarray(logits, dtype=float) + rng.gumbel(size=len(logits))
    return np.argsort(-noisy, kind="stable")[:page]


def prefix_probabilities(logits: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """``P(the page starts with shown[:k+1])`` for every k: the product of the sampling
    steps' probabilities (obp's ``pscore_cascade``; the last is the page's ``pscore``).
    ``shown``: one page ``(k,)`` or many ``(pages, k)`` of the same candidates.

    The weight left before step ``j`` is the weight of the candidates the page leaves out
    plus that of ``shown[j:]``, a sum of non-negative terms, not the total minus the weight
    drawn (which cancels at low temperatures and lets the last step of a page of every
    candidate round above 1): every step is in (0, 1]."""
    shown = np.asarray(shown)
    if shown.ndim == 2:
        return np.stack([prefix_probabilities(logits, page) for page in shown])
    w = np.exp(np.asarray(logits, dtype=float) - np.max(logits))
    picked = w[shown]
    left_out = np.delete(w, shown).sum()
    remaining = left_out + np.cumsum(picked[::-1])[::-1]
    return np.cumprod(picked / remaining)


def position_marginals(logits: np.ndarray, page: int) -> np.ndarray:
    """``(n, page)``: each candidate's probability of being shown at each position (see the
    module docstring for the integral and why it is computed here)."""
    logits = np.asarray(logits, dtype=float)
    n = len(logits)
    k = min(page, n)
    w = np.exp(logits - logits.max())  # the largest weight is 1
    lo = np.log(LOW_TAIL)  # log t where w_max t = LOW_TAIL
    hi = np.log(HIGH_TAIL / w.min())
    log_t = np.arange(lo, hi + GRID_STEP, GRID_STEP)
    t = np.exp(log_t)
    before = -np.expm1(-np.outer(t, w))  # (G, n): P(T_j < t)
    # Poisson-binomial counts over candidates < j (prefix) and > j (suffix), truncated at k
    prefix = np.zeros((n + 1, len(t), k))
    prefix[0, :, 0] = 1.0
    for j in range(n):
        p = before[:, j, None]
        prefix[j + 1] = prefix[j] * (1 - p)
        prefix[j + 1, :, 1:] += prefix[j, :, :-1] * p
    suffix = np.zeros((n + 1, len(t), k))
    suffix[n, :, 0] = 1.0
    for j in range(n - 1, -1, -1):
        p = before[:, j, None]
        suffix[j] = suffix[j + 1] * (1 - p)
        suffix[j, :, 1:] += suffix[j + 1, :, :-1] * p
    others = np.zeros((n, len(t), k))  # counts over every candidate but j
    for a in range(k):
        others[:, :, a:] += prefix[:n, :, a, None] * suffix[1:, :, :k - a]
    density = (w[None, :] * t[:, None]) * np.exp(-np.outer(t, w))  # w t exp(-w t): d/d log t
    marginals = np.einsum("gj,jgk->jk", density, others) * GRID_STEP
    out = np.zeros((n, page))
    out[:, :k] = marginals
    return out


@dataclass(frozen=True)
class PlackettLuce:
    """Plackett-Luce sampling over scores at ``temperature`` (> 0)."""

    temperature: float

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"a Plackett-Luce temperature must be > 0, got {self.temperature}")

    def logits(self, scores: np.ndarray) -> np.ndarray:
        """The sampling logits of one query's candidates."""
        return standardised(scores) / self.temperature

    def sample(self, scores: np.ndarray, page: int, rng: np.random.Generator) -> "LoggedPage":
        """One page over candidates with ``scores``, drawn from ``rng``, with the
        probabilities a page log records (what ``ltrr run`` logs when it explores)."""
        logits = self.logits(scores)
        shown = sample_page(logits, page, rng)
        cascade = prefix_probabilities(logits, shown)
        positions = position_marginals(logits, page)[shown]
        return LoggedPage(shown, cascade, positions[np.arange(len(shown)), np.arange(len(shown))],
                          positions)


@dataclass(frozen=True)
class LoggedPage:
    """A sampled page and the logging ranker's probabilities of it, per shown position."""

    shown: np.ndarray  # candidate indices, best first
    cascade: np.ndarray  # P(the page starts with shown[:k+1]); the last is the page's
    item_position: np.ndarray  # P(shown[k] at position k)
    positions: np.ndarray  # (len(shown), page): P(shown[k] at each position)
