"""The target ranker of ``ltrr ope --pages`` (``--policy``), on the logged pages.

==================  =====================================================================
spec                the target
==================  =====================================================================
``log``             the log's own ``evaluation_policy_pscore``, ``..._item_position``,
                    ``..._cascade`` columns (obp's slate examples pass a target so)
``scores:PATH``     a score per item: columns ``slate_id`` (per page) or ``qid`` (per
                    query; the log needs a ``qid`` column), ``action``, ``score``; the
                    target shows each page's items by descending score, ties by item id
                    as text (a pure function of the file, never of its order)
``pages:PATH``      a deterministic policy's page: ``slate_id`` or ``qid``, ``position``
                    (0-based), ``action``
==================  =====================================================================

A PyTerrier ranking frame (``qid, docno, score, rank``) is read as it is: ``docno`` is the
item (``action``) and ``rank`` (0-based) the position, so any PyTerrier pipeline's output on
the logged queries is a target. A page (or query) of the log that the file does not cover is
an error naming it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.errors import InputError
from ltrr.ope.pages import PageLogs
from ltrr.ope.schema import read_table
from ltrr.ope.slate import PageTarget, target_from_log, target_from_pages
from ltrr.ope.validation import fail_rows, numeric_column, row_list

PYTERRIER = {"docno": "action", "rank": "position"}  # PyTerrier's ranking frame -> ours


def _key(frame: pd.DataFrame, logs: PageLogs, path: str) -> tuple[str, np.ndarray]:
    """The file's key column and each logged page's key value."""
    if "slate_id" in frame.columns:
        return "slate_id", np.asarray(logs.slate_ids).astype(str)
    if "qid" in frame.columns:
        if logs.qid is None:
            raise InputError(f"{path}: keyed by 'qid', but {logs.source} has no column 'qid'")
        first = np.zeros(logs.n_pages, dtype=np.int64)
        first[logs.slate[::-1]] = np.arange(logs.n_rows)[::-1]
        return "qid", logs.qid[first]
    raise InputError(f"{path}: missing column 'slate_id' or 'qid' (columns present: "
                     f"{', '.join(map(str, frame.columns))})")


def _pages(frame: pd.DataFrame, logs: PageLogs, path: str, order_by: list[str],
           ascending: list[bool]) -> list[np.ndarray]:
    """Each logged page's target page from a long file sorted by ``order_by``."""
    key, wanted = _key(frame, logs, path)
    frame = frame.assign(_key=frame[key].astype(str), action=frame["action"].astype(str))
    frame = frame.sort_values(["_key", *order_by], ascending=[True, *ascending], kind="stable")
    by_key = {k: g["action"].to_numpy() for k, g in frame.groupby("_key", sort=False)}
    missing = np.array([k not in by_key for k in wanted])
    if missing.any():
        rows = np.zeros(logs.n_rows, dtype=bool)
        rows[logs.row[np.isin(logs.slate, np.flatnonzero(missing))]] = True
        raise InputError(f"{path}: no {key} '{wanted[missing][0]}' (the target is not given "
                         f"for {logs.source}'s {row_list(rows)})")
    return [by_key[k] for k in wanted]


def build(spec: str, logs: PageLogs) -> PageTarget:
    """The target of ``spec`` on ``logs``; InputError on a bad spec or file."""
    if spec == "log":
        if not logs.evaluation:
            raise InputError(f"{logs.source}: --policy log needs the columns "
                             "evaluation_policy_pscore, evaluation_policy_pscore_item_position "
                             "or evaluation_policy_pscore_cascade")
        return target_from_log(logs)
    kind, _, path = spec.partition(":")
    if kind not in ("scores", "pages") or not path:
        raise InputError(f"--policy: unknown page policy '{spec}' (log, scores:PATH, pages:PATH)")
    frame = read_table(path)
    frame = frame.rename(columns={old: new for old, new in PYTERRIER.items()
                                  if old in frame.columns and new not in frame.columns})
    columns = ("action", "score") if kind == "scores" else ("action", "position")
    for name in columns:
        if name not in frame.columns:
            raise InputError(f"{path}: missing column '{name}' (columns present: "
                             f"{', '.join(map(str, frame.columns))})")
    fail_rows(path, "action", "missing values", frame["action"].isna().to_numpy())
    if kind == "scores":
        frame = frame.assign(score=numeric_column(frame, path, "score"))
        pages = _pages(frame, logs, path, ["score", "action"], [False, True])
    else:
        position = numeric_column(frame, path, "position")
        fail_rows(path, "position", "values that are not non-negative integers",
                  (position < 0) | (position != np.round(position)))
        pages = _pages(frame.assign(position=position), logs, path, ["position"], [True])
    return target_from_pages(logs, pages, spec)
