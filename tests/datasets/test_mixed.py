"""``ltrr:mixed``: the union of vaswani, cranfield and beir/nfcorpus/test, with a train
split (beir/nfcorpus/train, a third of vaswani's and cranfield's texts).

Counts are checked against the three collections loaded on their own (whose counts and records
``tests/datasets/test_datasets.py`` checks against ir_datasets' own integration tests), records are
sampled at each collection's boundaries, the grade mapping is checked to give the loop and
ir_measures exactly what each collection gives alone, and the split to ask no text on both
sides.
"""

from __future__ import annotations

import json

import ir_measures
import numpy as np
import pandas as pd
import pytest

from ltrr.datasets.splits import topic_groups
from ltrr.cli import main
from ltrr.datasets import load
from ltrr.datasets.mixed import PARTS, TRAIN_PART
from ltrr.datasets.splits import text_keys
from ltrr.errors import InputError
from ltrr.selection.context import ContextFeaturizer
from ltrr.kernel.clicks import scale_grades

# collection -> (docs, queries, qrels) of the collection alone (tests/datasets/test_datasets.py::REAL)
COUNTS = {"vaswani": (11429, 93, 2083), "cranfield": (1400, 225, 1837),
          "nfcorpus": (3633, 323, 12334)}
NF_TRAIN = (2590 - 4, 110575 - 91)  # beir/nfcorpus/train without the 4 topics asking a test text


@pytest.fixture(scope="module")
def mixed():
    return load("ltrr:mixed")


@pytest.fixture(scope="module")
def parts():
    return {name: load(irds_id) for name, irds_id in PARTS}


def collection_of(ids: pd.Series) -> pd.Series:
    return ids.str.split(":", n=1).str[0]


@pytest.mark.shared
def test_counts_are_the_collections_counts(mixed, parts):
    docs = list(mixed.docs())
    assert mixed.num_docs == len(docs) == sum(c[0] for c in COUNTS.values()) == 16462
    assert len({d["docno"] for d in docs}) == len(docs)  # prefixes: no collisions
    per_doc = pd.Series([d["collection"] for d in docs]).value_counts().to_dict()
    assert per_doc == {name: c[0] for name, c in COUNTS.items()}
    topics = mixed.topics
    own = topics[(topics["collection"] != "nfcorpus") | (topics["split"] == "test")]
    assert own["collection"].value_counts().to_dict() == {n: c[1] for n, c in COUNTS.items()}
    assert (topics["split"] == "train").sum() - len(own[own["split"] == "train"]) == NF_TRAIN[0]
    per_qrel = collection_of(mixed.qrels["qid"]).value_counts().to_dict()
    assert per_qrel == {name: c[2] + (NF_TRAIN[1] if name == "nfcorpus" else 0)
                        for name, c in COUNTS.items()}
    for name, part in parts.items():
        assert (part.num_docs, len(part.topics), len(part.qrels)) == COUNTS[name]
    assert (collection_of(mixed.qrels["docno"]) == collection_of(mixed.qrels["qid"])).all()
    assert set(mixed.qrels["qid"]) == set(mixed.topics["qid"])


@pytest.mark.shared
def test_sampled_records(mixed):
    docs = list(mixed.docs())
    assert [docs[i]["docno"] for i in (0, 11428, 11429, 12828, 12829, 16461)] == [
        "vaswani:1", "vaswani:11429", "cranfield:1", "cranfield:1400", "nfcorpus:MED-10",
        "nfcorpus:MED-961"]
    assert docs[0]["title"] == "" and docs[0]["contents"] == docs[0]["text"].strip()
    cran = docs[11429]
    assert cran["title"] == "experimental investigation of the aerodynamics of a\nwing in a slipstream ."
    assert cran["contents"] == cran["text"].strip()  # cranfield's text already holds its title
    nf = docs[12829]
    assert nf["title"] == ("Statin Use and Breast Cancer Survival: A Nationwide Cohort Study "
                           "from Finland")
    assert nf["contents"] == nf["title"] + " " + nf["text"]
    assert nf["text"].startswith("Recent studies have suggested that statins")
    assert mixed.fields == ["docno", "collection", "title", "text", "contents"]
    assert mixed.text_fields == ["contents"]
    topics = mixed.topics
    assert {i: tuple(topics.iloc[i][["qid", "query", "collection"]]) for i in (0, 93, 318, 640)} == {
        0: ("vaswani:1", "MEASUREMENT OF DIELECTRIC CONSTANT OF LIQUIDS BY THE USE OF MICROWAVE "
                         "TECHNIQUES", "vaswani"),
        93: ("cranfield:1", "what similarity laws must be obeyed when constructing aeroelastic "
                            "models of heated high speed aircraft .", "cranfield"),
        318: ("nfcorpus:PLAIN-2", "Do Cholesterol Statin Drugs Cause Breast Cancer?", "nfcorpus"),
        640: ("nfcorpus:PLAIN-3472", "How Doctors Responded to Being Named a Leading Killer",
              "nfcorpus")}
    assert {i: tuple(mixed.qrels.iloc[i]) for i in (0, 2083, 3919, 3920, 16253)} == {
        0: ("vaswani:1", "vaswani:1239", 4), 2083: ("cranfield:1", "cranfield:184", 2),
        3919: ("cranfield:225", "cranfield:1188", -1), 3920: ("nfcorpus:PLAIN-2", "nfcorpus:MED-2427", 4),
        16253: ("nfcorpus:PLAIN-3472", "nfcorpus:MED-3627", 2)}


