"""Throughput of each retrieval arm on the BEIR nfcorpus test queries, against the libraries they wrap.

Prints, in one run on the same machine:

1. queries/s of every arm that nfcorpus supports (lexical, dense, memory, fuzzy) at depth k over
   the 323 test queries (indexes loaded from the ltrr cache, built first if missing): on the
   first call (model loading, PISA index preparation, empty memory caches) and the best of
   the following calls (the memory arm caches per-query similarities, as in the loop);
2. the lexical arm's time against calling PISA directly on the same index and queries
   (``PisaIndex(path).bm25(num_results=k)``): the ratio is what our wrapper costs (goal <= 1.3x);
3. the dense arm's document encoding rate (docs/s, the encoder the arm indexes with: OpenVINO
   fp32 by default, behind pyterrier-dr's doc encoder) against ``SentenceTransformer.encode``
   on the same sample of documents, and the largest difference of their vectors
   (``benchmarks/dense_encoding.py`` compares it with the arm's former PyTorch pipeline on
   the music world).

Each timing is the best of ``--repeats`` runs (after a warm-up), and the two sides of each
comparison run in alternation, so that other load on the machine inflates them as little and
as evenly as possible.

Rerun (offline data set up as in the README, e.g. ``ltrr data link ../shared/datasets``)::

    python benchmarks/arm_throughput.py                 # k=1000, 300-doc encoding sample
    python benchmarks/arm_throughput.py --depth 100 --sample 100 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

DATASET = "beir/nfcorpus/test"


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn`` after one warm-up call."""
    return best_times([fn], repeats)[0]


def best_times(fns: list[Callable[[], object]], repeats: int,
               warm_ups: list[Callable[[], object]] | None = None) -> list[float]:
    """Best wall time of each function over ``repeats`` rounds that call them in turn.

    Interleaving the contenders round by round spreads the machine's changing load evenly
    over them (timing one after the other would bias the ratio toward whichever ran in the
    quieter minutes). ``warm_ups`` (default: the functions themselves) run once first.
    """
    for fn in warm_ups or fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=300, help="documents for the encode rate")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np
    from pyterrier_pisa import PisaIndex
    from sentence_transformers import SentenceTransformer

    import ltrr.datasets
    from ltrr.arms import build_arm
    from ltrr.arms.dense import model_path
    from ltrr.arms.lexical import stdout_to_stderr

    dataset = ltrr.datasets.load(DATASET)
    queries = dataset.topics[["qid", "query"]].reset_index(drop=True)
    n = len(queries)
    rows = []
    arms = {}
    for name in ("lexical", "dense", "memory", "fuzzy"):
        arm = arms[name] = build_arm(name, dataset, num_results=args.depth).load()
        start = time.perf_counter()
        arm.transform(queries)  # first call: loads models, prepares PISA, fills memory caches
        first = time.perf_counter() - start
        seconds = best_time(lambda: arm.transform(queries), args.repeats)
        rows.append((name, arm.index_source, n / first, n / seconds))
    print(f"{DATASET}: {n} queries, depth {args.depth}, best of {args.repeats}")
    print(f"{'arm':<10}{'index':>8}{'first call q/s':>16}{'queries/s':>12}")
    for name, source, first_qps, qps in rows:
        print(f"{name:<10}{source:>8}{first_qps:>16.1f}{qps:>12.1f}")

    lexical = arms["lexical"]
    with stdout_to_stderr():
        direct = PisaIndex(str(lexical.index_dir)).bm25(num_results=args.depth)
    ours, theirs = best_times([lambda: lexical.transform(queries),
                               lambda: direct.transform(queries)], args.repeats)
    print(f"\nlexical arm vs PISA directly (same index, same {n} queries, k={args.depth}):")
    print(f"  ltrr LexicalArm.transform   {ours:8.3f} s  {n / ours:8.1f} q/s")
    print(f"  PisaIndex(...).bm25()        {theirs:8.3f} s  {n / theirs:8.1f} q/s")
    print(f"  ratio (ours / PISA)          {ours / theirs:8.2f}x   (goal <= 1.30x)")

    docs = []
    for doc in arms["dense"].doc_texts():
        docs.append(doc)
        if len(docs) == args.sample:
            break
    import pandas as pd

    frame = pd.DataFrame(docs)
    texts = frame["text"].tolist()
    encoder = arms["dense"].encoder.doc_encoder(verbose=False)
    model = SentenceTransformer(model_path(arms["dense"].model))
    reps = max(1, args.repeats // 2)
    ours, theirs = best_times(
        [lambda: encoder.transform(frame), lambda: model.encode(texts, batch_size=32)], reps,
        warm_ups=[lambda: encoder.transform(frame.head(32)),
                  lambda: model.encode(texts[:32], batch_size=32)])
    check = np.abs(np.stack(encoder.transform(frame.head(4))["doc_vec"])
                   - model.encode(texts[:4], batch_size=32)).max()
    print(f"\ndense encoding of {len(texts)} nfcorpus documents (best of {reps}):")
    print(f"  ltrr dense arm ({arms['dense'].backend + ')':<13}  {len(texts) / ours:8.1f} docs/s")
    print(f"  SentenceTransformer.encode     {len(texts) / theirs:8.1f} docs/s")
    print(f"  ratio (time ours / direct)     {ours / theirs:8.2f}x   (max |diff| of vectors {check:.1e})")


if __name__ == "__main__":
    main()
