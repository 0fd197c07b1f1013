"""The leaderboard: per policy, mean and 95% t-interval over seeds of each metric, how each
tuned policy's setting was chosen, and paired significance tests of the best learning policy
against the baselines, corrected for multiple comparisons.

"Best" is the non-oracle policy with the highest mean nDCG@10 that is not a fixed
baseline (a single arm, :data:`BASELINE_NAMES`); it is compared with the best single arm (by
the same metric) and with the static union; every policy that sees more feature groups than
another entry of the same policy (say post-retrieval probes on top of the pre-retrieval
features) with that entry; and LinUCB with the supervised router (:data:`SUPERVISED`: the
bandit that learns online against the model trained beforehand on judged topics) under the
same ranking stage and features; on candidate recall, nDCG@10 and reward: paired by seed
(t-test and permutation test, exact up to 16 seeds and Monte Carlo beyond,
:func:`ltrr.evaluation.intervals.paired_test`) and by topic (paired t-test over per-topic
means, :func:`~ltrr.evaluation.intervals.topic_test`).
Each of the three tests is Holm-Bonferroni corrected over the table's comparisons; the text
says how the permutation test was computed and the smallest p-value it can reach
(:func:`permutation_note`).

The columns, which of them rank and which way, and which are tested are declared with the
metrics (:mod:`ltrr.evaluation.registry`); a column that records need not carry (latency) is
shown when some record has it. The best entry of each ranked column is marked: the best mean
among the policies that are not the oracle (a bound that reads the truth, not a competitor);
exact ties are all marked, and a column where every entry ties marks none. :func:`sections`
builds the leaderboard as blocks (:mod:`ltrr.results.blocks`), rendered as Markdown
(``LEADERBOARD.md``, :func:`markdown`) and HTML (:mod:`ltrr.results.page`); everything is read
from the records, so ``ltrr leaderboard`` rebuilds exactly what ``ltrr run`` wrote.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from ltrr.evaluation.intervals import (EXACT_PERMUTATION_SEEDS, PERMUTATION_RESAMPLES,
                                       PERMUTATION_SEED, format_p, holm, paired_test,
                                       permutation_floor, t_interval, topic_test)
from ltrr.evaluation.registry import COLUMNS, HEADLINE, METRICS, Metric, label_of, shown
from ltrr.results.blocks import Block, Cell, Code, Paragraph, Table, cells, to_markdown

BASELINE_NAMES = ("static_union", "uniform", "oracle", "router", "best_single")
SUPERVISED = ("linucb", "router")  # (online learner, supervised router): always compared
# the metrics of the paired tests, in the tests table's order (by name)
TESTED = tuple(sorted(m.name for m in METRICS if m.tested))


def is_single_arm(policy_name: str) -> bool:
    """A policy that always plays one arm alone: ``single:<arm>``, or ``best_single`` (the
    arm chosen on the tuning seeds)."""
    return policy_name.startswith("single:") or policy_name == "best_single"


def columns_of(table: pd.DataFrame) -> list[Metric]:
    """The leaderboard columns a :func:`summary` table has, in the registry's order."""
    return [m for m in COLUMNS if m.name in table.columns]


def _fmt(mean: float, low: float, high: float) -> str:
    big = max(abs(mean), abs(high) if not math.isnan(high) else 0) >= 100
    f = "{:.1f}" if big else "{:.4f}"
    if math.isnan(low):
        return f.format(mean)
    return f"{f.format(mean)} [{f.format(low)}, {f.format(high)}]"


