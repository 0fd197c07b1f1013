"""Context features: what a contextual policy knows about a query before it picks a plan.

A benchmark names the feature groups its policies see (``[features] groups = [...]``):

=================  =====================================================================
group              features (all scaled to roughly [0, 1]; names as in ``.names``)
=================  =====================================================================
``query``          ``q:tokens`` (tokens / 10), ``q:chars`` (characters / 50),
                   ``q:mean_token_len`` (/ 10), ``q:one_token`` (1 if a single token),
                   ``q:digit_ratio`` and ``q:nonalpha_ratio`` (share of non-space
                   characters that are digits / not letters)
``idf``            ``idf:mean``, ``idf:max``, ``idf:min`` of the query tokens' BM25 idf
                   ``log(1 + (N - df + 0.5) / (df + 0.5))`` divided by its value at
                   ``df = 0``, and ``idf:oov`` (share of tokens no released document
                   contains: misspellings, or names not out yet). Counted over the
                   documents released so far, as an index would: when documents are
                   released during the stream, the statistics are refreshed
                   ``IDF_REFRESHES`` times over it (at steps ``e * length // 20``), like a
                   periodic re-index; document frequencies come from one pass over the
                   corpus's text fields, cached in memory per dataset.
``memory``         ``mem:seen`` (the memory arm has seen the query), ``mem:ctr``
                   (its past clicks per issue, ``ctr / (1 + ctr)``), ``mem:issues``
                   (``log1p(issues) / log1p(100)``, capped at 1); read from the memory
                   arm at every step, since it learns as the stream goes
``context``        per context column of the dataset: ``hour`` as ``ctx:hour_sin``/``_cos``,
                   other numbers min-max scaled over the topics, anything else one-hot
                   ``ctx:<column>=<value>`` over the values the topics hold
``post_retrieval`` per probed arm: ``post:<arm>:top`` (signed ``log1p`` of the top
                   score), ``post:<arm>:gap`` (``(s1 - s2) / |s1|``, clipped to [0, 1]),
                   ``post:<arm>:count`` (``log1p(n) / log1p(probe_depth)``), read from the
                   arm's top ``probe_depth`` candidates: a *probe* of every probed arm
                   before the plan is chosen, which the loop charges to policies that read
                   the context (``ltrr.simulation.loop.Probe``); zeros for an arm that
                   returned none
=================  =====================================================================

A constant ``bias`` = 1.0 is always appended last. Static groups are computed once per
topic (and idf refresh) in :meth:`ContextFeaturizer.fit`; :meth:`~ContextFeaturizer.transform`
copies that row and fills in the dynamic groups, so a step costs a few microseconds.

Tokens are lower-case ``[a-z0-9]+`` runs, the same rule as the memory arm's normalisation.
Written by hand: the features are a few lines of arithmetic over token lists; no library
offers query-performance-style features over an arbitrary PyTerrier corpus.
"""

from __future__ import annotations

import copy
import math
import re
from collections import Counter
from typing import NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from ltrr.datasets.base import Dataset
from ltrr.errors import InputError

FEATURE_GROUPS = ("query", "idf", "memory", "context", "post_retrieval")
DYNAMIC_GROUPS = ("memory", "post_retrieval")
PRE_RETRIEVAL_GROUPS = ("query", "idf", "memory", "context")  # known before any arm is called
IDF_REFRESHES = 20
_TOKEN = re.compile(r"[a-z0-9]+")
_LOG1P_100 = math.log1p(100)
_DOC_FREQS: dict[tuple, tuple[int, Counter]] = {}


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(str(text).lower())


def document_frequencies(dataset: Dataset) -> tuple[int, Counter]:
    """``(n_docs, Counter token -> documents containing it)`` over the text fields, cached."""
    key = (dataset.id, tuple(dataset.text_fields), dataset.num_docs)
    if key not in _DOC_FREQS:
        freqs: Counter = Counter()
        n_docs = 0
        for doc in dataset.docs():
            text = " ".join(str(doc.get(f) or "") for f in dataset.text_fields)
            freqs.update(set(tokens(text)))
            n_docs += 1
        _DOC_FREQS[key] = (n_docs, freqs)
    return _DOC_FREQS[key]


