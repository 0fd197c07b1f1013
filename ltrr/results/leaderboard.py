"""The leaderboard: per policy, mean and 95% t-interval over seeds of each metric, and
paired significance tests of the best learning policy against the baselines.

"Best" is the non-oracle policy with the highest mean nDCG@10 that is not a fixed
baseline; it is compared (paired by seed, :func:`ltrr.evaluation.intervals.paired_test`)
with the best single arm (by the same metric) and with the static union, on candidate
recall and nDCG@10. Written as Markdown (``LEADERBOARD.md``) and printed.
"""

from __future__ import annotations

import math

import pandas as pd

from ltrr.evaluation.intervals import paired_test, t_interval

COLUMNS = [("reward", "reward"), ("candidate_recall", "recall@B"), ("any_relevant", "any-rel"),
           ("ndcg@10", "nDCG@10"), ("regret_oracle", "regret(oracle)"),
           ("regret_best_fixed", "regret(best fixed)"),
           ("regret_oracle_first_half", "regret 1st half"),
           ("regret_oracle_second_half", "regret 2nd half"),
           ("candidates_drawn", "cands"), ("arm_calls", "arm calls")]
BASELINE_NAMES = ("static_union", "uniform", "oracle")


def _fmt(mean: float, low: float, high: float) -> str:
    big = max(abs(mean), abs(high) if not math.isnan(high) else 0) >= 100
    f = "{:.1f}" if big else "{:.4f}"
    if math.isnan(low):
        return f.format(mean)
    return f"{f.format(mean)} [{f.format(low)}, {f.format(high)}]"


def summary(records: list[dict], order: list[str] | None = None) -> pd.DataFrame:
    """One row per policy (in ``order``, then any others): ``<metric>``, ``<metric>_low``,
    ``<metric>_high``, ``seeds``."""
    rows = []
    labels = list(dict.fromkeys(r["policy"] for r in records))
    order = [lab for lab in (order or []) if lab in labels] + \
        [lab for lab in labels if lab not in (order or [])]
    for label in order:
        runs = sorted((r for r in records if r["policy"] == label), key=lambda r: r["seed"])
        row = {"policy": label, "policy_name": runs[0]["policy_name"], "seeds": len(runs)}
        for key, _ in COLUMNS:
            mean, low, high = t_interval([r["metrics"][key] for r in runs])
            row.update({key: mean, f"{key}_low": low, f"{key}_high": high})
        rows.append(row)
    return pd.DataFrame(rows)


def _by_seed(records: list[dict], label: str, key: str) -> dict[int, float]:
    return {r["seed"]: r["metrics"][key] for r in records if r["policy"] == label}


def comparisons(records: list[dict], table: pd.DataFrame) -> list[dict]:
    """Paired tests of the best learning policy vs the best single arm and the static union."""
    learners = table[~table["policy_name"].str.startswith("single:")
                     & ~table["policy_name"].isin(BASELINE_NAMES)]
    singles = table[table["policy_name"].str.startswith("single:")]
    union = table[table["policy_name"] == "static_union"]
    if learners.empty:
        return []
    best = learners.sort_values("ndcg@10", ascending=False).iloc[0]["policy"]
    rivals = []
    if not singles.empty:
        rivals.append(singles.sort_values("ndcg@10", ascending=False).iloc[0]["policy"])
    if not union.empty:
        rivals.append(union.iloc[0]["policy"])
    out = []
    for rival in rivals:
        for key in ("candidate_recall", "ndcg@10", "reward"):
            a, b = _by_seed(records, best, key), _by_seed(records, rival, key)
            seeds = sorted(set(a) & set(b))
            test = paired_test([a[s] for s in seeds], [b[s] for s in seeds])
            best_row = table[table["policy"] == best].iloc[0]
            rival_row = table[table["policy"] == rival].iloc[0]
            disjoint = bool(best_row[f"{key}_low"] > rival_row[f"{key}_high"])
            out.append({"policy": best, "rival": rival, "metric": key, "seeds": len(seeds),
                        "intervals_disjoint": disjoint, **test})
    return out


def markdown(records: list[dict], title: str, command: str | None = None,
             order: list[str] | None = None) -> str:
    """The leaderboard as Markdown (rows in ``order``: the benchmark's policy order)."""
    table = summary(records, order)
    lines = [f"# {title}", ""]
    if records:
        r0 = records[0]
        lines += [f"Dataset `{r0['dataset']}`, budget {r0['budget']} candidates, "
                  f"{len(r0['plans'])} plans, stream of {r0['stream_length']} queries, "
                  f"seeds {sorted({r['seed'] for r in records})}. "
                  "Mean over seeds with 95% t-interval; regret is cumulative expected regret "
                  "over the stream.", ""]
    if command:
        lines += ["Made by:", "", f"    {command}", ""]
    header = ["policy"] + [name for _, name in COLUMNS]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [str(row["policy"])] + [_fmt(row[k], row[f"{k}_low"], row[f"{k}_high"])
                                        for k, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    tests = comparisons(records, table)
    if tests:
        lines += ["", "Paired comparisons over seeds (best learning policy by nDCG@10 vs baselines):",
                  "", "| policy | vs | metric | mean diff | paired t p | permutation p | "
                  "95% intervals disjoint |", "|---|---|---|---|---|---|---|"]
        for t in tests:
            lines.append(f"| {t['policy']} | {t['rival']} | {t['metric']} | "
                         f"{t['mean_diff']:+.4f} | {t['t_pvalue']:.2g} | "
                         f"{t['permutation_pvalue']:.2g} | {'yes' if t['intervals_disjoint'] else 'no'} |")
    return "\n".join(lines) + "\n"