def summary(records: list[dict], order: list[str] | None = None) -> pd.DataFrame:
    """One row per policy (in ``order``, then any others): ``<metric>``, ``<metric>_low``,
    ``<metric>_high`` of each column the records have (:func:`ltrr.evaluation.registry.shown`),
    ``seeds``."""
    rows = []
    labels = list(dict.fromkeys(r["policy"] for r in records))
    order = [lab for lab in (order or []) if lab in labels] + \
        [lab for lab in labels if lab not in (order or [])]
    keys = [m.name for m in shown(records)]
    for policy in order:
        runs = sorted((r for r in records if r["policy"] == policy), key=lambda r: r["seed"])
        row = {"policy": policy, "policy_name": runs[0]["policy_name"], "seeds": len(runs)}
        for key in keys:
            mean, low, high = t_interval([r["metrics"].get(key, math.nan) for r in runs])
            row.update({key: mean, f"{key}_low": low, f"{key}_high": high})
        rows.append(row)
    return pd.DataFrame(rows, columns=["policy", "policy_name", "seeds"] + [
        f"{key}{end}" for key in keys for end in ("", "_low", "_high")])


def best_entries(table: pd.DataFrame) -> dict[str, set[str]]:
    """Per ranked column (a metric with a ``better`` direction), the labels of the policies
    with the best mean, the oracle aside; empty when every entry ties (nothing to mark)."""
    if table.empty:
        return {}
    rivals = table[table["policy_name"] != "oracle"]
    out = {}
    for key, way in ((m.name, m.better) for m in columns_of(table) if m.better):
        values = rivals[key].dropna()
        if values.nunique() < 2:
            out[key] = set()
            continue
        top = values.max() if way == "max" else values.min()
        out[key] = set(rivals.loc[values.index[values == top], "policy"])
    return out


def _by_seed(records: list[dict], label: str, key: str) -> dict[int, float]:
    return {r["seed"]: r["metrics"][key] for r in records if r["policy"] == label}


def ranker_of(record: dict) -> str:
    """The name of a record's ranking stage (its fusion, or a learned ranker's name)."""
    return str((record.get("ranker") or {}).get("name", "fusion"))


def comparisons(records: list[dict], table: pd.DataFrame,
                topics: dict | None = None) -> list[dict]:
    """Paired tests of the best learning policy vs the best single arm and the static union
    ranked the same way, of richer vs poorer feature groups and of LinUCB vs the router
    (module doc), with Holm-adjusted p-values (``*_holm``) over the returned list."""
    rankers = {r["policy"]: ranker_of(r) for r in records}
    learners = table[~table["policy_name"].map(is_single_arm)
                     & ~table["policy_name"].isin(BASELINE_NAMES)]
    ranked = table
    if not learners.empty:
        best_ranker = rankers[learners.sort_values(HEADLINE, ascending=False).iloc[0]["policy"]]
        ranked = table[table["policy"].map(rankers) == best_ranker]
        learners = learners[learners["policy"].map(rankers) == best_ranker]
    singles = ranked[ranked["policy_name"].map(is_single_arm)]
    union = ranked[ranked["policy_name"] == "static_union"]
    if learners.empty:
        return []
    best = learners.sort_values(HEADLINE, ascending=False).iloc[0]["policy"]
    rivals = []
    if not singles.empty:
        rivals.append(singles.sort_values(HEADLINE, ascending=False).iloc[0]["policy"])
    if not union.empty:
        rivals.append(union.iloc[0]["policy"])
    supervised = _supervised_pairs(records)
    pairs = list(dict.fromkeys([(best, rival) for rival in rivals] + _feature_pairs(records)
                               + supervised))
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
            if topics and seeds and all((best, s) in topics and (rival, s) in topics
                                        for s in seeds):
                by_topic = topic_test([topics[best, s] for s in seeds],
                                      [topics[rival, s] for s in seeds], key)
            out.append({"policy": best, "rival": rival, "metric": key, "seeds": len(seeds),
                        "intervals_disjoint": disjoint, **test,
                        "topics": by_topic["topics"], "topic_mean_diff": by_topic["mean_diff"],
                        "topic_t_pvalue": by_topic["t_pvalue"],
                        "supervised": (best, rival) in supervised})
    for name in ("t_pvalue", "permutation_pvalue", "topic_t_pvalue"):
        for test, adjusted in zip(out, holm([t[name] for t in out])):
            test[f"{name}_holm"] = adjusted
    return out


