"""The interaction loop: stream -> policy -> arms -> fusion -> page -> clicks -> learning.

:class:`World` holds what every run of a benchmark shares and prepares it once: the
static arms' candidate lists for every topic (cached on disk, :mod:`.candidates`), the
document vocabulary, graded qrels as int arrays, release steps, the plan depth matrix
and the cost of each plan. :func:`run_policy` then plays one policy on one seed's stream.

Per interaction (one query of the stream):

1. the topic's context features (:class:`ltrr.selection.features.ContextFeaturizer`);
2. every arm's candidates (static arms from the cache, the memory arm online, documents
   not yet released hidden), pooled;
3. the page every plan would show (vectorised fusion, :func:`ltrr.ranking.fusion.plan_pages`)
   and its expected reward under the click model: the simulator's truths, used for the
   oracle and for regret, never shown to learning policies;
4. ``policy.choose`` -> plan; its page is shown; clicks are sampled from the run's
   seeded Generator; reward = clicks - cost;
5. ``policy.update`` with the reward and per-arm click credit; the memory arm learns the
   clicked documents.

Everything is recorded in a :class:`Trace` (arrays over steps) for metrics and the
decision log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltrr.ranking.fusion import CandidatePool, plan_pages
from ltrr.simulation.candidates import DocIds, arm_lists, padded
from ltrr.simulation.clicks import ClickModel, scale_grades
from ltrr.simulation.stream import release_steps


@dataclass
class LoopSettings:
    """The benchmark's loop settings (``[ranking]``, ``[cost]``, ``[clicks]``, ``[stream]``)."""

    fusion: str = "rrf"
    k: int = 60
    page: int = 10
    per_candidate: float = 0.0
    per_arm_call: float = 0.0
    clicks: ClickModel = field(default_factory=ClickModel)
    new_release_days: int = 0


def is_online(arm) -> bool:
    """Arms that learn from clicks (the memory arm) are queried per step, not cached."""
    return callable(getattr(arm, "update", None)) and callable(getattr(arm, "reset", None))


def online_candidates(arm, query: str, k: int, hidden: np.ndarray | None = None
                      ) -> tuple[list[str], np.ndarray]:
    """An online arm's top ``k`` (docnos, float scores), best first: from its ``ranked``
    arrays where it has them (the memory arm), leaving out the ``hidden`` documents (a mask
    over ``arm.docnos``: not yet released), else from its ``search`` pairs."""
    ranked = getattr(arm, "ranked", None)
    if callable(ranked):
        docnos, scores = ranked(query, k) if hidden is None else ranked(query, k, hidden=hidden)
        return docnos.tolist(), np.asarray(scores, dtype=float)
    found = arm.search(query, k)
    return [d for d, _ in found], np.array([sc for _, sc in found], dtype=float)


