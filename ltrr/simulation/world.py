"""The world of a benchmark, prepared once for many runs: arms' lists, releases, qrels, plans.

:class:`World` holds what every run shares, as arrays the compiled loop reads: the static
arms' candidate lists for every topic (cached on disk, :mod:`.candidates`, with scores
rounded to a stated precision and deep enough that neither hiding unreleased documents nor
ties at the cut are decided by the arm), the document vocabulary, graded qrels, release
steps, the plan depth matrix, each plan's cost and the post-retrieval probe's
(:class:`Probe`), the memory arm's compiled tables (:mod:`ltrr.arms.memory_kernel`), and a
SHA-256 of each static arm's lists (records carry them, so ``ltrr reproduce`` can say whose
lists changed). :meth:`World.seed` gives a seed's own tables (:class:`SeedTables`): the tie
keys, each list ordered by (rounded score, tie key), and the cache of the static plans'
truths every run of that seed shares. :mod:`.engine` and :mod:`.loop` play policies in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ltrr.arms.lists import complete_lists
from ltrr.contracts import ability, missing_methods
from ltrr.errors import InputError
from ltrr.kernel.clicks import ClickModel, DependentClickModel, scale_grades
from ltrr.kernel.pages import fusion_code
from ltrr.kernel.rewards import REWARD_CODES, expected_rewards
from ltrr.kernel.ties import digests, order_ties, seeded, tie_keys
from ltrr.kernel.stochastic import PlackettLuce
from ltrr.simulation.clicks import describe_users, producible_rewards, why_not
from ltrr.simulation.prices import Prices
from ltrr.simulation.stream import release_schedule
from ltrr.simulation.truths import SeedLists, StaticCache, StepBuffers
from ltrr.simulation.vocabulary import DocIds

SEED_CACHES = 3  # seeds whose tables a World keeps (cells run seed by seed)


@dataclass
class LoopSettings:
    """The benchmark's loop settings (``[ranking]``, ``[cost]``, ``[clicks]``, ``[reward]``,
    ``[stream]``, and the post-retrieval probe of ``[features]``)."""

    fusion: str = "rrf"
    k: int = 60
    page: int = 10
    prices: Prices | None = None  # the [cost] table (None: nothing priced, no latency)
    clicks: ClickModel = field(default_factory=DependentClickModel)
    reward: str = "clicks"  # what a page pays the policy (ltrr.kernel.rewards), before costs
    new_release_days: int = 0
    probe_depth: int = 0  # post-retrieval features read each probed arm's top probe_depth
    probe_arms: tuple[str, ...] = ()  # the probed arms (empty with probe_depth > 0: all)
    exploration: PlackettLuce | None = None  # [ranking] logging: a Plackett-Luce sample is shown
    target: str | None = None  # [ranking] target: a trained ranker whose pages exploring logs hold


@dataclass(frozen=True)
class Probe:
    """What post-retrieval features cost: each probed arm is called once for its top
    ``depth`` candidates before the plan is chosen. A policy that reads the context is
    charged ``calls`` arm calls, ``candidates`` candidates and ``cost`` per query (the
    benchmark's cost model applied to them), on top of its plan's, and waits ``latency``
    milliseconds before its plan's arms are called."""

    arms: tuple[str, ...]
    depth: int
    cost: float
    latency: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.arms)

    @property
    def candidates(self) -> int:
        return self.depth * len(self.arms)


def is_online(arm) -> bool:
    """Arms that learn from clicks (the memory arm) are queried per step, not cached."""
    return not missing_methods(arm, "online arm")


def is_compiled_memory(arm) -> bool:
    """Whether an online arm is ltrr's memory arm, which the loop runs compiled."""
    from ltrr.arms.memory import MemoryArm

    return type(arm) is MemoryArm


