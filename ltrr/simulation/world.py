"""The world of a benchmark, prepared once for many runs: arms' lists, releases, qrels, plans.

:class:`World` holds what every run shares: the static arms' candidate lists for every topic
(cached on disk, :mod:`.candidates`, deep enough that hiding unreleased documents never leaves
a list short), the document vocabulary, graded qrels, release steps, the plan depth matrix,
each plan's cost and the post-retrieval probe's (:class:`Probe`), and the caches of step truths
(:mod:`.truths`) that every run of a seed shares. :mod:`.loop` plays a policy in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltrr.ranking.fusion import CandidatePool, tie_keys
from ltrr.simulation.candidates import DocIds, released_lists
from ltrr.simulation.clicks import ClickModel, scale_grades
from ltrr.simulation.stream import release_schedule
from ltrr.simulation.truths import PlanTruths, StepTruth

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
        self._cache: dict = {"keys": self._keys}  # the current seed's caches (new_run)
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
        if cache is None:
            cache = {"keys": tie_keys(self.vocab.docnos, seed), "static": {}, "online": {}}
        self._seed_caches[seed] = cache
        while len(self._seed_caches) > SEED_CACHES:
            self._seed_caches.pop(next(iter(self._seed_caches)))
        self._seed, self._cache, self._keys = seed, cache, cache["keys"]
        self._static_truths, self._online_truths = cache["static"], cache["online"]
        self._extend_keys()  # documents surfaced since the seed's last run (a key is a pure
        # hash of seed and docno, so the cached truths stay valid)

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
                      context: np.ndarray, step: int
                      ) -> tuple["PlanTruths", CandidatePool, np.ndarray]:
        """Every plan's page ranked by a learned ``stage``
        (:class:`ltrr.ranking.stage.LearnedStage`) at ``step`` (its document priors as of
        that step): the pool scored once, each plan's page the top of its own union. Not cached: the scores follow the context and every arm's
        scores. Also returns the pool and its feature matrix (for online training)."""
        from ltrr.ranking.features import pages_from_scores

        self._extend_keys()
        pool, grades = StepTruth.pool_of([lists[a] for a in self.arm_names])
        X = stage.features(pool, self.vocab.docnos, context, step)
        pages, in_union = pages_from_scores(pool, self.depths, stage.model.score(X),
                                            self.settings.page, self._keys[pool.docs])
        truth = StepTruth.from_pages(pool, grades, pages, in_union, self.depths, self.settings)
        every = np.arange(len(self.plan_ids))
        return PlanTruths([truth], [every], np.stack([np.zeros_like(every), every], axis=1)), \
            pool, X

    def _extend_keys(self) -> None:
        """Tie keys for documents the memory arm surfaced after the run started."""
        if len(self._keys) < len(self.vocab):
            self._keys = self._cache["keys"] = np.concatenate(
                [self._keys, tie_keys(self.vocab.docnos[len(self._keys):], self._seed)])

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
