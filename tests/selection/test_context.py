"""Context features: values of every group on a tiny corpus, dynamic memory, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ltrr.datasets.base import Dataset
from ltrr.errors import InputError
from ltrr.selection.context import FEATURE_GROUPS, ContextFeaturizer

DOCS = [{"docno": "d1", "title": "Love songs", "text": "love and rain"},
        {"docno": "d2", "title": "Rain", "text": "rain all night"},
        {"docno": "d3", "title": "Jazz 1990", "text": "night jazz"},
        {"docno": "d4", "title": "Quiet", "text": None}]


def tiny(context_columns=("hour", "device")) -> Dataset:
    topics = pd.DataFrame({"qid": ["1", "2", "3"],
                           "query": ["love", "rain at night 1990", "lvoe!!"],
                           "hour": [0, 6, 18], "device": ["mobile", "desktop", "mobile"]})
    return Dataset(id="test:tiny-features", docs=lambda: iter(DOCS), topics=topics,
                   qrels=pd.DataFrame(columns=["qid", "docno", "label"]),
                   text_fields=["title", "text"], context_columns=list(context_columns))


class FakeMemory:
    """The memory arm's read side: issues and clicks per normalised query."""

    def __init__(self) -> None:
        self.log: dict[str, list[int]] = {}

    def update(self, query: str, clicked: list[str]) -> None:
        self.log.setdefault(query, []).append(len(clicked))

    def seen(self, query: str) -> bool:
        return query in self.log

    def issues(self, query: str) -> int:
        return len(self.log.get(query, []))

    def past_ctr(self, query: str) -> float:
        clicks = self.log.get(query, [])
        return sum(clicks) / len(clicks) if clicks else 0.0


def idf(df: int, n: int = 4) -> float:
    return math.log1p((n - df + 0.5) / (df + 0.5)) / math.log1p((n + 0.5) / 0.5)


def test_static_groups_values_and_names():
    ds = tiny()
    feat = ContextFeaturizer(["query", "idf", "context"], ds).fit(ds.topics)
    assert feat.names == ["q:tokens", "q:chars", "q:mean_token_len", "q:one_token",
                          "q:digit_ratio", "q:nonalpha_ratio", "idf:mean", "idf:max", "idf:min",
                          "idf:oov", "ctx:hour_sin", "ctx:hour_cos", "ctx:device=desktop",
                          "ctx:device=mobile", "bias"]
    assert feat.dim == 15
    x = feat.transform(1)  # "rain at night 1990": tokens rain(df 2) at(0) night(2) 1990(1)
    np.testing.assert_allclose(x[:6], [0.4, 18 / 50, (4 + 2 + 5 + 4) / 4 / 10, 0.0, 4 / 15, 4 / 15])
    idfs = [idf(2), idf(0), idf(2), idf(1)]
    np.testing.assert_allclose(x[6:10], [np.mean(idfs), max(idfs), min(idfs), 0.25])
    np.testing.assert_allclose(x[10:], [1.0, 0.0, 1.0, 0.0, 1.0], atol=1e-12)  # 6 h: sin 1, cos 0
    y = feat.transform(2)  # "lvoe!!": one unknown token, 2 of 6 characters not letters
    np.testing.assert_allclose(y[[3, 5, 9]], [1.0, 2 / 6, 1.0])
    assert feat.transform(0)[6] == pytest.approx(idf(1))  # "love" is in d1 only
    assert feat.transform(0)[11] == pytest.approx(1.0)  # hour 0: cos 1


def test_numeric_context_is_min_max_scaled():
    ds = tiny(context_columns=["age"])
    ds.topics["age"] = [20, 40, 30]
    feat = ContextFeaturizer(["context"], ds).fit(ds.topics)
    assert feat.names == ["ctx:age", "bias"]
    assert [feat.transform(i)[0] for i in range(3)] == [0.0, 1.0, 0.5]


def test_memory_features_follow_the_arm_as_it_learns():
    ds = tiny()
    memory = FakeMemory()
    feat = ContextFeaturizer(["memory"], ds, {"lexical": object(), "memory": memory}).fit(ds.topics)
    assert feat.names == ["mem:seen", "mem:ctr", "mem:issues", "bias"]
    np.testing.assert_array_equal(feat.transform(0), [0.0, 0.0, 0.0, 1.0])
    memory.update("love", ["d1", "d2", "d3"])
    memory.update("love", ["d1"])
    np.testing.assert_allclose(feat.transform(0), [1.0, 2 / 3, math.log1p(2) / math.log1p(100), 1])
    np.testing.assert_array_equal(feat.transform(1), [0.0, 0.0, 0.0, 1.0])