def factorial(records: list[dict], order: list[str] | None = None,
              metric: str = HEADLINE) -> list[Block]:
    """Selection x ranking, when policies rank differently: each (selection policy, ranking
    stage)'s mean and 95% interval over seeds, and the effects paired by seed (t-intervals of
    per-seed differences): each ranker's gain over the fusion for each selection, each
    selection's gain over the static union for each ranking, and their interaction (the
    ranking gain with that selection minus the ranking gain with the static union)."""
    rank = {label: i for i, label in enumerate(order or [])}
    records = sorted(records, key=lambda r: rank.get(r["policy"], len(rank)))
    means: dict[tuple[str, str], dict[int, float]] = {}
    learned = set()
    for r in records:
        if r["policy_name"] == "oracle":  # reads the truth: a bound, not a selection policy
            continue
        means.setdefault((r["policy_name"], ranker_of(r)), {})[r["seed"]] = r["metrics"][metric]
        if (r.get("ranker") or {}).get("model"):
            learned.add(ranker_of(r))
    selections = list(dict.fromkeys(name for name, _ in means))
    stages = list(dict.fromkeys(stage for _, stage in means))
    fusions = [st for st in stages if st not in learned]
    union = "static_union"
    if len(stages) < 2 or not fusions or union not in selections:
        return []
    base = fusions[0]
    stages = [base] + [st for st in stages if st != base]

    def paired(a: dict[int, float] | None, b: dict[int, float] | None) -> Cell:
        seeds = sorted(set(a or {}) & set(b or {}))
        if not seeds:
            return Cell("")
        mean, low, high = t_interval([a[s] - b[s] for s in seeds])
        return Cell(f"{mean:+.4f}" if math.isnan(low) else
                    f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]", mean)

    def gain(sel: str, st: str) -> dict[int, float] | None:
        a, b = means.get((sel, st)), means.get((sel, base))
        return None if a is None or b is None else {s: a[s] - b[s] for s in set(a) & set(b)}

    def interval(sel: str, st: str) -> Cell:
        if (sel, st) not in means:
            return Cell("")
        mean, low, high = t_interval(list(means[sel, st].values()))
        return Cell(_fmt(mean, low, high), mean)

    grid = Table("factorial", ["selection", *stages],
                 [[Cell(sel), *(interval(sel, st) for st in stages)] for sel in selections])
    effects = Table("effects", ["effect", *stages])
    for sel in selections:
        effects.rows.append([Cell(f"ranking gain over {base}, selection {sel}")] + [
            Cell("") if st == base else paired(means.get((sel, st)), means.get((sel, base)))
            for st in stages])
    for sel in selections:
        if sel == union:
            continue
        effects.rows.append([Cell(f"selection gain, {sel} over {union}")] + [
            paired(means.get((sel, st)), means.get((union, st))) for st in stages])
        effects.rows.append([Cell(f"interaction, {sel} x ranking")] + [
            Cell("") if st == base else paired(gain(sel, st), gain(union, st))
            for st in stages])
    return [Paragraph(f"Selection x ranking ({metric}, mean [95% t-interval] over seeds), and "
                      "the effects paired by seed (mean difference [95% t-interval]):"),
            grid, effects]


def _feature_pairs(records: list[dict]) -> list[tuple[str, str]]:
    """(richer, poorer) labels of entries of the same policy that see nested feature groups."""
    seen = {}
    for r in records:
        seen.setdefault(r["policy"], (r["policy_name"], frozenset(r.get("features", []))))
    return [(a, b) for a, (name_a, fa) in seen.items() for b, (name_b, fb) in seen.items()
            if name_a == name_b and fb < fa]


