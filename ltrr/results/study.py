"""A study of a sweep with ``[vary]``: per variant, where the best learner beats the static
union, on the reward it is paid and on nDCG@10; and, when the sweep varies the plan space or
the budget, how each policy's regret against the oracle grows with it.

For each benchmark of the sweep, every variant's folder is read once. A variant is named by
its value on each axis the sweep varies (from its records: the users, the reward name, the
plan space's name and number of plans, the budget, the cost's name; the axes are the keys of
``provenance.variant``, in the sweep's order). Per variant:

- the **best learner** is the learning policy whose chosen setting scored best on the
  *tuning* seeds (its record's ``tuning`` entry), so the choice is made on seeds disjoint from
  the reported ones; without tuning, the one with the best mean reward on the reported seeds
  (said in the table);
- it is paired by seed with the **static union** (every arm, the budget split evenly) on the
  variant's reward and on nDCG@10: mean difference, 95% t-interval of the paired differences,
  paired t-test; the p-values of the whole table (every variant, both metrics) are corrected
  together by Holm-Bonferroni;
- the table also gives the best single arm (by mean reward on the reported seeds: an
  optimistic baseline) and the oracle of the variant's reward with its nDCG@10, so a reader
  sees when the reward and relevance disagree.

:func:`write_study` writes ``STUDY.md``, ``study.csv`` and ``study.png`` (both differences with
their intervals, per variant) into ``<out>/<benchmark stem>/``; for a sweep that varies
``plans`` or ``budget``, also the regret section of ``STUDY.md``, ``study-regret.csv`` and
``study-regret.png`` (:mod:`ltrr.results.growth`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.evaluation.intervals import format_p, holm, paired_test, t_interval
from ltrr.evaluation.registry import HEADLINE, label_of
from ltrr.results import growth
from ltrr.results.leaderboard import BASELINE_NAMES, is_single_arm
from ltrr.results.plots import png

# (record key, label): what the policies are paid, and relevance (ltrr.evaluation.registry)
METRICS = tuple((name, label_of(name)) for name in ("reward", HEADLINE))
# a varied axis's column in the tables, and what the variants are called along it
HEADERS = {"clicks": "users", "reward": "reward", "plans": "plan space", "budget": "budget",
           "cost": "cost"}


def _by_seed(records: list[dict], label: str, key: str) -> dict[int, float]:
    return {r["seed"]: float(r["metrics"][key]) for r in records if r["policy"] == label}


def _mean(records: list[dict], label: str, key: str) -> float:
    values = list(_by_seed(records, label, key).values())
    return float(np.mean(values)) if values else math.nan


def best_learner(records: list[dict]) -> tuple[str | None, str]:
    """The learner with the best tuning score of its chosen setting (and how it was chosen)."""
    learners = {r["policy"]: r for r in records if not is_single_arm(r["policy_name"])
                and r["policy_name"] not in BASELINE_NAMES}
    if not learners:
        return None, ""
    tuned = {label: dict((json_key(p), m) for p, m in r["tuning"]["means"])[
        json_key(r["tuning"]["chosen"])] for label, r in learners.items() if r.get("tuning")}
    if len(tuned) == len(learners):
        return max(tuned, key=lambda k: (tuned[k], k)), "tuning seeds"
    return max(learners, key=lambda k: (_mean(records, k, "reward"), k)), "reported seeds"


def json_key(params: dict) -> str:
    return repr(sorted(params.items()))


def varied_axes(record: dict) -> list[str]:
    """The axes a variant's record varies (its ``provenance.variant`` keys, in order)."""
    return list((record.get("provenance") or {}).get("variant") or {})


def axis_labels(record: dict, axes: list[str]) -> dict[str, str]:
    """A variant's value on each axis, as the tables show it (a table's ``name``)."""
    variant = (record.get("provenance") or {}).get("variant") or {}
    labels = {}
    for axis in axes:
        if axis == "clicks":
            labels[axis] = record.get("users", "?")
        elif axis == "reward":
            labels[axis] = record.get("reward_name", "clicks")
        elif axis == "budget":
            labels[axis] = str(record["budget"])
        else:
            value = variant.get(axis)
            labels[axis] = str(value.get("name", value) if isinstance(value, dict) else value)
    return labels


