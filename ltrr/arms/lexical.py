"""The lexical arm: BM25 through PISA (pyterrier-pisa).

The dataset's ``text_fields`` are indexed together: pyterrier-pisa's indexer joins several
fields of a record with a space, so ``title`` + ``text`` become one bag of words (the BEIR
convention). Tokenisation, Porter2 stemming and the Terrier stopword list are PISA's
defaults; BM25 uses PISA's (and Anserini's) defaults ``k1=0.9, b=0.4``. Nothing is tuned.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from ltrr.arms.base import Arm, iter_docs, require_fields
from ltrr.datasets.base import Dataset


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what PISA's C++ code logs to file descriptor 1 to stderr instead.

    PISA logs indexing and index-preparation progress on stdout, which would corrupt
    ``ltrr arms --json`` and any other machine-readable output.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class LexicalArm(Arm):
    """BM25 over the dataset's text fields with a PISA index.

    Args:
        dataset: the collection to index.
        num_results: depth (results per query).
        fields: corpus fields to index; default ``dataset.text_fields``.
        k1, b: BM25 parameters (PISA defaults).
        stemmer: PISA stemmer (``porter2``, ``krovetz`` or ``none``).
    """

    name = "lexical"

    def __init__(self, dataset: Dataset, num_results: int = 1000,
                 fields: Sequence[str] | None = None, k1: float = 0.9, b: float = 0.4,
                 stemmer: str = "porter2") -> None:
        super().__init__(dataset, num_results)
        self.fields = list(fields or dataset.text_fields)
        require_fields(dataset, self.name, self.fields)
        self.k1, self.b, self.stemmer = float(k1), float(b), stemmer
        self._index = None
        self._retriever = None

    def settings(self) -> dict:
        return {"fields": self.fields, "stemmer": self.stemmer}

    def describe(self) -> str:
        return f"{super().describe()}, BM25 k1={self.k1}, b={self.b} (PISA)"

    def _build(self, path: Path) -> None:
        import pyterrier_pisa
        from tqdm.auto import tqdm

        docs = tqdm(iter_docs(self.dataset, self.fields), desc=f"lexical: indexing {self.dataset.id}",
                    total=self.dataset.num_docs, unit="doc")
        with stdout_to_stderr():
            index = pyterrier_pisa.PisaIndex(str(path), text_field=self.fields,
                                             stemmer=self.stemmer)
            index.index(docs)
            # PISA writes its BM25 score tables on first use: do it now, inside the
            # temporary folder, so they are part of the complete (and size-checked) entry
            # rather than written into the cache later by whichever run comes first
            index.bm25(k1=self.k1, b=self.b)

    def _open(self, path: Path) -> None:
        from pyterrier_pisa import PisaIndex

        self._index = PisaIndex(str(path), text_field=self.fields, stemmer=self.stemmer)

    def pisa(self, num_results: int):
        """PISA's own BM25 retriever on this arm's index (what the arm wraps)."""
        self.load()
        with stdout_to_stderr():  # the first retriever on an index prepares (and logs) it
            return self._index.bm25(k1=self.k1, b=self.b, num_results=num_results)

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        if self._retriever is None or self._retriever.num_results != k:
            self._retriever = self.pisa(k)
        # PISA keeps its input order, ranks each query from 0 and carries the queries' other
        # columns: given queries sorted by qid, its frame is already the contract's ranking.
        if not queries["qid"].is_monotonic_increasing:
            queries = queries.sort_values("qid", kind="stable").reset_index(drop=True)
        if not pd.api.types.is_string_dtype(queries["query"]):
            queries = queries.assign(query=queries["query"].astype(str))
        return self._retriever.transform(queries)
