"""The frontier of a budget x prices sweep: dominated points, who is on it, the files."""

from __future__ import annotations

import pandas as pd
import pytest

from ltrr.results.frontier import frontier_files, points


def record(policy: str, budget: int, seed: int, ndcg: float, latency: float,
           stage: str = "rrf", prices: str = "free") -> dict:
    return {"policy": policy, "policy_name": policy, "budget": budget, "seed": seed,
            "ranker": {"name": stage},
            "metrics": {"ndcg@10": ndcg, "reward": ndcg * 2, "latency_ms": latency,
                        "latency_p95_ms": latency * 1.5, "candidates_drawn": float(budget)},
            "provenance": {"variant": {"budget": budget, "cost": prices}}}


def sample() -> list[dict]:
    out = []
    for seed in range(3):
        e = 0.001 * seed
        out += [record("static_union", 10, seed, 0.50 + e, 20.0),
                record("static_union", 50, seed, 0.60 + e, 22.0),
                record("linucb", 10, seed, 0.55 + e, 5.0),  # dominates union@10
                record("linucb", 50, seed, 0.58 + e, 8.0),
                record("best_single", 10, seed, 0.40 + e, 1.0),  # fastest: on the frontier
                record("oracle", 50, seed, 0.90 + e, 3.0),  # a bound, never on it
                record("static_union", 10, seed, 0.45 + e, 25.0, prices="dear")]
    return out


def test_a_point_is_dominated_when_another_is_as_fast_and_as_good():
    table = points(sample())
    on = {(r["policy"], r["budget"], r["prices"]): r["frontier"] for _, r in table.iterrows()}
    assert on == {("static_union", 10, "free"): False, ("static_union", 50, "free"): True,
                  ("linucb", 10, "free"): True, ("linucb", 50, "free"): True,
                  ("best_single", 10, "free"): True, ("oracle", 50, "free"): False,
                  ("static_union", 10, "dear"): True}
    row = table[(table["policy"] == "linucb") & (table["budget"] == 10)].iloc[0]
    assert row["seeds"] == 3 and row["ndcg@10"] == pytest.approx(0.551)
    assert row["ndcg@10_low"] < 0.551 < row["ndcg@10_high"]


def test_the_frontier_files_are_the_table_the_summary_and_a_figure_per_stage(tmp_path):
    records = sample() + [record("linucb", 10, s, 0.7, 6.0, stage="lambdamart-qrels")
                          for s in range(3)]
    files = frontier_files(records, "music-frontier", "ltrr sweep x.toml")
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    names = sorted(files)
    assert names == ["FRONTIER.md", "frontier-lambdamart-qrels.png", "frontier-rrf.png",
                     "frontier.csv"]
    text = (tmp_path / "FRONTIER.md").read_text()
    assert "| rrf | free | best_single: 10; linucb: 10, 50; static_union: 50 |" in text
    assert "| rrf | dear | static_union: 10 |" in text
    assert "Made by `ltrr sweep x.toml`" in text
    csv = pd.read_csv(tmp_path / "frontier.csv")
    assert len(csv) == 8 and csv["frontier"].sum() == 6


def test_entries_of_one_policy_are_separate_points():
    """Two settings (labels) of one policy are two points, never averaged as more seeds."""
    records = []
    for seed in range(3):
        for label, ndcg, latency in (("linucb@alpha=0.1", 0.2, 10.0), ("linucb@alpha=1", 0.4, 20.0)):
            r = record(label, 10, seed, ndcg, latency)
            r["policy_name"] = "linucb"
            records.append(r)
    table = points(records).set_index("policy")
    assert table.loc["linucb@alpha=0.1", "seeds"] == 3
    assert table.loc["linucb@alpha=1", "ndcg@10"] == pytest.approx(0.4)
    assert table["frontier"].all()  # one is faster, the other better