def variant_row(records: list[dict], axes: list[str] | None = None) -> dict | None:
    """One variant's comparisons (None without a learner and a static union); ``axes``
    (default: the record's) name the variant in ``users``, ``reward_name`` and, when varied,
    ``plans`` (with ``n_plans``), ``budget`` and ``cost``."""
    r0 = records[0]
    axes = varied_axes(r0) if axes is None else axes
    union = next((r["policy"] for r in records if r["policy_name"] == "static_union"), None)
    learner, chosen_on = best_learner(records)
    if union is None or learner is None:
        return None
    singles = [r["policy"] for r in records if is_single_arm(r["policy_name"])]
    single = max(dict.fromkeys(singles), key=lambda k: (_mean(records, k, "reward"), k),
                 default=None)
    oracle = next((r["policy"] for r in records if r["policy_name"] == "oracle"), None)
    labels = axis_labels(r0, axes)
    row = {"users": r0.get("users", "?"), "reward_name": r0.get("reward_name", "clicks")}
    if "plans" in axes:
        row.update(plans=labels["plans"], n_plans=len(r0["plans"]))
    row.update({axis: labels[axis] for axis in ("budget", "cost") if axis in axes})
    row.update(learner=learner, learner_chosen_on=chosen_on, single=single,
               seeds=len(_by_seed(records, learner, "reward")))
    for key, _ in METRICS:
        for who, label in (("union", union), ("learner", learner), ("single", single),
                           ("oracle", oracle)):
            row[f"{who}_{key}"] = _mean(records, label, key) if label else math.nan
        a, b = _by_seed(records, learner, key), _by_seed(records, union, key)
        seeds = sorted(set(a) & set(b))
        diff = [a[s] - b[s] for s in seeds]
        mean, low, high = t_interval(diff)
        row[f"diff_{key}"], row[f"diff_{key}_low"], row[f"diff_{key}_high"] = mean, low, high
        row[f"diff_{key}_p"] = paired_test([a[s] for s in seeds], [b[s] for s in seeds])["t_pvalue"]
    return row


def study_table(variants: list[list[dict]], axes: list[str]) -> pd.DataFrame:
    """Every variant's row (each variant: its folder's records), with Holm-adjusted p-values
    over the whole table."""
    rows = [row for records in variants if (row := variant_row(records, axes))]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    keys = [f"diff_{k}_p" for k, _ in METRICS]
    adjusted = holm([table[k].iloc[i] for i in range(len(table)) for k in keys])
    for j, key in enumerate(keys):
        table[f"{key}_holm"] = adjusted[j::len(keys)]
    return table


def _cell(row: pd.Series, axis: str) -> str:
    """A row's value on a varied axis, as the table shows it."""
    if axis == "clicks":
        return str(row["users"])
    if axis == "reward":
        return f"`{row['reward_name']}`"
    if axis == "plans":
        return f"{row['plans']} ({row['n_plans']} plans)"
    return str(row[axis])


def _verdict(row: pd.Series, key: str) -> str:
    p, low, high = row[f"diff_{key}_p_holm"], row[f"diff_{key}_low"], row[f"diff_{key}_high"]
    if p < 0.05 and low > 0:
        return "beats"
    if p < 0.05 and high < 0:
        return "loses"
    return "tie"


def markdown(table: pd.DataFrame, axes: list[str], title: str, command: str) -> str:
    """The study's table as Markdown, with how to read it; one column per varied axis (and
    the best single arm's only when the variants ran single arms)."""
    singles = table["single"].notna().any()
    lines = [f"# {title}", "", f"Made by `{command}`. Per variant "
             f"({' x '.join(HEADERS.get(a, a) for a in axes)}): the best "
             "learner (chosen by its tuning score on the tuning seeds) against the static union, "
             f"paired by seed ({int(table['seeds'].min())} seeds): mean difference [95% "
             "t-interval], paired t-test, Holm-adjusted over every test of this table "
             f"({2 * len(table)}). Reward and nDCG@10 are means over seeds; the oracle "
             "maximises the variant's reward, and its nDCG@10 shows whether that reward "
             "tracks relevance.", "",
             "| " + " | ".join(HEADERS.get(a, a) for a in axes) + " | best learner | learner − "
             "union, reward | p (Holm) | "
             "learner − union, nDCG@10 | p (Holm) | union reward / nDCG@10 | learner reward / "
             "nDCG@10 |" + (" best single arm: reward / nDCG@10 |" if singles else "")
             + " oracle reward / nDCG@10 |",
             "|" + "---|" * (len(axes) + 8 + singles)]
    for _, row in table.iterrows():
        cells = [_cell(row, axis) for axis in axes] + [row["learner"]]
        for key, _ in METRICS:
            cells.append(f"{row[f'diff_{key}']:+.3f} [{row[f'diff_{key}_low']:+.3f}, "
                         f"{row[f'diff_{key}_high']:+.3f}] **{_verdict(row, key)}**")
            cells.append(format_p(row[f"diff_{key}_p_holm"]))
        for who in ("union", "learner"):
            cells.append(f"{row[f'{who}_reward']:.3f} / {row[f'{who}_ndcg@10']:.3f}")
        if singles:
            cells.append(f"{row['single']}: {row['single_reward']:.3f} / "
                         f"{row['single_ndcg@10']:.3f}")
        cells.append(f"{row['oracle_reward']:.3f} / {row['oracle_ndcg@10']:.3f}")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    both = table[(table.apply(_verdict, axis=1, key="reward") == "beats")
                 & (table.apply(_verdict, axis=1, key="ndcg@10") == "beats")]
    lines += ["", f"The best learner beats the union on both its reward and nDCG@10 in "
              f"{len(both)} of {len(table)} variants."]
    return "\n".join(lines) + "\n"


