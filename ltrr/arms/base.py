"""What every retrieval arm shares: the Transformer contract, depth, cache key, atomic index builds.

An arm is a ``pyterrier.Transformer``: ``transform(queries)`` takes a queries frame
``qid, query[, ...]`` and returns a PyTerrier ranking frame ``qid, query, docno, score, rank``
(rank from 0, sorted by qid then rank), at most ``num_results`` rows per query.

Arms index their corpus lazily, on first use, into a cache folder keyed by the dataset id, a
fingerprint of the corpus content and the arm's settings (:func:`ltrr.paths.cache_dir`). A
build writes into a temporary sibling folder and renames it into place only when complete, so
an interrupted build is never reused (temporaries of killed builds are deleted by the next
build in the same folder).

A complete entry holds a manifest (``.ltrr-manifest.json``: every file's size) written with
it; an entry made before manifests gets one the first time it is opened. Loading checks the
sizes first (a truncated file would crash PISA's C++ code, which Python cannot catch), then
opens the index; a missing or truncated file, or an index that fails to open, is reported
on stderr with its path and rebuilt (:func:`ltrr.paths.discard_corrupt`), so the numbers are
those of an intact cache. ``index_source`` says whether the index was ``"cache"`` (loaded) or
``"built"`` (this run).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import shutil
import zipfile
from abc import abstractmethod
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.datasets.base import Dataset
from ltrr.errors import InputError
from ltrr.paths import (cache_dir, discard_corrupt, remove_stale_temporaries,
                        temporary_sibling, write_atomically)

RANKING_COLUMNS = ["qid", "query", "docno", "score", "rank"]


_FINGERPRINTS: dict[int, tuple[Dataset, str]] = {}


def corpus_fingerprint(dataset: Dataset) -> str:
    """A hash of every corpus record (all fields), part of every arm's cache key.

    The dataset id alone is not enough: a generated world (``ltrr:music``) or a local folder
    can change under the same id, and a stale index would silently give wrong numbers.
    Reading the corpus once per dataset object is cheap next to indexing it.
    """
    hit = _FINGERPRINTS.get(id(dataset))
    if hit is not None and hit[0] is dataset:
        return hit[1]
    digest = hashlib.sha1()
    for doc in dataset.docs():
        digest.update(json.dumps(doc, sort_keys=True, default=str).encode())
        digest.update(b"\n")
    fingerprint = digest.hexdigest()[:16]
    _FINGERPRINTS[id(dataset)] = (dataset, fingerprint)
    return fingerprint


def require_fields(dataset: Dataset, arm: str, needed: Iterable[str]) -> None:
    """Raise InputError naming dataset, arm and field when the corpus lacks a field the arm needs."""
    have = set(dataset.fields)
    for name in needed:
        if name not in have:
            raise InputError(
                f"arm '{arm}' needs corpus field '{name}', but dataset '{dataset.id}' has only "
                f"{sorted(have)}", field=name)


MANIFEST = ".ltrr-manifest.json"
# what a truncated or damaged cache file raises when it is read
CORRUPT_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, zipfile.BadZipFile,
                  pickle.UnpicklingError, RuntimeError)


def atomic_build(path: Path, build: Callable[[Path], None]) -> bool:
    """Run ``build(tmp)`` into a temporary folder, write its manifest and rename it to ``path``.

    Returns True when it built, False when ``path`` already existed (a complete earlier build).
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    tmp = temporary_sibling(path)
    try:
        build(tmp)
        write_manifest(tmp)
        try:
            os.rename(tmp, path)
        except OSError:
            if not path.exists():  # not a concurrent builder that won the race
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return True


def write_manifest(folder: Path) -> None:
    """Record the size of every file in a cache folder (``.ltrr-manifest.json``)."""
    sizes = {str(f.relative_to(folder)): f.stat().st_size
             for f in sorted(Path(folder).rglob("*")) if f.is_file() and f.name != MANIFEST}
    write_atomically(Path(folder) / MANIFEST,
                     lambda tmp: tmp.write_text(json.dumps(sizes, indent=0) + "\n"))


def manifest_problem(folder: Path) -> str | None:
    """What is wrong with a cache folder by its manifest (a missing or resized file), or None.
    A folder without a manifest (made before manifests) is given one now."""
    folder = Path(folder)
    try:
        sizes = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        try:
            write_manifest(folder)
        except OSError:
            pass  # a read-only cache: nothing to check against
        return None
    except (OSError, ValueError) as err:
        return f"{MANIFEST}: {err}"
    if not isinstance(sizes, dict):
        return f"{MANIFEST}: not a table of file sizes"
    for name, size in sizes.items():
        file = folder / name
        if not file.is_file():
            return f"{name} is missing"
        if file.stat().st_size != size:
            return f"{name} has {file.stat().st_size} bytes, {size} when built"
    return None


