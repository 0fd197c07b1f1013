"""The memory arm: stored queries -> entities, learnt from clicks, cold-started from predictions.

The memory is a table of *stored queries*, each pointing at entities with a score:

- cold start: every document gets ``n_queries`` predicted queries from a pluggable
  :mod:`query generator <ltrr.arms.querygen>`; the i-th (0-based) of a document's n queries
  points at it with score ``1 - i / (2n)`` (most confident 1, least about 0.5);
- ``update(query, clicked)``: one issue of ``query`` and the docnos clicked on it. For a query
  with observed issues, its stored scores become the click-through estimate
  ``clicks(q, d) / (issues(q) + 1)`` (one pseudo-issue without clicks as prior, so one click
  weighs less than many) and its predicted scores are dropped (clicks *replace* predictions);
- ``reset()`` forgets all clicks: back to the predicted queries.

Retrieval matches the incoming query against the stored queries, both normalised (lower-case,
alphanumeric tokens): stored queries are word TF-IDF vectors (vocabulary fitted on the
predicted queries; words outside it only take part through the exact match), cosine similarity
picks the ``neighbours`` most similar stored queries, the exact normalised match counting
``exact_weight`` (2) instead of its cosine. An entity's score is the similarity-weighted sum of
its scores under those stored queries. All of it is array arithmetic per query, so the
loop can call :meth:`MemoryArm.ranked` once per interaction as clicks arrive; what clicks never
change (a query's TF-IDF row and its cosines with the predicted queries) is cached per query,
and :meth:`MemoryArm.prepare_queries` fills that cache for a whole topic set in one batch.
"""

from __future__ import annotations

import json
import pickle
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ltrr.arms.base import Arm, ranking_frame
from ltrr.arms.querygen import QueryGenerator, make_generator
from ltrr.datasets.base import Dataset

_TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1 << 16, typed=True)  # the loop normalises each query several times per step
def normalise(query: str) -> str:
    """The form stored queries are keyed by: lower-case alphanumeric tokens, single spaces."""
    return " ".join(_TOKEN.findall(str(query).lower()))