def test_post_retrieval_features_from_candidates():
    ds = tiny()
    feat = ContextFeaturizer(["post_retrieval"], ds, {"lexical": None, "dense": None}).fit(ds.topics)
    assert feat.needs_candidates
    assert feat.names == ["post:lexical:top", "post:lexical:gap", "post:lexical:count",
                          "post:dense:top", "post:dense:gap", "post:dense:count", "bias"]
    frame = pd.DataFrame({"docno": ["d1", "d2"], "score": [0.5, 0.25]})
    x = feat.transform(0, {"lexical": np.array([12.0, 9.0, 3.0]), "dense": frame})
    expected = [math.log1p(12.0), 0.25, math.log1p(3) / math.log1p(10),
                math.log1p(0.5), 0.5, math.log1p(2) / math.log1p(10), 1.0]
    np.testing.assert_allclose(x, expected)
    x = feat.transform(0, {"lexical": [("d1", 2.0)]})  # pairs; dense returned nothing
    np.testing.assert_allclose(x, [math.log1p(2.0), 0.0, math.log1p(1) / math.log1p(10),
                                   0, 0, 0, 1])
    with pytest.raises(ValueError, match="need the candidates"):
        feat.transform(0)


def test_post_retrieval_reads_only_the_probe():
    """The features see each probed arm's top probe_depth scores and nothing else: an arm
    outside probe_arms has no block, and scores past the probe depth change nothing."""
    ds = tiny()
    feat = ContextFeaturizer(["post_retrieval"], ds, {"lexical": None, "dense": None},
                             probe_arms=["dense"], probe_depth=2).fit(ds.topics)
    assert feat.names == ["post:dense:top", "post:dense:gap", "post:dense:count", "bias"]
    a = feat.transform(0, {"dense": np.array([4.0, 3.0, 2.0, 1.0])})
    b = feat.transform(0, {"dense": np.array([4.0, 3.0]), "lexical": np.array([99.0])})
    np.testing.assert_array_equal(a, b)
    assert a[2] == pytest.approx(1.0)  # a full probe: log1p(2) / log1p(2)


def test_idf_counts_only_released_documents():
    """A document released during the stream joins the idf statistics at the first refresh
    after its release, not before (the index does not know it yet)."""
    ds = tiny()
    late = pd.Series({"d1": 500})  # d1 (the only document with 'love') is out at step 500
    feat = ContextFeaturizer(["idf"], ds).fit(ds.topics, late=late, stream_length=1000)
    before, after = feat.transform(0, step=499), feat.transform(0, step=500)
    assert before[3] == 1.0  # 'love' is in no released document: out of vocabulary
    assert after[3] == 0.0 and after[0] == pytest.approx(idf(1))
    assert feat.transform(0, step=0)[3] == 1.0
    static = ContextFeaturizer(["idf"], ds).fit(ds.topics)
    np.testing.assert_array_equal(static.transform(0, step=0), after)


def test_transform_does_not_alias_the_static_table():
    ds = tiny()
    feat = ContextFeaturizer(["query"], ds).fit(ds.topics)
    x = feat.transform(0)
    x[:] = -1
    assert feat.transform(0)[0] == pytest.approx(0.1)


@pytest.mark.parametrize("groups, arms, context, message", [
    (["query", "clicks"], {}, ("hour",),
     "unknown feature group 'clicks' (choose from " + ", ".join(FEATURE_GROUPS) + ")"),
    (["query", "query"], {}, ("hour",), "feature groups listed twice: ['query', 'query']"),
    (["memory"], {"lexical": object()}, ("hour",),
     "feature group 'memory' needs a memory arm among the benchmark's arms (have: lexical)"),
])
def test_bad_groups(groups, arms, context, message):
    with pytest.raises(InputError) as err:
        ContextFeaturizer(groups, tiny(context), arms)
    assert str(err.value) == message


def test_context_group_needs_context_columns():
    with pytest.raises(InputError) as err:
        ContextFeaturizer(["context"], tiny(()), {}).fit(tiny(()).topics)
    assert str(err.value) == ("feature group 'context': dataset 'test:tiny-features' has no "
                              "context columns")
    with pytest.raises(InputError, match="lists context column 'locale', which its topics lack"):
        ContextFeaturizer(["context"], tiny(("locale",)), {}).fit(tiny().topics)


def test_select_gives_a_policy_fewer_groups_from_the_same_tables():
    ds = tiny()
    late = pd.Series({"d1": 500})
    full = ContextFeaturizer(["query", "idf", "post_retrieval"], ds, {"lexical": None},
                             probe_depth=3).fit(ds.topics, late=late, stream_length=1000)
    pre = full.select(["idf", "query"])
    assert pre.groups == ["query", "idf"] and not pre.needs_candidates
    assert pre.names == [n for n in full.names if not n.startswith("post:")]
    cands = {"lexical": np.array([3.0, 1.0])}
    for step in (0, 700):
        x = full.transform(1, cands, step=step)
        np.testing.assert_array_equal(pre.transform(1, step=step), x[[full.names.index(n)
                                                                       for n in pre.names]])
    post = full.select(["post_retrieval"])
    assert post.needs_candidates and post.names == ["post:lexical:top", "post:lexical:gap",
                                                    "post:lexical:count", "bias"]
    np.testing.assert_array_equal(post.transform(0, cands), full.transform(0, cands)[-4:])
    with pytest.raises(InputError, match="not among the benchmark's"):
        full.select(["context"])
