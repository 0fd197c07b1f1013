"""The interaction loop: stream -> policy -> arms -> fusion -> page -> clicks -> learning.

:class:`~ltrr.simulation.world.World` holds what every run of a benchmark shares and
prepares it once (:mod:`.world`); :func:`run_policy` plays one policy on one seed's stream.

Per interaction (one query of the stream):

1. every arm's candidates: static arms from the world's lists, the memory arm online;
   documents not yet released are hidden from every arm *before* its top ``k`` is taken;
   scores are compared at a stated precision and ties go to keys seeded by the run, never
   to docno (:mod:`ltrr.kernel.ties`);
2. the page every plan would show (:func:`~.truths.step_truths`: fusion with the same tie
   rule) and its expected reward (the benchmark's ``[reward]``) under the click model: the
   simulator's truths, used for the oracle and regret, never shown to learning policies;
3. the topic's context features (:class:`ltrr.selection.context.ContextFeaturizer`); with
   ``post_retrieval`` features they read each probed arm's top ``probe_depth`` scores, and
   a policy that reads the context pays for that probe (:class:`~.world.Probe`);
4. ``policy.choose`` -> plan; its page is shown; clicks are sampled from the run's
   seeded Generator; reward = what the page earned (:mod:`ltrr.kernel.rewards`: clicks,
   any click, the first click's reciprocal rank, or a satisfied click) - the plan's cost -
   the probe's cost (if paid);
5. ``policy.update`` with the reward (and, for policies that ask, each arm's share of it);
   the memory arm learns the clicked documents.

**Exploration** (``[ranking] logging = "plackett-luce"``, :class:`LoopSettings`
``exploration``): step 4 shows a Plackett-Luce sample over the ranking stage's scores of the
chosen plan's union (the fusion's, or a learned ranker's once it has a model) instead of its
top page, drawn from a Generator seeded by the run (:func:`exploration_generator`, apart from
the clicks'), and records per shown position the sample's exact probabilities
(:class:`PageProbabilities`, :mod:`ltrr.kernel.stochastic`). The simulator's truths (every
plan's expected reward, the oracle, regret) stay those of the top pages; the reward and
clicks are the shown page's. Such runs play the per-step loop. With ``[ranking] target``
they also record a trained ranker's page of the same union at each step (the page that
ranker would have shown), so the log holds obp's evaluation-policy columns for it.

Two paths play it, with the same step functions: runs of ltrr's own components go through
the compiled loop (:mod:`.engine`), everything else (an outside policy, click model or
online arm, a learned ranking stage) through :func:`play_per_step` here, one Python step at
a time. Everything is recorded in a :class:`Trace` (arrays over steps) for metrics and the
decision log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ltrr.contracts import ability
from ltrr.kernel.pages import rank_plans
from ltrr.kernel.pools import CandidatePool
from ltrr.kernel.rewards import page_reward
from ltrr.kernel.stochastic import LoggedPage
from ltrr.simulation.engine import (RunOutputs, learn_clicks, online_lists,
                                    play_run)
from ltrr.simulation.truths import StepBuffers, count_upto, fill_lists, fill_truths
from ltrr.arms.memory_kernel import memory_features
from ltrr.selection.context import ContextFeaturizer
from ltrr.simulation.truths import arm_credit
from ltrr.simulation.world import LoopSettings, World

__all__ = ["LoopSettings", "Trace", "World", "pays_probe", "run_policy"]


@dataclass
class Trace:
    """What one run did and what the simulator knew, as arrays over steps."""

    topic: np.ndarray
    plan: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray  # what the page earned - plan cost - probe cost (when paid)
    clicks_total: np.ndarray
    expected: np.ndarray  # (T, P) expected reward minus plan cost, of every plan
    recall: np.ndarray  # NaN where the topic had no released relevant document
    any_relevant: np.ndarray
    n_relevant: np.ndarray  # relevant documents released by each step
    shown: np.ndarray  # (T, page) doc ids, -1 empty
    clicks: np.ndarray  # (T, page) 0/1
    drawn: np.ndarray  # (T, A) candidates drawn per arm by the plan
    contexts: np.ndarray  # (T, d)
    cost: np.ndarray  # plan cost + probe cost (when paid)
    probe_cost: float = 0.0  # per query, charged to this run (0 when it paid no probe)
    probe_calls: int = 0
    probe_candidates: int = 0
    list_hashes: dict = field(default_factory=dict)  # arm -> hash of the lists it gave
    latency: np.ndarray | None = None  # ms per query (plan + probe), when latencies are declared
    pages: PageProbabilities | None = None  # the shown pages' probabilities, when exploring


@dataclass
class PageProbabilities:
    """An exploring run's probabilities of its shown pages, as arrays over steps (NaN past a
    page's end): obp's ``pscore_cascade`` and ``pscore_item_position`` per position, and each
    shown item's probability of every position (PBM-IPS's ``pscore_positions``)."""

    cascade: np.ndarray  # (T, page) P(the page starts with its top k + 1)
    item_position: np.ndarray  # (T, page) P(the item shown at k is shown at k)
    positions: np.ndarray  # (T, page, page) P(the item shown at k is shown at each position)
    target: np.ndarray | None = None  # (T, page) the target ranker's page, doc ids (-1 empty)

    @classmethod
    def make(cls, steps: int, page: int, target: bool = False) -> "PageProbabilities":
        return cls(np.full((steps, page), np.nan), np.full((steps, page), np.nan),
                   np.full((steps, page, page), np.nan),
                   np.full((steps, page), -1, dtype=np.int64) if target else None)

    def record(self, step: int, logged: LoggedPage) -> None:
        n = len(logged.shown)
        self.cascade[step, :n] = logged.cascade
        self.item_position[step, :n] = logged.item_position
        self.positions[step, :n] = logged.positions


def pays_probe(world: World, policy, featurizer) -> bool:
    """Whether ``policy`` pays the world's post-retrieval probe: it does when the benchmark
    has one, the policy's features read it (``featurizer.needs_candidates``) and the policy
    reads the context (``uses_context``, True unless a policy says otherwise)."""
    return (world.probe is not None and ability(featurizer, "featurizer", "needs_candidates")
            and ability(policy, "policy", "uses_context"))


def compiles(world: World, policy, featurizer, ranker=None) -> bool:
    """Whether a run can be played by the compiled loop: ltrr's own policy, featurizer, click
    model and online arm (or none), and the fusion as the ranking stage, showing its top
    pages (no exploration)."""
    return (ranker is None and world.settings.exploration is None
            and ability(policy, "policy", "arrays")
            and isinstance(featurizer, ContextFeaturizer) and world.tables.click[0] >= 0
            and (not world.online or world.memory is not None))


def run_policy(world: World, policy, featurizer, stream: np.ndarray, seed: int,
               progress=None, ranker=None, propensity: bool = True,
               per_step: bool = False, target=None) -> Trace:
    """Play ``policy`` on the topic indices ``stream``; clicks come from ``seed``'s Generator.

    ``ranker``: a learned ranking stage for this run (:class:`ltrr.ranking.stage.LearnedStage`,
    its ``for_run()``); None ranks by the benchmark's fusion. An online stage learns from the
    shown pages' clicks and ranks by the fusion until its first retrain.
    ``propensity=False`` skips computing Thompson sampling's propensities (a tuning run
    needs none; the decisions are the same). ``per_step`` plays the per-step loop even when
    the compiled one could (the tests compare them). ``target``: a trained
    :class:`~ltrr.ranking.stage.LearnedStage` whose page of the chosen plan's union an
    exploring run records at each step.
    """
    stream = np.ascontiguousarray(stream, dtype=np.int64)
    paid = pays_probe(world, policy, featurizer)
    probe = world.probe
    probe_cost = probe.cost if paid else 0.0
    stage = ranker.config.name if ranker is not None else None
    plan_cost = world.plan_cost(stage)
    out = RunOutputs.make(len(stream), len(world.plan_ids), world.settings.page,
                          len(world.arm_names), featurizer.dim)
    pages = None
    if world.settings.exploration is not None:
        pages = PageProbabilities.make(len(stream), world.settings.page, target is not None)
    if compiles(world, policy, featurizer, ranker) and not per_step:
        st = world.seed(seed)
        buf = world.buffers()
        play_run(world.tables, st.lists, st.cache,
                 world.online_arm(seed, len(stream)), featurizer.tables(world.arm_names),
                 policy.arrays(), policy.rng, click_generator(seed), stream, float(probe_cost),
                 bool(propensity), buf, out)
        if progress is not None:
            progress.update(len(stream))
    else:
        play_per_step(world, policy, featurizer, stream, seed, out, probe_cost, progress,
                      ranker, plan_cost, pages, target)
    cost = plan_cost[out.plan] + probe_cost
    plan_latency = world.plan_latency(stage)
    latency = None
    if plan_latency is not None:
        latency = plan_latency[out.plan] + (probe.latency if paid else 0.0)
    hashes = dict(world.list_hashes)
    if world.memory is not None:
        hashes[world.online[0]] = f"{int(out.online_hash[0]):016x}"
    return Trace(stream, out.plan, out.propensity, out.reward, out.clicks_total, out.expected,
                 out.recall, out.any_relevant, out.n_relevant, out.shown, out.clicks,
                 out.drawn, out.contexts, cost, probe_cost, probe.calls if paid else 0,
                 probe.candidates if paid else 0, hashes, latency, pages)


def click_generator(seed: int) -> np.random.Generator:
    """The Generator a run's clicks are drawn from."""
    return np.random.default_rng([seed, 202])


