"""The PyTerrier face: arms >> RankFeatures >> pt.ltr.apply_learned_model scores like the array API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyterrier as pt
import pytest
from ir_measures import nDCG

from ltrr.errors import InputError
from ltrr.ranking.features import FeatureSpec, pool_features
from ltrr.ranking.learned import LambdaMART, fit_qrels
from ltrr.ranking.pipeline import ArmsUnion, LearnedRanker, RankFeatures, pool_of

N_DOCS, N_QUERIES = 40, 24
DOCNOS = [f"d{i:02d}" for i in range(N_DOCS)]


class FixedArm(pt.Transformer):
    """An arm returning a seeded random ranking of 15 documents per query."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for qid, query in zip(queries["qid"], queries["query"]):
            rng = np.random.default_rng([self.seed, int(qid[1:])])
            docs = rng.choice(N_DOCS, size=15, replace=False)
            scores = np.sort(rng.random(15) * 10 + self.seed)[::-1]
            rows += [(qid, query, DOCNOS[d], s, r) for r, (d, s) in enumerate(zip(docs, scores))]
        return pd.DataFrame(rows, columns=["qid", "query", "docno", "score", "rank"])


@pytest.fixture(scope="module")
def setup():
    topics = pd.DataFrame({"qid": [f"q{j}" for j in range(N_QUERIES)],
                           "query": [f"query {j}" for j in range(N_QUERIES)]})
    # relevant: grade 2 for what only arm a returns, deep in its list (where RRF puts it
    # last), grade 1 for what both arms return: learnable from the features, unlike RRF
    union = ArmsUnion({"a": FixedArm(1), "b": FixedArm(2)})
    res = union.transform(topics)
    arms_of = res.groupby(["qid", "docno"])["arm"].agg(lambda a: "".join(sorted(a)))
    deep = res[(res["arm"] == "a") & (res["rank"] >= 10)].set_index(["qid", "docno"]).index
    label = pd.Series(0, index=arms_of.index)
    label[arms_of == "ab"] = 1
    label[(arms_of == "a") & arms_of.index.isin(deep)] = 2
    qrels = label[label > 0].rename("label").reset_index()
    contexts = {q: np.array([j / N_QUERIES]) for j, q in enumerate(topics["qid"])}
    spec = FeatureSpec(("a", "b"), ("ctx:j",))
    features = RankFeatures(spec, contexts=contexts)
    return topics, qrels, union, features, spec, contexts


def test_rank_features_make_a_features_column_per_candidate(setup):
    topics, _, union, features, spec, contexts = setup
    res = (union >> features).transform(topics.iloc[:3])
    assert {"qid", "query", "docno", "score", "rank", "features"} <= set(res.columns)
    one = union.transform(topics.iloc[:1])
    pool, docnos = pool_of(one, spec.arms)
    expected = pool_features(pool, spec, contexts["q0"])
    got = res[res["qid"] == "q0"].set_index("docno").loc[docnos]
    np.testing.assert_array_equal(np.stack(got["features"].to_numpy()), expected)
    assert set(got.index) == set(one["docno"])
    np.testing.assert_array_equal(got["score"].to_numpy(), expected[:, spec.names.index("fused:rrf")])


def test_apply_learned_model_gives_the_array_apis_scores(setup):
    topics, qrels, union, features, spec, contexts = setup
    train = (union >> features).transform(topics)
    X = np.stack(train["features"].to_numpy())
    label = train.merge(qrels, on=["qid", "docno"], how="left")["label"].fillna(0).to_numpy()
    model = fit_qrels(X, label, train["qid"].to_numpy(), params={"min_data_in_leaf": 5},
                      feature_names=spec.names)
    pipeline = union >> features >> pt.ltr.apply_learned_model(model, form="ltr")
    out = pipeline.transform(topics.iloc[:5])
    for qid, rows in out.groupby("qid"):
        pool, docnos = pool_of(union.transform(topics[topics["qid"] == qid]), spec.arms)
        scores = model.score(pool_features(pool, spec, contexts[qid]))
        np.testing.assert_array_equal(rows.set_index("docno").loc[docnos, "score"], scores)
    booster = pipeline.transform(topics.iloc[:5])  # the raw LightGBM Booster works there too
    via_booster = (union >> features >> pt.ltr.apply_learned_model(model.booster, form="ltr")
                   ).transform(topics.iloc[:5])
    np.testing.assert_array_equal(via_booster["score"], booster["score"])
    ranked = (union >> LearnedRanker(model, features, num_results=10)).transform(topics.iloc[:5])
    assert ranked.groupby("qid").size().tolist() == [10] * 5
    for qid, rows in ranked.groupby("qid"):
        top = out[out["qid"] == qid].sort_values("score", ascending=False)["score"].iloc[:10]
        np.testing.assert_array_equal(rows.sort_values("rank")["score"], top)
        assert rows.sort_values("rank")["rank"].tolist() == list(range(10))


def test_the_ranker_trains_inside_a_pyterrier_pipeline(setup):
    topics, qrels, union, features, _, _ = setup
    train_t, valid_t, test_t = topics.iloc[:14], topics.iloc[14:18], topics.iloc[18:]
    pipeline = union >> features >> pt.ltr.apply_learned_model(
        LambdaMART({"min_data_in_leaf": 5, "num_boost_round": 30}), form="ltr")
    pipeline.fit(train_t, qrels, valid_t, qrels)
    exp = pt.Experiment([union >> features, pipeline], test_t, qrels, [nDCG @ 10],
                        names=["rrf", "lambdamart"])
    by = exp.set_index("name")["nDCG@10"]
    assert by["lambdamart"] > by["rrf"] + 0.1


def test_rank_features_refuse_frames_without_arms(setup):
    topics, _, union, features, _, _ = setup
    plain = FixedArm(1).transform(topics.iloc[:2])
    with pytest.raises(InputError, match=r"needs a ranking frame with an 'arm' column .*"
                                         r"missing \['arm'\]"):
        features.transform(plain)
    with pytest.raises(InputError, match=r"results from arm\(s\) \['c'\] the feature spec "
                                         r"does not have \(its arms: a, b\)"):
        features.transform(plain.assign(arm="c"))
    with pytest.raises(InputError, match="has context features; pass contexts"):
        RankFeatures(FeatureSpec(("a",), ("x",)))
