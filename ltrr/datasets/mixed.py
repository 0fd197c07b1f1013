"""``ltrr:mixed``: vaswani, cranfield and BEIR nfcorpus (test) as one collection, three query types.

Real traffic mixes kinds of queries; each shipped collection alone has one kind (physics
keyword phrases, aeronautics questions, consumer health questions). This collection is their
union, so that a policy has to learn which arms serve which kind (``datasets/mixed.md``):

- **corpus**: every document of the three collections, ``docno`` prefixed with its collection
  (``vaswani:1``, ``cranfield:1``, ``nfcorpus:MED-10``: the collections' own ids collide).
  Records: ``docno``, ``collection``, ``title`` (cranfield's and nfcorpus' titles; ``""`` for
  vaswani, which has none), ``text`` (the collection's ``text``) and ``contents``: the
  collection's own text fields joined by a space, which is what the lexical and dense arms
  index (``text_fields = ["contents"]``), so each document is indexed with the text it has in
  its own collection (cranfield's ``text`` already starts with its title; nfcorpus joins
  ``title`` and ``text``). Other fields (cranfield's ``author``, ``bib``; nfcorpus' ``url``) are
  dropped.
- **topics**: all topics of the three, ``qid`` prefixed the same way, with a ``collection``
  column and a ``weight`` column (the stream draws by it, see below). With ``context=1`` (the
  default) ``collection`` is a context column, so contextual policies see the source of each
  query (the ``context`` feature group one-hot encodes it); with ``context=0`` it is a plain
  topic column that no policy sees (``ltrr arms`` still groups by it).
- **qrels**: each collection's own judgements, prefixed. Grades are mapped per collection onto
  0..4 by that collection's own maximum grade (``round(4 * label / max_grade)`` for labels
  > 0; labels <= 0 kept), the mapping the loop applies to a collection run alone
  (:func:`ltrr.kernel.clicks.scale_grades`). Without it the loop would scale the union by
  its overall maximum (cranfield's 4) and vaswani's only grade 1 would become 1 instead of 4,
  nfcorpus' 1/2 would become 1/2 instead of 2/4. A per-collection factor leaves every
  per-query measure unchanged (nDCG's gains scale by the same factor in the ideal ranking;
  recall and RR count labels > 0), so each part scores as its collection does alone.
  cranfield's labels keep ir_datasets' direction (4 = highest gain; see ``datasets/cranfield.md``).
- **split**: a ``split`` column, ``test`` or ``train``, so that a model trained on judged
  topics (the supervised router, a learned ranker) has topics of its own and is reported on
  others (``benchmarks/mixed.toml`` streams ``split = "test"``). nfcorpus' part is its
  official split: ``beir/nfcorpus/test`` is test, ``beir/nfcorpus/train`` (appended after
  the test part's rows, with its qrels) is train. vaswani and cranfield have no split of
  their own: each topic is proposed for training with probability :data:`TRAIN_SHARE` by a
  generator of fixed seed :data:`SPLIT_SEED` (not the dataset's ``seed``), and every topic
  of a normalised query text goes where the text's first topic was proposed
  (:func:`~ltrr.datasets.splits.split_by_text`). Last, training topics whose normalised
  text a test topic asks (4 of nfcorpus' train topics) are left out, with their qrels: no
  text is asked on both sides.
- **stream weights**: within each split, each collection gets an equal third of the
  traffic (no collection dominates the mean by its topic count); within a collection,
  popularity follows a Zipf law with exponent 1 over an order of its topics drawn from
  ``seed`` (head queries repeat, as in ``benchmarks/nfcorpus.toml``'s stream). The order is
  fixed by the dataset's ``seed`` (default 0), not by the run's seed.

Settings (``ltrr:mixed?seed=S&context=C``): ``seed`` >= 0 (popularity order, default 0),
``context`` 1 or 0 (default 1).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from ltrr.datasets.base import Dataset
from ltrr.datasets.splits import leave_out_shared, split_by_text
from ltrr.errors import InputError

# (collection name = id prefix, ir_datasets id), in the order topics and documents are listed.
PARTS = (("vaswani", "vaswani"), ("cranfield", "cranfield"), ("nfcorpus", "beir/nfcorpus/test"))
TRAIN_PART = ("nfcorpus", "beir/nfcorpus/train")  # a part's own training topics, appended
TRAIN_SHARE = 1 / 3  # of vaswani's and cranfield's topics, proposed for training
SPLIT_SEED = 404  # the split's generator: fixed, whatever the dataset's seed
FIELDS = ["docno", "collection", "title", "text", "contents"]
ZIPF = 1.0
TOP_GRADE = 4


def prefixed(collection: str, ids: pd.Series) -> pd.Series:
    """``collection:id`` for each id (the union's docnos and qids)."""
    return collection + ":" + ids.astype(str)


def label_map(labels: pd.Series) -> dict[int, int]:
    """One collection's grades onto 0..4 by its own maximum grade; labels <= 0 unchanged."""
    top = int(labels.max())
    return {int(g): (int(np.rint(TOP_GRADE * g / top)) if g > 0 else int(g))
            for g in sorted(labels.unique())}


def zipf_weights(n: int, rng: np.random.Generator) -> np.ndarray:
    """Probabilities of ``n`` topics: Zipf over a random popularity order, summing to 1."""
    order = rng.permutation(n)  # order[r] = topic at popularity rank r
    weights = np.empty(n)
    weights[order] = np.arange(1, n + 1, dtype=float) ** -ZIPF
    return weights / weights.sum()


def stream_weights(topics: pd.DataFrame, n_collections: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Per topic: within its split, a ``1 / n_collections`` share for its collection, Zipf
    over a random order of the collection's topics (splits, then collections, in order)."""
    weights = np.zeros(len(topics))
    for split in ("test", "train"):
        for name in topics["collection"].unique():
            rows = np.flatnonzero(((topics["split"] == split) & (topics["collection"] == name))
                                  .to_numpy())
            if len(rows):
                weights[rows] = zipf_weights(len(rows), rng) / n_collections
    return weights


def _docs(parts: list[tuple[str, Dataset]]):
    def iterate() -> Iterator[dict]:
        for name, part in parts:
            for doc in part.docs():
                yield {"docno": f"{name}:{doc['docno']}", "collection": name,
                       "title": str(doc.get("title") or ""), "text": str(doc.get("text") or ""),
                       "contents": " ".join(str(doc[f]) for f in part.text_fields
                                            if doc.get(f)).strip()}
    return iterate


def load(seed: int = 0, context: int = 1) -> Dataset:
    """The union of vaswani, cranfield and beir/nfcorpus/test (see the module docstring)."""
    from ltrr.datasets.irds import load_irds

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"ltrr:mixed seed must be an integer >= 0, got {seed!r}", field="seed")
    if not isinstance(context, (int, np.integer)) or context not in (0, 1):
        raise InputError(f"ltrr:mixed context must be 0 or 1, got {context!r}", field="context")
    parts = [(name, load_irds(irds_id)) for name, irds_id in PARTS]
    extra = load_irds(TRAIN_PART[1])
    proposer = np.random.default_rng(SPLIT_SEED)
    topics, qrels, maps = [], [], {}
    for name, part in parts + [(TRAIN_PART[0], extra)]:
        t = part.topics[["qid", "query"]].copy()
        t["qid"] = prefixed(name, t["qid"])
        t["collection"] = name
        if part is extra:
            t["split"] = "train"
        elif name == TRAIN_PART[0]:
            t["split"] = "test"
        else:
            t["split"] = split_by_text(t["query"], proposer.random(len(t)) < TRAIN_SHARE)
        topics.append(t)
        labels = pd.concat([part.qrels["label"], extra.qrels["label"]]) \
            if name == TRAIN_PART[0] else part.qrels["label"]
        maps.setdefault(name, label_map(labels))
        q = part.qrels.copy()
        q["qid"], q["docno"] = prefixed(name, q["qid"]), prefixed(name, q["docno"])
        q["label"] = q["label"].map(maps[name]).astype("int64")
        qrels.append(q)
    topics = pd.concat(topics, ignore_index=True)
    train = topics["split"] == "train"
    kept, _ = leave_out_shared(topics[train], topics[~train])  # no text on both sides
    topics = pd.concat([topics[~train], kept]).sort_index().reset_index(drop=True)
    qrels = pd.concat(qrels, ignore_index=True)
    qrels = qrels[qrels["qid"].isin(set(topics["qid"]))].reset_index(drop=True)
    topics["weight"] = stream_weights(topics, len(parts), np.random.default_rng([int(seed), 303]))
    settings = "" if (seed, context) == (0, 1) else f"?seed={seed}&context={context}"
    dataset_id = "ltrr:mixed" + settings
    return Dataset(
        id=dataset_id,
        docs=_docs(parts),
        topics=topics,
        qrels=qrels,
        text_fields=["contents"],
        fields=list(FIELDS),
        num_docs=sum(part.num_docs for _, part in parts),
        context_columns=["collection"] if context else [],
        meta={
            "source": "ltrr",
            "name": "vaswani + cranfield + BEIR nfcorpus (test)",
            "collections": {name: irds_id for name, irds_id in PARTS},
            "label_maps": maps,
            "stream": f"equal share per collection within each split; Zipf({ZIPF:g}) within "
                      f"each over an order drawn from seed {seed}",
            "split": f"nfcorpus: its own test and train; vaswani, cranfield: {TRAIN_SHARE:.3g} "
                     f"of the query texts to train (seed {SPLIT_SEED}); no text on both sides",
            "settings": {"seed": int(seed), "context": int(context)},
            "corpus_id": "ltrr:mixed",  # every setting has the same corpus: arms share indexes
            "bibtex_ids": [b for _, part in parts for b in part.meta.get("bibtex_ids", [])],
            "ignore_identical_ids": False,  # prefixed ids: no query id is a document id
        },
    )
