"""Checks on logged data before any estimate, each failing with one exact message.

Every problem raises :class:`~ltrr.errors.InputError` with a message of the form
``FILE: column 'NAME': WHAT at rows 3, 17, 42 (and 5 more)``, where rows are 0-based
positions of the records in the file (the first record is row 0, whatever the format).
The checks are vectorised: each is one numpy expression over a column.

Cases: missing or misnamed columns (which column plays which role is
:mod:`ltrr.ope.columns`' job; messages name the file's own column, e.g. ``pscore``),
non-numeric / NaN / infinite values, propensities outside (0, 1], rewards outside the
declared range, bad positions, actions not in the row's action set, a deterministic logging
policy when an estimator needs exploration, a single action, and too few rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.decision_log import ACTION_SET_SEPARATOR, AWAITING
from ltrr.errors import InputError
from ltrr.ope.columns import ColumnMap, resolve
from ltrr.ope.schema import LoggedData, read_table

SHOWN_ROWS = 3


def row_list(mask: np.ndarray) -> str:
    """``rows 3, 17, 42 (and 5 more)`` for the true entries of ``mask``."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:SHOWN_ROWS])
    more = f" (and {len(rows) - SHOWN_ROWS} more)" if len(rows) > SHOWN_ROWS else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}"


def fail_rows(source: str, column: str, what: str, mask: np.ndarray) -> None:
    """Raise when any entry of ``mask`` is true."""
    if mask.any():
        raise InputError(f"{source}: column '{column}': {what} at {row_list(mask)}")


def numeric_column(frame: pd.DataFrame, source: str, name: str) -> np.ndarray:
    """A column as float64, failing on non-numeric, NaN or infinite values."""
    column = frame[name]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        fail_rows(source, name, "non-numeric values", np.isnan(values) & column.notna().to_numpy())
    fail_rows(source, name, "NaN or infinite values", ~np.isfinite(values))
    return values


def sort_key(action_id: str) -> tuple:
    """Integer-like ids sort numerically (so ids 0..K-1 keep their index), others as text."""
    try:
        return (0, int(action_id), "")
    except ValueError:
        return (1, 0, action_id)


