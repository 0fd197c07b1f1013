"""Per-arm candidate lists for every topic, computed once and cached on disk.

A benchmark sweeps many policies and seeds over the same topics; the static arms
(everything but the memory of clicks) return the same candidates for a topic every
time, so each arm is asked once for all topics at the deepest depth a plan can use.
The lists are stored as ``.npz`` (docnos as fixed-width strings, scores, per-topic
offsets) under ``LTRR_HOME/candidates/``, keyed by the arm's ``cache_key``, the depth
and a hash of the topics; a later run (or another policy) loads them in milliseconds. A
cached file that does not read back whole (truncated, damaged, or not the lists of these
topics) is reported on stderr with its path and computed again.

Documents released during the stream are hidden until their release step, so a list cut at
depth ``k`` before hiding would come up short; and which of several documents tied at the
cut are kept must not be the arm's choice. :func:`complete_lists` asks each arm deep enough
that, at every step, the first ``k`` *released* entries of its ranking are there with every
entry tied with the last of them (scores compared at a stated precision,
:mod:`ltrr.kernel.ties`).

In the loop the lists become int arrays over a document vocabulary
(:class:`ltrr.simulation.vocabulary.DocIds`), so the loop works on integers only.

On a dataset scored with BEIR's ``ignore_identical_ids`` (:mod:`ltrr.datasets.identical_ids`)
each arm is asked for one more candidate, the document whose id equals the query id is
dropped and the list cut to the depth, as ``ltrr arms`` and BEIR's own retrievers do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

from ltrr.datasets.identical_ids import ignores_identical_ids, retrieve
from ltrr.paths import (discard_corrupt, ltrr_home, remove_stale_temporaries,
                        write_atomically)


@dataclass
class ArmLists:
    """One arm's ranked candidates for every topic (docnos best first, with scores)."""

    docnos: list[np.ndarray]
    scores: list[np.ndarray]


def topics_hash(topics: pd.DataFrame) -> str:
    """A stable hash of the topics' ``qid`` and ``query`` columns."""
    blob = "\n".join(f"{q}\t{t}" for q, t in zip(topics["qid"].astype(str), topics["query"]))
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def drops_identical_ids(arm) -> bool:
    """Whether the arm's dataset is scored with BEIR's ``ignore_identical_ids``."""
    return ignores_identical_ids(getattr(arm, "dataset", None))


def cache_path(arm, depth: int, topics: pd.DataFrame) -> Path:
    """Where an arm's candidate lists for these topics at this depth are cached."""
    blob = f"{arm.cache_key}|{depth}|{topics_hash(topics)}"
    if drops_identical_ids(arm):
        blob += "|ignore_identical_ids"
    key = hashlib.sha1(blob.encode()).hexdigest()
    return ltrr_home() / "candidates" / f"{arm.name}-{key[:16]}.npz"


