"""Thompson sampling's exact propensities (ltrr.selection.policies.argmax).

Checked against two independent computations on randomised hard cases: scipy's adaptive
``quad_vec`` on the exact CDFs (to 1e-9), and a million posterior draws (to 1e-3, and to
five standard errors, which is what matters for rare plans' IPS weights).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial import legendre
from scipy import integrate, special

from ltrr.selection.policies import argmax
from ltrr.selection.policies.argmax import (BETA, NORMAL, argmax_probabilities,
                                            beta_argmax_probabilities, beta_argmax_probability,
                                            normal_argmax_probabilities,
                                            normal_argmax_probability)

LEVELS = np.array([1e-16, 1e-10, 1e-6, 1e-3, 0.02, 0.1, 0.3, 0.5])


def beta_case(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Beta(successes + prior, failures + prior) posteriors of a plausible run."""
    rng = np.random.default_rng(seed)
    prior = 1.0
    if kind == "peaked":  # thousands of plays each, overlapping: sd ~ 0.007
        plays, rate = rng.integers(3000, 6000, 16), rng.uniform(0.47, 0.53, 16)
    elif kind == "mixed":  # half peaked, half barely tried
        plays = np.where(np.arange(20) % 2 == 0, rng.integers(3000, 6000, 20),
                         rng.integers(0, 20, 20))
        rate = rng.uniform(0.3, 0.7, 20)
    elif kind == "close":  # peaked posteriors a few sd apart
        plays, rate = rng.integers(1000, 6000, 16), 0.5 + rng.normal(0.0, 0.005, 16)
    elif kind == "separated":  # 24 plans, most far below the best
        plays, rate = np.full(24, 5000), rng.uniform(0.0, 1.0, 24)
    else:  # "jeffreys": Beta(1/2, 1/2) prior, few plays: densities unbounded at 0 or 1
        prior, plays = 0.5, rng.integers(0, 6, 10)
        rate = rng.uniform(0.0, 1.0, 10)
    successes = rng.binomial(plays, np.clip(rate, 0.0, 1.0))
    return successes + prior, plays - successes + prior


def normal_case(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Means and sds of LinTS scores."""
    rng = np.random.default_rng(seed)
    if kind == "overlap":  # early LinTS: 16 broad, overlapping scores
        return rng.normal(0.0, 0.3, 16), rng.uniform(0.3, 0.45, 16)
    if kind == "mixed":  # a peaked cluster among flat plans
        sd = np.where(np.arange(20) % 2 == 0, 10 ** rng.uniform(-3, -1, 20),
                      rng.uniform(0.5, 1.0, 20))
        return rng.normal(0.0, 0.3, 20), sd
    return rng.normal(0.0, 1.0, 16), 10 ** rng.uniform(-4, 1, 16)  # "scales"


BETA_KINDS = ["peaked", "mixed", "close", "separated", "jeffreys"]
NORMAL_KINDS = ["overlap", "mixed", "scales"]


def _quad_vec(pdf, cdf, points: np.ndarray) -> np.ndarray:
    """``integral f_i prod_{j != i} F_j`` for every plan by scipy's adaptive quad_vec,
    with breakpoints at every plan's quantiles (the product: prefix times suffix)."""
    def integrand(t: float) -> np.ndarray:
        c = cdf(t)
        before = np.concatenate([[1.0], np.cumprod(c[:-1])])
        after = np.concatenate([np.cumprod(c[::-1][:-1])[::-1], [1.0]])
        return pdf(t) * before * after
    points = np.unique(points[np.isfinite(points)])
    return integrate.quad_vec(integrand, points[0], points[-1], points=points[1:-1],
                              epsabs=1e-15, epsrel=1e-12, norm="max", limit=5000)[0]


def beta_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """On the logit scale t (same argmax), where every Beta density is bounded."""
    def pdf(t: float) -> np.ndarray:
        return np.exp(a * special.log_expit(t) + b * special.log_expit(-t) - special.betaln(a, b))

    def cdf(t: float) -> np.ndarray:
        if t < 0:
            return special.betainc(a, b, special.expit(t))
        return 1.0 - special.betainc(b, a, special.expit(-t))
    points = np.concatenate([special.logit(special.betaincinv(a, b, LEVELS[:, None])).ravel(),
                             -special.logit(special.betaincinv(b, a, LEVELS[:, None])).ravel()])
    return _quad_vec(pdf, cdf, points)


def normal_reference(mean: np.ndarray, sd: np.ndarray, floor: float = -np.inf) -> np.ndarray:
    def pdf(x: float) -> np.ndarray:
        return np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * np.sqrt(2.0 * np.pi))
    z = special.ndtri(LEVELS[:, None])
    points = np.concatenate([(mean + z * sd).ravel(), (mean - z * sd).ravel()])
    if np.isfinite(floor):
        points = np.concatenate([[floor], points[points > floor]])
    return _quad_vec(pdf, lambda x: special.ndtr((x - mean) / sd), points)


