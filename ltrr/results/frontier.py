"""The frontier of a sweep over budgets and prices: where learning to retrieve pays.

A sweep that varies the candidate ``budget`` (and ``cost``, the prices) with policies ranked
by the fusion and by a learned ranker gives, per (ranking stage, prices), one point per
(policy, budget): its mean nDCG@10 and reward over seeds against its mean latency per query
and candidates ranked. A point is **dominated** when another non-oracle point of the same
ranking stage and prices is at least as fast (mean latency, ms) and at least as good
(mean nDCG@10), and strictly better in one; the others are the **frontier**: the settings an
engineer would choose from, whatever the latency they can afford. The oracle reads the
simulator's truth: it is drawn, as a bound, never on the frontier.

:func:`frontier_files` makes, and a sweep that varies ``budget`` (and at most ``cost``) writes into its folder
(:func:`ltrr.results.study.write_study`):

- ``FRONTIER.md``: per ranking stage and prices, each policy's points (budget, latency,
  candidates ranked, nDCG@10 and reward with 95% t-intervals over seeds, on the frontier or
  not), and which policies are on the frontier at which budgets;
- ``frontier.csv``: the same points;
- ``frontier-<stage>.png``: one figure per ranking stage, a column per prices, rows nDCG@10 and
  reward against mean latency and nDCG@10 against candidates ranked; each policy a line over
  budgets with its 95% band, dominated points hollow.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ltrr.evaluation.intervals import t_interval
from ltrr.results.leaderboard import ranker_of
from ltrr.results.plots import png

Y_METRICS = (("ndcg@10", "nDCG@10"), ("reward", "reward"))


def price_name(record: dict) -> str:
    """The name of a record's prices: its sweep variant's ``cost`` name, else ``"as declared"``."""
    variant = (record.get("provenance") or {}).get("variant") or {}
    cost = variant.get("cost")
    if isinstance(cost, dict):
        return str(cost.get("name", "as declared"))
    return str(cost) if cost else "as declared"


def points(records: list[dict]) -> pd.DataFrame:
    """One row per (stage, prices, policy, budget): means and 95% t-intervals over seeds of
    nDCG@10 and reward, mean latency (ms; NaN without declared latencies), p95 latency and
    candidates ranked, the number of seeds, and ``frontier`` (module doc)."""
    rows = []
    for r in records:
        m = r["metrics"]
        rows.append({"stage": ranker_of(r), "prices": price_name(r), "policy": r["policy"],
                     "oracle": r["policy_name"] == "oracle", "budget": int(r["budget"]),
                     "seed": r["seed"],
                     "ndcg@10": m["ndcg@10"], "reward": m["reward"],
                     "latency_ms": m.get("latency_ms", math.nan),
                     "latency_p95_ms": m.get("latency_p95_ms", math.nan),
                     "candidates": m["candidates_drawn"]})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    out = []
    keys = ["stage", "prices", "policy", "oracle", "budget"]
    for key, group in frame.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["seeds"] = len(group)
        for metric, _ in Y_METRICS:
            mean, low, high = t_interval(group[metric].to_numpy(float))
            row.update({metric: mean, f"{metric}_low": low, f"{metric}_high": high})
        for metric in ("latency_ms", "latency_p95_ms", "candidates"):
            row[metric] = float(group[metric].mean())
        out.append(row)
    table = pd.DataFrame(out)
    table["frontier"] = False
    for _, group in table.groupby(["stage", "prices"], sort=False):
        table.loc[group.index, "frontier"] = undominated(group, x_of(group), "ndcg@10")
    return table


def x_of(group: pd.DataFrame) -> str:
    """The cost axis dominance is judged on: mean latency, or candidates where the records
    carry no latency."""
    return "candidates" if group["latency_ms"].isna().any() else "latency_ms"


def undominated(group: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """Per row: not the oracle, and no other non-oracle row at least as low in ``x`` and as
    high in ``y`` and strictly better in one (means over seeds)."""
    x, y = group[x].to_numpy(float), group[y].to_numpy(float)
    rival = ~group["oracle"].to_numpy(bool)
    out = np.zeros(len(group), dtype=bool)
    for i in range(len(group)):
        if not rival[i]:
            continue
        beaten = rival & (x <= x[i]) & (y >= y[i]) & ((x < x[i]) | (y > y[i]))
        out[i] = not beaten.any()
    return out


def _fmt(mean: float, low: float, high: float) -> str:
    return f"{mean:.4f} [{low:.4f}, {high:.4f}]"


def markdown(table: pd.DataFrame, title: str, command: str | None) -> str:
    """FRONTIER.md: the summary of who is on the frontier, then every point."""
    lines = [f"# {title}: the frontier", ""]
    if command:
        lines += [f"Made by `{command}`.", ""]
    lines += [
        "Each point is a (policy, budget) of one ranking stage and prices: mean over seeds of "
        "nDCG@10 and reward (95% t-intervals), mean latency per query (ms, the plan's arms "
        "and ranking as `[cost]` prices them) and candidates ranked. A point is on the "
        "frontier when no other policy or budget of the same stage and prices is as fast and "
        "as good (nDCG@10) and strictly better in one, judged on the means (a point can be "
        "dominated by less than its interval: read the intervals before calling two points "
        "different); the oracle (it reads the simulator's truth) is a bound, never on it. "
        "Candidates are those the plan draws, an upper bound on those ranked (a document two "
        "arms return is ranked once).", "",
        "## Who is on the frontier", "",
        "| ranking | prices | on the frontier (policy: budgets) | fastest point | best nDCG@10 |",
        "|---|---|---|---|---|"]
    for (stage, prices), group in table.groupby(["stage", "prices"], sort=False):
        x = x_of(group)
        front = group[group["frontier"]].sort_values(x)
        on = "; ".join(f"{p}: {', '.join(str(b) for b in sorted(g['budget']))}"
                       for p, g in front.groupby("policy", sort=False))
        fastest = front.iloc[0] if len(front) else None
        best = front.sort_values("ndcg@10").iloc[-1] if len(front) else None
        describe = (lambda row: "" if row is None else
                    f"{row['policy']} @ {row['budget']} ({row[x]:.2f} "
                    f"{'ms' if x == 'latency_ms' else 'candidates'}, {row['ndcg@10']:.4f})")
        lines.append(f"| {stage} | {prices} | {on} | {describe(fastest)} | {describe(best)} |")
    lines += ["", "## Every point", "",
              "| ranking | prices | policy | budget | seeds | latency ms | p95 ms | cands | "
              "nDCG@10 | reward | frontier |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['stage']} | {r['prices']} | {r['policy']} | {r['budget']} | {r['seeds']} | "
            f"{r['latency_ms']:.2f} | {r['latency_p95_ms']:.2f} | {r['candidates']:.1f} | "
            f"{_fmt(r['ndcg@10'], r['ndcg@10_low'], r['ndcg@10_high'])} | "
            f"{_fmt(r['reward'], r['reward_low'], r['reward_high'])} | "
            f"{'yes' if r['frontier'] else ''} |")
    return "\n".join(lines) + "\n"


def figure(table: pd.DataFrame, stage: str) -> bytes:
    """PNG: a column per prices; rows nDCG@10 and reward against latency, nDCG@10 against
    candidates; each policy a line through its budgets (ordered by the panel's x) with its
    95% band; in each panel the points that panel's pair dominates hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = table[table["stage"] == stage]
    prices = list(dict.fromkeys(part["prices"]))
    policies = list(dict.fromkeys(part["policy"]))
    panels = [("latency_ms", "ndcg@10", "mean latency per query (ms)", "nDCG@10"),
              ("latency_ms", "reward", "mean latency per query (ms)", "reward (net of cost)"),
              ("candidates", "ndcg@10", "candidates drawn per query (>= ranked)", "nDCG@10")]
    fig, axes = plt.subplots(len(panels), len(prices), figsize=(4.6 * len(prices), 10),
                             squeeze=False)
    colours = plt.get_cmap("tab10")
    for c, price in enumerate(prices):
        for r, (x, y, xlabel, ylabel) in enumerate(panels):
            ax = axes[r, c]
            panel = part[part["prices"] == price]
            if panel.empty or panel[x].isna().any():
                continue
            front_of = pd.Series(undominated(panel, x, y), index=panel.index)
            for k, policy in enumerate(policies):
                line = panel[panel["policy"] == policy].sort_values(x)
                if line.empty:
                    continue
                colour = colours(k % 10)
                style = "--" if line["oracle"].all() else "-"
                ax.plot(line[x], line[y], style, color=colour, label=policy, lw=1.3)
                ax.fill_between(line[x], line[f"{y}_low"], line[f"{y}_high"], color=colour,
                                alpha=0.15, lw=0)
                front = front_of[line.index].to_numpy()
                ax.scatter(line[x][front], line[y][front], color=colour, s=22, zorder=3)
                ax.scatter(line[x][~front], line[y][~front], facecolors="none",
                           edgecolors=colour, s=22, zorder=3)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            if r == 0:
                ax.set_title(f"{stage}, prices: {price}")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Ranking by {stage}: filled points on the frontier, hollow dominated; "
                 "bands 95% t-intervals over seeds", fontsize=10)
    return png(fig, dpi=110)


def frontier_files(records: list[dict], title: str,
                   command: str | None = None) -> dict[str, bytes]:
    """``{file name: contents}``: FRONTIER.md, frontier.csv and a figure per ranking stage
    (none when there are no records)."""
    table = points(records)
    if table.empty:
        return {}
    files = {"FRONTIER.md": markdown(table, title, command).encode(),
             "frontier.csv": table.to_csv(index=False, float_format="%.6g").encode()}
    for stage in dict.fromkeys(table["stage"]):
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stage)
        files[f"frontier-{safe}.png"] = figure(table, stage)
    return files
