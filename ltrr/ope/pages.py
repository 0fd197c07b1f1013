"""Logged pages (``ltrr ope --pages``): the format, the reader and its checks.

One row per page and position, obp's slate names (``obp.dataset.SyntheticSlateBanditDataset``
writes them so), or one row per page with list columns (``action``, ``reward`` and the
per-position probabilities as lists, ``pscore_positions`` a list of lists; ``slate_id``
defaults to the row number):

==========================================  ==========  ===========================================
column                                      required    meaning
==========================================  ==========  ===========================================
``slate_id``                                yes         the page (one query's impression)
``position``                                yes         0-based slot on the page
``action``                                  yes         the item shown there (id or docno)
``reward``                                  yes         its click (or reward), in ``--reward-range``
``pscore``                                  for SIPS    the logging ranker's probability of the page
``pscore_cascade``                          for RIPS    ... of the page's top ``position + 1`` items
``pscore_item_position``                    for IIPS    ... of this item at this position
``pscore_positions``                        no          ... of this item at each position (a list;
                                                        ``|``-joined in CSV): PBM-IPS's propensity
``qid``                                     no          the query (a target given per query)
``evaluation_policy_pscore``,               no          the target's probabilities, as obp's slate
``..._item_position``, ``..._cascade``                  examples pass them (``--policy log``)
==========================================  ==========  ===========================================

ltrr's own decision logs are read too (their ``shown`` and ``clicks`` lists; see
:func:`_from_decision_log`). In a log with list columns, rows in messages count the
exploded rows (one per page and position).

Checks (each one :class:`~ltrr.errors.InputError` naming file, column and rows, as
:mod:`ltrr.ope.validation` words them): missing columns, non-numeric / NaN values, a
probability outside (0, 1], a reward outside the range, positions that are not integers in
``[0, page length)`` or repeat within a page, an item repeated within a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.decision_log import ACTION_SET_SEPARATOR
from ltrr.errors import InputError
from ltrr.ope.schema import read_table
from ltrr.ope.validation import fail_rows, numeric_column

REQUIRED = ("slate_id", "position", "action", "reward")
LOGGING = ("pscore", "pscore_cascade", "pscore_item_position")
EVALUATION = tuple(f"evaluation_policy_{name}" for name in LOGGING)
POSITIONS = "pscore_positions"


@dataclass
class PageLogs:
    """Logged pages as arrays over rows (one row per page and position), sorted by page and
    position; ``row`` maps each back to its record in the file."""

    source: str
    slate: np.ndarray  # (n,) page index 0..n_pages-1
    position: np.ndarray  # (n,) int
    item: np.ndarray  # (n,) str
    reward: np.ndarray  # (n,) float
    row: np.ndarray  # (n,) the record in the file
    slate_ids: np.ndarray  # (n_pages,) the file's slate ids
    len_list: int
    pscores: dict = field(default_factory=dict)  # logging: name -> (n,)
    evaluation: dict = field(default_factory=dict)  # the log's target columns: name -> (n,)
    positions: np.ndarray | None = None  # (n, len_list) P(item at each position), or None
    qid: np.ndarray | None = None  # (n,) str

    @property
    def n_rows(self) -> int:
        return len(self.slate)

    @property
    def n_pages(self) -> int:
        return len(self.slate_ids)


def _is_list_log(frame: pd.DataFrame) -> bool:
    """Whether the log has one row per page (list values in ``action``)."""
    return "action" in frame.columns and len(frame) > 0 and isinstance(
        frame["action"].iloc[0], (list, tuple, np.ndarray))


def _explode(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per page with list columns -> one row per page and position; a page that
    showed nothing (an empty list: the union was empty) is left out."""
    frame = frame.reset_index(drop=True)
    if "slate_id" not in frame.columns:
        frame = frame.assign(slate_id=np.arange(len(frame)))
    lists = [c for c in frame.columns if isinstance(frame[c].iloc[0], (list, tuple, np.ndarray))]
    frame = frame[frame["action"].map(len).to_numpy() > 0].reset_index(drop=True)  # no page
    lengths = frame["action"].map(len).to_numpy()
    for c in lists:
        fail_rows(source, c, "lists of another length than 'action'",
                  frame[c].map(len).to_numpy() != lengths)
    long = frame.explode(lists, ignore_index=True)
    long["position"] = np.concatenate([np.arange(n) for n in lengths] or [np.zeros(0, int)])
    return long


