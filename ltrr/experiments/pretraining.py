"""The examples of the policies that learn before the stream (``router``, ``linucb_warm``):
the dataset's training topics, their contexts and every plan's value, as the loop sees them
at step 0.

Which topics: :func:`~ltrr.ranking.training_data.training_split`'s (the music world's
``split == "train"`` rows, nfcorpus' ``beir/nfcorpus/train``, ``ltrr:mixed``'s train split),
the learned rankers' rule. A policy that learns from them must never be reported on them, so
the run is refused (InputError naming the benchmark file and ``stream.split``) when the stream
asks one of their qids; training topics whose normalised query text the stream asks are left
out (nfcorpus' train split repeats 4 test texts), and the records say so
(``training.overlap``). The examples are made from the training topics' own qrels only.

How: a :class:`~ltrr.simulation.world.World` over the training topics, with the benchmark's
arms, plans, users, reward, release schedule and grade scale (the stream's largest label is
grade 4 on both), is played for one step per topic at step 0
(the memory arm cold, documents released later hidden, ties by
:data:`~ltrr.ranking.training_data.TIE_SEED`'s keys), with the loop's own compiled step functions:
each plan's page (the fusion's, or for a policy ranked by a trained ranker, that ranker's
ranking of the pool; an online ranker has no model at step 0), its expected reward minus the
plan's cost, and the topic's context (:func:`~ltrr.selection.context.context_row`). The
context features are the loop's: fitted on the stream's topics and the training topics
together, their columns taken in the loop's order, and checked to give the stream's topics
exactly the values the loop gives them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ltrr.errors import InputError


def training_rankers(benchmark) -> list[str | None]:
    """The ranking stages (None: the fusion) of the benchmark's policies that learn before the
    stream, in file order."""
    from ltrr.selection.policies import uses_training

    return list(dict.fromkeys(spec.ranker for spec in benchmark.policies
                              if uses_training(spec.name)))


def prepare_training(benchmark, world, featurizer, dataset, stages: dict) -> dict:
    """``{ranking stage name or None: TrainingSet}`` for the policies that learn before the
    stream (empty when there are none); InputError (naming the file) when the dataset has no
    training topics or the stream asks one."""
    from ltrr.selection.policies.router import TrainingSet
    from ltrr.simulation.world import World

    rankers = training_rankers(benchmark)
    if not rankers:
        return {}
    if world.online and world.memory is None:
        raise InputError(f"the outside online arm '{world.online[0]}' cannot be played on the "
                         "training topics (only ltrr's memory arm can)", file=str(benchmark.path),
                         field="arms.names")
    topics, qrels, info = training_topics(benchmark, world, dataset)
    tables = training_features(benchmark, world, featurizer, dataset, topics)
    trained = {r: stages[r] for r in rankers if r is not None and stages[r].model is not None}
    where = World(replace(dataset, qrels=qrels), world.arms, world.plans, world.settings,
                  world.stream_length, topics, max_grade=world.max_grade)
    contexts, fused, ranked = step_zero(where, tables, trained)
    qids = tuple(topics["qid"].astype(str))
    # a stage without a trained model (online) shows the fused pages, at its own prices
    return {r: TrainingSet(qids, tuple(featurizer.names), contexts,
                           ranked[r] if r in ranked else fused + where.cost - where.plan_cost(r),
                           tuple(world.plan_ids), {**info, "ranker": r or world.settings.fusion})
            for r in rankers}


def training_topics(benchmark, world, dataset) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The training topics (without those whose text the stream asks), their qrels and what
    a record says about them; InputError when there are none or the stream asks one."""
    from ltrr.datasets.splits import split_rows
    from ltrr.ranking.training_data import training_split
    from ltrr.selection.policies import uses_training

    file = str(benchmark.path)
    label = next(s.label for s in benchmark.policies if uses_training(s.name))
    asked = set(world.topics["qid"].astype(str))
    if "split" in dataset.topics.columns:
        shared = sorted(asked & set(split_rows(dataset.topics, "train")["qid"].astype(str)))
        if shared:
            raise InputError(f"policy '{label}' learns from the training topics (split == "
                             f"'train') before the stream, and the stream asks {len(shared)} "
                             f"of them (e.g. {', '.join(shared[:3])}): stream only topics it "
                             "never learns from ([stream] split = \"test\")", file=file,
                             field="stream.split")
    try:
        train, _ = training_split(dataset, reported=world.topics)
    except InputError as err:
        message = err.message.split("; name a dataset")[0]  # ltrr rank's --train is not here
        raise InputError(f"policy '{label}' learns from the dataset's training topics: {message}",
                         file=file, field="stream.split" if err.field == "query"
                         else "benchmark.dataset") from None
    topics = train.topics.reset_index(drop=True)
    info = {"source": train.source, "topics": len(topics), "overlap": train.overlap.to_dict()}
    return topics, train.qrels, info