def _supervised_pairs(records: list[dict]) -> list[tuple[str, str]]:
    """(LinUCB, router) labels of the :data:`SUPERVISED` entries that rank by the same stage
    and see the same feature groups."""
    online, supervised = SUPERVISED
    seen = {}
    for r in records:
        seen.setdefault(r["policy"], (r["policy_name"], ranker_of(r),
                                      frozenset(r.get("features", []))))
    return [(a, b) for a, (name_a, *how_a) in seen.items() for b, (name_b, *how_b) in seen.items()
            if name_a == online and name_b == supervised and how_a == how_b]


def _tuning_blocks(records: list[dict], order: list[str]) -> list[Block]:
    tuned = {r["policy"]: r["tuning"] for r in records if r.get("tuning")}
    if not tuned:
        return []
    first = next(iter(tuned.values()))
    with_values = any("values" in t for t in tuned.values())
    columns = ["policy", "grid", "chosen", "tuning score of each setting"]
    if with_values:
        columns = ["policy", "grid", "chosen",
                   "tuning score of each setting: mean [95% t-interval over tuning seeds]",
                   "chosen − runner-up, paired by tuning seed"]
    table = Table("tuning", columns)
    for label in [lab for lab in order if lab in tuned] + [lab for lab in tuned if lab not in order]:
        t = tuned[label]
        grid = ", ".join(f"{k} ∈ {v}" for k, v in t["grid"].items())
        chosen = ", ".join(f"{k}={t['chosen'][k]}" for k in t["grid"])
        if "values" not in t:
            scores = "; ".join(", ".join(f"{k}={params[k]}" for k in t["grid"]) + f": {mean:.4f}"
                               for params, mean in t["means"])
            table.rows.append(cells(label, grid, chosen, *([scores, ""] if with_values
                                                           else [scores])))
            continue
        parts = []
        for params, values in t["values"]:
            mean, low, high = t_interval(values)
            setting = ", ".join(f"{k}={params[k]}" for k in t["grid"])
            parts.append(f"{setting}: {mean:.4f} [{low:.4f}, {high:.4f}]" if np.isfinite(low)
                         else f"{setting}: {mean:.4f}")
        table.rows.append(cells(label, grid, chosen, "; ".join(parts), _lead(t)))
    text = (f"Tuning: each grid setting was run on tuning seeds {first['seeds']} (disjoint from "
            f"the reported seeds) and the setting with the best mean `{first['metric']}` was "
            "kept; every setting's score is in `tuning.json`.")
    if with_values:
        text += (" The last column is the chosen setting's lead over the next best, paired by "
                 "tuning seed (the same streams), with its 95% t-interval: an interval that "
                 "holds 0 marks a near-tie the tuning seeds cannot split.")
    return [Paragraph(text), table]


def _lead(tuning: dict) -> str:
    """The chosen setting's lead over the runner-up (by mean), paired by tuning seed."""
    rows = tuning["values"]
    if len(rows) < 2:
        return ""
    means = [float(np.mean(v)) for _, v in rows]
    best = next(i for i, (params, _) in enumerate(rows) if params == tuning["chosen"])
    runner = max((i for i in range(len(rows)) if i != best), key=lambda i: means[i])
    diff = np.asarray(rows[best][1], dtype=float) - np.asarray(rows[runner][1], dtype=float)
    mean, low, high = t_interval(diff)
    setting = ", ".join(f"{k}={rows[runner][0][k]}" for k in tuning["grid"])
    if not np.isfinite(low):
        return f"{mean:+.4f} vs {setting}"
    tie = " (a near-tie)" if low <= 0 <= high else ""
    return f"{mean:+.4f} [{low:+.4f}, {high:+.4f}] vs {setting}{tie}"


