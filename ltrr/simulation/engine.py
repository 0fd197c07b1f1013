"""The compiled run loop: one run of a built-in policy, from the first query to the last, in
one call of compiled code.

A run of ltrr's own components (a built-in policy, static arms of any kind, ltrr's memory
arm, a built-in click model, fusion as the ranking stage) is played here by
:func:`play_run`, compiled with numba: the step's lists (:func:`~.truths.step_lists`, the
memory's :func:`~ltrr.arms.memory_kernel.memory_search`), every plan's truths
(:func:`~.truths.step_truths`), the context (:func:`~ltrr.selection.context.context_row`),
the policy's decision and update (:mod:`ltrr.selection.policies.kernels`), the clicks
(:func:`~ltrr.kernel.clicks.sample_clicks`), the reward they pay
(:func:`~ltrr.kernel.rewards.page_reward`) and the memory's update. These are the very
functions the per-step loop (:mod:`.loop`) calls one by one from Python, so both give the
same trace; the per-step loop remains for what cannot be compiled (an outside policy, arm,
click model or ranker, a learned ranking stage).

Why one compiled loop per run rather than many runs in lock-step over a run axis: a step's
work is a few microseconds of branchy arithmetic (lists, a pool of at most a few hundred
candidates, a policy's choice), which numpy would spend in call overhead; compiled, a run
of 10,000 queries takes well under a second, the runs of a seed share the seed's cache of
static truths, and cells stay independent (any order, any process).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ltrr.arms.memory_kernel import (MemoryScratch, MemorySeed, MemoryState, MemoryTables,
                                     memory_features, memory_search, memory_update)
from ltrr.kernel.clicks import sample_clicks
from ltrr.kernel.rewards import page_reward
from ltrr.selection.context import FeatureTables, context_row
from ltrr.selection.policies.kernels import SEMIBANDIT, PolicyArrays, choose, update
from ltrr.simulation.truths import (SeedLists, StepBuffers, arm_credit, count_upto, fill_lists,
                                   fill_truths, grade_of)

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


class RunOutputs(NamedTuple):
    """The arrays a run fills, one row per step (see :class:`~.loop.Trace`)."""

    plan: np.ndarray
    propensity: np.ndarray
    clicks_total: np.ndarray
    expected: np.ndarray  # (T, P) expected reward minus plan cost
    recall: np.ndarray
    any_relevant: np.ndarray
    n_relevant: np.ndarray
    shown: np.ndarray  # (T, page)
    clicks: np.ndarray  # (T, page)
    drawn: np.ndarray  # (T, A)
    contexts: np.ndarray  # (T, d)
    reward: np.ndarray
    online_hash: np.ndarray  # (1,) uint64: FNV-1a of the online arm's lists

    @classmethod
    def make(cls, n_steps: int, n_plans: int, page: int, n_arms: int, dim: int) -> "RunOutputs":
        return cls(np.zeros(n_steps, dtype=np.int64), np.zeros(n_steps),
                   np.zeros(n_steps, dtype=np.int64), np.zeros((n_steps, n_plans)),
                   np.full(n_steps, np.nan), np.zeros(n_steps, dtype=np.bool_),
                   np.zeros(n_steps, dtype=np.int64), np.full((n_steps, page), -1, dtype=np.int64),
                   np.zeros((n_steps, page), dtype=np.int8),
                   np.zeros((n_steps, n_arms), dtype=np.int64), np.zeros((n_steps, dim)),
                   np.zeros(n_steps), np.array([FNV_OFFSET], dtype=np.uint64))


class OnlineArm(NamedTuple):
    """The compiled memory arm of a run (``arm`` -1: none; the tables then empty)."""

    arm: int
    tables: MemoryTables
    seed: MemorySeed
    state: MemoryState
    scratch: MemoryScratch
    vocab: np.ndarray  # (D,) memory position -> vocabulary id
    position: np.ndarray  # (V,) vocabulary id -> memory position (-1)


@njit(cache=True)
def fnv_update(h: np.uint64, docs: np.ndarray, scores: np.ndarray, n: int) -> np.uint64:
    """FNV-1a over a list's length, document positions and score bits: the online arm's
    lists of a run, hashed as they are produced."""
    h = (h ^ np.uint64(n)) * FNV_PRIME
    for i in range(n):
        h = (h ^ np.uint64(docs[i])) * FNV_PRIME
        h = (h ^ scores[i:i + 1].view(np.uint64)[0]) * FNV_PRIME
    return h


@njit(cache=True)
def online_lists(tb, on: OnlineArm, t: int, step: int, buf: StepBuffers, out: RunOutputs,
                 docs: np.ndarray, scores: np.ndarray) -> None:
    """The memory arm's list for topic ``t`` at ``step`` into the step's lists (with its
    entries' grades and tie keys; and the run's hash of the lists)."""
    n = memory_search(on.tables, on.seed, on.state, on.scratch, t, step, docs, scores)
    a = on.arm
    for j in range(n):
        d = on.vocab[docs[j]]
        buf.ids[a, j] = d
        buf.scores[a, j] = scores[j]
        buf.grades[a, j] = grade_of(t, d, tb.g_off, tb.g_ids, tb.g_val)
        buf.keys[a, j] = on.seed.doc_keys[docs[j]]
    buf.lengths[a] = n
    out.online_hash[0] = fnv_update(out.online_hash[0], docs, scores, n)


@njit(cache=True)
def learn_clicks(on: OnlineArm, t: int, shown: np.ndarray, clicked: np.ndarray,
                 positions: np.ndarray) -> None:
    """The memory learns the page's clicks on its documents."""
    n = 0
    for j in range(shown.shape[0]):
        if clicked[j] and shown[j] >= 0:
            pos = on.position[shown[j]]
            if pos >= 0:
                positions[n] = pos
                n += 1
    memory_update(on.tables, on.state, t, positions, n)