def ranking_frame(queries: pd.DataFrame, qidx: np.ndarray, docnos: Sequence[str],
                  scores: np.ndarray) -> pd.DataFrame:
    """Assemble a ranking frame from parallel arrays (query row index, docno, score).

    Rows are ordered by qid then descending score (ties by docno, for determinism) and ranked
    from 0 within each query; the queries frame's other columns are carried along.
    """
    queries = queries.reset_index(drop=True)
    res = pd.DataFrame({"_qidx": np.asarray(qidx, dtype=np.int64),
                        "docno": np.asarray(docnos, dtype=object),
                        "score": np.asarray(scores, dtype=np.float64)})
    res["qid"] = queries["qid"].to_numpy()[res["_qidx"].to_numpy()] if len(res) else []
    res = res.sort_values(["qid", "score", "docno"], ascending=[True, False, True], kind="stable")
    res["rank"] = res.groupby("qid", sort=False).cumcount().astype(np.int64)
    extra = queries.drop(columns=["qid"])
    out = extra.iloc[res["_qidx"].to_numpy()].reset_index(drop=True)
    out.insert(0, "qid", res["qid"].to_numpy())
    out["docno"] = res["docno"].to_numpy()
    out["score"] = res["score"].to_numpy()
    out["rank"] = res["rank"].to_numpy()
    return out


def empty_ranking(queries: pd.DataFrame) -> pd.DataFrame:
    """A ranking frame with the queries' columns and no rows."""
    return ranking_frame(queries, np.empty(0, dtype=np.int64), [], np.empty(0))


def check_queries(queries: pd.DataFrame, arm: str) -> None:
    """The input must be a queries frame with ``qid`` and ``query`` columns."""
    missing = [c for c in ("qid", "query") if c not in queries.columns]
    if missing:
        raise InputError(f"arm '{arm}' needs a queries frame with columns qid, query; "
                         f"missing {missing}", field=missing[0])


def iter_docs(dataset: Dataset, fields: Sequence[str]) -> Iterator[dict]:
    """The corpus as dicts holding ``docno`` and ``fields``, missing or None values as ''."""
    for doc in dataset.docs():
        rec = {"docno": str(doc["docno"])}
        for name in fields:
            value = doc.get(name)
            rec[name] = "" if value is None else str(value)
        yield rec


class Arm(pt.Transformer):
    """A retrieval arm over one dataset: queries in, a ranking of at most ``num_results`` out.

    Subclasses set ``name``, implement :meth:`settings` (what determines the index content) and
    :meth:`_load` (build or load the index), and :meth:`_retrieve` (the search itself).
    """

    name: str = "arm"

    def __init__(self, dataset: Dataset, num_results: int = 1000) -> None:
        if int(num_results) < 1:
            raise InputError(f"arm '{self.name}': depth must be >= 1, got {num_results}",
                             field="num_results")
        self.dataset = dataset
        self.num_results = int(num_results)
        self.index_source: str | None = None  # "cache" or "built" once loaded
        self._loaded = False

    @abstractmethod
    def settings(self) -> dict:
        """The settings that determine the index content (part of the cache key)."""

    @property
    def index_dir(self) -> Path:
        """This arm's cache folder for its dataset's corpus (``meta["corpus_id"]`` where
        variants of a dataset share one corpus, else its id; and the corpus content) and
        settings."""
        corpus_id = self.dataset.meta.get("corpus_id", self.dataset.id)
        return cache_dir(self.name, corpus_id, corpus=corpus_fingerprint(self.dataset),
                         **self.settings())

    @property
    def cache_key(self) -> str:
        """A string identifying dataset and settings, for on-disk candidate caches."""
        return f"{self.name}:{self.dataset.id}:{self.index_dir.name}"

    def describe(self) -> str:
        """One line naming the arm and its settings (for reports)."""
        return f"{self.name}: " + ", ".join(f"{k}={v}" for k, v in self.settings().items())

    def with_depth(self, k: int) -> "Arm":
        """This arm set to return ``k`` results per query (returns self, for chaining)."""
        if int(k) < 1:
            raise InputError(f"arm '{self.name}': depth must be >= 1, got {k}", field="depth")
        self.num_results = int(k)
        return self

    def fuse_rank_cutoff(self, k: int) -> "Arm | None":
        """PyTerrier's ``SupportsFuseRankCutoff``: ``(arm % k).compile()`` is this arm asking
        its index for ``k`` results (a copy sharing the loaded index), not ``num_results``
        then cut; ``self`` when it already returns ``k`` or fewer."""
        if int(k) >= self.num_results:
            return self
        self.load()  # the copy shares the loaded index
        return copy.copy(self).with_depth(int(k))

    def load(self) -> "Arm":
        """Build (first time) or load (cached) the index; safe to call again."""
        if not self._loaded:
            path = self.index_dir
            built = atomic_build(path, self._build)
            problem = None if built else manifest_problem(path)
            if problem is None:
                try:
                    self._open(path)
                except InputError:
                    raise
                except CORRUPT_ERRORS as err:
                    if built:
                        raise InputError(f"the {self.name} index just built does not open "
                                         f"({type(err).__name__}: {err}); clear it with: "
                                         f"rm -r {path}", file=str(path)) from None
                    problem = f"{type(err).__name__}: {err}"
            if problem is not None:
                discard_corrupt(path, f"{self.name} index", problem)
                built = atomic_build(path, self._build)
                self._open(path)
            self.index_source = "built" if built else "cache"
            self._loaded = True
        return self

    @abstractmethod
    def _build(self, path: Path) -> None:
        """Write the index into the (empty, temporary) folder ``path``."""

    @abstractmethod
    def _open(self, path: Path) -> None:
        """Load the index from the complete folder ``path``."""

    @abstractmethod
    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        """Rank for ``queries`` (index reset, non-empty): a ranking frame of the contract."""

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        check_queries(queries, self.name)
        self.load()
        if len(queries) == 0:
            return empty_ranking(queries)
        return self._retrieve(queries.reset_index(drop=True), self.num_results)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset.id!r}, num_results={self.num_results})"
