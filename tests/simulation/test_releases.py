"""Documents released during the stream: every arm hides them before taking its top k.

A tiny world with one static arm whose ranking puts two late documents on top: at every
step the arm must offer k documents that are out, the late ones joining at their release.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.datasets.base import Dataset
from ltrr.kernel.clicks import PositionBasedModel
from ltrr.selection.plans import PlanSpace
from ltrr.simulation.loop import LoopSettings, World
from ltrr.simulation.stream import release_schedule

N_DOCS, LENGTH = 40, 100


class RankedArm:
    """A static arm ranking d000, d001, ... in that order for every query."""

    name, num_results = "lexical", 10
    cache_key = "lexical:fake-releases"

    def with_depth(self, k: int) -> "RankedArm":
        self.num_results = k
        return self

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        rows = [(qid, "", f"d{i:03d}", 100.0 - i, i) for qid in queries["qid"]
                for i in range(min(self.num_results, N_DOCS))]
        return pd.DataFrame(rows, columns=["qid", "query", "docno", "score", "rank"])


def dataset() -> Dataset:
    # d000 and d001 come out on day 95 of the 10-day window ending on the newest day (100,
    # d039's): step 50 of 100
    days = {0: 95, 1: 95, 39: 100}
    docs = [{"docno": f"d{i:03d}", "text": "x", "day": days.get(i, 0)} for i in range(N_DOCS)]
    topics = pd.DataFrame({"qid": ["q0", "q1"], "query": ["a b", "c d"]})
    qrels = pd.DataFrame({"qid": ["q0", "q0"], "docno": ["d000", "d005"], "label": [2, 1]})
    return Dataset(id="fake:releases", docs=lambda: iter(docs), topics=topics, qrels=qrels,
                   fields=["docno", "text", "day"], meta={"recency": {"field": "day"}})


def make_world(tmp_path, monkeypatch) -> World:
    monkeypatch.setenv("LTRR_HOME", str(tmp_path))
    space = PlanSpace.from_config(["lexical"], 6, {"single": True, "union": False})
    settings = LoopSettings(page=5, clicks=PositionBasedModel("navigational"), new_release_days=10)
    return World(dataset(), {"lexical": RankedArm()}, space, settings, LENGTH)


def test_release_schedule_of_the_late_documents():
    late = release_schedule(dataset(), LENGTH, 10)
    assert late.to_dict() == {"d000": 50, "d001": 50, "d039": 99}


def test_a_static_arm_offers_k_released_documents_at_every_step(tmp_path, monkeypatch):
    world = make_world(tmp_path, monkeypatch)
    docnos = world.vocab.docnos

    def shown(step):
        ids, scores, grades = world.static_lists(0, step)["lexical"]
        return docnos[ids].tolist()

    before = [f"d{i:03d}" for i in range(2, 8)]
    assert shown(0) == before and shown(49) == before  # 6 released, not 4
    assert shown(50) == [f"d{i:03d}" for i in range(6)]
    assert world.n_relevant(0, 49) == 1 and world.n_relevant(0, 50) == 2


def test_recall_and_truths_count_only_released_documents(tmp_path, monkeypatch):
    from ltrr.selection.policies import build_policy
    from ltrr.simulation.loop import run_policy

    class NoFeatures:
        names, dim = ["bias"], 1

        def transform(self, t, candidates=None, step=0):
            return np.ones(1)

    world = make_world(tmp_path, monkeypatch)
    policy = build_policy("single:lexical", {}, world.plans,
                          n_features=1, random_state=0, reward_range=(0.0, 5.0))
    stream = np.array([0] * 60 + [1] * 40)
    trace = run_policy(world, policy, NoFeatures(), stream, 0)
    # topic 0 before step 50: its one released relevant document (d005) is in the union
    assert np.all(trace.recall[:50] == 1.0) and np.all(trace.n_relevant[:50] == 1)
    assert np.all(trace.recall[50:60] == 1.0) and np.all(trace.n_relevant[50:60] == 2)
    # topic 1 has no relevant document: recall undefined, not 0
    assert np.isnan(trace.recall[60:]).all() and (trace.n_relevant[60:] == 0).all()