@pytest.mark.shared
def test_grades_are_each_collections_own_scaled(mixed, parts):
    topics = mixed.topics
    nf_train = topics.loc[(topics["collection"] == "nfcorpus") & (topics["split"] == "train"),
                          "qid"]
    qrels = mixed.qrels[~mixed.qrels["qid"].isin(set(nf_train))]  # the three collections' own
    assert (mixed.qrels["label"][mixed.qrels["qid"].isin(set(nf_train))] == 2).all()
    labels = {name: qrels["label"][collection_of(qrels["qid"]) == name] for name in COUNTS}
    assert labels["vaswani"].value_counts().to_dict() == {4: 2083}
    assert labels["nfcorpus"].value_counts().to_dict() == {2: 11758, 4: 576}
    assert labels["cranfield"].value_counts().to_dict() == {3: 734, 2: 387, 4: 363, -1: 225, 1: 128}
    assert mixed.meta["label_maps"] == {"vaswani": {1: 4}, "nfcorpus": {1: 2, 2: 4},
                                        "cranfield": {-1: -1, 1: 1, 2: 2, 3: 3, 4: 4}}
    top = int(mixed.qrels["label"].max())  # what the loop scales the union by
    for name, part in parts.items():
        alone = scale_grades(part.qrels["label"].to_numpy(), int(part.qrels["label"].max()))
        assert (scale_grades(labels[name].to_numpy(), top) == alone).all(), name


def per_query(qrels: pd.DataFrame, run: pd.DataFrame, prefix: str = "") -> dict:
    """ir_measures' per-query nDCG@10, nDCG, R@100, RR, keyed by (measure, unprefixed qid)."""
    measures = [ir_measures.parse_measure(m) for m in ("nDCG@10", "nDCG", "R@100", "RR")]
    qrels = qrels.rename(columns={"qid": "query_id", "docno": "doc_id", "label": "relevance"})
    run = run.rename(columns={"qid": "query_id", "docno": "doc_id"})
    return {(str(m.measure), m.query_id[len(prefix):]): m.value
            for m in ir_measures.iter_calc(measures, qrels, run)}


@pytest.mark.shared
@pytest.mark.parametrize("name", ["vaswani", "nfcorpus"])
def test_measures_per_query_are_unchanged(mixed, parts, name):
    # a fixed run: each topic's judged documents in reverse qrels order, at most 30
    part = parts[name]
    run = part.qrels.iloc[::-1].groupby("qid", sort=False).head(30)[["qid", "docno"]].copy()
    run["score"] = -run.groupby("qid").cumcount().astype(float)
    alone = per_query(part.qrels, run)
    union_run = run.assign(qid=f"{name}:" + run["qid"], docno=f"{name}:" + run["docno"])
    union_qrels = mixed.qrels[collection_of(mixed.qrels["qid"]) == name]
    union_qrels = union_qrels[union_qrels["qid"].isin(union_run["qid"])]
    union = per_query(union_qrels, union_run, prefix=f"{name}:")
    assert union.keys() == alone.keys() and len(alone) == 4 * COUNTS[name][1]
    assert np.allclose([union[k] for k in alone], list(alone.values()), rtol=0, atol=1e-12)
    assert not np.allclose(list(alone.values()), 1.0)  # the run is not trivially perfect


@pytest.mark.shared
def test_stream_weights_equal_share_zipf_within(mixed):
    topics = mixed.topics
    share = topics.groupby(["split", "collection"])["weight"].sum()
    assert len(share) == 6 and np.allclose(share.to_numpy(), 1 / 3)
    for name, group in topics.groupby(["split", "collection"]):
        ranked = np.sort(group["weight"].to_numpy())[::-1]
        assert np.allclose(ranked / ranked[0], 1 / np.arange(1, len(group) + 1)), name
    again, other = load("ltrr:mixed?seed=0"), load("ltrr:mixed?seed=1")
    assert again.id == "ltrr:mixed" and (again.topics["weight"] == topics["weight"]).all()
    assert other.id == "ltrr:mixed?seed=1&context=1"
    assert not (other.topics["weight"] == topics["weight"]).all()