def exploration_generator(seed: int) -> np.random.Generator:
    """The Generator an exploring run's pages are drawn from (apart from the clicks', so a
    page's draw never shifts the clicks)."""
    return np.random.default_rng([seed, 203])


def play_per_step(world: World, policy, featurizer, stream: np.ndarray, seed: int,
                  out: RunOutputs, probe_cost: float, progress=None, ranker=None,
                  plan_cost: np.ndarray | None = None,
                  pages: PageProbabilities | None = None, target=None) -> None:
    """The loop one Python step at a time, calling the compiled step functions (see the
    module doc); fills ``out``. ``plan_cost``: each plan's price with this run's ranking
    stage (default the world's, with the fusion). ``pages``: filled with the shown pages'
    probabilities (and ``target``'s pages) when the world's settings explore."""
    plan_cost = world.cost if plan_cost is None else plan_cost
    s, tb = world.settings, world.tables
    st = world.seed(seed)
    keys = st.keys
    rng = click_generator(seed)
    explorer = s.exploration
    draws = exploration_generator(seed) if explorer is not None else None
    buf = world.buffers()
    compiled = world.memory is not None
    on = world.online_arm(seed, len(stream)) if compiled else None
    generic = [] if compiled else [world.arms[a] for a in world.online]
    for arm in generic:
        if ability(arm, "online arm", "load"):
            arm.load()
        arm.reset()
    doc_buf = np.empty(max(int(tb.list_depth.max()), 1), dtype=np.int64)
    score_buf = np.empty(max(int(tb.list_depth.max()), 1))
    positions = np.empty(s.page, dtype=np.int64)
    memory = np.zeros(3)
    queries = world.topics["query"].astype(str).to_numpy()
    qids = world.topics["qid"].astype(str).to_numpy()
    probe = world.probe
    reads_probe = probe is not None and ability(featurizer, "featurizer", "needs_candidates")
    uses_truth = ability(policy, "policy", "uses_truth")
    credits_arms = ability(policy, "policy", "uses_arm_rewards")
    model = int(tb.click[0])
    reward_code = int(tb.click[4])
    contribution = np.zeros(s.page)
    tick = 64  # progress bar updates, in chunks (a bar update per step costs more than it shows)
    for step, t in enumerate(stream.tolist()):
        fill_lists(tb, st.lists, t, step, buf)
        if on is not None:
            online_lists(tb, on, t, step, buf, out, doc_buf, score_buf)
            memory_features(on.tables, on.state, t, memory)
        for name in world.online if generic else ():
            i = world.arm_names.index(name)
            ids, scores = world.online_candidates(name, queries[t], qids[t], step)
            if len(world.vocab) > len(keys):  # the arm surfaced documents new to the loop
                keys, buf = world.grow(seed), world.buffers()
                fill_lists(tb, st.lists, t, step, buf)
            n = len(ids)
            buf.ids[i, :n], buf.scores[i, :n], buf.lengths[i] = ids, scores, n
            buf.grades[i, :n], buf.keys[i, :n] = world.grades_of(t, ids), keys[ids]
        size = fill_truths(tb, st.cache, t, step, buf)
        if model < 0:  # an outside click model: its own expected clicks (the reward is clicks)
            buf.expected[:] = s.clicks.expected_total(buf.page_grades)
        pool = X = learned = None
        if ranker is not None:
            pool = _pool(buf, size)
            X = ranker.features(pool, world.vocab.docnos, ranker.context(t, step, memory), step)
            if ranker.model is not None:
                learned = ranker.model.score(X)
                _rank_pages(world, buf, size, learned)
        probed = None
        if reads_probe:
            probed = {a: buf.scores[world.arm_names.index(a), :min(buf.lengths[
                world.arm_names.index(a)], probe.depth)].copy() for a in probe.arms}
        if isinstance(featurizer, ContextFeaturizer):
            context = featurizer.transform(t, probed, step=step,
                                           memory=memory if on is not None else None)
        else:  # a featurizer of the caller's own (the tests')
            context = featurizer.transform(t, probed, step=step)
        out.contexts[step] = context
        out.expected[step] = buf.expected - plan_cost
        plan, prop = policy.choose(context, truth=out.expected[step] if uses_truth else None)
        out.plan[step], out.propensity[step] = plan, prop
        page_docs, page_grades = buf.pages[plan], buf.page_grades[plan]
        if explorer is not None:
            members, scores = _plan_scores(world, buf, size, plan, learned)
            if len(members):  # an empty union shows an empty page
                logged = explorer.sample(scores, s.page, draws)
                pages.record(step, logged)
                picked = members[logged.shown]
                page_docs = np.full(s.page, -1, dtype=np.int64)
                page_grades = np.full(s.page, -1, dtype=np.int64)
                page_docs[:len(picked)] = buf.docs[picked]
                page_grades[:len(picked)] = buf.pool_grades[picked]
            if target is not None:
                pages.target[step] = _target_page(world, buf, size, plan, target, t, step,
                                                  memory)
        if model < 0:
            clicked, satisfied = s.clicks.sample(page_grades.copy(), rng), -1
        else:
            clicked, satisfied = s.clicks.sample_session(page_grades, rng)
        out.clicks[step] = clicked
        out.clicks_total[step] = int(np.sum(clicked))
        earned = page_reward(reward_code, out.clicks[step], int(out.clicks_total[step]),
                             satisfied, contribution)
        reward = float(earned) - float(plan_cost[plan]) - probe_cost
        out.reward[step] = reward
        n_rel = count_upto(tb.r_from, tb.r_off[t], tb.r_off[t + 1], step)
        out.n_relevant[step] = n_rel
        if n_rel:
            out.recall[step] = buf.hits[plan] / n_rel
        out.any_relevant[step] = buf.hits[plan] > 0
        out.shown[step] = page_docs
        out.drawn[step] = buf.drawn[plan]
        arm_rewards = None
        if credits_arms:
            credit = np.zeros(len(world.arm_names))
            arm_credit(world.depths[plan], out.shown[step], contribution, buf.docs,
                       buf.ranks, size, credit)
            arm_rewards = {a: float(credit[i]) for i, a in enumerate(world.arm_names)
                           if world.depths[plan, i] > 0}
        policy.update(context, plan, reward, arm_rewards)
        if ranker is not None and ranker.online:
            shown = out.shown[step][out.shown[step] >= 0]
            where = {int(d): u for u, d in enumerate(pool.docs.tolist())}
            ranker.observe(step, X[[where[int(d)] for d in shown]], clicked[:len(shown)])
        if on is not None:
            learn_clicks(on, t, out.shown[step], out.clicks[step], positions)
        elif generic:
            docnos = world.vocab.docnos[out.shown[step][clicked.astype(bool)]].tolist()
            for arm in generic:
                arm.update(queries[t], docnos)
        if progress is not None and (step + 1) % tick == 0:
            progress.update(tick)
    if progress is not None and len(stream) % tick:
        progress.update(len(stream) % tick)


