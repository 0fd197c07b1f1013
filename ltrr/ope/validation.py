"""Checks on logged data before any estimate, each failing with one exact message.

Every problem raises :class:`~ltrr.errors.InputError` with a message of the form
``FILE: column 'NAME': WHAT at rows 3, 17, 42 (and 5 more)``, where rows are 0-based
positions of the records in the file (the first record is row 0, whatever the format).
The checks are vectorised: each is one numpy expression over a column.

Cases: missing or misnamed columns, non-numeric / NaN / infinite values, propensities
outside (0, 1], rewards outside the declared range, bad positions, actions not in the
row's action set, a deterministic logging policy when an estimator needs exploration,
a single action, and too few rows.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from ltrr.errors import InputError
from ltrr.ope.schema import ACTION_SET_SEPARATOR, CONTEXT_PREFIX, REQUIRED, LoggedData

SHOWN_ROWS = 3
# Names other tools use for our columns, for "did you mean" hints.
ALIASES = {"pscore": "propensity", "propensity_score": "propensity", "prob": "propensity",
           "click": "reward", "clicks": "reward", "item_id": "action", "action_id": "action",
           "arm": "action"}


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


def require_columns(frame: pd.DataFrame, source: str, names: list[str], how: str = "") -> None:
    """Fail on the first of ``names`` that the file lacks, with a hint at a close name."""
    present = [str(c) for c in frame.columns]
    for name in names:
        if name in present:
            continue
        alias = [c for c in present if ALIASES.get(c.lower()) == name]
        close = alias or difflib.get_close_matches(name, present, n=1, cutoff=0.7)
        hint = f"did you mean '{close[0]}'?" if close else f"columns present: {', '.join(present)}"
        raise InputError(f"{source}: missing column '{name}'{how} ({hint})")


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


def action_columns(frame: pd.DataFrame, source: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Action indices, the sorted action universe, and the (rows x actions) availability mask."""
    fail_rows(source, "action", "missing values", frame["action"].isna().to_numpy())
    codes, uniques = pd.factorize(frame["action"])
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
        fail_rows(source, "action", "action not in the row's action_set",
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


def to_logged_data(frame: pd.DataFrame, source: str, *, context: list[str] | None,
                   reward_range: tuple[float, float], needs_exploration: bool,
                   min_rows: int) -> LoggedData:
    """Validate a logged-data frame and turn it into :class:`LoggedData`."""
    require_columns(frame, source, list(REQUIRED))
    if context:
        require_columns(frame, source, list(context), how=" (named by --context)")
        context_names = list(context)
    else:
        context_names = [str(c) for c in frame.columns if str(c).startswith(CONTEXT_PREFIX)]
    if len(frame) < min_rows:
        raise InputError(f"{source}: {len(frame)} rows; off-policy estimates need at least {min_rows}")

    features = [numeric_column(frame, source, name) for name in context_names]
    ctx = np.column_stack(features) if features else np.zeros((len(frame), 1))
    propensity = numeric_column(frame, source, "propensity")
    fail_rows(source, "propensity", "values outside (0, 1]", (propensity <= 0) | (propensity > 1))
    reward = numeric_column(frame, source, "reward")
    lo, hi = reward_range
    fail_rows(source, "reward", f"values outside the reward range [{lo:g}, {hi:g}]",
              (reward < lo) | (reward > hi))
    has_position = "position" in frame.columns
    if has_position:
        raw = numeric_column(frame, source, "position")
        fail_rows(source, "position", "values that are not non-negative integers",
                  (raw < 0) | (raw != np.floor(raw)))
        position = raw.astype(np.int64)
    else:
        position = np.zeros(len(frame), dtype=np.int64)
    action, universe, available = action_columns(frame, source)
    if len(universe) < 2:
        raise InputError(f"{source}: column 'action': only one action ({universe[0]}); "
                         "off-policy evaluation needs at least two")
    if needs_exploration and (propensity == 1).all():
        raise InputError(f"{source}: column 'propensity': every propensity is 1 (a deterministic "
                         "logging policy); IPW, SNIPW, DR, SNDR, Switch-DR and DRos need a logging "
                         "policy that explores; only DM (--estimators dm) can be used")
    return LoggedData(source=source, context=ctx, context_names=context_names, action=action,
                      actions=universe, propensity=propensity, reward=reward, position=position,
                      available=available, reward_range=(float(lo), float(hi)),
                      order=time_order(frame, source), has_position=has_position)
