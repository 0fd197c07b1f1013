"""Interactions per second of ltrr's loop (LinUCB, music world) vs obp's bandit simulator.

Usage::

    python benchmarks/loop_throughput.py [--benchmark benchmarks/music.toml] [--steps 5000]

What is timed:

- **ltrr**: ``run_policy`` with ltrr's LinUCB on the benchmark's world for ``--steps``
  queries of seed 0's stream. Every step does the full interaction: context features,
  candidates of every arm (static arms from the on-disk candidate cache, the memory arm
  searched online), the page and expected reward of *every* plan (the simulator's truths),
  the policy's choice and update, click sampling, the memory update.
  Not timed: loading the dataset, building indexes/embeddings and the candidate cache
  (``prepare``, a one-time cost per machine; it also computes, once per benchmark, the
  memory arm's TF-IDF vector and predicted-query similarities of every topic's query,
  about 0.3 s for the music world's 2,922 topics, which no click changes), and computing
  metrics afterwards.
- **obp**: ``obp.simulator.run_bandit_simulation`` with ``obp.policy.LinUCB`` (its
  ``epsilon`` = our ``alpha``) on the same contexts (the loop's context vectors) and rewards (the loop's
  expected reward of each plan at each step). obp's simulator replays logged data and
  updates only when its choice equals the logged action, so the logged actions are
  obp LinUCB's own choices from an untimed first pass: the timed pass then updates at
  every round, the same work per decision as an online run.

Prints both rates, their ratio (ltrr / obp; >= 1 means the loop is not slower per
decision) and the peak resident memory of the process (``resource.getrusage``).

The two sides do not do the same work: obp's simulator only decides and updates, while
each ltrr step also simulates the world (candidates, the fused page and expected reward
of every plan, clicks, the memory's update). So the loop's time is also split, by thin timing
wrappers around the loop's parts (which add a few microseconds per call themselves), into the
policy's ``choose`` + ``update``, the static arms' lists, the memory arm's search, the step
truths (every plan's page and expected clicks), the context features, click sampling, the
memory's update, and the rest of the loop's own bookkeeping; the policy-only rate is printed
next to obp's. A second pass of the same seed (``--repeat``, as every further policy of a
benchmark's seed does) reuses the seed's cached truths and is timed too.
"""

from __future__ import annotations

import argparse
import copy
import resource
import sys
import time

import numpy as np


def obp_feedback(contexts: np.ndarray, expected: np.ndarray, alpha: float) -> tuple[dict, object]:
    """A BanditFeedback dict whose logged actions are obp LinUCB's own choices."""
    from ltrr.compat import obp

    obp_mod = obp()
    n_rounds, n_actions = expected.shape
    policy = obp_mod.policy.LinUCB(dim=contexts.shape[1], n_actions=n_actions, epsilon=alpha,
                                   random_state=0)
    first = copy.deepcopy(policy)
    actions = np.zeros(n_rounds, dtype=int)
    for t in range(n_rounds):  # untimed pass: what obp's LinUCB chooses, online
        a = int(first.select_action(contexts[t:t + 1])[0])
        actions[t] = a
        first.update_params(action=a, reward=float(expected[t, a]), context=contexts[t:t + 1])
    feedback = {"n_rounds": n_rounds, "n_actions": n_actions, "context": contexts,
                "action": actions, "reward": expected[np.arange(n_rounds), actions],
                "position": np.zeros(n_rounds, dtype=int), "pscore": np.ones(n_rounds)}
    return feedback, policy


