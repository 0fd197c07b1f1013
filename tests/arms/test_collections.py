"""The arms on real collections (the shared offline archives) against published numbers.

- BEIR nfcorpus test: BM25 nDCG@10 in [0.31, 0.35] (BEIR paper 0.325, PISA BM25 0.343);
  all-MiniLM-L6-v2 nDCG@10 in [0.30, 0.33] (MTEB 0.3159). The dense test encodes 3,633
  documents (minutes on 2 cores) unless the embedding cache is warm: ``slow``.
- vaswani: BM25 near PyTerrier's published Terrier BM25 (MAP 0.2965, nDCG 0.6212); PISA's
  tokeniser and Porter2 stemmer differ from Terrier's, so the numbers differ a little.
"""

from __future__ import annotations

import pytest

from ltrr.arms.report import evaluate

pytestmark = pytest.mark.shared


def measure(dataset_id: str, arm_name: str, measures: list[str]) -> dict[str, float]:
    import ltrr.datasets
    from ltrr.arms import build_arm

    dataset = ltrr.datasets.load(dataset_id)
    run = build_arm(arm_name, dataset).transform(dataset.topics[["qid", "query"]])
    return evaluate({arm_name: run}, dataset.topics, dataset.qrels, measures).loc[arm_name].to_dict()


def test_nfcorpus_bm25_matches_beir():
    res = measure("beir/nfcorpus/test", "lexical", ["nDCG@10", "R@100"])
    assert 0.31 <= res["nDCG@10"] <= 0.35
    assert res["nDCG@10"] == pytest.approx(0.3271, abs=0.002)


def test_vaswani_bm25_near_terrier():
    res = measure("vaswani", "lexical", ["AP", "nDCG"])
    assert res["AP"] == pytest.approx(0.2965, abs=0.02)
    assert res["nDCG"] == pytest.approx(0.6212, abs=0.02)


@pytest.mark.slow
def test_nfcorpus_minilm_matches_mteb():
    res = measure("beir/nfcorpus/test", "dense", ["nDCG@10"])
    assert 0.30 <= res["nDCG@10"] <= 0.33
    assert res["nDCG@10"] == pytest.approx(0.3159, abs=0.002)
