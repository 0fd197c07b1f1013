"""Training data for the learned ranker from a dataset's topics (for ``ltrr rank`` and the loop's
learned ranking stage alike).

- :func:`training_split`: the topics a ranker may learn from, never the reported ones: the
  ``split == "train"`` rows (validation: ``"dev"`` rows), or for an ir_datasets ``…/test`` id
  its ``…/train`` (and ``…/dev``) sibling on the same corpus, or an id the caller names;
  without the topics whose normalised query text a reported topic asks (an official split
  may repeat a query: nfcorpus' train asks 4 of its test texts), with the overlap measured;
- :func:`topic_pools`: every topic's candidate pool over the arms at their depths (the
  arms' lists come from ltrr's on-disk candidate cache, :mod:`ltrr.arms.lists`),
  its feature matrix, its context vector and its docnos;
- :func:`simulate_click_log`: a seeded click log on training topics: each session shows the
  RRF page of a random non-empty subset of the arms (so documents appear at varied
  positions, as in a uniform policy's log) and a click model clicks on it;
- :func:`click_rows`: a click log's shown rows as ``(X, position, click, group)`` for
  :func:`~ltrr.ranking.learned.fit_clicks`.

The memory arm is used in its cold state (predicted queries, no clicks) for training and
test topics alike, so its features mean the same on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.datasets.splits import TextOverlap, leave_out_shared, split_rows
from ltrr.errors import InputError
from ltrr.kernel.pages import plan_pages
from ltrr.kernel.pools import CandidatePool
from ltrr.kernel.ties import tie_keys
from ltrr.ranking.features import (DocumentPriors, FeatureSpec, PriorsAsOf, absent_features,
                                   pool_features)

EVAL_SPLITS = ("dev", "valid", "validation")
TIE_SEED = 0  # the seed of the tie keys that order the training pools' lists


@dataclass
class Split:
    """Topics and qrels of one role (train, valid), with where they came from and how their
    query texts overlapped the reported topics' (:class:`~ltrr.datasets.splits.TextOverlap`;
    the topics that overlapped are already left out)."""

    topics: pd.DataFrame
    qrels: pd.DataFrame
    source: str
    overlap: TextOverlap | None = None


def training_split(dataset, train_id: str | None = None, valid_id: str | None = None,
                   reported: pd.DataFrame | None = None) -> tuple[Split, Split | None]:
    """The training topics (and validation topics, or None) for ``dataset`` (module docstring).

    ``reported``: the topics results are reported on (the loop's stream; default the test
    split). Training and validation topics whose normalised query text they ask are left
    out (:func:`~ltrr.datasets.splits.leave_out_shared`); each part's ``overlap`` says what
    was there. Raises InputError when there are no training topics, when they share a qid
    with the test topics, or when every one asks a reported text.
    """
    test = split_rows(dataset.topics, "test")
    test_qids = set(test["qid"].astype(str))
    reported = test if reported is None else reported
    if train_id is None and "split" in dataset.topics.columns:
        train = Split(split_rows(dataset.topics, "train"), dataset.qrels,
                      f"{dataset.id} split=='train'")
        rows = dataset.topics[dataset.topics["split"].isin(EVAL_SPLITS)]
        valid = Split(rows, dataset.qrels, f"{dataset.id} split=='dev'") if len(rows) else None
        if valid_id is not None:
            valid = _other(dataset, valid_id)
    else:
        train_id = train_id or _sibling(dataset.id, "train")
        if valid_id is None and train_id == _sibling(dataset.id, "train"):
            valid_id = _sibling(dataset.id, "dev")
        train = _other(dataset, train_id) if train_id else None
        valid = _other(dataset, valid_id) if valid_id else None
    if train is None or not len(train.topics):
        raise InputError(f"dataset '{dataset.id}' has no training topics (no split == 'train' "
                         "topics, no '.../train' or '#train' sibling); name a dataset on the "
                         "same corpus to train on (ltrr rank --train DATASET)")
    for part in (train, valid):
        if part is not None and test_qids & set(part.topics["qid"].astype(str)):
            raise InputError(f"training topics ({part.source}) share qids with the reported "
                             f"test topics of '{dataset.id}'", field="qid")
        if part is not None:
            part.topics, part.overlap = leave_out_shared(part.topics, reported)
    if valid is not None and not len(valid.topics):
        valid = None  # every validation topic asked a reported text: no early stopping
    if not len(train.topics):
        raise InputError(f"every one of the {train.overlap.train_topics} training topics "
                         f"({train.source}) asks a query text the reported topics of "
                         f"'{dataset.id}' ask (compared lower-case, by alphanumeric tokens): "
                         "none is left to train on", field="query")
    return train, valid


def overlap_info(train: Split, valid: Split | None) -> dict:
    """What a ranker's description says about its topics' text overlap with the reported
    ones: ``{"train_overlap": {...}}`` and ``"valid_overlap"`` when there are validation
    topics (:meth:`~ltrr.datasets.splits.TextOverlap.to_dict`)."""
    out = {"train_overlap": train.overlap.to_dict()}
    if valid is not None:
        out["valid_overlap"] = valid.overlap.to_dict()
    return out


def _sibling(dataset_id: str, split: str) -> str | None:
    """The id of the same collection's ``split``: ``beir/nfcorpus/test`` -> ``beir/nfcorpus/
    <split>`` when ir_datasets knows that id; ``beir:FOLDER`` (its test split) ->
    ``beir:FOLDER#<split>`` when the folder has ``qrels/<split>.tsv``."""
    if dataset_id.startswith("beir:"):
        folder, _, current = dataset_id[len("beir:"):].partition("#")
        has = (Path(folder).expanduser() / "qrels" / f"{split}.tsv").is_file()
        return f"beir:{folder}#{split}" if current in ("", "test") and has else None
    if not dataset_id.endswith("/test"):
        return None
    import ir_datasets

    candidate = dataset_id[: -len("test")] + split
    return candidate if candidate in ir_datasets.registry else None


