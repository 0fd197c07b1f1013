"""The result of ``ltrr ope``: a plain-text table and a JSON document with the same numbers.

Both record which column played each role (``columns``: action, propensity, reward and the
context columns, with the rule that found them) and every note on what was assumed or
adjusted (a renormalised policy file, logs taken as uniform).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ltrr import __version__
from ltrr.ope.estimators import LABELS
from ltrr.paths import write_atomically


def json_ready(value):
    """``value`` with floats JSON can hold: NaN (an estimate that is undefined, e.g. SNIPW with
    no positive weight) becomes None, an infinite tuning value the string "inf"."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def document(result: dict, *, logs_path: str, policy, settings: dict) -> dict:
    """The JSON-ready record of one evaluation."""
    estimates = json_ready(result["estimates"])
    return {
        "ltrr_version": __version__,
        "logs": logs_path,
        "policy": policy.spec,
        "rows_evaluated": policy.logs.n_rows,
        "rows_trained": policy.n_train,
        "actions": policy.logs.actions,
        "columns": policy.logs.columns,
        "settings": settings,
        "notes": awaiting_note(policy.logs) + list(policy.notes),
        "logging_policy_value": result["logging_policy_value"],
        "estimates": estimates,
        "diagnostics": result["diagnostics"],
    }


def replay_document(result, *, logs_path: str, spec: str, logs, settings: dict) -> dict:
    """The JSON-ready record of one replay of a learning policy (``ltrr.ope.replay.Replay``)."""
    lo, hi = result.ci
    return {
        "ltrr_version": __version__,
        "logs": logs_path,
        "policy": spec,
        "learner": result.learner,
        "params": result.params,
        "method": result.method,
        "rows": logs.n_rows,
        "rows_accepted": result.n_accepted,
        "acceptance_probability": result.rate,
        "actions": logs.actions,
        "columns": logs.columns,
        "settings": settings,
        "notes": awaiting_note(logs) + list(result.notes),
        "logging_policy_value": float(logs.reward.mean()),
        "estimates": {"replay": {"value": result.value, "ci_lower": lo, "ci_upper": hi}},
    }


def awaiting_note(logs) -> list[str]:
    """The note on a selector's decisions left out because their feedback has not come."""
    if not logs.awaiting:
        return []
    return [f"{logs.awaiting} decisions awaiting feedback (awaiting_feedback = true) left out"]


def pages_document(result: dict, *, logs_path: str, policy: str, logs, settings: dict) -> dict:
    """The JSON-ready record of one evaluation of a ranker on logged pages
    (:func:`ltrr.ope.evaluate_pages`)."""
    return {
        "ltrr_version": __version__,
        "logs": logs_path,
        "policy": policy,
        "pages": logs.n_pages,
        "rows": logs.n_rows,
        "page_length": logs.len_list,
        "settings": settings,
        "notes": list(result["notes"]),
        "logging_policy_value": result["logged_value"],
        "estimates": json_ready(result["estimates"]),
    }


def pages_table(doc: dict) -> str:
    """The table ``ltrr ope --pages`` prints."""
    from ltrr.ope.slate import LABELS as PAGE_LABELS  # noqa: PLC0415 - imports obp

    level = round(100 * doc["settings"]["confidence"])
    lines = [f"policy {doc['policy']} on {doc['logs']}: {doc['pages']} pages of up to "
             f"{doc['page_length']} ({doc['rows']} rows); value = expected reward per page",
             f"{'estimator':<10} {'value':>10} {f'{level}% CI':>23}  pages weighted"]
    for name, row in doc["estimates"].items():
        lines.append(f"{PAGE_LABELS[name]:<10} {row['value']:>10.5f}  [{row['ci_lower']:.5f}, "
                     f"{row['ci_upper']:.5f}]  {row['pages_weighted']}")
    lines.append(f"{'logging':<10} {doc['logging_policy_value']:>10.5f}  (observed reward per page)")
    return "\n".join(lines + [f"note: {n}" for n in doc["notes"]])


def columns_line(doc: dict) -> str:
    c = doc["columns"]
    names = c["context"]
    context = ", ".join(names) if len(names) <= 8 else \
        f"{len(names)} columns {', '.join(names[:4])}, ..., {names[-1]}"
    context = context or "none"
    propensity = f"'{c['propensity']}'" if c["propensity"] else "none"
    return (f"columns: action '{c['action']}', propensity {propensity}, reward "
            f"'{c['reward']}'; context {context} ({c['context_rule']})")


def table(doc: dict) -> str:
    """The table ``ltrr ope`` prints."""
    level = round(100 * doc["settings"]["confidence"])
    if "rows_accepted" in doc:
        row = doc["estimates"]["replay"]
        return "\n".join([
            f"policy {doc['policy']} on {doc['logs']}: {doc['method']}",
            f"accepted {doc['rows_accepted']} of {doc['rows']} rows: the estimate is the learner's "
            f"value over its first {doc['rows_accepted']} decisions",
            f"{'estimator':<10} {'value':>10} {f'{level}% CI':>23}",
            f"{'replay':<10} {row['value']:>10.5f}  [{row['ci_lower']:.5f}, {row['ci_upper']:.5f}]",
            f"{'logging':<10} {doc['logging_policy_value']:>10.5f}  (observed mean reward)",
            columns_line(doc), *[f"note: {n}" for n in doc["notes"]]])
    lines = [
        f"policy {doc['policy']} on {doc['logs']}: {doc['rows_evaluated']} rows evaluated"
        + (f", {doc['rows_trained']} used for training" if doc["rows_trained"] else ""),
        f"{'estimator':<10} {'value':>10} {f'{level}% CI':>23}  note",
    ]
    for name, row in doc["estimates"].items():
        notes = [f"tuned {row['hyperparameter']}"] if "hyperparameter" in row else []
        if row.get("undefined_resamples"):
            notes.append(f"{row['undefined_resamples']} resamples had no positive weight")
        if row["value"] is None:
            lines.append(f"{LABELS[name]:<10} {'undefined':>10}  (no row has a positive weight)")
            continue
        lines.append(f"{LABELS[name]:<10} {row['value']:>10.5f}  [{row['ci_lower']:.5f}, "
                     f"{row['ci_upper']:.5f}]  {'; '.join(notes)}".rstrip())
    d = doc["diagnostics"]
    lines += [
        f"{'logging':<10} {doc['logging_policy_value']:>10.5f}  (observed mean reward)",
        f"weights: effective sample size {d['effective_sample_size']:.1f} of {doc['rows_evaluated']}, "
        f"max {d['max_weight']:.3g}, mean {d['mean_weight']:.3g}, "
        f"nonzero {100 * d['nonzero_weight_share']:.1f}%",
        columns_line(doc), *[f"note: {n}" for n in doc["notes"]],
    ]
    return "\n".join(lines)


def write_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: tmp.write_text(text))


def to_json(doc: dict) -> str:
    return json.dumps(json_ready(doc), indent=2, allow_nan=False) + "\n"
