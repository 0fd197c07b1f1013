"""The dense arm's first-run encoding: today's OpenVINO encoder against the PyTorch pipeline it replaced.

Building the dense index (all-MiniLM-L6-v2 over the music world's 20,000 entities, ~52 tokens
each) is the longest step of a new user's first ``tox -e music``. This script encodes the same
N music entities (title + " " + text, ``DenseArm.doc_texts``) with

1. the reference, the pipeline the arm used before: pyterrier-dr's ``SBertBiEncoder``
   (sentence-transformers on PyTorch, batch 32, each chunk of 1,024 documents sorted by
   characters, torch's default threads), i.e. ``DenseArm(backend="torch")``;
2. the arm's default now: ``DenseArm(backend="openvino")``, the model exported to OpenVINO IR
   (made once, into a temporary ``LTRR_HOME`` here) and run in fp32, one single-threaded
   stream per core on different batches, batches sorted by token count;
3. with ``--bf16``, the same in bf16 (opt-in: nfcorpus nDCG@10 0.3147, outside the tolerance).

Both go through pyterrier-dr's ``doc_encoder()`` as the arm's indexing does, on the same
pieces of ``--piece`` documents. The machine's load changes under us (the project's machines
are 2 cores shared with other jobs), so the contenders alternate piece by piece in shuffled
order for ``--repeats`` rounds; each piece's best (and median) time is kept and summed.
Printed: docs/s of each, the time ratio against the reference (goal >= 3x), and how far the
new vectors are from the reference's (max |diff|, min cosine), plus the load average.

Rerun::

    python benchmarks/dense_encoding.py                  # 2,000 entities, 3 rounds
    python benchmarks/dense_encoding.py --all --repeats 1 # all 20,000
    python benchmarks/dense_encoding.py --bf16
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="music entities to encode")
    parser.add_argument("--all", action="store_true", help="all 20,000 entities")
    parser.add_argument("--piece", type=int, default=1000, help="documents per timed piece")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bf16", action="store_true", help="also OpenVINO in bf16")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = tempfile.mkdtemp(prefix="ltrr-dense-encoding-")  # the export, made once per run
    os.environ["LTRR_HOME"] = home
    try:
        run(args)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    import numpy as np
    import pandas as pd
    import torch

    import ltrr.datasets
    from ltrr.arms.dense import DenseArm
    from ltrr.arms.dense_openvino import openvino_version

    dataset = ltrr.datasets.load("ltrr:music")
    docs = list(DenseArm(dataset, backend="torch").doc_texts())
    if not args.all:
        docs = docs[:args.n]
    n = len(docs)
    frame = pd.DataFrame(docs)
    pieces = [frame.iloc[i:i + args.piece] for i in range(0, n, args.piece)]

    start = time.perf_counter()
    contenders = {"torch (reference)": DenseArm(dataset, backend="torch"),
                  "openvino f32": DenseArm(dataset, backend="openvino")}
    if args.bf16:
        contenders["openvino bf16"] = DenseArm(dataset, backend="openvino", precision="bf16")
    encoders = {}
    for name, arm in contenders.items():
        begin = time.perf_counter()
        encoders[name] = arm.encoder.doc_encoder(verbose=False)
        print(f"{name}: model ready in {time.perf_counter() - begin:.1f} s "
              f"(OpenVINO: export once + compile)", file=sys.stderr)

    def encode(name, part):
        # the reference indexed chunks of 1,024 (sorted within each); a piece is <= 1,024
        return np.stack(encoders[name].transform(part)["doc_vec"]).astype(np.float32)

    for name in encoders:  # warm-up
        encode(name, pieces[0].head(64))
    names = list(encoders)
    times = {k: np.full((args.repeats, len(pieces)), np.inf) for k in names}
    vectors = {k: [None] * len(pieces) for k in names}
    load_before = os.getloadavg()
    for r in range(args.repeats):
        for p, part in enumerate(pieces):
            random.shuffle(names)
            for name in names:
                begin = time.perf_counter()
                vectors[name][p] = encode(name, part)
                times[name][r, p] = time.perf_counter() - begin
    load_after = os.getloadavg()

    ref_name = "torch (reference)"
    ref = np.concatenate(vectors[ref_name])
    best_ref = times[ref_name].min(0).sum()
    median_ref = np.median(times[ref_name], 0).sum()
    print(f"dense encoding of {n} music entities (all-MiniLM-L6-v2), {len(pieces)} pieces of "
          f"<= {args.piece}, best and median of {args.repeats} rounds per piece")
    print(f"cores {os.cpu_count()}, torch threads {torch.get_num_threads()}, "
          f"TOKENIZERS_PARALLELISM={os.environ.get('TOKENIZERS_PARALLELISM')}, "
          f"OpenVINO {openvino_version()}, load average {load_before[0]:.1f} -> "
          f"{load_after[0]:.1f}")
    print(f"{'pipeline':<20}{'docs/s best':>12}{'median':>9}{'ratio best':>12}{'median':>8}"
          f"{'max |diff|':>12}{'min cosine':>12}")
    for name in sorted(times, key=lambda k: k != ref_name):
        best = times[name].min(0).sum()
        median = np.median(times[name], 0).sum()
        got = np.concatenate(vectors[name])
        print(f"{name:<20}{n / best:>12.1f}{n / median:>9.1f}{best_ref / best:>11.2f}x"
              f"{median_ref / median:>7.2f}x{np.abs(got - ref).max():>12.1e}"
              f"{(got * ref).sum(1).min():>12.7f}")
    print(f"goal: openvino f32 >= 3x the reference's docs/s, vectors equivalent "
          f"(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
