"""One toy component of each kind, written as a new built-in would be (``docs/architecture.md``,
"Adding a built-in"): each is this file's class plus one line in its kind's built-in table,
which ``tests/test_builtins.py`` adds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from ltrr.arms.base import Arm, iter_docs, ranking_frame
from ltrr.kernel.clicks import PBM, ClickModel
from ltrr.selection.base import Policy


class RoundRobin(Policy):
    """A policy: plan ``t * stride mod n`` at the ``t``-th query, with probability 1."""

    name = "round_robin"
    uses_context = False

    def __init__(self, plans, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, stride: int = 1) -> None:
        super().__init__(len(plans), n_features, random_state)
        self.stride, self.t = int(stride), 0

    def choose(self, context: np.ndarray, truth: np.ndarray | None = None) -> tuple[int, float]:
        plan = (self.t * self.stride) % self.n_plans
        self.t += 1
        return plan, 1.0


class WordOverlapArm(Arm):
    """An arm: documents ranked by how many of the query's words their text holds."""

    name = "word_overlap"

    def settings(self) -> dict:
        return {"field": "text"}

    def _build(self, path: Path) -> None:
        docs = {d["docno"]: d["text"].lower().split() for d in iter_docs(self.dataset, ["text"])}
        path.mkdir(parents=True, exist_ok=True)
        (path / "words.json").write_text(json.dumps(docs))

    def _open(self, path: Path) -> None:
        self._words = {d: set(w) for d, w in json.loads((path / "words.json").read_text()).items()}

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        qidx, docnos, scores = [], [], []
        for i, query in enumerate(queries["query"]):
            terms = set(query.lower().split())
            hits = sorted(((len(terms & w), d) for d, w in self._words.items() if terms & w),
                          key=lambda x: (-x[0], x[1]))[:k]
            for score, docno in hits:
                qidx.append(i), docnos.append(docno), scores.append(float(score))
        return ranking_frame(queries, np.array(qidx), docnos, np.array(scores))


class LeastSquares:
    """A ranker: a linear least-squares fit of the labels, saved as its weights in JSON."""

    model_format = "toy-least-squares-1"

    def __init__(self, params: dict | None = None, feature_names: list[str] | None = None) -> None:
        self.params, self.feature_names = dict(params or {}), feature_names
        self.weights: np.ndarray | None = None
        self.meta: dict = {}

    def fit(self, X, y, group, **kwargs) -> "LeastSquares":
        self.weights = np.linalg.lstsq(np.asarray(X, float), np.asarray(y, float), rcond=None)[0]
        return self

    def score(self, X) -> np.ndarray:
        return np.asarray(X, float) @ self.weights

    def to_string(self) -> str:
        return json.dumps(self.weights.tolist())

    @classmethod
    def from_string(cls, text: str, params=None, feature_names=None) -> "LeastSquares":
        ranker = cls(params, feature_names)
        ranker.weights = np.asarray(json.loads(text), dtype=float)
        return ranker


class AttentiveReader(ClickModel):
    """A click model: a position-based user who examines every position of the page (so a
    document's click probability is its grade's alone); it runs the compiled PBM branch."""

    model: ClassVar[str] = "attentive"
    code: ClassVar[int] = PBM

    def examination(self, page: int) -> np.ndarray:
        return np.ones(int(page))
