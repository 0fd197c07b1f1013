"""The compiled per-step arithmetic (ltrr.kernel) against plain reference code.

On random pools: every plan's page equals a Python sort by the documented rule (fused score
computed exactly, then best rank, then tie key); expected clicks equal the closed forms
written out with numpy; sampled clicks follow the expected clicks (10^5 pages).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from ltrr.kernel.clicks import CASCADE, DCM, PBM, expected_clicks, sample_clicks
from ltrr.kernel.pages import pages_from_scores, plan_pages
from ltrr.kernel.pools import CandidatePool
from ltrr.kernel.ties import round_scores, tie_keys

P_CLICK = np.array([0.05, 0.3, 0.5, 0.7, 0.95])
P_STOP = np.array([0.2, 0.3, 0.5, 0.7, 0.9])


def random_pool(rng, n_arms=4, depth=30, n_docs=70):
    ids = [rng.choice(n_docs, size=rng.integers(1, depth + 1), replace=False)
           for _ in range(n_arms)]
    # scores on a coarse grid: many exact ties inside lists (and CombSUM ties after scaling)
    scores = [np.sort(rng.integers(0, 8, len(i)).astype(float))[::-1] for i in ids]
    return ids, scores, CandidatePool.from_lists(ids, scores)


def reference_pages(ids, scores, depths, fusion, k, page, keys):
    """Each plan's page by a Python sort: fused scores (each document's contributions summed
    in ascending order, the documented rule), then the best rank in the plan's lists, then
    the key."""
    out = []
    for plan in depths:
        parts, best = {}, {}
        for a, (lst, sc) in enumerate(zip(ids, scores)):
            depth = min(plan[a], len(lst))
            if depth == 0:
                continue
            low, top = sc[depth - 1], sc[0]
            span = top - low if top - low > 0 else 1.0
            for r in range(depth):
                d = int(lst[r])
                value = 1.0 / (k + r + 1.0) if fusion == "rrf" else (sc[r] - low) / span
                parts.setdefault(d, []).append(value)
                best[d] = min(best.get(d, r), r)
        fused = {}
        for d, values in parts.items():
            total = 0.0
            for x in sorted(values):
                total += x
            fused[d] = total
        exact = {d: Fraction(0) + sum(Fraction(x) for x in v) for d, v in parts.items()}
        assert all(abs(fused[d] - float(exact[d])) < 1e-12 for d in fused)
        order = sorted(fused, key=lambda d: (-fused[d], best[d], int(keys[d])))
        out.append(order[:page] + [-1] * (page - len(order[:page])))
    return out


@pytest.mark.parametrize("fusion", ["rrf", "combsum"])
@pytest.mark.parametrize("seed", range(5))
def test_pages_equal_a_python_sort_by_the_rule(fusion, seed):
    rng = np.random.default_rng(seed)
    ids, scores, pool = random_pool(rng)
    keys = tie_keys([f"doc{d}" for d in range(70)], seed)
    depths = rng.integers(0, 31, size=(20, 4))
    pages, _ = plan_pages(pool, depths, fusion, k=60, page=10, keys=keys[pool.docs])
    got = [[int(pool.docs[u]) if u >= 0 else -1 for u in row] for row in pages]
    assert got == reference_pages(ids, scores, depths, fusion, 60, 10, keys)


def test_learned_pages_equal_a_python_sort():
    rng = np.random.default_rng(9)
    ids, scores, pool = random_pool(rng)
    keys = tie_keys([f"doc{d}" for d in range(70)], 1)
    learned = rng.integers(0, 5, len(pool.docs)).astype(float)  # ties on purpose
    depths = rng.integers(0, 31, size=(10, 4))
    pages, _ = pages_from_scores(pool, depths, learned, 8, keys[pool.docs])
    score = dict(zip(pool.docs.tolist(), learned))
    for plan, row in zip(depths, pages):
        best = {}
        for a, lst in enumerate(ids):
            for r, d in enumerate(lst[:plan[a]]):
                best[int(d)] = min(best.get(int(d), r), r)
        order = sorted(best, key=lambda d: (-score[d], best[d], int(keys[d])))[:8]
        assert [int(pool.docs[u]) for u in row if u >= 0] == order


def reference_expected(grades, model, examination):
    """The closed forms with numpy: PBM attract x examination; cascade/DCM examination as
    the product of 'went on' over the positions before."""
    empty = grades < 0
    attract = np.where(empty, 0.0, P_CLICK[np.clip(grades, 0, 4)])
    if model == PBM:
        return attract * examination
    stop = np.ones(5) if model == CASCADE else P_STOP
    go_on = 1.0 - attract * np.where(empty, 0.0, stop[np.clip(grades, 0, 4)])
    examined = np.concatenate([np.ones((len(grades), 1)), np.cumprod(go_on, axis=1)[:, :-1]],
                              axis=1)
    return examined * attract


@pytest.mark.parametrize("model", [PBM, CASCADE, DCM])
def test_expected_clicks_equal_the_closed_forms(model):
    rng = np.random.default_rng(model)
    grades = rng.integers(-1, 5, size=(500, 10))
    examination = 1.0 / np.arange(1, 11)
    stop = np.ones(5) if model == CASCADE else P_STOP
    got = expected_clicks(grades, model, P_CLICK, stop, examination)
    np.testing.assert_allclose(got, reference_expected(grades, model, examination), rtol=1e-15,
                               atol=0)


@pytest.mark.parametrize("model", [PBM, CASCADE, DCM])
def test_sampled_clicks_follow_the_expected_clicks(model):
    """10^5 sampled pages: the click rate at each position within 5 standard errors of the
    closed form (for PBM also the joint rate of two positions, independent given the page)."""
    grades = np.array([4, 0, 3, -1, 2, 1, 4, 0, 1, 3])
    examination = 1.0 / np.arange(1, 11)
    stop = np.ones(5) if model == CASCADE else P_STOP
    rng = np.random.default_rng(11)
    n = 100_000
    clicks = np.zeros((n, 10), dtype=np.int8)
    satisfied = np.full(1, -1, dtype=np.int64)
    for i in range(n):
        sample_clicks(grades, model, P_CLICK, stop, P_STOP, examination, rng, clicks[i],
                      satisfied)
    expected = expected_clicks(grades[None, :], model, P_CLICK, stop, examination)[0]
    rate = clicks.mean(axis=0)
    error = np.sqrt(np.maximum(expected * (1 - expected), 1e-12) / n)
    assert (np.abs(rate - expected) <= 5 * error + 1e-9).all()
    assert clicks[:, 3].sum() == 0  # an empty slot is never clicked
    if model == PBM:
        joint = (clicks[:, 0] & clicks[:, 2]).mean()
        assert abs(joint - expected[0] * expected[2]) < 5 * np.sqrt(joint / n)


def test_scores_round_to_the_stated_significant_digits():
    from ltrr.kernel.ties import SCORE_DIGITS

    assert SCORE_DIGITS == 5
    values = np.array([0.81234567, 12.3456789, -0.000123456789, 0.0, 99999.5, 3.000005])
    np.testing.assert_array_equal(round_scores(values),
                                  [0.81235, 12.346, -0.00012346, 0.0, 100000.0, 3.0])
    np.testing.assert_array_equal(round_scores(values[:2], 6), [0.812346, 12.3457])
    x = round_scores(np.random.default_rng(0).random(1000))
    assert (round_scores(x) == x).all()  # rounding twice changes nothing
    ulp = np.nextafter(x.astype(np.float32), np.float32(2)).astype(float)
    assert (round_scores(ulp) == x).all()  # a float32 ulp up rounds back


def test_tie_keys_are_a_seeded_hash_of_the_docno():
    a = tie_keys(["t1", "t2", "ar1"], 0)
    assert a.tolist() == tie_keys(["t1", "t2", "ar1"], 0).tolist()
    assert a.tolist() != tie_keys(["t1", "t2", "ar1"], 1).tolist()
    assert tie_keys(["ar1"], 0)[0] == a[2]  # a key does not depend on the other docnos
