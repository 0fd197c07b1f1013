"""Where the main job's time goes, and how fast the loop is next to obp's bandit simulator.

Usage::

    python benchmarks/loop_throughput.py [--benchmark benchmarks/music.toml] [--steps 10000]
    python benchmarks/loop_throughput.py --job [--jobs 2]

Without ``--job`` (one process):

- **start-up**: a fresh interpreter importing what the main job imports (ltrr's rooms,
  PyTerrier, sentence-transformers, numba's cached code), median of 3;
- **prepare**, split: loading the dataset, building the arms (indexes loaded from
  ``LTRR_HOME``), the world (candidate lists, the memory arm's compiled tables, the step
  tables), the context features;
- **the loop** with LinUCB on seed 0's stream, ``--steps`` queries: the compiled run loop on
  the seed's first pass (it fills the seed's cache of static truths) and second pass (as
  every further policy of a benchmark's seed runs), each against obp's
  ``run_bandit_simulation`` with obp's LinUCB on the same contexts and rewards (obp only
  decides and updates; each ltrr step also simulates the world: every arm's list, every
  plan's page and expected reward, the context, clicks, the memory's update). The ratio is
  per decision: ltrr interactions/s over obp decisions/s;
- **a step, split by part**: compiled loops over the same stream that run the step's parts
  cumulatively (the static arms' lists; + the memory arm's search, features and learning of
  the recorded run's clicks; + every plan's page and expected reward; + the context; + the
  policy's choice and update; + clicks and bookkeeping), each the best of 3 runs: a part's
  cost is the difference between two stages (there is no clock inside compiled code);
- **metrics and records** of one reported cell: ``run_metrics`` (nDCG of every page,
  regret, per-topic means) and writing the record, per-topic table and decision log;
- the peak memory of this process.

With ``--job``: the whole main job, ``ltrr run FILE --jobs N`` into a temporary folder (the
indexes cached), timed as a process, with its tuning and reported interactions counted from
the file; its interactions/s over obp LinUCB's decisions/s (the file's plans and context
dimension, one process) measured in the same run; and the job's peak memory (the largest
process of the job, as ``/usr/bin/time -v`` reports it).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def obp_rate(contexts: np.ndarray, expected: np.ndarray, alpha: float) -> float:
    """obp LinUCB's decisions/s in ``run_bandit_simulation`` on these contexts and rewards.

    obp's simulator replays logged data and updates only when its choice equals the logged
    action, so the logged actions are obp LinUCB's own choices from an untimed first pass:
    the timed pass then updates at every round, the same work per decision as online."""
    from ltrr.compat import obp

    obp_mod = obp()
    from obp.simulator import run_bandit_simulation

    n_rounds, n_actions = expected.shape
    policy = obp_mod.policy.LinUCB(dim=contexts.shape[1], n_actions=n_actions, epsilon=alpha,
                                   random_state=0)
    first = copy.deepcopy(policy)
    actions = np.zeros(n_rounds, dtype=int)
    for t in range(n_rounds):
        a = int(first.select_action(contexts[t:t + 1])[0])
        actions[t] = a
        first.update_params(action=a, reward=float(expected[t, a]), context=contexts[t:t + 1])
    feedback = {"n_rounds": n_rounds, "n_actions": n_actions, "context": contexts,
                "action": actions, "reward": expected[np.arange(n_rounds), actions],
                "position": np.zeros(n_rounds, dtype=int), "pscore": np.ones(n_rounds)}
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # obp's tqdm bar
        start = time.perf_counter()
        run_bandit_simulation(bandit_feedback=feedback, policy=policy)
        seconds = time.perf_counter() - start
    return n_rounds / seconds


STARTUP = ("import ltrr.cli, ltrr.experiments.runner, ltrr.simulation.engine, ltrr.arms.lexical, "
           "ltrr.arms.dense, ltrr.arms.memory, ltrr.arms.fuzzy, ltrr.arms.structured, "
           "ltrr.evaluation.metrics, ltrr.results.folder")


def startup_seconds() -> float:
    """A fresh interpreter importing what the main job imports (median of 3)."""
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", STARTUP], check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def prepare_split(benchmark) -> tuple[dict, object, object]:
    """``runner.prepare``'s steps, timed one by one."""
    from ltrr import datasets
    from ltrr.arms import build_arm
    from ltrr.selection.context import ContextFeaturizer
    from ltrr.simulation.world import World

    seconds = {}
    start = time.perf_counter()
    dataset = datasets.load(benchmark.dataset)
    seconds["load the dataset"] = time.perf_counter() - start
    start = time.perf_counter()
    arms = {name: build_arm(name, dataset, **benchmark.arm_params.get(name, {}))
            for name in benchmark.arms}
    seconds["build the arms (indexes opened when first used)"] = time.perf_counter() - start
    topics = dataset.topics
    if benchmark.split is not None:
        topics = topics[topics["split"] == benchmark.split]
    topics = topics.reset_index(drop=True)
    start = time.perf_counter()
    world = World(dataset, arms, benchmark.plan_space(), benchmark.settings,
                  benchmark.stream_length, topics)
    seconds["the world (candidate lists, memory tables, step tables)"] = \
        time.perf_counter() - start
    start = time.perf_counter()
    featurizer = ContextFeaturizer(benchmark.features, dataset, arms,
                                   probe_arms=list(benchmark.settings.probe_arms) or None,
                                   probe_depth=benchmark.settings.probe_depth)
    featurizer.fit(topics, late=world.late, stream_length=benchmark.stream_length)
    seconds["context features (idf over the releases)"] = time.perf_counter() - start
    return seconds, world, featurizer