class Tables(NamedTuple):
    """The world's arrays, as the compiled step functions read them."""

    s_off: np.ndarray  # (A, T+1) each static arm's list per topic in s_ids (online: empty)
    s_ids: np.ndarray  # doc ids, each list in the arm's order (score desc)
    s_scores: np.ndarray  # rounded scores
    s_shows: np.ndarray  # release step of each entry's document
    s_grades: np.ndarray  # each entry's 0..4 grade for its topic
    online: np.ndarray  # (A,) bool: arms queried per step
    list_depth: np.ndarray  # (A,) how deep each arm is asked
    g_off: np.ndarray  # (T+1,) per topic: judged doc ids (ascending) and their 0..4 grades
    g_ids: np.ndarray
    g_val: np.ndarray
    g_label: np.ndarray  # the judged docs' labels as the qrels give them (nDCG's gains)
    g_release: np.ndarray  # each judged doc's place in its topic's release order
    r_off: np.ndarray  # (T+1,) per topic: relevant docs by release (ascending), their labels
    r_from: np.ndarray
    r_label: np.ndarray
    b_off: np.ndarray  # (T+1,) per topic: release steps of its static lists' documents
    b_steps: np.ndarray
    slot_base: np.ndarray  # (T,) a topic's first (topic, epoch) slot
    depths: np.ndarray  # (P, A)
    cost: np.ndarray  # (P,)
    calls: np.ndarray  # (P,)
    static_rows: np.ndarray  # plans that draw from no online arm
    static_depths: np.ndarray
    online_rows: np.ndarray  # the others
    online_depths: np.ndarray
    click: np.ndarray  # [model code, fusion code, k, page, reward code]
    p_click: np.ndarray  # (5,)
    p_stop: np.ndarray  # (5,)
    p_satisfy: np.ndarray  # (5,)
    examination: np.ndarray  # (page,)


class SeedTables(NamedTuple):
    """A seed's own arrays: tie keys, lists in the seed's order, the static truths cache."""

    seed: int
    keys: np.ndarray  # (V,) uint64 tie keys of the vocabulary
    lists: SeedLists  # the world's lists, each ordered by (rounded score desc, key asc)
    cache: StaticCache
    memory: object  # the memory arm's MemorySeed (None without one)


