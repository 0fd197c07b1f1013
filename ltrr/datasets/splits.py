"""Topic splits by normalised query text: no query text is asked on both sides of a split.

A split by qid alone lets the same query (the same words, for context-free intents the same
judgements) be trained on and reported, and a learned ranker then scores by remembering
repeated queries. Everything in ltrr that splits topics uses this module:

- :func:`normalise_query`: the text two topics are compared by (lower-case alphanumeric
  tokens joined by one space: "Dragon's Blood!" and "dragon s blood" are one text);
- :func:`split_by_text`: a generator's per-row proposal of sides made whole per text (every
  row of a text goes where its first row was proposed; the music world's split);
- :func:`split_rows`: the rows a ``split`` column puts on one side, as they are;
- :func:`split_topics`: the rows of a split that ltrr uses: for every split but ``test``,
  without the rows whose text a ``test`` row asks;
- :func:`topic_groups`: the groups of topics a report gives means for (all, each intent or
  collection, the head queries), shared by ``ltrr arms`` and ``ltrr rank``;
- :func:`leave_out_shared`: training topics without the texts the reported topics ask, and
  the :class:`TextOverlap` that says what was there before (``ltrr rank`` and the ranking
  benchmarks' records report it).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np
import pandas as pd

_TOKEN = re.compile(r"[^\W_]+")  # letters and digits of any script
GROUP_COLUMNS = ("intent", "collection")  # topic columns :func:`topic_groups` groups by


def normalise_query(text: object) -> str:
    """The lower-case alphanumeric tokens of ``text``, joined by one space."""
    return " ".join(_TOKEN.findall(str(text).lower()))


def text_keys(queries: Iterable[object]) -> np.ndarray:
    """:func:`normalise_query` of each query, as an object array."""
    return np.array([normalise_query(q) for q in queries], dtype=object)


def split_by_text(queries: Iterable[object], train: np.ndarray) -> np.ndarray:
    """Per row ``"train"`` or ``"test"``: the side ``train`` proposes for the first row of
    the row's normalised text, so that every text lies wholly on one side."""
    keys = text_keys(queries)
    train = np.asarray(train, dtype=bool)
    if len(keys) != len(train):
        raise ValueError(f"{len(keys)} queries but {len(train)} proposed sides")
    first = pd.Series(train).groupby(pd.factorize(keys)[0]).transform("first")
    return np.where(first.to_numpy(bool), "train", "test")


def split_rows(topics: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows whose ``split`` column is ``split``, as they are (all rows for ``"test"``
    when topics have no ``split`` column, none for any other split)."""
    if "split" not in topics.columns:
        return topics if split == "test" else topics.iloc[0:0]
    return topics[topics["split"] == split]


def split_topics(topics: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows of ``split`` ltrr trains, warms up or reports on: :func:`split_rows`, and for
    every split but ``test`` without the rows whose normalised text a ``test`` row asks."""
    rows = split_rows(topics, split)
    if split == "test" or not len(rows):
        return rows
    return leave_out_shared(rows, split_rows(topics, "test"))[0]


def topic_groups(topics: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``all``, ``<column>=<x>`` per value of each :data:`GROUP_COLUMNS` column the topics
    have, and ``head`` (rows with ``head == True``)."""
    groups = {"all": topics}
    for column in GROUP_COLUMNS:
        if column in topics.columns:
            for value in sorted(topics[column].dropna().unique()):
                groups[f"{column}={value}"] = topics[topics[column] == value]
    if "head" in topics.columns:
        groups["head"] = topics[topics["head"].astype(bool)]
    return {g: t for g, t in groups.items() if len(t)}


@dataclass(frozen=True)
class TextOverlap:
    """How training topics' normalised query texts overlapped the reported topics' before
    the shared ones were left out of training.

    Weights are the topics' ``weight`` column (the stream's probabilities), or equal per
    topic without one (a stream's seeded Zipf order gives every topic the same expected
    share).

    Attributes:
        texts: normalised texts asked on both sides.
        train_topics: training topics before leaving any out.
        left_out: of them, those whose text the reported topics ask: left out of training.
        left_out_weight: their share of the training topics' weight.
        test_topics: reported topics (the stream's, or the test split's).
        test_shared: of them, those whose text a training topic asked.
        test_shared_weight: their share of the reported topics' weight.
    """

    texts: int
    train_topics: int
    left_out: int
    left_out_weight: float
    test_topics: int
    test_shared: int
    test_shared_weight: float

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def line(self, role: str = "training") -> str:
        """One sentence for a report: what overlapped and what was left out."""
        return (f"{role} topics vs reported topics by normalised query text: {self.texts} "
                f"shared texts; {self.left_out} of {self.train_topics} {role} topics "
                f"({self.left_out_weight:.1%} of their weight) asked a reported text and were "
                f"left out; {self.test_shared} of {self.test_topics} reported topics "
                f"({self.test_shared_weight:.1%} of their weight) asked a {role} text")


def _weights(topics: pd.DataFrame) -> np.ndarray:
    if "weight" in topics.columns:
        return pd.to_numeric(topics["weight"], errors="coerce").fillna(0.0).to_numpy(float)
    return np.ones(len(topics))


def _share(weights: np.ndarray, mask: np.ndarray) -> float:
    total = weights.sum()
    return float(weights[mask].sum() / total) if total > 0 else 0.0


def leave_out_shared(train: pd.DataFrame, reported: pd.DataFrame
                     ) -> tuple[pd.DataFrame, TextOverlap]:
    """``train`` without the rows whose normalised query text ``reported`` asks, and the
    :class:`TextOverlap` measured before leaving them out."""
    train_keys, test_keys = text_keys(train["query"]), text_keys(reported["query"])
    shared = set(train_keys) & set(test_keys)
    in_train = np.isin(train_keys, list(shared)) if shared else np.zeros(len(train), bool)
    in_test = np.isin(test_keys, list(shared)) if shared else np.zeros(len(reported), bool)
    overlap = TextOverlap(len(shared), len(train), int(in_train.sum()),
                          _share(_weights(train), in_train), len(reported), int(in_test.sum()),
                          _share(_weights(reported), in_test))
    return train[~in_train], overlap
