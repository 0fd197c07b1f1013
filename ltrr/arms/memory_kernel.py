"""The memory arm inside the interaction loop, compiled: search and learn per step.

The loop only ever asks the memory for the stream's topics, so what clicks never change is
computed once per benchmark (:func:`compile_memory`): each topic's normalised query (its
*key*), the key's cosine with every predicted query (a list sorted by similarity, cut where
no switched-off row can matter) and with every other key (clicked queries are always keys),
and the predicted queries' entries. A run's state (:class:`MemoryState`) is the click
counts per key, kept as linked lists of (document, count) entries.

The rules are :class:`~ltrr.arms.memory.MemoryArm`'s, with every order made explicit:

- the ``neighbours`` stored queries most similar to the key are matched, the exact key
  weighing ``exact_weight``; a predicted query is switched off once the same query has a
  click (clicks replace predictions); ties in similarity go to the smaller seeded hash of the
  stored query's text (:func:`~ltrr.kernel.ties.tie_keys`), never to the order the
  queries were generated in;
- an entity's score is the similarity-weighted sum of its scores under the matched queries
  (predicted: the predicted score; clicked: ``clicks(q, d) / (issues(q) + 1)``), summed in
  the order the neighbours were matched; scores are compared at
  :data:`~ltrr.kernel.ties.SCORE_DIGITS` significant digits and ties go to the seeded key
  of the document;
- entities not released by the step, and (on BEIR data) the document whose id is the
  query's, are left out before the top ``depth`` is taken.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp
from numba import njit

from ltrr.kernel.ties import SCORE_DIGITS, digests, round_scores, round_significant, seeded

PRED, CLICK = 0, 1


class MemoryTables(NamedTuple):
    """What clicks never change, for the stream's topics (see the module doc)."""

    topic_key: np.ndarray  # (T,) key of each topic row (-1: a query without tokens)
    exact_row: np.ndarray  # (K,) the predicted query equal to the key (-1: none)
    row_key: np.ndarray  # (R,) the key a predicted query equals (-1: none)
    p_off: np.ndarray  # (K+1,) per key: predicted queries by similarity, descending
    p_rows: np.ndarray
    p_sims: np.ndarray
    c_off: np.ndarray  # (K+1,) per key: the other keys with a positive cosine
    c_keys: np.ndarray
    c_sims: np.ndarray
    d_off: np.ndarray  # (R+1,) per predicted query: its (document, score) entries
    d_docs: np.ndarray
    d_vals: np.ndarray
    release: np.ndarray  # (D,) step from which each memory document is out
    own_doc: np.ndarray  # (T,) the document a topic may not return (BEIR), or -1
    params: np.ndarray  # [neighbours, exact_weight, depth]


class MemorySeed(NamedTuple):
    """A seed's tie keys: of stored queries (predicted rows and keys) and documents."""

    row_hash: np.ndarray  # (R,) uint64
    key_hash: np.ndarray  # (K,) uint64
    doc_keys: np.ndarray  # (D,) uint64


class MemoryState(NamedTuple):
    """One run's clicks: per key its issues, clicks and entries (a linked list)."""

    issues: np.ndarray  # (K,) int64
    clicks: np.ndarray  # (K,) int64 clicks on memory documents
    head: np.ndarray  # (K,) first entry, -1
    next: np.ndarray  # (E,) next entry of the same key, -1
    doc: np.ndarray  # (E,)
    count: np.ndarray  # (E,)
    used: np.ndarray  # (1,) entries in use

    @classmethod
    def empty(cls, n_keys: int, capacity: int) -> "MemoryState":
        capacity = max(int(capacity), 1)
        return cls(np.zeros(n_keys, dtype=np.int64), np.zeros(n_keys, dtype=np.int64),
                   np.full(n_keys, -1, dtype=np.int64), np.full(capacity, -1, dtype=np.int64),
                   np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.int64),
                   np.zeros(1, dtype=np.int64))


