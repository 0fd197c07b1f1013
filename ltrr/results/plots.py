"""Plots of a benchmark's results: cumulative expected regret against the oracle, and a
metric's learning curve over the stream.

One line per policy (mean over seeds) with a 95% t-interval band, from the curves stored in
each run record (regret checkpoints; a metric's means over 20 windows of the stream). The
oracle (zero regret by definition) is left out of the regret plot. Each function returns the
PNG's bytes (the same records give the same bytes); :mod:`ltrr.results.folder` writes them.
"""

from __future__ import annotations

import io

import numpy as np
from scipy import stats


def _ordered(records: list[dict], order: list[str] | None) -> list[str]:
    present = list(dict.fromkeys(r["policy"] for r in records))
    return [lab for lab in (order or []) if lab in present] + \
        [lab for lab in present if lab not in (order or [])]


def _lines(records: list[dict], labels: list[str], title: str, ylabel: str, series) -> bytes:
    """One line per label (mean over its runs' ``series(run) -> (x, y)``) with a 95% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    cmap = plt.get_cmap("tab20")
    for i, label in enumerate(labels):
        runs = [r for r in records if r["policy"] == label]
        x = np.asarray(series(runs[0])[0])
        curves = np.array([series(r)[1] for r in runs], dtype=float)
        mean = curves.mean(axis=0)
        ax.plot(x, mean, label=label, color=cmap(i % 20), lw=1.5)
        if len(runs) > 1:
            half = stats.t.ppf(0.975, len(runs) - 1) * stats.sem(curves, axis=0)
            ax.fill_between(x, mean - half, mean + half, color=cmap(i % 20), alpha=0.2)
    ax.set_xlabel("interaction (query of the stream)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="best")
    return png(fig)


def png(fig, dpi: float | None = None) -> bytes:
    """A finished figure's PNG bytes (laid out tightly, then closed): every ltrr figure ends
    here, so the same records give the same bytes."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **({} if dpi is None else {"dpi": dpi}))
    plt.close(fig)
    return buffer.getvalue()


def regret_plot(records: list[dict], title: str, order: list[str] | None = None) -> bytes:
    """The regret plot as PNG bytes; lines in ``order`` (the benchmark's)."""
    labels = [lab for lab in _ordered(records, order)
              if not any(r["policy_name"] == "oracle" for r in records if r["policy"] == lab)]
    reward = records[0].get("reward_name", "clicks") if records else "clicks"
    return _lines(records, labels, title, f"cumulative expected regret vs oracle ({reward})",
                  lambda r: (r["curves"]["steps"], r["curves"]["regret_oracle"]))


def curve_plot(records: list[dict], metric: str, title: str,
               order: list[str] | None = None) -> bytes:
    """``metric``'s mean over each of the stream's windows (its learning curve) as PNG
    bytes, one line per policy; x is the window's last query."""
    def series(r: dict):
        values = r["curves"][metric]
        n = r["stream_length"]
        return [round(n * (i + 1) / len(values)) for i in range(len(values))], values

    return _lines(records, _ordered(records, order), title,
                  f"{metric} (mean over windows of the stream)", series)
