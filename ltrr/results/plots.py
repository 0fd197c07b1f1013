"""Plots of a benchmark's results: cumulative expected regret against the oracle.

One line per policy (mean over seeds) with a 95% t-interval band, from the regret curve
checkpoints stored in each run record. The oracle (zero regret by definition) is left out.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import stats


def regret_plot(records: list[dict], path: Path, title: str,
                order: list[str] | None = None) -> None:
    """Write the regret plot PNG (atomically); lines in ``order`` (the benchmark's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    present = list(dict.fromkeys(r["policy"] for r in records))
    ordered = [lab for lab in (order or []) if lab in present] + \
        [lab for lab in present if lab not in (order or [])]
    labels = [lab for lab in ordered
              if not any(r["policy_name"] == "oracle" for r in records if r["policy"] == lab)]
    cmap = plt.get_cmap("tab20")
    for i, label in enumerate(labels):
        runs = [r for r in records if r["policy"] == label]
        steps = np.asarray(runs[0]["curves"]["steps"])
        curves = np.array([r["curves"]["regret_oracle"] for r in runs])
        mean = curves.mean(axis=0)
        ax.plot(steps, mean, label=label, color=cmap(i % 20), lw=1.5)
        if len(runs) > 1:
            half = stats.t.ppf(0.975, len(runs) - 1) * stats.sem(curves, axis=0)
            ax.fill_between(steps, mean - half, mean + half, color=cmap(i % 20), alpha=0.2)
    ax.set_xlabel("interaction (query of the stream)")
    ax.set_ylabel("cumulative expected regret vs oracle (clicks)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    tmp = Path(path).with_name(f".{Path(path).stem}.tmp-{os.getpid()}.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
