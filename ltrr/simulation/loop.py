"""The interaction loop: stream -> policy -> arms -> fusion -> page -> clicks -> learning.

:class:`World` holds what every run of a benchmark shares and prepares it once: the
static arms' candidate lists for every topic (cached on disk, :mod:`.candidates`, deep
enough that hiding unreleased documents never leaves a list short), the document
vocabulary, graded qrels, release steps, the plan depth matrix, each plan's cost and the
post-retrieval probe's. :func:`run_policy` then plays one policy on one seed's stream.

Per interaction (one query of the stream):

1. every arm's candidates: static arms from the cache, the memory arm online; documents
   not yet released are hidden from every arm *before* its top ``k`` is taken;
2. the page every plan would show (vectorised fusion, :func:`ltrr.ranking.fusion.plan_pages`,
   ties broken by best constituent rank and then a key seeded by the run, never by docno)
   and its expected reward under the click model: the simulator's truths, used for the
   oracle and regret, never shown to learning policies (:class:`StepTruth`, cached per
   topic while the candidates it was made from are unchanged);
3. the topic's context features (:class:`ltrr.selection.features.ContextFeaturizer`); with
   ``post_retrieval`` features they read each probed arm's top ``probe_depth`` scores, and
   a policy that reads the context pays for that probe (:class:`Probe`);
4. ``policy.choose`` -> plan; its page is shown; clicks are sampled from the run's
   seeded Generator; reward = clicks - the plan's cost - the probe's cost (if paid);
5. ``policy.update`` with the reward (and, for policies that ask, per-arm click credit);
   the memory arm learns the clicked documents.

Everything is recorded in a :class:`Trace` (arrays over steps) for metrics and the
decision log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltrr.datasets.identical_ids import ignores_identical_ids
from ltrr.ranking.fusion import ABSENT, CandidatePool, plan_pages, tie_keys
from ltrr.simulation.candidates import DocIds, released_lists
from ltrr.simulation.clicks import ClickModel, scale_grades
from ltrr.simulation.stream import release_schedule

SEED_CACHES = 3  # seeds whose step truths a World keeps (cells run seed by seed)
ONLINE_LISTS_PER_TOPIC = 8  # memory lists per topic whose truths are kept


@dataclass
class LoopSettings:
    """The benchmark's loop settings (``[ranking]``, ``[cost]``, ``[clicks]``, ``[stream]``,
    and the post-retrieval probe of ``[features]``)."""

    fusion: str = "rrf"
    k: int = 60
    page: int = 10
    per_candidate: float = 0.0
    per_arm_call: float = 0.0
    clicks: ClickModel = field(default_factory=ClickModel)
    new_release_days: int = 0
    probe_depth: int = 0  # post-retrieval features read each probed arm's top probe_depth
    probe_arms: tuple[str, ...] = ()  # the probed arms (empty with probe_depth > 0: all)


@dataclass(frozen=True)
class Probe:
    """What post-retrieval features cost: each probed arm is called once for its top
    ``depth`` candidates before the plan is chosen. A policy that reads the context is
    charged ``calls`` arm calls, ``candidates`` candidates and ``cost`` per query (the
    benchmark's cost model applied to them), on top of its plan's."""

    arms: tuple[str, ...]
    depth: int
    cost: float

    @property
    def calls(self) -> int:
        return len(self.arms)

    @property
    def candidates(self) -> int:
        return self.depth * len(self.arms)


def is_online(arm) -> bool:
    """Arms that learn from clicks (the memory arm) are queried per step, not cached."""
    return callable(getattr(arm, "update", None)) and callable(getattr(arm, "reset", None))


def online_candidates(arm, query: str, k: int, hidden: np.ndarray | None = None
                      ) -> tuple[list[str], np.ndarray]:
    """An online arm's top ``k`` (docnos, float scores), best first: from its ``ranked``
    arrays where it has them (the memory arm), leaving out the ``hidden`` documents (a mask
    over ``arm.docnos``: not yet released) before the top ``k`` is taken, else from its
    ``search`` pairs (an arm without ``ranked`` must not know unreleased documents)."""
    ranked = getattr(arm, "ranked", None)
    if callable(ranked):
        docnos, scores = ranked(query, k) if hidden is None else ranked(query, k, hidden=hidden)
        return docnos.tolist(), np.asarray(scores, dtype=float)
    found = arm.search(query, k)
    return [d for d, _ in found], np.array([sc for _, sc in found], dtype=float)


@dataclass
class StepTruth:
    """What the simulator knows about one query's candidates, for a set of plans: each
    plan's page and expected clicks, and what its union holds."""

    pages: np.ndarray  # (P, page) pool indices, -1 empty
    shown: np.ndarray  # (P, page) doc ids, -1 empty
    page_grades: np.ndarray  # (P, page) 0..4 grades, -1 empty
    shown_ranks: np.ndarray  # (P, A, page) rank of each shown doc in each arm's list (or ABSENT)
    expected: np.ndarray  # (P,) expected clicks (cost not subtracted)
    hits: np.ndarray  # (P,) relevant documents in each plan's union
    drawn: np.ndarray  # (P, A) candidates each plan draws from each arm

    @staticmethod
    def pool_of(lists: list[tuple[np.ndarray, ...]]) -> tuple[CandidatePool, np.ndarray]:
        """The candidate pool of the arms' ``lists`` ((ids, scores, grades) per arm) and its
        documents' 0..4 grades."""
        pool = CandidatePool.from_lists([x[0] for x in lists], [x[1] for x in lists])
        grades = np.zeros(len(pool.docs), dtype=np.int64)
        if len(pool.docs):
            grades[pool.slots] = np.concatenate([x[2] for x in lists])
        return pool, grades

    @classmethod
    def of(cls, lists: list[tuple[np.ndarray, ...]], depths: np.ndarray, settings: LoopSettings,
           keys: np.ndarray) -> "StepTruth":
        """The truth for the plans ``depths`` (P, A) from the arms' ``lists``, ranked by the
        benchmark's fusion (``keys``: tie keys by doc id)."""
        pool, grades = cls.pool_of(lists)
        pages, in_union = plan_pages(pool, depths, settings.fusion, settings.k, settings.page,
                                     keys=keys[pool.docs])
        return cls.from_pages(pool, grades, pages, in_union, depths, settings)

    @classmethod
    def from_pages(cls, pool: CandidatePool, grades: np.ndarray, pages: np.ndarray,
                   in_union: np.ndarray, depths: np.ndarray, settings: LoopSettings) -> "StepTruth":
        """The truth of plans whose pages (pool indices) and unions are given."""
        filled = pages >= 0
        at = np.maximum(pages, 0)
        page_grades = np.where(filled, grades[at], -1)
        shown_ranks = np.where(filled[:, None, :], pool.ranks[:, at].transpose(1, 0, 2), ABSENT)
        lengths = (pool.ranks < ABSENT).sum(axis=1)
        return cls(pages, np.where(filled, pool.docs[at], -1), page_grades, shown_ranks,
                   settings.clicks.expected_total(page_grades),
                   (in_union & (grades > 0)).sum(axis=1), np.minimum(depths, lengths[None, :]))

    def arm_clicks(self, plan: int, depths: np.ndarray, clicked: np.ndarray) -> np.ndarray:
        """Clicks on the shown documents each arm retrieved under ``plan`` (a document
        several arms retrieved credits each)."""
        retrieved = self.shown_ranks[plan] < depths[:, None]  # (A, page)
        return (retrieved & clicked.astype(bool)[None, :]).sum(axis=1)


class PlanTruths:
    """The truths of every plan at one step, held as the parts they were computed in (the
    static plans' and the online plans'), without copying them into one array per step."""

    def __init__(self, parts: list[StepTruth], part_rows: list[np.ndarray],
                 part_of: np.ndarray) -> None:
        self.parts, self._part_of = parts, part_of
        if len(parts) == 1:
            self.expected = parts[0].expected
        else:
            self.expected = np.empty(len(part_of))
            for rows, part in zip(part_rows, parts):
                self.expected[rows] = part.expected

    def plan(self, p: int) -> tuple[StepTruth, int]:
        """The part holding plan ``p`` and its row there."""
        part, row = self._part_of[p]
        return self.parts[part], int(row)


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
        self.plan_ids = list(plans.ids)
        self.probe = self._make_probe(settings, self.arm_names)
        self.list_depth = self.depths.max(axis=0)  # how deep each arm is asked
        if self.probe is not None:
            for a in self.probe.arms:
                i = self.arm_names.index(a)
                self.list_depth[i] = max(self.list_depth[i], self.probe.depth)
        self.online = [a for a in self.arm_names if is_online(arms[a])]
        queries = self.topics["query"].astype(str).tolist()
        for a in self.online:  # per-query caches that clicks never change, in one batch
            if callable(getattr(arms[a], "prepare_queries", None)):
                arms[a].prepare_queries(queries)
        self.late = release_schedule(dataset, stream_length, settings.new_release_days)
        lists = {a: released_lists(arms[a], self.topics, int(self.list_depth[i]) or 1, self.late)
                 for i, a in enumerate(self.arm_names) if a not in self.online}
        qrels = dataset.qrels
        qrels = qrels[qrels["qid"].astype(str).isin(set(self.topics["qid"].astype(str)))]
        everything = [np.asarray(qrels["docno"].astype(str))]
        everything += [np.concatenate(lst.docnos) if lst.docnos else np.empty(0, str)
                       for lst in lists.values()]
        everything += [np.asarray(arms[a].docnos, dtype=str) for a in self.online
                       if hasattr(arms[a], "docnos")]
        self.vocab = DocIds(np.concatenate(everything))
        self.visible_from = np.zeros(len(self.vocab), dtype=np.int64)
        known = self.vocab.ids(self.late.index)
        self.visible_from[known[known >= 0]] = self.late.to_numpy()[known >= 0]
        self._prepare_qrels(qrels)
        self._prepare_static(lists)
        self._online_from = {a: self.late.reindex(np.asarray(arms[a].docnos, dtype=str))
                             .fillna(0).to_numpy(np.int64)
                             for a in self.online if hasattr(arms[a], "docnos")}
        # online arms that rank by position in their docnos: position -> vocabulary id
        self.online_ids = {a: self.vocab.ids(np.asarray(arms[a].docnos, dtype=str))
                           for a in self.online
                           if callable(getattr(arms[a], "ranked_positions", None))}
        online_cols = [i for i, a in enumerate(self.arm_names) if a in self.online]
        uses_online = (self.depths[:, online_cols] > 0).any(axis=1)
        self._static_plans = np.flatnonzero(~uses_online)
        self._online_plans = np.flatnonzero(uses_online)
        self._part_rows = [rows for rows in (self._static_plans, self._online_plans) if len(rows)]
        self._part_of = np.zeros((len(self.plan_ids), 2), dtype=np.int64)  # (part, row in it)
        for i, rows in enumerate(self._part_rows):
            self._part_of[rows, 0], self._part_of[rows, 1] = i, np.arange(len(rows))
        calls = (self.depths > 0).sum(axis=1)
        self.cost = settings.per_candidate * self.depths.sum(axis=1) + settings.per_arm_call * calls
        self.arm_calls = calls
        self.rankers: dict = {}  # learned ranking stages by name (ltrr.ranking.stage)
        self._keys = np.zeros(0, dtype=np.uint64)
        self._seed: int | None = None
        self._seed_caches: dict[int, dict] = {}
        self._static_cache: dict = {}
        self._online_breaks: dict[str, np.ndarray] = {}
        self._hidden: dict[str, tuple[int, np.ndarray]] = {}

    @staticmethod
    def _make_probe(settings: LoopSettings, arm_names: list[str]) -> Probe | None:
        if settings.probe_depth <= 0:
            return None
        arms = tuple(settings.probe_arms) or tuple(arm_names)
        return Probe(arms, settings.probe_depth,
                     settings.per_arm_call * len(arms)
                     + settings.per_candidate * settings.probe_depth * len(arms))

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
        # per topic, the release steps of its relevant documents, ascending: the first n are
        # the ones out at a step where n = n_relevant(t, step)
        order = [np.argsort(self.visible_from[ids], kind="stable") for ids in self.grade_ids]
        self.relevant_from = [self.visible_from[ids][o] for ids, o in zip(self.grade_ids, order)]
        self.relevant_by_release = [ids[o] for ids, o in zip(self.grade_ids, order)]

    def _prepare_static(self, lists: dict) -> None:
        """Per static arm and topic: (ids, scores, grades, release step) of its list."""
        self.static: dict[str, list[tuple[np.ndarray, ...]]] = {}
        breaks: list[list[np.ndarray]] = [[] for _ in range(len(self.topics))]
        for a, lst in lists.items():
            rows = []
            for t, (docnos, scores) in enumerate(zip(lst.docnos, lst.scores)):
                ids = self.vocab.ids(docnos)
                shows = self.visible_from[ids]
                rows.append((ids, np.asarray(scores, dtype=float), self.grades_of(t, ids), shows))
                breaks[t].append(shows[shows > 0])
            self.static[a] = rows
        self._topic_breaks = [np.unique(np.concatenate(b)) if b else np.empty(0, np.int64)
                              for b in breaks]

    def hidden_online(self, arm: str, step: int) -> np.ndarray | None:
        """Mask over the online arm's docnos of entities not released by ``step`` (None when
        nothing is released during the stream); made once per release epoch."""
        release = self._online_from.get(arm)
        if release is None or not release.any():
            return None
        breaks = self._online_breaks.get(arm)
        if breaks is None:
            breaks = self._online_breaks[arm] = np.unique(release[release > 0])
        epoch = int(np.searchsorted(breaks, step, side="right"))
        cached = self._hidden.get(arm)
        if cached is None or cached[0] != epoch:
            cached = self._hidden[arm] = (epoch, release > step)
        return cached[1]

    def static_lists(self, t: int, step: int) -> dict[str, tuple[np.ndarray, ...]]:
        """Each static arm's (ids, scores, 0..4 grades) for topic ``t``: its first
        ``list_depth`` entries released by ``step``.

        Cached per (topic, release epoch of the topic's own entries): the lists only change
        when one of their documents is released, and are the same for every run.
        """
        epoch = int(np.searchsorted(self._topic_breaks[t], step, side="right"))
        key = (t, epoch)
        hit = self._static_cache.get(key)
        if hit is None:
            hit = {}
            for i, a in enumerate(self.arm_names):
                if a in self.static:
                    ids, scores, grades, shows = self.static[a][t]
                    keep = np.flatnonzero(shows <= step)[: self.list_depth[i]]
                    hit[a] = (ids[keep], scores[keep], grades[keep])
            self._static_cache[key] = hit
        return hit

    def new_run(self, seed: int) -> None:
        """Start a run of ``seed``: its tie keys, and its caches of step truths.

        Truths depend on the topic, the release epoch, the arms' lists and the seed's tie
        keys, not on the policy, so every run of a seed shares them (the last
        ``SEED_CACHES`` seeds are kept): a topic's static plans are computed once per seed and
        epoch, its memory plans once per distinct memory list.
        """
        cache = self._seed_caches.pop(seed, None)
        if cache is None or len(cache["keys"]) != len(self.vocab):
            cache = {"keys": tie_keys(self.vocab.docnos, seed), "static": {}, "online": {}}
        self._seed_caches[seed] = cache
        while len(self._seed_caches) > SEED_CACHES:
            self._seed_caches.pop(next(iter(self._seed_caches)))
        self._seed, self._keys = seed, cache["keys"]
        self._static_truths, self._online_truths = cache["static"], cache["online"]

    def truths(self, t: int, step: int, lists: dict[str, tuple[np.ndarray, ...]]) -> "PlanTruths":
        """Every plan's page and expected clicks for topic ``t`` from the arms' ``lists``
        (arm -> (ids, scores, grades)).

        Plans that draw from no online arm depend only on the static lists: their truth is
        cached per topic and release epoch. The others depend on the online arms' lists too
        (their ids in order for RRF, which reads ranks only; also their scores for CombSUM):
        cached per topic and list, a few lists per topic.
        """
        epoch = int(np.searchsorted(self._topic_breaks[t], step, side="right"))
        self._extend_keys()
        parts = []
        if len(self._static_plans):
            truth = self._static_truths.get((t, epoch))
            if truth is None:
                truth = self._static_truths[t, epoch] = StepTruth.of(
                    [lists[a] for a in self.arm_names], self.depths[self._static_plans],
                    self.settings, self._keys)
            parts.append(truth)
        if len(self._online_plans):
            key = [epoch]
            for a in self.online:
                key.append(lists[a][0].tobytes())
                if self.settings.fusion != "rrf":
                    key.append(lists[a][1].tobytes())
            key = tuple(key)
            known = self._online_truths.setdefault(t, {})
            truth = known.get(key)
            if truth is None:
                if len(known) >= ONLINE_LISTS_PER_TOPIC:
                    known.pop(next(iter(known)))
                truth = known[key] = StepTruth.of(
                    [lists[a] for a in self.arm_names], self.depths[self._online_plans],
                    self.settings, self._keys)
            parts.append(truth)
        return PlanTruths(parts, self._part_rows, self._part_of)

    def ranked_truths(self, t: int, lists: dict[str, tuple[np.ndarray, ...]], stage,
                      context: np.ndarray) -> tuple["PlanTruths", CandidatePool, np.ndarray]:
        """Every plan's page ranked by a learned ``stage``
        (:class:`ltrr.ranking.stage.LearnedStage`): the pool scored once, each plan's page the
        top of its own union. Not cached: the scores follow the context and every arm's
        scores. Also returns the pool and its feature matrix (for online training)."""
        from ltrr.ranking.features import pages_from_scores

        self._extend_keys()
        pool, grades = StepTruth.pool_of([lists[a] for a in self.arm_names])
        X = stage.features(pool, self.vocab.docnos, context)
        pages, in_union = pages_from_scores(pool, self.depths, stage.model.score(X),
                                            self.settings.page, self._keys[pool.docs])
        truth = StepTruth.from_pages(pool, grades, pages, in_union, self.depths, self.settings)
        every = np.arange(len(self.plan_ids))
        return PlanTruths([truth], [every], np.stack([np.zeros_like(every), every], axis=1)), \
            pool, X

    def _extend_keys(self) -> None:
        """Tie keys for documents the memory arm surfaced after the run started."""
        if len(self._keys) < len(self.vocab):
            self._keys = np.concatenate([self._keys,
                                         tie_keys(self.vocab.docnos[len(self._keys):], self._seed)])

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
    return (world.probe is not None and bool(getattr(featurizer, "needs_candidates", True))
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
    reads_probe = probe is not None and getattr(featurizer, "needs_candidates", False)
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
            truth, pool, X = world.ranked_truths(t, lists, ranker, ranker.context(t, step))
        else:
            truth = world.truths(t, step, lists)
            if ranker is not None:  # online, before its first model: fusion pages, features kept
                pool, _ = StepTruth.pool_of([lists[a] for a in world.arm_names])
                X = ranker.features(pool, world.vocab.docnos, ranker.context(t, step))
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
