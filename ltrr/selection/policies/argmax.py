"""Exact probability that each of several independent random scores is the largest.

Thompson sampling plays the plan whose posterior draw is largest. When the draws
``X_1 .. X_K`` are independent with densities ``f_i`` and CDFs ``F_i``, plan ``i`` is played
with probability

    p_i = P(X_i > X_j for every j != i) = integral of f_i(x) * prod_{j != i} F_j(x) dx,

a one-dimensional integral: the propensity ltrr logs for ``thompson`` (Beta posteriors) and
``lints`` (normal scores, independent across plans in obp's disjoint model), with no Monte
Carlo error and without touching the policy's random generator.

How it is integrated:

1. Domain. ``[L, U]``, where ``L`` is the highest of the plans' ``TAIL = 1e-13`` lower
   quantiles and ``U`` the highest upper one: below ``L`` every integrand carries a CDF
   ``<= TAIL`` (or is that plan's own lower tail), above ``U`` every plan has ``<= TAIL`` of
   its mass. Plans whose support ends below ``L`` have probability ``< TAIL``: they are left
   out (0). One plan's probability alone is integrated over that plan's support only.
2. Panels. Each plan's support (its two ``TAIL`` quantiles) is cut at its mean and 3
   standard deviations either side, except inside the support of a plan with a smaller sd,
   which cuts finer there; so a peaked posterior (Beta counts in the thousands: sd ~0.007)
   next to flat ones gets panels of its own width.
3. Rule. Gauss-Kronrod (21 points) on all panels at once: one array evaluation of every
   plan's density at every node gives every plan's integral. The CDFs at the nodes are
   integrated from the densities (see :func:`_node_values`). The CDF product over the other
   plans is ``exp(sum_j log F_j - log F_i)`` (``F`` floored at 1e-300: no 0/0 where a CDF
   underflows). The Kronrod - Gauss difference, summed over panels, must be below
   ``TOL = 1e-7`` for every plan, else the worst panels are bisected (all in one array
   operation) and the round repeated. That difference estimates the error of the 10-point
   Gauss rule; the 21-point Kronrod result that is returned is far more accurate: against
   scipy's adaptive ``quad_vec`` on exact CDFs the tests find errors of ~1e-11, and the
   probabilities sum to 1 within 1e-10 before they are normalised. After ``MAX_ROUNDS``
   rounds (not reached in the tests' hard cases) the remaining panels go to QUADPACK
   (``scipy.integrate.quad``), plan by plan.

Why by hand: scipy's ``quad`` and ``quad_vec`` evaluate the integrand one point at a time
(about 20 us of numpy calls per point for 16 plans), milliseconds per decision; here a
round is a few array operations (one round, 6 to 15 panels, in nearly every decision of a
run). The Gauss-Kronrod table is QUADPACK's ``qk21``, the one ``scipy.integrate.quad_vec``
uses. (Gauss-Hermite nodes on the chosen plan's normal were tried: they need ~100 nodes
for 1e-10 where the integrand has the other plans' CDF steps in it.)

Families: :class:`BetaScores` (compared on the logit scale, where every Beta density is
bounded) and :class:`NormalScores`. :func:`beta_argmax_probabilities` and
:func:`normal_argmax_probabilities` (one plan: ``..._probability``, what ``choose`` logs)
add what the integral does not: exact symmetry for identical plans (a cold start gives
exactly ``1/K``) and, for normals, point masses (zero variance) handled exactly.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial import legendre
from scipy import integrate, special

TAIL = 1e-13  # mass of each plan outside its support [q(TAIL), q(1 - TAIL)]
TOL = 1e-7  # bound on the summed Kronrod - Gauss differences, per probability
MAX_ROUNDS = 10  # bisection rounds before the remaining panels go to scipy's quad
STEPS = np.array([-3.0, 0.0, 3.0])  # inner panel edges of each plan, in its sds
FLOOR = 1e-300  # CDFs below this count as this (their logs stay finite)

# QUADPACK qk21: Kronrod nodes on [-1, 1] (the 10 Gauss nodes are the odd-indexed ones)
_XK = np.array([0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
                0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
                0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
                0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
                0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0])
_WK = np.array([0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
                0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
                0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
                0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
                0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
                0.149445554002916905664936468389821])
_WG = np.array([0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
                0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
                0.295524224714752870173892994651338])
NODES = np.concatenate([-_XK[:-1], _XK[::-1]])  # 21 nodes, ascending
KRONROD = np.concatenate([_WK[:-1], _WK[::-1]])
GAUSS = np.zeros(21)
GAUSS[1:10:2], GAUSS[11:20:2] = _WG, _WG[::-1]
# CUMULATIVE @ f: integral from -1 to each node of the degree-20 interpolant of f at NODES
CUMULATIVE = (legendre.legvander(NODES, 21) @ legendre.legint(np.eye(21), lbnd=-1, axis=0)
              @ np.linalg.inv(legendre.legvander(NODES, 20)))
_RULES = np.column_stack([KRONROD, KRONROD - GAUSS])  # f @ _RULES: integral, error estimate
_DENSITY_RULES = np.column_stack([CUMULATIVE.T, _RULES])
_Z_TAIL = float(-special.ndtri(TAIL))


@functools.lru_cache(maxsize=4096)
def _logit_beta_stats(a: float, b: float) -> tuple[float, float, float, float]:
    """``logit(Beta(a, b))``: its TAIL quantiles, mean ``digamma(a) - digamma(b)`` and sd
    ``sqrt(trigamma(a) + trigamma(b))``. Cached: a Thompson step changes one posterior."""
    ab, ba = np.array([a, b]), np.array([b, a])
    low, high_complement = special.logit(special.betaincinv(ab, ba, TAIL))
    digamma_a, digamma_b = special.digamma(ab)
    return (float(low), float(-high_complement), float(digamma_a - digamma_b),
            float(np.sqrt(special.zeta(2.0, ab).sum())))


class BetaScores:
    """Independent ``Beta(a_i, b_i)`` scores (Bernoulli Thompson sampling's posteriors),
    compared on the logit scale: ``T = log(X / (1 - X))`` has density
    ``x^a (1 - x)^b / B(a, b)`` at ``x = expit(t)``, smooth and bounded for every
    ``a, b > 0`` (the Beta density is unbounded at 0 or 1 when a parameter is below 1), and
    both tails keep full precision (``1 - x`` is ``expit(-t)``, not a difference). The
    logit is increasing, so the argmax is the same.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        self._a, self._b = self.a[:, None, None], self.b[:, None, None]
        self._log_norm = special.betaln(self._a, self._b)
        pairs = zip(self.a.tolist(), self.b.tolist())
        self._stats = np.array([_logit_beta_stats(a_, b_) for a_, b_ in pairs]).T

    def __len__(self) -> int:
        return len(self.a)

    def take(self, plans: np.ndarray) -> BetaScores:
        return BetaScores(self.a[plans], self.b[plans])

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """Per plan, the points with ``TAIL`` mass below and ``TAIL`` above."""
        return self._stats[0], self._stats[1]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self._stats[2], self._stats[3]

    def cdf(self, t: float) -> np.ndarray:
        if t < 0:
            return special.betainc(self.a, self.b, special.expit(t))
        return 1.0 - special.betainc(self.b, self.a, special.expit(-t))

    def log_density(self, t: np.ndarray) -> np.ndarray:
        """Log densities at a (panels, nodes) array of points: ``(plans, panels, nodes)``."""
        return (self._a * special.log_expit(t) + self._b * special.log_expit(-t)
                - self._log_norm)


class NormalScores:
    """Independent ``N(mean_i, sd_i^2)`` scores, ``sd_i > 0`` (linear Thompson sampling's)."""

    def __init__(self, mean: np.ndarray, sd: np.ndarray) -> None:
        self.mean, self.sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
        self._mean, self._inv_sd = self.mean[:, None, None], 1.0 / self.sd[:, None, None]
        self._log_norm = np.log(self.sd * np.sqrt(2.0 * np.pi))[:, None, None]

    def __len__(self) -> int:
        return len(self.mean)

    def take(self, plans: np.ndarray) -> NormalScores:
        return NormalScores(self.mean[plans], self.sd[plans])

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mean - _Z_TAIL * self.sd, self.mean + _Z_TAIL * self.sd

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.mean, self.sd

    def cdf(self, x: float) -> np.ndarray:
        return special.ndtr((x - self.mean) / self.sd)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        z = (x - self._mean) * self._inv_sd
        return -0.5 * z * z - self._log_norm


Scores = BetaScores | NormalScores
_ALL = slice(None)


def argmax_probabilities(scores: Scores, copies: np.ndarray, floor: float = -np.inf
                         ) -> np.ndarray:
    """Per plan ``i``: the probability that one given copy of it has the largest draw, when
    plan ``j`` is present ``copies[j]`` times (independent draws each)::

        p_i = integral over x > floor of f_i(x) F_i(x)^(copies_i - 1)
                                          prod_{j != i} F_j(x)^copies_j dx

    Identical plans are passed once with their count, so they get exactly equal shares.
    ``floor``: no winning score lies below it (a point mass that beats everything under it;
    see :func:`normal_argmax_probabilities`). ``sum(copies * p)`` is the probability that
    the winner is above ``floor`` (1 without one).
    """
    low, high = scores.support()
    lower, upper = max(float(low.max()), floor), float(high.max())
    probs = np.zeros(len(scores))
    if upper > lower:
        active = high > lower
        probs[active] = _integrate_on(scores, copies, active, lower, upper, _ALL)
    return probs


def argmax_probability(scores: Scores, copies: np.ndarray, plan: int,
                       floor: float = -np.inf) -> float:
    """``p_plan`` of :func:`argmax_probabilities` alone, integrated over that plan's
    support only (cheaper; the same value to ~1e-11). A plan whose support lies wholly
    below the others' is integrated there in full, so a chosen plan never gets 0."""
    low, high = scores.support()
    lower = max(float(low[plan]), floor)
    if high[plan] > low.max():
        lower = max(lower, float(low.max()))
    upper = float(high[plan])
    if not upper > lower:
        return 0.0
    active = high > lower
    row = np.array([int(np.count_nonzero(active[:plan]))])
    return float(_integrate_on(scores, copies, active, lower, upper, row)[0])


def _integrate_on(scores: Scores, copies: np.ndarray, active: np.ndarray, lower: float,
                  upper: float, rows: np.ndarray | slice) -> np.ndarray:
    """The integrals of ``rows`` (of the active plans) over ``[lower, upper]``; plans not
    active have all their mass below ``lower`` (CDF 1 there) and are left out."""
    if not active.all():
        scores, copies = scores.take(active), copies[active]
    low, high = scores.support()
    edges = _panel_edges(scores, low, high, lower, upper)
    return _integrate(scores, np.asarray(copies, dtype=float), edges, rows)


def _panel_edges(scores: Scores, low: np.ndarray, high: np.ndarray, lower: float,
                 upper: float) -> np.ndarray:
    """Edges in ``[lower, upper]`` (module doc, step 2)."""
    mean, sd = scores.moments()
    inner = np.clip(mean[:, None] + sd[:, None] * STEPS, low[:, None], high[:, None])
    marks = np.hstack([low[:, None], inner, high[:, None]]).ravel()
    owner_sd = np.repeat(sd, len(STEPS) + 2)
    use = (marks > lower) & (marks < upper)
    marks, owner_sd = marks[use], owner_sd[use]
    finer_inside = (marks[:, None] > low) & (marks[:, None] < high) & (sd < owner_sd[:, None])
    return np.sort(np.concatenate([[lower, upper], marks[~finer_inside.any(axis=1)]]))


def _integrate(scores: Scores, copies: np.ndarray, edges: np.ndarray,
               rows: np.ndarray | slice) -> np.ndarray:
    """The integrals of plans ``rows`` over ``[edges[0], edges[-1]]`` (module doc, step 3)."""
    anchor = scores.cdf(edges[0])
    for _ in range(MAX_ROUNDS):
        half = np.diff(edges) / 2.0
        x = (edges[:-1] + half)[:, None] + half[:, None] * NODES  # (panels, nodes)
        log_cdf, density, density_error = _node_values(scores, x, half, anchor, rows)
        others = (copies @ log_cdf.reshape(len(copies), -1)).reshape(x.shape) - log_cdf[rows]
        integral = (density * np.exp(others)) @ _RULES  # (rows, panels, [value, error])
        error = np.maximum(np.abs(integral[:, :, 1]).max(axis=0), density_error)
        if error.sum() <= TOL:
            return integral[:, :, 0].sum(axis=1)
        bad = error > TOL / len(error)
        edges = np.sort(np.concatenate([edges, edges[:-1][bad] + half[bad]]))
    return _quad(scores, copies, edges, rows)


def _node_values(scores: Scores, x: np.ndarray, half: np.ndarray, anchor: np.ndarray,
                 rows: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At nodes ``x`` (panels x nodes) of contiguous panels with half-widths ``half``:
    every plan's log CDF, the densities of ``rows`` times ``half`` (a panel's Jacobian), and
    the largest Kronrod - Gauss difference of the densities per panel.

    The CDFs come from the densities: ``anchor`` (the exact CDF at the first edge), plus
    the Kronrod mass of the panels before, plus the integral of the density's interpolant
    within the panel (``CUMULATIVE``). That spares a ``betainc`` per plan and node (a
    microsecond each at counts in the thousands), and costs no more than ``ndtr``.
    """
    density = np.exp(scores.log_density(x)) * half[:, None]
    rules = density @ _DENSITY_RULES
    mass = rules[:, :, -2]
    cdf = rules[:, :, :-2] + (anchor[:, None] + np.cumsum(mass, axis=1) - mass)[:, :, None]
    return np.log(np.maximum(cdf, FLOOR)), density[rows], np.abs(rules[:, :, -1]).max(axis=0)


def _quad(scores: Scores, copies: np.ndarray, edges: np.ndarray,
          rows: np.ndarray | slice) -> np.ndarray:
    """scipy's adaptive QUADPACK, plan by plan, with exact CDFs, for what the vectorised
    rule could not resolve."""
    def integrand(x: float, i: int) -> float:
        others = copies - (np.arange(len(copies)) == i)
        density = np.exp(scores.log_density(np.array(x)).ravel()[i])
        return float(density * np.prod(np.maximum(scores.cdf(x), FLOOR) ** others))
    points = edges[1:-1]
    return np.array([integrate.quad(integrand, edges[0], edges[-1], args=(i,), points=points,
                                    limit=2 * len(points) + 100, epsabs=TOL / 100,
                                    epsrel=1e-12)[0]
                     for i in np.arange(len(scores))[rows]])


def _identical_groups(first: np.ndarray, second: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plans with equal parameter pairs: one plan per group, each plan's group, group sizes."""
    key = first + 1j * second
    ordered = np.sort(key)
    if (ordered[1:] != ordered[:-1]).all():
        every = np.arange(len(key))
        return every, every, np.ones(len(key))
    _, index, group, copies = np.unique(key, return_index=True, return_inverse=True,
                                        return_counts=True)
    return index, group.reshape(-1), copies.astype(float)


def beta_argmax_probabilities(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Probability that each of independent ``Beta(a_i, b_i)`` draws is the largest
    (normalised to sum 1)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    index, group, copies = _identical_groups(a, b)
    if len(index) == 1:
        return np.full(len(a), 1.0 / len(a))
    probs = argmax_probabilities(BetaScores(a[index], b[index]), copies)[group]
    return probs / probs.sum()


def beta_argmax_probability(a: np.ndarray, b: np.ndarray, plan: int) -> float:
    """Probability that plan ``plan``'s ``Beta(a, b)`` draw is the largest."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    index, group, copies = _identical_groups(a, b)
    if len(index) == 1:
        return 1.0 / len(a)
    return argmax_probability(BetaScores(a[index], b[index]), copies, int(group[plan]))


def normal_argmax_probabilities(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Probability that each of independent ``N(mean_i, sd_i^2)`` draws is the largest
    (normalised to sum 1).

    A plan with ``sd_i == 0`` is a point mass at ``mean_i``: only the highest point mass
    ``m`` can win, with probability ``prod_j F_j(m)`` over the continuous plans, shared
    equally among point masses tied at ``m`` (the decision breaks exact ties uniformly); the
    continuous plans then win only above ``m``.
    """
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    index, group, copies = _identical_groups(mean, sd)
    if len(index) == 1:
        return np.full(len(mean), 1.0 / len(mean))
    mean, sd = mean[index], sd[index]
    point = sd == 0.0
    if not point.any():
        probs = argmax_probabilities(NormalScores(mean, sd), copies)[group]
        return probs / probs.sum()
    top, smooth = float(mean[point].max()), ~point
    probs = np.zeros(len(index))
    if smooth.any():
        probs[smooth] = argmax_probabilities(NormalScores(mean[smooth], sd[smooth]),
                                             copies[smooth], floor=top)
    probs[point & (mean == top)] = _top_point_mass(mean, sd, copies, top)
    probs = probs[group]
    return probs / probs.sum()


def normal_argmax_probability(mean: np.ndarray, sd: np.ndarray, plan: int) -> float:
    """Probability that plan ``plan``'s ``N(mean, sd^2)`` draw is the largest (point masses
    as in :func:`normal_argmax_probabilities`)."""
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    index, group, copies = _identical_groups(mean, sd)
    if len(index) == 1:
        return 1.0 / len(mean)
    mean, sd, plan = mean[index], sd[index], int(group[plan])
    point = sd == 0.0
    top = float(mean[point].max()) if point.any() else -np.inf
    if point[plan]:
        return _top_point_mass(mean, sd, copies, top) if mean[plan] == top else 0.0
    smooth = ~point
    return argmax_probability(NormalScores(mean[smooth], sd[smooth]), copies[smooth],
                              int(np.count_nonzero(smooth[:plan])), floor=top)


def _top_point_mass(mean: np.ndarray, sd: np.ndarray, copies: np.ndarray, top: float) -> float:
    """Probability of each copy of the point mass at ``top`` (the highest): every
    continuous draw below ``top``, shared among the tied copies."""
    smooth, tied = sd > 0.0, (sd == 0.0) & (mean == top)
    below = special.ndtr((top - mean[smooth]) / sd[smooth]) ** copies[smooth]
    return float(np.prod(below) / copies[tied].sum())
