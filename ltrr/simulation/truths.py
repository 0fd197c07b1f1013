"""What the simulator knows at one step: every plan's page and expected reward.

:func:`step_lists` takes each arm's list for a topic and step (static arms: the first
``list_depth`` entries released by then of the list the world holds, ordered by the seed's
tie rule; the online arm's list as given); :func:`step_truths` builds the step's candidate
pool and, for every plan, its page (document ids), the grades shown, the expected reward
(the benchmark's ``[reward]``, :mod:`ltrr.kernel.rewards`) under the click model, the
relevant documents its union holds and the candidates it draws.
The pages of plans that draw from no online arm depend only on the topic, the release epoch
and the seed, so they are computed once per seed and epoch and kept in the seed's
:class:`StaticCache`. Both the compiled run loop (:mod:`.engine`) and the per-step loop
(:mod:`.loop`) call these functions, so they agree by construction.

These are the oracle's input and the basis of regret; learning policies never see them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ltrr.kernel.pages import fuse_plans
from ltrr.kernel.pools import build_pool, find_sorted
from ltrr.kernel.rewards import expected_reward_row


class StaticCache(NamedTuple):
    """The static plans' truths of the (topic, release epoch) slots a seed's runs visited:
    ``row[slot]`` (-1: not yet) indexes the other arrays; ``used[0]`` rows are filled."""

    row: np.ndarray  # (n_slots,) int64
    used: np.ndarray  # (1,) int64
    pages: np.ndarray  # (capacity, Ps, page) doc ids, -1 empty
    grades: np.ndarray  # (capacity, Ps, page) 0..4, -1 empty
    expected: np.ndarray  # (capacity, Ps) expected reward
    hits: np.ndarray  # (capacity, Ps)
    drawn: np.ndarray  # (capacity, Ps, A)

    @classmethod
    def empty(cls, n_slots: int, capacity: int, n_static: int, page: int, n_arms: int
              ) -> "StaticCache":
        capacity = max(int(capacity), 0)  # 0: nothing is kept (every step computes)
        return cls(np.full(n_slots, -1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                   np.empty((capacity, n_static, page), dtype=np.int64),
                   np.empty((capacity, n_static, page), dtype=np.int64),
                   np.empty((capacity, n_static)), np.empty((capacity, n_static), dtype=np.int64),
                   np.empty((capacity, n_static, n_arms), dtype=np.int64))


class StepBuffers(NamedTuple):
    """Scratch and output arrays of one step (made once per run)."""

    ids: np.ndarray  # (A, L) the step's lists: doc ids
    scores: np.ndarray  # (A, L) their rounded scores
    grades: np.ndarray  # (A, L) their 0..4 grades for the topic
    keys: np.ndarray  # (A, L) their tie keys (uint64)
    lengths: np.ndarray  # (A,)
    slot: np.ndarray  # (V,) -1: pool index scratch over document ids
    docs: np.ndarray  # (A*L,) the pool's documents
    ranks: np.ndarray  # (A, A*L) ranks in each arm's list
    pool_scores: np.ndarray  # (A, A*L)
    where: np.ndarray  # (A, L) pool index of each list entry
    pool_grades: np.ndarray  # (A*L,)
    pool_keys: np.ndarray  # (A*L,) uint64
    pages: np.ndarray  # (P, page) every plan's page, doc ids
    page_grades: np.ndarray  # (P, page)
    expected: np.ndarray  # (P,) expected reward (cost not subtracted)
    hits: np.ndarray  # (P,)
    drawn: np.ndarray  # (P, A)
    work_pages: np.ndarray  # (P, page) pool indices (scratch)

    @classmethod
    def make(cls, n_arms: int, width: int, n_docs: int, n_plans: int, page: int
             ) -> "StepBuffers":
        width = max(int(width), 1)
        pool = n_arms * width
        return cls(np.full((n_arms, width), -1, dtype=np.int64), np.zeros((n_arms, width)),
                   np.zeros((n_arms, width), dtype=np.int64),
                   np.zeros((n_arms, width), dtype=np.uint64), np.zeros(n_arms, dtype=np.int64), np.full(max(n_docs, 1), -1, dtype=np.int64),
                   np.empty(pool, dtype=np.int64), np.empty((n_arms, pool), dtype=np.int64),
                   np.empty((n_arms, pool)), np.full((n_arms, width), -1, dtype=np.int64),
                   np.empty(pool, dtype=np.int64), np.empty(pool, dtype=np.uint64),
                   np.full((n_plans, page), -1, dtype=np.int64),
                   np.full((n_plans, page), -1, dtype=np.int64), np.zeros(n_plans),
                   np.zeros(n_plans, dtype=np.int64), np.zeros((n_plans, n_arms), dtype=np.int64),
                   np.full((n_plans, page), -1, dtype=np.int64))


@njit(cache=True)
def grade_of(t: int, doc: int, g_off: np.ndarray, g_ids: np.ndarray, g_val: np.ndarray) -> int:
    """The 0..4 grade of ``doc`` for topic ``t`` (0 where unjudged), by bisection."""
    at = find_sorted(g_ids, g_off[t], g_off[t + 1], doc)
    return g_val[at] if at >= 0 else 0


@njit(cache=True)
def count_upto(values: np.ndarray, start: int, stop: int, step: int) -> int:
    """How many of the ascending ``values[start:stop]`` are <= ``step``."""
    lo, hi = start, stop
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] <= step:
            lo = mid + 1
        else:
            hi = mid
    return lo - start


@njit(cache=True)
def step_lists(t: int, step: int, s_off: np.ndarray, s_ids: np.ndarray, s_scores: np.ndarray,
               s_shows: np.ndarray, s_grades: np.ndarray, s_keys: np.ndarray,
               list_depth: np.ndarray, online: np.ndarray, ids: np.ndarray,
               scores: np.ndarray, grades: np.ndarray, keys: np.ndarray,
               lengths: np.ndarray) -> None:
    """Each static arm's list for topic ``t`` at ``step`` (its entries' ids, scores, grades
    and tie keys) into the step's list arrays (arms flagged ``online`` are left as they are:
    the caller fills them)."""
    for a in range(s_off.shape[0]):
        if online[a]:
            continue
        n = 0
        for e in range(s_off[a, t], s_off[a, t + 1]):
            if n >= list_depth[a]:
                break
            if s_shows[e] <= step:
                ids[a, n] = s_ids[e]
                scores[a, n] = s_scores[e]
                grades[a, n] = s_grades[e]
                keys[a, n] = s_keys[e]
                n += 1
        lengths[a] = n


@njit(cache=True)
def step_truths(t: int, step: int, slot_base: np.ndarray, b_off: np.ndarray,
                b_steps: np.ndarray, static_rows: np.ndarray, static_depths: np.ndarray,
                online_rows: np.ndarray, online_depths: np.ndarray, fusion: int, k: float,
                reward: int, model: int, p_click: np.ndarray, p_stop: np.ndarray,
                p_satisfy: np.ndarray, examination: np.ndarray, c_row: np.ndarray,
                c_used: np.ndarray, c_pages: np.ndarray, c_grades: np.ndarray,
                c_expected: np.ndarray, c_hits: np.ndarray,
                c_drawn: np.ndarray, ids: np.ndarray, scores: np.ndarray, list_grades: np.ndarray,
                list_keys: np.ndarray, lengths: np.ndarray,
                slot: np.ndarray, docs: np.ndarray, ranks: np.ndarray, pool_scores: np.ndarray,
                where: np.ndarray, pool_grades: np.ndarray, pool_keys: np.ndarray,
                pages: np.ndarray, page_grades: np.ndarray, expected: np.ndarray,
                hits: np.ndarray, drawn: np.ndarray, work: np.ndarray) -> int:
    """Every plan's page, shown grades, expected reward, union hits and candidates drawn at
    one step, from the step's lists (``ids``/``scores``/``list_grades``/``list_keys``/
    ``lengths``); returns the pool size.

    Static plans (``static_rows``, their depths ``static_depths``) are read from the seed's
    cache for the topic's release epoch, or computed and cached there; online plans are
    computed. The pool (``docs``, ``ranks``, ``where``, ``pool_grades``...) is left filled
    for the caller (the semi-bandit's click credit, a learned ranker's features).
    """
    size = build_pool(ids, scores, lengths, slot, docs, ranks, pool_scores, where, list_grades,
                      list_keys, pool_grades, pool_keys)
    page = pages.shape[1]
    if static_rows.shape[0]:
        epoch = count_upto(b_steps, b_off[t], b_off[t + 1], step)
        at = slot_base[t] + epoch
        row = c_row[at]
        if row < 0 and c_used[0] < c_pages.shape[0]:
            row = c_used[0]
            c_used[0] += 1
            c_row[at] = row
            _fill(static_depths, size, where, pool_scores, scores, lengths, fusion, k,
                  pool_keys, pool_grades, docs, reward, model, p_click, p_stop, p_satisfy,
                  examination, work, c_pages[row], c_grades[row], c_expected[row], c_hits[row],
                  c_drawn[row])
        if row >= 0:
            for i in range(static_rows.shape[0]):
                p = static_rows[i]
                pages[p] = c_pages[row, i]
                page_grades[p] = c_grades[row, i]
                expected[p] = c_expected[row, i]
                hits[p] = c_hits[row, i]
                drawn[p] = c_drawn[row, i]
        else:  # the cache is full: compute in place
            _fill_rows(static_rows, static_depths, size, where, pool_scores, scores, lengths,
                       fusion, k, pool_keys, pool_grades, docs, reward, model, p_click,
                       p_stop, p_satisfy, examination, work, pages, page_grades, expected, hits,
                       drawn)
    if online_rows.shape[0]:
        _fill_rows(online_rows, online_depths, size, where, pool_scores, scores, lengths,
                   fusion, k, pool_keys, pool_grades, docs, reward, model, p_click, p_stop,
                   p_satisfy, examination, work, pages, page_grades, expected, hits, drawn)
    return size


@njit(cache=True)
def _show(page: np.ndarray, docs: np.ndarray, pool_grades: np.ndarray, out_page: np.ndarray,
          out_grades: np.ndarray) -> None:
    """A page of pool indices (-1: empty) as document ids and grades."""
    for j in range(out_page.shape[0]):
        u = page[j]
        out_page[j] = -1 if u < 0 else docs[u]
        out_grades[j] = -1 if u < 0 else pool_grades[u]


@njit(cache=True)
def _fill(depths, size, where, pool_scores, scores, lengths, fusion, k, pool_keys,
          pool_grades, docs, reward, model, p_click, p_stop, p_satisfy, examination, work,
          out_pages, out_grades, out_expected, out_hits, out_drawn) -> None:
    """Truths of the plans ``depths`` into the ``out_*`` rows (one per plan)."""
    n = depths.shape[0]
    fuse_plans(where, pool_scores, size, scores, lengths, depths, fusion, k, pool_keys,
               pool_grades, work[:n], out_hits, out_drawn)
    for i in range(n):
        _show(work[i], docs, pool_grades, out_pages[i], out_grades[i])
        out_expected[i] = expected_reward_row(out_grades[i], reward, model, p_click, p_stop,
                                              p_satisfy, examination)


@njit(cache=True)
def _fill_rows(rows, depths, size, where, pool_scores, scores, lengths, fusion, k, pool_keys,
               pool_grades, docs, reward, model, p_click, p_stop, p_satisfy, examination, work,
               pages, page_grades, expected, hits, drawn) -> None:
    """Truths of the plans ``rows`` (depths ``depths``) into the full per-plan arrays."""
    n = rows.shape[0]
    sub_hits = np.empty(n, dtype=np.int64)
    sub_drawn = np.empty((n, depths.shape[1]), dtype=np.int64)
    fuse_plans(where, pool_scores, size, scores, lengths, depths, fusion, k, pool_keys,
               pool_grades, work[:n], sub_hits, sub_drawn)
    for i in range(n):
        p = rows[i]
        _show(work[i], docs, pool_grades, pages[p], page_grades[p])
        expected[p] = expected_reward_row(page_grades[p], reward, model, p_click, p_stop,
                                          p_satisfy, examination)
        hits[p] = sub_hits[i]
        drawn[p] = sub_drawn[i]


@njit(cache=True)
def arm_credit(plan_depths: np.ndarray, shown: np.ndarray, contribution: np.ndarray,
               docs: np.ndarray, ranks: np.ndarray, size: int, credit: np.ndarray) -> None:
    """The reward each arm earned under the plan: the per-position ``contribution`` of the
    shown documents it retrieved (a document several arms retrieved credits each; with the
    ``clicks`` reward, its clicks), into ``credit`` ``(A,)``."""
    credit[:] = 0.0
    for i in range(shown.shape[0]):
        if shown[i] < 0 or contribution[i] == 0.0:
            continue
        for u in range(size):
            if docs[u] == shown[i]:
                for a in range(plan_depths.shape[0]):
                    if ranks[a, u] < plan_depths[a]:
                        credit[a] += contribution[i]
                break


class SeedLists(NamedTuple):
    """The world's static lists in a seed's order (each list by rounded score, then the
    seed's tie key), with each entry's release step, grade and tie key."""

    ids: np.ndarray
    scores: np.ndarray
    shows: np.ndarray
    grades: np.ndarray
    keys: np.ndarray


@njit(cache=True)
def fill_lists(tb, lists: SeedLists, t: int, step: int, buf: StepBuffers) -> None:
    """:func:`step_lists` from the world's tables ``tb`` and a seed's ``lists``."""
    step_lists(t, step, tb.s_off, lists.ids, lists.scores, lists.shows, lists.grades,
               lists.keys, tb.list_depth, tb.online, buf.ids, buf.scores, buf.grades,
               buf.keys, buf.lengths)


@njit(cache=True)
def fill_truths(tb, cache: StaticCache, t: int, step: int, buf: StepBuffers) -> int:
    """:func:`step_truths` of the step's lists in ``buf``, from the world's tables ``tb``
    and the seed's ``cache``; returns the pool size."""
    return step_truths(t, step, tb.slot_base, tb.b_off, tb.b_steps, tb.static_rows,
                       tb.static_depths, tb.online_rows, tb.online_depths, int(tb.click[1]),
                       tb.click[2], int(tb.click[4]), int(tb.click[0]), tb.p_click, tb.p_stop,
                       tb.p_satisfy, tb.examination,
                       cache.row, cache.used, cache.pages, cache.grades, cache.expected,
                       cache.hits, cache.drawn, buf.ids, buf.scores, buf.grades, buf.keys,
                       buf.lengths, buf.slot, buf.docs, buf.ranks, buf.pool_scores, buf.where,
                       buf.pool_grades, buf.pool_keys, buf.pages, buf.page_grades, buf.expected,
                       buf.hits, buf.drawn, buf.work_pages)