@pytest.mark.shared
def test_the_split_asks_no_text_on_both_sides(mixed, parts):
    topics = mixed.topics
    keys = text_keys(topics["query"])
    test = (topics["split"] == "test").to_numpy()
    assert set(topics["split"]) == {"test", "train"}
    assert not set(keys[test]) & set(keys[~test])
    # nfcorpus: its own test topics, all of them, and its train topics but the 4 asking a test text
    nf = topics[topics["collection"] == "nfcorpus"]
    assert nf.loc[nf["split"] == "test", "qid"].tolist() == \
        ("nfcorpus:" + parts["nfcorpus"].topics["qid"]).tolist()
    train = load(TRAIN_PART[1]).topics
    left = set("nfcorpus:" + train["qid"]) - set(nf.loc[nf["split"] == "train", "qid"])
    assert len(left) == 4 and set(text_keys(train.set_index("nfcorpus:" + train["qid"])
                                            .loc[sorted(left), "query"])) <= set(keys[test])
    # vaswani and cranfield: about a third of their topics to train, by a fixed seed
    counts = topics.groupby(["collection", "split"]).size().to_dict()
    assert (counts["vaswani", "train"], counts["cranfield", "train"]) == (33, 76)
    other = load("ltrr:mixed?seed=1").topics
    assert other["split"].tolist() == topics["split"].tolist()  # ?seed= moves weights only
    assert set(mixed.qrels["qid"]) == set(topics["qid"])


@pytest.mark.shared
def test_collection_as_context_or_not(mixed):
    assert mixed.context_columns == ["collection"]
    featurizer = ContextFeaturizer(["context"], mixed).fit(mixed.topics)
    assert featurizer.names == ["ctx:collection=cranfield", "ctx:collection=nfcorpus",
                                "ctx:collection=vaswani", "bias"]
    hidden = load("ltrr:mixed?context=0")
    assert hidden.id == "ltrr:mixed?seed=0&context=0" and hidden.context_columns == []
    assert "collection" in hidden.topics.columns  # still there for ltrr arms' groups
    with pytest.raises(InputError, match="has no context columns"):
        ContextFeaturizer(["context"], hidden).fit(hidden.topics)


@pytest.mark.shared
def test_data_info_counts_per_collection(capsys):
    assert main(["data", "info", "ltrr:mixed", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["docs"], info["queries"], info["qrels"]) == (16462, 641 + NF_TRAIN[0],
                                                              16254 + NF_TRAIN[1])
    nf = {"queries": NF_TRAIN[0], "qrels": NF_TRAIN[1]}
    assert info["collections"] == {name: {k: v + (nf[k] if name == "nfcorpus" else 0)
                                          for k, v in (("queries", c[1]), ("qrels", c[2]))}
                                   for name, c in COUNTS.items()}
    assert info["context_columns"] == ["collection"] and info["ignore_identical_ids"] is False


@pytest.mark.parametrize("dataset_id, message", [
    ("ltrr:mixed?context=2", "field 'context': ltrr:mixed context must be 0 or 1, got 2"),
    ("ltrr:mixed?size=5", "unknown setting 'size' in dataset id 'ltrr:mixed?size=5'; "
                          "ltrr:mixed takes seed, context"),
    ("ltrr:mixed?seed=x", "setting 'seed' in dataset id 'ltrr:mixed?seed=x' must be an integer, "
                          "got 'x'"),
])
def test_bad_settings(dataset_id, message):
    with pytest.raises(InputError) as err:
        load(dataset_id)
    assert str(err.value) == message


def test_ltrr_arms_groups_topics_by_collection():
    topics = pd.DataFrame({"qid": ["a:1", "b:1", "a:2"], "query": ["x", "y", "z"],
                           "collection": ["a", "b", "a"]})
    groups = topic_groups(topics)
    assert list(groups) == ["all", "collection=a", "collection=b"]
    assert groups["collection=a"]["qid"].tolist() == ["a:1", "a:2"]


def test_benchmark_file_mirrors_nfcorpus():
    from pathlib import Path

    from ltrr.experiments.benchmark import load_benchmark

    benchmarks = Path(__file__).resolve().parents[2] / "benchmarks"
    mixed, nfcorpus = (load_benchmark(benchmarks / f) for f in ("mixed.toml", "nfcorpus.toml"))
    assert mixed.dataset == "ltrr:mixed" and mixed.seeds == list(range(10))
    assert mixed.arms == ["lexical", "dense", "memory", "fuzzy"] and mixed.budget == 40
    assert mixed.features == ["query", "idf", "memory", "context"]  # pre-retrieval only
    names = [p.name for p in mixed.policies]
    assert [n for n in names if n != "single:fuzzy"] == [p.name for p in nfcorpus.policies]
    assert "single:fuzzy" in names
    space = mixed.plan_space()
    assert len(space.ids) == 4 + 6 + 12 + 1  # singles, equal pairs, 75/25 ordered pairs, union
    assert (mixed.settings.clicks, mixed.settings.page) == (nfcorpus.settings.clicks, 10)
