"""An outside retrieval arm for ltrr: any PyTerrier transformer (queries -> ranking) will do.

This file is not part of ltrr: a benchmark file gives the arm a short name and names the
class by import path, ``[arms.tfidf] class = "my_arm:TfIdfArm"``. ltrr calls the class with
that table's other keys, plus ``dataset=`` because the constructor has a ``dataset``
parameter; it asks the transformer once per topic, at the deepest depth the plans need
(through ``fuse_rank_cutoff``, PyTerrier's way of pushing ``% k`` into a retriever), and
caches the lists under ``LTRR_HOME/candidates`` like a built-in arm's. ``docs/plugins.md``
has the contract.

The arm: word n-gram TF-IDF (scikit-learn) with cosine similarity over the title, description
and metadata fields, a retriever the built-in arms do not have (BM25 reads title and text
only, the fuzzy arm character 3-grams of titles, the structured arm field values).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pyterrier as pt
from sklearn.feature_extraction.text import TfidfVectorizer

FIELDS = ("title", "text", "artist", "genres", "moods")


class TfIdfArm(pt.Transformer):
    """TF-IDF cosine retrieval over ``fields`` of a dataset's corpus.

    Args:
        dataset: the corpus to index (ltrr passes it; any object with ``docs()`` and
            ``fields`` works, e.g. an ltrr dataset).
        fields: the corpus fields joined into each document's text (missing ones skipped).
        ngram_max: longest word n-gram (1: words; 2: words and word pairs).
        num_results: results per query.
    """

    def __init__(self, dataset, fields: tuple[str, ...] = FIELDS, ngram_max: int = 1,
                 num_results: int = 1000) -> None:
        self.fields = [f for f in fields if f in dataset.fields]
        self.num_results = int(num_results)
        docs = list(dataset.docs())
        self.docnos = np.array([str(d["docno"]) for d in docs])
        self.vectorizer = TfidfVectorizer(ngram_range=(1, int(ngram_max)), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(
            " ".join(str(d.get(f) or "") for f in self.fields) for d in docs)

    def fuse_rank_cutoff(self, k: int) -> "TfIdfArm":
        """This arm at depth ``k`` (``arm % k`` in PyTerrier), sharing the index."""
        shallower = copy.copy(self)
        shallower.num_results = int(k)
        return shallower

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        vectors = self.vectorizer.transform(queries["query"].astype(str))
        qids, docnos, scores = [], [], []
        for start in range(0, vectors.shape[0], 256):  # a dense block of 256 queries at a time
            sims = (vectors[start:start + 256] @ self.matrix.T).toarray()
            k = min(self.num_results, sims.shape[1])
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            for i, cols in enumerate(top):
                cols = cols[sims[i, cols] > 0]
                qids += [queries["qid"].iloc[start + i]] * len(cols)
                docnos += self.docnos[cols].tolist()
                scores += sims[i, cols].tolist()
        ranking = pd.DataFrame({"qid": qids, "docno": docnos, "score": scores})
        return pt.model.add_ranks(ranking)