def training_features(benchmark, world, featurizer, dataset, topics: pd.DataFrame):
    """The loop featurizer's :class:`~ltrr.selection.context.FeatureTables` for ``topics``
    (rows in their order): fitted on the stream's topics followed by them, columns in the
    loop's order; InputError when that changes what the stream's topics get (a context
    column scaled over the topics' range, say)."""
    from ltrr.selection.context import ContextFeaturizer

    n = len(world.topics)
    joint = ContextFeaturizer(featurizer.groups, dataset, world.arms,
                              probe_arms=list(featurizer.probe_arms),
                              probe_depth=featurizer.probe_depth)
    columns = [c for c in world.topics.columns if c in topics.columns]
    joint.fit(pd.concat([world.topics, topics[columns]], ignore_index=True), late=world.late,
              stream_length=world.stream_length)
    order = [joint.names.index(name) for name in featurizer.names]
    loop, both = featurizer.tables(world.arm_names), joint.tables(world.arm_names)
    static = both.static[:, order]
    if not (np.array_equal(static[:n], loop.static)
            and np.array_equal(both.idf_table[:, :n], loop.idf_table)):
        raise InputError("the training topics' context features cannot be computed as the "
                         "loop computes the stream's: fitted together, the stream's topics "
                         "get other values (a context column scaled over the topics' range?)",
                         file=str(benchmark.path), field="features.groups")
    return loop._replace(static=np.ascontiguousarray(static[n:]),
                         idf_table=np.ascontiguousarray(both.idf_table[:, n:]))


def step_zero(world, tables, stages: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per topic of ``world`` at step 0: its context (``tables``), every plan's expected
    reward minus cost under the fusion, and under each trained ranking stage of ``stages``
    (name -> :class:`~ltrr.ranking.stage.LearnedStage`, its pages ranked by its model)."""
    from ltrr.arms.memory_kernel import memory_features
    from ltrr.ranking.features import pool_features
    from ltrr.ranking.training_data import TIE_SEED
    from ltrr.selection.context import context_row
    from ltrr.simulation.engine import RunOutputs, online_lists
    from ltrr.simulation.loop import _pool, _rank_pages
    from ltrr.simulation.truths import fill_lists, fill_truths

    tb = world.tables
    seed = world.seed(TIE_SEED)
    buf = world.buffers()
    on = world.online_arm(TIE_SEED, 1)
    dim = tables.static.shape[1]
    out = RunOutputs.make(1, len(world.plan_ids), world.settings.page, len(world.arm_names), dim)
    width = max(int(tb.list_depth.max()), 1)
    docs, scores = np.empty(width, dtype=np.int64), np.empty(width)
    memory = np.zeros(3)
    n = len(world.topics)
    contexts, fused = np.zeros((n, dim)), np.zeros((n, len(world.plan_ids)))
    ranked = {name: np.zeros_like(fused) for name in stages}
    priors = {name: stage.priors.at(stage.priors.rows(world.vocab.docnos), 0)
              for name, stage in stages.items()}
    for t, qid in enumerate(world.topics["qid"].astype(str)):
        fill_lists(tb, seed.lists, t, 0, buf)
        if on.arm >= 0:
            online_lists(tb, on, t, 0, buf, out, docs, scores)
            memory_features(on.tables, on.state, t, memory)
        size = fill_truths(tb, seed.cache, t, 0, buf)
        context_row(tables, t, 0, memory, buf.scores, buf.lengths, contexts[t])
        fused[t] = world.expected_reward(buf.page_grades) - world.cost
        pool = _pool(buf, size) if stages else None  # ranking a page leaves the pool as it is
        for name, stage in stages.items():
            X = pool_features(pool, stage.spec, stage.context(stage.rows[qid], 0, memory),
                              priors[name][pool.docs])
            _rank_pages(world, buf, size, stage.model.score(X))
            ranked[name][t] = buf.expected - world.plan_cost(name)
    return contexts, fused, ranked
