"""Any PyTerrier transformer (queries -> ranking) as an ltrr arm.

A benchmark file names an outside arm under a short name (plan ids are made of arm names)
and says what builds it in the arm's table::

    [arms]
    names = ["lexical", "memory", "tfidf"]

    [arms.tfidf]
    class = "my_arm:TfIdfArm"     # module:Name, or an entry point of group ltrr.arms
    ngram_max = 2                 # every other key goes to its constructor

What ``class`` names is called with the table's other keys, plus ``dataset=`` (the loaded
:class:`~ltrr.datasets.base.Dataset`) when its signature has a ``dataset`` parameter
(``num_results``, where it has none, sets the wrapper's depth instead); it may
be a ``pt.Transformer`` class, a factory function returning a transformer, or a transformer
object (which then takes no keys). The result is wrapped in :class:`TransformerArm`, which
gives the loop what it asks of a static arm:

- ``with_depth(k)``: the depth of the next ``transform``; the transformer is asked through
  its ``fuse_rank_cutoff(k)`` when it has one (PyTerrier's own way of pushing ``% k`` into a
  retriever, as PISA's and pyterrier-dr's do), and the ranking is cut at ``k`` either way;
- ``transform(queries)``: the transformer's frame, checked (``qid``, ``docno`` and finite
  ``score`` columns, no document twice for a query, no query it was not asked) and re-ranked
  by score, ties by docno, from 0 (PyTerrier's ``add_ranks`` order, made deterministic);
- ``cache_key``: the import path, the parameters, a hash of the source file that defines it,
  the dataset id and the corpus fingerprint, so its candidate lists are cached under
  ``LTRR_HOME/candidates`` like a built-in arm's, and the loop asks the transformer once per
  topic at the deepest depth the plans need. A transformer with its own ``cache_key``
  attribute (say, the version of a model it loads) adds it to the key.

Documents released during the stream are hidden by the loop (``released_lists``), as for every
static arm. An outside arm that learns from clicks must instead subclass
:class:`ltrr.arms.base.Arm` and provide the memory arm's ``update``/``reset``/``ranked``.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.arms.base import Arm, check_queries, corpus_fingerprint, empty_ranking, ranking_frame
from ltrr.contracts import ability, missing_methods
from ltrr.errors import InputError
from ltrr.paths import settings_key
from ltrr.registry import describe, plugin_errors, source_hash


def _is_factory(obj: object) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismethod(obj) \
        or isinstance(obj, functools.partial)


def outside_arm(name: str, source: str, obj: object, dataset, params: dict):
    """Build what ``source`` names (``obj``, resolved) as arm ``name``; InputError naming both
    when the parameters do not fit or the result is not a transformer."""
    label = f"'{name}'" if name == source else f"'{name}' ('{source}')"
    if "dataset" in params:
        raise InputError(f"arm {label}: 'dataset' is passed by ltrr, not set in the table",
                         field="dataset")
    params = dict(params)
    depth = None
    if "num_results" in params and not _accepts(obj, "num_results"):
        depth = params.pop("num_results")  # the wrapper's depth (ltrr arms passes one)
    if not _is_factory(obj):
        if params:
            raise InputError(f"arm {label} is {describe(obj)}, which takes no parameters "
                             f"(got {sorted(params)})", field=sorted(params)[0])
        transformer = obj
    else:
        kwargs = dict(params)
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            signature = None
        if signature is not None:
            accepted = signature.parameters
            if "dataset" in accepted:
                kwargs["dataset"] = dataset
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
                unknown = sorted(set(params) - set(accepted))
                if unknown:
                    takes = sorted(set(accepted) - {"dataset"})
                    raise InputError(f"arm {label} has no parameter(s) {unknown}; it takes "
                                     f"{takes}", field=unknown[0])
        with plugin_errors(f"arm {label}", "building it"):
            transformer = obj(**kwargs)
    if isinstance(transformer, Arm):
        return transformer
    if missing_methods(transformer, "arm"):
        raise InputError(f"arm {label} built {describe(transformer)}, not a PyTerrier "
                         "transformer (queries -> ranking)")
    arm = TransformerArm(name, transformer, dataset, source, params,
                         code=source_hash(obj, transformer))
    return arm if depth is None else arm.with_depth(depth)


def _accepts(obj: object, parameter: str) -> bool:
    """Whether calling ``obj`` takes ``parameter`` (by name or through ``**kwargs``)."""
    if not _is_factory(obj):
        return False
    try:
        accepted = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return True
    return parameter in accepted or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                        for p in accepted.values())


class TransformerArm(pt.Transformer):
    """An outside PyTerrier transformer in the loop: a depth, a checked ranking, a cache key.

    Args:
        name: the arm's short name in the benchmark (plan ids, messages, cache file names).
        transformer: the outside transformer (queries -> ranking).
        dataset: the dataset it ranks (its id and corpus fingerprint key the cache).
        source: what built it (``module:Name`` or an entry point name).
        params: the parameters it was built with.
        code: a hash of its source (:func:`source_hash`).
    """

    index_source = "plugin"  # for reports: the plugin manages whatever index it has

    def __init__(self, name: str, transformer, dataset, source: str, params: dict,
                 code: str = "", num_results: int = 1000) -> None:
        self.name, self.transformer, self.dataset = name, transformer, dataset
        self.source, self.params, self.code = source, dict(params), code
        self.num_results = int(num_results)

    @property
    def cache_key(self) -> str:
        """Dataset, import path, parameters, source hash and corpus content: the lists'
        cache key (a transformer's own ``cache_key`` attribute joins it)."""
        own = ability(self.transformer, "arm", "cache_key")
        key = settings_key(source=self.source, params=self.params, code=self.code,
                           corpus=corpus_fingerprint(self.dataset),
                           own=own if isinstance(own, str) else None)
        return f"{self.name}:{self.dataset.id}:{key}"

    def describe(self) -> str:
        return f"{self.name}: {self.source}" + "".join(f", {k}={v}" for k, v in self.params.items())

    def load(self) -> "TransformerArm":
        return self

    def with_depth(self, k: int) -> "TransformerArm":
        """This arm set to return ``k`` results per query (returns self, for chaining)."""
        if int(k) < 1:
            raise InputError(f"arm '{self.name}': depth must be >= 1, got {k}", field="depth")
        self.num_results = int(k)
        return self

    def _at_depth(self, k: int):
        fused = self.transformer.fuse_rank_cutoff(k) \
            if ability(self.transformer, "arm", "fuse_rank_cutoff") else None
        return self.transformer if fused is None else fused

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        check_queries(queries, self.name)
        if len(queries) == 0:
            return empty_ranking(queries)
        queries = queries.reset_index(drop=True)
        with plugin_errors(f"arm '{self.name}' ('{self.source}')", "transform"):
            out = self._at_depth(self.num_results).transform(queries)
        return self._checked(out, queries)

    def _checked(self, out: object, queries: pd.DataFrame) -> pd.DataFrame:
        """The transformer's ranking, checked, ranked by score (ties by docno), cut at depth."""
        where = f"arm '{self.name}' ('{self.source}') returned"
        if not isinstance(out, pd.DataFrame):
            raise InputError(f"{where} {describe(out)}; an arm returns a ranking DataFrame "
                             "(qid, docno, score[, rank])")
        missing = [c for c in ("qid", "docno", "score") if c not in out.columns]
        if missing:
            raise InputError(f"{where} a frame without column(s) {', '.join(missing)}; an arm "
                             "returns a ranking (qid, docno, score[, rank])")
        qids = out["qid"].astype(str).to_numpy()
        row_of = pd.Series(np.arange(len(queries)), index=queries["qid"].astype(str).to_numpy())
        rows = row_of.reindex(qids).to_numpy()
        if np.isnan(rows).any():
            stray = qids[np.isnan(rows)][0]
            raise InputError(f"{where} results for qid '{stray}', which it was not asked")
        scores = pd.to_numeric(out["score"], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(scores).all():
            bad = int(np.flatnonzero(~np.isfinite(scores))[0])
            raise InputError(f"{where} a score that is not a finite number (qid '{qids[bad]}', "
                             f"docno '{out['docno'].iloc[bad]}': {out['score'].iloc[bad]!r})")
        docnos = out["docno"].astype(str).to_numpy()
        twice = pd.Series(qids).str.cat(pd.Series(docnos), sep="\t").duplicated().to_numpy()
        if twice.any():
            at = int(np.flatnonzero(twice)[0])
            raise InputError(f"{where} docno '{docnos[at]}' twice for qid '{qids[at]}'")
        ranking = ranking_frame(queries, rows.astype(np.int64), docnos, scores)
        return ranking[ranking["rank"] < self.num_results].reset_index(drop=True)

    def __repr__(self) -> str:
        return f"TransformerArm({self.name!r}, {self.transformer!r})"
