"""obp's off-policy estimators on validated logs, with the reward model, bootstrap intervals,
SLOPE tuning and weight diagnostics.

The estimators are obp's (``DirectMethod``, ``InverseProbabilityWeighting``,
``SelfNormalizedInverseProbabilityWeighting``, ``DoublyRobust``,
``SelfNormalizedDoublyRobust``, ``SwitchDoublyRobust``, ``DoublyRobustWithShrinkage``);
the reward model is obp's ``RegressionModel`` with ``n_folds``-fold cross-fitting
(:mod:`ltrr.ope.rewardmodel`); intervals resample rows and re-run each estimator
(:mod:`ltrr.ope.bootstrap`), not obp's ``estimate_interval``.

Written here because obp 0.4.1 lacks it: SLOPE tuning of Switch-DR's ``tau`` and DRos's
``lambda`` (obp >= 0.5 has ``*Tuning`` estimators; the published OBD numbers use them).
SLOPE (Su, Srinath, Krishnamurthy 2020; Tucker and Lee 2021) orders the candidates from
high to low variance and keeps moving to the next while its confidence interval overlaps
all earlier ones.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from ltrr.compat import obp
from ltrr.errors import InputError
from ltrr.ope import bootstrap, rewardmodel
from ltrr.ope.rewardmodel import MODELS  # noqa: F401 - the names users pick from

ESTIMATORS = ("dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os")
LABELS = {"dm": "DM", "ipw": "IPW", "snipw": "SNIPW", "dr": "DR", "sndr": "SNDR",
          "switch-dr": "Switch-DR", "dr-os": "DRos"}
NEEDS_EXPLORATION = tuple(e for e in ESTIMATORS if e != "dm")
MODEL_FREE = ("ipw", "snipw")
SLOPE_GRID = (10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, np.inf)


def parse_estimators(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    names = ["dr-os" if n == "dros" else n for n in names]
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown or not names:
        raise InputError(f"--estimators: unknown estimator {unknown[0] if unknown else text!r}; "
                         f"choose from {', '.join(ESTIMATORS)}")
    return list(dict.fromkeys(names))


def slope(make, inputs: dict, grid=SLOPE_GRID) -> float:
    """The SLOPE choice among ``grid`` for estimator class ``make`` (see module docstring)."""
    n = len(inputs["reward"])
    values, widths = [], []
    for h in grid:
        rounds = make(h)._estimate_round_rewards(**inputs)
        values.append(rounds.mean())
        widths.append(rounds.std(ddof=1) / np.sqrt(n))
    c = np.sqrt(6) - 1
    order = np.argsort(widths, kind="stable")[::-1]
    chosen = order[0]
    for k in range(1, len(order)):
        i, earlier = order[k], order[:k]
        gaps = np.abs(values[i] - np.array(values)[earlier])
        if (gaps <= widths[i] + c * np.array(widths)[earlier]).all():
            chosen = i
        else:
            break
    return float(grid[chosen])


def dros(lambda_: float):
    """obp's DRos; lambda = inf means no shrinkage, i.e. DR (obp 0.4.1 would divide inf by inf)."""
    ope_mod = obp("ope").ope
    if np.isinf(lambda_):
        return ope_mod.DoublyRobust(estimator_name="dr-os")
    return ope_mod.DoublyRobustWithShrinkage(lambda_=lambda_)


def obp_estimators(names: list[str], inputs: dict, *, switch_tau: float | None = None,
                   dros_lambda: float | None = None) -> tuple[list, dict]:
    """obp estimator objects for ``names``, with Switch-DR/DRos tuned by SLOPE on ``inputs``
    (obp's estimator keyword arguments) unless fixed; returns them and the chosen values."""
    ope_mod = obp("ope").ope
    tuned = {}
    if "switch-dr" in names:
        tuned["switch-dr"] = switch_tau if switch_tau is not None else slope(
            lambda h: ope_mod.SwitchDoublyRobust(tau=h), inputs)
    if "dr-os" in names:
        tuned["dr-os"] = dros_lambda if dros_lambda is not None else slope(dros, inputs)
    make = {
        "dm": ope_mod.DirectMethod, "ipw": ope_mod.InverseProbabilityWeighting,
        "snipw": ope_mod.SelfNormalizedInverseProbabilityWeighting, "dr": ope_mod.DoublyRobust,
        "sndr": ope_mod.SelfNormalizedDoublyRobust,
        "switch-dr": lambda: ope_mod.SwitchDoublyRobust(tau=tuned["switch-dr"]),
        "dr-os": lambda: dros(tuned["dr-os"]),
    }
    return [make[n]() for n in names], tuned