class World:
    """A dataset, its arms and a plan space, prepared for many runs.

    Args:
        dataset: the loaded dataset.
        arms: arm name -> arm, in the benchmark's arm order (the plan space's order).
        plans: the plan space (``depth_matrix()`` columns follow ``plans.arms``).
        settings: loop settings.
        stream_length: steps per run (for the release schedule).
        topics: the topics the stream draws from (default: all of the dataset's).
        max_grade: the label the click models' top grade 4 stands for (default: the largest
            label of the topics' qrels); a world of training topics judged on a coarser
            scale (nfcorpus' train qrels are all 1) takes its stream's, so that a label means
            the same grade in both.
    """

    def __init__(self, dataset, arms: dict, plans, settings: LoopSettings,
                 stream_length: int, topics: pd.DataFrame | None = None,
                 max_grade: int | None = None) -> None:
        from ltrr.datasets.identical_ids import ignores_identical_ids

        self.dataset = dataset
        self.topics = (dataset.topics if topics is None else topics).reset_index(drop=True)
        self.arms = arms
        self.arm_names = list(plans.arms)
        self.plans = plans
        self.settings = settings
        self.stream_length = int(stream_length)
        self.depths = np.asarray(plans.depth_matrix(), dtype=np.int64)  # (P, A)
        self.plan_ids = list(plans.ids)
        self.prices = settings.prices or Prices.free(self.arm_names)
        if self.prices.arms != tuple(self.arm_names):
            raise ValueError(f"prices are for arms {self.prices.arms}, the plans' are "
                             f"{tuple(self.arm_names)}")
        self.probe = self._make_probe(settings, self.arm_names, self.prices)
        self.list_depth = self.depths.max(axis=0)  # how deep each arm is asked
        if self.probe is not None:
            for a in self.probe.arms:
                i = self.arm_names.index(a)
                self.list_depth[i] = max(self.list_depth[i], self.probe.depth)
        self.online = [a for a in self.arm_names if is_online(arms[a])]
        self.self_hits = ignores_identical_ids(dataset)  # BEIR: a query's own id is no result
        self.late = release_schedule(dataset, stream_length, settings.new_release_days)
        lists = {a: complete_lists(arms[a], self.topics, int(self.list_depth[i]) or 1, self.late)
                 for i, a in enumerate(self.arm_names) if a not in self.online}
        qrels = dataset.qrels
        qrels = qrels[qrels["qid"].astype(str).isin(set(self.topics["qid"].astype(str)))]
        everything = [np.asarray(qrels["docno"].astype(str))]
        everything += [np.concatenate(lst.docnos) if lst.docnos else np.empty(0, str)
                       for lst in lists.values()]
        everything += [np.asarray(arms[a].docnos, dtype=str) for a in self.online
                       if ability(arms[a], "online arm", "docnos") is not None]
        self.vocab = DocIds(np.concatenate(everything))
        self.visible_from = np.zeros(len(self.vocab), dtype=np.int64)
        known = self.vocab.ids(self.late.index)
        self.visible_from[known[known >= 0]] = self.late.to_numpy()[known >= 0]
        self.list_hashes = {a: _lists_hash(lst) for a, lst in lists.items()}
        self._prepare_qrels(qrels, max_grade)
        self._flat = self._prepare_static(lists)
        calls = (self.depths > 0).sum(axis=1)
        self.cost = self.prices.plan_cost(self.depths, settings.fusion)
        self.arm_calls = calls
        online_cols = [i for i, a in enumerate(self.arm_names) if a in self.online]
        uses_online = (self.depths[:, online_cols] > 0).any(axis=1)
        static_rows, online_rows = np.flatnonzero(~uses_online), np.flatnonzero(uses_online)
        clicks = settings.clicks
        builtin = isinstance(clicks, ClickModel)
        if settings.reward not in producible_rewards(clicks):  # (benchmark files check it first)
            raise InputError(f"click model {describe_users(clicks)} cannot produce reward "
                             f"'{settings.reward}' ({why_not(clicks, settings.reward)}); it can "
                             f"produce {', '.join(producible_rewards(clicks))}")
        self.tables = Tables(
            *self._flat, np.array([a in self.online for a in self.arm_names]),
            self.list_depth.astype(np.int64), *self._grade_tables(), *self._epochs(),
            self.depths, self.cost.astype(float), calls.astype(np.int64), static_rows,
            np.ascontiguousarray(self.depths[static_rows]), online_rows,
            np.ascontiguousarray(self.depths[online_rows]),
            np.array([clicks.code if builtin else -1,
                      fusion_code(settings.fusion), settings.k, settings.page,
                      REWARD_CODES[settings.reward]], dtype=float),
            np.asarray(clicks.p_click if builtin else np.zeros(5), dtype=float),
            np.asarray(clicks.p_stop if builtin else np.zeros(5), dtype=float),
            np.asarray(clicks.p_satisfy if builtin else np.zeros(5), dtype=float),
            np.asarray(clicks.examination(settings.page) if builtin else np.zeros(settings.page),
                       dtype=float))
        self.memory = None  # the memory arm's compiled tables, when the loop can run it
        if len(self.online) == 1 and is_compiled_memory(arms[self.online[0]]):
            self._compile_memory(arms[self.online[0]])
        self._seeds: dict[int, SeedTables] = {}
        self._digests = digests(self.vocab.docnos)  # what each seed's tie keys mix
        # the examples of the policies that learn before the stream (the router), by ranking
        # stage (None: the fusion); set by ltrr.experiments.runner.prepare when one is run
        self.training: dict = {}

    def expected_reward(self, page_grades: np.ndarray) -> np.ndarray:
        """The declared reward's expectation for pages ``(n, page)`` of 0..4 grades (-1:
        empty): ltrr's closed forms for a built-in click model, an outside model's own
        ``expected_total`` (its reward is always ``clicks``)."""
        tb = self.tables
        if tb.click[0] < 0:
            return np.asarray(self.settings.clicks.expected_total(page_grades), dtype=float)
        return expected_rewards(np.ascontiguousarray(page_grades, dtype=np.int64),
                                int(tb.click[4]), int(tb.click[0]), tb.p_click, tb.p_stop,
                                tb.p_satisfy, tb.examination)

    def plan_cost(self, stage: str | None = None) -> np.ndarray:
        """``(P,)`` each plan's price when ranking stage ``stage`` ranks its candidates
        (None: the benchmark's fusion, :attr:`cost`)."""
        if stage is None or stage == self.settings.fusion:
            return self.cost
        return self.prices.plan_cost(self.depths, stage)

    def plan_latency(self, stage: str | None = None) -> np.ndarray | None:
        """``(P,)`` each plan's latency in milliseconds with ranking stage ``stage`` (None:
        the fusion); None when the benchmark declares no latencies."""
        if not self.prices.has_latency:
            return None
        return self.prices.plan_latency(self.depths, stage or self.settings.fusion)

    @staticmethod
    def _make_probe(settings: LoopSettings, arm_names: list[str],
                    prices: Prices) -> Probe | None:
        if settings.probe_depth <= 0:
            return None
        arms = tuple(settings.probe_arms) or tuple(arm_names)
        index = [arm_names.index(a) for a in arms]
        return Probe(arms, settings.probe_depth, prices.probe_cost(index, settings.probe_depth),
                     prices.probe_latency(index, settings.probe_depth))

    # -- preparing ----------------------------------------------------------------------
    def _prepare_qrels(self, qrels: pd.DataFrame, max_grade: int | None) -> None:
        labels = qrels["label"].astype(int).to_numpy()
        self.max_grade = int(max_grade) if max_grade else int(labels.max()) if len(labels) else 1
        scaled = scale_grades(labels, self.max_grade)
        qidx = pd.Series(np.arange(len(self.topics)), index=self.topics["qid"].astype(str))
        rows = qidx.reindex(qrels["qid"].astype(str)).to_numpy()
        ids = self.vocab.ids(qrels["docno"].astype(str))
        self.grades: list[dict[int, int]] = [{} for _ in range(len(self.topics))]
        self.labels: list[dict[int, int]] = [{} for _ in range(len(self.topics))]
        for t, d, g, label in zip(rows, ids, scaled, labels):
            if g > 0:
                self.grades[int(t)][int(d)] = int(g)
            if label > 0:
                self.labels[int(t)][int(d)] = int(label)
        self.grade_ids = [np.array(sorted(g), dtype=np.int64) for g in self.grades]
        self.grade_values = [np.array([g[d] for d in ids.tolist()], dtype=np.int64)
                             for g, ids in zip(self.grades, self.grade_ids)]
        # per topic, the release steps of its relevant documents, ascending: the first n are
        # the ones out at a step where n = n_relevant(t, step)
        order = [np.argsort(self.visible_from[ids], kind="stable") for ids in self.grade_ids]
        self.relevant_from = [self.visible_from[ids][o] for ids, o in zip(self.grade_ids, order)]
        self.relevant_by_release = [ids[o] for ids, o in zip(self.grade_ids, order)]

    def _grade_tables(self) -> tuple[np.ndarray, ...]:
        """Grades (for clicks) and relevance labels by release (for nDCG) as CSR arrays."""
        g_off = np.concatenate([[0], np.cumsum([len(x) for x in self.grade_ids])])
        g_ids = np.concatenate(self.grade_ids + [np.zeros(0, np.int64)])
        g_val = np.concatenate(self.grade_values + [np.zeros(0, np.int64)])
        g_label = np.concatenate([np.array([self.labels[t].get(int(d), 0) for d in ids.tolist()],
                                           dtype=np.int64)
                                  for t, ids in enumerate(self.grade_ids)] + [np.zeros(0, np.int64)])
        r_from = np.concatenate(self.relevant_from + [np.zeros(0, np.int64)])
        r_label = np.concatenate([np.array([self.labels[t].get(int(d), 0) for d in ids.tolist()],
                                           dtype=np.int64)
                                  for t, ids in enumerate(self.relevant_by_release)]
                                 + [np.zeros(0, np.int64)])
        g_release = np.concatenate([np.argsort(np.argsort(self.visible_from[ids], kind="stable"),
                                               kind="stable") for ids in self.grade_ids]
                                   + [np.zeros(0, np.int64)]).astype(np.int64)
        return (g_off.astype(np.int64), g_ids.astype(np.int64), g_val.astype(np.int64), g_label,
                g_release, g_off.astype(np.int64), r_from.astype(np.int64), r_label)

    def _prepare_static(self, lists: dict) -> tuple[np.ndarray, ...]:
        """Every static arm's lists as flat arrays (arm-major, then topic) with offsets."""
        n_topics = len(self.topics)
        s_off = np.zeros((len(self.arm_names), n_topics + 1), dtype=np.int64)
        ids, scores = [], []
        start = 0
        for i, a in enumerate(self.arm_names):
            s_off[i, 0] = start
            if a in lists:
                lengths = np.array([len(d) for d in lists[a].docnos], dtype=np.int64)
                s_off[i, 1:] = start + np.cumsum(lengths)
                if lengths.sum():
                    ids.append(self.vocab.ids(np.concatenate(lists[a].docnos)))
                    scores.append(np.concatenate(lists[a].scores).astype(float))
                start = int(s_off[i, -1])
            else:
                s_off[i, 1:] = start
        s_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        s_scores = np.concatenate(scores) if scores else np.zeros(0)
        topic_of = np.repeat(np.tile(np.arange(n_topics), len(self.arm_names)),
                             (s_off[:, 1:] - s_off[:, :-1]).ravel())
        return s_off, s_ids, s_scores, self.visible_from[s_ids], self._pair_grades(topic_of, s_ids)

    def _pair_grades(self, topics: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The 0..4 grade of each (topic, document id) pair (0 where unjudged), by one
        bisection over every judged pair."""
        width = np.int64(len(self.vocab))
        judged = np.concatenate([t * width + g for t, g in enumerate(self.grade_ids)]
                                + [np.zeros(0, np.int64)])
        values = np.concatenate(self.grade_values + [np.zeros(0, np.int64)])
        if not len(judged):
            return np.zeros(len(ids), dtype=np.int64)
        wanted = np.asarray(topics, dtype=np.int64) * width + np.asarray(ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(judged, wanted), len(judged) - 1)
        return np.where(judged[at] == wanted, values[at], 0).astype(np.int64)

    def _epochs(self) -> tuple[np.ndarray, ...]:
        """Per topic, the steps at which one of its static lists' documents is released: a
        (topic, epoch) slot's static lists, and so its static plans' truths, are fixed."""
        s_off, s_ids = self._flat[0], self._flat[1]
        n_topics = len(self.topics)
        shows = self.visible_from[s_ids]
        topic_of = np.repeat(np.tile(np.arange(n_topics), s_off.shape[0]),
                             (s_off[:, 1:] - s_off[:, :-1]).ravel())
        late = shows > 0
        # the distinct (topic, release step) pairs, ordered by topic then step
        pairs = np.unique(topic_of[late].astype(np.int64) * (int(shows.max(initial=0)) + 1)
                          + shows[late])
        width = int(shows.max(initial=0)) + 1
        pair_topic, b_steps = pairs // width, (pairs % width).astype(np.int64)
        counts = np.bincount(pair_topic, minlength=n_topics)
        b_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        slot_base = np.concatenate([[0], np.cumsum(counts + 1)[:-1]]).astype(np.int64)
        self.n_slots = int((counts + 1).sum())
        return b_off, b_steps, slot_base

    def _compile_memory(self, arm) -> None:
        from ltrr.arms.memory_kernel import compile_memory, query_digests

        arm.load()
        docnos = np.asarray(arm.docnos, dtype=str)
        release = self.late.reindex(docnos).fillna(0).to_numpy(np.int64)
        position = {d: i for i, d in enumerate(docnos.tolist())}
        qids = self.topics["qid"].astype(str).tolist()
        own = np.array([position.get(q, -1) if self.self_hits else -1 for q in qids],
                       dtype=np.int64)
        depth = int(self.list_depth[self.arm_names.index(self.online[0])])
        tables, keys, rows = compile_memory(arm, self.topics["query"].astype(str).tolist(),
                                            depth, release, own)
        self.memory = tables
        self._memory_digests = query_digests(tables, keys, rows)
        self.memory_vocab = self.vocab.ids(docnos)  # memory position -> vocabulary id
        self.memory_position = np.full(len(self.vocab), -1, dtype=np.int64)
        self.memory_position[self.memory_vocab] = np.arange(len(docnos))

    # -- a seed's tables ---------------------------------------------------------------
    def seed(self, seed: int) -> SeedTables:
        """The seed's tables (made once; the last ``SEED_CACHES`` seeds are kept)."""
        hit = self._seeds.pop(seed, None)
        if hit is None:
            hit = self._make_seed(seed)
        self._seeds[seed] = hit
        while len(self._seeds) > SEED_CACHES:
            self._seeds.pop(next(iter(self._seeds)))
        return hit

    def _make_seed(self, seed: int) -> SeedTables:
        if len(self._digests) < len(self.vocab):
            self._digests = np.concatenate([self._digests,
                                            digests(self.vocab.docnos[len(self._digests):])])
        keys = seeded(self._digests, seed)
        tb = self.tables
        entry_keys = keys[tb.s_ids]
        order = order_ties(tb.s_off.ravel(), tb.s_scores, entry_keys)
        cache = StaticCache.empty(self.n_slots, min(self.n_slots, max(self.stream_length, 1)),
                                  len(tb.static_rows), self.settings.page, len(self.arm_names))
        memory = None
        if self.memory is not None:
            from ltrr.arms.memory_kernel import seed_hashes

            memory = seed_hashes(*self._memory_digests, seed, keys[self.memory_vocab])
        lists = SeedLists(tb.s_ids[order], tb.s_scores[order], tb.s_shows[order],
                          tb.s_grades[order], entry_keys[order])
        return SeedTables(seed, keys, lists, cache, memory)

    # -- a run's arrays -------------------------------------------------------------------
    def buffers(self) -> StepBuffers:
        """Scratch and output arrays of one step (the per-step loop makes new ones when an
        outside online arm grows the vocabulary)."""
        width = int(self.list_depth.max()) if len(self.list_depth) else 1
        return StepBuffers.make(len(self.arm_names), width, len(self.vocab),
                                len(self.plan_ids), self.settings.page)

    def online_arm(self, seed: int, n_steps: int):
        """The compiled memory arm of a run of ``seed`` with ``n_steps`` queries (a fresh
        state: the memory starts from its predicted queries at every run), or an empty one
        (``arm`` -1) when the world has no memory arm."""
        from ltrr.arms.memory_kernel import MemoryScratch, MemoryState
        from ltrr.simulation.engine import OnlineArm

        page = self.settings.page
        if self.memory is None:
            return _NO_ONLINE.get()
        tables = self.memory
        n_keys = len(tables.exact_row)
        widest = max(int(np.diff(tables.p_off).max()) if n_keys else 0, 0) + \
            max(int(np.diff(tables.c_off).max()) if n_keys else 0, 0) + 1
        depth = int(tables.params[2])
        return OnlineArm(self.arm_names.index(self.online[0]), tables, self.seed(seed).memory,
                         MemoryState.empty(n_keys, page * max(n_steps, 1) + 1),
                         MemoryScratch.make(len(self.memory_vocab), widest,
                                            int(tables.params[0]), depth),
                         self.memory_vocab, self.memory_position)

    def grow(self, seed: int) -> np.ndarray:
        """Tie keys of documents an outside online arm surfaced after the world was made
        (the vocabulary grew): the seed's keys, extended; such documents are out from step 0."""
        st = self.seed(seed)
        extra = self.vocab.docnos[len(st.keys):]
        self.visible_from = np.concatenate([self.visible_from, np.zeros(len(extra), np.int64)])
        keys = np.concatenate([st.keys, tie_keys(extra, seed)])
        self._seeds[seed] = st._replace(keys=keys)
        return keys

    def online_candidates(self, name: str, query: str, qid: str, step: int
                          ) -> tuple[np.ndarray, np.ndarray]:
        """An outside online arm's list for one query at ``step`` (vocabulary ids, rounded
        scores, best first by the seed-free part of the tie rule: rounded score; the arm's
        own order among ties it cut). Documents not released by ``step`` are left out before
        its top ``k`` is taken (from its ``ranked`` arrays with a ``hidden`` mask over its
        ``docnos``; an arm with only ``search`` must not know unreleased documents); on BEIR
        data the document whose id is the query's is dropped."""
        from ltrr.kernel.ties import round_scores

        arm = self.arms[name]
        depth = int(self.list_depth[self.arm_names.index(name)])
        k = depth + int(self.self_hits)
        if ability(arm, "online arm", "ranked"):
            ranked, hidden = arm.ranked, None
            if ability(arm, "online arm", "docnos") is not None and not self.late.empty:
                release = self.late.reindex(np.asarray(arm.docnos, dtype=str)).fillna(0) \
                    .to_numpy(np.int64)
                hidden = release > step
            docnos, scores = ranked(query, k) if hidden is None else ranked(query, k,
                                                                             hidden=hidden)
            docnos, scores = list(map(str, docnos)), np.asarray(scores, dtype=float)
        else:
            found = arm.search(query, k)
            docnos = [str(d) for d, _ in found]
            scores = np.array([sc for _, sc in found], dtype=float)
        if self.self_hits:
            keep = [i for i, d in enumerate(docnos) if d != qid][:depth]
            docnos, scores = [docnos[i] for i in keep], scores[keep]
        scores = round_scores(scores)
        order = np.argsort(-scores, kind="stable")
        return self.vocab.ids_adding([docnos[i] for i in order]), scores[order]

    # -- for the per-step loop and the tools ---------------------------------------------
    def static_lists(self, t: int, step: int, seed: int = 0) -> dict[str, tuple[np.ndarray, ...]]:
        """Each static arm's (ids, rounded scores, 0..4 grades) for topic ``t`` at ``step``:
        its first ``list_depth`` entries released by then, in ``seed``'s tie order."""
        st = self.seed(seed)
        out = {}
        for i, a in enumerate(self.arm_names):
            if a in self.online:
                continue
            lo, hi = self.tables.s_off[i, t], self.tables.s_off[i, t + 1]
            keep = lo + np.flatnonzero(st.lists.shows[lo:hi] <= step)[: self.list_depth[i]]
            out[a] = (st.lists.ids[keep], st.lists.scores[keep], st.lists.grades[keep])
        return out

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


def _empty_online_arm():
    """The compiled loop's stand-in for "no memory arm" (arrays of the right types)."""
    from ltrr.arms.memory_kernel import (MemoryScratch, MemorySeed, MemoryState,
                                         MemoryTables)
    from ltrr.simulation.engine import OnlineArm

    i0, f0, u0 = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.uint64)
    tables = MemoryTables(i0, i0, i0, np.zeros(1, np.int64), i0, f0, np.zeros(1, np.int64), i0,
                          f0, np.zeros(1, np.int64), i0, f0, i0, i0, np.zeros(3))
    return OnlineArm(-1, tables, MemorySeed(u0, u0, u0), MemoryState.empty(0, 1),
                     MemoryScratch.make(0, 1, 1, 1), i0, i0)


class _Lazy:
    """Made on first use (the stand-in imports the engine, which imports this module)."""

    def __init__(self, make) -> None:
        self.make, self.value = make, None

    def get(self):
        if self.value is None:
            self.value = self.make()
        return self.value


_NO_ONLINE = _Lazy(_empty_online_arm)


def _lists_hash(lists) -> str:
    """SHA-256 (first 16 hex digits) of an arm's lists: docnos and rounded scores per topic."""
    digest = hashlib.sha256()
    for docnos, scores in zip(lists.docnos, lists.scores):
        digest.update("\t".join(map(str, docnos.tolist())).encode())
        digest.update(np.asarray(scores, dtype="<f8").tobytes())
        digest.update(b"\n")
    return digest.hexdigest()[:16]
