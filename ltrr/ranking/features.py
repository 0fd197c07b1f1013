"""Features of every (query, candidate) pair for the learned ranker, and pages from scores.

The features are **independent of the plan**: they describe a candidate by what *every*
arm said about it in the query's full-depth candidate pool (the
:class:`~ltrr.kernel.pools.CandidatePool` the loop builds per step), not by what the chosen
plan retrieved. So the loop scores a step's pool once (one ``predict`` over ``U`` rows) and
the page of each plan is the top of its own union by those scores
(:func:`ltrr.kernel.pages.pages_from_scores`), for all plans at once.

Columns, in :attr:`FeatureSpec.names` order (absent = the arm did not return the candidate):

=======================  ================================================================
name                     value
=======================  ================================================================
``<arm>:score``          the arm's score; NaN when absent (LightGBM learns where missing
                         values go)
``<arm>:norm``           the score min-max scaled over the arm's list in the pool (a
                         constant list scales to 0, as CombSUM does); NaN when absent
``<arm>:rank``           0-based rank in the arm's full-depth list; NaN when absent
``<arm>:returned``       1.0 if the arm returned the candidate, else 0.0
``arms:count``           how many arms returned it
``fused:rrf``            RRF over every arm's full list, ``sum 1 / (k + rank)``
``fused:combsum``        the sum of the ``norm`` values (absent = 0)
``<context name>``       the query's context vector, given by the caller (the loop's
                         :class:`~ltrr.selection.features.ContextFeaturizer` row), the
                         same for every candidate of the query
``prior:<name>``         document priors the dataset declares (:class:`DocumentPriors`)
=======================  ================================================================

Written with numpy by hand: the features are a few array operations over the pool, and
the loop needs them in microseconds; PyTerrier's feature pipelines (``**``) compute one
transformer per feature over DataFrames. The PyTerrier face
(:class:`ltrr.ranking.pipeline.RankFeatures`) calls the same :func:`pool_features`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ltrr.errors import InputError
from ltrr.kernel.pools import ABSENT, CandidatePool

ARM_COLUMNS = ("score", "norm", "rank", "returned")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a ranker sees: the arms (pool row order), context and prior names.

    Args:
        arms: arm names in the order of the pool's rows (``pool.ranks[a]`` is ``arms[a]``).
        context_names: names of the caller's context vector entries.
        prior_names: the document priors' names (without the ``prior:`` prefix).
        k: the RRF constant of ``fused:rrf``.
    """

    arms: tuple[str, ...]
    context_names: tuple[str, ...] = ()
    prior_names: tuple[str, ...] = ()
    k: int = 60

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        object.__setattr__(self, "context_names", tuple(self.context_names))
        object.__setattr__(self, "prior_names", tuple(self.prior_names))
        if not self.arms:
            raise InputError("a ranker needs at least one arm's candidates")
        if len(set(self.arms)) != len(self.arms):
            raise InputError(f"arms named twice: {list(self.arms)}")

    @property
    def names(self) -> list[str]:
        """Every feature's name, in column order."""
        per_arm = [f"{a}:{c}" for a in self.arms for c in ARM_COLUMNS]
        return (per_arm + ["arms:count", "fused:rrf", "fused:combsum"]
                + list(self.context_names) + [f"prior:{p}" for p in self.prior_names])

    @property
    def dim(self) -> int:
        return len(ARM_COLUMNS) * len(self.arms) + 3 + len(self.context_names) + len(self.prior_names)

    def describe(self) -> dict:
        """The spec as plain data (part of a model's cache key and its file)."""
        return {"arms": list(self.arms), "context_names": list(self.context_names),
                "prior_names": list(self.prior_names), "k": self.k}