class Timed:
    """Forwards to an object and adds up the seconds spent in some of its methods."""

    def __init__(self, inner, methods: tuple[str, ...]) -> None:
        self.inner, self.methods, self.seconds = inner, methods, 0.0

    def __getattr__(self, name: str):
        value = getattr(self.inner, name)
        if name not in self.methods:
            return value

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def timed_world(world, featurizer):
    """Timing wrappers around the loop's parts: {part: Timed}; the world is changed in place
    (its methods and arms), the featurizer wrapper is returned in the dict."""
    parts = {"static lists": Timed(world, ("static_lists",)),
             "step truths (every plan's page, expected clicks)": Timed(world, ("truths",)),
             "context features": Timed(featurizer, ("transform",)),
             "click sampling": Timed(world.settings.clicks, ("sample",))}
    world.static_lists = parts["static lists"].static_lists
    world.truths = parts["step truths (every plan's page, expected clicks)"].truths
    world.settings.clicks = parts["click sampling"]
    for name in world.online:
        arm = Timed(world.arms[name], ("ranked", "ranked_positions", "search", "update"))
        parts[f"{name} arm: search and update"] = arm
        world.arms[name] = arm
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="benchmarks/music.toml")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="further passes of the same seed, timed separately (default 1)")
    args = parser.parse_args()

    from ltrr.compat import obp
    from ltrr.selection.policies import build_policy
    from ltrr.experiments.benchmark import load_benchmark
    from ltrr.simulation.loop import run_policy
    from ltrr.experiments.cells import reward_range
    from ltrr.experiments.runner import prepare, select
    from ltrr.simulation.stream import sample_stream

    benchmark = select(load_benchmark(args.benchmark), None, None, args.steps)
    start = time.perf_counter()
    world, featurizer = prepare(benchmark)
    print(f"prepare (dataset, indexes, candidate cache; not timed below): "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    stream = sample_stream(world.topics, args.steps, benchmark.zipf, 0)
    policy = Timed(build_policy("linucb", {"alpha": args.alpha}, world.plans, featurizer.dim, 0,
                                reward_range(world)), ("choose", "update"))
    parts = timed_world(world, featurizer)
    start = time.perf_counter()
    trace = run_policy(world, policy, parts["context features"], stream, 0)
    ltrr_time = time.perf_counter() - start
    split = [("policy choose + update", policy.seconds)] + \
        [(name, part.seconds) for name, part in parts.items()]  # the first pass only
    repeats = []
    for _ in range(args.repeat):
        again = build_policy("linucb", {"alpha": args.alpha}, world.plans, featurizer.dim, 0,
                             reward_range(world))
        start = time.perf_counter()
        run_policy(world, again, featurizer, stream, 0)
        repeats.append(time.perf_counter() - start)

    feedback, obp_policy = obp_feedback(trace.contexts, trace.expected, args.alpha)
    obp()  # numpy shims first
    from obp.simulator import run_bandit_simulation as simulate
    start = time.perf_counter()
    simulate(bandit_feedback=feedback, policy=obp_policy)
    obp_time = time.perf_counter() - start

    ltrr_rate, obp_rate = args.steps / ltrr_time, args.steps / obp_time
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark: {args.benchmark}  steps: {args.steps}  plans: {len(world.plan_ids)}  "
          f"context dim: {featurizer.dim}")
    print(f"ltrr loop (full interaction, LinUCB): {ltrr_rate:,.0f} interactions/s")
    print(f"obp run_bandit_simulation (LinUCB):   {obp_rate:,.0f} decisions/s")
    print(f"ratio ltrr / obp: {ltrr_rate / obp_rate:.2f}  (first pass of the seed)")
    for i, seconds in enumerate(repeats):
        print(f"ratio ltrr / obp: {args.steps / seconds / obp_rate:.2f}  (pass {i + 2}: "
              f"{args.steps / seconds:,.0f} interactions/s, the seed's truths cached)")
    per_step = 1e6 / args.steps
    print("  split of the first pass, us/step:")
    rest = ltrr_time - sum(seconds for _, seconds in split)
    for name, seconds in split + [("loop bookkeeping", rest)]:
        print(f"    {name:<52} {seconds * per_step:8,.0f}")
    print(f"  policy alone: {args.steps / policy.seconds:,.0f} decisions/s, ratio to obp "
          f"{args.steps / policy.seconds / obp_rate:.2f}")
    print(f"peak memory (max RSS): {peak:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