@njit(cache=True)
def play_run(tb, lists: SeedLists, cache, on: OnlineArm, ft: FeatureTables,
             pa: PolicyArrays, policy_rng, click_rng, stream: np.ndarray, probe_cost: float,
             propensity: bool, buf: StepBuffers, out: RunOutputs) -> None:
    """Play one run over ``stream`` (topic rows) into ``out``.

    ``tb``: the world's :class:`~.world.Tables`; ``lists``/``cache``: the seed's; ``on``:
    the run's memory arm (``arm`` -1: none); ``probe_cost``: what the run pays per query for
    the post-retrieval probe (0 when it reads no probe); ``propensity=False`` skips Thompson
    sampling's quadrature (tuning runs: same decisions).
    """
    model = int(tb.click[0])
    reward_code = int(tb.click[4])
    satisfied = np.full(1, -1, dtype=np.int64)
    contribution = np.zeros(int(tb.click[3]))
    memory = np.zeros(3)
    credit = np.zeros(tb.depths.shape[1])
    doc_buf = np.empty(max(int(tb.list_depth.max()), 1), dtype=np.int64)
    score_buf = np.empty(max(int(tb.list_depth.max()), 1))
    positions = np.empty(int(tb.click[3]), dtype=np.int64)
    semibandit = pa.kind == SEMIBANDIT
    for i in range(stream.shape[0]):
        t = stream[i]
        fill_lists(tb, lists, t, i, buf)
        if on.arm >= 0:
            online_lists(tb, on, t, i, buf, out, doc_buf, score_buf)
            memory_features(on.tables, on.state, t, memory)
        size = fill_truths(tb, cache, t, i, buf)
        x = out.contexts[i]
        context_row(ft, t, i, memory, buf.scores, buf.lengths, x)
        truth = out.expected[i]
        for p in range(truth.shape[0]):
            truth[p] = buf.expected[p] - tb.cost[p]
        plan, prob = choose(pa, x, truth, policy_rng, propensity)
        out.plan[i], out.propensity[i] = plan, prob
        n_clicks = sample_clicks(buf.page_grades[plan], model, tb.p_click, tb.p_stop,
                                 tb.p_satisfy, tb.examination, click_rng, out.clicks[i],
                                 satisfied)
        out.clicks_total[i] = n_clicks
        earned = page_reward(reward_code, out.clicks[i], n_clicks, satisfied[0], contribution)
        reward = earned - tb.cost[plan] - probe_cost
        out.reward[i] = reward
        n_rel = count_upto(tb.r_from, tb.r_off[t], tb.r_off[t + 1], i)
        out.n_relevant[i] = n_rel
        if n_rel > 0:
            out.recall[i] = buf.hits[plan] / n_rel
        out.any_relevant[i] = buf.hits[plan] > 0
        out.shown[i] = buf.pages[plan]
        out.drawn[i] = buf.drawn[plan]
        if semibandit:
            arm_credit(tb.depths[plan], out.shown[i], contribution, buf.docs, buf.ranks,
                       size, credit)
        update(pa, x, plan, reward, credit, policy_rng)
        if on.arm >= 0:
            learn_clicks(on, t, out.shown[i], out.clicks[i], positions)