def _other(dataset, other_id: str) -> Split:
    """Topics and qrels of ``other_id``, which must share ``dataset``'s corpus."""
    import ltrr.datasets
    from ltrr.arms.base import corpus_fingerprint

    other = ltrr.datasets.load(other_id)
    if other.num_docs != dataset.num_docs or corpus_fingerprint(other) != corpus_fingerprint(dataset):
        raise InputError(f"'{other_id}' does not share the corpus of '{dataset.id}': a ranker "
                         "trained on it would rank other documents", field="train")
    return Split(other.topics, other.qrels, other_id)


class QueryContexts:
    """Context vectors of queries (ltrr's :class:`~ltrr.selection.context.ContextFeaturizer`).

    Fitted once on every topic it will see (train, valid and test together), so one-hot and
    scaled columns mean the same for all of them. Groups: ``query``, ``idf``, ``context``
    (when the dataset has context columns) and ``post_retrieval`` (from the pool).
    """

    def __init__(self, dataset, topics: pd.DataFrame, arm_names: list[str]) -> None:
        from ltrr.selection.context import ContextFeaturizer

        groups = ["query", "idf"] + (["context"] if dataset.context_columns else [])
        groups.append("post_retrieval")
        topics = topics.drop_duplicates("qid").reset_index(drop=True)
        self.featurizer = ContextFeaturizer(groups, dataset, {a: None for a in arm_names})
        self.featurizer.fit(topics)
        self.row = dict(zip(topics["qid"].astype(str), range(len(topics))))
        self.names = self.featurizer.names

    def vector(self, qid: str, pool: CandidatePool) -> np.ndarray:
        arms = list(self.featurizer.arms)
        return self.featurizer.transform(self.row[str(qid)],
                                         {a: pool.sorted_scores[i] for i, a in enumerate(arms)})


@dataclass
class TopicPools:
    """Per topic: its candidate pool, pool docnos, context vector and feature matrix."""

    topics: pd.DataFrame
    pools: list[CandidatePool]
    docnos: list[np.ndarray]
    contexts: list[np.ndarray]
    features: list[np.ndarray]

    def stacked(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, group)``: every topic's rows, and the topic index of each row."""
        sizes = [len(x) for x in self.features]
        X = np.vstack(self.features) if self.features else np.zeros((0, 0))
        return X, np.repeat(np.arange(len(sizes)), sizes)

    def labels(self, qrels: pd.DataFrame) -> list[np.ndarray]:
        """Per topic, the qrels label of each pool document (unjudged = 0)."""
        grade = {(str(q), str(d)): int(g) for q, d, g in
                 zip(qrels["qid"], qrels["docno"], qrels["label"])}
        return [np.array([grade.get((str(qid), d), 0) for d in docnos], dtype=np.int64)
                for qid, docnos in zip(self.topics["qid"], self.docnos)]