def _setting(records: list[dict]) -> list[Block]:
    """What the runs were: dataset, budget, stream, seeds, features, what is averaged."""
    r0 = records[0]
    excluded = [r["metrics"].get("steps_without_relevant", 0) for r in records]
    probe = max((r["metrics"].get("probe_arm_calls", 0), r["metrics"].get("probe_candidates", 0),
                 r["metrics"].get("probe_cost", 0.0)) for r in records)
    groups = list(dict.fromkeys(g for r in records for g in r.get("features", [])))
    fewer = {r["policy"]: r["features"] for r in records
             if set(r.get("features", [])) != set(groups)}
    seeing = "".join(f"; {label} sees {', '.join(g) or 'none'}" for label, g in fewer.items())
    out = [Paragraph(
        f"Dataset `{r0['dataset']}`, budget {r0['budget']} candidates, "
        f"{len(r0['plans'])} plans, stream of {r0['stream_length']} queries, "
        f"seeds {sorted({r['seed'] for r in records})}, context features "
        f"{', '.join(groups) or 'none'}{seeing}. "
        "Mean over seeds with 95% t-interval; regret is cumulative expected regret "
        "over the stream. Recall, any-rel and nDCG@10 are over the steps whose topic "
        "had a released relevant document (steps without one: "
        f"{min(excluded)}-{max(excluded)} per run, left out); reward, cost and regret "
        "over every step. In bold: the best mean of each column, the oracle aside "
        f"({_directions(records)})." + _paid(r0) + _priced(r0))]
    if probe[0]:
        out.append(Paragraph(
            f"Post-retrieval features: a policy that reads the context pays a probe "
            f"of {probe[0]} arm calls and {probe[1]} candidates per query (cost "
            f"{probe[2]:g}), counted in its cands, arm calls, cost, reward and regret."))
    return out


def _directions(records: list[dict]) -> str:
    """Which way each ranked column is better, in words: the columns every record has, and
    the optional ones (latency) that these records have."""
    extra = [m for m in shown(records) if not m.record and m.better]
    highest = ["reward", "recall", "any-rel", "nDCG@10"] + \
        [m.label for m in extra if m.better == "max"]
    lowest = ["regret", "cost"] + [m.label for m in extra if m.better == "min"]
    return f"highest {_listed(highest)}; lowest {_listed(lowest)}"


