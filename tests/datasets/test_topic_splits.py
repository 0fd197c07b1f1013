"""Topic splits by normalised query text: no query text on both sides of a split, and a
ranker's training topics never ask what the reported topics ask (ltrr.datasets.splits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.datasets.base import Dataset
from ltrr.datasets.splits import (leave_out_shared, normalise_query, split_by_text, split_rows,
                                  split_topics, text_keys)
from ltrr.errors import InputError
from ltrr.ranking.training_data import training_split


def test_normalised_text_is_lower_case_alphanumeric_tokens():
    assert normalise_query("Dragon's  Blood!") == "dragon s blood" == normalise_query("dragon s blood")
    assert normalise_query("Café au_lait, 90s") == "café au lait 90s"
    assert normalise_query("  ") == ""


def duplicated_frame(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    """Topics whose texts repeat in other case, spacing and punctuation."""
    words = ["love", "rain", "jazz", "night", "blues", "summer"]
    base = [f"{words[a]} {words[b]}" for a, b in rng.integers(0, len(words), (n, 2))]
    variants = [t.upper() if i % 3 == 0 else (t.replace(" ", ",  ") + "!" if i % 3 == 1 else t)
                for i, t in enumerate(base)]
    return pd.DataFrame({"qid": [f"q{i}" for i in range(n)], "query": variants,
                         "weight": rng.random(n)})


def test_split_by_text_puts_each_text_wholly_on_one_side():
    rng = np.random.default_rng(3)
    topics = duplicated_frame(rng)
    proposed = rng.random(len(topics)) < 0.3
    topics["split"] = split_by_text(topics["query"], proposed)
    keys = text_keys(topics["query"])
    assert len(set(keys)) < len(topics) / 5  # many rows per text
    sides = topics.groupby(keys)["split"].nunique()
    assert (sides == 1).all()
    first = ~pd.Series(keys).duplicated().to_numpy()  # each text's side is its first row's
    assert (topics["split"].to_numpy()[first] == np.where(proposed[first], "train", "test")).all()
    assert set(topics["split"]) == {"train", "test"}


def test_split_topics_leaves_out_train_rows_asking_a_test_text():
    topics = pd.DataFrame({"qid": ["a", "b", "c", "d", "e"],
                           "query": ["Jazz Night", "jazz night!", "rain", "blues", "RAIN"],
                           "split": ["train", "test", "train", "train", "dev"]})
    assert split_rows(topics, "train")["qid"].tolist() == ["a", "c", "d"]
    assert split_topics(topics, "train")["qid"].tolist() == ["c", "d"]
    assert split_topics(topics, "dev")["qid"].tolist() == ["e"]  # "rain" is not a test text
    assert split_topics(topics, "test")["qid"].tolist() == ["b"]
    assert split_topics(topics.drop(columns="split"), "test")["qid"].tolist() == list("abcde")
    assert split_topics(topics.drop(columns="split"), "train").empty


def test_the_overlap_is_measured_before_leaving_out():
    train = pd.DataFrame({"qid": ["t1", "t2", "t3", "t4"], "query": ["a b", "A-B", "c", "d"],
                          "weight": [0.1, 0.3, 0.2, 0.4]})
    test = pd.DataFrame({"qid": ["s1", "s2", "s3"], "query": ["a b", "d!", "e"],
                         "weight": [0.5, 0.25, 0.25]})
    kept, overlap = leave_out_shared(train, test)
    assert kept["qid"].tolist() == ["t3"]
    assert overlap.to_dict() == {"texts": 2, "train_topics": 4, "left_out": 3,
                                 "left_out_weight": 0.8, "test_topics": 3, "test_shared": 2,
                                 "test_shared_weight": 0.75}
    _, unweighted = leave_out_shared(train.drop(columns="weight"), test.drop(columns="weight"))
    assert unweighted.left_out_weight == 0.75 and unweighted.test_shared_weight == 2 / 3
    assert "3 of 4 training topics (75.0% of their weight) asked a reported text and were " \
           "left out" in unweighted.line()


def toy(topics: pd.DataFrame) -> Dataset:
    qrels = pd.DataFrame({"qid": topics["qid"], "docno": "d1", "label": 1})
    return Dataset("toy", lambda: iter([{"docno": "d1", "text": "x"}]), topics, qrels,
                   fields=["docno", "text"])


def test_training_split_leaves_out_texts_the_reported_topics_ask():
    topics = pd.DataFrame({"qid": ["a", "b", "c", "d", "e"],
                           "query": ["jazz", "Jazz!", "rain", "blues", "soul"],
                           "split": ["train", "test", "train", "test", "test"]})
    train, valid = training_split(toy(topics))
    assert valid is None and train.topics["qid"].tolist() == ["c"]
    assert (train.overlap.left_out, train.overlap.test_shared) == (1, 1)
    # the loop reports on its stream: only its texts are left out
    stream = topics[topics["qid"].isin(["d", "e"])]
    train, _ = training_split(toy(topics), reported=stream)
    assert train.topics["qid"].tolist() == ["a", "c"] and train.overlap.left_out == 0
    every = topics.assign(query=["jazz", "jazz", "rain", "RAIN", "soul"])
    with pytest.raises(InputError, match=r"every one of the 2 training topics \(toy split=='train'\) "
                                         r"asks a query text the reported topics of 'toy' ask"):
        training_split(toy(every))


@pytest.mark.shared
def test_nfcorpus_training_leaves_out_the_test_texts():
    import ltrr.datasets

    test = ltrr.datasets.load("beir/nfcorpus/test")
    train, valid = training_split(test)
    assert train.source == "beir/nfcorpus/train" and valid.source == "beir/nfcorpus/dev"
    asked = set(text_keys(test.topics["query"]))
    for part in (train, valid):
        assert not set(text_keys(part.topics["query"])) & asked
    # measured on BEIR's nfcorpus: train asks 4 test texts (3 verbatim, and "dragon's blood"
    # for "Dragon's Blood"), dev 1
    assert train.overlap.to_dict() | {"left_out_weight": 0, "test_shared_weight": 0} == {
        "texts": 4, "train_topics": 2590, "left_out": 4, "left_out_weight": 0,
        "test_topics": 323, "test_shared": 4, "test_shared_weight": 0}
    assert (valid.overlap.left_out, valid.overlap.test_shared) == (1, 1)
    assert len(train.topics) == 2586
