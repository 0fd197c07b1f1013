"""Learning to rank and retrieve as a PyTerrier pipeline, on a real collection (docs/pipelines.md).

A notebook in script form (each ``# %%`` is a cell). It builds BM25 and dense arms over
vaswani or BEIR nfcorpus, lets a LinUCB selector learn online which arms to call and how deep
over a stream of training topics (simulated users clicking over the training qrels), trains a
LambdaMART ranker on the training topics' pools of every plan, and compares, on the test topics, with
``pt.Experiment``: BM25, dense, their static union fused by RRF, the selector fused by RRF,
and the selector reranked by LambdaMART (paired t-tests against BM25, Holm-corrected).

    python docs/examples/selector_pipeline.py --dataset vaswani [--out table.md]
    python docs/examples/selector_pipeline.py --dataset nfcorpus [--out table.md]

Needs the collection in ir_datasets' cache (``ltrr data link DIR`` places the archives
offline) and the bundled MiniLM model (``HF_HUB_OFFLINE=1``). Bad input exits with code 2.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
import pyterrier as pt
from ir_measures import R, nDCG

from ltrr import datasets
from ltrr.arms import build_arm
from ltrr.datasets.splits import leave_out_shared, split_by_text
from ltrr.errors import InputError
from ltrr.kernel.clicks import DependentClickModel
from ltrr.ranking.features import FeatureSpec
from ltrr.ranking.fusion import Fusion
from ltrr.ranking.learned import fit_qrels
from ltrr.ranking.pipeline import ArmsUnion, LearnedRanker, RankFeatures
from ltrr.selection.selector import Selector
from ltrr.simulation.users import SimulatedUsers

BUDGET = 50  # candidates per query, every system
STREAM, BATCH, SEED = 2000, 50, 0
COLLECTIONS = {"vaswani": "vaswani", "nfcorpus": "beir/nfcorpus/test"}


def topics_and_qrels(name: str):
    """The collection, its training and test topics (no query text on both sides) and qrels,
    and the label that is the users' top grade."""
    dataset = datasets.load(COLLECTIONS[name])
    if name == "nfcorpus":  # BEIR's own train split, less the texts the test topics ask
        train_set = datasets.load("beir/nfcorpus/train")
        train = leave_out_shared(train_set.topics, dataset.topics)[0]
        return dataset, train, train_set.qrels, dataset.topics, dataset.qrels
    # vaswani has no split: half its topics by text, seeded
    topics = dataset.topics.reset_index(drop=True)
    side = split_by_text(topics["query"], np.random.default_rng(SEED).random(len(topics)) < 0.5)
    return (dataset, topics[side == "train"], dataset.qrels, topics[side == "test"],
            dataset.qrels)


def stream_batches(train: pd.DataFrame, rng: np.random.Generator):
    """``STREAM`` training queries drawn uniformly, in batches of distinct queries."""
    draws = rng.integers(0, len(train), size=STREAM)
    batch: list[int] = []
    for t in draws.tolist():
        if t in batch or len(batch) == BATCH:
            yield train.iloc[batch]
            batch = []
        batch.append(t)
    if batch:
        yield train.iloc[batch]


def run(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pt.Experiment table and the plans the selector chose on the test topics."""
    # %% the collection and its arms (indexes are built once, then cached)
    dataset, train, train_qrels, test, test_qrels = topics_and_qrels(name)
    top = int(test_qrels["label"].max())  # the test scale's top label is the users' grade 4
    bm25 = build_arm("lexical", dataset)
    dense = build_arm("dense", dataset)
    arms = {"bm25": bm25, "dense": dense}

    # %% the selector: LinUCB over single arms, a 80/20 split and the even union
    selector = Selector(arms, "linucb", budget=BUDGET,
                        plans={"single": True, "skewed": [[0.8, 0.2]], "union": True},
                        features=["query", "idf"], dataset=dataset, page=10,
                        users=DependentClickModel("informational"), max_grade=top, seed=SEED)
    retrieve = selector >> Fusion("rrf", num_results=BUDGET)

    # %% it learns online: simulated users click on the top 10 of each page
    users = SimulatedUsers(train_qrels, DependentClickModel("informational"), page=10, seed=SEED,
                           max_grade=top)
    for batch in stream_batches(train.reset_index(drop=True), np.random.default_rng(SEED)):
        selector.learn(users(retrieve.transform(batch)))
    learnt = selector.decisions

    # %% a LambdaMART ranker trained on the training topics' pools of every plan (the pools
    # it will rank: whichever plan the selector picks), one query group per topic and plan
    spec = FeatureSpec(("bm25", "dense"))
    features = RankFeatures(spec)
    judged = train_qrels.assign(qid=train_qrels["qid"].astype(str))
    pools = []
    for plan in selector.plans:
        union = ArmsUnion({arm: arms[arm] % depth for arm, depth in plan.depths if depth})
        pools.append((union >> features).transform(train).assign(group=plan.id))
    pools = pd.concat(pools, ignore_index=True)
    X = np.stack(pools["features"].to_numpy())
    labels = pools.merge(judged, on=["qid", "docno"], how="left")["label"].fillna(0).to_numpy()
    model = fit_qrels(X, labels, (pools["group"] + "|" + pools["qid"]).to_numpy(),
                      feature_names=spec.names)

    # %% the test topics: five systems at the same budget, paired tests against BM25
    half = BUDGET // 2
    systems = [bm25 % BUDGET, dense % BUDGET,
               ArmsUnion({"bm25": bm25 % half, "dense": dense % half}) >> Fusion(
                   "rrf", num_results=BUDGET),
               retrieve, selector >> LearnedRanker(model, features, num_results=BUDGET)]
    names = ["BM25", "dense", f"union {half}+{half} >> RRF", "selector >> RRF",
             "selector >> LambdaMART"]
    table = pt.Experiment(systems, test, test_qrels, eval_metrics=[nDCG @ 10, R @ BUDGET],
                          names=names, baseline=0, correction="holm", round=4)
    # the plans chosen for the test topics (the first of the two systems that ask the selector)
    tested = selector.decisions.iloc[len(learnt):len(learnt) + len(test)]
    plans = tested["action"].value_counts().rename_axis("plan").reset_index(name="test topics")
    return table, plans


def markdown(table: pd.DataFrame, plans: pd.DataFrame) -> str:
    """The tables as docs/pipelines.md shows them: each measure, the topics a system wins and
    loses against BM25, and the Holm-corrected p-value of the paired t-test."""
    rows = []
    for _, row in table.iterrows():
        cells = [row["name"]]
        for measure in ("nDCG@10", f"R@{BUDGET}"):
            base = row[f"{measure} +"] != row[f"{measure} +"]  # NaN: the baseline's own row
            cells += [f"{row[measure]:.4f}",
                      "" if base else f"{int(row[f'{measure} +'])}/{int(row[f'{measure} -'])}",
                      "" if base else f"{row[f'{measure} p-value corrected']:.3g}"
                      + (" *" if row[f"{measure} reject"] else "")]
        rows.append(cells)
    header = ["system", "nDCG@10", "+/-", "p (Holm)", f"R@{BUDGET}", "+/-", "p (Holm)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n\n" + plans.to_markdown(index=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(COLLECTIONS), default="vaswani")
    parser.add_argument("--out", help="write the Markdown tables here too")
    args = parser.parse_args(argv)
    try:
        text = markdown(*run(args.dataset))
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
