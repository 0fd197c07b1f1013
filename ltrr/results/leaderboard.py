"""The leaderboard: per policy, mean and 95% t-interval over seeds of each metric, how each
tuned policy's setting was chosen, and paired significance tests of the best learning policy
against the baselines, corrected for multiple comparisons.

"Best" is the non-oracle policy with the highest mean nDCG@10 that is not a fixed
baseline; it is compared with the best single arm (by the same metric) and with the static
union, and every policy that sees more feature groups than another entry of the same policy
(say post-retrieval probes on top of the pre-retrieval features) with that entry, on
candidate recall, nDCG@10 and reward: paired by seed (t-test and exact
permutation test, :func:`ltrr.evaluation.intervals.paired_test`) and by topic (paired
t-test over per-topic means, :func:`~ltrr.evaluation.intervals.topic_test`). Each of the
three tests is Holm-Bonferroni corrected over the table's comparisons, and the smallest
p-value each test can reach is printed with it. Written as Markdown (``LEADERBOARD.md``).
"""

from __future__ import annotations

import math

import pandas as pd

from ltrr.evaluation.intervals import (holm, paired_test, permutation_floor, t_interval,
                                       topic_test)

COLUMNS = [("reward", "reward"), ("candidate_recall", "recall@B"), ("any_relevant", "any-rel"),
           ("ndcg@10", "nDCG@10"), ("regret_oracle", "regret(oracle)"),
           ("regret_best_fixed", "regret(best fixed)"),
           ("regret_oracle_first_half", "regret 1st half"),
           ("regret_oracle_second_half", "regret 2nd half"),
           ("candidates_drawn", "cands"), ("arm_calls", "arm calls"), ("cost", "cost")]
BASELINE_NAMES = ("static_union", "uniform", "oracle")
TESTED = ("candidate_recall", "ndcg@10", "reward")


def _fmt(mean: float, low: float, high: float) -> str:
    big = max(abs(mean), abs(high) if not math.isnan(high) else 0) >= 100
    f = "{:.1f}" if big else "{:.4f}"
    if math.isnan(low):
        return f.format(mean)
    return f"{f.format(mean)} [{f.format(low)}, {f.format(high)}]"


def _p(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2g}"


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
            mean, low, high = t_interval([r["metrics"].get(key, math.nan) for r in runs])
            row.update({key: mean, f"{key}_low": low, f"{key}_high": high})
        rows.append(row)
    return pd.DataFrame(rows)


def _by_seed(records: list[dict], label: str, key: str) -> dict[int, float]:
    return {r["seed"]: r["metrics"][key] for r in records if r["policy"] == label}


def ranker_of(record: dict) -> str:
    """The name of a record's ranking stage (its fusion, or a learned ranker's name)."""
    return str((record.get("ranker") or {}).get("name", "fusion"))


def comparisons(records: list[dict], table: pd.DataFrame,
                topics: dict | None = None) -> list[dict]:
    """Paired tests of the best learning policy vs the best single arm and the static union
    ranked the same way, with Holm-adjusted p-values (``*_holm``) over the returned list."""
    rankers = {r["policy"]: ranker_of(r) for r in records}
    learners = table[~table["policy_name"].str.startswith("single:")
                     & ~table["policy_name"].isin(BASELINE_NAMES)]
    if not learners.empty:
        best_ranker = rankers[learners.sort_values("ndcg@10", ascending=False).iloc[0]["policy"]]
        table = table[table["policy"].map(rankers) == best_ranker]
        learners = learners[learners["policy"].map(rankers) == best_ranker]
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
    pairs = [(best, rival) for rival in rivals] + _feature_pairs(records)
    out = []
    for best, rival in pairs:
        for key in TESTED:
            a, b = _by_seed(records, best, key), _by_seed(records, rival, key)
            seeds = sorted(set(a) & set(b))
            test = paired_test([a[s] for s in seeds], [b[s] for s in seeds])
            best_row = table[table["policy"] == best].iloc[0]
            rival_row = table[table["policy"] == rival].iloc[0]
            disjoint = bool(best_row[f"{key}_low"] > rival_row[f"{key}_high"])
            by_topic = {"topics": 0, "mean_diff": math.nan, "t_pvalue": math.nan}
            if topics and all((best, s) in topics and (rival, s) in topics for s in seeds):
                by_topic = topic_test([topics[best, s] for s in seeds],
                                      [topics[rival, s] for s in seeds], key)
            out.append({"policy": best, "rival": rival, "metric": key, "seeds": len(seeds),
                        "intervals_disjoint": disjoint, **test,
                        "topics": by_topic["topics"], "topic_mean_diff": by_topic["mean_diff"],
                        "topic_t_pvalue": by_topic["t_pvalue"]})
    for name in ("t_pvalue", "permutation_pvalue", "topic_t_pvalue"):
        for test, adjusted in zip(out, holm([t[name] for t in out])):
            test[f"{name}_holm"] = adjusted
    return out


