"""Summaries and Markdown tables of an ``[ope_ranking]`` run (:mod:`ltrr.experiments.ope_truth.ranking_truth`).

Per click model, logging temperature, target and estimator: the mean relative error
``|V_hat - V| / V`` with a 95% t-interval over seeds, the mean estimate against ``V``, and
the share of seeds whose 95% interval contains ``V``.
"""

from __future__ import annotations

import numpy as np

from ltrr.experiments.ope_truth.groundtruth_tables import covered, interval, mean_ci
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
                            "pages_weighted": float(np.mean([r["estimates"][name]["pages_weighted"]
                                                             for r in mine])),
                            "logging_value": float(np.mean([r["logging_value"] for r in mine])),
                            "seeds": len(mine)})
    return summary


def table(result: dict, model: str, temperature: float) -> list[str]:
    lines = ["| target | V | estimator | mean V_hat | relative error | coverage | mean 95% CI width "
             "| pages weighted |", "|---|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        if (s["click_model"], s["temperature"]) == (model, temperature):
            lines.append(f"| {s['target']} | {s['v_on_policy']:.4f} | {LABELS[s['estimator']]} | "
                         f"{s['estimate']:.4f} | {s['relative_error']:.3f} "
                         f"{interval(*s['relative_error_ci'])} | {s['coverage']:.2f} | "
                         f"{s['ci_width']:.4f} | {s['pages_weighted']:.0f} |")
    return lines


def markdown(result: dict) -> str:
    """One table per click model and logging temperature."""
    out = [f"{len(result['seeds'])} seeds x {result['stream_length']} queries of the base's "
           f"{result['topics']} stream topics, each with the loop's candidate pool of plan "
           f"`{result['plan']}` at step 0 (the world held still: no memory learning, no "
           f"releases); pages of {result['page']}. Logger: Plackett-Luce over "
           f"`{result['logger']}`'s standardised scores at each temperature; users "
           f"`{'`, `'.join(result['click_models'])}` with the `{result['click_params']}` "
           f"parameters; {result['n_bootstrap']} bootstrap resamples of pages per interval (the "
           "stream length and resamples keep the run to minutes on 2 cores: its wall time is "
           "above). V: the target's on-policy value (mean expected clicks of its pages on the "
           "stream); relative error |V_hat - V| / V, mean [95% t-interval over seeds]; "
           "coverage: share of seeds whose 95% interval contains V; pages weighted: mean number of "
           "logged pages with a nonzero weight (SIPS: equal to the target's page). PBM-IPS estimates the "
           "examination probabilities from each log (result randomisation). What the tables "
           "show: docs/ope.md, \"Simulation: rankers from logged pages\".", ""]
    for model in result["click_models"]:
        for temperature in result["temperatures"]:
            logged = np.mean([s["logging_value"] for s in result["summary"]
                              if (s["click_model"], s["temperature"]) == (model, temperature)])
            out += [f"## {model} clicks, logging temperature {temperature:g} (logger's value "
                    f"{logged:.4f})", "", *table(result, model, temperature), ""]
    return "\n".join(out)
