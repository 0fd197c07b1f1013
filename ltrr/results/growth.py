"""Regret against the oracle as the plan space grows: the part of a study whose sweep varies
``plans`` (named plan spaces) or ``budget``.

Per variant and policy: the cumulative expected regret against the oracle at the end of the
stream (the record's ``regret_oracle``), its mean over seeds and 95% t-interval. The x axis
is the variant's number of plans (``len(record["plans"])``) when the sweep varies ``plans``,
else its budget; variants that also differ on another axis (users, reward, cost, or the
budget beside plans) are drawn in panels of their own, one per combination. The oracle is
left out: its regret is 0 by definition.

:func:`growth_table` computes the numbers; :func:`markdown` renders them as the Markdown
section of ``STUDY.md`` and :func:`plot` as ``study-regret.png`` (one line per policy, a 95%
band over seeds), both from :mod:`ltrr.results.study`.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ltrr.evaluation.intervals import t_interval
from ltrr.results.plots import png

GROWTH_AXES = ("plans", "budget")  # what the x axis can be, by preference


def x_axis(axes: list[str]) -> str | None:
    """The axis the regret grows along: ``plans`` when varied, else ``budget``, else None."""
    return next((axis for axis in GROWTH_AXES if axis in axes), None)


def growth_table(variants: list[tuple[list[dict], dict[str, str]]], x: str) -> pd.DataFrame:
    """One row per (variant, policy but the oracle): the variant's labels (axis -> value),
    ``panel`` (its labels but the x axis's: ``budget 50 · cost priced``), ``n_plans``,
    ``budget``, ``x`` (the number of plans or the budget), ``policy``, ``regret`` with
    ``regret_low`` / ``regret_high`` (95% t-interval over seeds) and ``seeds``."""
    rows = []
    for records, labels in variants:
        r0 = records[0]
        order = list(dict.fromkeys(list(r0.get("benchmark_policies") or [])
                                   + [r["policy"] for r in records]))
        for policy in order:
            runs = sorted((r for r in records if r["policy"] == policy), key=lambda r: r["seed"])
            if not runs or runs[0]["policy_name"] == "oracle":
                continue
            mean, low, high = t_interval([r["metrics"]["regret_oracle"] for r in runs])
            panel = " · ".join(v if a == "clicks" else f"{a} {v}" for a, v in labels.items()
                               if a != x)
            rows.append({**labels, "panel": panel,
                         "n_plans": len(r0["plans"]), "budget": int(r0["budget"]),
                         "x": len(r0["plans"]) if x == "plans" else int(r0["budget"]),
                         "stream_length": int(r0["stream_length"]),
                         "reward_name": r0.get("reward_name", "clicks"), "policy": policy,
                         "regret": mean, "regret_low": low, "regret_high": high,
                         "seeds": len(runs)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    panels = list(dict.fromkeys(table["panel"]))
    table["panel_order"] = table["panel"].map(panels.index)
    return table.sort_values(["panel_order", "x"], kind="stable").drop(columns="panel_order") \
        .reset_index(drop=True)


def _axis_label(x: str) -> str:
    return "number of plans" if x == "plans" else "candidate budget"


def _interval(mean: float, low: float, high: float) -> str:
    if np.isnan(low):
        return f"{mean:.1f}"
    return f"{mean:.1f} [{low:.1f}, {high:.1f}]"


def markdown(table: pd.DataFrame, x: str, axes: list[str], headers: dict[str, str]) -> str:
    """The regret table as a Markdown section: one row per variant (its value on each of the
    varied ``axes``, titled by ``headers``; its number of plans and budget), in x order within
    each panel, one column per policy (the lowest mean of the row in bold)."""
    policies = list(dict.fromkeys(table["policy"]))
    labels = list(axes)
    counts = [a for a in ("n_plans", "budget") if a not in labels]  # (a varied budget: a label)
    headers = {"n_plans": "plans", "budget": "budget", **headers}
    steps = sorted(set(table["stream_length"]))
    lengths = " or ".join(f"{n:,}" for n in steps)
    grows = "plan space" if x == "plans" else "budget"
    lines = ["", f"## Regret against the oracle as the {grows} grows", "",
             f"Cumulative expected regret against the oracle after {lengths} queries (on each "
             "variant's reward), mean over seeds [95% t-interval] "
             f"({int(table['seeds'].min())} seeds), by {_axis_label(x)}; the lowest of each row "
             "in bold (the oracle, 0 by definition, is left out). `study-regret.png` draws it, "
             "one line per policy; `study-regret.csv` holds the numbers.", "",
             "| " + " | ".join([headers[a] for a in labels] + [headers[a] for a in counts]
                               + policies) + " |",
             "|" + "---|" * (len(labels) + len(counts) + len(policies))]
    for _, group in table.groupby(labels + counts, sort=False):
        row = group.iloc[0]
        by_policy = {r["policy"]: r for _, r in group.iterrows()}
        best = min(r["regret"] for r in by_policy.values())
        cells = [str(row[a]) for a in labels + counts]
        for policy in policies:
            r = by_policy.get(policy)
            if r is None:
                cells.append("")
                continue
            text = _interval(r["regret"], r["regret_low"], r["regret_high"])
            cells.append(f"**{text}**" if r["regret"] == best else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(table: pd.DataFrame, x: str, title: str) -> bytes:
    """Each policy's mean regret (95% band over seeds) against the number of plans or the
    budget, one panel per combination of the other varied axes; PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys(table["panel"]))
    policies = list(dict.fromkeys(table["policy"]))
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.6 * rows), dpi=110,
                             squeeze=False)
    cmap = plt.get_cmap("tab10" if len(policies) <= 10 else "tab20")
    for ax, panel in zip(axes.flat, panels):
        part = table[table["panel"] == panel]
        for i, policy in enumerate(policies):
            line = part[part["policy"] == policy].sort_values("x", kind="stable")
            if line.empty:
                continue
            color = cmap(i % cmap.N)
            ax.plot(line["x"], line["regret"], marker="o", ms=3.5, lw=1.5, color=color,
                    label=policy)
            if line["regret_low"].notna().all():
                ax.fill_between(line["x"], line["regret_low"], line["regret_high"],
                                color=color, alpha=0.2)
        ticks = part.drop_duplicates("x").sort_values("x")
        ax.set_xticks(ticks["x"])
        if x == "plans":
            ax.set_xticklabels([f"{n}\n{name}" for n, name in zip(ticks["x"], ticks["plans"])],
                               fontsize=7)
        ax.set_xlabel(_axis_label(x))
        ax.set_ylabel(f"cumulative expected regret vs oracle ({part['reward_name'].iloc[0]})")
        ax.set_title(panel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="best")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    return png(fig)