def factorial(records: list[dict], order: list[str] | None = None,
              metric: str = "ndcg@10") -> list[str]:
    """Selection x ranking, when policies rank differently: each (selection policy, ranking
    stage)'s mean and 95% interval over seeds, and the effects paired by seed (t-intervals of
    per-seed differences): each ranker's gain over the fusion for each selection, each
    selection's gain over the static union for each ranking, and their interaction (the
    ranking gain with that selection minus the ranking gain with the static union)."""
    rank = {label: i for i, label in enumerate(order or [])}
    records = sorted(records, key=lambda r: rank.get(r["policy"], len(rank)))
    cells: dict[tuple[str, str], dict[int, float]] = {}
    learned = set()
    for r in records:
        if r["policy_name"] == "oracle":  # reads the truth: a bound, not a selection policy
            continue
        cells.setdefault((r["policy_name"], ranker_of(r)), {})[r["seed"]] = r["metrics"][metric]
        if (r.get("ranker") or {}).get("model"):
            learned.add(ranker_of(r))
    selections = list(dict.fromkeys(name for name, _ in cells))
    stages = list(dict.fromkeys(stage for _, stage in cells))
    fusions = [st for st in stages if st not in learned]
    union = "static_union"
    if len(stages) < 2 or not fusions or union not in selections:
        return []
    base = fusions[0]
    stages = [base] + [st for st in stages if st != base]

    def paired(a: dict[int, float] | None, b: dict[int, float] | None) -> str:
        seeds = sorted(set(a or {}) & set(b or {}))
        if not seeds:
            return ""
        mean, low, high = t_interval([a[s] - b[s] for s in seeds])
        return f"{mean:+.4f}" if math.isnan(low) else f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"

    def gain(sel: str, st: str) -> dict[int, float] | None:
        a, b = cells.get((sel, st)), cells.get((sel, base))
        return None if a is None or b is None else {s: a[s] - b[s] for s in set(a) & set(b)}

    header = "| {} | " + " | ".join(stages) + " |"
    lines = ["", f"Selection x ranking ({metric}, mean [95% t-interval] over seeds), and the "
             "effects paired by seed (mean difference [95% t-interval]):", "",
             header.format("selection"), "|---|" + "---|" * len(stages)]
    lines += [f"| {sel} | " + " | ".join(_fmt(*t_interval(list(cells[sel, st].values())))
                                         if (sel, st) in cells else "" for st in stages) + " |"
              for sel in selections]
    lines += ["", header.format("effect"), "|---|" + "---|" * len(stages)]
    for sel in selections:
        lines.append(f"| ranking gain over {base}, selection {sel} | " + " | ".join(
            "" if st == base else paired(cells.get((sel, st)), cells.get((sel, base)))
            for st in stages) + " |")
    for sel in selections:
        if sel == union:
            continue
        lines.append(f"| selection gain, {sel} over {union} | " + " | ".join(
            paired(cells.get((sel, st)), cells.get((union, st))) for st in stages) + " |")
        lines.append(f"| interaction, {sel} x ranking | " + " | ".join(
            "" if st == base else paired(gain(sel, st), gain(union, st)) for st in stages) + " |")
    return lines


def _feature_pairs(records: list[dict]) -> list[tuple[str, str]]:
    """(richer, poorer) labels of entries of the same policy that see nested feature groups."""
    seen = {}
    for r in records:
        seen.setdefault(r["policy"], (r["policy_name"], frozenset(r.get("features", []))))
    return [(a, b) for a, (name_a, fa) in seen.items() for b, (name_b, fb) in seen.items()
            if name_a == name_b and fb < fa]


def _tuning_lines(records: list[dict], order: list[str]) -> list[str]:
    tuned = {r["policy"]: r["tuning"] for r in records if r.get("tuning")}
    if not tuned:
        return []
    first = next(iter(tuned.values()))
    lines = ["", f"Tuning: each grid setting was run on tuning seeds {first['seeds']} (disjoint "
             "from the reported seeds) and the setting with the best mean "
             f"`{first['metric']}` was kept; every setting's score is in `tuning.json`.", "",
             "| policy | grid | chosen | tuning score of each setting |", "|---|---|---|---|"]
    for label in [lab for lab in order if lab in tuned] + [lab for lab in tuned if lab not in order]:
        t = tuned[label]
        grid = ", ".join(f"{k} ∈ {v}" for k, v in t["grid"].items())
        chosen = ", ".join(f"{k}={t['chosen'][k]}" for k in t["grid"])
        scores = "; ".join(", ".join(f"{k}={params[k]}" for k in t["grid"]) + f": {mean:.4f}"
                           for params, mean in t["means"])
        lines.append(f"| {label} | {grid} | {chosen} | {scores} |")
    return lines


