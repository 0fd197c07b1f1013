"""The query stream: which topic each interaction asks, and when new documents appear.

Topics are drawn with replacement, so head queries repeat and tail queries rarely do:

- by the topics' ``weight`` column when the dataset has one (the music world's
  popularity), normalised to probabilities;
- otherwise by a Zipf law over a seeded random ordering of the topics: the topic at
  popularity rank ``r`` (1-based) has probability proportional to ``r ** -exponent``.

New releases: a corpus whose records carry the day an entity first exists (the field
``Dataset.meta["recency"]["available_field"]``, else its ``field``; the music world's
``first_release_day``) gets its last ``new_release_days`` days mapped linearly onto the
stream. A document released on day ``d`` within that window becomes retrievable at step
``floor((d - first_window_day) / new_release_days * length)``; older documents are
there from step 0. The loop hides documents before their step from every arm, and
candidate recall and nDCG count only the relevant documents already released.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.errors import InputError


def topic_probabilities(topics: pd.DataFrame, zipf: float, rng: np.random.Generator
                        ) -> np.ndarray:
    """Probability of each topic row (by ``weight`` if present, else a seeded Zipf law)."""
    n = len(topics)
    if n == 0:
        raise InputError("the dataset has no topics to stream")
    if "weight" in topics.columns:
        weights = pd.to_numeric(topics["weight"], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
        if len(bad) or weights.sum() <= 0:
            raise InputError("topic weights must be finite, >= 0 and not all 0",
                             field="weight", rows=bad[:5].tolist() or None)
        return weights / weights.sum()
    order = rng.permutation(n)  # order[r] = topic at popularity rank r
    probs = np.empty(n)
    probs[order] = np.arange(1, n + 1, dtype=float) ** -float(zipf)
    return probs / probs.sum()


def sample_stream(topics: pd.DataFrame, length: int, zipf: float, seed: int) -> np.ndarray:
    """Topic row indices for ``length`` interactions, drawn from the seed's own Generator."""
    rng = np.random.default_rng([seed, 101])
    probs = topic_probabilities(topics, zipf, rng)
    return rng.choice(len(topics), size=int(length), p=probs)


def release_schedule(dataset, length: int, new_release_days: int) -> pd.Series:
    """Step from which each document released during the stream is retrievable (docno ->
    step > 0); documents there from the start are left out. Empty when ``new_release_days``
    is 0 or the corpus has no day field (``Dataset.meta["recency"]``, see the module doc)."""
    recency = dataset.meta.get("recency", {})
    name = recency.get("available_field", recency.get("field", "release_day"))
    if not new_release_days or name not in dataset.fields:
        return pd.Series(dtype=np.int64)
    days = pd.Series({str(doc["docno"]): doc.get(name) for doc in dataset.docs()}, dtype=float)
    if recency.get("newer_is") == "smaller":  # days before today: flip to a time axis
        days = -days
    steps = pd.Series(release_steps(days.to_numpy(), length, new_release_days), index=days.index)
    return steps[steps > 0]


def release_steps(release_days: np.ndarray, length: int, new_release_days: int) -> np.ndarray:
    """Step from which each document is retrievable (0 for documents without a day).

    Args:
        release_days: per document, its release day (NaN: none, always available).
        length: stream length.
        new_release_days: how many of the latest days are spread over the stream
            (0: everything is available from the start).
    """
    days = np.asarray(release_days, dtype=float)
    steps = np.zeros(len(days), dtype=np.int64)
    known = np.isfinite(days)
    if new_release_days <= 0 or not known.any():
        return steps
    first = days[known].max() - new_release_days
    late = known & (days > first)
    steps[late] = np.floor((days[late] - first) / new_release_days * length).astype(np.int64)
    return np.minimum(steps, max(length - 1, 0))