def arm_lists(arm, topics: pd.DataFrame, depth: int) -> ArmLists:
    """The arm's top-``depth`` candidates for each topic row, from the cache or computed."""
    path = cache_path(arm, depth, topics)
    if path.exists():
        cached, problem = _read(path, len(topics))
        if cached is not None:
            return cached
        discard_corrupt(path, "candidate list", problem)
    queries = topics[["qid", "query"]].reset_index(drop=True).copy()
    queries["qid"] = queries["qid"].astype(str)
    ranking, _ = retrieve(arm, queries, depth, drops_identical_ids(arm))
    position = pd.Series(np.arange(len(queries)), index=queries["qid"].to_numpy())
    rows = position.reindex(ranking["qid"].astype(str).to_numpy()).to_numpy()
    order = np.lexsort((ranking["rank"].to_numpy(), rows))
    rows = rows[order]
    docnos = ranking["docno"].astype(str).to_numpy()[order]
    scores = ranking["score"].to_numpy(dtype=float)[order]
    offsets = np.searchsorted(rows, np.arange(len(queries) + 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as out:
            np.savez(out, docnos=docnos.astype(str), scores=scores, offsets=offsets)

    write_atomically(path, save)
    return _split(docnos, scores, offsets)


def _read(path: Path, n_topics: int) -> tuple[ArmLists | None, str]:
    """The lists cached at ``path``, or None and what is wrong with the file."""
    import zipfile

    try:
        with np.load(path) as data:
            docnos, scores, offsets = data["docnos"], data["scores"], data["offsets"]
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as err:
        return None, f"{type(err).__name__}: {err}"
    if (offsets.shape != (n_topics + 1,) or len(docnos) != len(scores)
            or (n_topics and (offsets[0] != 0 or offsets[-1] != len(docnos)
                              or (np.diff(offsets) < 0).any()))):
        return None, f"its offsets do not cut {len(docnos)} entries into {n_topics} topics"
    return _split(docnos, scores, offsets), ""


def complete_lists(arm, topics: pd.DataFrame, depth: int, late: pd.Series) -> ArmLists:
    """The arm's ranking per topic, deep enough for the loop at every step, with scores
    rounded to :data:`ltrr.kernel.ties.SCORE_DIGITS` significant digits.

    At every step the loop takes an arm's first ``depth`` entries released by then, after
    ordering the list by (rounded score, seeded tie key): the *whole* group of entries tied
    with the last of them must be in the list, or which tied entries make the cut would be
    decided by the arm's own order (its index, or docno). So a topic's list holds, from the
    arm's ranking, every entry down to the end of the tie group of its ``depth``-th entry
    that is out from the start (an entry released later only ever adds to what is out, so
    nothing beyond that group can reach the top ``depth`` at any step). A list that is full
    (as long as asked) but ends inside that group, or holds fewer than ``depth`` entries out
    from the start, is asked again deeper (doubling), until the arm has no more to give.
    Every call goes through :func:`arm_lists` and its on-disk cache.
    """
    from ltrr.kernel.ties import round_scores

    late_docnos = np.asarray(late.index.astype(str), dtype=str)
    ask = depth + 1  # one beyond: is the entry after the cut tied with it?
    todo = np.arange(len(topics))
    docnos: list[np.ndarray] = [np.empty(0, str)] * len(topics)
    scores: list[np.ndarray] = [np.empty(0)] * len(topics)
    while len(todo):
        part = topics if len(todo) == len(topics) else topics.iloc[todo]
        lists = arm_lists(arm, part, ask)
        lengths = np.array([len(d) for d in lists.docnos], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        flat = np.concatenate(lists.docnos) if len(lists.docnos) else np.empty(0, str)
        rounded = round_scores(np.concatenate(lists.scores) if len(lists.scores) else [])
        is_late = np.isin(flat, late_docnos) if len(late_docnos) else \
            np.zeros(len(flat), dtype=bool)
        ends = list_ends(offsets, rounded, is_late, depth)
        again = []
        for i, t in enumerate(todo.tolist()):
            end = ends[i]
            if end < 0 and lengths[i] >= ask:  # full, and the cut is not settled yet
                again.append(t)
                continue
            end = lengths[i] if end < 0 else end
            lo = offsets[i]
            docnos[t], scores[t] = flat[lo:lo + end], rounded[lo:lo + end]
        todo = np.array(again, dtype=np.int64)
        ask *= 2
    return ArmLists(docnos, scores)


@njit(cache=True)
def list_ends(offsets: np.ndarray, rounded: np.ndarray, is_late: np.ndarray,
              depth: int) -> np.ndarray:
    """Per list (``offsets`` into the concatenated lists), where it can end: past the tie
    group of its ``depth``-th entry out from the start; -1 when the list does not show
    where that group ends."""
    n = offsets.shape[0] - 1
    ends = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        lo, hi = offsets[i], offsets[i + 1]
        seen = 0
        cut = -1
        for e in range(lo, hi):
            if not is_late[e]:
                seen += 1
                if seen == depth:
                    cut = e
                    break
        if cut < 0:
            continue
        for e in range(cut + 1, hi):
            if rounded[e] < rounded[cut]:
                ends[i] = e - lo
                break
    return ends


def _split(docnos: np.ndarray, scores: np.ndarray, offsets: np.ndarray) -> ArmLists:
    bounds = list(zip(offsets[:-1], offsets[1:]))
    return ArmLists([docnos[a:b] for a, b in bounds], [scores[a:b] for a, b in bounds])
