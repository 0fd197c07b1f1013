"""Reproduce the OBP paper's OBD experiment: evaluate OPE estimators against on-policy truth.

Protocol of obp's ``examples/obd/evaluate_off_policy_estimators.py`` (campaign ``all``):
the evaluation policy's action distribution comes from obp's ``BernoulliTS(...,
is_zozotown_prior=True, campaign=...)`` (or ``Random``) via ``compute_batch_action_dist``
(``n_sim`` = 1e6), tiled over the rounds; each of ``n_runs`` runs draws a bootstrap sample
of the behaviour policy's logs (``check_random_state(run)``), fits obp's ``RegressionModel``
(logistic regression, ``C=100, max_iter=10000``, 3-fold cross-fitting, random_state 12345)
and computes each estimator's relative error |V_hat - V| / V, where V is the evaluation
policy's on-policy value (mean click in its own logs). Switch-DR and DRos are tuned by
SLOPE over {10, 50, 100, 500, 1000, 5000, 10000, inf} on each bootstrap sample.

    python benchmarks/obd_reproduction.py [--n-runs 30] [--out results/obd]

Writes ``results/obd/relative_ee.{md,json}`` (both directions).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from ltrr.compat import obp
from ltrr.datasets import obd
from ltrr.ope import estimators
from ltrr.ope.report import write_atomic

RANDOM_STATE = 12345
# obp's published example (README of examples/obd, logistic regression, 30 runs, bts from random).
PUBLISHED = {"dm": (0.157, 0.110), "ipw": (0.311, 0.311), "snipw": (0.312, 0.335),
             "dr": (0.292, 0.315), "sndr": (0.302, 0.328), "switch-dr": (0.258, 0.161),
             "dr-os": (0.160, 0.110)}
LABELS = {"dm": "DM", "ipw": "IPW", "snipw": "SNIPW", "dr": "DR", "sndr": "SNDR",
          "switch-dr": "Switch-DR", "dr-os": "DRos"}


def action_distribution(policy: str, n_actions: int, len_list: int, campaign: str, n_sim: int) -> np.ndarray:
    """(1, actions, positions) distribution of obp's BernoulliTS (ZOZOTOWN prior) or Random."""
    kwargs = {"n_actions": n_actions, "len_list": len_list, "random_state": RANDOM_STATE}
    if policy == "bts":
        return obp().policy.BernoulliTS(is_zozotown_prior=True, campaign=campaign, **kwargs
                                        ).compute_batch_action_dist(n_sim=n_sim)
    return obp().policy.Random(**kwargs).compute_batch_action_dist()


def run_direction(evaluation: str, behavior: str, campaign: str, n_runs: int, n_sim: int) -> dict:
    ope_mod = obp().ope
    logs = obd.load(behavior, campaign)
    len_list = int(logs["position"].max() + 1)
    single = action_distribution(evaluation, logs["n_actions"], len_list, campaign, n_sim)
    truth = obd.on_policy_value(evaluation, campaign)
    errors = {name: [] for name in estimators.ESTIMATORS}
    tuned = {"switch-dr": [], "dr-os": []}
    n = logs["n_rounds"]
    for run in range(n_runs):
        idx = check_random_state(run).choice(np.arange(n), size=n, replace=True)
        boot = dict(logs)
        for key in ("action", "position", "reward", "pscore", "context"):
            boot[key] = logs[key][idx]
        reg = ope_mod.RegressionModel(
            n_actions=logs["n_actions"], len_list=len_list, action_context=logs["action_context"],
            base_model=LogisticRegression(C=100, max_iter=10000, random_state=RANDOM_STATE))
        q_hat = reg.fit_predict(context=boot["context"], action=boot["action"], reward=boot["reward"],
                                position=boot["position"], pscore=boot["pscore"], n_folds=3,
                                random_state=RANDOM_STATE)
        dist = np.tile(single, (n, 1, 1))
        inputs = {"reward": boot["reward"], "action": boot["action"], "pscore": boot["pscore"],
                  "position": boot["position"], "action_dist": dist,
                  "estimated_rewards_by_reg_model": q_hat}
        chosen, hyper = estimators.obp_estimators(list(estimators.ESTIMATORS), inputs)
        ope = ope_mod.OffPolicyEvaluation(bandit_feedback=boot, ope_estimators=chosen)
        ree = ope.evaluate_performance_of_estimators(
            ground_truth_policy_value=truth, action_dist=dist, estimated_rewards_by_reg_model=q_hat)
        for name in estimators.ESTIMATORS:
            errors[name].append(float(ree[name]))
        for name, value in hyper.items():
            tuned[name].append(value if np.isfinite(value) else "inf")
    return {
        "evaluation_policy": evaluation, "behavior_policy": behavior, "campaign": campaign,
        "ground_truth": truth, "n_runs": n_runs, "n_sim": n_sim,
        "relative_ee": {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)), "runs": v}
                        for k, v in errors.items()},
        "tuned": tuned,
    }


def markdown(results: list[dict]) -> str:
    lines = []
    for res in results:
        pub = res["evaluation_policy"] == "bts" and res["behavior_policy"] == "random"
        lines += [f"### {res['evaluation_policy']} evaluated from {res['behavior_policy']} logs "
                  f"(campaign {res['campaign']}, {res['n_runs']} bootstrap runs, "
                  f"ground truth {res['ground_truth']:.5f})", "",
                  "| estimator | ltrr relative error (mean ± std) |"
                  + (" obp published (mean ± std) |" if pub else ""),
                  "|---|---|" + ("---|" if pub else "")]
        for name, row in res["relative_ee"].items():
            cell = f"| {LABELS[name]} | {row['mean']:.3f} ± {row['std']:.3f} |"
            if pub:
                cell += f" {PUBLISHED[name][0]:.3f} ± {PUBLISHED[name][1]:.3f} |"
            lines.append(cell)
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-runs", type=int, default=30)
    parser.add_argument("--n-sim", type=int, default=1_000_000)
    parser.add_argument("--campaign", default="all", choices=obd.CAMPAIGNS)
    parser.add_argument("--out", default="results/obd")
    args = parser.parse_args()
    results = []
    for evaluation, behavior in (("bts", "random"), ("random", "bts")):
        start = time.perf_counter()
        results.append(run_direction(evaluation, behavior, args.campaign, args.n_runs, args.n_sim))
        results[-1]["seconds"] = round(time.perf_counter() - start, 1)
    table = markdown(results)
    print(table)
    out = Path(args.out)
    write_atomic(out / "relative_ee.json", json.dumps(results, indent=2) + "\n")
    write_atomic(out / "relative_ee.md", table)


if __name__ == "__main__":
    main()