def plot(table: pd.DataFrame, axes: list[str], title: str) -> bytes:
    """Both differences (learner − union) with their intervals, one row per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [" · ".join(_cell(row, axis).strip("`") for axis in axes)
             for _, row in table.iterrows()]
    y = np.arange(len(table))[::-1]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.35 * len(table) + 1.6), dpi=110, sharey=True)
    for ax, (key, label) in zip(axes, METRICS):
        mean = table[f"diff_{key}"].to_numpy()
        err = np.vstack([mean - table[f"diff_{key}_low"], table[f"diff_{key}_high"] - mean])
        colors = ["tab:green" if v == "beats" else "tab:red" if v == "loses" else "tab:gray"
                  for v in table.apply(_verdict, axis=1, key=key)]
        for i, color in enumerate(colors):
            ax.errorbar(mean[i], y[i], xerr=err[:, i:i + 1], fmt="o", ms=3.5, color=color,
                        ecolor=color, capsize=2)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(f"best learner − static union, {label}")
        ax.grid(alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(names, fontsize=7)
    fig.suptitle(title, fontsize=10)
    return png(fig)


def write_study(sweep) -> list[Path]:
    """``STUDY.md``, ``study.csv`` and ``study.png`` of each benchmark of a sweep with
    ``[vary]``, in ``<out>/<benchmark stem>/``, and ``study-regret.csv`` and
    ``study-regret.png`` when it varies ``plans`` or ``budget``, and the frontier
    (:mod:`ltrr.results.frontier`) when it varies ``budget`` (and at most ``cost`` beside it:
    the frontier's points would otherwise mix users, rewards or plan spaces); the files
    written."""
    from ltrr.paths import write_atomically
    from ltrr.results.folder import load_folder

    written = []
    stems = dict.fromkeys(b.path.stem for b in sweep.benchmarks if b.variant is not None)
    for stem in stems:
        variants = [records for b in sweep.benchmarks
                    if b.variant is not None and b.path.stem == stem
                    and (records := load_folder(sweep.folder(b)).records)]
        if not variants:
            continue
        axes = varied_axes(variants[0][0])
        table = study_table(variants, axes)
        x = growth.x_axis(axes)
        if table.empty and x is None:
            continue
        out = sweep.out / stem
        title = f"{sweep.name}: {stem}, the best learner against the static union"
        command = f"ltrr sweep {sweep.path}"
        files = {}
        if table.empty:  # no variant has both a learner and the static union
            text = f"# {sweep.name}: {stem}\n\nMade by `{command}`.\n"
        else:
            text = markdown(table, axes, title, command)
            files = {"study.csv": table.to_csv(index=False, float_format="%.6g").encode(),
                     "study.png": plot(table, axes, title)}
        if x is not None:
            regret = growth.growth_table(
                [(records, axis_labels(records[0], axes)) for records in variants], x)
            text += growth.markdown(regret, x, axes, HEADERS)
            files["study-regret.csv"] = regret.to_csv(index=False, float_format="%.6g").encode()
            files["study-regret.png"] = growth.plot(
                regret, x, f"{sweep.name}: {stem}, regret against the oracle by "
                f"{'number of plans' if x == 'plans' else 'budget'}")
        if "budget" in axes and set(axes) <= {"budget", "cost"}:  # points of one world each
            from ltrr.results.frontier import frontier_files

            files.update(frontier_files([r for records in variants for r in records],
                                        f"{sweep.name}: {stem}", command))
        files = {"STUDY.md": text.encode(), **files}
        for name, blob in files.items():
            write_atomically(out / name, lambda tmp, blob=blob: Path(tmp).write_bytes(blob))
            written.append(out / name)
    return written