def query_features(queries: list[str]) -> tuple[list[str], np.ndarray]:
    names = ["q:tokens", "q:chars", "q:mean_token_len", "q:one_token", "q:digit_ratio",
             "q:nonalpha_ratio"]
    rows = []
    for query in queries:
        toks = tokens(query)
        chars = [c for c in query if not c.isspace()]
        n_chars = max(len(chars), 1)
        rows.append([len(toks) / 10, len(query) / 50,
                     (np.mean([len(t) for t in toks]) / 10) if toks else 0.0,
                     float(len(toks) == 1),
                     sum(c.isdigit() for c in chars) / n_chars,
                     sum(not c.isalpha() for c in chars) / n_chars])
    return names, np.array(rows, dtype=float).reshape(len(queries), len(names))


def released_frequencies(dataset: Dataset, late: pd.Series, length: int, refreshes: int,
                         vocabulary: set[str]) -> list[tuple[int, Counter]]:
    """``(n_docs, df)`` over the documents released by each refresh step ``e * length //
    refreshes``; ``late`` maps docnos released during the stream to their release step.
    Only tokens in ``vocabulary`` (the queries') are counted for the late documents."""
    n_docs, freqs = document_frequencies(dataset)
    if late.empty:
        return [(n_docs, freqs)]
    starts = np.arange(refreshes) * length // refreshes
    added: list[Counter] = [Counter() for _ in range(refreshes)]
    removed: Counter = Counter()
    n_late = np.zeros(refreshes, dtype=np.int64)
    steps = late.to_dict()
    for doc in dataset.docs():
        step = steps.get(str(doc["docno"]))
        if step is None:
            continue
        text = " ".join(str(doc.get(f) or "") for f in dataset.text_fields)
        toks = set(tokens(text)) & vocabulary
        removed.update(toks)
        first = int(np.searchsorted(starts, step, side="left"))  # first refresh that has it
        if first < refreshes:
            added[first].update(toks)
            n_late[first] += 1
    out, current = [], Counter({t: freqs.get(t, 0) - removed.get(t, 0) for t in vocabulary})
    n_now = n_docs - len(steps)
    for e in range(refreshes):
        current.update(added[e])
        n_now += int(n_late[e])
        out.append((n_now, current.copy()))
    return out


def idf_features(queries: list[str], n_docs: int, freqs: Counter) -> tuple[list[str], np.ndarray]:
    """Per query: mean, max and min normalised BM25 idf of its tokens and the share of
    tokens no counted document contains (zeros for a query without tokens)."""
    toks = [tokens(q) for q in queries]
    lengths = np.array([len(t) for t in toks])
    df = np.fromiter((freqs.get(t, 0) for q in toks for t in q), dtype=float,
                     count=int(lengths.sum()))
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)) / np.log1p((n_docs + 0.5) / 0.5)
    out = np.zeros((len(queries), 4))
    has = lengths > 0
    if has.any():
        starts = (np.cumsum(lengths) - lengths)[has]
        out[has, 0] = np.add.reduceat(idf, starts) / lengths[has]
        out[has, 1] = np.maximum.reduceat(idf, starts)
        out[has, 2] = np.minimum.reduceat(idf, starts)
        out[has, 3] = np.add.reduceat((df == 0).astype(float), starts) / lengths[has]
    return ["idf:mean", "idf:max", "idf:min", "idf:oov"], out


class ContextColumn(NamedTuple):
    """How one context column becomes features, fitted on the topics a featurizer saw first:
    ``hour`` as a cycle, another number min-max scaled over ``(low, high)``, anything else
    one-hot over ``levels`` (a value not among them is all zeros)."""

    name: str
    kind: str  # "hour", "number" or "levels"
    low: float = 0.0
    high: float = 0.0
    levels: tuple[str, ...] = ()

    @property
    def feature_names(self) -> list[str]:
        if self.kind == "hour":
            return [f"ctx:{self.name}_sin", f"ctx:{self.name}_cos"]
        if self.kind == "number":
            return [f"ctx:{self.name}"]
        return [f"ctx:{self.name}={level}" for level in self.levels]

    def encode(self, values: pd.Series) -> np.ndarray:
        """``(len(values), len(feature_names))`` the column's features."""
        if self.kind == "hour":
            angle = 2 * np.pi * values.to_numpy(dtype=float) / 24
            return np.column_stack([np.sin(angle), np.cos(angle)])
        if self.kind == "number":
            x = values.to_numpy(dtype=float)
            span = self.high - self.low
            scaled = (x - self.low) / span if span > 0 else np.zeros_like(x)
            return np.nan_to_num(scaled)[:, np.newaxis]
        text = values.astype("string")
        return np.column_stack([(text == level).fillna(False).to_numpy(dtype=float)
                                for level in self.levels]).reshape(len(values), len(self.levels))


