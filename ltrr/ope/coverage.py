"""Do the intervals mean what they say? Coverage of every estimator's interval against an exact
truth, over many independent logs of the synthetic world (:mod:`ltrr.ope.synthetic`).

Per seed: a fresh log (the world's softmax logger, or an ltrr policy that learns as it logs,
e.g. Thompson sampling), a fixed stochastic target policy, every estimator's estimate and
interval (:func:`ltrr.ope.estimators.estimate_many`), and, for comparison, obp 0.4.1's own
``estimate_interval`` on the same log. Per estimator the study reports how often the
interval covered the exact value, the mean interval width, and the width relative to what
the estimates' spread over seeds calls for (``2 z sd``: 1 means the interval is as wide as
the estimator's actual sampling error, not needlessly wider). Used by
``tests/ope/test_coverage.py`` and ``benchmarks/ope_coverage.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from ltrr.ope import estimators, rewardmodel, synthetic
from ltrr.ope.target import with_positions
from ltrr.ope.validation import to_logged_data


def one_log(world: synthetic.World, n_rows: int, seed: int, logger: str | None,
            logger_params: dict | None = None):
    """Validated logs and the per-row type of one seed (``logger``: an ltrr policy name and
    its hyper-parameters, or None for the world's softmax logger)."""
    if logger is None:
        frame = synthetic.generate(world, n_rows, seed)
    else:
        from ltrr.ope.replay import plan_space  # noqa: PLC0415
        from ltrr.selection.policies import build_policy  # noqa: PLC0415

        policy = build_policy(logger, logger_params or {}, plan_space(world.actions),
                              n_features=world.contexts.shape[1], random_state=seed,
                              reward_range=(0.0, float(world.trials)))
        frame, _ = synthetic.run_logger(world, policy, n_rows, seed)
    logs = to_logged_data(frame, f"{logger or 'softmax'}-seed{seed}", reward_range=(0.0, float(world.trials)),
                          needs_exploration=True, min_rows=1)
    return logs, frame["user_type"].to_numpy()


def obp_intervals(logs, dist: np.ndarray, names: list[str], model: str, folds: int,
                  n_bootstrap: int, alpha: float, seed: int) -> dict:
    """obp 0.4.1's ``estimate_interval`` of each estimator (round rewards bootstrapped with the
    full-sample reward model and normalisation), for comparison."""
    q_hat = None
    if set(names) - set(estimators.MODEL_FREE):
        with threadpool_limits(limits=1):
            q_hat = rewardmodel.cross_fitted(logs, model, folds, seed)
    inputs = estimators.inputs_for(logs, dist, q_hat)
    chosen, _ = estimators.obp_estimators(names, inputs)
    level = 100 * (1 - alpha)
    out = {}
    for name, est in zip(names, chosen):
        ci = est.estimate_interval(**inputs, alpha=alpha, n_bootstrap_samples=n_bootstrap,
                                   random_state=seed)
        out[name] = (ci[f"{level}% CI (lower)"], ci[f"{level}% CI (upper)"])
    return out


def study(world: synthetic.World, *, n_rows: int, seeds, names: list[str], model: str = "logistic",
          folds: int = 3, n_bootstrap: int = 200, alpha: float = 0.05, logger: str | None = None,
          logger_params: dict | None = None, target: np.ndarray | None = None,
          compare_obp: bool = True) -> dict:
    """Coverage, widths and bias of each estimator's interval over ``seeds``."""
    target = synthetic.target_policy(world) if target is None else target
    truth = world.value(target)
    values = {n: [] for n in names}
    cis = {n: [] for n in names}
    obp_cis = {n: [] for n in names}
    for seed in seeds:
        logs, types = one_log(world, n_rows, int(seed), logger, logger_params)
        dist = with_positions(target[types], 1)
        result = estimators.estimate_many(logs, [dist], names, model=model, folds=folds,
                                          n_bootstrap=n_bootstrap, alpha=alpha, seed=int(seed))[0]
        theirs = obp_intervals(logs, dist, names, model, folds, n_bootstrap, alpha, int(seed)) \
            if compare_obp else {}
        for n in names:
            row = result["estimates"][n]
            values[n].append(row["value"])
            cis[n].append((row["ci_lower"], row["ci_upper"]))
            if compare_obp:
                obp_cis[n].append(theirs[n])
    z = stats.norm.ppf(1 - alpha / 2)
    summary = {"truth": truth, "seeds": len(values[names[0]]), "n_rows": n_rows,
               "n_bootstrap": n_bootstrap, "confidence": 1 - alpha, "estimators": {}}
    for n in names:
        v, ci = np.array(values[n]), np.array(cis[n])
        sd = float(v.std(ddof=1))
        width = float((ci[:, 1] - ci[:, 0]).mean())
        row = {"coverage": float(((ci[:, 0] <= truth) & (truth <= ci[:, 1])).mean()),
               "mean_width": width, "sd": sd, "width_ratio": width / (2 * z * sd),
               "bias": float(v.mean() - truth), "mean_estimate": float(v.mean())}
        if compare_obp:
            o = np.array(obp_cis[n])
            row["obp_coverage"] = float(((o[:, 0] <= truth) & (truth <= o[:, 1])).mean())
            row["obp_mean_width"] = float((o[:, 1] - o[:, 0]).mean())
        summary["estimators"][n] = row
    return summary


def markdown(summary: dict) -> str:
    """One table row per estimator."""
    lines = ["| estimator | coverage | mean width | width / (2 z sd) | bias | obp 0.4.1 coverage | obp width |",
             "|---|---|---|---|---|---|---|"]
    for n, r in summary["estimators"].items():
        lines.append(f"| {estimators.LABELS[n]} | {r['coverage']:.3f} | {r['mean_width']:.4f} | "
                     f"{r['width_ratio']:.2f} | {r['bias']:+.4f} | {r.get('obp_coverage', float('nan')):.3f} | "
                     f"{r.get('obp_mean_width', float('nan')):.4f} |")
    return "\n".join(lines) + "\n"
