"""The learned ranker's PyTerrier face: transformers after any arms pipeline.

    union = ArmsUnion({"lexical": bm25, "dense": dense})          # queries -> tagged results
    features = RankFeatures(spec, priors=priors, contexts=ctx)    # -> one row per candidate
    pipeline = union >> features >> pt.ltr.apply_learned_model(model, form="ltr")
    pipeline = union >> LearnedRanker(model, features)            # the same scores, cut to a page

:class:`RankFeatures` takes a ranking frame with an ``arm`` column (the frame
:class:`~ltrr.ranking.fusion.Fusion` takes; :class:`ArmsUnion` makes it from named arms), and
returns one row per (qid, docno) of each query's union with a ``features`` column (numpy
vectors, PyTerrier's convention for ``pt.ltr``), ``score`` = the plan-independent RRF
and ``rank``. Its features are computed by the same :func:`~ltrr.ranking.features.pool_features`
the loop calls, so ``pt.ltr.apply_learned_model(model, form="ltr")`` and
:meth:`LambdaMART.score <ltrr.ranking.learned.LambdaMART.score>` give the same scores
(``tests/ranking/test_pipeline.py``). ``pt.ltr.apply_learned_model(LambdaMART(), form="ltr")``
also trains inside the pipeline (``pipeline.fit(train_topics, qrels, valid_topics, qrels)``).
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.errors import InputError
from ltrr.ranking.features import DocumentPriors, FeatureSpec, pool_features
from ltrr.kernel.pools import CandidatePool
from ltrr.kernel.ties import tie_keys

ContextSource = Mapping[str, np.ndarray] | Callable[[str], np.ndarray] | None


class ArmsUnion(pt.Transformer):
    """Run named arms (any PyTerrier retrievers) and stack their results with an ``arm`` column."""

    def __init__(self, arms: Mapping[str, pt.Transformer]) -> None:
        if not arms:
            raise InputError("ArmsUnion needs at least one arm")
        self.arms = dict(arms)

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        frames = [arm.transform(queries).assign(arm=name) for name, arm in self.arms.items()]
        return pd.concat(frames, ignore_index=True)


class RankFeatures(pt.Transformer):
    """Feature vectors for every candidate of each query's union (see the module docstring).

    Args:
        spec: the feature spec; its ``arms`` name the ``arm`` values, in pool order.
        priors: the dataset's document priors (needed when ``spec.prior_names``).
        contexts: qid -> context vector, a mapping or a callable (needed when
            ``spec.context_names``).
    """

    def __init__(self, spec: FeatureSpec, priors: DocumentPriors | None = None,
                 contexts: ContextSource = None) -> None:
        if spec.prior_names and (priors is None or tuple(priors.names) != spec.prior_names):
            raise InputError(f"the feature spec uses priors {list(spec.prior_names)}; pass "
                             "DocumentPriors with the same names")
        if spec.context_names and contexts is None:
            raise InputError("the feature spec has context features; pass contexts "
                             "(qid -> vector)")
        self.spec, self.priors, self.contexts = spec, priors, contexts

    def _context(self, qid: str) -> np.ndarray | None:
        if not self.spec.context_names:
            return None
        if callable(self.contexts):
            return np.asarray(self.contexts(qid), dtype=float)
        if qid not in self.contexts:
            raise InputError(f"no context vector for query '{qid}'", field="qid")
        return np.asarray(self.contexts[qid], dtype=float)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in ("qid", "docno", "score", "rank", "arm") if c not in inp.columns]
        if missing:
            raise InputError(f"RankFeatures needs a ranking frame with an 'arm' column "
                             f"(e.g. from ArmsUnion); missing {missing}", field=missing[0])
        unknown = sorted(set(inp["arm"].astype(str)) - set(self.spec.arms))
        if unknown:
            raise InputError(f"results from arm(s) {unknown} the feature spec does not have "
                             f"(its arms: {', '.join(self.spec.arms)})", field="arm")
        out = []
        for qid, rows in inp.groupby("qid", sort=False):
            pool, docnos = pool_of(rows, self.spec.arms)
            priors = self.priors.values(docnos) if self.spec.prior_names else None
            X = pool_features(pool, self.spec, self._context(str(qid)), priors)
            rrf = X[:, self.spec.names.index("fused:rrf")]
            frame = pd.DataFrame({"qid": qid, "docno": docnos, "score": rrf})
            if "query" in rows.columns:
                frame.insert(1, "query", rows["query"].iloc[0])
            frame["features"] = list(X)
            out.append(frame)
        if not out:
            return pd.DataFrame(columns=["qid", "query", "docno", "score", "rank", "features"])
        res = pd.concat(out, ignore_index=True)
        return pt.model.add_ranks(res)


def pool_of(rows: pd.DataFrame, arms: tuple[str, ...]) -> tuple[CandidatePool, np.ndarray]:
    """One query's tagged results as a pool (rows in ``arms`` order) and its docnos."""
    codes, uniques = pd.factorize(rows["docno"].astype(str), sort=True)
    ranked = rows.assign(_doc=codes).sort_values(["arm", "rank"], kind="stable")
    ids, scores = [], []
    by_arm = {a: g for a, g in ranked.groupby("arm", sort=False)}
    for arm in arms:
        g = by_arm.get(arm)
        ids.append(np.empty(0, np.int64) if g is None else g["_doc"].to_numpy(np.int64))
        scores.append(np.empty(0) if g is None else g["score"].to_numpy(float))
    pool = CandidatePool.from_lists(ids, scores)
    return pool, np.asarray(uniques)[pool.docs]


class LearnedRanker(pt.Transformer):
    """Features, then the model's score: the reranked union's top ``num_results`` per query.

    Ties in score go to the best constituent rank, then to the seeded per-docno key of
    :func:`~ltrr.kernel.ties.tie_keys` (``seed``): the rule of the loop's
    :func:`~ltrr.kernel.pages.pages_from_scores` and of the fusions.
    """

    def __init__(self, model, features: RankFeatures, num_results: int = 1000,
                 seed: int = 0) -> None:
        self.model, self.features = model, features
        self.num_results, self.seed = int(num_results), int(seed)

    def transform(self, inp: pd.DataFrame) -> pd.DataFrame:
        res = self.features.transform(inp)
        if not len(res):
            return res.drop(columns="features")
        X = np.stack(res["features"].to_numpy())
        names = self.features.spec.names
        ranks = X[:, [names.index(f"{a}:rank") for a in self.features.spec.arms]]
        res = res.drop(columns="features").assign(
            score=self.model.score(X), _best=np.nanmin(ranks, axis=1),
            _key=tie_keys(res["docno"].astype(str), self.seed))
        res = res.sort_values(["qid", "score", "_best", "_key"],
                              ascending=[True, False, True, True], kind="stable")
        res["rank"] = res.groupby("qid", sort=False).cumcount()
        res = res[res["rank"] < self.num_results].drop(columns=["_best", "_key"])
        return res.reset_index(drop=True)
