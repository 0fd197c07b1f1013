"""Plans that say how many: a skewed split's page is the fusion of its arms at its depths,
the semi-bandit chooses a depth per arm, and a split over the budget is refused at the CLI.

The worlds here are small and made by hand: two static arms whose lists per topic are
fixed permutations of a 200-document corpus (so a split of 50 candidates reaches 40 deep
in one list), or lists built so that one skewed split shows more relevant documents than
any other plan.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from ltrr.datasets.base import Dataset
from ltrr.kernel.clicks import PositionBasedModel
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import build_policy
from ltrr.simulation.loop import LoopSettings, World, run_policy
from ltrr.simulation.stream import sample_stream
from ltrr.simulation.truths import fill_lists, fill_truths
from worlds import TopicFeaturizer
from worlds import BENCHMARK, write_benchmark

N_TOPICS, N_DOCS = 6, 200


class ListArm:
    """A static arm with a fixed ranked list of docnos per topic (scores 100, 99, ...)."""

    def __init__(self, name: str, lists: dict[str, list[str]]) -> None:
        self.name, self.lists, self.num_results = name, lists, 10
        digest = hashlib.sha256(repr(sorted(lists.items())).encode()).hexdigest()[:16]
        self.cache_key = f"{name}:lists:{digest}"  # the on-disk candidate cache's key

    def with_depth(self, k: int) -> "ListArm":
        self.num_results = k
        return self

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        rows = [(qid, "", d, 100.0 - r, r) for qid in queries["qid"]
                for r, d in enumerate(self.lists[qid][: self.num_results])]
        return pd.DataFrame(rows, columns=["qid", "query", "docno", "score", "rank"])


def dataset(relevant: dict[str, list[str]]) -> Dataset:
    topics = pd.DataFrame({"qid": [f"q{t}" for t in range(N_TOPICS)],
                           "query": [f"query {t}" for t in range(N_TOPICS)]})
    qrels = pd.DataFrame([(q, d, 3) for q, docs in relevant.items() for d in docs],
                         columns=["qid", "docno", "label"])
    docs = [{"docno": f"d{i:03d}", "text": f"doc {i}"} for i in range(N_DOCS)]
    return Dataset(id="fake:depths", docs=lambda: iter(docs), topics=topics, qrels=qrels)


def world_of(arms: dict, plans: dict, budget: int, page: int, relevant: dict) -> World:
    space = PlanSpace.from_config(list(arms), budget, plans)
    settings = LoopSettings(page=page, clicks=PositionBasedModel("navigational"))
    return World(dataset(relevant), arms, space, settings, 2000)


def world_page(world: World, topic: int, plan: int) -> list[str]:
    """Plan ``plan``'s page for ``topic`` at step 0, as the simulator computes it."""
    buf = world.buffers()
    st = world.seed(0)
    fill_lists(world.tables, st.lists, topic, 0, buf)
    fill_truths(world.tables, st.cache, topic, 0, buf)
    return [str(world.vocab.docnos[d]) for d in buf.pages[plan] if d >= 0]


def rrf(lists: list[list[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal rank fusion by hand (Cormack et al.: 1-based ranks)."""
    score: dict[str, float] = {}
    for ranked in lists:
        for r, d in enumerate(ranked):
            score[d] = score.get(d, 0.0) + 1.0 / (k + r + 1)
    return score


def test_a_skewed_split_s_page_is_the_fusion_of_its_arms_at_those_depths():
    rng = np.random.default_rng(5)
    docnos = [f"d{i:03d}" for i in range(N_DOCS)]
    lexical = {f"q{t}": list(rng.permutation(docnos)[:80]) for t in range(N_TOPICS)}
    dense = {f"q{t}": list(rng.permutation(docnos)[:80]) for t in range(N_TOPICS)}
    arms = {"lexical": ListArm("lexical", lexical), "dense": ListArm("dense", dense)}
    relevant = {q: lexical[q][:2] + dense[q][:2] for q in lexical}
    world = world_of(arms, {"single": False, "union": False, "skewed": [[0.8, 0.2]]}, 50, 10,
                     relevant)
    assert world.plan_ids == ["lexical:40+dense:10", "lexical:10+dense:40"]
    differ = 0
    for t in range(N_TOPICS):
        q = f"q{t}"
        pages = []
        for plan, (a, b) in enumerate([(40, 10), (10, 40)]):
            page = world_page(world, t, plan)
            score = rrf([lexical[q][:a], dense[q][:b]])
            # the page is the fused top 10: its scores are the 10 best, best first (exact
            # ties in fused score may come in either order: the seeded tie rule decides)
            assert [score[d] for d in page] == sorted(score.values(), reverse=True)[:10]
            pages.append(page)
        differ += pages[0] != pages[1]
    assert differ >= N_TOPICS // 2  # the depths matter: 40 + 10 is not 10 + 40


def test_the_semibandit_chooses_a_depth_per_arm():
    """lexical finds 4 relevant documents on top, dense 1: on a page of 5, lexical:9+dense:1
    shows all five and is the one best plan; the semi-bandit, learning per (arm, depth), finds
    it among plans that draw lexical at six depths."""
    lexical, dense, relevant = {}, {}, {}
    for t in range(N_TOPICS):
        base = t * 30
        lexical[f"q{t}"] = [f"d{base + i:03d}" for i in range(12)]  # 4 relevant, then noise
        dense[f"q{t}"] = [f"d{base + 12 + i:03d}" for i in range(12)]  # 1 relevant, then noise
        relevant[f"q{t}"] = lexical[f"q{t}"][:4] + dense[f"q{t}"][:1]
    arms = {"lexical": ListArm("lexical", lexical), "dense": ListArm("dense", dense)}
    world = world_of(arms, {"equal_splits": [2], "skewed": [[0.9, 0.1], [0.7, 0.3]]}, 10, 5,
                     relevant)
    assert world.plan_ids == ["lexical:10", "dense:10", "lexical:5+dense:5", "lexical:9+dense:1",
                              "lexical:1+dense:9", "lexical:7+dense:3", "lexical:3+dense:7"]
    policy = build_policy("semibandit", {"c": 0.5}, world.plans,
                          n_features=2, random_state=0, reward_range=(0.0, 5.0))
    assert [depth for arm, depth in policy.base_arms if arm == "lexical"] == [1, 3, 5, 7, 9, 10]
    stream = sample_stream(world.topics, 1500, 1.0, 0)
    trace = run_policy(world, policy, TopicFeaturizer(), stream, 0)
    best = world.plan_ids.index("lexical:9+dense:1")
    assert (trace.expected.argmax(axis=1) == best).all()  # the one best plan, every step
    late = np.bincount(trace.plan[750:], minlength=len(world.plan_ids))
    assert late.argmax() == best and late[best] > 0.9 * late.sum()


@pytest.mark.parametrize("plans,field,message", [
    ("equal_splits = [2]\nskewed = [[0.6, 0.2], [0.8, 0.4]]", "plans.skewed[1]",
     "weights [0.8, 0.4] sum to 1.2, over the budget (the weights of a split sum to at most 1)"),
    ("custom = [{ lexical = 8, fuzzy = 6 }]", "plans.custom[0]",
     "depths sum to 14, over the budget 12"),
])
def test_a_split_over_the_budget_is_one_message_exit_2_nothing_written(tmp_path, capsys, plans,
                                                                       field, message):
    path = write_benchmark(tmp_path, BENCHMARK.replace("equal_splits = [2]", plans, 1))
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == \
        f"ltrr run: error: {path}, field '{field}': {message}"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny.toml"]