class World:
    """A dataset, its arms and a plan space, prepared for many runs.

    Args:
        dataset: the loaded dataset.
        arms: arm name -> arm, in the benchmark's arm order (the plan space's order).
        plans: the plan space (``depth_matrix()`` columns follow ``plans.arms``).
        settings: loop settings.
        stream_length: steps per run (for the release schedule).
        topics: the topics the stream draws from (default: all of the dataset's).
    """

    def __init__(self, dataset, arms: dict, plans, settings: LoopSettings,
                 stream_length: int, topics: pd.DataFrame | None = None) -> None:
        self.dataset = dataset
        self.topics = (dataset.topics if topics is None else topics).reset_index(drop=True)
        self.arms = arms
        self.arm_names = list(plans.arms)
        self.plans = plans
        self.settings = settings
        self.depths = np.asarray(plans.depth_matrix(), dtype=np.int64)  # (P, A)
        self.max_depth = self.depths.max(axis=0)
        self.plan_ids = list(plans.ids)
        self.online = [a for a in self.arm_names if is_online(arms[a])]
        queries = self.topics["query"].astype(str).tolist()
        for a in self.online:  # per-query caches that clicks never change, in one batch
            if callable(getattr(arms[a], "prepare_queries", None)):
                arms[a].prepare_queries(queries)
        lists = {a: arm_lists(arms[a], self.topics, int(self.max_depth[i]) or 1)
                 for i, a in enumerate(self.arm_names) if a not in self.online}
        qrels = dataset.qrels
        qrels = qrels[qrels["qid"].astype(str).isin(set(self.topics["qid"].astype(str)))]
        everything = [np.asarray(qrels["docno"].astype(str))]
        everything += [np.concatenate(lst.docnos) if lst.docnos else np.empty(0, str)
                       for lst in lists.values()]
        self.vocab = DocIds(np.concatenate(everything))
        self.static = {a: padded(lst, self.vocab, int(self.max_depth[self.arm_names.index(a)]))
                       for a, lst in lists.items()}
        self._prepare_qrels(qrels)
        self._prepare_releases(stream_length)
        calls = (self.depths > 0).sum(axis=1)
        self.cost = settings.per_candidate * self.depths.sum(axis=1) + settings.per_arm_call * calls
        self.arm_calls = calls

    def _prepare_qrels(self, qrels: pd.DataFrame) -> None:
        labels = qrels["label"].astype(int).to_numpy()
        self.max_grade = int(labels.max()) if len(labels) else 1
        scaled = scale_grades(labels, self.max_grade)
        qidx = pd.Series(np.arange(len(self.topics)), index=self.topics["qid"].astype(str))
        rows = qidx.reindex(qrels["qid"].astype(str)).to_numpy()
        ids = self.vocab.ids(qrels["docno"].astype(str))
        self.grades: list[dict[int, int]] = [{} for _ in range(len(self.topics))]
        for t, d, g in zip(rows, ids, scaled):
            if g > 0:
                self.grades[int(t)][int(d)] = int(g)
        self.grade_ids = [np.array(sorted(g), dtype=np.int64) for g in self.grades]
        self.grade_values = [np.array([g[d] for d in ids.tolist()], dtype=np.int64)
                             for g, ids in zip(self.grades, self.grade_ids)]
        self.static_grades = {}
        for a, (ids_a, _) in self.static.items():
            grade = np.zeros(ids_a.shape, dtype=np.int64)
            for t in range(len(self.topics)):
                g = self.grades[t]
                if g:
                    grade[t] = [g.get(int(d), 0) for d in ids_a[t]]
            self.static_grades[a] = grade

    def _prepare_releases(self, length: int) -> None:
        self.visible_from = np.zeros(len(self.vocab), dtype=np.int64)
        recency = self.dataset.meta.get("recency", {})
        field_name = recency.get("field", "release_day")
        self._online_from: dict[str, np.ndarray] = {}
        if self.settings.new_release_days and field_name in self.dataset.fields:
            days = {str(doc["docno"]): doc.get(field_name) for doc in self.dataset.docs()}
            day = pd.Series(days, dtype=float)
            if recency.get("newer_is") == "smaller":  # days before today: flip to a time axis
                day = -day
            steps = pd.Series(release_steps(day.to_numpy(), length, self.settings.new_release_days),
                              index=day.index)
            self.visible_from = steps.reindex(self.vocab.docnos).fillna(0).to_numpy(np.int64)
            # the online (memory) arm is asked per step: hide what is not out yet (arms that
            # expose their docnos and a ranked(..., hidden=) method, as ltrr's memory arm does)
            self._online_from = {a: steps.reindex(self.arms[a].docnos).fillna(0).to_numpy(np.int64)
                                 for a in self.online if hasattr(self.arms[a], "docnos")}
        never = np.iinfo(np.int64).max
        # step from which each static list entry shows (never for padding), and per topic
        # the steps at which any of its static entries appears
        self._static_from = {a: np.where(ids >= 0, self.visible_from[np.maximum(ids, 0)], never)
                             for a, (ids, _) in self.static.items()}
        shows = (np.hstack(list(self._static_from.values())) if self._static_from
                 else np.zeros((len(self.topics), 0), dtype=np.int64))
        self._topic_breaks = [np.unique(row[(row > 0) & (row < never)]) for row in shows]
        self._static_cache: dict = {}
        self._stream_key = None
        self.relevant_from = [np.sort(self.visible_from[list(g)]) if g else np.empty(0, np.int64)
                              for g in self.grades]

    def hidden_online(self, arm: str, step: int) -> np.ndarray | None:
        """Mask over the online arm's docnos of entities not released by ``step`` (None when
        the benchmark has no release schedule)."""
        release = self._online_from.get(arm)
        return None if release is None else release > step

    def visible(self, ids: np.ndarray, step: int) -> np.ndarray:
        """Mask of document ids released by ``step``."""
        return self.visible_from[ids] <= step

    def static_lists(self, t: int, step: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each static arm's (ids, scores, 0..4 grades) for topic ``t``, released by ``step``.

        Cached per (topic, release epoch of the topic's own entries): the lists only change
        when one of their documents is released. The cache is cleared per stream
        (:func:`run_policy` calls :meth:`new_stream`).
        """
        epoch = int(np.searchsorted(self._topic_breaks[t], step, side="right"))
        key = (t, epoch)
        hit = self._static_cache.get(key)
        if hit is None:
            hit = []
            for a in self.arm_names:
                if a in self.online:
                    hit.append(None)
                    continue
                ids_a, sc, gr = self.static[a][0][t], self.static[a][1][t], self.static_grades[a][t]
                keep = self._static_from[a][t] <= step  # released, not padding
                hit.append((ids_a[keep], sc[keep], gr[keep]))
            self._static_cache[key] = hit
        return hit

    def new_stream(self, stream: np.ndarray) -> None:
        """Drop cached lists when a different stream starts (bounds the cache's memory)."""
        key = hash(np.asarray(stream).tobytes())
        if key != self._stream_key:
            self._static_cache, self._stream_key = {}, key

    def pool(self, t: int, step: int, online: dict[str, tuple[np.ndarray, np.ndarray]]
             ) -> tuple[CandidatePool, np.ndarray]:
        """The candidate pool for topic ``t`` at ``step`` and its docs' 0..4 grades."""
        ids, scores, grades = [], [], []
        for a, cached in zip(self.arm_names, self.static_lists(t, step)):
            if cached is None:
                ids_a, sc = online[a]
                gr = self.grades_of(t, ids_a)
            else:
                ids_a, sc, gr = cached
            ids.append(ids_a)
            scores.append(sc)
            grades.append(gr)
        pool = CandidatePool.from_lists(ids, scores)
        pool_grades = np.zeros(len(pool.docs), dtype=np.int64)
        if len(pool.docs):
            pool_grades[pool.slots] = np.concatenate(grades)
        return pool, pool_grades

    def grades_of(self, t: int, ids: np.ndarray) -> np.ndarray:
        """The 0..4 grades of doc ``ids`` for topic ``t`` (0 where unjudged)."""
        known, values = self.grade_ids[t], self.grade_values[t]
        if not len(known):
            return np.zeros(len(ids), dtype=np.int64)
        at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        return np.where(known[at] == ids, values[at], 0)

    def n_relevant(self, t: int, step: int) -> int:
        """Relevant documents of topic ``t`` released by ``step``."""
        return int(np.searchsorted(self.relevant_from[t], step, side="right"))


@dataclass
class Trace:
    """What one run did and what the simulator knew, as arrays over steps."""

    topic: np.ndarray
    plan: np.ndarray
    propensity: np.ndarray
    reward: np.ndarray
    clicks_total: np.ndarray
    expected: np.ndarray  # (T, P) expected reward of every plan
    recall: np.ndarray
    any_relevant: np.ndarray
    shown: np.ndarray  # (T, page) doc ids, -1 empty
    clicks: np.ndarray  # (T, page) 0/1
    drawn: np.ndarray  # (T, A) candidates drawn per arm
    contexts: np.ndarray  # (T, d)
    cost: np.ndarray


def run_policy(world: World, policy, featurizer, stream: np.ndarray, seed: int,
               progress=None) -> Trace:
    """Play ``policy`` on the topic indices ``stream``; clicks come from ``seed``'s Generator."""
    s = world.settings
    rng = np.random.default_rng([seed, 202])
    world.new_stream(stream)
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
    recall = np.zeros(n_steps)
    any_rel = np.zeros(n_steps, dtype=bool)
    shown = np.full((n_steps, page), -1, dtype=np.int64)
    clicks = np.zeros((n_steps, page), dtype=np.int8)
    drawn = np.zeros((n_steps, n_arms), dtype=np.int64)
    contexts = None
    queries = world.topics["query"].astype(str).to_numpy()
    online_depth = {a: int(world.max_depth[world.arm_names.index(a)]) for a in world.online}
    uses_truth = getattr(policy, "uses_truth", False)
    tick = 64  # progress bar updates, in chunks (a bar update per step costs more than it shows)
    for step, t in enumerate(stream):
        t = int(t)
        online = {}
        for name in world.online:
            docnos, scores = online_candidates(world.arms[name], queries[t], online_depth[name],
                                               world.hidden_online(name, step))
            online[name] = (world.vocab.ids_adding(docnos), scores)
        pool, grades = world.pool(t, step, online)
        pages, in_union = plan_pages(pool, world.depths, s.fusion, s.k, page)
        page_grades = np.where(pages >= 0, grades[np.maximum(pages, 0)], -1)
        expected[step] = s.clicks.expected_total(page_grades) - world.cost
        context = featurizer.transform(t, {a: pool.sorted_scores[i]
                                           for i, a in enumerate(world.arm_names)})
        if contexts is None:
            contexts = np.zeros((n_steps, len(context)), dtype=np.float64)
        contexts[step] = context
        truth = expected[step] if uses_truth else None
        p, prop = policy.choose(context, truth=truth)
        plan[step], propensity[step] = p, prop
        clicked = s.clicks.sample(page_grades[p], rng)
        clicks[step], clicks_total[step] = clicked, clicked.sum()
        reward = float(clicked.sum()) - float(world.cost[p])
        relevant = grades > 0
        n_rel = world.n_relevant(t, step)
        hits = int((in_union[p] & relevant).sum())
        recall[step] = hits / n_rel if n_rel else 0.0
        any_rel[step] = hits > 0
        shown_pool = pages[p]
        shown[step] = np.where(shown_pool >= 0, pool.docs[np.maximum(shown_pool, 0)], -1)
        depth_p = world.depths[p]
        retrieved = pool.ranks < depth_p[:, None]  # (A, U)
        drawn[step] = retrieved.sum(axis=1)
        on_page = shown_pool[shown_pool >= 0]
        arm_clicks = (retrieved[:, on_page] & clicked[: len(on_page)].astype(bool)).sum(axis=1)
        arm_rewards = {a: float(arm_clicks[i]) for i, a in enumerate(world.arm_names)
                       if depth_p[i] > 0}
        policy.update(context, p, reward, arm_rewards)
        if world.online:
            docnos = world.vocab.docnos[shown[step][clicked.astype(bool)]].tolist()
            for name in world.online:
                world.arms[name].update(queries[t], docnos)
        if progress is not None and (step + 1) % tick == 0:
            progress.update(tick)
    if progress is not None and n_steps % tick:
        progress.update(n_steps % tick)
    reward_all = clicks_total - world.cost[plan]
    return Trace(np.asarray(stream), plan, propensity, reward_all, clicks_total, expected,
                 recall, any_rel, shown, clicks, drawn,
                 contexts if contexts is not None else np.zeros((0, 0)), world.cost[plan])