def _pool(buf: StepBuffers, size: int) -> CandidatePool:
    """The step's candidate pool as a :class:`~ltrr.kernel.pools.CandidatePool`."""
    lengths = buf.lengths
    return CandidatePool(buf.docs[:size].copy(), buf.ranks[:, :size].copy(),
                         buf.pool_scores[:, :size].copy(),
                         [buf.scores[a, :lengths[a]].copy() for a in range(len(lengths))],
                         np.concatenate([buf.where[a, :lengths[a]] for a in range(len(lengths))]))


def _plan_scores(world: World, buf: StepBuffers, size: int, plan: int,
                 learned: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The pool indices of ``plan``'s union and the ranking stage's score of each:
    ``learned`` (a learned ranker's score per pool document) or the benchmark's fusion, as
    :func:`ltrr.kernel.pages.fuse_plans` computes it (contributions summed ascending)."""
    s = world.settings
    depths = np.minimum(world.depths[plan], buf.lengths)
    ranks = buf.ranks[:, :size]
    taken = ranks < depths[:, None]  # (A, U): in the arm's share of the plan
    members = np.flatnonzero(taken.any(axis=0))
    if learned is not None:
        return members, np.asarray(learned, dtype=float)[members]
    if s.fusion == "rrf":
        parts = 1.0 / (s.k + ranks + 1.0)
    else:  # combsum: each arm min-max scaled over its share (a constant share scales to 0)
        arms = np.arange(len(depths))
        low = buf.scores[arms, np.maximum(depths, 1) - 1]
        span = buf.scores[:, 0] - low
        parts = (buf.pool_scores[:, :size] - low[:, None]) / np.where(span > 0, span, 1.0)[:, None]
    parts = np.sort(np.where(taken, parts, 0.0)[:, members], axis=0)
    return members, parts.sum(axis=0)


def _target_page(world: World, buf: StepBuffers, size: int, plan: int, target, t: int,
                 step: int, memory: np.ndarray) -> np.ndarray:
    """The page (doc ids, -1 empty) a trained ranking stage ``target`` shows of ``plan``'s
    union at this step, as the loop would rank it (:func:`_rank_pages`' tie rule)."""
    pool = _pool(buf, size)
    X = target.features(pool, world.vocab.docnos, target.context(t, step, memory), step)
    work = np.full((1, world.settings.page), -1, dtype=np.int64)
    depths = np.ascontiguousarray(world.tables.depths[plan:plan + 1])
    rank_plans(buf.where, size, buf.lengths, depths,
               np.ascontiguousarray(target.model.score(X), dtype=float), buf.pool_keys, work)
    return np.where(work[0] >= 0, buf.docs[np.maximum(work[0], 0)], -1)


def _rank_pages(world: World, buf: StepBuffers, size: int, scores: np.ndarray) -> None:
    """Every plan's page ranked by a learned ranker's ``scores`` of the pool (replacing the
    fused pages; the unions, hits and candidates drawn are the same)."""
    tb = world.tables
    work = np.full(buf.pages.shape, -1, dtype=np.int64)
    rank_plans(buf.where, size, buf.lengths, tb.depths, np.ascontiguousarray(scores, dtype=float),
               buf.pool_keys, work)
    filled = work >= 0
    at = np.maximum(work, 0)
    buf.pages[:] = np.where(filled, buf.docs[at], -1)
    buf.page_grades[:] = np.where(filled, buf.pool_grades[at], -1)
    buf.expected[:] = world.expected_reward(buf.page_grades)