def markdown(records: list[dict], title: str, order: list[str] | None = None,
             topics: dict | None = None) -> str:
    """The leaderboard as Markdown (rows in ``order``: the benchmark's policy order), a pure
    function of the records: the commands that made them are read from their provenance.

    ``topics`` maps ``(policy label, seed)`` to that run's per-topic table, for the
    topic-level tests (left out when absent).
    """
    table = summary(records, order)
    lines = [f"# {title}", ""]
    if records:
        r0 = records[0]
        excluded = [r["metrics"].get("steps_without_relevant", 0) for r in records]
        probe = max((r["metrics"].get("probe_arm_calls", 0), r["metrics"].get("probe_candidates", 0),
                     r["metrics"].get("probe_cost", 0.0)) for r in records)
        groups = list(dict.fromkeys(g for r in records for g in r.get("features", [])))
        fewer = {r["policy"]: r["features"] for r in records
                 if set(r.get("features", [])) != set(groups)}
        seeing = "".join(f"; {label} sees {', '.join(g) or 'none'}" for label, g in fewer.items())
        lines += [f"Dataset `{r0['dataset']}`, budget {r0['budget']} candidates, "
                  f"{len(r0['plans'])} plans, stream of {r0['stream_length']} queries, "
                  f"seeds {sorted({r['seed'] for r in records})}, context features "
                  f"{', '.join(groups) or 'none'}{seeing}. "
                  "Mean over seeds with 95% t-interval; regret is cumulative expected regret "
                  "over the stream. Recall, any-rel and nDCG@10 are over the steps whose topic "
                  "had a released relevant document (steps without one: "
                  f"{min(excluded)}-{max(excluded)} per run, left out); reward, cost and regret "
                  "over every step."]
        if probe[0]:
            lines += ["", f"Post-retrieval features: a policy that reads the context pays a probe "
                      f"of {probe[0]} arm calls and {probe[1]} candidates per query (cost "
                      f"{probe[2]:g}), counted in its cands, arm calls, cost, reward and regret."]
        lines.append("")
    commands = list(dict.fromkeys(r.get("provenance", {}).get("command") for r in records))
    commands = [c for c in commands if c]
    if commands:
        lines += ["Made by:", ""] + [f"    {c}" for c in commands] + [""]
    header = ["policy"] + [name for _, name in COLUMNS]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [str(row["policy"])] + [_fmt(row[k], row[f"{k}_low"], row[f"{k}_high"])
                                        for k, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _tuning_lines(records, list(table["policy"]) if len(table) else [])
    lines += factorial(records, order)
    tests = comparisons(records, table, topics)
    if tests:
        n = min(t["seeds"] for t in tests)
        floor = permutation_floor(n)
        lines += ["", f"Paired comparisons (best learning policy by nDCG@10 vs baselines; a policy "
                  "with more feature groups vs the same policy with fewer), "
                  f"{len(tests)} tests per column, p-values Holm-Bonferroni corrected within "
                  f"each column (raw p in parentheses). By seed ({n} seeds): paired t-test, and "
                  f"the exact permutation test, whose smallest possible p is 2/2^{n} = "
                  f"{floor:.2g} ({min(1.0, len(tests) * floor):.2g} after correction). By topic: "
                  "paired t-test over topics of per-topic means (each topic's mean over the "
                  "steps and seeds that asked it; no floor).", "",
                  "| policy | vs | metric | mean diff | t p | permutation p | topics | "
                  "topic mean diff | topic t p | 95% intervals disjoint |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for t in tests:
            lines.append(
                f"| {t['policy']} | {t['rival']} | {t['metric']} | {t['mean_diff']:+.4f} | "
                f"{_p(t['t_pvalue_holm'])} ({_p(t['t_pvalue'])}) | "
                f"{_p(t['permutation_pvalue_holm'])} ({_p(t['permutation_pvalue'])}) | "
                f"{t['topics']} | {t['topic_mean_diff']:+.4f} | "
                f"{_p(t['topic_t_pvalue_holm'])} ({_p(t['topic_t_pvalue'])}) | "
                f"{'yes' if t['intervals_disjoint'] else 'no'} |")
    return "\n".join(lines) + "\n"
