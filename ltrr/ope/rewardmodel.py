"""The reward model of DM and the DR family: obp's ``RegressionModel``, cross-fitted.

- :func:`cross_fitted`: the point estimate's predictions, obp's own ``fit_predict`` with
  ``n_folds`` folds (each row predicted by a model that did not see it), so that ltrr's
  estimates equal obp's run directly.
- :func:`refit`: the same model refitted on a bootstrap resample. A resample repeats rows,
  so its folds are drawn over the *original* rows (every copy of a row in the same fold):
  otherwise a row's copy in the training part would leak its own reward into its
  prediction. Written here because obp's ``fit_predict`` folds by position (``KFold``).
  Its fits use obp's features (``[context, one-hot action]``, one model per position, as
  ``RegressionModel.fit``) but predict every action in one call, where obp's ``predict``
  makes one call per action: with scikit-learn's per-call input checks that is about 3x
  faster over a bootstrap's hundreds of refits (equal to obp's output, tested).
"""

from __future__ import annotations

import numpy as np

from ltrr.compat import obp
from ltrr.errors import InputError

MODELS = ("logistic", "lightgbm")


def base_model(model: str, binary: bool, seed: int):
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
    return base_model(model, True, seed)


def regression(logs, model: str, seed: int):
    """An unfitted obp RegressionModel for ``logs``' actions and positions."""
    return obp("ope").ope.RegressionModel(base_model=base_model(model, logs.binary_reward, seed),
                                     n_actions=logs.n_actions, len_list=logs.len_list,
                                     action_context=np.eye(logs.n_actions))


def check_rewards(logs) -> None:
    if len(np.unique(logs.reward)) < 2:
        raise InputError(f"{logs.source}: column '{logs.columns.get('reward', 'reward')}': every "
                         f"evaluated reward is {logs.reward[0]:g}; the reward model of DM/DR "
                         "needs two values")


def cross_fitted(logs, model: str, folds: int, seed: int) -> np.ndarray:
    """(rows, actions, positions) predictions, each from a model that did not see the row."""
    check_rewards(logs)
    if folds < 1 or folds > logs.n_rows:
        raise InputError(f"--folds must be between 1 and the {logs.n_rows} evaluated rows, got {folds}")
    return regression(logs, model, seed).fit_predict(
        context=logs.context, action=logs.action, reward=logs.reward, pscore=logs.propensity,
        position=logs.position, n_folds=folds, random_state=seed)


def features(context: np.ndarray, action: np.ndarray, n_actions: int) -> np.ndarray:
    """obp's regression features ``[context, one-hot action]`` (``_pre_process_for_reg_model``)."""
    return np.c_[context, np.eye(n_actions)[action]]


def fit_predict(logs, model: str, seed: int, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Fit on rows ``train`` (indices, repeats allowed) and predict every action for rows
    ``test``; one model per position, as obp's. A position whose training rows have a single
    reward value predicts that value (a classifier cannot be fitted on one class)."""
    n_actions, binary = logs.n_actions, logs.binary_reward
    q_hat = np.empty((len(test), n_actions, logs.len_list))
    every_action = np.tile(np.arange(n_actions), len(test))
    grid = features(np.repeat(logs.context[test], n_actions, axis=0), every_action, n_actions)
    for pos in range(logs.len_list):
        rows = train[logs.position[train] == pos]
        y = logs.reward[rows]
        if len(np.unique(y)) < 2:
            q_hat[:, :, pos] = y[0] if len(y) else logs.reward[train].mean()
            continue
        fitted = base_model(model, binary, seed).fit(
            features(logs.context[rows], logs.action[rows], n_actions), y)
        pred = fitted.predict_proba(grid)[:, 1] if binary else fitted.predict(grid)
        q_hat[:, :, pos] = pred.reshape(len(test), n_actions)
    return q_hat


def refit(logs, rows: np.ndarray, model: str, folds: int, seed: int,
          rng: np.random.Generator) -> np.ndarray:
    """Cross-fitted predictions for the resample ``rows`` (indices into ``logs``), folds
    drawn over the distinct original rows."""
    if folds == 1:
        return fit_predict(logs, model, seed, rows, rows)
    units, unit_of_row = np.unique(rows, return_inverse=True)
    fold = (rng.permutation(len(units)) % folds)[unit_of_row]
    q_hat = np.empty((len(rows), logs.n_actions, logs.len_list))
    for k in range(folds):
        test = fold == k
        q_hat[test] = fit_predict(logs, model, seed, rows[~test], rows[test])
    return q_hat
