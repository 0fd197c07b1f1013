"""``ltrr arms`` measurement: test split, groups per intent and head, memory warm-up, scoring."""

from __future__ import annotations

import pandas as pd
import pytest

from ltrr.arms.report import evaluate, measure_arms
from ltrr.datasets.splits import topic_groups
from ltrr.datasets.splits import split_topics

from worlds import report_world as world


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "ltrr_home"))


def test_splits_and_groups():
    topics = world().topics
    assert split_topics(topics, "test")["qid"].tolist() == ["q2", "q3", "q4", "q5"]
    # q7 asks test q5's text in other case and punctuation: never warmed up or trained on
    assert split_topics(topics, "train")["qid"].tolist() == ["q1", "q6"]
    assert split_topics(topics.drop(columns="split"), "train").empty
    groups = topic_groups(split_topics(topics, "test"))
    assert list(groups) == ["all", "intent=attribute", "intent=broad", "intent=known_item",
                            "intent=misspelled", "head"]
    assert groups["head"]["qid"].tolist() == ["q2"]


def test_measure_arms_per_intent_with_memory_warm_up():
    report = measure_arms(world(), ["lexical", "memory", "fuzzy", "structured"], depth=10)
    assert report.n_topics == 4 and report.group_sizes["all"] == 4
    assert report.warmup["topics"] == 2
    assert report.warmup["clicks"] == 3  # q1: t5 and t2 shown and relevant; q6: t5 (not q7)
    assert report.groups["intent=misspelled"].loc["fuzzy", "RR"] == 1.0
    assert report.groups["intent=misspelled"].loc["lexical", "RR"] == 0.0
    assert report.groups["intent=attribute"].loc["structured", "R@100"] == 1.0
    assert report.best("intent=misspelled")[0] == "fuzzy"
    # after the warm-up on "songs for summer" the memory ranks its clicked t5 (2 clicks)
    # first for the similar test query "summer songs"
    assert report.groups["head"].loc["memory", "RR"] == 1.0
    assert report.timings["lexical"].index_source == "built"
    out = report.to_dict()
    assert out["groups"]["head"]["arms"]["memory"]["RR"] == 1.0
    assert "perfect-click" in report.table() and "intent=broad" in report.table()


def test_arm_without_results_scores_zero():
    ds = world()
    qs = ds.topics[ds.topics["qid"] == "q5"]
    empty = pd.DataFrame({"qid": [], "docno": [], "score": [], "rank": []})
    hit = pd.DataFrame({"qid": ["q5"], "docno": ["t1"], "score": [1.0], "rank": [0]})
    res = evaluate({"none": empty, "hit": hit}, qs, ds.qrels, ["nDCG@10", "RR"])
    assert res.loc["none"].tolist() == [0.0, 0.0]
    assert res.loc["hit"].tolist() == [1.0, 1.0]
