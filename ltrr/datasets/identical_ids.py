"""BEIR's ``ignore_identical_ids``: a document whose id is the query's own id is not a result.

Some BEIR corpora contain the queries themselves: in ArguAna every query is an argument of the
corpus under the same id, in Quora every query is a question of the corpus. Ranking the query's
own document first is then trivially "right" and unjudged, so it pushes a relevant document
down. What the reference implementations do (beir 2.2.0, MTEB):

- ``beir.retrieval.evaluation.EvaluateRetrieval.evaluate(qrels, results, k_values,
  ignore_identical_ids=True)``: the default, for every collection. It pops from ``results``
  every document whose id equals the query id, then scores with pytrec_eval (qrels untouched).
- BEIR's own retrievers (``BM25Search``, ``DenseRetrievalExactSearch``) ask for ``top_k + 1``
  hits and skip the query's own id, so a cut at k still holds k documents.
- MTEB sets ``ignore_identical_ids = True`` for ArguAna and Quora (its default is False).
  It changes published numbers there: Pyserini BM25 nDCG@10 on ArguAna 0.315 -> 0.414 (beir PR #91);
  on collections whose query and document ids never coincide it changes nothing.

ltrr follows BEIR: the property is ``Dataset.meta["ignore_identical_ids"]``, set by the loaders
for every ir_datasets ``beir/...`` id (BEIR's default) and for a ``beir:FOLDER`` whose query
ids include document ids (:func:`identical_ids_note` says how many). Where it is set, ``ltrr
arms`` asks each arm for depth + 1 and :func:`drop_identical_ids` removes the self-hits and
cuts to the depth before ``pt.Experiment`` scores the run, and the loop's static candidate
lists are made the same way (:func:`ltrr.arms.lists.arm_lists`), as are the memory
arm's, which the loop asks online at every step for one more. Other collections
(vaswani, cranfield: numbered queries and documents whose ids coincide by chance) keep every
document: the convention is BEIR's, for corpora that hold their queries.

Written here because BEIR's version works on its nested ``{qid: {docno: score}}`` dicts inside
its evaluator; ltrr's runs are PyTerrier frames.
"""

from __future__ import annotations

import pandas as pd

META_KEY = "ignore_identical_ids"


def ignores_identical_ids(dataset) -> bool:
    """Whether ``dataset`` is scored with BEIR's ``ignore_identical_ids``."""
    return bool(getattr(dataset, "meta", {}).get(META_KEY, False))


def beir_default(dataset_id: str) -> bool:
    """BEIR applies the convention to each of its collections (``beir/...`` ir_datasets ids)."""
    return dataset_id.startswith("beir/")


def identical_ids_note(n_identical: int, n_queries: int) -> str:
    """What a ``beir:FOLDER`` loader did about query ids that are also document ids."""
    return (f"{n_identical} of {n_queries} query ids are also document ids: as BEIR's "
            f"EvaluateRetrieval.evaluate does (ignore_identical_ids=True), a document whose id "
            f"equals the query id is dropped from every ranking before evaluation and from the "
            f"loop's static candidate lists (each arm is asked for one more result, so k remain)")


def drop_identical_ids(ranking: pd.DataFrame, depth: int | None = None
                       ) -> tuple[pd.DataFrame, int]:
    """``ranking`` without rows whose ``docno`` equals their ``qid``, re-ranked from 0 per query
    and cut to ``depth`` rows per query when given; also the number of rows dropped.

    The frame is a PyTerrier ranking (``qid, docno, score, rank`` and any other columns),
    sorted by qid then rank as arms return it; the order of the kept rows is unchanged.
    """
    self_hit = ranking["qid"].astype(str).to_numpy() == ranking["docno"].astype(str).to_numpy()
    kept = ranking[~self_hit].copy()
    if len(kept):
        kept["rank"] = kept.groupby("qid", sort=False).cumcount().astype("int64")
    if depth is not None:
        kept = kept[kept["rank"] < int(depth)]
    return kept.reset_index(drop=True), int(self_hit.sum())


def retrieve(arm, queries: pd.DataFrame, depth: int, ignore_identical: bool
             ) -> tuple[pd.DataFrame, int]:
    """``arm``'s top ``depth`` per query, with BEIR's convention when ``ignore_identical``:
    ask for ``depth + 1``, drop self-hits, cut to ``depth``. The arm's depth is restored."""
    before = arm.num_results
    try:
        if not ignore_identical:
            return arm.with_depth(depth).transform(queries), 0
        return drop_identical_ids(arm.with_depth(depth + 1).transform(queries), depth)
    finally:
        arm.with_depth(before)
