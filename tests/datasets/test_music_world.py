"""The music world (ltrr:music): determinism, shape, and the properties its intents are built on."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ltrr.datasets.music import MIN_SIZE, VERSION, lexicon, load, released_by
from ltrr.datasets.splits import text_keys
from ltrr.errors import InputError

SIZE = 2000


@pytest.fixture(scope="module")
def world():
    return load(SIZE, 0)


@pytest.fixture(scope="module")
def docs(world):
    return pd.DataFrame(list(world.docs())).set_index("docno", drop=False)


@pytest.fixture(scope="module")
def judged(world):
    return world.qrels.merge(world.topics, on="qid")


def _stems(text: str) -> set[str]:
    from pyterrier_pisa import PisaStemmer, tokenize
    return set(tokenize(text, PisaStemmer.porter2))


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_same_seed_same_world_and_other_seed_differs(world, docs):
    again = load(SIZE, 0)
    pd.testing.assert_frame_equal(world.topics, again.topics)
    pd.testing.assert_frame_equal(world.qrels, again.qrels)
    assert list(again.docs()) == list(world.docs())
    other = load(SIZE, 1)
    assert list(other.docs())[0] != list(world.docs())[0]
    assert not other.topics["query"].equals(world.topics["query"])


def test_shape_fields_and_meta(world, docs):
    assert world.num_docs == SIZE == len(docs) == docs["docno"].nunique()
    assert world.id == f"ltrr:music?size={SIZE}&seed=0"
    assert set(docs["type"]) == {"track", "artist", "album", "playlist", "podcast"}
    assert world.text_fields == ["title", "text"]
    assert set(world.fields) == set(docs.columns)
    assert set(world.context_columns) == {"locale", "hour", "device", "preferred_genre"}
    assert {"qid", "query", "intent", "weight", "head", "split", *world.context_columns} <= set(world.topics)
    assert set(world.meta["structured_fields"]) <= set(world.fields)
    assert world.meta["generator"] == {"name": "music", "version": VERSION, "size": SIZE, "seed": 0}
    assert docs["release_day"].min() >= 0 and docs["release_year"].between(1955, 2026).all()
    weights = docs["genre_weights"].str.split().map(lambda p: sum(float(x.split(":")[1]) for x in p))
    assert np.allclose(weights, 1.0)
    assert (docs["genres"].str.split().str[0] == docs["genre_weights"].str.split(":").str[0]).all()


def test_popularity_is_zipf_like(docs):
    pop = np.sort(docs["popularity"].to_numpy())[::-1]
    assert pop[: len(pop) // 100].sum() / pop.sum() > 0.4  # top 1% hold most of the attention
    assert pop[0] / np.median(pop) > 100


def test_every_intent_has_graded_judgements(world, judged):
    assert set(world.topics["intent"]) == set(world.meta["intents"])
    assert set(world.qrels["label"]) <= {0, 1, 2, 3}
    assert world.topics["qid"].isin(world.qrels["qid"]).all()
    for intent, group in judged.groupby("intent"):
        assert (group["label"] == 3).any(), intent
    per_query = judged.groupby(["intent", "qid"]).size().groupby("intent").median()
    assert per_query["broad"] >= 20 and per_query["misspelled"] == 1


def test_head_queries_repeat_within_one_split_and_tail_does_not(world):
    topics = world.topics
    assert np.isclose(topics["weight"].sum(), 1.0)
    head = topics[topics["head"]].groupby("query")["split"].agg(set)
    assert (head.map(len) == 1).all()  # every row of a head text in one split
    assert set().union(*head) == {"train", "test"}
    tail = topics[~topics["head"]]
    assert tail["query"].is_unique and not set(tail["query"]) & set(head.index)
    text_weight = topics.groupby("query")["weight"].sum()
    assert text_weight[head.index].min() > text_weight.drop(head.index).max()
    assert set(topics["split"]) == {"train", "test"}


def test_no_query_text_is_in_both_splits(world):
    keys = world.topics.assign(key=text_keys(world.topics["query"]))
    sides = keys.groupby("key")["split"].nunique()
    assert (sides == 1).all(), sides[sides > 1].index[:5].tolist()
    train = world.topics["split"] == "train"
    # the split keeps its size: a quarter to a third of the rows, over a third of the weight,
    # and the head's weight about halved between the splits
    assert 0.15 < train.mean() < 0.4 and 0.3 < world.topics.loc[train, "weight"].sum() < 0.45
    head = world.topics[world.topics["head"]]
    assert 0.4 < head.loc[head["split"] == "train", "weight"].sum() / head["weight"].sum() < 0.6


def test_paraphrase_queries_share_no_stemmed_word_with_relevant_text(judged, docs):
    para = judged[(judged["intent"] == "topic_paraphrase") & (judged["label"] > 0)]
    assert len(para) > 100
    for query, group in para.groupby("query"):
        words = _stems(query)
        for docno in group["docno"].unique():
            overlap = words & _stems(docs.at[docno, "title"] + " " + docs.at[docno, "text"])
            assert not overlap, (query, docno, overlap)


def test_topic_query_words_never_appear_in_any_description(docs):
    text_stems = _stems(" ".join(docs["title"] + " " + docs["text"]))
    query_stems = _stems(" ".join(w for t in lexicon.TOPICS.values() for w in t["query"]))
    assert not query_stems & text_stems


def test_misspelled_queries_are_small_edits_of_a_real_name(judged, docs):
    miss = judged[judged["intent"] == "misspelled"].drop_duplicates("qid")
    vocabulary = {w for s in pd.concat([docs["title"], docs["artist"]]).str.lower() for w in s.split()}
    for query, docno in zip(miss["query"], miss["docno"]):
        name = docs.at[docno, "artist"] if docs.at[docno, "type"] == "artist" else docs.at[docno, "title"]
        words, bad = name.lower().split(), query.split()
        assert len(words) == len(bad) and query != name.lower()
        for w, b in zip(words, bad):
            assert _edit_distance(w, b) <= 2, (w, b)
            assert len(w) < 4 or b not in vocabulary, (w, b)


def test_attribute_judgements_satisfy_the_query_fields(judged, docs):
    attr = judged[(judged["intent"] == "attribute") & (judged["label"] > 0)]
    adjectives = {adj: code for code, (adj, _, _) in lexicon.LOCALES.items()}
    type_words = {w: t for t, ws in lexicon.TYPES.items() for w in ws}
    for query, docno in zip(attr["query"], attr["docno"]):
        d = docs.loc[docno]
        for word in query.split():
            if word in lexicon.GENRES:
                assert word in d["genres"].split(), (query, docno)
            elif word in lexicon.MOODS:
                assert word in d["moods"].split(), (query, docno)
            elif word in adjectives:
                assert d["locale"] == adjectives[word], (query, docno)
            elif word in type_words:
                assert d["type"] == type_words[word], (query, docno)
            elif word in lexicon.DECADES:
                lo, hi = lexicon.DECADES[word]
                assert lo <= d["release_year"] <= hi, (query, docno)


def test_recent_judgements_are_recent(judged, docs):
    recent = judged[(judged["intent"] == "recent") & (judged["label"] > 0)]
    assert docs.loc[recent["docno"], "release_day"].max() < 365
    assert docs.loc[recent["docno"], "release_day"].median() < docs["release_day"].median() / 10


def test_context_changes_judgements_for_the_same_text(world):
    sets = world.qrels.groupby("qid")["docno"].agg(frozenset)
    topics = world.topics.assign(rel=world.topics["qid"].map(sets))
    broad = topics[topics["intent"] == "broad"]
    differing = broad.groupby("query")["rel"].nunique()
    assert (differing > 1).all()
    # and the context that differs is the one that matters: a locale's own entities rank higher
    qrels = world.qrels.merge(topics[["qid", "locale"]], on="qid")
    docs = pd.DataFrame(list(world.docs())).set_index("docno")
    top = qrels[qrels["label"] == 3]
    assert (docs.loc[top["docno"], "locale"].to_numpy() == top["locale"].to_numpy()).mean() > 0.3


def test_known_item_queries_name_their_target(judged, docs):
    known = judged[(judged["intent"] == "known_item") & (judged["label"] == 3)]
    for query, docno in zip(known["query"], known["docno"]):
        assert query.startswith(docs.at[docno, "title"].lower()), (query, docno)


def test_released_by_and_bad_sizes(docs):
    days = docs["release_day"].to_numpy()
    assert released_by(days, 0).all()
    assert released_by(days, 30).sum() < len(days)
    with pytest.raises(InputError, match="size"):
        load(MIN_SIZE - 1)
    with pytest.raises(InputError, match="seed"):
        load(SIZE, -1)
    with pytest.raises(InputError, match="n_queries"):
        load(SIZE, 0, n_queries=5)
    assert len(load(SIZE, 0, n_queries=600).topics) > len(load(SIZE, 0).topics)


def test_loads_through_the_dataset_id():
    from ltrr.datasets import load as load_id
    world = load_id(f"ltrr:music?size={SIZE}&seed=3")
    assert world.id == f"ltrr:music?size={SIZE}&seed=3" and world.num_docs == SIZE
    assert re.fullmatch(r"q\d{5}", world.topics["qid"].iloc[0])


def test_world_does_not_depend_on_python_hash_seed():
    code = ("import hashlib, json; from ltrr.datasets.music import load; d = load(400, 7); "
            "h = hashlib.sha1(json.dumps(list(d.docs())).encode()); "
            "h.update(d.topics.to_csv().encode()); h.update(d.qrels.to_csv().encode()); print(h.hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop()) == 41


def test_an_artist_exists_from_its_first_release(docs):
    """An artist's release_day is its newest work (what "new" means to a searcher) and its
    first_release_day its oldest: the loop hides entities by the latter, so an established
    artist with a new album is not hidden until that album comes out."""
    works = docs[docs["type"].isin(["album", "track"])]
    artists = docs[docs["type"] == "artist"]
    named = works.groupby("artist")["release_day"].agg(["min", "max"])
    with_works = artists[artists.index.isin(docs.index) & artists["artist"].isin(named.index)]
    assert len(with_works) > 10
    assert (with_works["release_day"].to_numpy() == named.loc[with_works["artist"], "min"].to_numpy()).all()
    assert (with_works["first_release_day"].to_numpy()
            == named.loc[with_works["artist"], "max"].to_numpy()).all()
    others = docs[docs["type"] != "artist"]
    assert (others["first_release_day"] == others["release_day"]).all()


def test_the_loop_hides_an_artist_only_before_its_first_release(world):
    from ltrr.simulation.stream import release_schedule

    late = release_schedule(world, 10000, 60)
    docs = pd.DataFrame(list(world.docs())).set_index("docno")
    artists = docs[docs["type"] == "artist"]
    # established artists with a release inside the 60-day window are not late
    renewed = artists[(artists["release_day"] < 60) & (artists["first_release_day"] >= 60)]
    assert len(renewed) > 0
    assert not renewed.index.isin(late.index).any()
    debut = artists[artists["first_release_day"] < 60]
    assert debut.index.isin(late.index).all()
