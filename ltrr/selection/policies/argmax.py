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
3. Rule. Gauss-Kronrod (21 points) on every panel. The normals' CDFs at the nodes are
   exact; the Betas' are integrated from the densities: the exact CDF at the first edge,
   plus the Kronrod mass of the panels before, plus the integral of the density's
   interpolant within the panel (``CUMULATIVE``), which spares an incomplete beta function
   per plan and node. The integrand is the plan's density times the product of the other
   plans' CDFs. The Kronrod - Gauss difference, summed over panels, must be below
   ``TOL = 1e-7`` for every plan, else the worst panels are bisected and the round
   repeated. That difference estimates the error of the 10-point Gauss rule; the 21-point
   Kronrod result that is returned is far more accurate: against scipy's adaptive
   ``quad_vec`` on exact CDFs the tests find errors of ~1e-11, and the probabilities sum to
   1 within 1e-10 before they are normalised. After ``MAX_ROUNDS`` rounds (not reached in
   the tests' hard cases) the last estimate is returned.

Why by hand, and compiled: scipy's ``quad`` and ``quad_vec`` evaluate the integrand one
point at a time (about 20 us of numpy calls per point for 16 plans), milliseconds per
decision; here a round is one pass over the panels' nodes, compiled with numba so that the
interaction loop calls it at every Thompson step. The Gauss-Kronrod table is QUADPACK's
``qk21``, the one ``scipy.integrate.quad_vec`` uses. (Gauss-Hermite nodes on the chosen
plan's normal were tried: they need ~100 nodes for 1e-10 where the integrand has the other
plans' CDF steps in it.) numba has no ``scipy.special``, so the special functions the Beta
family needs are written here (the regularised incomplete beta function by its continued
fraction, its tail quantile by safeguarded Newton steps on the log CDF, digamma and trigamma
by recurrence and asymptotic series); the tests check them against scipy.

Families: ``BETA`` (Beta(a, b) draws compared on the logit scale ``t = log(x / (1 - x))``,
where every Beta density is bounded and both tails keep full precision; the logit is
increasing, so the argmax is the same) and ``NORMAL`` (mean, sd). The public functions
:func:`beta_argmax_probabilities` and :func:`normal_argmax_probabilities` (one plan:
``..._probability``, what ``choose`` logs) add what the integral does not: exact symmetry for
identical plans (a cold start gives exactly ``1/K``) and, for normals, point masses (zero
variance) handled exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.polynomial import legendre

TAIL = 1e-13  # mass of each plan outside its support [q(TAIL), q(1 - TAIL)]
TOL = 1e-7  # bound on the summed Kronrod - Gauss differences, per probability
MAX_ROUNDS = 30  # bisection rounds before the last estimate is returned
STEPS = np.array([-3.0, 0.0, 3.0])  # inner panel edges of each plan, in its sds
NORMAL, BETA = 0, 1

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
CUMULATIVE = np.ascontiguousarray(
    legendre.legvander(NODES, 21) @ legendre.legint(np.eye(21), lbnd=-1, axis=0)
    @ np.linalg.inv(legendre.legvander(NODES, 20)))
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_Z_TAIL = 7.348796102173563  # -ndtri(TAIL), the normal's TAIL quantile in sds


# -- special functions --------------------------------------------------------------------
@njit(cache=True)
def ndtr(z: float) -> float:
    """The standard normal CDF."""
    return 0.5 * math.erfc(-z / _SQRT2)


@njit(cache=True)
def log_expit(t: float) -> float:
    """``log(1 / (1 + exp(-t)))`` without overflow or cancellation."""
    if t >= 0:
        return -math.log1p(math.exp(-t))
    return t - math.log1p(math.exp(t))


@njit(cache=True)
def betaln(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@njit(cache=True)
def digamma(x: float) -> float:
    """psi(x) for x > 0: recurrence up to x >= 10, then the asymptotic series."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
        1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12.0))))))
    return result + math.log(x) - 0.5 * inv - series


@njit(cache=True)
def trigamma(x: float) -> float:
    """psi'(x) for x > 0: recurrence up to x >= 10, then the asymptotic series."""
    result = 0.0
    while x < 10.0:
        result += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv * (1.0 + inv * (0.5 + inv * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (
        1.0 / 42 - inv2 * (1.0 / 30 - inv2 * (5.0 / 66 - inv2 * 691.0 / 2730)))))))
    return result + series


@njit(cache=True)
def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


@njit(cache=True)
def beta_cdf_logit(a: float, b: float, t: float) -> float:
    """``P(logit(X) <= t)`` for ``X ~ Beta(a, b)``: the regularised incomplete beta function
    at ``x = expit(t)``, from the side where it does not cancel."""
    log_x, log_1mx = log_expit(t), log_expit(-t)
    x = math.exp(log_x)
    front = math.exp(a * log_x + b * log_1mx - betaln(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, math.exp(log_1mx)) / b


@njit(cache=True)
def _beta_lower_quantile(a: float, b: float, mean: float, sd: float) -> float:
    """The logit-scale ``TAIL`` quantile of Beta(a, b): Newton steps on ``log F(t) = log
    TAIL`` (derivative ``f / F``), kept inside a bracket that bisection shrinks."""
    target = math.log(TAIL)
    high = mean
    low = mean - 10.0 * sd
    while math.log(max(beta_cdf_logit(a, b, low), 1e-320)) > target:
        high = low
        low = mean - 2.0 * (mean - low)
    t = 0.5 * (low + high)
    for _ in range(200):
        cdf = max(beta_cdf_logit(a, b, t), 1e-320)
        value = math.log(cdf) - target
        if value > 0:
            high = t
        else:
            low = t
        if abs(value) < 1e-12 or high - low < 1e-12 * (1.0 + abs(t)):
            break
        slope = math.exp(a * log_expit(t) + b * log_expit(-t) - betaln(a, b)) / cdf
        step = t - value / slope if slope > 0 else 0.5 * (low + high)
        t = step if low < step < high else 0.5 * (low + high)
    return t


# -- the two families: support, moments, CDF, log density ----------------------------------
@njit(cache=True)
def _family_stats(family: int, p1: np.ndarray, p2: np.ndarray, low: np.ndarray,
                  high: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> None:
    """Per plan: its TAIL quantiles (``low``, ``high``), mean and sd on the compared scale."""
    for i in range(p1.shape[0]):
        if family == NORMAL:
            mean[i], sd[i] = p1[i], p2[i]
            low[i], high[i] = p1[i] - _Z_TAIL * p2[i], p1[i] + _Z_TAIL * p2[i]
        else:
            a, b = p1[i], p2[i]
            mean[i] = digamma(a) - digamma(b)
            sd[i] = math.sqrt(trigamma(a) + trigamma(b))
            low[i] = _beta_lower_quantile(a, b, mean[i], sd[i])
            high[i] = -_beta_lower_quantile(b, a, -mean[i], sd[i])


@njit(cache=True)
def _cdf(family: int, p1: float, p2: float, x: float) -> float:
    if family == NORMAL:
        return ndtr((x - p1) / p2)
    return beta_cdf_logit(p1, p2, x)


@njit(cache=True)
def _log_norm(family: int, p1: float, p2: float) -> float:
    """The log of a plan's density's normalising constant (made once per plan and call)."""
    if family == NORMAL:
        return math.log(p2) + _LOG_SQRT_2PI
    return betaln(p1, p2)


@njit(cache=True)
def _log_density(family: int, p1: float, p2: float, norm: float, x: float) -> float:
    """The log density at ``x``; ``norm`` is :func:`_log_norm` of the plan."""
    if family == NORMAL:
        z = (x - p1) / p2
        return -0.5 * z * z - norm
    up = log_expit(x)  # log_expit(-x) = log_expit(x) - x
    return p1 * up + p2 * (up - x) - norm


# -- the integral ------------------------------------------------------------------------
@njit(cache=True)
def _panel_edges(low: np.ndarray, high: np.ndarray, mean: np.ndarray, sd: np.ndarray,
                 lower: float, upper: float) -> np.ndarray:
    """Edges in ``[lower, upper]`` (module doc, step 2)."""
    n = low.shape[0]
    marks = np.empty(n * 5 + 2)
    m = 0
    marks[m] = lower
    marks[m + 1] = upper
    m = 2
    for i in range(n):
        for j in range(5):
            if j == 0:
                x = low[i]
            elif j == 4:
                x = high[i]
            else:
                x = min(max(mean[i] + sd[i] * STEPS[j - 1], low[i]), high[i])
            if not (x > lower and x < upper):
                continue
            finer = False
            for o in range(n):
                if x > low[o] and x < high[o] and sd[o] < sd[i]:
                    finer = True
                    break
            if not finer:
                marks[m] = x
                m += 1
    return np.sort(marks[:m])


@njit(cache=True)
def _integrate(family: int, p1: np.ndarray, p2: np.ndarray, copies: np.ndarray,
               low: np.ndarray, high: np.ndarray, edges: np.ndarray,
               rows: np.ndarray) -> np.ndarray:
    """The integrals of plans ``rows`` over ``[edges[0], edges[-1]]`` (module doc, step 3).

    Every plan's CDF at every node: for normals the exact CDF, for Betas the exact CDF at the
    first edge plus the density integrated panel by panel. A plan's CDF is constant on the
    panels outside its support ``[low, high]`` (less than ``TAIL`` of its mass lies there),
    so its density is only evaluated on the others. The integrand is the row's density times
    the product of the other plans' CDFs (each to the power of its copies)."""
    n = p1.shape[0]
    n_rows = rows.shape[0]
    anchor = np.empty(n)
    norm = np.empty(n)
    for j in range(n):
        anchor[j] = _cdf(family, p1[j], p2[j], edges[0]) if family == BETA else 0.0
        norm[j] = _log_norm(family, p1[j], p2[j])
    row_of = np.full(n, -1, dtype=np.int64)
    for r in range(n_rows):
        row_of[rows[r]] = r
    result = np.zeros(n_rows)
    f = np.empty(21)
    x = np.empty(21)
    for _ in range(MAX_ROUNDS + 1):
        n_panels = edges.shape[0] - 1
        cdf = np.empty((n, n_panels, 21))
        density = np.empty((n_rows, n_panels, 21))
        density_error = np.zeros(n_panels)
        values = np.zeros((n_rows, n_panels))
        errors = np.zeros((n_rows, n_panels))
        for j in range(n):
            mass_before = anchor[j]
            row = row_of[j]
            for q in range(n_panels):
                outside = edges[q + 1] <= low[j] or edges[q] >= high[j]
                if outside and row < 0:
                    value = mass_before if family == BETA else \
                        (0.0 if edges[q + 1] <= low[j] else 1.0)
                    for node in range(21):
                        cdf[j, q, node] = value
                    continue
                half = 0.5 * (edges[q + 1] - edges[q])
                middle = edges[q] + half
                for node in range(21):
                    x[node] = middle + half * NODES[node]
                    f[node] = math.exp(_log_density(family, p1[j], p2[j], norm[j],
                                                    x[node])) * half
                if row >= 0:
                    for node in range(21):
                        density[row, q, node] = f[node]
                if family == NORMAL:  # the exact CDF
                    for node in range(21):
                        cdf[j, q, node] = ndtr((x[node] - p1[j]) / p2[j])
                    continue
                mass = 0.0
                gauss = 0.0
                for node in range(21):
                    mass += KRONROD[node] * f[node]
                    gauss += GAUSS[node] * f[node]
                if abs(mass - gauss) > density_error[q]:
                    density_error[q] = abs(mass - gauss)
                for node in range(21):
                    within = 0.0
                    for m in range(21):
                        within += CUMULATIVE[node, m] * f[m]
                    cdf[j, q, node] = mass_before + within
                mass_before += mass
        for r in range(n_rows):
            i = rows[r]
            for q in range(n_panels):
                kron = 0.0
                gauss = 0.0
                for node in range(21):
                    product = 1.0
                    for j in range(n):
                        power = copies[j] - 1.0 if j == i else copies[j]
                        if power == 0.0:
                            continue
                        value = min(max(cdf[j, q, node], 0.0), 1.0)
                        product *= value if power == 1.0 else value ** power
                    g = density[r, q, node] * product
                    kron += KRONROD[node] * g
                    gauss += GAUSS[node] * g
                values[r, q] = kron
                errors[r, q] = abs(kron - gauss)
        total_error = 0.0
        panel_error = np.empty(n_panels)
        for q in range(n_panels):
            worst = density_error[q]
            for r in range(n_rows):
                if errors[r, q] > worst:
                    worst = errors[r, q]
            panel_error[q] = worst
            total_error += worst
        for r in range(n_rows):
            result[r] = values[r].sum()
        if total_error <= TOL:
            return result
        bad = panel_error > TOL / n_panels
        added = np.empty(n_panels)
        n_added = 0
        for q in range(n_panels):
            if bad[q]:
                added[n_added] = 0.5 * (edges[q] + edges[q + 1])
                n_added += 1
        edges = np.sort(np.concatenate((edges, added[:n_added])))
    return result


@njit(cache=True)
def family_stats(family: int, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """``(4, K)``: each plan's TAIL quantiles, mean and sd on the compared scale (a
    Thompson policy keeps them and refreshes only the plan an update changed)."""
    n = p1.shape[0]
    stats = np.empty((4, n))
    _family_stats(family, p1, p2, stats[0], stats[1], stats[2], stats[3])
    return stats


@njit(cache=True)
def _argmax_on(family: int, p1: np.ndarray, p2: np.ndarray, copies: np.ndarray,
               stats: np.ndarray, plan: int, floor: float) -> np.ndarray:
    """Per plan (``plan < 0``: every plan; else that plan alone, in a one-element array):
    the probability that one given copy of it has the largest draw, plan ``j`` present
    ``copies[j]`` times; ``stats`` as :func:`family_stats` gives them; no winning score lies
    below ``floor``. One plan alone is integrated over its own support only (a plan whose
    support lies wholly below the others' is integrated there in full, so a chosen plan
    never gets 0)."""
    n = p1.shape[0]
    low, high, mean, sd = stats[0], stats[1], stats[2], stats[3]
    top_low = low.max()
    if plan < 0:
        lower, upper = max(top_low, floor), high.max()
    else:
        lower = max(low[plan], floor)
        if high[plan] > top_low:
            lower = max(lower, top_low)
        upper = high[plan]
    out = np.zeros(n if plan < 0 else 1)
    if not upper > lower:
        return out
    active = np.flatnonzero(high > lower)
    m = active.shape[0]
    q1, q2, c = np.empty(m), np.empty(m), np.empty(m)
    lo, hi, mu, sigma = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    row = 0
    for i in range(m):
        a = active[i]
        q1[i], q2[i], c[i] = p1[a], p2[a], copies[a]
        lo[i], hi[i], mu[i], sigma[i] = low[a], high[a], mean[a], sd[a]
        if a == plan:
            row = i
    edges = _panel_edges(lo, hi, mu, sigma, lower, upper)
    if plan < 0:
        values = _integrate(family, q1, q2, c, lo, hi, edges, np.arange(m))
        for i in range(m):
            out[active[i]] = values[i]
    else:
        out[0] = _integrate(family, q1, q2, c, lo, hi, edges, np.array([row]))[0]
    return out


@njit(cache=True)
def _groups(first: np.ndarray, second: np.ndarray):
    """Plans with equal parameter pairs: one representative per group (its first plan),
    each plan's group, and the group sizes."""
    n = first.shape[0]
    order = np.argsort(second, kind="mergesort")
    order = order[np.argsort(first[order], kind="mergesort")]
    group = np.empty(n, dtype=np.int64)
    index = np.empty(n, dtype=np.int64)
    copies = np.zeros(n)
    g = -1
    for i in range(n):
        p = order[i]
        if i == 0 or first[p] != first[order[i - 1]] or second[p] != second[order[i - 1]]:
            g += 1
            index[g] = p
        group[p] = g
        copies[g] += 1.0
    return index[:g + 1], group, copies[:g + 1]


@njit(cache=True)
def beta_probability(a: np.ndarray, b: np.ndarray, stats: np.ndarray, plan: int) -> float:
    """Probability that plan ``plan``'s ``Beta(a, b)`` draw is the largest (compiled;
    ``stats``: :func:`family_stats` of ``a, b``)."""
    index, group, copies = _groups(a, b)
    if index.shape[0] == 1:
        return 1.0 / a.shape[0]
    return _argmax_on(BETA, a[index], b[index], copies, stats[:, index], group[plan],
                      -np.inf)[0]


@njit(cache=True)
def beta_probabilities(a: np.ndarray, b: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """Probability that each of independent ``Beta(a_i, b_i)`` draws is the largest
    (normalised to sum 1; compiled)."""
    index, group, copies = _groups(a, b)
    if index.shape[0] == 1:
        return np.full(a.shape[0], 1.0 / a.shape[0])
    probs = _argmax_on(BETA, a[index], b[index], copies, stats[:, index], -1, -np.inf)[group]
    return probs / probs.sum()


@njit(cache=True)
def _top_point_mass(mean: np.ndarray, sd: np.ndarray, copies: np.ndarray, top: float) -> float:
    """Probability of each copy of the point mass at ``top`` (the highest): every continuous
    draw below ``top``, shared among the tied copies."""
    below = 1.0
    tied = 0.0
    for i in range(mean.shape[0]):
        if sd[i] > 0.0:
            below *= ndtr((top - mean[i]) / sd[i]) ** copies[i]
        elif mean[i] == top:
            tied += copies[i]
    return below / tied


@njit(cache=True)
def normal_probability(mean: np.ndarray, sd: np.ndarray, plan: int) -> float:
    """Probability that plan ``plan``'s ``N(mean, sd^2)`` draw is the largest (point masses
    as in :func:`normal_probabilities`; compiled)."""
    index, group, copies = _groups(mean, sd)
    if index.shape[0] == 1:
        return 1.0 / mean.shape[0]
    m, s, g = mean[index], sd[index], group[plan]
    point = s == 0.0
    top = -np.inf
    for i in range(m.shape[0]):
        if point[i] and m[i] > top:
            top = m[i]
    if point[g]:
        return _top_point_mass(m, s, copies, top) if m[g] == top else 0.0
    smooth = np.flatnonzero(~point)
    row = 0
    for i in range(smooth.shape[0]):
        if smooth[i] == g:
            row = i
    m, s = m[smooth], s[smooth]
    return _argmax_on(NORMAL, m, s, copies[smooth], family_stats(NORMAL, m, s), row, top)[0]


@njit(cache=True)
def normal_probabilities(mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Probability that each of independent ``N(mean_i, sd_i^2)`` draws is the largest
    (normalised to sum 1; compiled).

    A plan with ``sd_i == 0`` is a point mass at ``mean_i``: only the highest point mass
    ``m`` can win, with probability ``prod_j F_j(m)`` over the continuous plans, shared
    equally among point masses tied at ``m`` (the decision breaks exact ties uniformly); the
    continuous plans then win only above ``m``.
    """
    index, group, copies = _groups(mean, sd)
    if index.shape[0] == 1:
        return np.full(mean.shape[0], 1.0 / mean.shape[0])
    m, s = mean[index], sd[index]
    point = s == 0.0
    probs = np.zeros(m.shape[0])
    if not point.any():
        probs = _argmax_on(NORMAL, m, s, copies, family_stats(NORMAL, m, s), -1, -np.inf)
    else:
        top = -np.inf
        for i in range(m.shape[0]):
            if point[i] and m[i] > top:
                top = m[i]
        smooth = np.flatnonzero(~point)
        if smooth.shape[0]:
            ms, ss = m[smooth], s[smooth]
            values = _argmax_on(NORMAL, ms, ss, copies[smooth], family_stats(NORMAL, ms, ss),
                                -1, top)
            for i in range(smooth.shape[0]):
                probs[smooth[i]] = values[i]
        share = _top_point_mass(m, s, copies, top)
        for i in range(m.shape[0]):
            if point[i] and m[i] == top:
                probs[i] = share
    probs = probs[group]
    return probs / probs.sum()


def argmax_probabilities(family: int, first, second, copies) -> np.ndarray:
    """Unnormalised per-plan probabilities of the largest draw (``copies[j]`` draws of plan
    ``j``): what the public functions normalise; for tests."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    return _argmax_on(int(family), first, second, np.asarray(copies, dtype=float),
                      family_stats(int(family), first, second), -1, -np.inf)


def beta_argmax_probabilities(a, b) -> np.ndarray:
    """Probability that each of independent ``Beta(a_i, b_i)`` draws is the largest."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return beta_probabilities(a, b, family_stats(BETA, a, b))


def beta_argmax_probability(a, b, plan: int) -> float:
    """Probability that plan ``plan``'s ``Beta(a, b)`` draw is the largest."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(beta_probability(a, b, family_stats(BETA, a, b), int(plan)))


def normal_argmax_probabilities(mean, sd) -> np.ndarray:
    """Probability that each of independent ``N(mean_i, sd_i^2)`` draws is the largest."""
    return normal_probabilities(np.asarray(mean, dtype=float), np.asarray(sd, dtype=float))


def normal_argmax_probability(mean, sd, plan: int) -> float:
    """Probability that plan ``plan``'s ``N(mean, sd^2)`` draw is the largest."""
    return float(normal_probability(np.asarray(mean, dtype=float), np.asarray(sd, dtype=float),
                                    int(plan)))
