"""Evaluation policies for ``ltrr ope --policy SPEC``: what would another policy have done?

Specs:

- ``uniform``: uniform over each row's available actions; evaluated on all rows.
- ``greedy-dm:MODEL[:EPSILON]``: argmax of a reward model (obp ``RegressionModel`` with
  ``MODEL`` = ``logistic`` or ``lightgbm``) fitted on the training part of the logs, mixed
  with ``EPSILON`` of uniform exploration (default 0).
- ``ipw-learner:MODEL``: obp's ``IPWLearner`` (a classifier trained with reward/propensity
  weights) fitted on the training part.
- ``file:PATH``: action probabilities for every logged row, either wide (one column per
  action id, optionally a ``row`` column) or long (columns ``row, action, probability``);
  evaluated on all rows.

Trained policies use the first ``train_fraction`` of the rows in timestamp order (file
order without timestamps) and are evaluated on the rest, so no row is both taught and
judged. Every policy returns ``action_dist`` of shape (rows, actions, positions), the same
distribution at every position, and puts no mass on unavailable actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltrr.compat import obp
from ltrr.errors import InputError
from ltrr.ope import rewardmodel
from ltrr.ope.schema import LoggedData, read_table
from ltrr.ope.validation import fail_rows, row_list

# A written policy file rounds its probabilities: 16 actions at 6 decimals can sum to
# 1 +- 8e-6. Sums within this tolerance are renormalised (and the output says so); a
# row off by more is an error, since it is more likely a wrong column than rounding.
SUM_TOLERANCE = 1e-3
TRAINED = ("greedy-dm", "ipw-learner")
SPECS = ("uniform", "greedy-dm:MODEL[:EPSILON]", "ipw-learner:MODEL", "file:PATH")


@dataclass
class EvaluationPolicy:
    """An evaluation policy's action distribution on the rows it is judged on."""

    spec: str
    logs: LoggedData  # the rows evaluated
    action_dist: np.ndarray  # (rows, actions, positions)
    n_train: int
    notes: list[str] = field(default_factory=list)  # printed and recorded with the result


def uniform_dist(available: np.ndarray) -> np.ndarray:
    """(rows, actions) uniform over each row's available actions."""
    return available / available.sum(axis=1, keepdims=True)


def with_positions(dist: np.ndarray, len_list: int) -> np.ndarray:
    return np.repeat(dist[:, :, None], len_list, axis=2)


def split(logs: LoggedData, train_fraction: float) -> tuple[LoggedData, LoggedData]:
    """Training part (first ``train_fraction`` in time order) and evaluation part."""
    if not 0 < train_fraction < 1:
        raise InputError(f"--train-fraction must be in (0, 1), got {train_fraction}")
    n_train = int(round(logs.n_rows * train_fraction))
    if n_train < 1 or n_train >= logs.n_rows:
        raise InputError(f"{logs.source}: {logs.n_rows} rows cannot be split {train_fraction:g} "
                         "for training and the rest for evaluation")
    return logs.subset(logs.order[:n_train]), logs.subset(logs.order[n_train:])


def argmax_available(scores: np.ndarray, available: np.ndarray) -> np.ndarray:
    """One-hot (rows, actions) of the best available action per row."""
    best = np.where(available, scores, -np.inf).argmax(axis=1)
    dist = np.zeros(scores.shape)
    dist[np.arange(len(best)), best] = 1.0
    return dist


def greedy_dm(train: LoggedData, test: LoggedData, model: str, epsilon: float, seed: int) -> np.ndarray:
    """Argmax of a reward model fitted on the training rows; hand-written because obp has
    no "greedy on a reward model" policy, only the model (``RegressionModel``)."""
    reg = obp("ope").ope.RegressionModel(
        base_model=rewardmodel.base_model(model, train.binary_reward, seed),
        n_actions=train.n_actions, action_context=np.eye(train.n_actions))
    reg.fit(context=train.context, action=train.action, reward=train.reward,
            pscore=train.propensity)
    scores = reg.predict(test.context)[:, :, 0]
    return (1 - epsilon) * argmax_available(scores, test.available) + epsilon * uniform_dist(test.available)


def ipw_learner(train: LoggedData, test: LoggedData, model: str, seed: int) -> np.ndarray:
    """obp's IPWLearner; its classifier's class probabilities are masked to the available
    actions before the argmax (obp's ``predict`` knows nothing of action sets)."""
    if not (train.reward > 0).any():
        raise InputError(f"{train.source}: column 'reward': no positive reward in the training "
                         "part; ipw-learner has nothing to learn from")
    learner = obp().policy.IPWLearner(
        n_actions=train.n_actions, base_classifier=rewardmodel.classifier(model, seed))
    learner.fit(context=train.context, action=train.action, reward=train.reward,
                pscore=train.propensity)
    clf = learner.base_classifier_list[0]
    scores = np.full((test.n_rows, test.n_actions), -1.0)
    scores[:, clf.classes_.astype(int)] = clf.predict_proba(test.context)
    return argmax_available(scores, test.available)


