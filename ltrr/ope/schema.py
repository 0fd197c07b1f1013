"""The logged-data format ``ltrr ope`` reads, and the reader for Parquet, CSV and JSON Lines.

One row per decision:

=================  ========  ============================================================
column             required  meaning
=================  ========  ============================================================
``ctx_<name>``     yes       context features (floats); or obp-style ``x0..xN``, or the columns
                             a :class:`~ltrr.ope.columns.ColumnMap` names (``--context``)
``action``         yes       the action taken (plan id), string or integer
``propensity``     yes       the logging policy's probability of that action, in (0, 1]
                             (obp's ``pscore`` is accepted too)
``reward``         yes       the observed reward, inside the declared reward range
``position``       no        slot of the action on the page (non-negative integer)
``timestamp``      no        decision time (number or ISO time); orders the train/eval split
``action_set``     no        the actions available at this decision, ``|``-joined
``awaiting_feed    no        True on a decision whose reward is not known yet (a
back``                       :class:`~ltrr.selection.selector.Selector`'s log): left out
=================  ========  ============================================================

Every role's column can be renamed (:mod:`ltrr.ope.columns`). Other columns are ignored, so ltrr's own decision logs (``step, qid, query, ctx_*,
action, action_index, propensity, reward, ..., timestamp, action_set``) are read as
they are. The action universe is the union of all action sets (or of the logged actions
when there is no ``action_set`` column), sorted; action indices refer to that order.

Reading and checking are vectorised (pandas/pyarrow, numpy) so that a million rows take
a small share of an evaluation; the checks themselves, and ``read_logs`` (read and check a
file), live in :mod:`ltrr.ope.validation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.errors import InputError


@dataclass
class LoggedData:
    """Logged decisions as arrays, ready for obp (one entry per row of the file)."""

    source: str
    context: np.ndarray  # (n, d) float
    context_names: list[str]
    action: np.ndarray  # (n,) int index into actions
    actions: list[str]  # the action universe, sorted
    propensity: np.ndarray  # (n,) float
    reward: np.ndarray  # (n,) float
    position: np.ndarray  # (n,) int, zeros when the file has none
    available: np.ndarray  # (n, n_actions) bool
    reward_range: tuple[float, float]
    order: np.ndarray = field(repr=False, default=None)  # row order by timestamp (stable)
    has_position: bool = False
    columns: dict = field(default_factory=dict)  # role -> the file's column (columns.Roles)
    propensity_logged: bool = True  # False: no propensity column, uniform assumed (replay only)
    awaiting: int = 0  # decisions awaiting feedback the file held, left out (a selector's log)

    @property
    def n_rows(self) -> int:
        return int(self.action.shape[0])

    @property
    def n_actions(self) -> int:
        return len(self.actions)

    @property
    def len_list(self) -> int:
        return int(self.position.max()) + 1 if self.n_rows else 1

    @property
    def binary_reward(self) -> bool:
        return bool(np.isin(self.reward, (0.0, 1.0)).all())

    def subset(self, rows: np.ndarray) -> "LoggedData":
        """The same logs restricted to ``rows`` (indices), in that order."""
        return LoggedData(
            source=self.source, context=self.context[rows], context_names=self.context_names,
            action=self.action[rows], actions=self.actions, propensity=self.propensity[rows],
            reward=self.reward[rows], position=self.position[rows],
            available=self.available[rows], reward_range=self.reward_range,
            order=np.arange(len(rows)), has_position=self.has_position, columns=self.columns,
            propensity_logged=self.propensity_logged, awaiting=self.awaiting,
        )

    def bandit_feedback(self) -> dict:
        """obp's ``BanditFeedback`` dictionary of these logs."""
        return {
            "n_rounds": self.n_rows, "n_actions": self.n_actions, "action": self.action,
            "position": self.position, "reward": self.reward, "pscore": self.propensity,
            "context": self.context, "action_context": np.eye(self.n_actions),
        }


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a Parquet (``.parquet``/``.pq``), CSV (``.csv``) or JSON Lines (``.jsonl``) file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True)
    except (ValueError, OSError) as err:
        raise InputError(f"{path}: cannot be read as {suffix[1:]}: {err}") from err
    raise InputError(f"{path}: unknown file type {suffix!r}; use .parquet, .csv or .jsonl")