def _listed(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _paid(record: dict) -> str:
    """Who the users are and what the policies are paid (records that name them)."""
    if "users" not in record:
        return ""
    return (f" Users: `{record['users']}` clicks; the policies are paid "
            f"`{record['reward_name']}` minus their costs, and the oracle and regret use that "
            "reward's expectation (docs/benchmark-format.md#rewards); nDCG@10 and recall are "
            "reported whatever the reward, so a reward that disagrees with relevance shows.")


def _priced(record: dict) -> str:
    """What the cost model prices and how latency is counted (records that carry one)."""
    model = record.get("cost_model")
    if not model:
        return ""
    prices = [f"{name} {_prices(model[key])}" for key, name in (
        ("per_arm_call", "per arm call"), ("per_candidate", "per candidate retrieved"),
        ("per_candidate_ranked", "per candidate ranked")) if any(model[key].values())]
    text = (" Prices: " + "; ".join(prices) + "." if prices
            else " Nothing is priced (cost 0).")
    if "latency_ms" in model:
        text += (f" Latency per query: the plan's arms called in {model['latency']} "
                 f"({'the slowest arm' if model['latency'] == 'parallel' else 'the sum of its arms'}"
                 "), each arm's measured milliseconds at its depth, plus the ranking stage's "
                 "per candidate; latency ms is its mean over a run's queries, p95 ms its 95th "
                 "percentile.")
    if "latency_limit_ms" in model:
        text += (f" Retrieval latency limit {model['latency_limit_ms']:g} ms: plans over it "
                 + ("are not offered." if model["over_limit"] == "remove" else
                    f"pay {model['over_limit_penalty']:g} per query."))
    sources = "; ".join(f"{k}: {v}" for k, v in model.get("sources", {}).items())
    return text + (f" Sources: {sources}." if sources else "")


def _prices(table: dict) -> str:
    values = {k: v for k, v in table.items() if v}
    if len(set(values.values())) == 1 and len(values) == len(table):
        return f"{next(iter(values.values())):g}"
    return ", ".join(f"{k} {v:g}" for k, v in values.items())


def _training_overlap(records: list[dict]) -> list[Block]:
    """What each trained ranker's training topics shared with the stream's by normalised
    query text (the ranker's ``train_overlap``), and that those topics were left out."""
    seen = {}
    for r in records:
        ranker = r.get("ranker") or {}
        if ranker.get("train_overlap"):
            seen.setdefault(ranker["name"], ranker["train_overlap"])
    if not seen:
        return []
    parts = [f"`{name}`: {o['texts']} shared texts, {o['left_out']} of {o['train_topics']} "
             f"training topics ({o['left_out_weight']:.1%} of their weight) left out, "
             f"{o['test_shared']} of {o['test_topics']} stream topics "
             f"({o['test_shared_weight']:.1%} of the stream's weight) had asked a training text"
             for name, o in seen.items()]
    return [Paragraph("Learned rankers never train on a query text the stream asks: training "
                      "topics whose normalised text (lower-case alphanumeric tokens) a stream "
                      "topic asks were left out before training. " + "; ".join(parts) + ".")]


def _made_by(records: list[dict]) -> list[Block]:
    """The benchmark file (version, SHA-256), the ltrr versions and commits, the commands."""
    prov = [r.get("provenance", {}) for r in records]
    files = list(dict.fromkeys((r["benchmark"], r["benchmark_version"], p.get("benchmark_file"),
                                p.get("benchmark_sha256")) for r, p in zip(records, prov)))
    versions = list(dict.fromkeys(str(p.get("ltrr_version")) for p in prov))
    commits = list(dict.fromkeys(
        f"`{str(g['commit'])[:12]}`" + (" (uncommitted changes)" if g.get("dirty") else "")
        for g in (p.get("git") or {} for p in prov) if g.get("commit")))
    text = "; ".join(f"Benchmark `{name}` version {version}, file `{file}` (SHA-256 `{sha}`)"
                     for name, version, file, sha in files)
    text += f"; ltrr {', '.join(versions)}"
    text += f", git commit {', '.join(commits)}." if commits else "."
    locked = environment_text(records)
    if locked:
        text += " " + locked
    out: list[Block] = [Paragraph(text)]
    commands = [c for c in dict.fromkeys(p.get("command") for p in prov) if c]
    if commands:
        out += [Paragraph("Made by:"), Code(commands)]
    return out


def environment_text(records: list[dict]) -> str | None:
    """Whether the records were made in the locked environment (their
    ``provenance.environment``, :mod:`ltrr.results.environment`): None when no record says
    (records made before they did), so older leaderboards rebuild unchanged."""
    from ltrr.results.environment import differs_text

    envs = [(r.get("provenance") or {}).get("environment") for r in records]
    said = [e for e in envs if isinstance(e, dict)]
    if not said:
        return None
    locks = list(dict.fromkeys(f"`{e['lock']}`, SHA-256 `{str(e.get('lock_sha256'))[:12]}`"
                               for e in said if e.get("lock")))
    where = f" ({'; '.join(locks)})" if locks else ""
    locked = sum(e.get("locked") is True for e in said)
    if locked == len(records):
        return f"Every record was made in the locked environment{where}."
    parts = [f"{locked} of {len(records)} records were made in the locked environment{where}"]
    no_lock = sum(not e.get("lock") for e in said)
    if no_lock:
        parts.append(f"{no_lock} where no lock file was found")
    if len(said) < len(records):
        parts.append(f"{len(records) - len(said)} do not say")
    differs: dict[str, list] = {}
    for e in said:
        for name, pair in sorted((e.get("differs") or {}).items()):
            if isinstance(pair, list) and len(pair) == 2:
                differs.setdefault(name, pair)
    if differs:
        parts.append("installed versions that differed from the lock: "
                     + differs_text(dict(sorted(differs.items()))))
    return "; ".join(parts) + "."


def main_table(table: pd.DataFrame) -> Table:
    """Per policy, each column's mean and 95% interval, the best entry of each marked."""
    best = best_entries(table)
    columns = [m.name for m in columns_of(table)]
    out = Table("leaderboard", ["policy"] + [label_of(k) for k in columns])
    for _, row in table.iterrows():
        out.rows.append([Cell(str(row["policy"]))] + [
            Cell(_fmt(row[k], row[f"{k}_low"], row[f"{k}_high"]), float(row[k]),
                 row["policy"] in best.get(k, ())) for k in columns])
    return out


def permutation_note(seeds: list[int], tests: int,
                     power: Callable[[int], str] = "2^{}".format) -> str:
    """How the permutation p-values of ``tests`` comparisons over ``seeds`` seeds each were
    computed, with the smallest p-value each method can give, raw and after Holm's correction
    (``tests`` times it): exact up to :data:`~ltrr.evaluation.intervals.EXACT_PERMUTATION_SEEDS`
    seeds (floor ``2/2^n``, ``n`` the fewest seeds of any comparison), Monte Carlo beyond (its
    number of random sign flips and seed; floor ``2/(resamples + 1)``). ``power`` writes
    ``2^n`` (LaTeX needs math mode)."""
    fewest, most = min(seeds), max(seeds)
    floor, sampled = permutation_floor(fewest), permutation_floor(most)
    exact = (f"2/{power(fewest)} = {floor:.2g} "
             f"({min(1.0, tests * floor):.2g} after correction)")
    monte_carlo = (f"{PERMUTATION_RESAMPLES:,} random sign flips drawn with seed "
                   f"{PERMUTATION_SEED}, smallest possible p 2/{PERMUTATION_RESAMPLES + 1:,} = "
                   f"{sampled:.2g} ({min(1.0, tests * sampled):.2g} after correction)")
    if most <= EXACT_PERMUTATION_SEEDS:
        return f"the exact permutation test, whose smallest possible p is {exact}"
    if fewest > EXACT_PERMUTATION_SEEDS:
        return (f"the permutation test by Monte Carlo (exact only up to "
                f"{EXACT_PERMUTATION_SEEDS} seeds): {monte_carlo}")
    return (f"the permutation test, exact for the comparisons over at most "
            f"{EXACT_PERMUTATION_SEEDS} seeds (smallest possible p {exact}) and by Monte "
            f"Carlo over more ({monte_carlo})")


def _tests_blocks(tests: list[dict]) -> list[Block]:
    if not tests:
        return []
    seeds = [t["seeds"] for t in tests]
    # the fewest seeds of any comparison (its floor is the table's), a range where the
    # comparisons do not all use the same method
    mixed = min(seeds) <= EXACT_PERMUTATION_SEEDS < max(seeds)
    counts = f"{min(seeds)}-{max(seeds)}" if mixed else f"{min(seeds)}"
    table = Table("tests", ["policy", "vs", "metric", "mean diff", "t p", "permutation p",
                            "topics", "topic mean diff", "topic t p", "95% intervals disjoint"])
    for t in tests:
        table.rows.append([
            Cell(t["policy"]), Cell(t["rival"]), Cell(t["metric"]),
            Cell(f"{t['mean_diff']:+.4f}", t["mean_diff"]),
            Cell(f"{format_p(t['t_pvalue_holm'])} ({format_p(t['t_pvalue'])})", t["t_pvalue_holm"]),
            Cell(f"{format_p(t['permutation_pvalue_holm'])} ({format_p(t['permutation_pvalue'])})",
                 t["permutation_pvalue_holm"]),
            Cell(str(t["topics"]), t["topics"]),
            Cell(f"{t['topic_mean_diff']:+.4f}", t["topic_mean_diff"]),
            Cell(f"{format_p(t['topic_t_pvalue_holm'])} ({format_p(t['topic_t_pvalue'])})",
                 t["topic_t_pvalue_holm"]),
            Cell("yes" if t["intervals_disjoint"] else "no")])
    return [Paragraph(
        f"Paired comparisons (best learning policy by {label_of(HEADLINE)} vs baselines; a "
        "policy with more feature groups vs the same policy with fewer"
        + ("; LinUCB vs the supervised router, ranked the same way" if any(
            t["supervised"] for t in tests) else "") + "), "
        f"{len(tests)} tests per column, p-values Holm-Bonferroni corrected within "
        f"each column (raw p in parentheses). By seed ({counts} seeds): paired t-test, and "
        f"{permutation_note(seeds, len(tests))}. By topic: "
        "paired t-test over topics of per-topic means (each topic's mean over the "
        "steps and seeds that asked it; no floor)."), table]


def terminal_summary(records: list[dict], order: list[str] | None = None,
                     topics: dict | None = None) -> str:
    """What ``ltrr run`` prints when it ends, for a terminal: the main columns (mean [95%
    interval] over seeds of each column the registry marks ``terminal``; cost only when some
    run paid any) with each policy's tuned setting, then the Holm-corrected paired
    tests in one line each. Every column, the tuning scores and the test details are in
    ``LEADERBOARD.md`` (:func:`markdown`), made from the same records."""
    table = summary(records, order)
    r0 = records[0]
    chosen = {r["policy"]: (r.get("tuning") or {}).get("chosen") for r in records}
    columns = [(m.name, m.label) for m in columns_of(table)
               if m.terminal == "always" or (m.terminal == "nonzero" and table[m.name].any())]
    head = ["policy", "tuned"] + [name for _, name in columns]
    rows = [[str(row["policy"]),
             ", ".join(f"{k}={v}" for k, v in (chosen.get(row["policy"]) or {}).items())]
            + [_fmt(row[k], row[f"{k}_low"], row[f"{k}_high"]) for k, _ in columns]
            for _, row in table.iterrows()]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    seeds = sorted({r["seed"] for r in records})
    out = [f"{r0['benchmark']} (version {r0.get('benchmark_version', '?')}): {len(seeds)} seeds x "
           f"{r0['stream_length']} queries, budget {r0['budget']}"
           + (f", {r0['users']} users paying {r0['reward_name']}" if "users" in r0 else "")
           + "; mean [95% t-interval] over seeds", "", line(head), *[line(r) for r in rows]]
    tests = comparisons(records, table, topics)
    if tests:
        out += ["", "Paired tests, Holm-corrected p (by seed: t-test; by topic: t-test):"]
        for t in tests:
            by_topic = (f"; by topic {t['topic_mean_diff']:+.4f}, "
                        f"p {format_p(t['topic_t_pvalue_holm'])}") if t["topics"] else ""
            out.append(f"  {t['policy']} vs {t['rival']}, {t['metric']}: "
                       f"{t['mean_diff']:+.4f}, p {format_p(t['t_pvalue_holm'])}{by_topic}")
    return "\n".join(out) + "\n"


def title_of(records: list[dict]) -> str:
    """A leaderboard's title, from its records' benchmark name."""
    return f"{records[0]['benchmark']} leaderboard" if records else "leaderboard"


def sections(records: list[dict], order: list[str] | None = None,
             topics: dict | None = None) -> list[Block]:
    """The leaderboard's blocks (rows in ``order``: the benchmark's policy order), a pure
    function of the records: the benchmark file, versions and commands are read from their
    provenance.

    ``topics`` maps ``(policy label, seed)`` to that run's per-topic table, for the
    topic-level tests (left out when absent).
    """
    table = summary(records, order)
    blocks: list[Block] = []
    if records:
        blocks += _setting(records) + _training_overlap(records) + _made_by(records)
    blocks.append(main_table(table))
    blocks += _tuning_blocks(records, list(table["policy"]) if len(table) else [])
    blocks += factorial(records, order)
    blocks += _tests_blocks(comparisons(records, table, topics))
    return blocks


def markdown(records: list[dict], title: str, order: list[str] | None = None,
             topics: dict | None = None) -> str:
    """The leaderboard as Markdown (``LEADERBOARD.md``): see :func:`sections`."""
    return to_markdown(title, sections(records, order, topics))
