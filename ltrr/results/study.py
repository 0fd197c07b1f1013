"""A study of users and rewards (a sweep with ``[vary]``): where the best learner beats the
static union, on the reward it is paid and on nDCG@10.

For each benchmark of the sweep, every (users, reward) variant's folder is read and compared:

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
their intervals, per variant) into ``<out>/<benchmark stem>/``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.evaluation.intervals import format_p, holm, paired_test, t_interval
from ltrr.evaluation.registry import HEADLINE, label_of
from ltrr.results.leaderboard import BASELINE_NAMES

# (record key, label): what the policies are paid, and relevance (ltrr.evaluation.registry)
METRICS = tuple((name, label_of(name)) for name in ("reward", HEADLINE))


def _by_seed(records: list[dict], label: str, key: str) -> dict[int, float]:
    return {r["seed"]: float(r["metrics"][key]) for r in records if r["policy"] == label}


def _mean(records: list[dict], label: str, key: str) -> float:
    values = list(_by_seed(records, label, key).values())
    return float(np.mean(values)) if values else math.nan


def best_learner(records: list[dict]) -> tuple[str | None, str]:
    """The learner with the best tuning score of its chosen setting (and how it was chosen)."""
    learners = {r["policy"]: r for r in records if not r["policy_name"].startswith("single:")
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


def variant_row(records: list[dict]) -> dict | None:
    """One variant's comparisons (None without a learner and a static union)."""
    r0 = records[0]
    union = next((r["policy"] for r in records if r["policy_name"] == "static_union"), None)
    learner, chosen_on = best_learner(records)
    if union is None or learner is None:
        return None
    singles = [r["policy"] for r in records if r["policy_name"].startswith("single:")]
    single = max(dict.fromkeys(singles), key=lambda k: (_mean(records, k, "reward"), k),
                 default=None)
    oracle = next((r["policy"] for r in records if r["policy_name"] == "oracle"), None)
    row = {"users": r0.get("users", "?"), "reward_name": r0.get("reward_name", "clicks"),
           "learner": learner, "learner_chosen_on": chosen_on, "single": single,
           "seeds": len(_by_seed(records, learner, "reward"))}
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


def study_table(folders: list[Path]) -> pd.DataFrame:
    """Every variant folder's row, with Holm-adjusted p-values over the whole table."""
    from ltrr.results.folder import load_folder

    rows = [row for folder in folders
            if (records := load_folder(folder).records) and (row := variant_row(records))]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    keys = [f"diff_{k}_p" for k, _ in METRICS]
    adjusted = holm([table[k].iloc[i] for i in range(len(table)) for k in keys])
    for j, key in enumerate(keys):
        table[f"{key}_holm"] = adjusted[j::len(keys)]
    return table


def _verdict(row: pd.Series, key: str) -> str:
    p, low, high = row[f"diff_{key}_p_holm"], row[f"diff_{key}_low"], row[f"diff_{key}_high"]
    if p < 0.05 and low > 0:
        return "beats"
    if p < 0.05 and high < 0:
        return "loses"
    return "tie"


def _means(row: pd.Series, who: str) -> str:
    """``who``'s mean of each metric, ``reward / nDCG@10``."""
    return " / ".join(f"{row[f'{who}_{key}']:.3f}" for key, _ in METRICS)


def markdown(table: pd.DataFrame, title: str, command: str) -> str:
    """The study's table as Markdown, with how to read it."""
    paid, relevance = (lab for _, lab in METRICS)
    pair = " / ".join(lab for _, lab in METRICS)
    head = ["users", "reward", "best learner",
            *(c for _, lab in METRICS for c in (f"learner − union, {lab}", "p (Holm)")),
            f"union {pair}", f"learner {pair}", f"best single arm: {pair}", f"oracle {pair}"]
    lines = [f"# {title}", "", f"Made by `{command}`. Per variant (users x reward): the best "
             "learner (chosen by its tuning score on the tuning seeds) against the static union, "
             f"paired by seed ({int(table['seeds'].min())} seeds): mean difference [95% "
             "t-interval], paired t-test, Holm-adjusted over every test of this table "
             f"({len(METRICS) * len(table)}). {paid.capitalize()} and {relevance} are means "
             f"over seeds; the oracle maximises the variant's reward, and its {relevance} shows "
             "whether that reward tracks relevance.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in table.iterrows():
        cells = [row["users"], f"`{row['reward_name']}`", row["learner"]]
        for key, _ in METRICS:
            cells.append(f"{row[f'diff_{key}']:+.3f} [{row[f'diff_{key}_low']:+.3f}, "
                         f"{row[f'diff_{key}_high']:+.3f}] **{_verdict(row, key)}**")
            cells.append(format_p(row[f"diff_{key}_p_holm"]))
        cells += [_means(row, "union"), _means(row, "learner"),
                  f"{row['single']}: {_means(row, 'single')}", _means(row, "oracle")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    beats = [table.apply(_verdict, axis=1, key=key) == "beats" for key, _ in METRICS]
    both = table[np.logical_and.reduce(beats)]
    lines += ["", f"The best learner beats the union on both its {paid} and {relevance} in "
              f"{len(both)} of {len(table)} variants."]
    return "\n".join(lines) + "\n"


def plot(table: pd.DataFrame, title: str) -> bytes:
    """Both differences (learner − union) with their intervals, one row per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{u} · {r}" for u, r in zip(table["users"], table["reward_name"])]
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
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def write_study(sweep) -> list[Path]:
    """``STUDY.md``, ``study.csv`` and ``study.png`` of each benchmark of a sweep with
    ``[vary]``, in ``<out>/<benchmark stem>/``; the files written."""
    from ltrr.paths import write_atomically

    written = []
    stems = dict.fromkeys(b.path.stem for b in sweep.benchmarks if b.variant is not None)
    for stem in stems:
        folders = [sweep.folder(b) for b in sweep.benchmarks
                   if b.variant is not None and b.path.stem == stem]
        table = study_table(folders)
        if table.empty:
            continue
        out = sweep.out / stem
        title = f"{sweep.name}: {stem}, the best learner against the static union"
        files = {"STUDY.md": markdown(table, title, f"ltrr sweep {sweep.path}").encode(),
                 "study.csv": table.to_csv(index=False, float_format="%.6g").encode(),
                 "study.png": plot(table, title)}
        for name, blob in files.items():
            write_atomically(out / name, lambda tmp, blob=blob: Path(tmp).write_bytes(blob))
            written.append(out / name)
    return written
