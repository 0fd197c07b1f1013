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
                         :class:`~ltrr.selection.context.ContextFeaturizer` row), the
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
import pandas as pd

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
    """The document priors a dataset declares, as numbers per docno, as of a stream step.

    A dataset declares them in ``Dataset.meta["priors"]``: ``{name: {"field": corpus field,
    "sign": 1 or -1}}``; the prior's value is ``sign * float(record[field])`` (``sign`` -1
    turns "days since release" into recency, larger = newer). The music world declares
    ``popularity`` and ``recency`` (from ``release_day``); a dataset that declares none has
    no prior features. Documents without the field (or unknown docnos) get NaN.

    A field that summarises other documents' releases reads the future in a stream that
    releases them: an artist's ``release_day`` is its *latest* work, perhaps one the stream
    releases later. Such a prior declares ``"latest_of_works": {"link": field, "types":
    [types], "first": field}``: a document's *works* are the documents whose ``type`` is in
    ``types`` and whose ``link`` field equals its own (the music world: an artist's tracks
    and albums, by ``artist``); a document whose type is not in ``types`` and that has
    works takes, as of a step, the latest (largest ``sign * value``) of its own ``first``
    value and the ``field`` values of its works released by that step. Every other document
    keeps its own value (it is visible only once released, and then its value is known).

    Args:
        dataset: the loaded dataset.
        names: the priors to use (default: every declared one, in declaration order).
        release: the step from which each document is out (docno -> step, the loop's
            :func:`~ltrr.simulation.stream.release_schedule`; unlisted documents are out from
            step 0). Without it every document is out: values are the records' own.
    """

    def __init__(self, dataset, names: Sequence[str] | None = None,
                 release: pd.Series | None = None) -> None:
        declared = dict(dataset.meta.get("priors") or {})
        for name, spec in declared.items():
            spec = spec or {}
            works = spec.get("latest_of_works") or {}
            if works and not (isinstance(works, dict) and works.get("link") and works.get("first")
                              and isinstance(works.get("types"), list) and works["types"]):
                raise InputError(f"dataset '{dataset.id}': prior '{name}' latest_of_works must be "
                                 f"{{'link': field, 'types': [types], 'first': field}}, got "
                                 f"{works!r}", field="priors")
            needed = [spec.get("field")] + [works.get(k) for k in ("link", "first") if works] \
                + (["type"] if works else [])
            for field in needed:
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
        self._release = release if release is not None and len(release) else None
        self._index: dict[str, int] | None = None
        self._values = np.zeros((0, len(self.names)))  # as the records say (all released)
        self._start = self._values  # as of step 0
        self._events = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                        np.zeros(0))  # (step, row, column, value), by step
        self._breaks = np.zeros(0, np.int64)  # the distinct steps at which a value changes
        self._cached: tuple[int, np.ndarray] | None = None  # (epoch, table)

    def _load(self) -> None:
        docs = list(self._dataset.docs())
        docnos = [str(doc["docno"]) for doc in docs]
        self._index = {d: i for i, d in enumerate(docnos)}
        self._values = np.array([[is_number(doc.get(s["field"])) * s.get("sign", 1)
                                  for s in self._specs] for doc in docs],
                                dtype=float).reshape(len(docs), len(self.names))
        self._start = self._values.copy()
        if self._release is None:
            return
        step = self._release.reindex(docnos).fillna(0).to_numpy(np.int64)
        events = []
        for c, spec in enumerate(self._specs):
            if spec.get("latest_of_works"):
                events += self._work_events(docs, step, c, spec)
        if events:
            events.sort(key=lambda e: e[0])
            self._events = tuple(np.array(column) for column in zip(*events))
            self._breaks = np.unique(self._events[0])

    def _work_events(self, docs: list[dict], step: np.ndarray, column: int, spec: dict
                     ) -> list[tuple[int, int, int, float]]:
        """Column ``column`` as of step 0 in ``self._start`` for documents with works, and
        the ``(step, row, column, value)`` changes their works' later releases make."""
        works, sign = spec["latest_of_works"], spec.get("sign", 1)
        kinds = set(works["types"])
        history: dict[str, list[tuple[int, float]]] = {}
        for i, doc in enumerate(docs):
            if doc.get("type") in kinds:
                history.setdefault(str(doc.get(works["link"])), []).append(
                    (int(step[i]), is_number(doc.get(spec["field"])) * sign))
        events = []
        for i, doc in enumerate(docs):
            releases = history.get(str(doc.get(works["link"])))
            if doc.get("type") in kinds or not releases:
                continue
            first = is_number(doc.get(works["first"])) * sign
            latest = _latest([first] + [v for at, v in releases if at == 0])
            self._start[i, column] = latest
            for at, value in sorted(r for r in releases if r[0] > 0):
                if value > latest or (np.isnan(latest) and not np.isnan(value)):
                    latest = value
                    events.append((at, i, column, value))
        return events

    def epoch(self, step: int | None) -> int:
        """Which release epoch ``step`` falls in: values change only between epochs
        (``None``, every document out, is the last)."""
        if self._index is None:
            self._load()
        if step is None:
            return len(self._breaks) + 1
        return int(np.searchsorted(self._breaks, step, side="right"))

    def _table(self, step: int | None) -> np.ndarray:
        if self._index is None:
            self._load()
        if step is None or self._release is None:
            return self._values
        epoch = self.epoch(step)
        if self._cached is None or self._cached[0] != epoch:
            at, row, column, value = self._events
            n = int(np.searchsorted(at, step, side="right"))
            table = self._start.copy()
            np.fmax.at(table, (row[:n], column[:n]), value[:n])  # a value only grows
            self._cached = (epoch, table)
        return self._cached[1]

    def rows(self, docnos: Sequence[str]) -> np.ndarray:
        """Each docno's row in the prior table (-1: unknown), for :meth:`at`."""
        if self._index is None:
            self._load()
        return np.fromiter((self._index.get(str(d), -1) for d in docnos), dtype=np.int64,
                           count=len(docnos))

    def at(self, rows: np.ndarray, step: int | None = None) -> np.ndarray:
        """``(len(rows), len(names))`` values of :meth:`rows` as of ``step`` (None: every
        document out, the records' values); NaN for row -1."""
        if not self.names:
            return np.zeros((len(rows), 0))
        table = self._table(step)
        rows = np.asarray(rows, dtype=np.int64)
        out = table[np.maximum(rows, 0)] if len(table) else \
            np.full((len(rows), len(self.names)), np.nan)
        out[rows < 0] = np.nan
        return out

    def values(self, docnos: Sequence[str], step: int | None = None) -> np.ndarray:
        """``(len(docnos), len(names))`` prior values as of ``step`` (NaN for unknown docnos)."""
        if not self.names:
            return np.zeros((len(docnos), 0))
        return self.at(self.rows(docnos), step)

    def as_of(self, step: int) -> "PriorsAsOf":
        """These priors frozen at ``step`` (training pools: step 0, before the stream)."""
        return PriorsAsOf(self, step)


@dataclass(frozen=True)
class PriorsAsOf:
    """:class:`DocumentPriors` as of one step, with their ``names`` and ``values(docnos)``."""

    priors: DocumentPriors
    step: int

    @property
    def names(self) -> tuple[str, ...]:
        return self.priors.names

    def values(self, docnos: Sequence[str]) -> np.ndarray:
        return self.priors.values(docnos, self.step)


def _latest(values: list[float]) -> float:
    """The largest of ``values`` that is a number (NaN when none is)."""
    numbers = [v for v in values if not np.isnan(v)]
    return max(numbers) if numbers else float("nan")


def is_number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
