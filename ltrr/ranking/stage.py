"""The learned ranking stage inside the interaction loop: a LambdaMART ranker over each step's
candidate pool, trained once from judgements or clicks, or online from the loop's own clicks.

A benchmark declares learned rankers in ``[rankers.<name>]`` tables and a policy ranks with
one by naming it (``[[policies]] ranker = "<name>"``); the others rank by the benchmark's
fusion (``[ranking] fusion``). Keys of a ``[rankers.<name>]`` table:

==================  =========================================================================
``model``           ``"lambdamart"`` (LightGBM's ``lambdarank``, :class:`~ltrr.ranking.learned.LambdaMART`),
                    or an outside ranker: ``module:Name`` or an ``ltrr.rankers`` entry point
                    (``docs/plugins.md``; trained every run, not cached)
``train``           ``"qrels"`` | ``"clicks"`` | ``"online"`` (below)
``correction``      position-bias correction of click training: ``"ips"`` (default),
                    ``"position"``, ``"none"`` (:func:`~ltrr.ranking.learned.fit_clicks`)
``params``          LightGBM parameters over :data:`~ltrr.ranking.learned.DEFAULT_PARAMS`
``sessions``        ``clicks``: simulated sessions on the training topics (default 10,000)
``log``             ``clicks``: a click log file to train from instead (decision log or long format)
``retrain_every``   ``online``: retrain every N queries of the stream (default 1,000)
==================  =========================================================================

Training (``qrels``, ``clicks``) happens once, before any run, on the dataset's training
topics (:func:`~ltrr.ranking.training_data.training_split`: the music world's ``split == "train"``
rows, nfcorpus' ``beir/nfcorpus/train`` with ``dev`` for early stopping), never on the
topics the stream asks (checked by qid) nor on their query texts (training topics whose
normalised text the stream asks are left out; the ranker's description, ``info`` in the
result records, carries ``train_overlap``: what overlapped and what was left out). Their
pools are the loop's at step 0 (every arm at the loop's depth, scores at the loop's
precision and its tie rule, the memory arm cold, documents released during the stream left
out), their context the loop's pre-retrieval features; ``clicks`` simulates a log on those
pools with the benchmark's click model (:func:`~ltrr.ranking.training_data.simulate_click_log`). Models are cached on disk
(:mod:`ltrr.ranking.store`) like indexes. ``online`` starts with no model: a run ranks by the
fusion until its first retrain, then by the ranker trained on every page it showed and the
clicks they got (:class:`~ltrr.ranking.learned.ClickBuffer`), retrained every
``retrain_every`` queries: selection and ranking learn together.

The features of a candidate do not depend on the plan (:mod:`ltrr.ranking.features`), so a
step's pool is scored once and each plan's page is the top of its own union
(:func:`~ltrr.kernel.pages.pages_from_scores`); the simulator's truths (every plan's page
and expected clicks, for the oracle and regret) use those pages.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltrr.errors import InputError, check_keys
from ltrr.ranking.features import DocumentPriors, FeatureSpec, pool_features
from ltrr.ranking.learned import (DEFAULT_CORRECTION, ClickBuffer, check_correction, check_mode,
                                  check_ranker, known_examination)
from ltrr.ranking.checked_ranker import ranker_factory

RANKER_KEYS: dict[str, type] = {"model": str, "train": str, "correction": str, "params": dict,
                                "sessions": int, "log": str, "retrain_every": int}
ONLY_FOR = {"sessions": ("clicks",), "log": ("clicks",), "retrain_every": ("online",),
            "correction": ("clicks", "online")}


@dataclass(frozen=True)
class RankerConfig:
    """One ``[rankers.<name>]`` table, checked."""

    name: str
    model: str = "lambdamart"
    train: str = "qrels"
    correction: str = DEFAULT_CORRECTION
    params: dict = field(default_factory=dict, hash=False, compare=False)
    sessions: int = 10000
    log: str | None = None
    retrain_every: int = 1000

    @classmethod
    def from_table(cls, name: str, table: object, file: str) -> "RankerConfig":
        where = f"rankers.{name}"
        if not isinstance(table, dict):
            raise InputError("expected a table of ranker settings", file=file, field=where)
        check_keys(file, where, table, RANKER_KEYS)
        for key, check in (("model", check_ranker), ("train", check_mode),
                           ("correction", check_correction)):
            if key in table:
                try:
                    check(table[key])
                except InputError as err:
                    raise InputError(str(err), file=file, field=f"{where}.{key}") from None
        mode = table.get("train", "qrels")
        for key, modes in ONLY_FOR.items():
            if key in table and mode not in modes:
                raise InputError(f"only used with train = {' or '.join(map(repr, modes))}",
                                 file=file, field=f"{where}.{key}")
        for key in ("sessions", "retrain_every"):
            if key in table and table[key] < 1:
                raise InputError(f"must be >= 1, got {table[key]!r}", file=file,
                                 field=f"{where}.{key}")
        return cls(name=name, **table)


class TopicContexts:
    """The training topics' context vectors, from the loop's ranker featurizer (its rows
    after the stream's topics), in the shape :func:`~ltrr.ranking.training_data.topic_pools` asks."""

    def __init__(self, featurizer, rows: dict[str, int]) -> None:
        self.featurizer, self.rows = featurizer, rows

    def vector(self, qid: str, pool) -> np.ndarray:
        return self.featurizer.transform(self.rows[str(qid)], None, step=0)


class LearnedStage:
    """A learned ranker in the loop: its feature spec, prior table and model (None: the
    benchmark's fusion ranks until an online retrain gives one).

    :meth:`for_run` gives each run its own stage (an ``online`` stage starts over with an
    empty click buffer; a trained one is shared).
    """

    def __init__(self, config: RankerConfig, spec: FeatureSpec, featurizer,
                 priors: DocumentPriors, model=None, info: dict | None = None) -> None:
        self.config, self.spec, self.featurizer, self.priors = config, spec, featurizer, priors
        self.model, self.info = model, dict(info or {})
        self.online = config.train == "online"
        self.ranker = ranker_factory(config.model)
        self.examination = None  # the users' examination curve, for ips (set by prepare_stages)
        self.buffer = ClickBuffer(config.correction, config.params or None, spec.names,
                                  ranker=self.ranker) if self.online else None
        self.retrains = 0
        self.rows: dict[str, int] = {}  # training and validation topics' featurizer rows, by qid
        self._prior_rows = np.zeros(0, dtype=np.int64)  # per vocabulary id, its prior row
        self._prior_table = np.zeros((0, len(spec.prior_names)))
        self._prior_epoch: int | None = None  # the release epoch _prior_table is as of

    def for_run(self) -> "LearnedStage":
        if not self.online:
            return self
        run = copy.copy(self)
        run.model, run.retrains = None, 0
        run.buffer = ClickBuffer(self.config.correction, self.config.params or None,
                                 self.spec.names, ranker=self.ranker,
                                 examination=self.examination)
        return run

    def context(self, topic: int, step: int, memory: np.ndarray | None = None) -> np.ndarray:
        """The ranker's context vector of stream topic ``topic`` at ``step`` (``memory``: the
        memory group's values, from the loop's memory state)."""
        return self.featurizer.transform(topic, None, step=step, memory=memory)

    def features(self, pool, docnos: np.ndarray, context: np.ndarray, step: int) -> np.ndarray:
        """``(U, F)`` features of a pool at stream ``step``; ``docnos``: the loop's vocabulary
        (priors by id, as of ``step``: the table is redone once per release epoch)."""
        grew = len(self._prior_rows) < len(docnos)  # the vocabulary grew (memory arm)
        if grew:
            self._prior_rows = np.concatenate(
                [self._prior_rows, self.priors.rows(docnos[len(self._prior_rows):])])
        epoch = self.priors.epoch(step)
        if grew or epoch != self._prior_epoch:
            self._prior_table = self.priors.at(self._prior_rows, step)
            self._prior_epoch = epoch
        return pool_features(pool, self.spec, context, self._prior_table[pool.docs])

    def observe(self, step: int, rows: np.ndarray, clicks: np.ndarray) -> None:
        """Online mode: one shown page's feature rows and clicks; retrain every N queries."""
        self.buffer.add(rows, clicks)
        if (step + 1) % self.config.retrain_every == 0:
            model = self.buffer.fit()
            if model is not None:
                self.model, self.retrains = model, self.retrains + 1

    def describe(self) -> dict:
        """What a result record says about the ranker."""
        c = self.config
        out = {"name": c.name, "model": c.model, "train": c.train, "params": dict(c.params)}
        if c.train != "qrels":
            out["correction"] = c.correction
        if c.train == "clicks":
            out["sessions" if c.log is None else "log"] = c.sessions if c.log is None else c.log
        if self.online:
            out.update(retrain_every=c.retrain_every, retrains=self.retrains)
        return {**out, **{k: v for k, v in self.info.items() if k not in ("path", "seconds")}}


def ranker_featurizer(benchmark, dataset, arms: dict, stream_topics: pd.DataFrame, late,
                      training: pd.DataFrame | None):
    """The rankers' context featurizer: the benchmark's pre-retrieval groups, fitted on the
    stream's topics (rows 0..n-1, as the loop's) followed by the training topics, so one-hot
    and scaled features mean the same on both."""
    from ltrr.selection.context import PRE_RETRIEVAL_GROUPS, ContextFeaturizer

    groups = [g for g in benchmark.features if g in PRE_RETRIEVAL_GROUPS]
    topics = stream_topics if training is None else pd.concat(
        [stream_topics, training[[c for c in stream_topics.columns if c in training.columns]]],
        ignore_index=True)
    return ContextFeaturizer(groups, dataset, arms).fit(topics, late=late,
                                                        stream_length=benchmark.stream_length)


def prepare_stages(benchmark, world, dataset) -> dict[str, LearnedStage]:
    """Train (or load) every ranker the benchmark's policies name, and its ``[ranking]
    target``; InputError on bad input (no training topics, a click log without positions,
    training topics the stream asks, a corrupt cached model), naming the file and the
    ranker's table."""
    from ltrr.arms.base import corpus_fingerprint
    from ltrr.ranking.clicklogs import read_click_log
    from ltrr.ranking.training_data import overlap_info, topic_pools, training_split
    from ltrr.ranking.training import ClickSource, TrainingRequest, train_ranker

    used = {p.ranker for p in benchmark.policies if p.ranker is not None}
    used |= {benchmark.settings.target} - {None}
    if not used:
        return {}
    file = str(benchmark.path)
    configs = {name: benchmark.rankers[name] for name in sorted(used)}
    trained = [c for c in configs.values() if c.train != "online"]
    train = valid = None
    if trained:
        try:
            train, valid = training_split(dataset, reported=world.topics)
        except InputError as err:
            message = str(err).split("; name a dataset")[0]  # ltrr rank's --train is not here
            raise InputError(message, file=file, field=f"rankers.{trained[0].name}.train") from None
        asked = set(world.topics["qid"].astype(str))
        for part in (train, valid):
            if part is not None and asked & set(part.topics["qid"].astype(str)):
                raise InputError(f"ranker '{trained[0].name}' trains on {part.source}, which the "
                                 "stream also asks: stream other topics (e.g. [stream] split = "
                                 "\"test\")", file=file, field="stream.split")
    extra = pd.concat([p.topics for p in (train, valid) if p is not None], ignore_index=True) \
        if train is not None else None
    featurizer = ranker_featurizer(benchmark, dataset, world.arms, world.topics, world.late, extra)
    priors = DocumentPriors(dataset, release=world.late)
    spec = FeatureSpec(tuple(world.arm_names), tuple(featurizer.names), priors.names,
                       benchmark.settings.k)
    stages, pools, rows = {}, {}, {}
    if trained:
        n = len(world.topics)
        rows = {q: n + i for i, q in enumerate(extra["qid"].astype(str))}
        depths = {a: int(world.list_depth[i]) or 1 for i, a in enumerate(world.arm_names)}
        contexts = TopicContexts(featurizer, rows)
        for role, part in (("train", train), ("valid", valid)):
            if part is not None:
                pools[role] = topic_pools(world.arms, depths, part.topics, spec, contexts,
                                          priors.as_of(0), hidden=set(world.late.index))
        key = {"dataset": dataset.id, "corpus": corpus_fingerprint(dataset),
               "arms": {a: getattr(world.arms[a], "cache_key", a) for a in world.arm_names},
               "depths": depths, "spec": spec.describe()}
    for name, config in configs.items():
        model, info = None, {}
        if config.train != "online":
            clicks = None
            if config.train == "clicks":
                log = None if config.log is None else read_click_log(config.log)
                clicks = ClickSource(log=log, log_path=config.log,
                                     click_model=benchmark.settings.clicks,
                                     sessions=config.sessions, page=benchmark.settings.page)
            try:
                model, info = train_ranker(TrainingRequest(
                    mode=config.train, pools=pools, train=train, valid=valid, spec=spec,
                    priors=priors.as_of(0), key={**key, "params": config.params},
                    name=f"loop-{config.name}",
                    correction=config.correction if config.train == "clicks" else None,
                    params=config.params or None, clicks=clicks, seed=0,
                    ranker=ranker_factory(config.model)))
            except InputError as err:
                raise InputError(str(err), file=file, field=f"rankers.{name}") from None
            info.update(overlap_info(train, valid))
        stages[name] = LearnedStage(config, spec, featurizer, priors, model, info)
        stages[name].rows = rows
        stages[name].examination = known_examination(benchmark.settings.clicks,
                                                     benchmark.settings.page)
    return stages
