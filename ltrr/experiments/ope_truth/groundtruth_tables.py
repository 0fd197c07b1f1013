"""Summaries and Markdown tables of an OPE ground-truth run (:mod:`ltrr.experiments.ope_truth.groundtruth`).

Per logger and target (and estimator): the mean relative error ``|V_hat - V| / V`` with a
95% t-interval over seeds, and the share of seeds whose 95% interval contained ``V``.
Per logger and learner: the replay estimate against ``V_N`` (the learner's value over as
many decisions as replay accepted, interleaved with the logger's over the same stream), with
the same statistics, and coverage of ``V_first`` (its first ``N`` plain on-policy decisions)
and of ``V_log`` (its value along the replay path, on the logged stream).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ltrr.ope.estimators import LABELS


def mean_ci(values: np.ndarray) -> tuple[float, list[float]]:
    """Mean and 95% t-interval over the seeds with a defined value (NaN half-width for one)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), [float("nan"), float("nan")]
    half = (stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
            if len(values) > 1 else float("nan"))
    return float(values.mean()), [float(values.mean() - half), float(values.mean() + half)]


def covered(rows: list[dict], truth: str, lo: str = "ci_lower", hi: str = "ci_upper") -> float:
    """Share of ``rows`` whose interval contains ``truth`` (an undefined interval does not)."""
    return float(np.mean([r[lo] <= r[truth] <= r[hi] for r in rows]))


def summarize(rows: list[dict], names: list[str]) -> list[dict]:
    """Per logger, target and estimator: relative error (mean, 95% t-interval), coverage."""
    summary = []
    for logger, target in dict.fromkeys((r["logger"], r["target"]) for r in rows):
        mine = [r for r in rows if r["logger"] == logger and r["target"] == target]
        truth = np.array([r["v_on_policy"] for r in mine])
        truth_log = np.array([r["v_log"] for r in mine])
        for name in names:
            est = np.array([r["estimates"][name]["value"] for r in mine], dtype=float)
            rel, rel_ci = mean_ci(np.abs(est - truth) / truth)
            defined = np.isfinite(est)
            flat = [{**r["estimates"][name], "v": r["v_on_policy"]} for r in mine]
            summary.append({"logger": logger, "target": target, "estimator": name,
                            "v_on_policy": float(truth.mean()), "v_log": float(truth_log.mean()),
                            "estimate": float(np.nanmean(est)) if defined.any() else float("nan"),
                            "relative_error": rel, "relative_error_ci": rel_ci,
                            "coverage": covered(flat, "v"), "seeds": len(mine),
                            "seeds_defined": int(defined.sum()),
                            "relative_error_vs_v_log": mean_ci(np.abs(est - truth_log) / truth_log)[0],
                            "effective_sample_size": float(np.mean(
                                [r["diagnostics"]["effective_sample_size"] for r in mine]))})
    return summary


def summarize_learners(rows: list[dict]) -> list[dict]:
    """Per logger and learner: accepted rows, the truths, replay's error against V_N and the
    coverage of each truth (over the seeds where replay accepted at least two rows)."""
    summary = []
    for logger, learner in dict.fromkeys((r["logger"], r["learner"]) for r in rows):
        mine = [r for r in rows if r["logger"] == logger and r["learner"] == learner]
        done = [r for r in mine if r["estimate"] is not None and r["v_interleaved"] is not None]
        row = {"logger": logger, "learner": learner, "seeds": len(mine), "seeds_estimated": len(done),
               "accepted": float(np.mean([r["accepted"] for r in mine])),
               "acceptance_probability": float(np.mean([r["acceptance_probability"] for r in mine])),
               "v_all": float(np.mean([r["v_all"] for r in mine]))}
        if done:
            est = np.array([r["estimate"] for r in done])
            truth = np.array([r["v_interleaved"] for r in done])
            rel, rel_ci = mean_ci(np.abs(est - truth) / truth)
            row.update({key: float(np.mean([r[key] for r in done]))
                        for key in ("v_interleaved", "v_first_n", "v_log", "estimate")})
            row.update({"ci_width": float(np.mean([r["ci_upper"] - r["ci_lower"] for r in done])),
                        "relative_error": rel, "relative_error_ci": rel_ci,
                        "coverage": covered(done, "v_interleaved"),
                        "coverage_v_first_n": covered(done, "v_first_n"),
                        "coverage_v_log": covered(done, "v_log")})
        summary.append(row)
    return summary


def interval(lo: float | None, hi: float | None) -> str:
    """``[lo, hi]``, or nothing when undefined (NaN, or None as read back from JSON)."""
    defined = lo is not None and hi is not None and np.isfinite([lo, hi]).all()
    return f"[{max(lo, 0):.3f}, {hi:.3f}]" if defined else ""


def _error(value: float | None) -> str:
    """A relative error, or why there is none (its truth is 0 on every seed that has one;
    read back from JSON, NaN is None)."""
    return f"{value:.3f}" if value is not None and np.isfinite(value) else "— (V_N = 0)"


