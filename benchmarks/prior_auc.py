"""How well each document prior of a dataset separates relevant documents from the others.

Usage::

    python benchmarks/prior_auc.py [DATASET] [--arms lexical,dense,memory,fuzzy,structured]
                                   [--depth 100]

For each prior the dataset declares (:class:`ltrr.ranking.features.DocumentPriors`; default
``ltrr:music``), the ROC AUC of the prior's value (ties count half):

- **corpus**: the relevant (query, document) pairs (label > 0) of all topics and of the test
  topics against every document of the corpus: the chance that a relevant document's prior
  beats a random document's; per intent of the test topics where they have an ``intent``;
- **pools** (with ``--arms``): within each test topic's candidate union (every arm's top
  ``--depth``, the learned ranker's input), relevant pool documents against the pool's
  others, pooled over topics: what a ranker can gain from the prior alone.

The music world's judge ranks relevant documents by popularity (``datasets/music.md``), so its
popularity prior is informative by design: 0.5 is no information, 1.0 separates perfectly.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC of ``positive`` against ``negative`` values (Mann-Whitney; ties count half)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    if not len(positive) or not len(negative):
        return float("nan")
    ranks = rankdata(np.concatenate([positive, negative]))
    n = len(positive)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * len(negative)))


def corpus_auc(dataset, priors) -> pd.DataFrame:
    """Per prior (columns) and topic group (rows): relevant pairs against the corpus."""
    from ltrr.datasets.splits import split_topics

    docnos = [str(d["docno"]) for d in dataset.docs()]
    everything = priors.values(docnos)
    test = split_topics(dataset.topics, "test")
    judged = dataset.qrels[dataset.qrels["label"] > 0]
    relevant = judged[judged["qid"].isin(set(test["qid"]))]
    groups = {"all topics": judged, "test topics": relevant}
    if "intent" in test.columns:
        intent = relevant["qid"].map(test.set_index("qid")["intent"])
        groups.update({f"intent={i}": relevant[intent == i] for i in sorted(intent.unique())})
    rows = {}
    for group, pairs in groups.items():
        values = priors.values(pairs["docno"].astype(str).tolist())
        rows[group] = [auc(values[:, p], everything[:, p]) for p in range(len(priors.names))]
    return pd.DataFrame(rows, index=list(priors.names)).T


def pool_auc(dataset, priors, arm_names: list[str], depth: int) -> pd.Series:
    """Per prior: relevant against other documents within each test topic's candidate union."""
    from ltrr.arms import build_arm
    from ltrr.datasets.splits import split_topics
    from ltrr.arms.lists import arm_lists

    test = split_topics(dataset.topics, "test").reset_index(drop=True)
    lists = [arm_lists(build_arm(a, dataset, num_results=depth).load(), test, depth)
             for a in arm_names]
    grade = {(str(q), str(d)): int(g) for q, d, g in
             zip(dataset.qrels["qid"], dataset.qrels["docno"], dataset.qrels["label"])}
    docnos, labels = [], []
    for t, qid in enumerate(test["qid"].astype(str)):
        union = np.unique(np.concatenate([lst.docnos[t] for lst in lists]))
        docnos.append(union)
        labels.append([grade.get((qid, d), 0) > 0 for d in union])
    values = priors.values(np.concatenate(docnos).tolist())
    relevant = np.concatenate(labels)
    return pd.Series([auc(values[relevant, p], values[~relevant, p])
                      for p in range(len(priors.names))], index=list(priors.names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", default="ltrr:music")
    parser.add_argument("--arms", default=None, help="comma-separated arms of the pools")
    parser.add_argument("--depth", type=int, default=100)
    args = parser.parse_args()

    import ltrr.datasets
    from ltrr.ranking.features import DocumentPriors

    dataset = ltrr.datasets.load(args.dataset)
    priors = DocumentPriors(dataset)
    if not priors.names:
        raise SystemExit(f"dataset '{dataset.id}' declares no priors")
    print(f"{dataset.id}: ROC AUC of each prior, relevant pairs vs every corpus document")
    print(corpus_auc(dataset, priors).to_string(float_format=lambda x: f"{x:.3f}"))
    if args.arms:
        arms = [a.strip() for a in args.arms.split(",") if a.strip()]
        print(f"\nwithin the test topics' candidate unions ({', '.join(arms)} at depth "
              f"{args.depth}), relevant vs other pool documents:")
        print(pool_auc(dataset, priors, arms, args.depth).to_string(
            float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
