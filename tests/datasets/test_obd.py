"""The OBD loader reproduces stock obp's arrays (made under pandas 1.5) on current pandas."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ltrr.datasets import obd
from ltrr.errors import InputError


def shared_dir() -> Path:
    return Path(os.environ.get("LTRR_SHARED", Path(__file__).resolve().parents[3] / "shared"))


REFERENCE = shared_dir() / "reference" / "obd"
needs_reference = pytest.mark.skipif(
    not REFERENCE.exists(), reason=f"OBD reference arrays not found at {REFERENCE} (set LTRR_SHARED)"
)


@needs_reference
@pytest.mark.parametrize("policy", obd.BEHAVIOR_POLICIES)
@pytest.mark.parametrize("campaign", obd.CAMPAIGNS)
def test_load_matches_obp_reference(policy: str, campaign: str) -> None:
    ours = obd.load(policy, campaign)
    ref = np.load(REFERENCE / f"{policy}_{campaign}.npz")
    for key in ("action", "position", "reward", "context"):
        np.testing.assert_array_equal(ours[key], ref[key], err_msg=key)
        assert ours[key].dtype == ref[key].dtype, key
    # CSV float parsing differs from pandas 1.5 by at most one ulp.
    np.testing.assert_allclose(ours["pscore"], ref["pscore"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ours["action_context"], ref["action_context"], rtol=0, atol=1e-15)
    assert ours["n_rounds"] == len(ref["action"]) == 10_000
    assert ours["n_actions"] == ref["action"].max() + 1


@needs_reference
def test_unstable_timestamp_sort_is_reproduced() -> None:
    """random_men has rows with equal timestamps; obp's quicksort order is what we return."""
    ours = obd.load("random", "men")
    ref = np.load(REFERENCE / "random_men.npz")
    np.testing.assert_array_equal(ours["action"], ref["action"])
    np.testing.assert_array_equal(ours["context"], ref["context"])
    raw = obd.pd.read_csv(obd.sample_dir() / "random" / "men" / "men.csv", index_col=0)
    stamps = raw["timestamp"].to_numpy(dtype=object)
    stable = np.argsort(stamps, kind="stable")
    quick = np.argsort(stamps, kind="quicksort")
    assert np.flatnonzero(stable != quick).tolist() == [7341, 7342]  # the one tied pair


def test_on_policy_value_is_mean_click() -> None:
    assert obd.on_policy_value("bts", "all") == pytest.approx(obd.load("bts", "all")["reward"].mean())


@pytest.mark.parametrize(
    ("policy", "campaign", "message"),
    [
        ("greedy", "all", "behavior policy must be one of ('random', 'bts'), got 'greedy'"),
        ("bts", "kids", "campaign must be one of ('all', 'men', 'women'), got 'kids'"),
    ],
)
def test_bad_arguments(policy: str, campaign: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        obd.load(policy, campaign)
    assert str(err.value) == message
