"""Summaries and Markdown tables of an ``[ope_ranking]`` run (:mod:`ltrr.ope.ranking_truth`).

Per click model, logging temperature, target and estimator: the mean relative error
``|V_hat - V| / V`` with a 95% t-interval over seeds, the mean estimate against ``V``, and
the share of seeds whose 95% interval contains ``V``.
"""

from __future__ import annotations

import numpy as np

from ltrr.ope.groundtruth_tables import covered, interval, mean_ci
from ltrr.ope.slate import LABELS


def summarize(rows: list[dict], names: list[str]) -> list[dict]:
    """One entry per click model, temperature, target and estimator."""
    summary = []
    for model, temperature, target in dict.fromkeys(
            (r["click_model"], r["temperature"], r["target"]) for r in rows):
        mine = [r for r in rows if (r["click_model"], r["temperature"], r["target"])
                == (model, temperature, target)]
        truth = np.array([r["v_on_policy"] for r in mine])
        for name in names:
            est = np.array([r["estimates"][name]["value"] for r in mine], dtype=float)
            rel, rel_ci = mean_ci(np.abs(est - truth) / truth)
            flat = [{**r["estimates"][name], "v": r["v_on_policy"]} for r in mine]
            width = np.mean([r["estimates"][name]["ci_upper"] - r["estimates"][name]["ci_lower"]
                             for r in mine])
            summary.append({"click_model": model, "temperature": temperature, "target": target,
                            "estimator": name, "v_on_policy": float(truth.mean()),
                            "estimate": float(est.mean()), "bias": float((est - truth).mean()),
                            "relative_error": rel, "relative_error_ci": rel_ci,
                            "coverage": covered(flat, "v"), "ci_width": float(width),
                            "logging_value": float(np.mean([r["logging_value"] for r in mine])),
                            "seeds": len(mine)})
    return summary


def table(result: dict, model: str, temperature: float) -> list[str]:
    lines = ["| target | V | estimator | mean V_hat | relative error | coverage | mean 95% CI width |",
             "|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        if (s["click_model"], s["temperature"]) == (model, temperature):
            lines.append(f"| {s['target']} | {s['v_on_policy']:.4f} | {LABELS[s['estimator']]} | "
                         f"{s['estimate']:.4f} | {s['relative_error']:.3f} "
                         f"{interval(*s['relative_error_ci'])} | {s['coverage']:.2f} | "
                         f"{s['ci_width']:.4f} |")
    return lines


def markdown(result: dict) -> str:
    """One table per click model and logging temperature."""
    out = [f"{len(result['seeds'])} seeds x {result['stream_length']} queries (pages of "
           f"{result['page']}), logger: Plackett-Luce over `{result['logger']}`'s standardised "
           f"scores at each temperature, users `{'`, `'.join(result['click_models'])}` with the "
           f"`{result['click_params']}` parameters, {result['n_bootstrap']} bootstrap resamples "
           "of pages. V: the target's on-policy value (mean expected clicks of its pages on the "
           "stream); relative error |V_hat - V| / V, mean [95% t-interval over seeds]; coverage: "
           "share of seeds whose 95% interval contains V. PBM-IPS estimates the examination "
           "probabilities from each log (result randomisation).", ""]
    for model in result["click_models"]:
        for temperature in result["temperatures"]:
            logged = np.mean([s["logging_value"] for s in result["summary"]
                              if (s["click_model"], s["temperature"]) == (model, temperature)])
            out += [f"## {model} clicks, logging temperature {temperature:g} (logger's value "
                    f"{logged:.4f})", "", *table(result, model, temperature), ""]
    return "\n".join(out)