STAGES = ("static arms' lists", "memory arm: search, features, learn the clicks",
          "every plan's page and expected reward", "context features",
          "policy: choose and update (LinUCB)", "clicks, reward and bookkeeping")


def step_split(world, featurizer, stream, trace, alpha: float) -> dict:
    """Compiled time per step of each part of the loop (us), by cumulative runs of the same
    compiled step functions: stage k runs parts 1..k over the stream, the memory learning
    the recorded run's clicks; a part's cost is the difference between two stages."""
    from numba import njit

    from ltrr.arms.memory_kernel import memory_features
    from ltrr.experiments.cell_runner import reward_range
    from ltrr.kernel.clicks import sample_clicks
    from ltrr.kernel.rewards import page_reward
    from ltrr.selection.context import context_row
    from ltrr.selection.policies import build_policy
    from ltrr.selection.policies.kernels import choose, update
    from ltrr.simulation.engine import RunOutputs, learn_clicks, online_lists
    from ltrr.simulation.truths import count_upto, fill_lists, fill_truths

    @njit
    def stages(stage, tb, st, on, ft, pa, policy_rng, click_rng, stream, buf, out, shown,
               clicks):
        model, reward = int(tb.click[0]), int(tb.click[4])
        satisfied = np.full(1, -1, dtype=np.int64)
        contribution = np.zeros(int(tb.click[3]))
        memory = np.zeros(3)
        credit = np.zeros(tb.depths.shape[1])
        docs = np.empty(max(int(tb.list_depth.max()), 1), dtype=np.int64)
        scores = np.empty(max(int(tb.list_depth.max()), 1))
        positions = np.empty(int(tb.click[3]), dtype=np.int64)
        for i in range(stream.shape[0]):
            t = stream[i]
            fill_lists(tb, st.lists, t, i, buf)
            if stage >= 2 and on.arm >= 0:
                online_lists(tb, on, t, i, buf, out, docs, scores)
                memory_features(on.tables, on.state, t, memory)
                learn_clicks(on, t, shown[i], clicks[i], positions)
            if stage >= 3:
                fill_truths(tb, st.cache, t, i, buf)
            if stage >= 4:
                context_row(ft, t, i, memory, buf.scores, buf.lengths, out.contexts[i])
            plan = 0
            if stage >= 5:
                truth = out.expected[i]
                for p in range(truth.shape[0]):
                    truth[p] = buf.expected[p] - tb.cost[p]
                plan, _ = choose(pa, out.contexts[i], truth, policy_rng, True)
                update(pa, out.contexts[i], plan, 1.0, credit, policy_rng)
            if stage >= 6:
                out.clicks_total[i] = sample_clicks(buf.page_grades[plan], model, tb.p_click,
                                                    tb.p_stop, tb.p_satisfy, tb.examination,
                                                    click_rng, out.clicks[i], satisfied)
                out.reward[i] = page_reward(reward, out.clicks[i], out.clicks_total[i],
                                            satisfied[0], contribution)
                out.n_relevant[i] = count_upto(tb.r_from, tb.r_off[t], tb.r_off[t + 1], i)
                out.shown[i] = buf.pages[plan]
                out.drawn[i] = buf.drawn[plan]

    tables = featurizer.tables(world.arm_names)
    times = []
    for stage in range(1, len(STAGES) + 1):
        best = np.inf
        for _ in range(3):  # the first call of stage 1 compiles; the best of 3 runs counts
            policy = build_policy("linucb", {"alpha": alpha}, world.plans,
                                  n_features=featurizer.dim, random_state=0,
                                  reward_range=reward_range(world))
            out = RunOutputs.make(len(stream), len(world.plan_ids), world.settings.page,
                                  len(world.arm_names), featurizer.dim)
            seed = world.seed(0)
            args = (world.tables, seed, world.online_arm(0, len(stream)), tables,
                    policy.arrays(), np.random.default_rng(1), np.random.default_rng(2),
                    stream, world.buffers(), out, trace.shown, trace.clicks)
            start = time.perf_counter()
            stages(stage, *args)
            best = min(best, time.perf_counter() - start)
        times.append(best / len(stream) * 1e6)
    return {name: now - before for name, now, before in zip(STAGES, times, [0.0] + times[:-1])}


