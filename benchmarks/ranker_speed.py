"""Cost of the learned ranking stage per loop step, against RRF fusion in the same run.

Usage::

    python benchmarks/ranker_speed.py [--pools 2000] [--candidates 100] [--trees 100]

What is timed, per candidate pool (one loop step), over ``--pools`` synthetic pools shaped
like the music benchmark's (5 arms; 16 plans: each arm alone at depth 50, the 10 pairs at
25 each, the union at 10 each; lists drawn so that the pool holds about ``--candidates``
documents):

- **rrf**: ``plan_pages(pool, depths, "rrf", keys=...)``, the loop's fusion of every plan's
  union (with the pool's tie keys, computed beforehand for both sides);
- **lambdamart**: what the loop does instead with a trained ranker: ``pool_features`` (one
  ``(U, F)`` matrix with a 40-entry context vector and 2 priors), ``LambdaMART.score`` (one
  LightGBM ``predict`` over the pool), ``pages_from_scores`` (every plan's page), each also
  timed alone.

And the training time of ``fit_qrels`` (``--train-queries`` pools with graded labels) and
``fit_clicks`` (``--train-pages`` pages of 10 with clicks, position-bias correction), with
the forest size (``--trees``, default LambdaMART's: 50 trees of 31 leaves).

Prints microseconds per pool for each part and the ratio lambdamart / rrf. Timings are
wall-clock on a possibly shared machine: compare the ratio, not the absolute numbers.

With ``--loop BENCHMARK.toml`` (e.g. ``benchmarks/music-ranking.toml``) it also runs the
interaction loop itself, ``--loop-steps`` queries of seed 0's stream, once per ranking stage
the file's policies use (the first ``static_union`` entry for each): interactions per second
with each learned ranker against the same loop with the fusion, in the same run, and each
ranker's training time as ``prepare`` measured it (0 when it came from the model cache).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ltrr.kernel.pages import pages_from_scores, plan_pages
from ltrr.kernel.pools import CandidatePool
from ltrr.kernel.ties import tie_keys
from ltrr.ranking.features import FeatureSpec, pool_features
from ltrr.ranking.learned import fit_clicks, fit_qrels

ARMS = ("lexical", "dense", "memory", "fuzzy", "structured")


def depth_matrix() -> np.ndarray:
    rows = [np.eye(5, dtype=int)[a] * 50 for a in range(5)]
    rows += [(np.eye(5, dtype=int)[a] + np.eye(5, dtype=int)[b]) * 25
             for a in range(5) for b in range(a + 1, 5)]
    rows.append(np.full(5, 10))
    return np.array(rows)


def make_pools(n: int, candidates: int, rng: np.random.Generator) -> list[CandidatePool]:
    """Five lists of 50 over a per-query vocabulary sized so the union is ~``candidates``."""
    vocab = max(int(candidates * 1.02), 50)
    pools = []
    for _ in range(n):
        ids = [rng.choice(vocab, size=50, replace=False) for _ in ARMS]
        scores = [np.sort(rng.gamma(2.0, 2.0, size=50))[::-1] for _ in ARMS]
        pools.append(CandidatePool.from_lists(ids, scores))
    return pools


def per_pool(fn, pools) -> float:
    start = time.perf_counter()
    for i, pool in enumerate(pools):
        fn(i, pool)
    return (time.perf_counter() - start) / len(pools) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pools", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--trees", type=int, default=None,
                        help="forest size (default: LambdaMART's default)")
    parser.add_argument("--train-queries", type=int, default=700)
    parser.add_argument("--train-pages", type=int, default=10000)
    parser.add_argument("--loop", metavar="BENCHMARK.toml", help="also time the loop on it")
    parser.add_argument("--loop-steps", type=int, default=3000)
    args = parser.parse_args()
    if args.loop:
        loop_speed(args.loop, args.loop_steps)

    rng = np.random.default_rng(0)
    depths = depth_matrix()
    spec = FeatureSpec(ARMS, tuple(f"ctx:{i}" for i in range(40)), ("popularity", "recency"))
    context = rng.random(40)
    params = {"early_stopping_rounds": None}
    if args.trees:
        params["num_boost_round"] = args.trees

    train = make_pools(args.train_queries, args.candidates, rng)
    X = [pool_features(p, spec, context, rng.random((len(p.docs), 2))) for p in train]
    labels = [np.digitize(x[:, spec.names.index("fused:rrf")] + 0.01 * rng.normal(size=len(x)),
                          [0.03, 0.045, 0.06]) for x in X]
    group = np.repeat(np.arange(len(X)), [len(x) for x in X])
    t0 = time.perf_counter()
    model = fit_qrels(np.vstack(X), np.concatenate(labels), group, params, spec.names)
    train_qrels = time.perf_counter() - t0
    rows = np.vstack([x[:10] for x in X] * (args.train_pages // len(X) + 1))[:args.train_pages * 10]
    clicks = (rng.random(len(rows)) < 0.3 / (np.tile(np.arange(10), len(rows) // 10) + 1))
    t0 = time.perf_counter()
    fit_clicks(rows, np.tile(np.arange(10), len(rows) // 10), clicks.astype(int),
               np.repeat(np.arange(len(rows) // 10), 10), "position", params)
    train_clicks = time.perf_counter() - t0

    pools = make_pools(args.pools, args.candidates, rng)
    priors = [rng.random((len(p.docs), 2)) for p in pools]
    feats = [pool_features(p, spec, context, priors[i]) for i, p in enumerate(pools)]
    scores = [model.score(x) for x in feats]
    keys = [tie_keys([f"d{u}" for u in p.docs], seed=0) for p in pools]
    mean_u = np.mean([len(p.docs) for p in pools])

    rrf = per_pool(lambda i, p: plan_pages(p, depths, "rrf", 60, 10, keys[i]), pools)
    t_feat = per_pool(lambda i, p: pool_features(p, spec, context, priors[i]), pools)
    t_pred = per_pool(lambda i, p: model.score(feats[i]), pools)
    t_page = per_pool(lambda i, p: pages_from_scores(p, depths, scores[i], 10, keys[i]), pools)

    def whole(i, p):
        s = model.score(pool_features(p, spec, context, priors[i]))
        pages_from_scores(p, depths, s, 10, keys[i])

    learned = per_pool(whole, pools)
    print(f"{args.pools} pools, {mean_u:.0f} candidates each on average, {len(depths)} plans, "
          f"{spec.dim} features, {model.n_trees} trees of <= {model.params['num_leaves']} leaves")
    print(f"  rrf (plan_pages)                         {rrf:9.1f} us/pool")
    print(f"  lambdamart: pool_features                {t_feat:9.1f} us/pool")
    print(f"              LambdaMART.score (predict)   {t_pred:9.1f} us/pool")
    print(f"              every plan's page            {t_page:9.1f} us/pool")
    print(f"              all together                 {learned:9.1f} us/pool")
    print(f"  ratio lambdamart / rrf                   {learned / rrf:9.2f}x")
    print(f"training: fit_qrels {len(group)} rows ({args.train_queries} queries) "
          f"{train_qrels:.2f} s; fit_clicks {len(rows)} rows ({len(rows) // 10} pages, "
          f"position correction) {train_clicks:.2f} s")


def loop_speed(path: str, steps: int) -> None:
    """Interactions/s of the loop with each ranking stage the benchmark's static unions use."""
    from ltrr.selection.policies import build_policy
    from ltrr.experiments.benchmark import load_benchmark
    from ltrr.simulation.loop import run_policy
    from ltrr.experiments.cell_runner import reward_range
    from ltrr.experiments.runner import prepare, select
    from ltrr.simulation.stream import sample_stream

    benchmark = select(load_benchmark(path), [0], None, steps)
    world, featurizer, stages = prepare(benchmark)
    stream = sample_stream(world.topics, steps, benchmark.zipf, 0)
    rates = {}
    for spec in benchmark.policies:
        if spec.name != "static_union":
            continue
        stage = stages[spec.ranker].for_run() if spec.ranker else None
        policy = build_policy(spec.name, {}, world.plans,
                              n_features=featurizer.dim, random_state=0,
                              reward_range=reward_range(world))
        start = time.perf_counter()
        run_policy(world, policy, featurizer, stream, 0, ranker=stage)
        rates[spec.ranker or benchmark.settings.fusion] = steps / (time.perf_counter() - start)
    base = rates[benchmark.settings.fusion]
    print(f"loop on {path}, {steps} queries of seed 0, static_union:")
    for name, rate in rates.items():
        trained = stages[name].info.get("seconds", 0.0) if name in stages else None
        note = "" if trained is None else f", trained in {trained:.1f} s" + \
            (" (model cache)" if stages[name].info.get("source") == "cache" else "")
        print(f"  {name:<24} {rate:9,.0f} interactions/s  ratio to {benchmark.settings.fusion} "
              f"{rate / base:5.2f}{note}")


if __name__ == "__main__":
    main()