def _positions(frame: pd.DataFrame, source: str, len_list: int) -> np.ndarray:
    """``pscore_positions`` as an (n, len_list) array (lists, or ``|``-joined text)."""
    column = frame[POSITIONS]
    parsed = column.map(lambda v: [float(x) for x in v.split(ACTION_SET_SEPARATOR)]
                        if isinstance(v, str) else list(v))
    lengths = parsed.map(len).to_numpy()
    fail_rows(source, POSITIONS, f"lists not of the page length {len_list}", lengths != len_list)
    values = np.array(parsed.tolist(), dtype=float).reshape(len(frame), len_list)
    bad = ~np.isfinite(values).all(axis=1) | (values < 0).any(axis=1) | (values > 1).any(axis=1)
    fail_rows(source, POSITIONS, "probabilities outside [0, 1]", bad)
    fail_rows(source, POSITIONS, "all zero for a shown item", values.sum(axis=1) <= 0)
    return values


def _from_decision_log(frame: pd.DataFrame) -> pd.DataFrame:
    """ltrr's decision log (``docs/decision-log.md``) as a page log: its ``shown`` and
    ``clicks`` lists are the pages, ``step`` the page id; its ``action`` and ``propensity``
    are the plan's and are dropped. A run that showed its ranking stage's top pages has no
    page probabilities (only PBM-IPS with given examination probabilities applies); one that
    explored (``[ranking] logging = "plackett-luce"``) has obp's ``pscore`` columns as lists,
    read as they are."""
    plan = [c for c in ("action", "reward", "propensity") if c in frame.columns]
    return frame.drop(columns=plan).rename(columns={"shown": "action", "clicks": "reward",
                                                    "step": "slate_id"})


def to_page_logs(frame: pd.DataFrame, source: str, *, needed: tuple[str, ...] = (),
                 reward_range: tuple[float, float] = (0.0, 1.0),
                 page_length: int | None = None) -> PageLogs:
    """Check a page log and return it as arrays; ``needed``: the columns the chosen
    estimators and target read (a missing one is an error naming them)."""
    if {"shown", "clicks"} <= set(frame.columns):
        frame = _from_decision_log(frame)
    if _is_list_log(frame):
        frame = _explode(frame, source)
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise InputError(f"{source}: no logged pages")
    present = [str(c) for c in frame.columns]
    for name in REQUIRED + tuple(needed):
        if name not in present:
            raise InputError(f"{source}: missing column '{name}' (columns present: "
                             f"{', '.join(present)})")
    fail_rows(source, "slate_id", "missing values", frame["slate_id"].isna().to_numpy())
    fail_rows(source, "action", "missing values", frame["action"].isna().to_numpy())
    position = numeric_column(frame, source, "position")
    bad = (position < 0) | (position != np.round(position))
    if page_length is not None:
        bad |= position >= page_length
    where = f"[0, {page_length})" if page_length is not None else "[0, page length)"
    fail_rows(source, "position", f"values that are not integers in {where}", bad)
    position = position.astype(np.int64)
    slate_codes, slate_ids = pd.factorize(frame["slate_id"])
    fail_rows(source, "position", "a position repeated within a page",
              pd.DataFrame({"s": slate_codes, "p": position}).duplicated().to_numpy())
    item = frame["action"].astype(str).to_numpy()
    fail_rows(source, "action", "an item repeated within a page",
              pd.DataFrame({"s": slate_codes, "a": item}).duplicated().to_numpy())
    reward = numeric_column(frame, source, "reward")
    lo, hi = reward_range
    fail_rows(source, "reward", f"values outside the reward range [{lo:g}, {hi:g}]",
              (reward < lo) | (reward > hi))
    pscores = {}
    for name in LOGGING:
        if name in present:
            values = numeric_column(frame, source, name)
            fail_rows(source, name, "values outside (0, 1]", (values <= 0) | (values > 1))
            pscores[name] = values
    evaluation = {}
    for name in EVALUATION:
        if name in present:
            values = numeric_column(frame, source, name)
            fail_rows(source, name, "values outside [0, 1]", (values < 0) | (values > 1))
            evaluation[name] = values
    len_list = page_length or int(position.max()) + 1
    order = np.lexsort((position, slate_codes))
    positions = _positions(frame, source, len_list)[order] if POSITIONS in present else None
    qid = frame["qid"].astype(str).to_numpy()[order] if "qid" in present else None
    return PageLogs(source=source, slate=slate_codes[order], position=position[order],
                    item=item[order], reward=reward[order], row=order,
                    slate_ids=np.asarray(slate_ids), len_list=len_list,
                    pscores={k: v[order] for k, v in pscores.items()},
                    evaluation={k: v[order] for k, v in evaluation.items()},
                    positions=positions, qid=qid)


def read_page_logs(path: Path | str, **checks) -> PageLogs:
    """Read (Parquet, CSV, JSON Lines) and check a page log (:func:`to_page_logs`)."""
    return to_page_logs(read_table(path), str(path), **checks)