def target_table(result: dict, logger: str) -> list[str]:
    lines = ["| target | V | V_log | estimator | mean V_hat | relative error | coverage | vs V_log |",
             "|---|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        if s["logger"] == logger:
            label = LABELS[s["estimator"]] + (f" ({s['seeds_defined']} of {s['seeds']} seeds "
                                              "defined)" if s["seeds_defined"] < s["seeds"] else "")
            lines.append(f"| {s['target']} | {s['v_on_policy']:.4f} | {s['v_log']:.4f} | "
                         f"{label} | {s['estimate']:.4f} | {s['relative_error']:.3f} "
                         f"{interval(*s['relative_error_ci'])} | {s['coverage']:.2f} | "
                         f"{s['relative_error_vs_v_log']:.3f} |")
    return lines


def learner_table(result: dict) -> list[str]:
    lines = ["| logger | learner | N accepted (of T) | V_N | V_first | V_T | V_log | mean replay | "
             "mean 95% CI width | relative error vs V_N | coverage of V_N | of V_first | of V_log |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in result["learner_summary"]:
        head = f"| {s['logger']} | {s['learner']} | {s['accepted']:.0f} (of {result['stream_length']}) | "
        if "estimate" not in s:
            lines.append(head + "— | — | " + f"{s['v_all']:.4f} | — | — (too few rows accepted) | — | "
                         "— | — | — | — |")
            continue
        partial = (f" ({s['seeds_estimated']} of {s['seeds']} seeds)"
                   if s["seeds_estimated"] < s["seeds"] else "")
        lines.append(head + f"{s['v_interleaved']:.4f} | {s['v_first_n']:.4f} | {s['v_all']:.4f} | "
                     f"{s['v_log']:.4f} | {s['estimate']:.4f} | {s['ci_width']:.4f} | "
                     f"{_error(s['relative_error'])} {interval(*s['relative_error_ci'])} | "
                     f"{s['coverage']:.2f} | {s['coverage_v_first_n']:.2f} | "
                     f"{s['coverage_v_log']:.2f}{partial} |")
    return lines


def markdown(result: dict) -> str:
    """One table of fixed targets per logger, then the learners' replay table."""
    seeds = len(result["seeds"])
    out = [f"{seeds} seeds x {result['stream_length']} queries, reward model "
           f"{result['reward_model']}, {result['n_bootstrap']} bootstrap resamples. V: on-policy "
           "value (mean expected clicks of the target's own run); V_log: the target's value on the "
           "logged stream; relative error |V_hat - V| / V, mean [95% t-interval over seeds]; "
           "coverage: share of seeds whose 95% interval contains V; last column: relative error "
           "against V_log instead (estimator error without the world's drift).", ""]
    for logger in result["loggers"]:
        params = f" {logger['params']}" if logger["params"] else ""
        out += [f"## Fixed targets, logger `{logger['name']}`{params}", "", *target_table(result, logger["name"]), ""]
    if result.get("learner_summary"):
        out += ["## Learning policies by replay", "",
                "Replay accepts a logged row when the learner's choice equals the logged plan (and, "
                "for a non-uniform logger, with probability c / propensity): each row with "
                "probability c (1/16 for the uniform logger over 16 plans), N about c T of the T "
                "rows. Its estimate is the learner's value over its first N decisions, spread over "
                "the stream while the logger drives the world. V_N: that value on-policy, from a run "
                "on the same stream where the learner decides (and learns) at a random share c of "
                "the steps and the logger at the others; V_first: the learner's plain on-policy "
                "value over its first N queries; V_T: over all T queries; V_log: its value along "
                "the replay path on the logged stream. The 95% interval is a t-interval over the "
                "accepted rewards; relative error |replay - V_N| / V_N.", "", *learner_table(result), ""]
    return "\n".join(out)


def made_by(result: dict) -> str:
    """The command, commit, ltrr version and environment a ground-truth run was made with."""
    from ltrr.results.environment import differs_text  # noqa: PLC0415

    prov = result.get("provenance") or {}
    text = f"Made by `{prov.get('command') or 'ltrr run ' + result['benchmark']}`"
    git = prov.get("git") or {}
    if git.get("commit"):
        text += f" at git commit `{str(git['commit'])[:12]}`"
        text += " (uncommitted changes)" if git.get("dirty") else ""
    if prov.get("ltrr_version"):
        text += f", ltrr {prov['ltrr_version']}, {prov.get('wall_time_s', 0):.0f} s wall"
    env = prov.get("environment")
    if not isinstance(env, dict):
        return text + "."
    where = f" (`{env['lock']}`, SHA-256 `{str(env.get('lock_sha256'))[:12]}`)" if env.get("lock") else ""
    if env.get("locked") is True:
        return text + f", in the locked environment{where}."
    differs = env.get("differs") or {}
    return text + f", outside the locked environment{where}" + (
        f": installed versions that differed from the lock: {differs_text(differs)}."
        if differs else ".")
