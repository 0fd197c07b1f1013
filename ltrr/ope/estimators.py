"""obp's off-policy estimators on validated logs, with the reward model, cross-fitting,
bootstrap intervals and weight diagnostics.

The estimators are obp's (``DirectMethod``, ``InverseProbabilityWeighting``,
``SelfNormalizedInverseProbabilityWeighting``, ``DoublyRobust``,
``SelfNormalizedDoublyRobust``, ``SwitchDoublyRobust``, ``DoublyRobustWithShrinkage``),
run through ``obp.ope.OffPolicyEvaluation``; the reward model is obp's ``RegressionModel``
fitted with ``n_folds``-fold cross-fitting; intervals are obp's percentile bootstrap
(``estimate_intervals``).

Written here because obp 0.4.1 lacks it: SLOPE tuning of Switch-DR's ``tau`` and DRos's
``lambda`` (obp >= 0.5 has ``*Tuning`` estimators; the published OBD numbers use them).
SLOPE (Su, Srinath, Krishnamurthy 2020; Tucker and Lee 2021) orders the candidates from
high to low variance and keeps moving to the next while its confidence interval overlaps
all earlier ones.
"""

from __future__ import annotations

import logging

import numpy as np

from ltrr.compat import obp
from ltrr.errors import InputError

MODELS = ("logistic", "lightgbm")
ESTIMATORS = ("dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os")
NEEDS_EXPLORATION = tuple(e for e in ESTIMATORS if e != "dm")
SLOPE_GRID = (10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, np.inf)


def reward_model(model: str, binary: bool, seed: int):
    """The base model of obp's RegressionModel: a classifier for 0/1 rewards, else a regressor."""
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression, Ridge  # noqa: PLC0415

        return LogisticRegression(max_iter=1000, random_state=seed) if binary else Ridge(random_state=seed)
    if model == "lightgbm":
        import lightgbm  # noqa: PLC0415

        kind = lightgbm.LGBMClassifier if binary else lightgbm.LGBMRegressor
        return kind(n_estimators=100, learning_rate=0.1, num_leaves=31, random_state=seed,
                    n_jobs=1, verbose=-1)
    raise InputError(f"--reward-model must be one of {', '.join(MODELS)}, got {model!r}")


def classifier(model: str, seed: int):
    """A classifier for obp's IPWLearner."""
    return reward_model(model, True, seed)


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
    ope_mod = obp().ope
    if np.isinf(lambda_):
        return ope_mod.DoublyRobust(estimator_name="dr-os")
    return ope_mod.DoublyRobustWithShrinkage(lambda_=lambda_)


def obp_estimators(names: list[str], inputs: dict, *, switch_tau: float | None = None,
                   dros_lambda: float | None = None) -> tuple[list, dict]:
    """obp estimator objects for ``names``, with Switch-DR/DRos tuned by SLOPE on ``inputs``
    (obp's estimator keyword arguments) unless fixed; returns them and the chosen values."""
    ope_mod = obp().ope
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


def estimate(policy, names: list[str], *, model: str = "logistic", folds: int = 3,
             n_bootstrap: int = 1000, alpha: float = 0.05, seed: int = 0,
             switch_tau: float | None = None, dros_lambda: float | None = None) -> dict:
    """Estimates, intervals and diagnostics for ``policy`` (an ``EvaluationPolicy``)."""
    ope_mod = obp().ope
    logs, dist = policy.logs, policy.action_dist
    if folds < 1 or folds > logs.n_rows:
        raise InputError(f"--folds must be between 1 and the {logs.n_rows} evaluated rows, got {folds}")
    feedback = logs.bandit_feedback()
    q_hat = None
    if set(names) - {"ipw", "snipw"}:
        if len(np.unique(logs.reward)) < 2:
            raise InputError(f"{logs.source}: column 'reward': every evaluated reward is "
                             f"{logs.reward[0]:g}; the reward model of DM/DR needs two values")
        reg = ope_mod.RegressionModel(base_model=reward_model(model, logs.binary_reward, seed),
                                      n_actions=logs.n_actions, len_list=logs.len_list,
                                      action_context=np.eye(logs.n_actions))
        q_hat = reg.fit_predict(context=logs.context, action=logs.action, reward=logs.reward,
                                pscore=logs.propensity, position=logs.position, n_folds=folds,
                                random_state=seed)
    inputs = {"reward": logs.reward, "action": logs.action, "pscore": logs.propensity,
              "position": logs.position, "action_dist": dist, "estimated_rewards_by_reg_model": q_hat}
    chosen, tuned = obp_estimators(names, inputs, switch_tau=switch_tau, dros_lambda=dros_lambda)
    ope = ope_mod.OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=chosen)
    meta_log = logging.getLogger("obp.ope.meta")  # warns "no reward model" even for IPW alone
    old_level = meta_log.level
    meta_log.setLevel(logging.ERROR if q_hat is None else old_level)
    try:
        values = ope.estimate_policy_values(action_dist=dist, estimated_rewards_by_reg_model=q_hat)
        intervals = ope.estimate_intervals(action_dist=dist, estimated_rewards_by_reg_model=q_hat,
                                           alpha=alpha, n_bootstrap_samples=n_bootstrap,
                                           random_state=seed)
    finally:
        meta_log.setLevel(old_level)
    level = 100 * (1.0 - alpha)  # obp's interval keys
    rows = {}
    for n in names:
        ci = intervals[n]
        rows[n] = {"value": float(values[n]), "ci_lower": float(ci[f"{level}% CI (lower)"]),
                   "ci_upper": float(ci[f"{level}% CI (upper)"])}
        if n in tuned:
            rows[n]["hyperparameter"] = tuned[n]
    return {
        "estimates": rows,
        "logging_policy_value": float(logs.reward.mean()),
        "diagnostics": weight_diagnostics(dist, logs),
        "confidence": 1.0 - alpha,
        "n_bootstrap": n_bootstrap,
        "reward_model": model,
        "folds": folds,
    }
