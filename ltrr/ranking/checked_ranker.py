"""Rankers from outside ltrr (``module:Name`` or an ``ltrr.rankers`` entry point) in the
learned ranking stage, checked: held to :class:`~ltrr.ranking.learned.LambdaMART`'s contract.

An outside ranker is built as ``Ranker(params, feature_names)``, trained by ``fit(X, y, group,
*, eval_set=None, eval_group=None, position=None, weight=None)`` and asked ``score(X) -> (n,)``
(``docs/plugins.md``). :class:`OutsideRanker` wraps it: an exception from its code becomes one
:class:`~ltrr.errors.InputError` naming it, and every ``score`` is checked to be one finite
number per row. An outside class that declares how its models are saved (``model_format`` and
``from_string``, :func:`~ltrr.ranking.learned.can_be_saved`) is cached by the rule ltrr's own
rankers are, under a key that also holds its source file's hash (a changed plugin retrains).
"""

from __future__ import annotations

import numpy as np

from ltrr.contracts import ability
from ltrr.errors import InputError
from ltrr.ranking.learned import REGISTRY, can_be_saved
from ltrr.registry import plugin_errors, source_hash


def ranker_factory(name: str):
    """``make(params, feature_names) -> ranker`` for ranker ``name``: a built-in ranker's class
    itself (ltrr's own, trusted and cached when it can be saved), or an outside class or
    factory called the same way, its ``score`` checked (:class:`OutsideRanker`). The factory
    of an outside class that can be saved declares what a saved model needs (``model_format``,
    ``from_string``) and ``source_sha1``, which the model cache adds to its key."""
    cls = REGISTRY.resolve(name)
    if REGISTRY.is_builtin(name):
        return cls

    def make(params: dict | None = None, feature_names: list[str] | None = None):
        with plugin_errors(f"ranker '{name}'", "building it"):
            model = cls(params, feature_names)
        return OutsideRanker(name, model, params, feature_names)

    if can_be_saved(cls):
        def from_string(text: str, params: dict | None, feature_names: list[str] | None):
            # a ValueError (text it cannot read) reaches the cache, which calls the file corrupt
            return OutsideRanker(name, cls.from_string(text, params, feature_names), params,
                                 feature_names)

        make.model_format, make.from_string = cls.model_format, from_string
        make.source_sha1 = source_hash(cls)
    return make


class OutsideRanker:
    """An outside ranker (``docs/plugins.md``): ``fit`` as :meth:`LambdaMART.fit` is called,
    and ``score`` checked to give one finite score per row (one InputError naming the ranker
    otherwise, not a broadcasting error deep in the loop)."""

    def __init__(self, name: str, model, params: dict | None = None,
                 feature_names: list[str] | None = None) -> None:
        self.name, self.model, self.meta = name, model, {}
        self.params, self.feature_names = params, feature_names

    def to_string(self) -> str:
        """The outside model's own ``to_string()`` (for a ranker that declares
        ``model_format``: the model cache writes it)."""
        with plugin_errors(f"ranker '{self.name}'", "to_string"):
            return str(self.model.to_string())

    def fit(self, X: np.ndarray, y: np.ndarray, group: np.ndarray, **kwargs) -> "OutsideRanker":
        with plugin_errors(f"ranker '{self.name}'", "fit"):
            self.model.fit(X, y, group, **kwargs)
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        scores = np.asarray(self.model.score(X), dtype=float)
        if scores.shape != (len(X),):
            raise InputError(f"ranker '{self.name}': score() returned shape {scores.shape} for "
                             f"{len(X)} rows; it must return one score per row")
        if not np.isfinite(scores).all():
            raise InputError(f"ranker '{self.name}': score() returned a score that is not a "
                             "finite number")
        return scores

    predict = score

    @property
    def n_trees(self) -> int | None:
        return ability(self.model, "ranker", "n_trees")
