"""The leaderboard for other tools: a CSV (one row per policy) and a LaTeX table for a paper.

CSV: ``policy``, ``policy_name``, ``ranker``, ``seeds``, then ``<metric>``, ``<metric>_low``,
``<metric>_high`` (mean and 95% t-interval over seeds) for every leaderboard column the
records have (:func:`ltrr.evaluation.registry.shown`), then the benchmark's name, version and
file SHA-256, so a copied CSV still says where it came from.

LaTeX: a ``table`` environment with a booktabs ``tabular`` (``\\toprule``, ``\\midrule``,
``\\bottomrule``; it needs ``\\usepackage{booktabs}`` and ``graphicx``, for the
``\\resizebox`` that fits the many columns to the text width), each cell the mean with its
interval in small type, the best entry of each ranked column in bold (as on the Markdown
leaderboard), and a second table with the paired tests and their Holm-corrected p-values, its
caption saying how the permutation test was computed (exact or Monte Carlo) and its floor.
Labels are escaped, so ``single:fuzzy`` or ``lin_epsilon_greedy`` typeset as written.
"""

from __future__ import annotations

import io
import math
import re

from ltrr.results.leaderboard import (best_entries, columns_of, comparisons, environment_text,
                                      permutation_note, ranker_of, summary)

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def csv_text(records: list[dict], order: list[str] | None = None) -> str:
    """The leaderboard as CSV text: see the module docstring for the columns."""
    table = summary(records, order)
    rankers = {r["policy"]: ranker_of(r) for r in records}
    table.insert(2, "ranker", table["policy"].map(rankers))
    keep = ["policy", "policy_name", "ranker", "seeds"] + \
        [f"{m.name}{end}" for m in columns_of(table) for end in ("", "_low", "_high")]
    table = table[keep]
    if records:
        r0 = records[0]
        table = table.assign(benchmark=r0["benchmark"],
                             benchmark_version=r0["benchmark_version"],
                             benchmark_sha256=r0["provenance"]["benchmark_sha256"])
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def is_number(value: float, big: bool) -> str:
    if math.isnan(value):
        return "--"
    return f"{value:.1f}" if big else f"{value:.3f}"


def _latex_cell(mean: float, low: float, high: float, best: bool) -> str:
    big = max(abs(mean) if not math.isnan(mean) else 0, abs(high) if not math.isnan(high) else 0) >= 100
    text = is_number(mean, big)
    text = rf"\textbf{{{text}}}" if best else text
    if not math.isnan(low):
        text += rf" {{\scriptsize[{is_number(low, big)}, {is_number(high, big)}]}}"
    return text


def latex_text(records: list[dict], order: list[str] | None = None,
               topics: dict | None = None) -> str:
    """The leaderboard and its paired tests as LaTeX tables (``topics``: the per-topic
    tables, as for :func:`~ltrr.results.leaderboard.markdown`)."""
    table = summary(records, order)
    best = best_entries(table)
    columns = columns_of(table)
    r0 = records[0]
    name, version = latex_escape(r0["benchmark"]), latex_escape(r0["benchmark_version"])
    sha = r0["provenance"]["benchmark_sha256"]
    seeds = sorted({r["seed"] for r in records})
    versions = ", ".join(dict.fromkeys(str(r["provenance"]["ltrr_version"]) for r in records))
    locked = environment_text(records)
    lines = [f"% ltrr leaderboard of benchmark {r0['benchmark']} version "
             f"{r0['benchmark_version']}, file {r0['provenance']['benchmark_file']} "
             f"(SHA-256 {sha}), ltrr {versions}."
             + (f" {locked.replace('`', '')}" if locked else ""),
             r"% Needs \usepackage{booktabs} and \usepackage{graphicx}.",
             r"\begin{table*}[t]", r"\centering",
             rf"\caption{{Benchmark \texttt{{{name}}} (version {version}): mean over "
             f"{len(seeds)} seeds with 95\\% t-interval. Bold: the best mean per column, the "
             r"oracle aside. Benchmark file SHA-256 \texttt{" + sha[:12] + r"}.}",
             rf"\label{{tab:ltrr-{_label(r0['benchmark'])}}}",
             r"\resizebox{\textwidth}{!}{%",
             r"\begin{tabular}{l" + "r" * len(columns) + "}", r"\toprule",
             " & ".join(["policy"] + [latex_escape(m.label) for m in columns]) + r" \\",
             r"\midrule"]
    for _, row in table.iterrows():
        values = [_latex_cell(row[m.name], row[f"{m.name}_low"], row[f"{m.name}_high"],
                              row["policy"] in best.get(m.name, ())) for m in columns]
        lines.append(" & ".join([latex_escape(row["policy"])] + values) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table*}"]
    lines += _latex_tests(comparisons(records, table, topics), name, _label(r0["benchmark"]))
    return "\n".join(lines) + "\n"


def _label(text: str) -> str:
    """``text`` made safe for a ``\\label`` key."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text)


def _latex_tests(tests: list[dict], name: str, label: str) -> list[str]:
    """The paired tests: by seed (t-test, permutation test, the caption saying whether exact or
    Monte Carlo and its smallest possible p) and by topic (t-test)."""
    if not tests:
        return []

    def p(value: float) -> str:
        if math.isnan(value):
            return "--"
        return "$<10^{-300}$" if value == 0 else f"{value:.2g}"

    lines = ["", r"\begin{table}[t]", r"\centering",
             rf"\caption{{Benchmark \texttt{{{name}}}: paired comparisons by seed and by topic, "
             f"{len(tests)} tests per column, p-values Holm-Bonferroni corrected within each "
             f"column. Permutation $p$: "
             f"{permutation_note([t['seeds'] for t in tests], len(tests), '$2^{{{}}}$'.format)}"
             r".}", rf"\label{{tab:ltrr-{label}-tests}}",
             r"\begin{tabular}{lllrrrr}", r"\toprule",
             r"policy & vs & metric & mean diff & $t$-test $p$ & permutation $p$ & "
             r"topic $t$-test $p$ \\",
             r"\midrule"]
    for t in tests:
        lines.append(" & ".join([latex_escape(t["policy"]), latex_escape(t["rival"]),
                                 latex_escape(t["metric"]), f"{t['mean_diff']:+.4f}",
                                 p(t["t_pvalue_holm"]), p(t["permutation_pvalue_holm"]),
                                 p(t["topic_t_pvalue_holm"])])
                     + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return lines