def fit_context(topics: pd.DataFrame, columns: list[str], source: str) -> list[ContextColumn]:
    """The encoding of each context column, fitted on ``topics`` (``source`` names where the
    columns were declared, for messages)."""
    if not columns:
        raise InputError(f"feature group 'context': {source} has no context columns")
    fitted = []
    for col in columns:
        if col not in topics.columns:
            raise InputError(f"feature group 'context': {source} lists context "
                             f"column '{col}', which its topics lack")
        values = topics[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and col == "hour":
            fitted.append(ContextColumn(col, "hour"))
        elif numeric:
            x = values.to_numpy(dtype=float)
            fitted.append(ContextColumn(col, "number", float(np.nanmin(x)), float(np.nanmax(x))))
        else:
            levels = tuple(sorted(values.astype("string").dropna().unique()))
            fitted.append(ContextColumn(col, "levels", levels=levels))
    return fitted


def encode_context(topics: pd.DataFrame, fitted: list[ContextColumn],
                   source: str = "the topics") -> tuple[list[str], np.ndarray]:
    """The context features of ``topics`` under an encoding :func:`fit_context` made."""
    missing = [c.name for c in fitted if c.name not in topics.columns]
    if missing:
        raise InputError(f"feature group 'context': {source} lack context column(s) "
                         f"{', '.join(missing)}", field=missing[0])
    names = [n for c in fitted for n in c.feature_names]
    blocks = [c.encode(topics[c.name]) for c in fitted]
    return names, np.hstack(blocks) if blocks else np.zeros((len(topics), 0))


def _scores(found: object) -> np.ndarray:
    """Scores from an arm's candidates: an array, ``(docno, score)`` pairs or a ranking frame."""
    if found is None:
        return np.zeros(0)
    if isinstance(found, pd.DataFrame):
        return found["score"].to_numpy(dtype=float)
    if isinstance(found, (list, tuple)) and found and isinstance(found[0], (list, tuple)):
        return np.array([score for _, score in found], dtype=float)
    return np.asarray(found, dtype=float).reshape(-1)


class ContextFeaturizer:
    """Turns a topic (and, optionally, its candidates) into a context vector.

    Args:
        groups: feature groups, from :data:`FEATURE_GROUPS`, in the order they appear.
        dataset: the collection (corpus for ``idf``, context columns for ``context``).
        arms: the benchmark's arms by name (``memory`` needs one with ``seen``/``past_ctr``).
        probe_arms: the arms ``post_retrieval`` reads, one block each in this order
            (default: every arm).
        probe_depth: how many of each probed arm's top candidates it reads.
        context_columns: the topics' context columns (default: the dataset's).

    ``dataset`` may be None when no group needs a corpus or declared context columns
    (``query``, ``memory``, ``context`` with ``context_columns`` given).
    """

    def __init__(self, groups: list[str], dataset: Dataset | None, arms: dict | None = None,
                 probe_arms: list[str] | None = None, probe_depth: int = 10,
                 context_columns: list[str] | None = None) -> None:
        groups = list(groups)
        for group in groups:
            if group not in FEATURE_GROUPS:
                raise InputError(f"unknown feature group {group!r} "
                                 f"(choose from {', '.join(FEATURE_GROUPS)})")
        if len(set(groups)) != len(groups):
            raise InputError(f"feature groups listed twice: {groups}")
        self.groups, self.dataset, self.arms = groups, dataset, dict(arms or {})
        if dataset is None and ("idf" in groups or ("context" in groups
                                                    and context_columns is None)):
            need = "idf" if "idf" in groups else "context"
            raise InputError(f"feature group '{need}' needs a dataset (its corpus or its "
                             "context columns)")
        self.context_columns = (list(context_columns) if context_columns is not None
                                else list(getattr(dataset, "context_columns", ())))
        self.memory = None
        if "memory" in groups:
            memories = [a for a in self.arms.values()
                        if callable(getattr(a, "seen", None)) and callable(getattr(a, "past_ctr", None))]
            if not memories:
                raise InputError("feature group 'memory' needs a memory arm among the "
                                 f"benchmark's arms (have: {', '.join(self.arms) or 'none'})")
            self.memory = memories[0]
        self.needs_candidates = "post_retrieval" in groups
        self.probe_arms = list(self.arms) if probe_arms is None else list(probe_arms)
        self.probe_depth = int(probe_depth)
        self._static: np.ndarray | None = None
        self._names: list[str] = []

    def fit(self, topics: pd.DataFrame, late: pd.Series | None = None,
            stream_length: int = 1) -> "ContextFeaturizer":
        """Precompute the static features of every topic row (row ``i`` = ``topic_index`` i).

        ``late`` (docno -> release step, as :func:`ltrr.simulation.stream.release_schedule`)
        and ``stream_length`` make the idf statistics count only released documents, with
        ``IDF_REFRESHES`` refreshes over the stream.
        """
        self.queries = topics["query"].astype(str).tolist()
        late = pd.Series(dtype=np.int64) if late is None else late
        self._length = max(int(stream_length), 1)
        names: list[str] = []
        static: list[np.ndarray] = []
        self._idf: tuple[slice, np.ndarray, np.ndarray] | None = None
        self._slices: dict[str, slice] = {}
        for group in self.groups:
            if group == "query":
                block_names, block = query_features(self.queries)
            elif group == "idf":
                self._corpus = document_frequencies(self.dataset)  # new queries' idf (vectors)
                vocabulary = {tok for q in self.queries for tok in tokens(q)}
                stats = released_frequencies(self.dataset, late, self._length, IDF_REFRESHES,
                                             vocabulary)
                blocks = [idf_features(self.queries, n, freqs) for n, freqs in stats]
                block_names, block = blocks[0][0], blocks[0][1]
                if len(blocks) > 1:
                    where = slice(len(names), len(names) + len(block_names))
                    starts = np.arange(len(blocks)) * self._length // len(blocks)
                    self._idf = (where, np.stack([b for _, b in blocks]), starts)
            elif group == "context":
                source = (f"dataset '{self.dataset.id}'" if self.dataset is not None
                          else "the context columns given")
                self._context = fit_context(topics, self.context_columns, source)
                block_names, block = encode_context(topics.reset_index(drop=True), self._context)
            elif group == "memory":
                block_names = ["mem:seen", "mem:ctr", "mem:issues"]
            else:
                block_names = [f"post:{arm}:{kind}" for arm in self.probe_arms
                               for kind in ("top", "gap", "count")]
            where = slice(len(names), len(names) + len(block_names))
            self._slices[group] = where
            if group in DYNAMIC_GROUPS:
                block = np.zeros((len(self.queries), len(block_names)))
            static.append(block)
            names += block_names
        self._names = names + ["bias"]
        static.append(np.ones((len(self.queries), 1)))
        self._static = np.hstack(static)
        return self

    def select(self, groups: list[str]) -> "ContextFeaturizer":
        """A fitted featurizer over a subset of this one's groups (and the bias), sharing its
        tables: what a policy that sees fewer features is given (``[[policies]] features``).
        Without ``post_retrieval`` it needs no candidates, so its policy pays no probe."""
        self._require_fit()
        unknown = [g for g in groups if g not in self.groups]
        if unknown:
            raise InputError(f"feature groups {unknown} are not among the benchmark's "
                             f"({', '.join(self.groups)})")
        view = copy.copy(self)
        view.groups = [g for g in self.groups if g in groups]
        columns = np.concatenate([np.arange(len(self._names))[self._slices[g]] for g in view.groups]
                                 + [np.array([len(self._names) - 1])])
        position = {int(c): i for i, c in enumerate(columns)}

        def moved(where: slice) -> slice:
            return slice(position[where.start], position[where.start] + where.stop - where.start)

        view._names = [self._names[c] for c in columns]
        view._static = self._static[:, columns]
        view._slices = {g: moved(self._slices[g]) for g in view.groups}
        view._idf = None
        if self._idf is not None and "idf" in view.groups:
            where, table, starts = self._idf
            view._idf = (moved(where), table, starts)
        view.needs_candidates = "post_retrieval" in view.groups
        return view

    @property
    def names(self) -> list[str]:
        self._require_fit()
        return list(self._names)

    @property
    def dim(self) -> int:
        self._require_fit()
        return len(self._names)

    def tables(self, arm_names: list[str]) -> "FeatureTables":
        """The fitted featurizer as the compiled :func:`context_row` reads it; probed arms
        are given by their position in ``arm_names`` (the loop's step lists)."""
        self._require_fit()
        idf_at = mem_at = post_at = -1
        table, starts = np.zeros((0, len(self.queries), 4)), np.zeros(0, dtype=np.int64)
        if self._idf is not None:
            where, table, starts = self._idf
            idf_at = where.start
        if "memory" in self.groups:
            mem_at = self._slices["memory"].start
        if "post_retrieval" in self.groups:
            post_at = self._slices["post_retrieval"].start
        post_arms = np.array([arm_names.index(a) for a in self.probe_arms], dtype=np.int64) \
            if post_at >= 0 else np.zeros(0, dtype=np.int64)
        return FeatureTables(np.ascontiguousarray(self._static), np.ascontiguousarray(table),
                             np.asarray(starts, dtype=np.int64),
                             np.array([idf_at, mem_at, post_at, self.probe_depth], dtype=np.int64),
                             post_arms)

    def transform(self, topic_index: int, candidates: dict | None = None,
                  step: int = 0, memory: np.ndarray | None = None) -> np.ndarray:
        """The context vector (length :attr:`dim`) of topic row ``topic_index`` at ``step``.

        ``candidates``: probed arm name -> its top ``probe_depth`` candidates for this query
        (scores sorted best first, ``(docno, score)`` pairs or a ranking frame); needed for
        ``post_retrieval``. ``step`` picks the idf refresh in force. ``memory``: the
        ``memory`` group's three values when the caller holds the memory's state (the loop);
        else they are read from the memory arm. The arithmetic is :func:`context_row`'s, the
        compiled loop's.
        """
        self._require_fit()
        if "post_retrieval" in self.groups and candidates is None:
            raise ValueError("post_retrieval features need the candidates of every arm")
        if "memory" in self.groups and memory is None:
            memory = np.array(self._memory(topic_index))
        depth = max(self.probe_depth, 1)
        scores = np.zeros((max(len(self.probe_arms), 1), depth))
        lengths = np.zeros(max(len(self.probe_arms), 1), dtype=np.int64)
        if candidates is not None:
            for a, arm in enumerate(self.probe_arms):
                found = np.sort(_scores(candidates.get(arm))[: self.probe_depth])[::-1]
                scores[a, :len(found)] = found
                lengths[a] = len(found)
        out = np.empty(self.dim)
        context_row(self.tables(list(self.probe_arms)), int(topic_index), int(step),
                    np.zeros(3) if memory is None else np.asarray(memory, dtype=float),
                    scores, lengths, out)
        return out

    def vectors(self, topics: pd.DataFrame) -> np.ndarray:
        """``(len(topics), dim)`` the context vectors of topics the featurizer was not fitted
        on (a :class:`~ltrr.selection.selector.Selector`'s queries), as the loop would give
        them at their first step: the static groups with the fitted state (the idf of the
        whole corpus, the context columns' fitted encoding), the memory group read from the
        memory arm now, then the compiled :func:`context_row`. ``post_retrieval`` needs the
        loop's probe and is refused."""
        self._require_fit()
        if "post_retrieval" in self.groups:
            raise InputError("post_retrieval features need a probe of the arms before the plan "
                             "is chosen; only pre-retrieval groups "
                             f"({', '.join(PRE_RETRIEVAL_GROUPS)}) describe a new query")
        topics = topics.reset_index(drop=True)
        queries = topics["query"].astype(str).tolist()
        static = np.zeros((len(topics), self.dim))
        static[:, -1] = 1.0
        for group in self.groups:
            if group == "query":
                block = query_features(queries)[1]
            elif group == "idf":
                block = idf_features(queries, *self._corpus)[1]
            elif group == "context":
                block = encode_context(topics, self._context)[1]
            else:
                continue
            static[:, self._slices[group]] = block
        mem_at = self._slices["memory"].start if "memory" in self.groups else -1
        tables = FeatureTables(static, np.zeros((0, len(topics), 4)), np.zeros(0, np.int64),
                               np.array([-1, mem_at, -1, self.probe_depth], dtype=np.int64),
                               np.zeros(0, np.int64))
        out = np.empty((len(topics), self.dim))
        none = np.zeros((1, max(self.probe_depth, 1))), np.zeros(1, dtype=np.int64)
        for i, query in enumerate(queries):
            memory = np.array(self._memory_of(query)) if mem_at >= 0 else np.zeros(3)
            context_row(tables, i, 0, memory, *none, out[i])
        return out

    def detached(self) -> "ContextFeaturizer":
        """A copy without the dataset and the arms (what a saved selector keeps: the fitted
        tables, the corpus statistics ``idf`` needs, the context encoding)."""
        view = copy.copy(self)
        view.dataset, view.arms, view.memory = None, {}, None
        return view

    def attached(self, arms: dict) -> "ContextFeaturizer":
        """A detached featurizer given its arms again (the memory group reads the memory arm)."""
        view = copy.copy(self)
        view.arms = dict(arms)
        if "memory" in self.groups:
            view.memory = ContextFeaturizer(["memory"], None, arms).memory
        return view

    def _memory(self, topic_index: int) -> list[float]:
        return self._memory_of(self.queries[topic_index])

    def _memory_of(self, query: str) -> list[float]:
        """The memory group from a memory arm's own ``seen``/``past_ctr``/``issues``."""
        ctr = max(float(self.memory.past_ctr(query)), 0.0)
        issues = getattr(self.memory, "issues", None)
        n = float(issues(query)) if callable(issues) else float(self.memory.seen(query))
        return [float(self.memory.seen(query)), ctr / (1.0 + ctr),
                min(math.log1p(n) / _LOG1P_100, 1.0)]

    def _require_fit(self) -> None:
        if self._static is None:
            raise RuntimeError("ContextFeaturizer: call fit(topics) first")


class FeatureTables(NamedTuple):
    """A fitted featurizer as the compiled code reads it (:meth:`ContextFeaturizer.tables`)."""

    static: np.ndarray  # (topics, d) the static groups' values (dynamic groups' columns 0)
    idf_table: np.ndarray  # (refreshes, topics, 4) idf values per refresh (none: empty)
    idf_starts: np.ndarray  # (refreshes,) the step each refresh starts at
    slots: np.ndarray  # [idf column, memory column, post_retrieval column, probe depth]
    post_arms: np.ndarray  # the probed arms' rows in the step's lists


@njit(cache=True)
def context_row(tables: FeatureTables, t: int, step: int, memory: np.ndarray,
                scores: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """The context vector of topic row ``t`` at ``step`` into ``out``: the static row, the
    idf refresh in force, the memory group's three values (``memory``) and the probed arms'
    post-retrieval values from their lists (``scores`` ``(A, L)`` best first, ``lengths``)."""
    out[:] = tables.static[t]
    idf_at, mem_at, post_at, depth = (tables.slots[0], tables.slots[1], tables.slots[2],
                                      tables.slots[3])
    if idf_at >= 0:
        r = 0
        while r + 1 < tables.idf_starts.shape[0] and tables.idf_starts[r + 1] <= step:
            r += 1
        for j in range(4):
            out[idf_at + j] = tables.idf_table[r, t, j]
    if mem_at >= 0:
        for j in range(3):
            out[mem_at + j] = memory[j]
    if post_at >= 0:
        norm = math.log1p(max(depth, 1))
        for i in range(tables.post_arms.shape[0]):
            a = tables.post_arms[i]
            n = min(lengths[a], depth)
            at = post_at + 3 * i
            if n == 0:
                out[at] = 0.0
                out[at + 1] = 0.0
                out[at + 2] = 0.0
                continue
            top = scores[a, 0]
            second = scores[a, 1] if n > 1 else top
            gap = (top - second) / abs(top) if top != 0 else 0.0
            out[at] = math.copysign(math.log1p(abs(top)), top)
            out[at + 1] = min(max(gap, 0.0), 1.0)
            out[at + 2] = min(math.log1p(n) / norm, 1.0)