def draw_shares(draw, k: int, n: int = 1_000_000, chunk: int = 100_000) -> np.ndarray:
    """How often each plan has the largest of ``n`` draws (``draw(size)`` gives them)."""
    wins = np.zeros(k)
    for _ in range(n // chunk):
        wins += np.bincount(draw((chunk, k)).argmax(axis=1), minlength=k)
    return wins / n


def assert_matches_draws(probs: np.ndarray, shares: np.ndarray, n: int = 1_000_000) -> None:
    np.testing.assert_allclose(probs, shares, atol=1e-3, rtol=0)
    standard_error = np.sqrt(probs * (1.0 - probs) / n)
    assert (np.abs(probs - shares) <= 5.0 * standard_error + 1e-6).all()


@pytest.mark.parametrize("kind", BETA_KINDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_beta_probabilities_match_quadpack(kind, seed):
    a, b = beta_case(kind, seed)
    np.testing.assert_allclose(beta_argmax_probabilities(a, b), beta_reference(a, b),
                               atol=1e-9, rtol=0)


@pytest.mark.parametrize("kind", NORMAL_KINDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_normal_probabilities_match_quadpack(kind, seed):
    mean, sd = normal_case(kind, seed)
    np.testing.assert_allclose(normal_argmax_probabilities(mean, sd),
                               normal_reference(mean, sd), atol=1e-9, rtol=0)


@pytest.mark.parametrize("kind", ["peaked", "mixed", "jeffreys"])
def test_beta_probabilities_match_a_million_draws(kind):
    a, b = beta_case(kind, 2)
    rng = np.random.default_rng(7)
    shares = draw_shares(lambda size: rng.beta(a, b, size=size), len(a))
    assert_matches_draws(beta_argmax_probabilities(a, b), shares)


@pytest.mark.parametrize("kind", ["overlap", "mixed"])
def test_normal_probabilities_match_a_million_draws(kind):
    mean, sd = normal_case(kind, 2)
    rng = np.random.default_rng(8)
    shares = draw_shares(lambda size: mean + sd * rng.standard_normal(size), len(mean))
    assert_matches_draws(normal_argmax_probabilities(mean, sd), shares)


def test_unnormalised_probabilities_sum_to_one():
    """Before the final normalisation: the integrals themselves add up to 1."""
    for kind in BETA_KINDS:
        a, b = beta_case(kind, 3)
        assert argmax_probabilities(BETA, a, b, np.ones(len(a))).sum() == \
            pytest.approx(1.0, abs=1e-9)
    for kind in NORMAL_KINDS:
        mean, sd = normal_case(kind, 3)
        assert argmax_probabilities(NORMAL, mean, sd, np.ones(len(mean))).sum() == \
            pytest.approx(1.0, abs=1e-9)


def test_identical_plans_get_exactly_equal_shares():
    assert (beta_argmax_probabilities(np.ones(16), np.ones(16)) == 1 / 16).all()  # cold start
    assert (normal_argmax_probabilities(np.zeros(5), np.ones(5)) == 0.2).all()
    a, b = np.array([3.0, 1.0, 3.0, 1.0, 3.0]), np.array([5.0, 1.0, 5.0, 1.0, 5.0])
    probs = beta_argmax_probabilities(a, b)
    assert probs[0] == probs[2] == probs[4] and probs[1] == probs[3]
    np.testing.assert_allclose(probs, beta_reference(a, b), atol=1e-9, rtol=0)


def test_zero_variance_scores_are_point_masses():
    mean, sd = np.array([0.5, 0.0, 0.8, 0.3]), np.array([0.0, 0.4, 0.2, 0.0])
    probs = normal_argmax_probabilities(mean, sd)
    smooth = np.array([1, 2])
    point_wins = np.prod(special.ndtr((0.5 - mean[smooth]) / sd[smooth]))
    assert probs[0] == pytest.approx(point_wins, abs=1e-12)
    assert probs[3] == 0.0  # below the other point mass: never the largest
    np.testing.assert_allclose(probs[smooth], normal_reference(mean[smooth], sd[smooth], 0.5),
                               atol=1e-9, rtol=0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    tied = normal_argmax_probabilities(np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.0, 0.3]))
    assert tied[0] == tied[1] == pytest.approx(special.ndtr(0.5 / 0.3) / 2, abs=1e-12)
    assert normal_argmax_probabilities(np.array([1.0, 2.0, 0.0]), np.zeros(3)).tolist() == \
        [0.0, 1.0, 0.0]


def test_one_plan_alone_agrees_with_every_plan():
    """What ``choose`` logs (one plan, integrated over its own support) is the same
    probability as the all-plans integral gives it."""
    for kind in BETA_KINDS:
        a, b = beta_case(kind, 5)
        every = beta_argmax_probabilities(a, b)
        for plan in range(len(a)):
            assert beta_argmax_probability(a, b, plan) == pytest.approx(every[plan], abs=1e-10)
    for kind in NORMAL_KINDS:
        mean, sd = normal_case(kind, 5)
        every = normal_argmax_probabilities(mean, sd)
        for plan in range(len(mean)):
            assert normal_argmax_probability(mean, sd, plan) == pytest.approx(every[plan],
                                                                              abs=1e-10)


def test_special_functions_match_scipy():
    """The Beta family's special functions, written for numba, against scipy's."""
    for x in [0.3, 1.0, 2.5, 7.0, 40.0, 3000.5]:
        assert argmax.digamma(x) == pytest.approx(special.digamma(x), rel=1e-13, abs=1e-13)
        assert argmax.trigamma(x) == pytest.approx(special.polygamma(1, x), rel=1e-13)
    for a, b, t in [(1, 1, -3), (0.5, 0.5, 2.0), (3000, 2900, 0.01), (3000, 2900, -0.2),
                    (5, 2, 1.0), (1, 20, -6), (0.5, 3, -30.0)]:
        exact = (special.betainc(a, b, special.expit(t)) if t < 0
                 else 1.0 - special.betainc(b, a, special.expit(-t)))
        assert argmax.beta_cdf_logit(float(a), float(b), float(t)) == pytest.approx(exact,
                                                                                    rel=1e-10)


def test_quadrature_tables_are_exact_where_they_should_be():
    """Kronrod 21 integrates degree 31 exactly, its Gauss 10 degree 19; CUMULATIVE gives the
    running integral of a degree-20 polynomial at the nodes."""
    t = argmax.NODES
    for degree in range(32):
        exact = (1.0 - (-1.0) ** (degree + 1)) / (degree + 1)
        assert argmax.KRONROD @ t ** degree == pytest.approx(exact, abs=1e-14)
        if degree < 20:
            assert argmax.GAUSS @ t ** degree == pytest.approx(exact, abs=1e-14)
    poly = np.arange(1.0, 22.0)  # a degree-20 Legendre series
    antiderivative = legendre.legint(poly, lbnd=-1)
    np.testing.assert_allclose(argmax.CUMULATIVE @ legendre.legval(t, poly),
                               legendre.legval(t, antiderivative), atol=1e-11)
