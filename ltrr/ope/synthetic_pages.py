"""Logged pages with a known truth, for tests and examples of ``ltrr ope --pages``.

A tiny world: five items with fixed attractiveness (probability of a click when examined),
pages of three, users who examine position k with a fixed probability (the position-based
model), and a Plackett-Luce logging ranker over fixed item scores at temperature 1
(:mod:`ltrr.kernel.stochastic`). Every logged probability is exact, and a ranker's true
value (expected clicks per page) is the sum over its page of examination x attractiveness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.kernel.stochastic import PlackettLuce, position_marginals, prefix_probabilities

EXAMINATION = np.array([1.0, 0.6, 0.3])  # per position
ATTRACTION = np.array([0.9, 0.5, 0.3, 0.2, 0.05])  # P(click | examined), per item
SCORES = np.array([0.1, 1.0, -0.5, 0.4, 0.0])  # the logging ranker's, per item
ITEMS = [f"d{i}" for i in range(len(ATTRACTION))]


def true_value(page: list[str]) -> float:
    """Expected clicks of a deterministic ranker showing ``page`` (item ids, best first)."""
    return float((EXAMINATION[:len(page)] * ATTRACTION[[ITEMS.index(d) for d in page]]).sum())


def page_log(n_pages: int, seed: int) -> pd.DataFrame:
    """``n_pages`` logged pages (one row per page and position, obp's slate columns and
    ``pscore_positions``), clicks drawn by the position-based model."""
    rng = np.random.default_rng([seed, 0x9A6E])
    logits = PlackettLuce(1.0).logits(SCORES)
    marginals = position_marginals(logits, 3)
    shown = np.argsort(-(logits + rng.gumbel(size=(n_pages, len(logits)))), axis=1)[:, :3]
    prefix = prefix_probabilities(logits, shown)
    clicks = rng.random((n_pages, 3)) < EXAMINATION * ATTRACTION[shown]
    return pd.DataFrame({
        "slate_id": np.repeat(np.arange(n_pages), 3), "position": np.tile(np.arange(3), n_pages),
        "action": np.asarray(ITEMS)[shown.ravel()], "reward": clicks.ravel().astype(int),
        "pscore": np.repeat(prefix[:, -1], 3), "pscore_cascade": prefix.ravel(),
        "pscore_item_position": marginals[shown, np.arange(3)].ravel(),
        "pscore_positions": list(marginals[shown.ravel()])})