def topic_pools(arms: dict, depths: dict[str, int], topics: pd.DataFrame, spec: FeatureSpec,
                contexts: QueryContexts, priors: DocumentPriors | PriorsAsOf | None,
                hidden: set[str] | None = None) -> TopicPools:
    """Pools and features of ``topics`` over ``arms`` (name -> arm) at ``depths``, as the
    loop sees them at step 0: each list's scores compared at the loop's precision, ordered by
    (rounded score, tie key of :data:`TIE_SEED`), documents in ``hidden`` (released later in
    the loop's stream) left out before the top ``depth`` is taken; the loop passes
    ``priors`` as of step 0 (:meth:`DocumentPriors.as_of`), the same moment."""
    from ltrr.arms.lists import complete_lists

    topics = topics[["qid", "query"] + [c for c in topics.columns if c not in ("qid", "query")]]
    topics = topics.reset_index(drop=True)
    late = pd.Series(1, index=sorted(hidden or ()), dtype=np.int64)
    lists = [complete_lists(arms[a], topics, depths[a], late) for a in spec.arms]
    for lst, a in zip(lists, spec.arms):
        for t, docnos in enumerate(lst.docnos):
            order = np.lexsort((tie_keys(docnos, TIE_SEED), -lst.scores[t]))
            keep = order[~np.isin(docnos[order], late.index)][:depths[a]]
            lst.docnos[t], lst.scores[t] = docnos[keep], lst.scores[t][keep]
    pools, docnos, ctx, feats = [], [], [], []
    for t, qid in enumerate(topics["qid"].astype(str)):
        per_arm = [lst.docnos[t] for lst in lists]
        codes, uniques = pd.factorize(np.concatenate(per_arm) if per_arm else np.empty(0, str),
                                      sort=True)
        bounds = np.cumsum([0] + [len(x) for x in per_arm])
        pool = CandidatePool.from_lists([codes[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
                                        [lst.scores[t] for lst in lists])
        names = np.asarray(uniques, dtype=object)[pool.docs]
        context = contexts.vector(qid, pool)
        prior = priors.values(names) if priors is not None and spec.prior_names else None
        pools.append(pool)
        docnos.append(names)
        ctx.append(context)
        feats.append(pool_features(pool, spec, context, prior))
    return TopicPools(topics, pools, docnos, ctx, feats)


def simulate_click_log(pools: TopicPools, grades: list[np.ndarray], click_model, sessions: int,
                       seed: int, page: int = 10, k: int = 60) -> pd.DataFrame:
    """A seeded click log ``session, qid, docno, position, click`` (see the module docstring).

    ``grades`` are per topic the 0..4 grades of the pool documents (the click model's scale);
    ``click_model`` has ``sample(page_grades, rng)`` (:class:`ltrr.simulation.clicks.ClickModel`).
    """
    rng = np.random.default_rng([seed, 808])
    n_topics = len(pools.pools)
    if n_topics == 0:
        raise InputError("no training topics to simulate clicks on")
    n_arms = pools.pools[0].ranks.shape[0]
    out = {c: [] for c in ("session", "qid", "docno", "position", "click")}
    qids = pools.topics["qid"].astype(str).to_numpy()
    keys = [tie_keys(docnos, seed) for docnos in pools.docnos]  # fusion's tie rule
    for s in range(int(sessions)):
        t = int(rng.integers(n_topics))
        use = rng.random(n_arms) < 0.5
        if not use.any():
            use[rng.integers(n_arms)] = True
        pool = pools.pools[t]
        depths = np.where(use, np.iinfo(np.int32).max - 1, 0)[None, :]
        shown = plan_pages(pool, depths, "rrf", k, page, keys[t])[0][0]
        shown = shown[shown >= 0]
        clicks = click_model.sample(grades[t][shown], rng)
        out["session"].append(np.full(len(shown), s))
        out["qid"].append(np.full(len(shown), qids[t], dtype=object))
        out["docno"].append(pools.docnos[t][shown])
        out["position"].append(np.arange(len(shown)))
        out["click"].append(np.asarray(clicks, dtype=np.int8))
    return pd.DataFrame({c: np.concatenate(v) if v else np.empty(0) for c, v in out.items()})


def click_rows(pools: TopicPools, log: pd.DataFrame, spec: FeatureSpec,
               priors: DocumentPriors | PriorsAsOf | None) -> tuple[np.ndarray, ...]:
    """``(X, position, click, group)`` of a long click log's rows on ``pools``' topics.

    Rows of other topics are dropped (a ranker never trains on the reported topics); a shown
    document the topic's pool lacks gets :func:`~ltrr.ranking.features.absent_features`.
    Raises InputError when no row is left.
    """
    row_of = dict(zip(pools.topics["qid"].astype(str), range(len(pools.pools))))
    topic = log["qid"].astype(str).map(row_of)
    keep = topic.notna().to_numpy()
    if not keep.any():
        raise InputError(f"the click log has no interactions on the {len(row_of)} training "
                         f"topics ({len(log)} rows on other topics are never trained on)")
    log = log[keep].assign(_t=topic[keep].astype(int).to_numpy())
    X = np.zeros((len(log), spec.dim))
    docno = log["docno"].astype(str).to_numpy()
    for t, idx in log.groupby("_t", sort=False).indices.items():
        names = pools.docnos[t].astype(str)  # in pool order (first appearance)
        order = np.argsort(names, kind="stable")
        at = order[np.minimum(np.searchsorted(names, docno[idx], sorter=order),
                              max(len(names) - 1, 0))] if len(names) else np.zeros(len(idx), int)
        found = (names[at] == docno[idx]) if len(names) else np.zeros(len(idx), bool)
        X[idx[found]] = pools.features[t][at[found]]
        if (~found).any():
            missing = docno[idx[~found]]
            prior = priors.values(missing) if priors is not None and spec.prior_names else None
            X[idx[~found]] = absent_features(spec, len(missing), pools.contexts[t], prior)
    return (X, log["position"].to_numpy(np.int64), log["click"].to_numpy(np.int8),
            pd.factorize(log["session"])[0])