class MemoryArm(Arm):
    """A click memory over stored queries (see the module docstring for the scoring).

    Args:
        dataset: the collection whose entities the memory points at.
        num_results: depth (results per query).
        query_generator: ``"extractive"`` (default), ``"doc2query:NAME_OR_PATH"`` or a
            :class:`~ltrr.arms.querygen.QueryGenerator`.
        n_queries: predicted queries per document.
        neighbours: stored queries matched per incoming query.
        exact_weight: weight of the exact normalised match (others weigh their cosine, <= 1).
    """

    name = "memory"

    def __init__(self, dataset: Dataset, num_results: int = 1000,
                 query_generator: str | QueryGenerator = "extractive", n_queries: int = 5,
                 neighbours: int = 50, exact_weight: float = 2.0) -> None:
        super().__init__(dataset, num_results)
        self.generator = make_generator(query_generator)
        self.n_queries = int(n_queries)
        self.neighbours = int(neighbours)
        self.exact_weight = float(exact_weight)
        self._docnos: np.ndarray | None = None
        self._doc_index: dict[str, int] = {}
        self._vectorizer = None
        self._pred_index: dict[str, int] = {}
        self._pred_terms: sp.csr_matrix | None = None   # vocabulary x predicted queries
        self._pred_docs: sp.csr_matrix | None = None    # predicted queries x docs

    def settings(self) -> dict:
        return {"generator": self.generator.name, "n_queries": self.n_queries,
                "fields": [f for f in ("title", "artist", "text") if f in self.dataset.fields]}

    # -- building the cold-start memory ---------------------------------------------------
    def _build(self, path: Path) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from tqdm.auto import tqdm

        if hasattr(self.generator, "fit"):
            self.generator.fit(self.dataset.docs())
        docnos: list[str] = []
        rows: dict[str, int] = {}
        entries: dict[tuple[int, int], float] = {}
        for d, doc in enumerate(tqdm(self.dataset.docs(), total=self.dataset.num_docs,
                                     desc=f"memory: predicting queries ({self.generator.name})",
                                     unit="doc")):
            docnos.append(str(doc["docno"]))
            queries = self.generator.generate(doc, self.n_queries)
            for i, query in enumerate(queries):
                key = normalise(query)
                if not key:
                    continue
                row = rows.setdefault(key, len(rows))
                score = 1.0 - i / (2.0 * max(len(queries), 1))
                entries[(row, d)] = max(entries.get((row, d), 0.0), score)
        keys = list(rows)
        r = np.fromiter((row for row, _ in entries), dtype=np.int64, count=len(entries))
        c = np.fromiter((d for _, d in entries), dtype=np.int64, count=len(entries))
        v = np.fromiter(entries.values(), dtype=np.float32, count=len(entries))
        pred_docs = sp.csr_matrix((v, (r, c)), shape=(len(keys), len(docnos)))
        vectorizer = TfidfVectorizer(token_pattern=r"[a-z0-9]+", sublinear_tf=True,
                                     dtype=np.float32)
        pred_terms = vectorizer.fit_transform(keys).T.tocsr() if keys else sp.csr_matrix((0, 0))
        path.mkdir(parents=True)
        sp.save_npz(path / "pred_docs.npz", pred_docs)
        sp.save_npz(path / "pred_terms.npz", pred_terms)
        with open(path / "vectorizer.pkl", "wb") as out:
            pickle.dump(vectorizer, out)
        (path / "docnos.json").write_text(json.dumps(docnos))
        (path / "queries.json").write_text(json.dumps(keys))

    def _open(self, path: Path) -> None:
        with open(path / "vectorizer.pkl", "rb") as src:
            self._vectorizer = pickle.load(src)
        self._pred_docs = sp.load_npz(path / "pred_docs.npz").tocsr()
        self._pred_terms = sp.load_npz(path / "pred_terms.npz").tocsr()
        self._pred_csr = (self._pred_docs.indptr.astype(np.int64),
                          self._pred_docs.indices.astype(np.int64), self._pred_docs.data)
        self._docnos = np.asarray(json.loads((path / "docnos.json").read_text()), dtype=object)
        self._doc_index = {d: i for i, d in enumerate(self._docnos)}
        self._docno_rank = np.empty(len(self._docnos), dtype=np.int64)
        self._docno_rank[np.argsort(self._docnos.astype(str), kind="stable")] = np.arange(
            len(self._docnos))
        self._pred_index = {q: i for i, q in enumerate(json.loads((path / "queries.json").read_text()))}
        self.reset()

    def fuse_rank_cutoff(self, k: int) -> None:
        """No copy at another depth: a copy would not see the clicks this arm learns after it
        was made (``arm % k`` stays a cut of this arm's own results)."""
        return None

    # -- clicks ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every click: back to the cold-start (predicted) memory."""
        self._issues: dict[str, int] = {}
        self._clicks: dict[str, dict[int, int]] = {}
        self._click_rows: dict[str, int] = {}
        self._click_postings: dict[int, tuple[list[int], list[float]]] = {}  # term -> rows
        self._pred_active = np.ones(len(self._pred_index), dtype=np.float32)
        self._click_keys: list[str] = []
        if not hasattr(self, "_qvecs"):  # caches that clicks do not change, kept across resets
            self._qvecs: dict[str, sp.csr_matrix] = {}
            self._pred_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def update(self, query: str, clicked_docnos: Sequence[str]) -> None:
        """Record one issue of ``query`` with the docnos clicked on it (possibly none).

        Issues without clicks count in the denominator of the query's click-through; the
        predicted entries of a query are replaced once it has at least one click.
        """
        self.load()
        key = normalise(query)
        if not key:
            return
        self._issues[key] = self._issues.get(key, 0) + 1
        counts = self._clicks.setdefault(key, defaultdict(int))
        for docno in clicked_docnos:
            d = self._doc_index.get(str(docno))
            if d is not None:
                counts[d] += 1
        if counts and key not in self._click_rows:
            # the first click on this query: its click row replaces its predicted one
            self._click_rows[key] = len(self._click_rows)
            self._click_keys.append(key)
            vec = self._qvec(key)
            for term, weight in zip(vec.indices, vec.data):
                rows = self._click_postings.setdefault(int(term), ([], []))
                rows[0].append(self._click_rows[key])
                rows[1].append(float(weight))
            if key in self._pred_index:
                self._pred_active[self._pred_index[key]] = 0.0

    def seen(self, query: str) -> bool:
        """Whether ``query`` (normalised) has been issued through :meth:`update`."""
        return self._issues.get(normalise(query), 0) > 0

    def past_ctr(self, query: str) -> float:
        """Clicks per issue observed for ``query`` (0.0 if never issued)."""
        key = normalise(query)
        issues = self._issues.get(key, 0)
        return sum(self._clicks[key].values()) / issues if issues else 0.0

    def issues(self, query: str) -> int:
        """How often ``query`` (normalised) has been issued through :meth:`update`."""
        return self._issues.get(normalise(query), 0)

    def _qvec(self, key: str) -> sp.csr_matrix:
        """The TF-IDF row of a normalised query, cached (the vocabulary never changes)."""
        vec = self._qvecs.get(key)
        if vec is None:
            vec = self._qvecs[key] = self._vectorizer.transform([key]).tocsr()
        return vec

    def prepare_queries(self, queries: Sequence[str]) -> None:
        """Fill the per-query caches of :meth:`_qvec` and :meth:`_pred_sims` for ``queries`` in
        one batch (one vectorizer call and one sparse product instead of one per query).

        Row by row the batch gives the same floats as the single-query calls (TF-IDF and its
        l2 norm are per row; CSR products accumulate each output row on its own), so a
        prepared memory searches exactly as an unprepared one, only without the first-time
        cost per query. Clicks do not touch these caches.
        """
        self.load()
        keys = [k for k in dict.fromkeys(normalise(q) for q in queries)
                if k and k not in self._pred_cache]
        if not keys:
            return
        vecs = self._vectorizer.transform(keys).tocsr()
        sims = (vecs @ self._pred_terms).tocsr()
        for i, key in enumerate(keys):
            self._qvecs.setdefault(key, vecs[i])
            row = sims[i]
            row.sort_indices()
            self._pred_cache[key] = (row.indices.astype(np.int64), row.data.astype(np.float32))

    def _pred_sims(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of a query with every predicted query, as sorted (indices, values), cached
        (the predicted queries never change; clicks only switch rows off via ``_pred_active``)."""
        hit = self._pred_cache.get(key)
        if hit is None:
            row = (self._qvec(key) @ self._pred_terms).tocsr()
            row.sort_indices()
            hit = self._pred_cache[key] = (row.indices.astype(np.int64),
                                           row.data.astype(np.float32))
        return hit

    def _click_sims(self, qvec: sp.csr_matrix) -> np.ndarray:
        """Cosine of a query with every clicked query, through a term -> rows inverted list."""
        sims = np.zeros(len(self._click_keys), dtype=np.float32)
        for term, weight in zip(qvec.indices, qvec.data):
            rows = self._click_postings.get(int(term))
            if rows:
                r, w = rows
                np.add.at(sims, np.asarray(r), np.float32(weight) * np.asarray(w, np.float32))
        return sims

    def _click_entries(self, rows: np.ndarray, sims: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """(doc, ``sim * clicks(q, d) / (issues(q) + 1)``) entries of the clicked-query rows.

        Read from the click counts directly (a handful of rows per search), so an update costs
        nothing until the next search.
        """
        docs: list[int] = []
        values: list[float] = []
        for row in rows:
            key = self._click_keys[row]
            weight = float(sims[row]) / (self._issues[key] + 1.0)
            counts = self._clicks[key]
            docs.extend(counts)
            values.extend(weight * n for n in counts.values())
        return np.array(docs, dtype=np.int64), np.array(values, dtype=np.float64)

    def _pred_entries(self, rows: np.ndarray, sims: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """(doc, ``pred_docs[row, doc] * sim``) entries of the predicted-query rows, from the
        CSR arrays without building a sparse slice."""
        indptr, indices, data = self._pred_csr
        starts, ends = indptr[rows], indptr[rows + 1]
        lengths = ends - starts
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        weights = np.repeat(sims.astype(np.float32), lengths)
        return indices[at], (data[at] * weights).astype(np.float64)

    # -- retrieval ------------------------------------------------------------------------
    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (docno, score) for one query, highest first (ties by docno)."""
        docnos, scores = self.ranked(query, k)
        return list(zip(docnos.tolist(), scores.tolist()))

    @property
    def docnos(self) -> np.ndarray:
        """Every docno the memory can return, in the order ``ranked``'s ``hidden`` mask uses."""
        self.load()
        return self._docnos

    def ranked(self, query: str, k: int, hidden: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` as arrays: top ``k`` docnos and their float64 scores, best first.

        ``hidden`` (a boolean mask over :attr:`docnos`) leaves documents out before the top
        ``k`` is taken: the interaction loop hides entities not yet released.
        """
        positions, scores = self.ranked_positions(query, k, hidden)
        return self._docnos[positions], scores

    def ranked_positions(self, query: str, k: int, hidden: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`ranked` with positions in :attr:`docnos` instead of docnos (the loop maps
        them to its own ids with one array lookup)."""
        self.load()
        key = normalise(query)
        nothing = (np.zeros(0, dtype=np.int64), np.zeros(0))
        if not key:
            return nothing
        qvec = self._qvec(key)
        pred_idx, pred_val = self._pred_sims(key)
        pred_val = pred_val * self._pred_active[pred_idx]
        click_sims = self._click_sims(qvec)
        if key in self._click_rows:
            click_sims[self._click_rows[key]] = self.exact_weight
        elif key in self._pred_index:
            exact = self._pred_index[key]
            at = np.searchsorted(pred_idx, exact)
            if at < len(pred_idx) and pred_idx[at] == exact:
                pred_val[at] = self.exact_weight
            else:
                pred_idx = np.insert(pred_idx, at, exact)
                pred_val = np.insert(pred_val, at, np.float32(self.exact_weight))
        # the same candidates, in the same order, as flatnonzero over [pred sims, click sims]
        n_pred = len(self._pred_index)
        keep = pred_val > 0
        click_nz = np.flatnonzero(click_sims > 0)
        nonzero = np.concatenate([pred_idx[keep], n_pred + click_nz])
        values = np.concatenate([pred_val[keep], click_sims[click_nz]])
        if len(nonzero) > self.neighbours:
            top = np.argpartition(-values, self.neighbours - 1)[:self.neighbours]
            nonzero, values = nonzero[top], values[top]
        if not len(nonzero):
            return nothing
        is_pred = nonzero < n_pred
        pred_docs, pred_values = self._pred_entries(nonzero[is_pred], values[is_pred])
        click_docs, click_values = self._click_entries(nonzero[~is_pred] - n_pred, click_sims)
        # an entity's score: the sum of its entries (the few hundred the matched stored
        # queries point at), not arithmetic over every entity of the corpus
        docs, inverse = np.unique(np.concatenate([pred_docs, click_docs]), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate([pred_values, click_values]),
                             minlength=len(docs))
        keep = scores > 0
        if hidden is not None:
            keep &= ~hidden[docs]
        docs, scores = docs[keep], scores[keep]
        order = np.lexsort((self._docno_rank[docs], -scores))[:k]  # ties by docno, also at the cut
        return docs[order], scores[order]

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        qidx, docnos, scores = [], [], []
        for i, query in enumerate(queries["query"].astype(str)):
            for docno, score in self.search(query, k):
                qidx.append(i), docnos.append(docno), scores.append(score)
        return ranking_frame(queries, np.array(qidx, dtype=np.int64), docnos, np.array(scores))