def check_sums(path: str, dist: np.ndarray, available: np.ndarray) -> None:
    """Fail on logged rows whose probabilities are off 1 by more than SUM_TOLERANCE or that
    put mass on unavailable actions; the message shows the offending sums."""
    sums = dist.sum(axis=1)
    bad = np.abs(sums - 1) > SUM_TOLERANCE
    if bad.any():
        shown = ", ".join(f"{v:.6g}" for v in sums[bad][:3])
        raise InputError(f"{path}: probabilities do not sum to 1 at logged {row_list(bad)} "
                         f"(sums {shown}; tolerance {SUM_TOLERANCE:g}, sums within it are "
                         "renormalised)")
    outside = ((dist > 0) & ~available).any(axis=1)
    if outside.any():
        raise InputError(f"{path}: probability on actions outside the logged row's action_set "
                         f"at logged {row_list(outside)}")


def normalised(path: str, dist: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Rows scaled to sum to 1, and a note when any needed it beyond float rounding."""
    sums = dist.sum(axis=1)
    off = float(np.abs(sums - 1).max())
    notes = []
    if off > 1e-9:
        n = int((np.abs(sums - 1) > 1e-9).sum())
        notes.append(f"policy file {path}: {n} rows renormalised (sums off 1 by up to {off:.2g}, "
                     f"within the tolerance {SUM_TOLERANCE:g})")
    return dist / sums[:, None], notes


def read_policy_file(path: str, logs: LoggedData) -> np.ndarray:
    """Validated (rows, actions) probabilities from a wide or long policy file."""
    frame = read_table(path)
    cols = [str(c) for c in frame.columns]
    frame.columns = cols
    index = {a: i for i, a in enumerate(logs.actions)}
    dist = np.zeros((logs.n_rows, logs.n_actions))
    if {"row", "action", "probability"} <= set(cols):
        rows = frame["row"].to_numpy()
        fail_rows(path, "row", f"rows outside the {logs.n_rows} logged rows",
                  (rows < 0) | (rows >= logs.n_rows))
        known = frame["action"].astype(str).map(index)
        fail_rows(path, "action", "actions not in the logs' action set", known.isna().to_numpy())
        prob = frame["probability"].to_numpy(dtype=np.float64)
        fail_rows(path, "probability", "values outside [0, 1] or NaN", ~((prob >= 0) & (prob <= 1)))
        acts = known.to_numpy(dtype=np.int64)
        fail_rows(path, "row", "repeated (row, action) pairs",
                  pd.Series(rows * logs.n_actions + acts).duplicated().to_numpy())
        dist[rows, acts] = prob
    else:
        unknown = [c for c in cols if c != "row" and c not in index]
        if unknown:
            raise InputError(f"{path}: column '{unknown[0]}': not an action in {logs.source} "
                             f"(actions: {', '.join(logs.actions)}); use one column per action "
                             "or the long format row, action, probability")
        if "row" in cols:
            rows = frame["row"].to_numpy()
            fail_rows(path, "row", f"rows outside the {logs.n_rows} logged rows",
                      (rows < 0) | (rows >= logs.n_rows))
        elif len(frame) != logs.n_rows:
            raise InputError(f"{path}: {len(frame)} rows but {logs.source} has {logs.n_rows}; "
                             "give one row per logged decision or a 'row' column")
        else:
            rows = np.arange(logs.n_rows)
        for c in cols:
            if c != "row":
                prob = frame[c].to_numpy(dtype=np.float64)
                fail_rows(path, c, "values outside [0, 1] or NaN", ~((prob >= 0) & (prob <= 1)))
                dist[rows, index[c]] = prob
    check_sums(path, dist, logs.available)
    return dist


def build(spec: str, logs: LoggedData, *, train_fraction: float = 0.5, seed: int = 0) -> EvaluationPolicy:
    """The evaluation policy named by ``spec``, and the rows it is evaluated on."""
    name, _, arg = spec.partition(":")
    notes: list[str] = []
    if name == "uniform" and not arg:
        dist, test, n_train = uniform_dist(logs.available), logs, 0
    elif name == "file" and arg:
        dist, notes = normalised(arg, read_policy_file(arg, logs))
        test, n_train = logs, 0
    elif name in TRAINED and arg:
        model, _, eps_text = arg.partition(":")
        if model not in rewardmodel.MODELS:
            raise InputError(f"--policy {spec}: model must be one of {', '.join(rewardmodel.MODELS)}")
        try:
            epsilon = float(eps_text) if eps_text else 0.0
        except ValueError:
            epsilon = -1.0
        if not 0 <= epsilon <= 1 or (eps_text and name != "greedy-dm"):
            raise InputError(f"--policy {spec}: epsilon must be a number in [0, 1] (greedy-dm only)")
        train, test = split(logs, train_fraction)
        n_train = train.n_rows
        if name == "greedy-dm":
            dist = greedy_dm(train, test, model, epsilon, seed)
        else:
            dist = ipw_learner(train, test, model, seed)
    else:
        raise InputError(f"--policy {spec!r}: unknown policy; use one of {', '.join(SPECS)}")
    return EvaluationPolicy(spec=spec, logs=test, action_dist=with_positions(dist, logs.len_list),
                            n_train=n_train, notes=notes)
