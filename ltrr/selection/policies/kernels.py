"""The compiled decisions and updates of ltrr's own policies.

Every built-in policy keeps its state in arrays (where obp holds the model, obp's arrays)
and decides through :func:`choose` and learns through :func:`update`, compiled with numba.
The policy classes call them at each step of the per-step loop; the compiled run loop
(:mod:`ltrr.simulation.engine`) calls the same functions, so a policy decides the same way
on both paths. Randomness comes from the policy's own ``numpy.random.Generator`` (numba
draws from it as numpy does).

A policy hands its state over as a :class:`PolicyArrays`: a kind code and a fixed set of
arrays, whose meaning depends on the kind (one loop compiled once serves every policy):

==================  ==================================================================
kind                arrays
==================  ==================================================================
``FIXED``           ``ints[0]`` the plan
``UNIFORM``         none
``ORACLE``          none (reads the truth)
``EPSILON_GREEDY``  ``floats[0]`` epsilon; ``v0`` plays, ``v1`` reward sums per plan
``UCB1``            ``floats[0]`` c; ``v0`` plays, ``v1`` reward sums per plan
``THOMPSON``        ``floats`` (alpha, beta, reward cap); ``v0`` successes, ``v1`` plays
                    per plan; ``m0`` each plan's posterior stats (``argmax.family_stats``)
``EXP3``            ``floats`` (gamma, reward cap); ``v0`` log weights
``LINUCB``          ``floats[0]`` alpha; ``t0`` ``A_inv`` (P, d, d), ``m0`` ``b`` (d, P)
``LINTS``           ``floats[0]`` the reward factor ``1 / v``; ``t0``, ``m0`` as LinUCB
``LIN_EPSILON``     ``floats[0]`` epsilon; ``t0``, ``m0`` as LinUCB
``SEMIBANDIT``      ``floats[0]`` c; ``v0`` plays, ``v1`` credit sums per base arm;
                    ``v2`` plays, ``v3`` residual sums per plan; ``m0`` plan x base arm
                    incidence; ``im0`` (P, A) each plan's base arm per arm (-1: unused)
``ROUTER``          ``ints[2]`` the context's length, ``ints[3:]`` each tree's root; a
                    regression forest over (context, plan features): ``im0`` (N, 3) each
                    node's feature, left and right child (a child < 0 is leaf ``-child-1``),
                    ``v0`` each node's threshold, ``v1`` each leaf's value, ``m0`` (P, F)
                    the plan features (:func:`router_scores`); fixed: no update
==================  ==================================================================

Exact ties are broken uniformly at random (:func:`argmax_random_ties`), so the propensity
of a tied plan is ``1 / ties``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from ltrr.selection.policies.argmax import (BETA, _family_stats, beta_probabilities,
                                            beta_probability, normal_probabilities,
                                            normal_probability)

(FIXED, UNIFORM, ORACLE, EPSILON_GREEDY, UCB1, THOMPSON, EXP3, LINUCB, LINTS, LIN_EPSILON,
 SEMIBANDIT, ROUTER) = range(12)
_NO_FLOATS = np.zeros(0)
_NO_INTS = np.zeros(0, dtype=np.int64)


class PolicyArrays(NamedTuple):
    """A built-in policy's state as the compiled code reads it (see the module doc)."""

    kind: int
    ints: np.ndarray
    floats: np.ndarray
    v0: np.ndarray
    v1: np.ndarray
    v2: np.ndarray
    v3: np.ndarray
    m0: np.ndarray
    im0: np.ndarray
    t0: np.ndarray

    @classmethod
    def of(cls, kind: int, ints=None, floats=None, v0=None, v1=None, v2=None, v3=None,
           m0=None, im0=None, t0=None) -> "PolicyArrays":
        """Arrays of the right types, empty where a kind has none."""
        def f1(a):
            return _NO_FLOATS if a is None else a

        return cls(int(kind), _NO_INTS if ints is None else ints, f1(floats), f1(v0), f1(v1),
                   f1(v2), f1(v3), np.zeros((0, 0)) if m0 is None else m0,
                   np.zeros((0, 0), dtype=np.int64) if im0 is None else im0,
                   np.zeros((0, 0, 0)) if t0 is None else t0)