def action_columns(frame: pd.DataFrame, source: str, column: str = "action"
                   ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Action indices, the sorted action universe, and the (rows x actions) availability mask."""
    fail_rows(source, column, "missing values", frame[column].isna().to_numpy())
    codes, uniques = pd.factorize(frame[column])
    logged = [str(u) for u in uniques]
    if "action_set" in frame.columns:
        fail_rows(source, "action_set", "missing values", frame["action_set"].isna().to_numpy())
        set_codes, set_uniques = pd.factorize(frame["action_set"].astype(str))
        members = [s.split(ACTION_SET_SEPARATOR) for s in set_uniques]
        universe = sorted({m for ms in members for m in ms} | set(logged), key=sort_key)
        index = {a: i for i, a in enumerate(universe)}
        set_mask = np.zeros((len(members), len(universe)), dtype=bool)
        for i, ms in enumerate(members):
            set_mask[i, [index[m] for m in ms]] = True
        available = set_mask[set_codes]
    else:
        universe = sorted(set(logged), key=sort_key)
        index = {a: i for i, a in enumerate(universe)}
        available = np.ones((len(frame), len(universe)), dtype=bool)
    action = np.array([index[a] for a in logged], dtype=np.int64)[codes]
    if "action_set" in frame.columns:
        fail_rows(source, column, "action not in the row's action_set",
                  ~available[np.arange(len(action)), action])
    return action, universe, available


def time_order(frame: pd.DataFrame, source: str) -> np.ndarray:
    """Row order by ``timestamp`` (stable), or file order when there is none."""
    if "timestamp" not in frame.columns:
        return np.arange(len(frame))
    stamps = frame["timestamp"]
    if pd.api.types.is_numeric_dtype(stamps):
        keys = numeric_column(frame, source, "timestamp")
    else:
        parsed = pd.to_datetime(stamps, errors="coerce", utc=True, format="mixed")
        fail_rows(source, "timestamp", "unreadable timestamps", parsed.isna().to_numpy())
        keys = parsed.to_numpy(dtype="datetime64[ns]")
    return np.argsort(keys, kind="stable")


def to_logged_data(frame: pd.DataFrame, source: str, *, columns: ColumnMap | None = None,
                   reward_range: tuple[float, float], needs_exploration: bool,
                   min_rows: int, propensity_required: bool = True) -> LoggedData:
    """Validate a logged-data frame and turn it into :class:`LoggedData`.

    ``columns`` maps roles to the file's columns (:mod:`ltrr.ope.columns`). With
    ``propensity_required=False`` a log without a propensity column is accepted (replay of
    a learning policy decides what that means); its ``propensity`` is then uniform over
    each row's action set and ``propensity_logged`` is False.
    """
    roles = resolve(frame, source, columns, propensity_required=propensity_required)
    waiting = np.zeros(len(frame), dtype=bool)
    if AWAITING in frame.columns:  # a selector's decisions whose feedback has not come yet
        flags = frame[AWAITING]
        known = flags.isna() | flags.isin([True, False, 0, 1])
        fail_rows(source, AWAITING, "values that are not true or false", ~known.to_numpy(bool))
        waiting = flags.fillna(False).astype(bool).to_numpy()
        # their empty rewards pass the checks (rows keep their numbers in messages); left out below
        frame = frame.assign(**{roles.reward: frame[roles.reward].mask(waiting, reward_range[0])})
    if (~waiting).sum() < min_rows:
        if waiting.any():
            raise InputError(f"{source}: {int((~waiting).sum())} rows with feedback "
                             f"({int(waiting.sum())} more await it); off-policy estimates need "
                             f"at least {min_rows}")
        raise InputError(f"{source}: {len(frame)} rows; off-policy estimates need at least {min_rows}")

    features = [numeric_column(frame, source, name) for name in roles.context]
    ctx = np.column_stack(features) if features else np.zeros((len(frame), 1))
    reward = numeric_column(frame, source, roles.reward)
    lo, hi = reward_range
    fail_rows(source, roles.reward, f"values outside the reward range [{lo:g}, {hi:g}]",
              (reward < lo) | (reward > hi))
    has_position = "position" in frame.columns
    if has_position:
        raw = numeric_column(frame, source, "position")
        fail_rows(source, "position", "values that are not non-negative integers",
                  (raw < 0) | (raw != np.floor(raw)))
        position = raw.astype(np.int64)
    else:
        position = np.zeros(len(frame), dtype=np.int64)
    action, universe, available = action_columns(frame, source, roles.action)
    if len(universe) < 2:
        raise InputError(f"{source}: column '{roles.action}': only one action ({universe[0]}); "
                         "off-policy evaluation needs at least two")
    if roles.propensity is None:
        propensity = 1.0 / available.sum(axis=1)
    else:
        propensity = numeric_column(frame, source, roles.propensity)
        fail_rows(source, roles.propensity, "values outside (0, 1]",
                  (propensity <= 0) | (propensity > 1))
        if needs_exploration and (propensity == 1).all():
            raise InputError(f"{source}: column '{roles.propensity}': every propensity is 1 (a "
                             "deterministic logging policy); IPW, SNIPW, DR, SNDR, Switch-DR and "
                             "DRos need a logging policy that explores; only DM (--estimators dm) "
                             "can be used")
    data = LoggedData(source=source, context=ctx, context_names=list(roles.context), action=action,
                      actions=universe, propensity=propensity, reward=reward, position=position,
                      available=available, reward_range=(float(lo), float(hi)),
                      order=time_order(frame, source), has_position=has_position,
                      columns=roles.as_record(), propensity_logged=roles.propensity is not None)
    if waiting.any():
        data = data.subset(data.order[~waiting[data.order]])  # in time order
        data.awaiting = int(waiting.sum())
    return data


def read_logs(path: Path | str, *, columns=None, reward_range: tuple[float, float] = (0.0, 1.0),
              needs_exploration: bool = True, min_rows: int = 100,
              propensity_required: bool = True) -> LoggedData:
    """Read and validate a logged-data file; raise :class:`InputError` on the first problem.
    ``columns``: a :class:`~ltrr.ope.columns.ColumnMap` (default names when None)."""
    frame = read_table(path)
    return to_logged_data(frame, str(path), columns=columns, reward_range=reward_range,
                          needs_exploration=needs_exploration, min_rows=min_rows,
                          propensity_required=propensity_required)