def pool_features(pool: CandidatePool, spec: FeatureSpec, context: np.ndarray | None = None,
                  priors: np.ndarray | None = None) -> np.ndarray:
    """The ``(U, spec.dim)`` float64 feature matrix of a pool's candidates.

    Args:
        pool: the query's candidate pool (rows in ``spec.arms`` order).
        spec: the feature spec.
        context: the query's context vector, ``(len(spec.context_names),)``.
        priors: ``(U, len(spec.prior_names))`` prior values of ``pool.docs`` (NaN unknown).
    """
    n_arms, n_docs = pool.ranks.shape
    if n_arms != len(spec.arms):
        raise ValueError(f"pool has {n_arms} arms, the feature spec {len(spec.arms)}")
    present = pool.ranks < ABSENT  # (A, U)
    low = np.where(present, pool.scores, np.inf).min(axis=1, initial=np.inf, keepdims=True)
    high = np.where(present, pool.scores, -np.inf).max(axis=1, initial=-np.inf, keepdims=True)
    span = high - low
    # min-max normalised score per arm; 0 where absent or where the arm's scores are all equal
    norm = np.where(present & (span > 0), (pool.scores - low) / np.where(span > 0, span, 1.0),
                    0.0)
    out = np.empty((n_docs, spec.dim))
    width = len(ARM_COLUMNS) * n_arms
    out[:, 0:width:4] = np.where(present, pool.scores, np.nan).T  # written in place, no
    out[:, 1:width:4] = np.where(present, norm, np.nan).T         # (A, 4, U) temporary
    out[:, 2:width:4] = np.where(present, pool.ranks, np.nan).T
    out[:, 3:width:4] = present.T
    out[:, width] = present.sum(axis=0)
    out[:, width + 1] = np.where(present, 1.0 / (spec.k + pool.ranks), 0.0).sum(axis=0)
    out[:, width + 2] = norm.sum(axis=0)
    at = width + 3
    n_ctx, n_pri = len(spec.context_names), len(spec.prior_names)
    if n_ctx:
        if context is None or np.shape(context) != (n_ctx,):
            raise ValueError(f"context must have shape ({n_ctx},), got "
                             f"{None if context is None else np.shape(context)}")
        out[:, at:at + n_ctx] = context
    if n_pri:
        if priors is None or np.shape(priors) != (n_docs, n_pri):
            raise ValueError(f"priors must have shape ({n_docs}, {n_pri}), got "
                             f"{None if priors is None else np.shape(priors)}")
        out[:, at + n_ctx:] = priors
    return out


def absent_features(spec: FeatureSpec, n: int, context: np.ndarray | None = None,
                    priors: np.ndarray | None = None) -> np.ndarray:
    """``(n, spec.dim)`` features of candidates no arm returned (a click log may show
    documents the offline pool lacks): arm features missing, counts and fused scores 0."""
    n_arms = len(spec.arms)
    empty = CandidatePool(np.arange(n), np.full((n_arms, n), ABSENT, dtype=np.int64),
                          np.zeros((n_arms, n)), [np.zeros(0)] * n_arms)
    return pool_features(empty, spec, context, priors)


class DocumentPriors:
    """The document priors a dataset declares, as numbers per docno.

    A dataset declares them in ``Dataset.meta["priors"]``: ``{name: {"field": corpus field,
    "sign": 1 or -1}}``; the prior's value is ``sign * float(record[field])`` (``sign`` -1
    turns "days since release" into recency, larger = newer). The music world declares
    ``popularity`` and ``recency`` (from ``release_day``); a dataset that declares none has
    no prior features. Documents without the field (or unknown docnos) get NaN.

    Args:
        dataset: the loaded dataset.
        names: the priors to use (default: every declared one, in declaration order).
    """

    def __init__(self, dataset, names: Sequence[str] | None = None) -> None:
        declared = dict(dataset.meta.get("priors") or {})
        for name, spec in declared.items():
            field = (spec or {}).get("field")
            if field not in dataset.fields:
                raise InputError(f"dataset '{dataset.id}' declares prior '{name}' on field "
                                 f"{field!r}, which its corpus lacks", field="priors")
            if spec.get("sign", 1) not in (1, -1):
                raise InputError(f"dataset '{dataset.id}': prior '{name}' sign must be 1 or -1, "
                                 f"got {spec.get('sign')!r}", field="priors")
        if names is None:
            names = list(declared)
        unknown = [n for n in names if n not in declared]
        if unknown:
            raise InputError(f"dataset '{dataset.id}' declares no prior(s) {unknown} "
                             f"(declared: {', '.join(declared) or 'none'})", field="priors")
        self.names = tuple(names)
        self._dataset = dataset
        self._specs = [declared[n] for n in self.names]
        self._index: dict[str, int] | None = None
        self._values = np.zeros((0, len(self.names)))

    def _load(self) -> None:
        docnos, rows = [], []
        for doc in self._dataset.docs():
            docnos.append(str(doc["docno"]))
            rows.append([is_number(doc.get(s["field"])) * s.get("sign", 1) for s in self._specs])
        self._index = {d: i for i, d in enumerate(docnos)}
        self._values = np.array(rows, dtype=float).reshape(len(docnos), len(self.names))

    def values(self, docnos: Sequence[str]) -> np.ndarray:
        """``(len(docnos), len(names))`` prior values (NaN for unknown docnos)."""
        if not self.names:
            return np.zeros((len(docnos), 0))
        if self._index is None:
            self._load()
        rows = np.fromiter((self._index.get(str(d), -1) for d in docnos), dtype=np.int64,
                           count=len(docnos))
        out = self._values[np.maximum(rows, 0)] if len(self._values) else \
            np.full((len(rows), len(self.names)), np.nan)
        out[rows < 0] = np.nan
        return out


def is_number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
