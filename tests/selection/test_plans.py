"""Plan spaces: counts, ids, depths, features, and the exact errors for bad [plans] tables."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.selection.plans import PlanSpace, split_budget

ARMS5 = ["lexical", "dense", "memory", "fuzzy", "structured"]


def test_five_arms_single_pairs_union_gives_16_plans():
    space = PlanSpace.from_config(ARMS5, 100, {"equal_splits": [2]})
    assert len(space) == 5 + 10 + 1
    assert space.ids[:5] == [f"{arm}:100" for arm in ARMS5]
    assert space.ids[5] == "lexical:50+dense:50"
    assert space.ids[14] == "fuzzy:50+structured:50"
    assert space.ids[-1] == "lexical:20+dense:20+memory:20+fuzzy:20+structured:20"
    depths = space.depth_matrix()
    assert depths.shape == (16, 5)
    assert (depths.sum(axis=1) == 100).all()
    assert space.index("memory:50+structured:50") == space.ids.index("memory:50+structured:50")
    assert space[space.index("dense:100")].depth("dense") == 100


def test_defaults_are_single_and_union():
    space = PlanSpace.from_config(["a", "b", "c"], 10, None)
    assert space.ids == ["a:10", "b:10", "c:10", "a:4+b:3+c:3"]  # remainder to the first arm


def test_all_equal_splits_skewed_and_custom():
    space = PlanSpace.from_config(["a", "b", "c"], 100, {
        "equal_splits": "all", "skewed": [[0.75, 0.25]], "custom": [{"c": 10, "a": 5}],
        "union": True})
    assert space.ids == ["a:100", "b:100", "c:100", "a:50+b:50", "a:50+c:50", "b:50+c:50",
                         "a:34+b:33+c:33",  # the union, listed once (equal_splits size 3)
                         "a:75+b:25", "a:75+c:25", "a:25+b:75", "b:75+c:25", "a:25+c:75",
                         "b:25+c:75", "a:5+c:10"]
    assert (space.depth_matrix().sum(axis=1)[:-1] == 100).all()
    assert space.depth_matrix()[-1].tolist() == [5, 0, 10]


def test_features_are_depth_fractions_then_indicators():
    space = PlanSpace.from_config(["a", "b"], 10, {"skewed": [[0.7, 0.3]]})
    assert space.ids == ["a:10", "b:10", "a:7+b:3", "a:3+b:7", "a:5+b:5"]
    np.testing.assert_allclose(space.features()[2], [0.7, 0.3, 1.0, 1.0])
    np.testing.assert_allclose(space.features()[1], [0.0, 1.0, 0.0, 1.0])
    assert space.feature_names() == ["depth_frac:a", "depth_frac:b", "uses:a", "uses:b"]


def test_split_budget_largest_remainder():
    assert split_budget(100, [1 / 3] * 3) == [34, 33, 33]
    assert split_budget(10, [0.66, 0.34]) == [7, 3]
    assert split_budget(7, [0.5, 0.5]) == [4, 3]


@pytest.mark.parametrize("config, budget, message", [
    ({"pairs": [2]}, 100,
     "b.toml, field 'plans.pairs': unknown key (expected one of single, equal_splits, skewed, "
     "custom, union)"),
    ({"equal_splits": [3]}, 2,
     "b.toml, field 'plans.equal_splits': budget 2 is too small for a plan over a+b+c "
     "(depths [1, 1, 0]; every depth must be >= 1)"),
    ({"custom": [{"a": 5, "bm25": 5}]}, 100,
     "b.toml, field 'plans.custom[0]': unknown arm 'bm25' (benchmark arms: a, b, c)"),
    ({"custom": [{"a": 60, "b": 50}]}, 100,
     "b.toml, field 'plans.custom[0]': depths sum to 110, over the budget 100"),
    ({"equal_splits": [4]}, 100,
     "b.toml, field 'plans.equal_splits': subset size must be an integer from 1 to 3 "
     "(the number of arms), got 4"),
    ({"single": "yes"}, 100, "b.toml, field 'plans.single': expected true or false, got 'yes'"),
    ({"skewed": [[0.8, 0.2], [0.8, 0.4]]}, 100,
     "b.toml, field 'plans.skewed[1]': weights [0.8, 0.4] sum to 1.2, over the budget (the "
     "weights of a split sum to at most 1)"),
    ({"skewed": [[0.8, 0.0]]}, 100,
     "b.toml, field 'plans.skewed[0]': expected a list of 1 to 3 weights, each > 0, got "
     "[0.8, 0.0]"),
    ({"skewed": [[0.4, 0.3, 0.2, 0.1]]}, 100,
     "b.toml, field 'plans.skewed[0]': expected a list of 1 to 3 weights, each > 0, got "
     "[0.4, 0.3, 0.2, 0.1]"),
    ({"single": False, "union": False}, 100,
     "b.toml, field 'plans': the plan space is empty (enable single, union or another key)"),
    ({}, 0, "b.toml, field 'budget': budget must be a positive integer, got 0"),
])
def test_bad_plan_tables(config, budget, message):
    with pytest.raises(InputError) as err:
        PlanSpace.from_config(["a", "b", "c"], budget, config, file="b.toml")
    assert str(err.value) == message


def test_union_too_small_for_budget():
    with pytest.raises(InputError, match=r"plans\.union': budget 4 is too small"):
        PlanSpace.from_config(ARMS5, 4, {"single": True})
