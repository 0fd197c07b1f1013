"""Fusion: the loop's compiled RRF / CombSUM give the page pyterrier_alpha and ranx give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.kernel.pages import plan_pages
from ltrr.kernel.pools import CandidatePool
from ltrr.ranking.fusion import Fusion

RNG = np.random.default_rng(11)
DOCNOS = np.array([f"d{i:03d}" for i in range(60)])


def arm_lists(n_arms=3, depth=25):
    ids = [RNG.choice(60, size=depth, replace=False) for _ in range(n_arms)]
    scores = [np.sort(RNG.random(depth) * 10)[::-1] + a for a in range(n_arms)]
    return ids, scores


def frame(ids, scores, depths):
    rows = []
    for a, (ids_a, sc) in enumerate(zip(ids, scores)):
        for r in range(depths[a]):
            rows.append(("q1", "query", DOCNOS[ids_a[r]], sc[r], r, f"arm{a}"))
    return pd.DataFrame(rows, columns=["qid", "query", "docno", "score", "rank", "arm"])


def ranx_rrf(ids, scores, depths, k=60) -> dict[str, float]:
    """ranx's RRF (Cormack et al.: 1-based ranks) of the arms' top ``depths``."""
    from ranx import Run, fuse

    runs = [Run({"q1": {str(DOCNOS[i]): float(sc) for i, sc in zip(ids[a][:depths[a]],
                                                                    scores[a][:depths[a]])}})
            for a in range(len(ids)) if depths[a] > 0]
    fused = fuse(runs=runs, method="rrf", params={"k": k}) if len(runs) > 1 else None
    if fused is None:  # one list: its own reciprocal ranks
        a = next(a for a in range(len(ids)) if depths[a] > 0)
        return {str(DOCNOS[i]): 1.0 / (k + r + 1) for r, i in enumerate(ids[a][:depths[a]])}
    return dict(fused.to_dict()["q1"])


def assert_same_page(ours: list[str], score: dict[str, float]) -> None:
    """``ours`` is the top of ``score`` (documents -> fused score): its scores non-increasing
    and none left out scores higher than the last shown (the order among exact ties is
    each implementation's own)."""
    values = [score[d] for d in ours]
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))
    rest = [v for d, v in score.items() if d not in set(ours)]
    assert not rest or max(rest) <= values[-1] + 1e-12
    assert len(ours) == min(10, len(score))


@pytest.mark.parametrize("method", ["rrf", "combsum"])
@pytest.mark.parametrize("depths", [(25, 25, 25), (10, 5, 20), (25, 0, 3), (1, 1, 1)])
def test_loop_fusion_matches_pyterrier_alpha_and_ranx(method, depths):
    ids, scores = arm_lists()
    pool = CandidatePool.from_lists(ids, scores)
    active = [a for a, d in enumerate(depths) if d > 0]
    pages, in_union = plan_pages(pool, np.array([depths]), method, k=60, page=10)
    ours = [str(DOCNOS[pool.docs[i]]) for i in pages[0] if i >= 0]
    inp = frame([ids[a] for a in active], [scores[a] for a in active], [depths[a] for a in active])
    theirs = Fusion(method, k=60, num_results=10).transform(inp)
    if method == "rrf":
        reference = ranx_rrf(ids, scores, depths)
        assert_same_page(ours, reference)
        # the PyTerrier transformer (pyterrier_alpha with k + 1) gives ranx's scores
        for docno, value in zip(theirs["docno"], theirs["score"]):
            assert value == pytest.approx(reference[docno], abs=1e-15)
        assert_same_page(theirs.sort_values("rank")["docno"].tolist(), reference)
    else:
        # CombSUM's min-max scaling maps each list's top to exactly 1.0 and its bottom to
        # 0.0, so exact ties are common; pyterrier's order among them is arbitrary.
        assert set(ours) == set(theirs["docno"])
        assert_same_page(ours, dict(zip(theirs["docno"], theirs["score"])))
    union = {DOCNOS[i] for a in active for i in ids[a][: depths[a]]}
    assert {DOCNOS[d] for d in pool.docs[in_union[0]]} == union


