"""How much a last-bit change in the dense arm's embeddings moves its candidate lists.

Usage::

    python benchmarks/last_bits.py [--dataset ltrr:music] [--topics 1500] [--depth 50]

Every document vector of the dense arm's index (built or loaded from ``LTRR_HOME``) is moved
by one float32 ulp, a larger change than another BLAS or library build typically makes, and
the first ``--topics`` topics are scored against both. For the loop's rule (scores compared at
``SCORE_DIGITS`` significant digits, ties by a seeded key; :mod:`ltrr.kernel.ties`) and, for
comparison, at other precisions, it prints how many of the top ``depth + 1`` scores change
their compared value, in how many topics the top ``depth`` order changes, and how many
adjacent entries of a list tie at that precision. Rounding makes such changes rare, not
impossible: a score that sits near a rounding boundary can cross it, and when it then ties or
un-ties with a neighbour the order moves. Records carry a hash of each arm's lists so
``ltrr reproduce`` can say whose lists moved.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ltrr:music")
    parser.add_argument("--topics", type=int, default=1500)
    parser.add_argument("--depth", type=int, default=50)
    args = parser.parse_args()

    from ltrr import datasets
    from ltrr.arms import build_arm
    from ltrr.kernel.ties import SCORE_DIGITS, round_scores, tie_keys

    dataset = datasets.load(args.dataset)
    arm = build_arm("dense", dataset).load()
    vectors = np.fromfile(arm.index_dir / "vecs.f4", dtype=np.float32)
    vectors = vectors.reshape(dataset.num_docs, -1)
    queries = arm.encode_queries(dataset.topics["query"].astype(str).tolist()[: args.topics])
    exact = (queries @ vectors.T).astype(np.float64)
    moved = (queries @ np.nextafter(vectors, np.float32(np.inf)).T).astype(np.float64)
    keys = tie_keys([str(i) for i in range(len(vectors))], 0)
    print(f"{args.dataset}: {len(queries)} topics x {len(vectors)} documents; every vector "
          f"moved by one float32 ulp: scores move by up to {np.abs(exact - moved).max():.2e}")
    for digits in sorted({SCORE_DIGITS - 1, SCORE_DIGITS, SCORE_DIGITS + 1}):
        changed = reordered = ties = total = 0
        for t in range(len(queries)):
            top = np.argsort(-exact[t], kind="stable")[: args.depth + 1]
            a, b = round_scores(exact[t, top], digits), round_scores(moved[t, top], digits)
            total += len(top)
            changed += int((a != b).sum())
            ties += int((a[1:] == a[:-1]).sum())
            order_a = top[np.lexsort((keys[top], -a))][: args.depth]
            order_b = top[np.lexsort((keys[top], -b))][: args.depth]
            reordered += int((order_a != order_b).any())
        mark = "  (the loop's)" if digits == SCORE_DIGITS else ""
        print(f"  {digits} significant digits{mark}: {changed} of {total} compared scores "
              f"change ({changed / total:.2%}); the top-{args.depth} order changes in "
              f"{reordered} of {len(queries)} topics; {ties / len(queries):.2f} adjacent "
              f"ties per list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