class MemoryScratch(NamedTuple):
    """Per-run scratch of a search."""

    score: np.ndarray  # (D,) float64, zeros
    touched: np.ndarray  # (D,) int64
    mark: np.ndarray  # (D,) bool
    cand_value: np.ndarray  # (C,) float64
    cand_hash: np.ndarray  # (C,) uint64
    cand_kind: np.ndarray  # (C,) int64
    cand_index: np.ndarray  # (C,) int64
    chosen: np.ndarray  # (neighbours,) int64
    top: np.ndarray  # (depth,) int64

    @classmethod
    def make(cls, n_docs: int, candidates: int, neighbours: int, depth: int) -> "MemoryScratch":
        c = max(int(candidates), 1)
        return cls(np.zeros(max(n_docs, 1)), np.empty(max(n_docs, 1), dtype=np.int64),
                   np.zeros(max(n_docs, 1), dtype=np.bool_), np.empty(c), np.empty(c, np.uint64),
                   np.empty(c, np.int64), np.empty(c, np.int64),
                   np.empty(max(neighbours, 1), np.int64), np.empty(max(depth, 1), np.int64))


def normalised_keys(queries: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Each query's key index (-1 for a query without tokens) and the distinct keys."""
    from ltrr.arms.memory import normalise

    index: dict[str, int] = {}
    of = np.full(len(queries), -1, dtype=np.int64)
    for i, q in enumerate(queries):
        key = normalise(q)
        if key:
            of[i] = index.setdefault(key, len(index))
    return of, list(index)


def compile_memory(arm, queries: Sequence[str], depth: int, release: np.ndarray,
                   own_doc: np.ndarray) -> tuple[MemoryTables, list[str], list[str]]:
    """The memory ``arm``'s tables for the stream's ``queries`` (one per topic row).

    ``release``: per memory document (``arm.docnos`` order) the step it is out from;
    ``own_doc``: per topic the memory document it may not return (-1: none). Returns the
    tables, the keys' texts and the predicted queries' texts (for the seed's hashes).
    """
    arm.load()
    topic_key, keys = normalised_keys(queries)
    n_keys = len(keys)
    rows_text = list(arm._pred_index)  # row order: the index's
    n_rows = len(rows_text)
    vecs = arm._vectorizer.transform(keys).tocsr() if n_keys else sp.csr_matrix((0, 0))
    exact_row = np.array([arm._pred_index.get(k, -1) for k in keys], dtype=np.int64)
    row_key = np.full(n_rows, -1, dtype=np.int64)
    row_key[exact_row[exact_row >= 0]] = np.flatnonzero(exact_row >= 0)
    neighbours = int(arm.neighbours)
    p_off, p_rows, p_sims = [0], [], []
    if n_keys:
        sims = (vecs @ arm._pred_terms).tocsr()
        rounded = round_scores(sims.data)
        for k in range(n_keys):
            cols = sims.indices[sims.indptr[k]:sims.indptr[k + 1]].astype(np.int64)
            vals = rounded[sims.indptr[k]:sims.indptr[k + 1]]
            keep = (vals > 0) & (cols != exact_row[k])
            cols, vals = cols[keep], vals[keep]
            order = np.lexsort((cols, -vals))
            cols, vals = cols[order], vals[order]
            cols, vals = _cut_neighbours(cols, vals, row_key, neighbours)
            p_rows.append(cols)
            p_sims.append(vals)
            p_off.append(p_off[-1] + len(cols))
        pair = (vecs @ vecs.T).tocsr()
        pair.setdiag(0)
        pair.eliminate_zeros()
        c_off = pair.indptr.astype(np.int64)
        c_keys = pair.indices.astype(np.int64)
        c_sims = round_scores(pair.data)
    else:
        c_off, c_keys, c_sims = np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0)
    docs = arm._pred_docs.tocsr()
    tables = MemoryTables(
        topic_key, exact_row, row_key, np.asarray(p_off, dtype=np.int64),
        np.concatenate(p_rows) if p_rows else np.zeros(0, np.int64),
        np.concatenate(p_sims) if p_sims else np.zeros(0),
        c_off, c_keys, c_sims, docs.indptr.astype(np.int64), docs.indices.astype(np.int64),
        docs.data.astype(np.float64), np.asarray(release, dtype=np.int64),
        np.asarray(own_doc, dtype=np.int64),
        np.array([neighbours, float(arm.exact_weight), int(depth)], dtype=np.float64))
    return tables, keys, rows_text