def test_rrf_uses_one_based_ranks_as_cormack_et_al():
    """k = 60 is Cormack, Clarke and Buettcher's constant: a document first in one list scores
    1/61, as in ranx, not 1/60."""
    pool = CandidatePool.from_lists([np.array([5, 6]), np.array([6, 7])],
                                    [np.array([2.0, 1.0]), np.array([3.0, 1.0])])
    reference = ranx_rrf([np.array([5, 6]), np.array([6, 7])],
                         [np.array([2.0, 1.0]), np.array([3.0, 1.0])], (2, 2))
    assert reference[str(DOCNOS[5])] == pytest.approx(1 / 61)
    assert reference[str(DOCNOS[6])] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_scores_are_reciprocal_ranks():
    pool = CandidatePool.from_lists([np.array([5, 6]), np.array([6, 7])],
                                    [np.array([2.0, 1.0]), np.array([3.0, 1.0])])
    pages, _ = plan_pages(pool, np.array([[2, 2], [1, 0]]), "rrf", k=60, page=3)
    # doc 6: 1/62 + 1/61 beats doc 5: 1/61 and doc 7: 1/62
    assert pool.docs[pages[0]].tolist() == [6, 5, 7]
    assert pages[1].tolist()[1:] == [-1, -1]
    assert pool.docs[pages[1][0]] == 5


def test_all_plans_at_once_equal_one_at_a_time():
    ids, scores = arm_lists(n_arms=4, depth=30)
    pool = CandidatePool.from_lists(ids, scores)
    depths = RNG.integers(0, 31, size=(12, 4))
    depths[:, 0] = np.maximum(depths[:, 0], 1)
    for method in ("rrf", "combsum"):
        together, _ = plan_pages(pool, depths, method, page=10)
        for p in range(len(depths)):
            alone, _ = plan_pages(pool, depths[p:p + 1], method, page=10)
            assert together[p].tolist() == alone[0].tolist()


def test_ties_do_not_depend_on_docno_order():
    """Two documents at the same rank of different arms tie exactly under RRF. Which one is
    shown first follows the tie keys (seeded by docno through a hash), not which one has the
    smaller id: relabelling the ids while keeping each document's key keeps the page."""
    from ltrr.kernel.ties import tie_keys

    lists = [np.array([10, 11]), np.array([20, 21])]  # 10 and 20 tie, 11 and 21 tie
    scores = [np.array([2.0, 1.0]), np.array([2.0, 1.0])]
    docnos = {10: "t00001", 11: "t00002", 20: "pl0001", 21: "pl0002"}
    keys = dict(zip(docnos, tie_keys(list(docnos.values()), seed=3)))
    pool = CandidatePool.from_lists(lists, scores)
    pages, _ = plan_pages(pool, np.array([[2, 2]]), "rrf", page=4,
                          keys=np.array([keys[d] for d in pool.docs]))
    shown = [docnos[pool.docs[i]] for i in pages[0]]
    # the same documents under ids in the opposite order
    flip = {10: 21, 11: 20, 20: 11, 21: 10}
    pool2 = CandidatePool.from_lists([np.array([flip[d] for d in x]) for x in lists], scores)
    back = {v: k for k, v in flip.items()}
    pages2, _ = plan_pages(pool2, np.array([[2, 2]]), "rrf", page=4,
                           keys=np.array([keys[back[d]] for d in pool2.docs]))
    assert [docnos[back[pool2.docs[i]]] for i in pages2[0]] == shown
    # within each tied pair the key decides, and rank-1 documents come before rank-2 ones
    for pair in (shown[:2], shown[2:]):
        by_key = sorted(pair, key=lambda d: keys[next(k for k, v in docnos.items() if v == d)])
        assert pair == by_key
    assert set(shown[:2]) == {"t00001", "pl0001"}


def test_ties_go_to_the_better_best_rank_first():
    """CombSUM min-max scales each list, so exact ties are common: between tied documents the
    one some arm ranked higher comes first, whatever the keys say; keys decide only among
    documents with the same best rank too."""
    pool = CandidatePool.from_lists([np.array([1, 2, 3]), np.array([5, 8, 6, 9])],
                                    [np.array([2.0, 1.0, 0.0]), np.array([4.0, 3.0, 2.0, 0.0])])
    # scaled: 1 -> 1, 2 -> .5 (rank 1), 3 -> 0 (rank 2); 5 -> 1, 8 -> .75, 6 -> .5 (rank 2),
    # 9 -> 0 (rank 3). Keys favour 6 over 2 and 9 over 3; they cannot beat the better rank.
    keys = {1: 7, 2: 9, 3: 9, 5: 3, 6: 1, 8: 5, 9: 1}
    pages, _ = plan_pages(pool, np.array([[3, 4]]), "combsum", page=7,
                          keys=np.array([keys[d] for d in pool.docs], dtype=np.uint64))
    assert pool.docs[pages[0]].tolist() == [5, 1, 8, 2, 6, 3, 9]
