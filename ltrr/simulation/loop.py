"""The interaction loop: stream -> policy -> arms -> fusion -> page -> clicks -> learning.

:class:`~ltrr.simulation.world.World` holds what every run of a benchmark shares and
prepares it once (:mod:`.world`); :func:`run_policy` plays one policy on one seed's stream.

Per interaction (one query of the stream):

1. every arm's candidates: static arms from the cache, the memory arm online; documents
   not yet released are hidden from every arm *before* its top ``k`` is taken;
2. the page every plan would show (vectorised fusion, :func:`ltrr.ranking.fusion.plan_pages`,
   ties broken by best constituent rank and then a key seeded by the run, never by docno)
   and its expected reward under the click model: the simulator's truths, used for the
   oracle and regret, never shown to learning policies (:mod:`.truths`, cached per seed and
   topic while the candidates they were made from are unchanged);
3. the topic's context features (:class:`ltrr.selection.features.ContextFeaturizer`); with
   ``post_retrieval`` features they read each probed arm's top ``probe_depth`` scores, and
   a policy that reads the context pays for that probe (:class:`~.world.Probe`);
4. ``policy.choose`` -> plan; its page is shown; clicks are sampled from the run's
   seeded Generator; reward = clicks - the plan's cost - the probe's cost (if paid);
5. ``policy.update`` with the reward (and, for policies that ask, per-arm click credit);
   the memory arm learns the clicked documents.

Everything is recorded in a :class:`Trace` (arrays over steps) for metrics and the
decision log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr.datasets.identical_ids import ignores_identical_ids
from ltrr.simulation.truths import StepTruth
from ltrr.simulation.world import LoopSettings, World, online_candidates

__all__ = ["LoopSettings", "Trace", "World", "pays_probe", "run_policy"]


@dataclass
class Trace:
    """What one run did and what the simulator knew, as arrays over steps."""

    topic: np.ndarray
    plan: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray  # clicks - plan cost - probe cost (when paid)
    clicks_total: np.ndarray
    expected: np.ndarray  # (T, P) expected clicks minus plan cost, of every plan
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


def pays_probe(world: World, policy, featurizer) -> bool:
    """Whether ``policy`` pays the world's post-retrieval probe: it does when the benchmark
    has one, the policy's features read it (``featurizer.needs_candidates``) and the policy
    reads the context (``uses_context``, True unless a policy says otherwise)."""
    return (world.probe is not None and bool(getattr(featurizer, "needs_candidates", False))
            and bool(getattr(policy, "uses_context", True)))


def run_policy(world: World, policy, featurizer, stream: np.ndarray, seed: int,
               progress=None, ranker=None) -> Trace:
    """Play ``policy`` on the topic indices ``stream``; clicks come from ``seed``'s Generator.

    ``ranker``: a learned ranking stage for this run (:class:`ltrr.ranking.stage.LearnedStage`,
    its ``for_run()``); None ranks by the benchmark's fusion. An online stage learns from the
    shown pages' clicks and ranks by the fusion until its first retrain.
    """
    s = world.settings
    rng = np.random.default_rng([seed, 202])
    world.new_run(seed)
    for name in world.online:
        arm = world.arms[name]
        if callable(getattr(arm, "load", None)):
            arm.load()
        arm.reset()
    n_steps, n_arms, page = len(stream), len(world.arm_names), s.page
    n_plans = len(world.plan_ids)
    plan = np.zeros(n_steps, dtype=np.int64)
    propensity = np.zeros(n_steps)
    clicks_total = np.zeros(n_steps, dtype=np.int64)
    expected = np.zeros((n_steps, n_plans), dtype=np.float64)
    recall = np.full(n_steps, np.nan)
    any_rel = np.zeros(n_steps, dtype=bool)
    n_relevant = np.zeros(n_steps, dtype=np.int64)
    shown = np.full((n_steps, page), -1, dtype=np.int64)
    clicks = np.zeros((n_steps, page), dtype=np.int8)
    drawn = np.zeros((n_steps, n_arms), dtype=np.int64)
    contexts = np.zeros((n_steps, featurizer.dim), dtype=np.float64)
    queries = world.topics["query"].astype(str).to_numpy()
    qids = world.topics["qid"].astype(str).to_numpy()
    online_depth = {a: int(world.list_depth[world.arm_names.index(a)]) for a in world.online}
    self_hits = ignores_identical_ids(world.dataset)  # BEIR: a query's own id is no result
    probe = world.probe
    paid = pays_probe(world, policy, featurizer)
    probe_cost = probe.cost if paid else 0.0
    reads_probe = probe is not None and bool(getattr(featurizer, "needs_candidates", False))
    uses_truth = getattr(policy, "uses_truth", False)
    credits_arms = getattr(policy, "uses_arm_rewards", False)
    plan_cost = world.cost
    tick = 64  # progress bar updates, in chunks (a bar update per step costs more than it shows)
    for step, t in enumerate(stream):
        t = int(t)
        lists = dict(world.static_lists(t, step))
        for name in world.online:
            depth = online_depth[name]
            hidden = world.hidden_online(name, step)
            if name in world.online_ids:  # positions in the arm's docnos -> vocabulary ids
                positions, scores = world.arms[name].ranked_positions(
                    queries[t], depth + self_hits, hidden=hidden)
                ids = world.online_ids[name][positions]
                if self_hits:
                    keep = world.vocab.docnos[ids] != qids[t]
                    ids, scores = ids[keep][:depth], scores[keep][:depth]
            else:
                docnos, scores = online_candidates(world.arms[name], queries[t],
                                                   depth + self_hits, hidden)
                if self_hits:
                    keep = [i for i, d in enumerate(docnos) if d != qids[t]][:depth]
                    docnos, scores = [docnos[i] for i in keep], scores[keep]
                ids = world.vocab.ids_adding(docnos)
            lists[name] = (ids, scores, world.grades_of(t, ids))
        probed = {a: lists[a][1][: probe.depth] for a in probe.arms} if reads_probe else None
        context = featurizer.transform(t, probed, step=step)
        contexts[step] = context
        pool = X = None
        if ranker is not None and ranker.model is not None:
            truth, pool, X = world.ranked_truths(t, lists, ranker, ranker.context(t, step),
                                                 step)
        else:
            truth = world.truths(t, step, lists)
            if ranker is not None:  # online, before its first model: fusion pages, features kept
                pool, _ = StepTruth.pool_of([lists[a] for a in world.arm_names])
                X = ranker.features(pool, world.vocab.docnos, ranker.context(t, step), step)
        expected[step] = truth.expected - plan_cost
        p, prop = policy.choose(context, truth=expected[step] if uses_truth else None)
        plan[step], propensity[step] = p, prop
        part, row = truth.plan(p)
        clicked = s.clicks.sample(part.page_grades[row], rng)
        clicks[step], clicks_total[step] = clicked, clicked.sum()
        reward = float(clicks_total[step]) - float(plan_cost[p]) - probe_cost
        n_rel = world.n_relevant(t, step)
        n_relevant[step] = n_rel
        if n_rel:
            recall[step] = part.hits[row] / n_rel
        any_rel[step] = part.hits[row] > 0
        shown[step] = part.shown[row]
        drawn[step] = part.drawn[row]
        arm_rewards = None
        if credits_arms:
            credit = part.arm_clicks(row, world.depths[p], clicked)
            arm_rewards = {a: float(credit[i]) for i, a in enumerate(world.arm_names)
                           if world.depths[p, i] > 0}
        policy.update(context, p, reward, arm_rewards)
        if ranker is not None and ranker.online:
            on_page = part.shown[row][part.shown[row] >= 0]
            ranker.observe(step, X[np.searchsorted(pool.docs, on_page)], clicked)
        if world.online:
            docnos = world.vocab.docnos[shown[step][clicked.astype(bool)]].tolist()
            for name in world.online:
                world.arms[name].update(queries[t], docnos)
        if progress is not None and (step + 1) % tick == 0:
            progress.update(tick)
    if progress is not None and n_steps % tick:
        progress.update(n_steps % tick)
    cost = plan_cost[plan] + probe_cost
    return Trace(np.asarray(stream), plan, propensity, clicks_total - cost, clicks_total, expected,
                 recall, any_rel, n_relevant, shown, clicks, drawn, contexts, cost, probe_cost,
                 probe.calls if paid else 0, probe.candidates if paid else 0)
