"""Click models: closed-form expected clicks agree with sampling; model-specific behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.kernel.clicks import (
    CascadeModel,
    DependentClickModel,
    PositionBasedModel,
    scale_grades,
)
from ltrr.simulation.clicks import make_click_model

PAGE = np.array([4, 0, 2, 3, 1, 0, 4, 2, -1, -1])


@pytest.mark.parametrize("model", ["pbm", "cascade", "dcm"])
@pytest.mark.parametrize("params", ["perfect", "navigational", "informational"])
def test_expected_clicks_match_monte_carlo(model, params):
    click = make_click_model(model, params)
    rng = np.random.default_rng(7)
    n = 20000
    samples = np.array([click.sample(PAGE, rng) for _ in range(n)])
    expected = click.expected_clicks(PAGE)
    tolerance = 4 * np.sqrt(expected * (1 - expected) / n) + 1e-9
    assert np.all(np.abs(samples.mean(axis=0) - expected) <= tolerance)
    assert click.expected_total(PAGE) == pytest.approx(expected.sum())


def test_perfect_never_clicks_grade_zero():
    for model in ("pbm", "cascade", "dcm"):
        click = make_click_model(model, "perfect")
        rng = np.random.default_rng(0)
        clicks = np.array([click.sample(PAGE, rng) for _ in range(2000)])
        assert clicks[:, PAGE == 0].sum() == 0
        assert np.all(click.expected_clicks(PAGE)[PAGE == 0] == 0)


def test_empty_slots_never_clicked():
    click = PositionBasedModel("informational")
    rng = np.random.default_rng(1)
    clicks = np.array([click.sample(PAGE, rng) for _ in range(500)])
    assert clicks[:, PAGE < 0].sum() == 0


def test_cascade_stops_after_the_first_click():
    click = CascadeModel("informational")
    rng = np.random.default_rng(2)
    clicks = np.array([click.sample(PAGE, rng) for _ in range(3000)])
    assert clicks.sum(axis=1).max() == 1
    # P(click at 1) = 0.9; then the user has stopped
    assert click.expected_clicks(PAGE)[0] == pytest.approx(0.9)
    assert click.expected_clicks(PAGE)[1] == pytest.approx(0.1 * 0.4)


def test_dcm_with_certain_stop_is_the_cascade_model():
    dcm = DependentClickModel("navigational")
    cascade = CascadeModel("navigational")
    top = np.array([4, 4, 4])
    # DCM: after a grade-4 click the user stops with P=0.9, so position 2 is reached 1-0.95*0.9
    assert dcm.expected_clicks(top)[1] == pytest.approx((1 - 0.95 * 0.9) * 0.95)
    assert cascade.expected_clicks(top)[1] == pytest.approx((1 - 0.95) * 0.95)


def test_pbm_examination_is_one_over_position():
    click = PositionBasedModel("perfect")
    assert np.allclose(click.expected_clicks(np.array([4, 4, 4, 4])), [1, 1 / 2, 1 / 3, 1 / 4])


def test_expected_clicks_are_vectorised_over_pages():
    click = DependentClickModel("informational")
    pages = np.stack([PAGE, PAGE[::-1]])
    assert np.allclose(click.expected_total(pages),
                       [click.expected_total(PAGE), click.expected_total(PAGE[::-1])])


def test_grade_scaling():
    assert scale_grades(np.array([0, 1, 2]), 2).tolist() == [0, 2, 4]
    assert scale_grades(np.array([-1, 0, 1]), 1).tolist() == [0, 0, 4]
    assert scale_grades(np.array([0, 1, 2, 3]), 3).tolist() == [0, 1, 3, 4]


@pytest.mark.parametrize("model,params,message", [
    ("foo", "perfect", "unknown click model 'foo' (choose from pbm, cascade, dcm)"),
    ("pbm", "bar", "unknown click parameter set 'bar' (choose from perfect, navigational, "
                   "informational)"),
])
def test_unknown_model_or_params(model, params, message):
    with pytest.raises(InputError) as err:
        make_click_model(model, params)
    assert str(err.value) == message
