"""LambdaMART and its training modes on synthetic problems with known relevance (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.ranking.learned import (ClickBuffer, LambdaMART, check_correction, check_mode,
                                  check_ranker, fit_clicks, fit_qrels, group_sizes)

DOCS = 30
P_CLICK = np.array([0.05, 0.3, 0.5, 0.95])  # P(click | grade 0..3), navigational-like


def world(rng: np.random.Generator, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Queries of 30 documents, 4 features; relevance grades 0..3 from features 0 and 1."""
    X = rng.normal(size=(n_queries, DOCS, 4))
    grades = np.digitize(X[:, :, 0] + 0.5 * X[:, :, 1], [0.5, 1.2, 2.0])
    return X, grades


def ndcg10(scores: np.ndarray, grades: np.ndarray, rng: np.random.Generator) -> float:
    order = np.lexsort((rng.random(len(scores)), -scores))[:10]
    discount = 1 / np.log2(np.arange(2, 12))
    ideal = ((2.0 ** np.sort(grades)[::-1][:10] - 1) * discount).sum()
    return float(((2.0 ** grades[order] - 1) * discount).sum() / ideal) if ideal else 0.0


def mean_ndcg(score, X, grades) -> float:
    rng = np.random.default_rng(5)
    return float(np.mean([ndcg10(score(X[q]), grades[q], rng) for q in range(len(X))]))


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    return world(rng, 300), world(rng, 200)


def test_qrels_ranker_beats_random_by_a_clear_margin(problem):
    (X, grades), (Xt, gt) = problem
    model = fit_qrels(X.reshape(-1, 4), grades.reshape(-1), np.repeat(np.arange(300), DOCS))
    rng = np.random.default_rng(9)
    learned = mean_ndcg(model.score, Xt, gt)
    random = mean_ndcg(lambda x: rng.random(len(x)), Xt, gt)
    assert random < 0.35 and learned > 0.9
    assert learned - random > 0.5


def biased_log(X, grades, sessions_per_query: int, seed: int):
    """PBM clicks (examination 1/rank) on top-10 pages of a logging ranker that mostly
    follows feature 2, which is irrelevant: naive training learns to copy it."""
    rng = np.random.default_rng(seed)
    rows, clicks = [], []
    for _ in range(sessions_per_query):
        for q in range(len(X)):
            logging = X[q, :, 2] + 0.5 * X[q, :, 0] + 0.3 * rng.normal(size=DOCS)
            shown = np.argsort(-logging)[:10]
            examined = rng.random(10) < 1.0 / np.arange(1, 11)
            rows.append(X[q, shown])
            clicks.append(examined & (rng.random(10) < P_CLICK[grades[q, shown]]))
    n = len(rows)
    return (np.vstack(rows), np.tile(np.arange(10), n), np.concatenate(clicks).astype(int),
            np.repeat(np.arange(n), 10))


def test_position_bias_correction_beats_naive_click_training(problem):
    (X, grades), (Xt, gt) = problem
    log = biased_log(X, grades, 20, seed=0)
    models = {c: fit_clicks(*log, correction=c) for c in ("position", "ips", "none")}
    value = {c: mean_ndcg(m.score, Xt, gt) for c, m in models.items()}
    assert value["position"] - value["none"] > 0.04  # measured 0.963 vs 0.887
    assert value["none"] < value["ips"] < value["position"]  # ips 0.933
    # the naive model leans on the logging ranker's irrelevant feature 2
    naive, fixed = (models[c].booster.feature_importance("gain") for c in ("none", "position"))
    assert naive[2] / naive.sum() > 1.5 * fixed[2] / fixed.sum()


def test_click_training_drops_pages_without_clicks_and_reports_it(problem):
    (X, grades), _ = problem
    Xs, pos, click, group = biased_log(X[:50], grades[:50], 2, seed=1)
    model = fit_clicks(Xs, pos, click, group, "position")
    clicked_pages = len(np.unique(group[click > 0]))
    assert model.meta == {"correction": "position", "pages": clicked_pages,
                          "rows": 10 * clicked_pages}
    with pytest.raises(ValueError, match="no shown page has a click"):
        fit_clicks(Xs, pos, np.zeros_like(click), group)


def test_same_data_and_seed_give_the_same_model(problem):
    (X, grades), _ = problem
    args = (X[:100].reshape(-1, 4), grades[:100].reshape(-1), np.repeat(np.arange(100), DOCS))
    a, b = fit_qrels(*args), fit_qrels(*args)
    assert a.to_string() == b.to_string()
    c = fit_qrels(*args, params={"seed": 1, "bagging_fraction": 0.5, "bagging_freq": 1})
    assert c.to_string() != a.to_string()


def test_early_stopping_on_validation_topics(problem):
    (X, grades), (Xt, gt) = problem
    model = fit_qrels(X.reshape(-1, 4), grades.reshape(-1), np.repeat(np.arange(300), DOCS),
                      params={"num_boost_round": 400, "learning_rate": 0.3},
                      valid=(Xt.reshape(-1, 4), gt.reshape(-1), np.repeat(np.arange(200), DOCS)))
    assert 0 < model.n_trees < 400


def test_groups_need_not_be_contiguous():
    order, sizes = group_sizes(np.array([3, 1, 3, 2, 1]))
    assert order.tolist() == [1, 4, 3, 0, 2] and sizes.tolist() == [2, 1, 2]


def test_score_checks_the_feature_count(problem):
    (X, grades), _ = problem
    model = fit_qrels(X[:40].reshape(-1, 4), grades[:40].reshape(-1), np.repeat(np.arange(40), DOCS))
    assert model.score(np.zeros((0, 4))).shape == (0,)
    with pytest.raises(ValueError, match=r"expected 4 feature columns, got shape \(2, 3\)"):
        model.score(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="call fit first"):
        LambdaMART().score(np.zeros((1, 4)))


def test_click_buffer_feeds_the_online_retraining(problem):
    (X, grades), (Xt, gt) = problem
    Xs, pos, click, group = biased_log(X[:100], grades[:100], 3, seed=2)
    buffer = ClickBuffer(correction="position")
    assert buffer.fit() is None  # nothing to learn from yet
    for g in range(group.max() + 1):
        rows = group == g
        buffer.add(Xs[rows], click[rows])
    assert len(buffer) == group.max() + 1 and buffer.n_clicks == int(click.sum())
    bx, bpos, bclick, bgroup = buffer.arrays()
    np.testing.assert_array_equal(bx, Xs)
    np.testing.assert_array_equal(bpos, pos)
    np.testing.assert_array_equal(bclick, click)
    np.testing.assert_array_equal(bgroup, group)
    model = buffer.fit()
    assert model.to_string() == fit_clicks(Xs, pos, click, group, "position").to_string()
    recent = ClickBuffer(max_pages=5)
    for g in range(8):
        recent.add(Xs[group == g], click[group == g])
    np.testing.assert_array_equal(recent.arrays()[0], Xs[(group >= 3) & (group < 8)])


def test_unknown_names_are_input_errors():
    with pytest.raises(InputError, match=r"^unknown ranker 'xgb' "
                                         r"\(choose from lambdamart\)$"):
        check_ranker("xgb")
    with pytest.raises(InputError, match=r"^unknown training mode 'supervised' "
                                         r"\(choose from qrels, clicks, online\)$"):
        check_mode("supervised")
    with pytest.raises(InputError, match=r"^unknown click correction 'dr' "
                                         r"\(choose from position, ips, none\)$"):
        check_correction("dr")
    with pytest.raises(InputError, match="unknown click correction 'x'"):
        ClickBuffer(correction="x")
