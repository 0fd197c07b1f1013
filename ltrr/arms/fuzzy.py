"""The fuzzy arm: character 3-gram matching over titles and names, for misspelt queries.

Each name field (default ``title`` and, where the corpus has it, ``artist``) is turned into a
TF-IDF vector of character 3-grams with word-boundary padding (scikit-learn's
``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3))``, sublinear tf, accents stripped),
L2-normalised. A query is vectorised the same way; a document's score is the best cosine
similarity over its name fields and over all its name fields joined (so "artist title" queries
match too). Scoring is one sparse matrix product per block of queries.

The vectoriser and the document matrix are cached on disk (pickle + ``.npz``).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ltrr.arms.base import Arm, iter_docs, ranking_frame, require_fields
from ltrr.datasets.base import Dataset
from ltrr.errors import InputError

QUERY_BLOCK = 256  # queries scored per sparse product (bounds the dense score block)


class FuzzyArm(Arm):
    """Character n-gram TF-IDF matching over name fields.

    Args:
        dataset: the collection to index.
        num_results: depth (results per query).
        fields: name fields to match; default ``title`` plus ``artist`` when present.
        ngram: character n-gram length (3).
    """

    name = "fuzzy"

    def __init__(self, dataset: Dataset, num_results: int = 1000,
                 fields: Sequence[str] | None = None, ngram: int = 3) -> None:
        super().__init__(dataset, num_results)
        if fields is None:
            if "title" not in dataset.fields:
                raise InputError(
                    f"arm 'fuzzy' needs corpus field 'title' (or fields=...), but dataset "
                    f"'{dataset.id}' has only {sorted(dataset.fields)}", field="title")
            fields = ["title"] + (["artist"] if "artist" in dataset.fields else [])
        self.fields = list(fields)
        require_fields(dataset, self.name, self.fields)
        self.ngram = int(ngram)
        self._vectorizer = None
        self._matrix: sp.csr_matrix | None = None  # n-grams x (variants * docs)
        self._docnos: np.ndarray | None = None

    def settings(self) -> dict:
        return {"fields": self.fields, "ngram": self.ngram}

    def _variants(self) -> list[str]:
        """The name strings matched per document: each field, and all fields joined."""
        return self.fields + (["+".join(self.fields)] if len(self.fields) > 1 else [])

    def _build(self, path: Path) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from tqdm.auto import tqdm

        docnos, columns = [], {f: [] for f in self.fields}
        for doc in tqdm(iter_docs(self.dataset, self.fields), total=self.dataset.num_docs,
                        desc=f"fuzzy: reading {self.dataset.id}", unit="doc"):
            docnos.append(doc["docno"])
            for f in self.fields:
                columns[f].append(doc[f])
        if len(self.fields) > 1:
            columns["+".join(self.fields)] = [" ".join(v for v in vals if v)
                                              for vals in zip(*(columns[f] for f in self.fields))]
        texts = [t for variant in self._variants() for t in columns[variant]]
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(self.ngram, self.ngram),
                                     lowercase=True, strip_accents="unicode", sublinear_tf=True,
                                     dtype=np.float32)
        matrix = vectorizer.fit_transform(texts).tocsr()
        path.mkdir(parents=True)
        sp.save_npz(path / "names.npz", matrix)
        with open(path / "vectorizer.pkl", "wb") as out:
            pickle.dump(vectorizer, out)
        (path / "docnos.json").write_text(json.dumps(docnos))

    def _open(self, path: Path) -> None:
        with open(path / "vectorizer.pkl", "rb") as src:
            self._vectorizer = pickle.load(src)
        # stored (variants * docs) x n-grams; kept transposed for query-block products
        self._matrix = sp.load_npz(path / "names.npz").T.tocsr()
        self._docnos = np.asarray(json.loads((path / "docnos.json").read_text()), dtype=object)

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        n_docs = len(self._docnos)
        n_variants = self._matrix.shape[1] // max(n_docs, 1)
        qmat = self._vectorizer.transform(queries["query"].astype(str).tolist())
        k = min(k, n_docs)
        qidx, didx, scores = [], [], []
        for start in range(0, qmat.shape[0], QUERY_BLOCK):
            block = (qmat[start:start + QUERY_BLOCK] @ self._matrix).toarray()
            # best variant per document: (queries, variants, docs) -> max over variants
            best = block.reshape(block.shape[0], n_variants, n_docs).max(axis=1)
            top = np.argpartition(-best, k - 1, axis=1)[:, :k]
            top_scores = np.take_along_axis(best, top, axis=1)
            keep = top_scores > 0
            rows = np.nonzero(keep)[0]
            qidx.append(rows + start)
            didx.append(top[keep])
            scores.append(top_scores[keep])
        didx_all = np.concatenate(didx)
        return ranking_frame(queries, np.concatenate(qidx), self._docnos[didx_all],
                             np.concatenate(scores))