@njit(cache=True)
def argmax_random_ties(scores: np.ndarray, rng) -> tuple:
    """Index of a maximal score, uniform among exact ties; and its probability."""
    best = scores[0]
    for i in range(1, scores.shape[0]):
        if scores[i] > best:
            best = scores[i]
    ties = 0
    first = -1
    for i in range(scores.shape[0]):
        if scores[i] == best:
            if first < 0:
                first = i
            ties += 1
    if ties == 1:
        return first, 1.0
    pick = rng.integers(0, ties)
    for i in range(scores.shape[0]):
        if scores[i] == best:
            if pick == 0:
                return i, 1.0 / ties
            pick -= 1
    return first, 1.0 / ties


@njit(cache=True)
def _ties(scores: np.ndarray) -> tuple:
    """The largest score and how many plans tie at it."""
    best = scores.max()
    count = 0
    for i in range(scores.shape[0]):
        if scores[i] == best:
            count += 1
    return best, count


@njit(cache=True)
def times_vector(a_inv: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """``out = A_inv @ x`` for a symmetric ``A_inv`` (Sherman-Morrison keeps it exactly
    symmetric), as a sum of its rows weighted by the non-zero entries of ``x``: each entry
    is summed in the same order on every CPU, and a context's many zeros cost nothing."""
    dim = x.shape[0]
    out[:] = 0.0
    for j in range(dim):
        weight = x[j]
        if weight != 0.0:
            row = a_inv[j]
            for i in range(dim):
                out[i] += row[i] * weight


@njit(cache=True)
def linear_estimates(t0: np.ndarray, m0: np.ndarray, x: np.ndarray, means: np.ndarray,
                     variances: np.ndarray) -> None:
    """Per plan: ``x . theta_a`` and ``x' A_a^-1 x`` (floored at 0) of the disjoint ridge
    models ``A_inv = t0``, ``b = m0``."""
    n_plans, dim = t0.shape[0], t0.shape[1]
    v = np.empty(dim)
    for p in range(n_plans):
        times_vector(t0[p], x, v)
        mean = 0.0
        var = 0.0
        for i in range(dim):
            mean += v[i] * m0[i, p]
            var += v[i] * x[i]
        means[p] = mean
        variances[p] = var if var > 0.0 else 0.0


@njit(cache=True)
def capped(reward: float, cap: float) -> float:
    """The reward clipped to ``[0, cap]`` and divided by ``cap``."""
    return min(cap, max(0.0, reward)) / cap


@njit(cache=True)
def ucb1_scores(pa: PolicyArrays) -> np.ndarray:
    """UCB1's score of each plan: untried plans first (1, the others 0), then mean reward plus
    ``sqrt(c log t / n)``."""
    counts, sums = pa.v0, pa.v1
    scores = np.empty(counts.shape[0])
    if counts.min() == 0.0:
        for p in range(counts.shape[0]):
            scores[p] = 1.0 if counts[p] == 0.0 else 0.0
    else:
        log_t = math.log(counts.sum())
        for p in range(counts.shape[0]):
            scores[p] = sums[p] / counts[p] + math.sqrt(pa.floats[0] * log_t / counts[p])
    return scores


@njit(cache=True)
def router_scores(pa: PolicyArrays, x: np.ndarray) -> np.ndarray:
    """Each plan's score under the router's forest: the sum over trees of the leaf that
    ``(x, plan features)`` reaches, going left where the feature is ``<=`` the node's
    threshold (LightGBM's rule for numerical splits; the features are never missing)."""
    n_plans, dim = pa.ints[1], pa.ints[2]
    scores = np.zeros(n_plans)
    for p in range(n_plans):
        total = 0.0
        for r in range(3, pa.ints.shape[0]):
            node = pa.ints[r]
            while node >= 0:
                j = pa.im0[node, 0]
                value = x[j] if j < dim else pa.m0[p, j - dim]
                node = pa.im0[node, 1] if value <= pa.v0[node] else pa.im0[node, 2]
            total += pa.v1[-node - 1]
        scores[p] = total
    return scores


@njit(cache=True)
def choose(pa: PolicyArrays, x: np.ndarray, truth: np.ndarray, rng,
           propensity: bool = True) -> tuple:
    """``(plan, propensity)`` of one decision (``propensity=False``: Thompson sampling skips
    its quadrature and returns NaN; the decision is the same)."""
    kind = pa.kind
    if kind == FIXED:
        return pa.ints[0], 1.0
    n_plans = pa.ints[1]
    if kind == UNIFORM:
        return rng.integers(0, n_plans), 1.0 / n_plans
    if kind == ORACLE:
        return argmax_random_ties(truth, rng)
    if kind == ROUTER:
        return argmax_random_ties(router_scores(pa, x), rng)
    if kind == EPSILON_GREEDY:
        eps = pa.floats[0]
        counts, sums = pa.v0, pa.v1
        untried = counts.min() == 0.0
        u = rng.random()
        if untried or u <= eps:
            plan = rng.integers(0, n_plans)
        else:
            means = sums / counts
            plan, _ = argmax_random_ties(means, rng)
        if untried:
            return plan, 1.0 / n_plans
        means = sums / counts
        best, ties = _ties(means)
        prob = eps / n_plans + ((1.0 - eps) / ties if means[plan] == best else 0.0)
        return plan, prob
    if kind == UCB1:
        return argmax_random_ties(ucb1_scores(pa), rng)
    if kind == THOMPSON:
        a = pa.v0 + pa.floats[0]
        b = pa.v1 - pa.v0 + pa.floats[1]
        draws = np.empty(n_plans)
        for p in range(n_plans):
            draws[p] = rng.beta(a[p], b[p])
        plan, _ = argmax_random_ties(draws, rng)
        return plan, beta_probability(a, b, pa.m0, plan) if propensity else np.nan
    if kind == EXP3:
        gamma = pa.floats[0]
        probs = _exp3_probabilities(pa.v0, gamma)
        u = rng.random() * probs.sum()
        total = 0.0
        plan = n_plans - 1
        for p in range(n_plans):
            total += probs[p]
            if total > u:
                plan = p
                break
        return plan, probs[plan]
    means = np.empty(n_plans)
    variances = np.empty(n_plans)
    if kind == LINUCB or kind == LINTS or kind == LIN_EPSILON:
        linear_estimates(pa.t0, pa.m0, x, means, variances)
    if kind == LINUCB:
        scores = np.empty(n_plans)
        for p in range(n_plans):
            scores[p] = means[p] + pa.floats[0] * math.sqrt(variances[p])
        return argmax_random_ties(scores, rng)
    if kind == LINTS:
        sd = np.sqrt(variances)
        draws = np.empty(n_plans)
        for p in range(n_plans):
            draws[p] = means[p] + sd[p] * rng.standard_normal()
        plan, _ = argmax_random_ties(draws, rng)  # ties only among zero-variance plans
        return plan, normal_probability(means, sd, plan) if propensity else np.nan
    if kind == LIN_EPSILON:
        eps = pa.floats[0]
        if rng.random() < eps:
            plan = rng.integers(0, n_plans)
        else:
            plan, _ = argmax_random_ties(means, rng)
        best, ties = _ties(means)
        return plan, eps / n_plans + ((1.0 - eps) / ties if means[plan] == best else 0.0)
    # SEMIBANDIT
    return argmax_random_ties(_semibandit_scores(pa), rng)


@njit(cache=True)
def _exp3_probabilities(log_weights: np.ndarray, gamma: float) -> np.ndarray:
    top = log_weights.max()
    w = np.exp(log_weights - top)
    n = log_weights.shape[0]
    return (1.0 - gamma) * w / w.sum() + gamma / n


@njit(cache=True)
def _semibandit_scores(pa: PolicyArrays) -> np.ndarray:
    counts, sums, plays, residual = pa.v0, pa.v1, pa.v2, pa.v3
    incidence = pa.m0
    n_plans, n_base = incidence.shape
    scores = np.zeros(n_plans)
    any_untried = False
    for p in range(n_plans):
        for j in range(n_base):
            if incidence[p, j] > 0 and counts[j] == 0.0:
                scores[p] = 1.0
                any_untried = True
                break
    if any_untried:
        return scores
    log_t = math.log(plays.sum())
    for p in range(n_plans):
        mean = 0.0
        width = 0.0
        for j in range(n_base):
            if incidence[p, j] > 0:
                mean += sums[j] / counts[j]
                width += 1.0 / counts[j]
        extra = residual[p] / plays[p] if plays[p] > 0 else 0.0
        scores[p] = mean + math.sqrt(pa.floats[0] * log_t * width) + extra
    return scores


@njit(cache=True)
def probabilities(pa: PolicyArrays, x: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Every plan's probability under the current state (exact; draws nothing)."""
    kind = pa.kind
    n_plans = pa.ints[1]
    out = np.zeros(n_plans)
    if kind == FIXED:
        out[pa.ints[0]] = 1.0
        return out
    if kind == UNIFORM:
        return np.full(n_plans, 1.0 / n_plans)
    if kind == EPSILON_GREEDY or kind == LIN_EPSILON:
        eps = pa.floats[0]
        if kind == EPSILON_GREEDY:
            if pa.v0.min() == 0.0:
                return np.full(n_plans, 1.0 / n_plans)
            values = pa.v1 / pa.v0
        else:
            values = np.empty(n_plans)
            linear_estimates(pa.t0, pa.m0, x, values, np.empty(n_plans))
        best, ties = _ties(values)
        for p in range(n_plans):
            out[p] = eps / n_plans + ((1.0 - eps) / ties if values[p] == best else 0.0)
        return out
    if kind == THOMPSON:
        a = pa.v0 + pa.floats[0]
        b = pa.v1 - pa.v0 + pa.floats[1]
        return beta_probabilities(a, b, pa.m0)
    if kind == EXP3:
        return _exp3_probabilities(pa.v0, pa.floats[0])
    if kind == LINTS:
        means, variances = np.empty(n_plans), np.empty(n_plans)
        linear_estimates(pa.t0, pa.m0, x, means, variances)
        return normal_probabilities(means, np.sqrt(variances))
    if kind == ORACLE:
        scores = truth
    elif kind == UCB1:
        scores = ucb1_scores(pa)
    elif kind == ROUTER:
        scores = router_scores(pa, x)
    elif kind == LINUCB:
        means, variances = np.empty(n_plans), np.empty(n_plans)
        linear_estimates(pa.t0, pa.m0, x, means, variances)
        scores = means + pa.floats[0] * np.sqrt(variances)
    else:
        scores = _semibandit_scores(pa)
    best, ties = _ties(scores)
    for p in range(n_plans):
        out[p] = 1.0 / ties if scores[p] == best else 0.0
    return out


@njit(cache=True)
def update(pa: PolicyArrays, x: np.ndarray, plan: int, reward: float, credit: np.ndarray,
           rng) -> None:
    """Learn from the reward observed for ``plan`` (and, for the semi-bandit, each arm's
    click ``credit``)."""
    kind = pa.kind
    if kind == EPSILON_GREEDY or kind == UCB1:
        pa.v0[plan] += 1.0
        pa.v1[plan] += reward
    elif kind == THOMPSON:
        success = 1.0 if rng.random() < capped(reward, pa.floats[2]) else 0.0
        pa.v0[plan] += success
        pa.v1[plan] += 1.0
        a = np.array([pa.v0[plan] + pa.floats[0]])
        b = np.array([pa.v1[plan] - pa.v0[plan] + pa.floats[1]])
        stats = pa.m0
        low, high, mean, sd = np.empty(1), np.empty(1), np.empty(1), np.empty(1)
        _family_stats(BETA, a, b, low, high, mean, sd)
        stats[0, plan], stats[1, plan], stats[2, plan], stats[3, plan] = \
            low[0], high[0], mean[0], sd[0]
    elif kind == EXP3:
        gamma = pa.floats[0]
        p = _exp3_probabilities(pa.v0, gamma)[plan]
        pa.v0[plan] += gamma * capped(reward, pa.floats[1]) / (p * pa.v0.shape[0])
    elif kind == LINUCB or kind == LINTS or kind == LIN_EPSILON:
        factor = pa.floats[0] if kind == LINTS else 1.0
        a_inv = pa.t0[plan]
        dim = x.shape[0]
        v = np.empty(dim)
        times_vector(a_inv, x, v)
        denom = 1.0
        for i in range(dim):
            denom += x[i] * v[i]
        # A_inv -= v v' / denom as (v / sqrt(denom)) (v / sqrt(denom))': u_i u_j == u_j u_i,
        # so A_inv stays exactly symmetric (times_vector relies on it)
        u = v / math.sqrt(denom)
        for i in range(dim):
            if u[i] == 0.0:
                continue
            row = a_inv[i]
            ui = u[i]
            for j in range(dim):
                row[j] -= ui * u[j]
        for i in range(dim):
            pa.m0[i, plan] += reward * factor * x[i]
    elif kind == SEMIBANDIT:
        total = 0.0
        for a in range(pa.im0.shape[1]):
            j = pa.im0[plan, a]
            if j >= 0:
                pa.v0[j] += 1.0
                pa.v1[j] += credit[a]
                total += credit[a]
        pa.v2[plan] += 1.0
        pa.v3[plan] += reward - total
