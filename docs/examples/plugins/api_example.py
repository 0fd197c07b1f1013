"""The worked example through the Python API: the music benchmark with an outside policy and
an outside PyTerrier arm, run from Python, then the records as a DataFrame, the leaderboard,
and an off-policy estimate from one policy's decision log.

    python docs/examples/plugins/api_example.py [--seeds 0,1] [--stream-length N] [--out DIR]

``music-plugins.toml`` names the outside arm (``my_arm:TfIdfArm``) and policy
(``my_policy:Softmax``) by import path; this folder is on the import path because a script's
own folder always is (``ltrr run`` needs ``PYTHONPATH=docs/examples/plugins``). Here the
policy is also handed to ltrr as a class, at a setting the file does not have.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run through runpy or imported: make my_policy importable
    sys.path.insert(0, str(HERE))

import ltrr  # noqa: E402
import ltrr.ope  # noqa: E402
from my_policy import Softmax  # noqa: E402


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds (default 0,1)")
    parser.add_argument("--stream-length", type=int, default=None,
                        help="queries per run (default: the file's 1,000)")
    parser.add_argument("--out", default=None, help="results folder (default: a temporary one)")
    args = parser.parse_args(argv)

    bench = ltrr.load_benchmark(HERE / "music-plugins.toml")
    policies = [spec.label for spec in bench.policies] + [
        {"name": Softmax, "label": "softmax-greedy", "params": {"temperature": 0.02}}]
    results = bench.run(seeds=[int(s) for s in args.seeds.split(",")], policies=policies,
                        stream_length=args.stream_length, out=args.out, progress=False)
    print(results.leaderboard())
    columns = ["policy", "reward", "reward_low", "reward_high", "ndcg@10"]
    print(results.summary()[columns].to_string(index=False, float_format="%.3f"))

    # the uniform policy's decisions, evaluated off-policy for a greedy reward-model policy
    doc = ltrr.ope.evaluate(results.decisions("uniform"), "greedy-dm:logistic",
                            estimators=["dm", "ipw", "dr"], reward_range=(0.0, 10.0),
                            n_bootstrap=200)
    for name, row in doc["estimates"].items():
        print(f"{name}: {row['value']:.3f} [{row['ci_lower']:.3f}, {row['ci_upper']:.3f}]")
    print(f"results: {results.folder}")
    return results, doc


if __name__ == "__main__":
    main()
