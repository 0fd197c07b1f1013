"""Click logs for training a ranker: read, check, flatten to one row per shown document.

Two formats are read (Parquet, CSV, TSV or JSON Lines, by extension):

- **ltrr's decision log** (``docs/decision-log.md``): one row per interaction with ``qid``,
  ``shown`` (list of docnos, best first) and ``clicks`` (0/1 per shown position); the
  position of a document is its index in ``shown``;
- **long format**: one row per shown document with ``qid``, ``docno``, ``position``
  (0-based) and ``click`` (0/1), and optionally ``session`` naming the interaction. Without
  ``session``, an interaction is a run of consecutive rows of one ``qid`` whose positions
  increase (a new run starts when the qid changes or the position does not increase).

Either way :func:`read_click_log` returns the long frame ``session, qid, docno, position,
click``. A log the ranker cannot correct for position bias (no ``position`` column in a
long log) or that is malformed raises one :class:`~ltrr.errors.InputError` naming the file,
field and rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.errors import InputError

LONG_COLUMNS = ["session", "qid", "docno", "position", "click"]


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError("click log not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype={"qid": str,
                                                                                   "docno": str})
        if suffix in (".jsonl", ".json"):
            return pd.read_json(path, lines=True, dtype={"qid": str, "docno": str})
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read click log: {str(err).splitlines()[0][:160]}",
                         file=str(path)) from None
    raise InputError(f"click log must be .parquet, .csv, .tsv or .jsonl, got '{suffix}'",
                     file=str(path))


def read_click_log(path: str | Path) -> pd.DataFrame:
    """The log at ``path`` as ``session, qid, docno, position, click`` rows (see the module)."""
    path = Path(path)
    log = _read(path)
    if "qid" not in log.columns:
        raise InputError("click log has no 'qid' column", file=str(path), field="qid")
    if "shown" in log.columns and "clicks" in log.columns:
        return _from_decisions(log, path)
    if "docno" in log.columns and "click" in log.columns:
        if "position" not in log.columns:
            raise InputError("click log has no positions: clicks training corrects position "
                             "bias and needs a 'position' column (0-based shown position) "
                             "per row", file=str(path), field="position")
        return _from_long(log, path)
    raise InputError("not a click log: expected ltrr's decision log (qid, shown, clicks) or "
                     f"the long format (qid, docno, position, click); columns are "
                     f"{sorted(map(str, log.columns))}", file=str(path))


def _rows(mask: np.ndarray) -> str:
    bad = np.flatnonzero(mask)
    return ", ".join(map(str, bad[:5])) + (f" (+{len(bad) - 5} more)" if len(bad) > 5 else "")


def _from_decisions(log: pd.DataFrame, path: Path) -> pd.DataFrame:
    shown = [list(s) if s is not None and not np.isscalar(s) else None for s in log["shown"]]
    clicks = [list(c) if c is not None and not np.isscalar(c) else None for c in log["clicks"]]
    bad = np.array([s is None or c is None or len(s) != len(c) for s, c in zip(shown, clicks)])
    if bad.any():
        raise InputError("'clicks' must be a list as long as 'shown' in every row",
                         file=str(path), field="clicks", rows=_rows(bad))
    bad = np.array([not all(c in (0, 1) for c in row) for row in clicks])
    if bad.any():
        raise InputError("clicks must be 0 or 1", file=str(path), field="clicks", rows=_rows(bad))
    sizes = np.array([len(s) for s in shown], dtype=np.int64)
    flat_clicks = np.array([c for row in clicks for c in row], dtype=float)
    session = np.repeat(log["step"].to_numpy() if "step" in log.columns else np.arange(len(log)),
                        sizes)
    return pd.DataFrame({
        "session": session,
        "qid": np.repeat(log["qid"].astype(str).to_numpy(), sizes),
        "docno": np.array([str(d) for row in shown for d in row], dtype=object),
        "position": np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes),
        "click": flat_clicks.astype(np.int8),
    })


def _from_long(log: pd.DataFrame, path: Path) -> pd.DataFrame:
    position = pd.to_numeric(log["position"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(position) | (position < 0) | (position != np.round(position))
    if bad.any():
        raise InputError("positions must be non-negative integers", file=str(path),
                         field="position", rows=_rows(bad))
    click = pd.to_numeric(log["click"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(click, (0.0, 1.0))
    if bad.any():
        raise InputError("clicks must be 0 or 1", file=str(path), field="click", rows=_rows(bad))
    qid = log["qid"].astype(str).to_numpy()
    if "session" in log.columns:
        session = pd.factorize(log["session"])[0]
    else:
        new = np.ones(len(log), dtype=bool)
        new[1:] = (qid[1:] != qid[:-1]) | (position[1:] <= position[:-1])
        session = np.cumsum(new) - 1
    return pd.DataFrame({"session": session, "qid": qid,
                         "docno": log["docno"].astype(str).to_numpy(),
                         "position": position.astype(np.int64), "click": click.astype(np.int8)})

