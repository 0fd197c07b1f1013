"""Replay of learning policies (`--policy learn:NAME`): unbiased for the learner's value over its
first N decisions on uniform and (by rejection sampling) non-uniform logs, and clear errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.ope import replay, synthetic
from ltrr.ope.validation import to_logged_data

WORLD = synthetic.make_world()
UNIFORM = dataclasses.replace(WORLD, logging=np.full(WORLD.q.shape, 0.25))


def logs_of(frame: pd.DataFrame, **options):
    return to_logged_data(frame, "logs.csv", reward_range=(0.0, 1.0), needs_exploration=False,
                          min_rows=1, **options)


def on_policy_value(name: str, params: dict, n: int, seed: int) -> float:
    """The learner's exact expected reward per step over its first ``n`` on-policy decisions."""
    learner = replay.build_learner(name, params, logs_of(synthetic.generate(WORLD, 10, 0)), seed)
    _, expected = synthetic.run_logger(WORLD, learner, n, seed + 10_000)
    return float(expected.mean())


@pytest.mark.parametrize(("world", "rows", "name", "params"), [
    (UNIFORM, 2000, "epsilon_greedy", {"epsilon": 0.2}),
    (UNIFORM, 2000, "linucb", {"alpha": 0.5}),
    (WORLD, 6000, "linucb", {"alpha": 0.5}),  # softmax logger: rejection-sampling replay
], ids=["uniform-epsilon_greedy", "uniform-linucb", "softmax-linucb"])
def test_replay_is_unbiased_for_the_learners_first_decisions(world, rows: int, name: str,
                                                            params: dict) -> None:
    """Over 40 logs, replay's estimate minus the learner's on-policy value over as many
    decisions as replay accepted averages to zero (within three standard errors), and the
    t-interval covers the learner's value along its replay path (V_log) at about 95%."""
    diffs, covered, accepted = [], 0, []
    for seed in range(40):
        frame = synthetic.generate(world, rows, seed)
        logs = logs_of(frame)
        result = replay.evaluate(logs, name, params, seed=seed)
        n = result.n_accepted
        accepted.append(n / rows)
        diffs.append(result.value - on_policy_value(name, params, n, seed))
        types = frame["user_type"].to_numpy()
        v_log = WORLD.expected[types, result.proposals].mean()
        covered += result.ci[0] <= v_log <= result.ci[1]
        assert result.rate == pytest.approx(logs.propensity.min())
    diffs = np.array(diffs)
    assert abs(diffs.mean()) <= 3 * diffs.std(ddof=1) / np.sqrt(len(diffs)), diffs.mean()
    assert covered >= 34  # 95% of 40 is 38; three binomial standard errors below is 34.1
    if world is UNIFORM:  # every row is accepted with probability 1 / K
        assert np.mean(accepted) == pytest.approx(0.25, abs=0.01)


def test_replay_accepts_exactly_the_matching_rows_on_uniform_logs() -> None:
    frame = synthetic.generate(UNIFORM, 1000, seed=3)
    logs = logs_of(frame)
    result = replay.evaluate(logs, "ucb1", {}, seed=0)
    np.testing.assert_array_equal(result.accepted, result.proposals == logs.action)
    assert result.value == pytest.approx(logs.reward[result.accepted].mean())
    assert result.method == "replay (uniform logs; Li et al. 2011)"
    again = replay.evaluate(logs_of(frame), "ucb1", {}, seed=0)
    assert again.value == result.value and (again.proposals == result.proposals).all()


