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
its scores under those stored queries. All of it is sparse matrix arithmetic per query, so the
loop can call :meth:`MemoryArm.search` once per interaction as clicks arrive.
"""

from __future__ import annotations

import json
import pickle
import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ltrr.arms.base import Arm, ranking_frame
from ltrr.arms.querygen import QueryGenerator, make_generator
from ltrr.datasets.base import Dataset

_TOKEN = re.compile(r"[a-z0-9]+")


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
        self._docnos = np.asarray(json.loads((path / "docnos.json").read_text()), dtype=object)
        self._doc_index = {d: i for i, d in enumerate(self._docnos)}
        self._pred_index = {q: i for i, q in enumerate(json.loads((path / "queries.json").read_text()))}
        self.reset()

    # -- clicks ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every click: back to the cold-start (predicted) memory."""
        self._issues: dict[str, int] = {}
        self._clicks: dict[str, dict[int, int]] = {}
        self._click_rows: dict[str, int] = {}
        self._click_vecs: list[sp.csr_matrix] = []
        self._pred_active = np.ones(len(self._pred_index), dtype=np.float32)
        self._click_terms: sp.csr_matrix | None = None
        self._click_docs: sp.csr_matrix | None = None

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
            self._click_vecs.append(self._vectorizer.transform([key]).tocsr())
            if key in self._pred_index:
                self._pred_active[self._pred_index[key]] = 0.0
        self._click_terms = self._click_docs = None  # rebuilt on the next search

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

    def _click_matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(vocabulary x clicked queries, clicked queries x docs), rebuilt after updates."""
        if self._click_terms is None:
            n_vocab, n_docs = self._pred_terms.shape[0], len(self._docnos)
            if self._click_vecs:
                self._click_terms = sp.vstack(self._click_vecs).T.tocsr()
            else:
                self._click_terms = sp.csr_matrix((n_vocab, 0), dtype=np.float32)
            r, c, v = [], [], []
            for key, row in self._click_rows.items():
                denom = self._issues[key] + 1.0
                for d, n in self._clicks[key].items():
                    r.append(row), c.append(d), v.append(n / denom)
            self._click_docs = sp.csr_matrix((np.asarray(v, np.float32), (r, c)),
                                             shape=(len(self._click_rows), n_docs))
        return self._click_terms, self._click_docs

    # -- retrieval ------------------------------------------------------------------------
    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (docno, score) for one query, highest first (ties by docno)."""
        self.load()
        key = normalise(query)
        if not key:
            return []
        click_terms, click_docs = self._click_matrices()
        qvec = self._vectorizer.transform([key])
        pred_sims = (qvec @ self._pred_terms).toarray().ravel() * self._pred_active
        click_sims = (qvec @ click_terms).toarray().ravel() if click_terms.shape[1] else \
            np.zeros(0, np.float32)
        if key in self._click_rows:
            click_sims[self._click_rows[key]] = self.exact_weight
        elif key in self._pred_index:
            pred_sims[self._pred_index[key]] = self.exact_weight
        sims = np.concatenate([pred_sims, click_sims])
        nonzero = np.flatnonzero(sims > 0)
        if len(nonzero) > self.neighbours:
            nonzero = nonzero[np.argpartition(-sims[nonzero], self.neighbours - 1)[:self.neighbours]]
        if not len(nonzero):
            return []
        n_pred = len(pred_sims)
        pred_rows, click_rows = nonzero[nonzero < n_pred], nonzero[nonzero >= n_pred] - n_pred
        scores = (self._pred_docs[pred_rows].T @ pred_sims[pred_rows]
                  + click_docs[click_rows].T @ click_sims[click_rows])
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        ranked = sorted(zip(self._docnos[hits], scores[hits].tolist()), key=lambda x: (-x[1], x[0]))
        return [(docno, score) for docno, score in ranked]

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        qidx, docnos, scores = [], [], []
        for i, query in enumerate(queries["query"].astype(str)):
            for docno, score in self.search(query, k):
                qidx.append(i), docnos.append(docno), scores.append(score)
        return ranking_frame(queries, np.array(qidx, dtype=np.int64), docnos, np.array(scores))