def run_loop(args: argparse.Namespace) -> None:
    from ltrr.evaluation.metrics import run_metrics
    from ltrr.experiments.benchmark import load_benchmark
    from ltrr.experiments.cell_runner import reward_range
    from ltrr.decision_log import trace_decisions, write_decision_log
    from ltrr.experiments.runner import select
    from ltrr.selection.policies import build_policy
    from ltrr.simulation.loop import run_policy
    from ltrr.simulation.stream import sample_stream

    print(f"start-up (a fresh interpreter importing what the main job imports, median of 3): "
          f"{startup_seconds():.2f} s")
    benchmark = select(load_benchmark(args.benchmark), None, None, args.steps)
    seconds, world, featurizer = prepare_split(benchmark)
    print("prepare, split:")
    for part, value in seconds.items():
        print(f"    {part:<58} {value:7.2f} s")
    stream = sample_stream(world.topics, args.steps, benchmark.zipf, 0)
    rates, trace = [], None
    for _ in range(2):  # the seed's first pass, then a second pass
        policy = build_policy("linucb", {"alpha": args.alpha}, world.plans,
                              n_features=featurizer.dim, random_state=0,
                              reward_range=reward_range(world))
        start = time.perf_counter()
        trace = run_policy(world, policy, featurizer, stream, 0)
        rates.append(args.steps / (time.perf_counter() - start))
    obp = obp_rate(trace.contexts, trace.expected, args.alpha)
    print(f"benchmark {args.benchmark}: {args.steps} steps, {len(world.plan_ids)} plans, "
          f"context dim {featurizer.dim}")
    print(f"obp run_bandit_simulation (LinUCB):  {obp:10,.0f} decisions/s")
    for name, rate in zip(("first pass of the seed", "second pass (truths cached)"), rates):
        print(f"ltrr compiled loop, {name:<27} {rate:10,.0f} interactions/s, "
              f"{rate / obp:.1f}x obp per decision")
    parts = step_split(world, featurizer, stream, trace, args.alpha)
    print("a step, split by part (compiled; the second pass of the seed; us/step):")
    for part, value in parts.items():
        print(f"    {part:<58} {value:7.1f}")
    print(f"    {'sum of the parts':<58} {sum(parts.values()):7.1f}")
    print(f"    {'the compiled run loop, whole step (second pass; and its outputs)':<58} "
          f"{1e6 / rates[1]:7.1f}")
    start = time.perf_counter()
    metrics, curves, topics = run_metrics(trace, world)
    metric_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        from ltrr.results.records import write_json, write_topics

        start = time.perf_counter()
        write_topics(topics, Path(tmp) / "t.topics.parquet")
        write_json({"metrics": metrics, "curves": curves}, Path(tmp) / "t.json")
        write_decision_log(trace_decisions(trace, world, featurizer.names),
                           Path(tmp) / "t.decisions.parquet")
        write_seconds = time.perf_counter() - start
    print(f"metrics of one reported run (nDCG of {args.steps} pages, regret, per topic): "
          f"{metric_seconds:.2f} s; writing its record, table and decision log: "
          f"{write_seconds:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of this process): {peak:,.0f} MiB")


def run_job(args: argparse.Namespace) -> None:
    from ltrr.experiments.benchmark import load_benchmark
    from ltrr.experiments.tuning import tuning_cells

    benchmark = load_benchmark(args.benchmark)
    tuning = sum(c.length for c in tuning_cells(benchmark))
    reported = len(benchmark.seeds) * len(benchmark.policies) * benchmark.stream_length
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "ltrr.cli", "run", args.benchmark, "--jobs",
                   str(args.jobs), "--out", str(Path(tmp) / "out"), "--quiet"]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
        wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rate = (tuning + reported) / wall
    rng = np.random.default_rng(0)
    from ltrr.experiments.runner import select

    small = select(load_benchmark(args.benchmark), None, None, 10)
    n_plans = len(small.plan_space().ids)
    dim = args.dim
    contexts = np.where(rng.random((args.steps, dim)) < 0.4, rng.random((args.steps, dim)), 0.0)
    expected = rng.random((args.steps, n_plans))
    obp = obp_rate(contexts, expected, 1.0)
    print(f"main job: ltrr run {args.benchmark} --jobs {args.jobs}")
    print(f"    {tuning:,} tuning + {reported:,} reported interactions in {wall:.1f} s wall "
          f"({usage.ru_utime + usage.ru_stime:.1f} s CPU): {rate:,.0f} interactions/s")
    print(f"obp LinUCB (run_bandit_simulation, {dim} features, {n_plans} plans, one process): "
          f"{obp:,.0f} decisions/s")
    print(f"ratio, main job's interactions/s to obp LinUCB's decisions/s: {rate / obp:.1f}")
    print(f"peak memory of the job (largest process, max RSS): {usage.ru_maxrss / 1024:,.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="benchmarks/music.toml")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--job", action="store_true", help="time the whole main job")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the main job")
    parser.add_argument("--dim", type=int, default=56,
                        help="context features of obp's LinUCB next to the job (the main "
                             "benchmark's: 56)")
    args = parser.parse_args()
    if args.job:
        run_job(args)
    else:
        run_loop(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
