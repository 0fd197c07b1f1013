"""Trained rankers cached on disk: a miss trains and writes, a hit loads, a corrupt file is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.ranking.learned import fit_qrels
from ltrr.ranking.store import array_hash, cached_model, load_model, model_path

NAMES = ["a", "b", "ctx:c"]


def train():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] > 0.5).astype(int) + (X[:, 0] > 1.2)
    train.calls += 1
    return fit_qrels(X, y, np.repeat(np.arange(30), 20), feature_names=NAMES)


train.calls = 0


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path))
    train.calls = 0
    return tmp_path


def test_miss_trains_and_writes_then_hit_loads_the_same_model(home):
    key = {"dataset": "toy", "data": "abc"}
    model, source, path = cached_model("lambdamart-qrels", key, train, NAMES)
    assert source == "trained" and train.calls == 1
    assert path == model_path("lambdamart-qrels", key) and path.parent == home / "rankers"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    again, source, _ = cached_model("lambdamart-qrels", key, train, NAMES)
    assert source == "cache" and train.calls == 1
    X = np.random.default_rng(1).normal(size=(50, 3))
    np.testing.assert_array_equal(again.score(X), model.score(X))
    assert again.feature_names == NAMES
    record = json.loads(path.read_text())
    assert record["key"] == key and record["format"] == "ltrr-lambdamart-1"
    other, source, other_path = cached_model("lambdamart-qrels", {**key, "data": "abd"}, train)
    assert source == "trained" and other_path != path and train.calls == 2


def corrupt_cases(text: str) -> dict[str, tuple[str, str]]:
    record = json.loads(text)
    edited = dict(record, model=record["model"].replace("Tree=0", "Tree=X", 1))
    garbage = dict(record, model="not a model")
    import hashlib
    garbage["sha1"] = hashlib.sha1(b"not a model").hexdigest()
    return {
        "truncated": (text[: len(text) // 2], "not readable as JSON: JSONDecodeError"),
        "edited": (json.dumps(edited), "the model text does not match its sha1"),
        "foreign": (json.dumps({"hello": 1}), "not an ltrr-lambdamart-1 file"),
        "garbage": (json.dumps(garbage), "LightGBM cannot read the model"),
    }


@pytest.mark.parametrize("case", ["truncated", "edited", "foreign", "garbage"])
def test_a_corrupt_cached_model_is_one_message_naming_the_file(home, case):
    key = {"dataset": "toy"}
    _, _, path = cached_model("m", key, train, NAMES)
    content, why = corrupt_cases(path.read_text())[case]
    path.write_text(content)
    with pytest.raises(InputError) as err:
        cached_model("m", key, train, NAMES)
    assert str(err.value).startswith(f"{path}: corrupt cached ranker model ({why}")
    assert str(err.value).endswith("delete the file to retrain it")
    assert path.read_text() == content and train.calls == 1  # nothing retrained or written
    with pytest.raises(InputError, match="corrupt cached ranker model"):
        load_model(path, NAMES)


def test_a_model_of_other_features_is_refused(home):
    _, _, path = cached_model("m", {"dataset": "toy"}, train, NAMES)
    with pytest.raises(InputError) as err:
        load_model(path, ["a", "b", "ctx:d"])
    assert str(err.value) == (f"{path}: ranker model was trained on other features than this "
                              "ranker computes (first difference: 'ctx:c' vs 'ctx:d')")


def test_array_hash_sees_values_dtypes_and_shapes():
    a = np.arange(6)
    assert array_hash(a) == array_hash(np.arange(6))
    assert array_hash(a) != array_hash(a.reshape(2, 3))
    assert array_hash(a) != array_hash(a.astype(float))
    assert array_hash(a, None) != array_hash(a)
