"""The ground truth of rankers from logged pages (``ltrr.experiments.ope_truth.ranking_truth``) on a toy pool:
its logs pass ``ltrr ope --pages``' checks with consistent probabilities, its on-policy values
are the click model's expectations, and its benchmark file is checked."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.ope import slate
from ltrr.ope.pages import to_page_logs
from ltrr.experiments.ope_truth.ranking_truth import Logger, Pools, load, on_policy_value, page_log, rrf_scores
from ltrr.simulation.clicks import make_click_model


def toy_pools() -> Pools:
    """Two topics: 6 and 4 candidates with grades, RRF-like scores and their reverse."""
    grades = [np.array([4, 0, 3, 0, 1, 0]), np.array([0, 2, 0, 4])]
    scores = [np.array([6.0, 5, 4, 3, 2, 1]), np.array([4.0, 3, 2, 1])]
    return Pools("union", [np.array([f"t{t}d{i}" for i in range(len(g))]) for t, g in
                           enumerate(grades)], grades, [np.arange(len(g), dtype=np.uint64)
                                                        for g in grades],
                 {"rrf": scores, "reversed-rrf": [-s for s in scores]})


def test_rrf_scores_are_cormacks_with_one_based_ranks():
    from ltrr.kernel.pools import ABSENT

    ranks = np.array([[0, 1, ABSENT], [ABSENT, 0, 2]])
    assert rrf_scores(ranks) == pytest.approx([1 / 61, 1 / 62 + 1 / 61, 1 / 63])


def test_on_policy_value_is_the_expected_clicks_of_the_rankers_pages():
    pools, users = toy_pools(), make_click_model("pbm", "navigational")
    stream = np.array([0, 1, 1])
    pages = [users.expected_total(pools.grades[t][pools.page("rrf", t, 3)]) for t in (0, 1)]
    assert pools.page("rrf", 0, 3).tolist() == [0, 1, 2]  # by descending score
    value = on_policy_value(pools, "rrf", stream, users, 3)
    assert value == pytest.approx((pages[0] + 2 * pages[1]) / 3)


def test_logged_pages_pass_the_checks_and_a_logger_equal_to_the_target_is_estimated_unbiased():
    pools, users = toy_pools(), make_click_model("pbm", "navigational")
    logger = Logger(pools, "rrf", 1.0, 3)
    stream = np.random.default_rng(0).integers(0, 2, size=20_000)
    frame = page_log(pools, stream, logger.logits, logger.marginals, users, 3,
                     np.random.default_rng(1))
    logs = to_page_logs(frame, "toy", needed=slate.needed_columns(list(slate.ESTIMATORS), False),
                        page_length=3)
    assert logs.n_pages == 20_000 and logs.n_rows == 60_000
    # a page's probability is its last prefix's, and each item's marginal is in its list
    assert np.allclose(frame.groupby("slate_id").pscore_cascade.last(),
                       frame.groupby("slate_id").pscore.first())
    assert np.allclose(frame.pscore_item_position,
                       [p[k] for p, k in zip(frame.pscore_positions, frame.position)])
    truth = on_policy_value(pools, "rrf", stream, users, 3)
    pages = [pools.docnos[t][pools.page("rrf", t, 3)] for t in stream]
    result = slate.estimate(logs, slate.target_from_pages(logs, pages, "rrf"),
                            list(slate.ESTIMATORS), n_bootstrap=200, checked=False)
    for name, row in result["estimates"].items():
        assert row["ci_lower"] <= truth <= row["ci_upper"], (name, row, truth)


def test_a_bad_benchmark_file_names_its_key(tmp_path):
    path = tmp_path / "ope.toml"
    path.write_text('[ope_ranking]\nbase = "music-ranking.toml"\nseeds = [0]\n'
                    'stream_length = 10\ntemperatures = [0]\nclick_models = ["pbm"]\n'
                    'targets = ["rrf"]\n')
    with pytest.raises(InputError) as err:
        load(path)
    assert str(err.value) == f"{path}: ope_ranking.temperatures: numbers > 0, got [0]"
    path.write_text(path.read_text().replace("temperatures = [0]", "temperatures = [1]")
                    + "n_boot = 3\n")
    with pytest.raises(InputError) as err:
        load(path)
    assert str(err.value).startswith(f"{path}: ope_ranking.n_boot: unknown key (expected one of")