def _cut_neighbours(rows: np.ndarray, sims: np.ndarray, row_key: np.ndarray, neighbours: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A key's predicted queries by similarity, cut after the tie group of its
    ``neighbours``-th row that no click can switch off: beyond it, no row can ever be
    matched."""
    fixed = np.flatnonzero(row_key[rows] < 0)
    if len(fixed) < neighbours:
        return rows, sims
    last = sims[fixed[neighbours - 1]]
    end = fixed[neighbours - 1] + int(np.sum(sims[fixed[neighbours - 1]:] >= last))
    return rows[:end], sims[:end]


def query_digests(tables: MemoryTables, keys: list[str], rows_text: list[str]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Digests of the stored queries the tables can match (predicted rows; 0 for the rows
    no key can reach) and of the keys: made once, mixed with each seed by
    :func:`seed_hashes`. A stored query's digest is its text's, so a clicked query and the
    predicted query it switches off share it."""
    row_digest = np.zeros(len(tables.row_key), dtype=np.uint64)
    rows = np.unique(np.concatenate([tables.p_rows, tables.exact_row[tables.exact_row >= 0]]))
    row_digest[rows] = digests([f"q|{rows_text[r]}" for r in rows.tolist()])
    return row_digest, digests([f"q|{k}" for k in keys])


def seed_hashes(row_digest: np.ndarray, key_digest: np.ndarray, seed: int,
                doc_keys: np.ndarray) -> MemorySeed:
    """The seed's tie keys of the stored queries (:func:`query_digests`) and the documents."""
    return MemorySeed(seeded(row_digest, seed), seeded(key_digest, seed),
                      np.ascontiguousarray(doc_keys, dtype=np.uint64))


@njit(cache=True)
def _goes_before(value: float, hash_: np.uint64, other_value: float,
                 other_hash: np.uint64) -> bool:
    if value != other_value:
        return value > other_value
    return hash_ < other_hash


@njit(cache=True)
def memory_search(tables: MemoryTables, seed: MemorySeed, state: MemoryState,
                  scratch: MemoryScratch, t: int, step: int, out_doc: np.ndarray,
                  out_score: np.ndarray) -> int:
    """The memory's top ``depth`` documents for topic row ``t`` at ``step`` (memory document
    positions and rounded scores, best first, into ``out_doc``/``out_score``); returns how
    many."""
    key = tables.topic_key[t]
    if key < 0:
        return 0
    neighbours = int(tables.params[0])
    exact_weight = tables.params[1]
    depth = int(tables.params[2])
    n = 0
    clicked_key = state.clicks[key] > 0
    # candidates: the exact key, the predicted queries still on, the other clicked keys
    if clicked_key:
        scratch.cand_value[n] = exact_weight
        scratch.cand_hash[n] = seed.key_hash[key]
        scratch.cand_kind[n] = CLICK
        scratch.cand_index[n] = key
        n += 1
    elif tables.exact_row[key] >= 0:
        scratch.cand_value[n] = exact_weight
        scratch.cand_hash[n] = seed.row_hash[tables.exact_row[key]]
        scratch.cand_kind[n] = PRED
        scratch.cand_index[n] = tables.exact_row[key]
        n += 1
    taken = 0
    last = 0.0
    for e in range(tables.p_off[key], tables.p_off[key + 1]):
        row = tables.p_rows[e]
        owner = tables.row_key[row]
        if owner >= 0 and state.clicks[owner] > 0:
            continue  # switched off: its query has clicks now
        value = tables.p_sims[e]
        if taken >= neighbours and value < last:
            break
        if n >= scratch.cand_value.shape[0]:
            break
        scratch.cand_value[n] = value
        scratch.cand_hash[n] = seed.row_hash[row]
        scratch.cand_kind[n] = PRED
        scratch.cand_index[n] = row
        n += 1
        taken += 1
        last = value
    for e in range(tables.c_off[key], tables.c_off[key + 1]):
        other = tables.c_keys[e]
        if state.clicks[other] > 0 and n < scratch.cand_value.shape[0]:
            scratch.cand_value[n] = tables.c_sims[e]
            scratch.cand_hash[n] = seed.key_hash[other]
            scratch.cand_kind[n] = CLICK
            scratch.cand_index[n] = other
            n += 1
    # the best ``neighbours`` candidates by (similarity desc, hash asc)
    chosen = scratch.chosen
    filled = 0
    for c in range(n):
        if filled == neighbours and not _goes_before(
                scratch.cand_value[c], scratch.cand_hash[c],
                scratch.cand_value[chosen[filled - 1]], scratch.cand_hash[chosen[filled - 1]]):
            continue
        at = filled if filled < neighbours else neighbours - 1
        while at > 0 and _goes_before(scratch.cand_value[c], scratch.cand_hash[c],
                                      scratch.cand_value[chosen[at - 1]],
                                      scratch.cand_hash[chosen[at - 1]]):
            chosen[at] = chosen[at - 1]
            at -= 1
        chosen[at] = c
        if filled < neighbours:
            filled += 1
    # entity scores, summed in the order the neighbours were chosen
    score, touched, mark = scratch.score, scratch.touched, scratch.mark
    n_touched = 0
    for i in range(filled):
        c = chosen[i]
        sim = scratch.cand_value[c]
        if scratch.cand_kind[c] == PRED:
            row = scratch.cand_index[c]
            for e in range(tables.d_off[row], tables.d_off[row + 1]):
                d = tables.d_docs[e]
                if not mark[d]:
                    mark[d] = True
                    touched[n_touched] = d
                    n_touched += 1
                score[d] += tables.d_vals[e] * sim
        else:
            other = scratch.cand_index[c]
            weight = sim / (state.issues[other] + 1.0)
            e = state.head[other]
            while e >= 0:
                d = state.doc[e]
                if not mark[d]:
                    mark[d] = True
                    touched[n_touched] = d
                    n_touched += 1
                score[d] += weight * state.count[e]
                e = state.next[e]
    # the top ``depth`` released documents by (rounded score desc, key asc)
    top = scratch.top
    kept = 0
    own = tables.own_doc[t]
    for i in range(n_touched):
        d = touched[i]
        value = round_significant(score[d], SCORE_DIGITS)
        score[d] = 0.0
        mark[d] = False
        if not value > 0 or tables.release[d] > step or d == own:
            continue
        h = seed.doc_keys[d]
        if kept == depth and not _goes_before(value, h, out_score[kept - 1], seed.doc_keys[top[kept - 1]]):
            continue
        at = kept if kept < depth else depth - 1
        while at > 0 and _goes_before(value, h, out_score[at - 1], seed.doc_keys[top[at - 1]]):
            top[at] = top[at - 1]
            out_score[at] = out_score[at - 1]
            at -= 1
        top[at] = d
        out_score[at] = value
        if kept < depth:
            kept += 1
    for i in range(kept):
        out_doc[i] = top[i]
    return kept


@njit(cache=True)
def memory_update(tables: MemoryTables, state: MemoryState, t: int, clicked_docs: np.ndarray,
                  n_clicked: int) -> None:
    """One issue of topic row ``t``'s query with the memory documents clicked on it."""
    key = tables.topic_key[t]
    if key < 0:
        return
    state.issues[key] += 1
    for i in range(n_clicked):
        d = clicked_docs[i]
        e = state.head[key]
        found = -1
        tail = -1
        while e >= 0:
            if state.doc[e] == d:
                found = e
                break
            tail = e
            e = state.next[e]
        if found < 0:
            found = state.used[0]
            state.used[0] += 1
            state.doc[found] = d
            state.count[found] = 0
            state.next[found] = -1
            if tail < 0:
                state.head[key] = found
            else:
                state.next[tail] = found
        state.count[found] += 1
        state.clicks[key] += 1


@njit(cache=True)
def memory_features(tables: MemoryTables, state: MemoryState, t: int, out: np.ndarray) -> None:
    """The ``memory`` feature group of topic row ``t`` (``mem:seen``, ``mem:ctr``,
    ``mem:issues``) into ``out`` (3,)."""
    key = tables.topic_key[t]
    if key < 0:
        out[0] = 0.0
        out[1] = 0.0
        out[2] = 0.0
        return
    issues = state.issues[key]
    out[0] = 1.0 if issues > 0 else 0.0
    ctr = state.clicks[key] / issues if issues > 0 else 0.0
    out[1] = ctr / (1.0 + ctr)
    out[2] = min(np.log1p(issues) / np.log1p(100.0), 1.0)