def write(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "logs.csv"
    frame.drop(columns="user_type").to_csv(path, index=False)
    return str(path)


def cli(tmp_path, capsys, frame: pd.DataFrame, *args: str):
    path = write(tmp_path, frame)
    code = main(["ope", path, *args])
    out, err = capsys.readouterr()
    return code, out, err.replace(path, "logs.csv")


def test_cli_replay_record(tmp_path, capsys) -> None:
    frame = synthetic.generate(UNIFORM, 800, seed=1)
    code, out, _ = cli(tmp_path, capsys, frame, "--policy", "learn:lints:v=0.3", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["learner"] == "lints" and doc["params"]["v"] == 0.3
    assert doc["method"] == "replay (uniform logs; Li et al. 2011)"
    assert doc["acceptance_probability"] == pytest.approx(0.25)
    assert 150 <= doc["rows_accepted"] <= 250 and doc["rows"] == 800
    est = doc["estimates"]["replay"]
    assert est["ci_lower"] < est["value"] < est["ci_upper"]
    code, out, _ = cli(tmp_path, capsys, frame, "--policy", "learn:lints:v=0.3")
    assert f"accepted {doc['rows_accepted']} of 800 rows: the estimate is the learner's value over " \
           f"its first {doc['rows_accepted']} decisions" in out


def test_uniform_logs_without_propensities_are_replayed_with_a_note(tmp_path, capsys) -> None:
    frame = synthetic.generate(UNIFORM, 800, seed=2).drop(columns="propensity")
    code, out, _ = cli(tmp_path, capsys, frame, "--policy", "learn:epsilon_greedy", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["columns"]["propensity"] is None
    assert doc["notes"][0].startswith("no propensity column: the logs are taken as uniform-random "
                                      "(action counts are consistent with uniform, chi-square p = ")


@pytest.mark.parametrize(("frame", "args", "message"), [
    (synthetic.generate(WORLD, 800, seed=2).drop(columns="propensity"), ["--policy", "learn:linucb"],
     "logs.csv: no propensity column ('propensity' or obp's 'pscore') and the logged actions are "
     "not uniform (chi-square test against uniform: p = {p}); replay on non-uniform logs needs "
     "the logging propensities: add them as column 'propensity' or map one with "
     "--propensity-column NAME"),
    (synthetic.generate(WORLD, 800, seed=2).assign(propensity=1.0), ["--policy", "learn:linucb"],
     "logs.csv: column 'propensity': every propensity is 1 (a deterministic logging policy); "
     "replay needs a logging policy that tries every action"),
    (synthetic.generate(UNIFORM, 800, seed=2), ["--policy", "learn:oracle"],
     "--policy learn:oracle: unknown learning policy 'oracle'; use one of epsilon_greedy, ucb1, "
     "thompson, exp3, linucb, lints, lin_epsilon_greedy"),
    (synthetic.generate(UNIFORM, 800, seed=2), ["--policy", "learn:linucb:beta=2"],
     "policy 'linucb': unknown param 'beta' (known: alpha)"),
    (synthetic.generate(UNIFORM, 800, seed=2), ["--policy", "learn:linucb:alpha"],
     "--policy learn:linucb:alpha: hyper-parameters must be KEY=VALUE, got 'alpha'"),
    (synthetic.generate(UNIFORM, 800, seed=2), ["--policy", "learn:linucb", "--estimators", "ipw"],
     "--estimators: not used by --policy learn:linucb (a learning policy is evaluated by replay)"),
    (synthetic.generate(UNIFORM, 800, seed=2).assign(
        action_set=["plan0|plan1|plan2|plan3"] * 799 + ["plan0|plan1|plan2"],
        action=["plan0"] * 800), ["--policy", "learn:linucb", "--min-rows", "1"],
     "logs.csv: column 'action_set': replay needs every action available at every row (a learning "
     "policy chooses among all 4); 1 rows offer fewer"),
    (synthetic.generate(UNIFORM, 800, seed=2).assign(propensity=np.r_[[1e-4], np.full(799, 0.25)]),
     ["--policy", "learn:linucb"],
     "logs.csv: replay of linucb accepted {n} of 800 rows (acceptance probability 0.0001 per row); "
     "too few for an estimate"),
], ids=["non-uniform without propensities", "deterministic logger", "not a learner", "bad param",
        "param without value", "estimators with learn", "varying action sets", "too few accepted"])
def test_replay_bad_input_exits_2(tmp_path, capsys, frame, args, message: str) -> None:
    code, out, err = cli(tmp_path, capsys, frame, *args)
    assert code == 2 and out == ""
    prefix = "ltrr ope: error: "
    assert err.startswith(prefix) and err.endswith("\n")
    text = err[len(prefix):-1]
    if "{p}" in message:
        head, tail = message.split("{p}")
        assert text.startswith(head) and text.endswith(tail)
        assert float(text[len(head):-len(tail)]) < replay.UNIFORMITY_P
    elif "{n}" in message:
        head, tail = message.split("{n}")
        assert text.startswith(head) and text.endswith(tail) and int(text[len(head):-len(tail)]) < 2
    else:
        assert text == message


def test_replay_refuses_in_the_library_too() -> None:
    logs = logs_of(synthetic.generate(WORLD, 800, seed=2).drop(columns="propensity"),
                   propensity_required=False)
    with pytest.raises(InputError, match="replay on non-uniform logs needs the logging propensities"):
        replay.evaluate(logs, "linucb", {}, seed=0)
