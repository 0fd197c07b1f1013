"""The learned ranker's features and pages: exact values, and pages against a brute-force sort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.datasets.base import Dataset
from ltrr.errors import InputError
from ltrr.kernel.pages import pages_from_scores
from ltrr.kernel.pools import CandidatePool
from ltrr.kernel.ties import tie_keys
from ltrr.ranking.features import DocumentPriors, FeatureSpec, absent_features, pool_features

NAN = np.nan


def tiny_pool() -> CandidatePool:
    # arm a: docs 5, 7 (scores 2, 1); arm b: docs 7, 9 (a constant list: scores 3, 3)
    return CandidatePool.from_lists([np.array([5, 7]), np.array([7, 9])],
                                    [np.array([2.0, 1.0]), np.array([3.0, 3.0])])


def test_names_follow_the_columns():
    spec = FeatureSpec(("a", "b"), ("ctx:x",), ("popularity",))
    assert spec.names == ["a:score", "a:norm", "a:rank", "a:returned",
                          "b:score", "b:norm", "b:rank", "b:returned",
                          "arms:count", "fused:rrf", "fused:combsum", "ctx:x", "prior:popularity"]
    assert spec.dim == len(spec.names) == 13


def test_feature_values_on_a_hand_made_pool():
    pool = tiny_pool()
    assert pool.docs.tolist() == [5, 7, 9]
    spec = FeatureSpec(("a", "b"), ("ctx:x", "ctx:y"), ("popularity", "recency"), k=60)
    priors = np.array([[10.0, -3.0], [NAN, NAN], [1.0, 0.0]])
    X = pool_features(pool, spec, np.array([0.5, 1.0]), priors)
    expected = np.array([
        # a: score norm rank ret | b: score norm rank ret | count rrf combsum | ctx | priors
        [2.0, 1.0, 0.0, 1.0, NAN, NAN, NAN, 0.0, 1.0, 1 / 60, 1.0, 0.5, 1.0, 10.0, -3.0],
        [1.0, 0.0, 1.0, 1.0, 3.0, 0.0, 0.0, 1.0, 2.0, 1 / 61 + 1 / 60, 0.0, 0.5, 1.0, NAN, NAN],
        [NAN, NAN, NAN, 0.0, 3.0, 0.0, 1.0, 1.0, 1.0, 1 / 61, 0.0, 0.5, 1.0, 1.0, 0.0],
    ])
    np.testing.assert_array_equal(X, expected)


def test_features_without_context_or_priors_and_bad_shapes():
    pool = tiny_pool()
    X = pool_features(pool, FeatureSpec(("a", "b")))
    assert X.shape == (3, 11)
    with pytest.raises(ValueError, match=r"context must have shape \(1,\)"):
        pool_features(pool, FeatureSpec(("a", "b"), ("c",)))
    with pytest.raises(ValueError, match="pool has 2 arms, the feature spec 1"):
        pool_features(pool, FeatureSpec(("a",)))


def test_absent_features_are_missing_arms_with_context_and_priors():
    spec = FeatureSpec(("a", "b"), ("c",), ("p",))
    X = absent_features(spec, 2, np.array([0.25]), np.array([[4.0], [NAN]]))
    row = [NAN, NAN, NAN, 0.0] * 2 + [0.0, 0.0, 0.0, 0.25]
    np.testing.assert_array_equal(X, np.array([row + [4.0], row + [NAN]]))


def brute_pages(pool, depths, scores, page, keys):
    """Per plan, its union sorted by (score desc, best rank in the plan's lists, key)."""
    pages = np.full((len(depths), page), -1)
    for p, depth in enumerate(depths):
        included = pool.ranks < depth[:, None]
        best = np.where(included, pool.ranks, 10**9).min(axis=0)
        docs = sorted(np.flatnonzero(included.any(axis=0)),
                      key=lambda u: (-scores[u], best[u], keys[u]))[:page]
        pages[p, :len(docs)] = docs
    return pages


def random_pool(rng, n_arms=4, n_docs=40, depth=25):
    ids = [rng.choice(n_docs, size=depth, replace=False) for _ in range(n_arms)]
    return CandidatePool.from_lists(ids, [np.sort(rng.random(depth))[::-1] for _ in ids])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_pages_from_scores_match_a_per_plan_sort(seed):
    rng = np.random.default_rng(seed)
    pool = random_pool(rng)
    depths = rng.integers(0, 26, size=(9, 4))
    depths[0] = 0  # an empty union: a page of -1
    scores = np.round(rng.normal(size=len(pool.docs)), 1)  # many exact ties
    keys = rng.permutation(len(pool.docs)).astype(np.uint64)
    pages, in_union = pages_from_scores(pool, depths, scores, 10, keys)
    np.testing.assert_array_equal(pages, brute_pages(pool, depths, scores, 10, keys))
    assert (pages[0] == -1).all()
    np.testing.assert_array_equal(in_union, (pool.ranks[None] < depths[:, :, None]).any(axis=1))
    together = pages_from_scores(pool, depths, scores, 10, keys)[0]
    for p in range(len(depths)):  # all plans at once = one at a time
        np.testing.assert_array_equal(together[p],
                                      pages_from_scores(pool, depths[p], scores, 10, keys)[0][0])


def test_ties_go_to_the_best_constituent_rank_whatever_the_doc_ids():
    for ids in ([100, 1], [1, 100]):  # the same two documents under swapped ids
        # arm a ranks doc X first, arm b ranks doc Y third; both score 1.0
        pool = CandidatePool.from_lists([np.array([ids[0]]), np.array([7, 8, ids[1]])],
                                        [np.array([5.0]), np.array([3.0, 2.0, 1.0])])
        scores = np.where(np.isin(pool.docs, ids), 1.0, 0.0)
        docnos = np.where(pool.docs == ids[0], "X", np.where(pool.docs == ids[1], "Y", "z"))
        page, _ = pages_from_scores(pool, np.array([[1, 3]]), scores, 2,
                                    tie_keys(docnos.astype(str), seed=0))
        assert pool.docs[page[0]].tolist() == ids  # X (rank 0) before Y (rank 2)


def test_last_ties_follow_the_seeded_docno_keys():
    # four documents, each first in its own arm, all scored 0: tied on score and best rank
    pool = CandidatePool.from_lists([np.array([d]) for d in (3, 5, 8, 9)], [np.ones(1)] * 4)
    docnos = np.array(["a", "b", "c", "d"])
    orders = set()
    for seed in range(6):
        keys = tie_keys(docnos, seed)
        page, _ = pages_from_scores(pool, np.array([[1, 1, 1, 1]]), np.zeros(4), 4, keys)
        assert page[0].tolist() == np.argsort(keys, kind="stable").tolist()
        orders.add(tuple(page[0]))
    assert len(orders) > 1  # the seed, not the ids, decides


def dataset_with(meta: dict, fields=("docno", "text", "popularity", "release_day")) -> Dataset:
    docs = [{"docno": "d1", "text": "x", "popularity": 50.0, "release_day": 3},
            {"docno": "d2", "text": "y", "popularity": "n/a", "release_day": 0}]
    return Dataset("toy", lambda: iter(docs), pd.DataFrame(), pd.DataFrame(),
                   fields=list(fields), meta=meta)


def test_declared_priors_are_numbers_per_docno():
    meta = {"priors": {"popularity": {"field": "popularity"},
                       "recency": {"field": "release_day", "sign": -1}}}
    priors = DocumentPriors(dataset_with(meta))
    assert priors.names == ("popularity", "recency")
    np.testing.assert_array_equal(priors.values(["d2", "zz", "d1"]),
                                  [[NAN, -0.0], [NAN, NAN], [50.0, -3.0]])
    assert DocumentPriors(dataset_with(meta), ["recency"]).values(["d1"]).tolist() == [[-3.0]]


def test_no_declared_priors_means_no_prior_features():
    priors = DocumentPriors(dataset_with({}))
    assert priors.names == () and priors.values(["d1", "d2"]).shape == (2, 0)


def test_bad_prior_declarations():
    with pytest.raises(InputError, match="dataset 'toy' declares prior 'age' on field 'age', "
                                         "which its corpus lacks"):
        DocumentPriors(dataset_with({"priors": {"age": {"field": "age"}}}))
    with pytest.raises(InputError, match="prior 'p' sign must be 1 or -1, got 2"):
        DocumentPriors(dataset_with({"priors": {"p": {"field": "popularity", "sign": 2}}}))
    bad = {"priors": {"r": {"field": "release_day", "latest_of_works": {"link": "artist"}}}}
    with pytest.raises(InputError, match="prior 'r' latest_of_works must be"):
        DocumentPriors(dataset_with(bad))
    bad["priors"]["r"]["latest_of_works"] = {"link": "artist", "types": ["track"], "first": "f"}
    with pytest.raises(InputError, match="declares prior 'r' on field 'artist', which its corpus"):
        DocumentPriors(dataset_with(bad))
    with pytest.raises(InputError, match=r"declares no prior\(s\) \['x'\] \(declared: none\)"):
        DocumentPriors(dataset_with({}), ["x"])


def catalogue() -> Dataset:
    """An artist with an album (day 100), a track (day 50) and a track out on day 1 that the
    stream releases at step 30; a playlist with no works."""
    docs = [{"docno": "ar1", "type": "artist", "artist": "Ann", "release_day": 1,
             "first_release_day": 100, "popularity": 9.0},
            {"docno": "al1", "type": "album", "artist": "Ann", "release_day": 100,
             "first_release_day": 100, "popularity": 5.0},
            {"docno": "t1", "type": "track", "artist": "Ann", "release_day": 50,
             "first_release_day": 50, "popularity": 4.0},
            {"docno": "t2", "type": "track", "artist": "Ann", "release_day": 1,
             "first_release_day": 1, "popularity": 3.0},
            {"docno": "pl1", "type": "playlist", "artist": "Various Artists", "release_day": 7,
             "first_release_day": 7, "popularity": 1.0}]
    meta = {"priors": {"popularity": {"field": "popularity"},
                       "recency": {"field": "release_day", "sign": -1, "latest_of_works": {
                           "link": "artist", "types": ["track", "album"],
                           "first": "first_release_day"}}}}
    return Dataset("toy-music", lambda: iter(docs), pd.DataFrame(), pd.DataFrame(),
                   fields=list(docs[0]), meta=meta)


def test_recency_reads_no_release_after_the_step():
    priors = DocumentPriors(catalogue(), release=pd.Series({"t2": 30}))
    docnos = ["ar1", "al1", "t1", "t2", "pl1"]
    before, after = priors.values(docnos, 29), priors.values(docnos, 30)
    # the artist's latest work by step 29 is t1 (day 50); from step 30, t2 (day 1)
    assert before[:, 1].tolist() == [-50.0, -100.0, -50.0, -1.0, -7.0]
    assert after[:, 1].tolist() == [-1.0, -100.0, -50.0, -1.0, -7.0]
    assert priors.values(docnos, 0).tolist() == before.tolist()
    assert priors.as_of(0).values(["ar1"]).tolist() == [[9.0, -50.0]]
    assert (priors.epoch(0), priors.epoch(29), priors.epoch(30)) == (0, 0, 1)
    # without a stream (ltrr rank) or after it, the records' own values
    assert DocumentPriors(catalogue()).values(docnos).tolist() == priors.values(docnos).tolist()
    assert priors.values(docnos).tolist() == priors.values(docnos, 10**6).tolist()


def test_the_loop_stage_takes_priors_as_of_each_step():
    from ltrr.ranking.stage import LearnedStage, RankerConfig

    priors = DocumentPriors(catalogue(), release=pd.Series({"t2": 30}))
    spec = FeatureSpec(("a",), prior_names=priors.names)
    stage = LearnedStage(RankerConfig("r"), spec, None, priors)
    vocab = np.array(["t1", "ar1", "zz"])
    pool = CandidatePool.from_lists([np.array([1, 0, 2])], [np.array([3.0, 2.0, 1.0])])
    at = [stage.features(pool, vocab, np.zeros(0), step)[:, -1].tolist() for step in (0, 30, 5)]
    np.testing.assert_array_equal(at[0], [-50.0, -50.0, NAN])  # pool order: ar1, t1, zz
    np.testing.assert_array_equal(at[1], [-1.0, -50.0, NAN])
    np.testing.assert_array_equal(at[2], at[0])  # a new run starts over at step 0


def test_music_recency_as_of_a_step_is_the_latest_work_out_by_then():
    from ltrr.datasets.music import load
    from ltrr.simulation.stream import release_schedule

    world = load(2000, 0)
    late = release_schedule(world, 1000, 60)
    priors = DocumentPriors(world, release=late)
    docs = pd.DataFrame(list(world.docs()))
    docs["step"] = late.reindex(docs["docno"]).fillna(0).to_numpy(int)
    works = docs[docs["type"].isin(["track", "album"])]
    artists = docs[docs["type"] == "artist"]
    moved = 0
    for step in (0, 500, 999):
        out = works[works["step"] <= step].groupby("artist")["release_day"].min()
        expected = np.minimum(artists["first_release_day"],
                              artists["artist"].map(out).fillna(np.inf))
        got = priors.values(artists["docno"], step)[:, 1]
        np.testing.assert_array_equal(got, -expected.to_numpy())
        moved += int((got != -artists["release_day"].to_numpy()).sum())
    assert moved > 0  # some artists' latest work is released during the stream
    np.testing.assert_array_equal(priors.values(docs["docno"], 999),
                                  priors.values(docs["docno"]))
