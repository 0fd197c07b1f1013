"""Checking a result record: each kind of damage gets one message naming file and field."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.results.records import RERUN_FIELDS, check_record, read_record

GOOD = {
    "benchmark": "tiny", "benchmark_version": "1", "benchmark_policies": ["linucb", "oracle"],
    "dataset": "beir:/x", "policy": "linucb", "policy_name": "linucb",
    "policy_params": {"alpha": 1.0}, "seed": 0, "stream_length": 10, "budget": 12,
    "plans": ["lexical:12"], "features": ["query"], "ranker": {"name": "rrf"},
    "metrics": {"reward": 1.0, "candidate_recall": 0.5, "any_relevant": 1.0,
                "ndcg@10": float("nan"), "regret_oracle": 2.0, "regret_best_fixed": -1.0,
                "regret_oracle_first_half": 1.0, "regret_oracle_second_half": 1.0,
                "candidates_drawn": 12.0, "arm_calls": 1.0, "cost": 0.0,
                "steps_without_relevant": 0, "probe_arm_calls": 0, "probe_candidates": 0,
                "probe_cost": 0.0},
    "curves": {"steps": [1, 10], "regret_oracle": [0.0, 2.0], "ndcg@10": [0.5]},
    "provenance": {"ltrr_version": "0.1.0", "benchmark_file": "b.toml",
                   "benchmark_sha256": "a" * 64, "command": None},
    "tuning": {"grid": {"alpha": [0.5, 1.0]}, "chosen": {"alpha": 1.0}, "seeds": [100],
               "metric": "reward", "means": [[{"alpha": 0.5}, 0.9], [{"alpha": 1.0}, 1.0]]},
}


def _set(record: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    target = record
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return record


@pytest.mark.parametrize("path, value, message", [
    ("benchmark_policies", KeyError, "field 'benchmark_policies': missing"),
    ("seed", -1, "field 'seed': is -1, expected an integer >= 0"),
    ("seed", "0", "field 'seed': is \"0\", expected an integer >= 0"),
    ("seed", True, "field 'seed': is true, expected an integer >= 0"),
    ("stream_length", 0, "field 'stream_length': is 0, expected an integer >= 1"),
    ("ranker", None, "field 'ranker': is null, expected a JSON object"),
    ("ranker.name", KeyError, "field 'ranker.name': missing"),
    ("metrics.ndcg@10", "0.5", "field 'metrics.ndcg@10': is \"0.5\", expected a number"),
    ("metrics.steps_without_relevant", 1.5,
     "field 'metrics.steps_without_relevant': is 1.5, expected an integer >= 0"),
    ("curves.regret_oracle", [0.0], "field 'curves.regret_oracle': has 1 points, "
                                    "'curves.steps' 2"),
    ("curves.steps", [1, "x"], "field 'curves.steps': is [1, \"x\"], expected a list of numbers"),
    ("provenance.benchmark_sha256", "abc",
     "field 'provenance.benchmark_sha256': is \"abc\", expected a SHA-256"),
    ("provenance.command", 3, "field 'provenance.command': is 3, expected a string or null"),
    ("tuning.chosen", {}, "field 'tuning.chosen': has no value for grid key 'alpha'"),
    ("tuning.means", [[{"alpha": 1.0}]], "field 'tuning.means': entry 0 is [{\"alpha\": 1.0}], "
                                         "expected [setting, mean score]"),
])
def test_each_damage_is_named(path, value, message):
    record = _set(copy.deepcopy(GOOD), path, value)
    with pytest.raises(InputError) as err:
        check_record(record, "r.json")
    assert str(err.value).startswith(f"r.json, {message}")


def test_a_good_record_passes_and_nan_is_a_number():
    check_record(copy.deepcopy(GOOD), "r.json")


def test_not_an_object():
    with pytest.raises(InputError, match=r"^r.json: expected a JSON object \(a result record\), "
                                         "got list$"):
        check_record([], "r.json")


def test_reading(tmp_path):
    path = tmp_path / "x-seed0.json"
    path.write_text("{\n  \"benchmark\": ")
    with pytest.raises(InputError, match=r"x-seed0.json: not valid JSON \(Expecting value at "
                                         r"line 2, column 16\)"):
        read_record(path)
    with pytest.raises(InputError, match="nope.json: no such file"):
        read_record(tmp_path / "nope.json")


def test_a_rerun_needs_fewer_fields(tmp_path):
    """``ltrr reproduce`` reads older records too: it needs only what a rerun uses."""
    record = copy.deepcopy(GOOD)
    for name in ("benchmark_policies", "features", "ranker", "tuning"):
        del record[name]
    path = tmp_path / "old-seed0.json"
    path.write_text(json.dumps(record))
    assert read_record(path, RERUN_FIELDS)["policy"] == "linucb"
    with pytest.raises(InputError, match="field 'benchmark_policies': missing"):
        read_record(path)


def test_the_tuning_table_gives_each_setting_an_interval_and_the_chosen_lead():
    """Each setting's mean and 95% t-interval over the tuning seeds, and the chosen setting's
    lead over the runner-up paired by tuning seed: a near-tie is marked as one."""
    from scipy import stats

    from ltrr.results.blocks import to_markdown
    from ltrr.results.leaderboard import _tuning_blocks

    values = {0.1: [1.00, 1.02, 0.99, 1.01, 1.03], 1.0: [1.01, 1.02, 1.00, 1.00, 1.03],
              2.0: [0.90, 0.95, 0.93, 0.91, 0.92]}
    tuning = {"grid": {"alpha": [0.1, 1.0, 2.0]}, "metric": "reward", "seeds": [7, 8, 9, 10, 11],
              "chosen": {"alpha": 1.0},
              "means": [[{"alpha": a}, float(np.mean(v))] for a, v in values.items()],
              "values": [[{"alpha": a}, v] for a, v in values.items()]}
    text = to_markdown("t", _tuning_blocks([{"policy": "linucb", "tuning": tuning}], ["linucb"]))
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values[2.0]), scale=stats.sem(values[2.0]))
    assert f"alpha=2.0: {np.mean(values[2.0]):.4f} [{low:.4f}, {high:.4f}]" in text
    diff = np.subtract(values[1.0], values[0.1])
    low, high = stats.t.interval(0.95, 4, loc=diff.mean(), scale=stats.sem(diff))
    assert f"{diff.mean():+.4f} [{low:+.4f}, {high:+.4f}] vs alpha=0.1 (a near-tie)" in text
    clear = {**tuning, "chosen": {"alpha": 1.0},
             "values": [[{"alpha": 1.0}, values[1.0]], [{"alpha": 2.0}, values[2.0]]]}
    text = to_markdown("t", _tuning_blocks([{"policy": "linucb", "tuning": clear}], ["linucb"]))
    assert "vs alpha=2.0 |" in text and "(a near-tie)" not in text
