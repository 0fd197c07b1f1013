"""BEIR's ``ignore_identical_ids``: self-hits dropped in ``ltrr arms`` and the loop's candidates.

The BEIR folder built here holds its first query as a document under the same id (as ArguAna
and Quora hold theirs): ``q1`` "zebra quartz" is also document ``q1`` "zebra quartz", which
BM25 ranks first for it (same terms, shortest document), above the relevant ``d1``.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from ltrr.arms import build_arm
from ltrr.arms.report import measure_arms
from ltrr.cli import main
from ltrr.datasets import load
from ltrr.datasets.identical_ids import drop_identical_ids, identical_ids_note
from ltrr.arms.lists import arm_lists, cache_path

FILLER = ["ocean wave", "desert sand dune", "violin concerto", "copper wire", "maple syrup",
          "granite cliff"]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "ltrr_home"))


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "selfbeir"
    (folder / "qrels").mkdir(parents=True)
    write_jsonl(folder / "corpus.jsonl", [
        {"_id": "q1", "title": "", "text": "zebra quartz"},          # the query itself
        {"_id": "d1", "title": "", "text": "zebra quartz mountain river lake"},
        {"_id": "d2", "title": "", "text": "zebra forest"},
        *({"_id": f"f{i}", "title": "", "text": t} for i, t in enumerate(FILLER, start=1)),
    ])
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "zebra quartz"},
                                           {"_id": "x1", "text": "ocean wave"}])
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nx1\tf1\t1\n")
    return folder


def test_drop_identical_ids_reranks_and_cuts():
    ranking = pd.DataFrame({"qid": ["a", "a", "a", "b", "b"], "docno": ["a", "x", "y", "a", "b"],
                            "score": [3.0, 2.0, 1.0, 2.0, 1.0], "rank": [0, 1, 2, 0, 1]})
    kept, dropped = drop_identical_ids(ranking, depth=1)
    assert dropped == 2
    assert kept.to_dict("records") == [{"qid": "a", "docno": "x", "score": 2.0, "rank": 0},
                                       {"qid": "b", "docno": "a", "score": 2.0, "rank": 0}]
    assert drop_identical_ids(ranking)[0]["rank"].tolist() == [0, 1, 0]


def test_beir_folder_with_identical_ids_is_detected_and_said(folder, capsys):
    dataset = load(f"beir:{folder}")
    assert dataset.meta["ignore_identical_ids"] is True and dataset.meta["identical_ids"] == 1
    assert dataset.meta["notes"] == [identical_ids_note(1, 2)]
    assert main(["data", "info", f"beir:{folder}"]) == 0
    out = capsys.readouterr().out
    assert "ignore_identical_ids: True" in out
    assert "note: 1 of 2 query ids are also document ids" in out


def test_beir_folder_without_identical_ids_keeps_everything(folder):
    (folder / "queries.jsonl").write_text(
        (folder / "queries.jsonl").read_text().replace('"q1"', '"z1"'))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nz1\td1\t1\nx1\tf1\t1\n")
    dataset = load(f"beir:{folder}")
    assert dataset.meta["ignore_identical_ids"] is False and dataset.meta["identical_ids"] == 0
    assert "notes" not in dataset.meta


def test_ltrr_arms_drops_self_hits_and_keeps_depth(folder, capsys):
    # q1: lexical ranks [q1, d1, d2]; at depth 2 with the convention the run is [d1, d2]
    # (nDCG@10 = RR = 1), without it [q1, d1] (nDCG@10 = 1 / log2(3), RR = 1/2).
    assert main(["arms", f"beir:{folder}", "--arms", "lexical", "--depth", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ignore_identical_ids"] is True and out["self_hits_dropped"] == {"lexical": 1}
    assert out["groups"]["all"]["arms"]["lexical"]["nDCG@10"] == pytest.approx(1.0)
    assert out["groups"]["all"]["arms"]["lexical"]["RR"] == pytest.approx(1.0)
    assert any("self-hits dropped per arm: lexical 1" in n for n in out["notes"])

    kept = load(f"beir:{folder}")
    kept.meta["ignore_identical_ids"] = False
    report = measure_arms(kept, ["lexical"], depth=2)
    assert report.groups["all"].loc["lexical", "nDCG@10"] == pytest.approx((1 / math.log2(3) + 1) / 2)
    assert report.groups["all"].loc["lexical", "RR"] == pytest.approx(0.75)
    assert report.self_hits is None


def test_candidate_lists_drop_self_hits(folder):
    dataset = load(f"beir:{folder}")
    arm = build_arm("lexical", dataset, num_results=7)
    lists = arm_lists(arm, dataset.topics, 2)
    assert [d.tolist() for d in lists.docnos] == [["d1", "d2"], ["f1"]]
    assert arm.num_results == 7  # the arm's own depth is left as it was
    with_self = cache_path(arm, 2, dataset.topics)

    dataset.meta["ignore_identical_ids"] = False
    assert cache_path(arm, 2, dataset.topics) != with_self  # never served the other lists
    assert [d.tolist() for d in arm_lists(arm, dataset.topics, 2).docnos] == [["q1", "d1"], ["f1"]]


@pytest.mark.shared
def test_loaders_set_the_convention_where_beir_applies_it():
    assert load("beir/nfcorpus/test").meta["ignore_identical_ids"] is True  # BEIR's default
    assert load("vaswani").meta["ignore_identical_ids"] is False  # not a BEIR collection
    assert load("cranfield").meta["ignore_identical_ids"] is False


def test_the_loop_drops_the_memory_arms_self_hits():
    """The memory arm is asked online at every step: on a dataset scored with BEIR's
    ignore_identical_ids, a document whose id is the query's own never reaches the pool,
    and the arm still offers its depth in other documents."""
    import numpy as np
    import pandas as pd

    from ltrr.datasets.base import Dataset
    from ltrr.selection.plans import PlanSpace
    from ltrr.selection.policies import build_policy
    from ltrr.kernel.clicks import PositionBasedModel
    from ltrr.simulation.loop import LoopSettings, World, run_policy

    class SelfMemory:
        """Returns the query's own id first, then d0, d1, ..."""

        name, cache_key = "memory", "memory:self"

        def reset(self) -> None: ...

        def update(self, query, clicked) -> None: ...

        def search(self, query, k):
            qid = {"alpha": "q1", "beta": "q2"}[query]
            return [(qid, 9.0)] + [(f"d{i}", 5.0 - i) for i in range(k - 1)]

    class Bias:
        names, dim, needs_candidates = ["bias"], 1, False

        def transform(self, t, candidates=None, step=0):
            return np.ones(1)

    topics = pd.DataFrame({"qid": ["q1", "q2"], "query": ["alpha", "beta"]})
    qrels = pd.DataFrame({"qid": ["q1", "q2"], "docno": ["d0", "q1"], "label": [1, 1]})
    docs = [{"docno": d, "text": d} for d in ["q1", "q2", "d0", "d1", "d2", "d3"]]
    dataset = Dataset(id="fake:self", docs=lambda: iter(docs), topics=topics, qrels=qrels,
                      meta={"ignore_identical_ids": True})
    space = PlanSpace.from_config(["memory"], 3, {"single": True, "union": False})
    world = World(dataset, {"memory": SelfMemory()}, space,
                  LoopSettings(page=3, clicks=PositionBasedModel("perfect")), 10)
    policy = build_policy("single:memory", {}, world.plans,
                          n_features=1, random_state=0, reward_range=(0.0, 3.0))
    trace = run_policy(world, policy, Bias(), np.array([0, 1, 0, 1]), 0)
    shown = world.vocab.docnos[trace.shown]
    assert shown[0].tolist() == ["d0", "d1", "d2"]  # q1 dropped for query q1, 3 remain
    assert shown[1].tolist() == ["d0", "d1", "d2"]  # q2 dropped for q2 (q1 was not returned)
    assert trace.drawn[:, 0].tolist() == [3, 3, 3, 3]