def weight_diagnostics(action_dist: np.ndarray, logs) -> dict:
    """Importance weights pi_e(a|x)/pi_b(a|x) of the logged actions: ESS, max, mean, nonzero share."""
    n = logs.n_rows
    w = action_dist[np.arange(n), logs.action, logs.position] / logs.propensity
    total, squares = w.sum(), (w ** 2).sum()
    return {
        "effective_sample_size": float(total ** 2 / squares) if squares > 0 else 0.0,
        "max_weight": float(w.max()),
        "mean_weight": float(w.mean()),
        "nonzero_weight_share": float((w > 0).mean()),
    }


def inputs_for(logs, dist: np.ndarray, q_hat: np.ndarray | None) -> dict:
    """obp's estimator keyword arguments for ``dist`` on ``logs``."""
    return {"reward": logs.reward, "action": logs.action, "pscore": logs.propensity,
            "position": logs.position, "action_dist": dist, "estimated_rewards_by_reg_model": q_hat}


def estimate_many(logs, dists: list[np.ndarray], names: list[str], *, model: str = "logistic",
                  folds: int = 3, n_bootstrap: int = 1000, alpha: float = 0.05, seed: int = 0,
                  switch_tau: float | None = None, dros_lambda: float | None = None) -> list[dict]:
    """Estimates, intervals and diagnostics for each of several evaluation policies on the
    same logs (``dists``: their (rows, actions, positions) distributions). The reward model
    is fitted once and the bootstrap resamples are shared, so the policies' estimates are
    paired; each policy gets its own SLOPE choices."""
    needs_model = bool(set(names) - set(MODEL_FREE))
    with threadpool_limits(limits=1):  # small fits: BLAS threads only contend
        q_hat = rewardmodel.cross_fitted(logs, model, folds, seed) if needs_model else None
    chosen, tuned = zip(*(obp_estimators(names, inputs_for(logs, d, q_hat), switch_tau=switch_tau,
                                         dros_lambda=dros_lambda) for d in dists))
    resampled = bootstrap.resampled_estimates(logs, dists, list(chosen), needs_model=needs_model,
                                              model=model, folds=folds,
                                              n_bootstrap=n_bootstrap, seed=seed)
    results = []
    for j, dist in enumerate(dists):
        rows = {}
        for e, (name, estimator) in enumerate(zip(names, chosen[j])):
            lo, hi, undefined = bootstrap.percentile_interval(resampled[:, j, e], alpha)
            with np.errstate(invalid="ignore", divide="ignore"):  # no positive weight: NaN
                value = estimator.estimate_policy_value(**inputs_for(logs, dist, q_hat))
            rows[name] = {"value": float(value), "ci_lower": lo, "ci_upper": hi}
            if undefined:
                rows[name]["undefined_resamples"] = undefined
            if name in tuned[j]:
                rows[name]["hyperparameter"] = tuned[j][name]
        results.append({
            "estimates": rows,
            "logging_policy_value": float(logs.reward.mean()),
            "diagnostics": weight_diagnostics(dist, logs),
            "confidence": 1.0 - alpha, "n_bootstrap": n_bootstrap,
            "reward_model": model if needs_model else None, "folds": folds,
        })
    return results


def estimate(policy, names: list[str], **options) -> dict:
    """Estimates, intervals and diagnostics for ``policy`` (an ``EvaluationPolicy``);
    ``options`` as :func:`estimate_many`."""
    return estimate_many(policy.logs, [policy.action_dist], names, **options)[0]
