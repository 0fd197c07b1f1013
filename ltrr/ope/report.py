"""The result of ``ltrr ope``: a plain-text table and a JSON document with the same numbers."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from ltrr import __version__

NAMES = {"dm": "DM", "ipw": "IPW", "snipw": "SNIPW", "dr": "DR", "sndr": "SNDR",
         "switch-dr": "Switch-DR", "dr-os": "DRos"}


def document(result: dict, *, logs_path: str, policy, settings: dict) -> dict:
    """The JSON-ready record of one evaluation."""
    estimates = {}
    for name, row in result["estimates"].items():
        row = dict(row)
        if "hyperparameter" in row and math.isinf(row["hyperparameter"]):
            row["hyperparameter"] = "inf"
        estimates[name] = row
    return {
        "ltrr_version": __version__,
        "logs": logs_path,
        "policy": policy.spec,
        "rows_evaluated": policy.logs.n_rows,
        "rows_trained": policy.n_train,
        "actions": policy.logs.actions,
        "settings": settings,
        "logging_policy_value": result["logging_policy_value"],
        "estimates": estimates,
        "diagnostics": result["diagnostics"],
    }


def table(doc: dict) -> str:
    """The table ``ltrr ope`` prints."""
    level = round(100 * doc["settings"]["confidence"])
    lines = [
        f"policy {doc['policy']} on {doc['logs']}: {doc['rows_evaluated']} rows evaluated"
        + (f", {doc['rows_trained']} used for training" if doc["rows_trained"] else ""),
        f"{'estimator':<10} {'value':>10} {f'{level}% CI':>23}  note",
    ]
    for name, row in doc["estimates"].items():
        note = f"tuned {row['hyperparameter']}" if "hyperparameter" in row else ""
        lines.append(f"{NAMES[name]:<10} {row['value']:>10.5f}  [{row['ci_lower']:.5f}, "
                     f"{row['ci_upper']:.5f}]  {note}".rstrip())
    d = doc["diagnostics"]
    lines += [
        f"{'logging':<10} {doc['logging_policy_value']:>10.5f}  (observed mean reward)",
        f"weights: effective sample size {d['effective_sample_size']:.1f} of {doc['rows_evaluated']}, "
        f"max {d['max_weight']:.3g}, mean {d['mean_weight']:.3g}, "
        f"nonzero {100 * d['nonzero_weight_share']:.1f}%",
    ]
    return "\n".join(lines)


def write_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2) + "\n"
