"""What every ltrr dataset offers: a corpus, topics and qrels as PyTerrier frames.

Frames follow PyTerrier's data model throughout:

- corpus: an iterator of dicts with ``docno`` and the text fields (``text``, ``title``…),
  plus structured fields where the collection has them (the music world);
- topics: a DataFrame ``qid, query`` plus optional columns (``intent``, context
  attributes such as ``locale``, ``hour``, ``device``; ``weight`` = stream popularity);
- qrels: a DataFrame ``qid, docno, label`` (int grades).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import pandas as pd


@dataclass
class Dataset:
    """A loaded collection.

    Attributes:
        id: the id it was loaded by (an ir_datasets id, ``beir:/path``, ``ltrr:music``…).
        docs: a callable returning a fresh iterator over the corpus (dicts with ``docno``).
        topics: queries frame (``qid, query[, …]``).
        qrels: judgements frame (``qid, docno, label``).
        text_fields: corpus fields holding free text, in the order arms should join them.
        fields: every field a corpus record has (arms check what they need against it).
        num_docs: corpus size, when known without iterating.
        context_columns: topic columns that describe the user/context, not the query.
        meta: anything else a dataset wants to carry (generator settings, citation). Keys
            ltrr reads: ``recency`` (release days), ``structured_fields``,
            ``ignore_identical_ids`` (BEIR's convention), ``corpus_id`` (variants of one
            corpus share arm indexes).
    """

    id: str
    docs: Callable[[], Iterator[dict]]
    topics: pd.DataFrame
    qrels: pd.DataFrame
    text_fields: list[str] = field(default_factory=lambda: ["text"])
    fields: list[str] = field(default_factory=lambda: ["docno", "text"])
    num_docs: int | None = None
    context_columns: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def corpus_iter(self) -> Iterator[dict]:
        """A fresh iterator over the corpus (PyTerrier's name for it)."""
        return self.docs()

    def get_topics(self) -> pd.DataFrame:
        return self.topics

    def get_qrels(self) -> pd.DataFrame:
        return self.qrels
