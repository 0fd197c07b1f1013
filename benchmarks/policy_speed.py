"""Per-decision cost of every ltrr policy, against obp's own simulator in the same run.

Reference: obp's ``run_bandit_simulation`` with obp's ``LinUCB`` on the same contexts and
rewards (a logged stream with uniformly random actions; obp updates on the rounds where its
choice matches the log, as its simulator does). Each ltrr policy then runs ``choose`` +
``update`` on every round of the same stream. Prints microseconds per decision and the
ratio to the reference (< 1: faster than obp's simulator per decision).

Then, for Thompson sampling (``thompson``, ``lints``), the propensity alone: the exact
quadrature ``choose`` logs, against a 200-draw Monte Carlo estimate (ltrr's earlier method,
about 20% mean relative error per value here) on the posteriors of every 10th round of the run
above, timed alternately, best of 5.

    python benchmarks/policy_speed.py [--rounds 5000] [--arms 5] [--dim 20]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--arms", type=int, default=5, help="arms; plans = singles + pairs + union")
    parser.add_argument("--dim", type=int, default=20, help="context features (incl. bias)")
    args = parser.parse_args()

    from ltrr.compat import obp
    from ltrr.selection.plans import PlanSpace
    from ltrr.selection.policies import POLICIES, argmax, build_policy

    obp_ = obp()
    from obp.simulator import run_bandit_simulation  # noqa: PLC0415 - after obp's shims

    plans = PlanSpace.from_config([f"arm{i}" for i in range(args.arms)], 100, {"equal_splits": [2]})
    rng = np.random.default_rng(0)
    k, n = len(plans), args.rounds
    contexts = np.hstack([rng.random((n, args.dim - 1)), np.ones((n, 1))])
    weights = rng.normal(0, 0.3, (args.dim, k))
    means = np.clip(contexts @ weights, 0, 3)
    actions = rng.integers(k, size=n)
    rewards = rng.poisson(means[np.arange(n), actions]).astype(float)
    truth_all = means

    feedback = {"n_rounds": n, "n_actions": k, "action": actions, "position": np.zeros(n, int),
                "reward": rewards, "pscore": np.full(n, 1.0 / k), "context": contexts}
    reference = obp_.policy.LinUCB(dim=args.dim, n_actions=k, len_list=1, random_state=0)
    start = time.perf_counter()
    run_bandit_simulation(bandit_feedback=feedback, policy=reference)
    ref_us = (time.perf_counter() - start) / n * 1e6
    print(f"{k} plans, {args.dim} features, {n} rounds")
    print(f"{'obp run_bandit_simulation + LinUCB':40s} {ref_us:8.1f} us/decision  (reference)")

    names = [f"single:{plans.arms[0]}", *POLICIES]
    posteriors: dict[str, list] = {"thompson": [], "lints": []}
    for name in names:
        policy = build_policy(name, {}, plans,
                              n_features=args.dim, random_state=0, reward_range=(0.0, 10.0))
        start = time.perf_counter()
        for t in range(n):
            x = contexts[t]
            plan, _ = policy.choose(x, truth=truth_all[t])
            credit = {arm: rewards[t] / len(plans[plan].arms) for arm in plans[plan].arms}
            policy.update(x, plan, rewards[t], credit)
            if name in posteriors and t % 10 == 0:
                posteriors[name].append((*score_distribution(policy, x), plan))
        us = (time.perf_counter() - start) / n * 1e6
        print(f"{name:40s} {us:8.1f} us/decision  ratio {us / ref_us:5.2f}")

    print("propensity of the chosen plan alone: exact quadrature vs 200-draw Monte Carlo")
    rng = np.random.default_rng(0)
    for name, exact, draw in [
            ("thompson", argmax.beta_argmax_probability, lambda a, b, size: rng.beta(a, b, size)),
            ("lints", argmax.normal_argmax_probability,
             lambda m, s, size: m + s * rng.standard_normal(size))]:
        states = posteriors[name]

        def monte_carlo(first, second, plan):
            wins = draw(first, second, (200, len(first))).argmax(axis=1) == plan
            return (1 + np.count_nonzero(wins)) / 201

        exact_us, mc_us = best_of(5, [exact, monte_carlo], states)
        print(f"{name:40s} {exact_us:8.1f} us exact, {mc_us:6.1f} us Monte Carlo  "
              f"ratio {exact_us / mc_us:5.2f}")


def score_distribution(policy, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What Thompson sampling draws from: Beta parameters, or score means and sds."""
    if policy.name == "thompson":
        return policy.posterior()
    return policy.score_distribution(x)


def best_of(repeats: int, functions: list, states: list) -> list[float]:
    """Microseconds per call of each function over ``states``, alternating, best of repeats."""
    best = [np.inf] * len(functions)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            for state in states:
                function(*state)
            best[i] = min(best[i], (time.perf_counter() - start) / len(states) * 1e6)
    return best


if __name__ == "__main__":
    main()
