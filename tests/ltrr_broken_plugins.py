"""Plugins for ``ltrr check``'s tests: five that break the contract in the ways a plugin author
most often does (each in one way only), a good and a bad online arm, a broken ranker and a
broken click model. Imported by import path (``ltrr_broken_plugins:ZeroPropensity``): pytest
puts ``tests/`` on ``sys.path``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.kernel.clicks import PositionBasedModel
from ltrr.selection.base import Policy


class Uniform(Policy):
    """A correct policy: every plan with probability 1 / n (the base of the broken ones)."""

    def __init__(self, plans, n_features, random_state=0, reward_range=(0.0, 1.0)) -> None:
        super().__init__(len(plans), n_features, random_state)

    def probabilities(self, context, truth=None):
        return np.full(self.n_plans, 1 / self.n_plans)

    def choose(self, context, truth=None):
        p = self.probabilities(context)
        plan = int(self.rng.choice(self.n_plans, p=p))
        return plan, float(p[plan])


class ZeroPropensity(Uniform):
    """Logs a propensity of 0 for the plan it chose."""

    def choose(self, context, truth=None):
        return super().choose(context)[0], 0.0


class HalfProbabilities(Uniform):
    """Says its plans' probabilities sum to 1/2 (its choices are right)."""

    def probabilities(self, context, truth=None):
        return np.full(self.n_plans, 0.5 / self.n_plans)

    def choose(self, context, truth=None):
        plan = int(self.rng.integers(self.n_plans))
        return plan, 1 / self.n_plans


class PlanOutOfRange(Uniform):
    """Chooses plan ``n_plans``, one past the last."""

    def choose(self, context, truth=None):
        return self.n_plans, 1.0


class Unseeded(Uniform):
    """Draws from a generator that ignores ``random_state``."""

    def choose(self, context, truth=None):
        plan = int(np.random.default_rng().integers(self.n_plans))
        return plan, 1 / self.n_plans


class NoDocno(pt.Transformer):
    """An arm returning ``qid, score``: no ``docno``."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def transform(self, queries):
        return pd.DataFrame({"qid": queries["qid"], "score": 1.0})


class Remembers:
    """A correct online arm: documents by clicks received for the query, then by docno."""

    def __init__(self, dataset) -> None:
        self.docnos = sorted(str(d["docno"]) for d in dataset.docs())
        self.reset()

    def transform(self, queries):  # noqa: D102 - an arm is also a transformer
        rows = [(q, d, 1.0) for q in queries["qid"] for d in self.docnos[:5]]
        return pd.DataFrame(rows, columns=["qid", "docno", "score"])

    def update(self, query, clicked_docnos):
        for docno in clicked_docnos:
            self.clicks[(query, docno)] = self.clicks.get((query, docno), 0) + 1

    def reset(self):
        self.clicks: dict[tuple[str, str], int] = {}

    def search(self, query, k):
        scored = sorted(self.docnos, key=lambda d: (-self.clicks.get((query, d), 0), d))
        return [(d, float(self.clicks.get((query, d), 0))) for d in scored[:k]]


class KeepsClicks(Remembers):
    """An online arm whose ``reset`` forgets nothing."""

    def reset(self):
        if not hasattr(self, "clicks"):
            self.clicks = {}


class NaNScores:
    """A ranker whose scores are not numbers."""

    def __init__(self, params=None, feature_names=None) -> None:
        self.params = params

    def fit(self, X, y, group, **kwargs):
        return self

    def score(self, X):
        return np.full(len(X), np.nan)


class AboveOne:
    """A click model whose expected clicks are PBM's doubled (above 1 at the top)."""

    def __init__(self, params: str = "navigational") -> None:
        self.inner = PositionBasedModel(params)

    def expected_clicks(self, grades):
        return 2 * self.inner.expected_clicks(grades)

    def expected_total(self, grades):
        return 2 * self.inner.expected_total(grades)

    def sample(self, grades, rng):
        return self.inner.sample(grades, rng)
