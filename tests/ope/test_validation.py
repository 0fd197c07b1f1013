"""Every way logged data can be bad gets one exact message naming file, column and rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.ope import synthetic, target
from ltrr.ope.columns import ColumnMap
from ltrr.ope.validation import read_logs
from ltrr.ope.validation import to_logged_data

WORLD = synthetic.make_world()


def frame(n: int = 200) -> pd.DataFrame:
    return synthetic.generate(WORLD, n, seed=1)


def check(df: pd.DataFrame, **kwargs):
    options = {"reward_range": (0.0, 1.0), "needs_exploration": True, "min_rows": 100}
    options.update(kwargs)
    return to_logged_data(df, "logs.csv", **options)


def error_of(df: pd.DataFrame, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        check(df, **kwargs)
    return str(err.value)


def with_values(column: str, rows: list[int], value) -> pd.DataFrame:
    df = frame()
    if not isinstance(value, float) or column not in ("propensity", "reward") and not column.startswith("ctx"):
        df[column] = df[column].astype(object)
    df.loc[rows, column] = value
    return df


COLUMNS = "ctx_f0, ctx_f1, ctx_f2, action, propensity, reward, timestamp, action_set, user_type"
CASES = [
    ("missing column", frame().drop(columns="propensity"), {},
     "logs.csv: missing column 'propensity' or obp's 'pscore' (columns present: "
     f"{COLUMNS.replace('propensity, ', '')}); map yours with --propensity-column NAME"),
    ("misnamed column (hint)", frame().rename(columns={"propensity": "propensity_score"}), {},
     "logs.csv: missing column 'propensity' or obp's 'pscore' (did you mean 'propensity_score'? "
     "map it with --propensity-column propensity_score)"),
    ("misnamed column (typo)", frame().rename(columns={"reward": "rewards"}), {},
     "logs.csv: missing column 'reward' (did you mean 'rewards'? map it with --reward-column rewards)"),
    ("context column missing", frame(), {"columns": ColumnMap(context="ctx_f0,ctx_age")},
     f"logs.csv: missing column 'ctx_age' (named by --context) (columns present: {COLUMNS})"),
    ("too few rows", frame(50), {}, "logs.csv: 50 rows; off-policy estimates need at least 100"),
    ("NaN reward", with_values("reward", [3, 17], np.nan), {},
     "logs.csv: column 'reward': NaN or infinite values at rows 3, 17"),
    ("infinite context", with_values("ctx_f1", [5], np.inf), {},
     "logs.csv: column 'ctx_f1': NaN or infinite values at row 5"),
    ("non-numeric propensity", with_values("propensity", [2, 9], "high"), {},
     "logs.csv: column 'propensity': non-numeric values at rows 2, 9"),
    ("propensity outside (0, 1]", with_values("propensity", [3, 17, 42, 50, 60, 70, 80, 90], 1.5), {},
     "logs.csv: column 'propensity': values outside (0, 1] at rows 3, 17, 42 (and 5 more)"),
    ("zero propensity", with_values("propensity", [8], 0.0), {},
     "logs.csv: column 'propensity': values outside (0, 1] at row 8"),
    ("reward outside range", with_values("reward", [7], 2.0), {},
     "logs.csv: column 'reward': values outside the reward range [0, 1] at row 7"),
    ("reward below declared range", frame(), {"reward_range": (0.5, 3.0)},
     "logs.csv: column 'reward': values outside the reward range [0.5, 3] at rows "
     + ", ".join(str(r) for r in np.flatnonzero(frame()["reward"].to_numpy() < 0.5)[:3])
     + f" (and {(frame()['reward'] < 0.5).sum() - 3} more)"),
    ("action not in action set", with_values("action", [4], "plan9"), {},
     "logs.csv: column 'action': action not in the row's action_set at row 4"),
    ("missing action", with_values("action", [6], None), {},
     "logs.csv: column 'action': missing values at row 6"),
    ("missing action set", with_values("action_set", [0], None), {},
     "logs.csv: column 'action_set': missing values at row 0"),
    ("deterministic logger", frame().assign(propensity=1.0), {},
     "logs.csv: column 'propensity': every propensity is 1 (a deterministic logging policy); "
     "IPW, SNIPW, DR, SNDR, Switch-DR and DRos need a logging policy that explores; "
     "only DM (--estimators dm) can be used"),
    ("single action", frame().assign(action="plan0", action_set="plan0"), {},
     "logs.csv: column 'action': only one action (plan0); off-policy evaluation needs at least two"),
    ("negative position", frame().assign(position=[-1] + [0] * 199), {},
     "logs.csv: column 'position': values that are not non-negative integers at row 0"),
    ("fractional position", frame().assign(position=[0, 0.5] + [0] * 198), {},
     "logs.csv: column 'position': values that are not non-negative integers at row 1"),
    ("unreadable timestamp", frame().assign(timestamp=["2024-01-01"] * 199 + ["yesterday"]), {},
     "logs.csv: column 'timestamp': unreadable timestamps at row 199"),
]


@pytest.mark.parametrize(("case", "df", "kwargs", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_logs_message(case: str, df: pd.DataFrame, kwargs: dict, message: str) -> None:
    assert error_of(df, **kwargs) == message


def test_deterministic_logger_is_fine_for_dm_only() -> None:
    logs = check(frame().assign(propensity=1.0), needs_exploration=False)
    assert logs.n_rows == 200 and (logs.propensity == 1).all()


def test_valid_logs_become_arrays() -> None:
    df = frame()
    logs = check(df)
    assert logs.actions == ["plan0", "plan1", "plan2", "plan3"]
    np.testing.assert_array_equal(logs.action, df["action"].str[4:].astype(int))
    np.testing.assert_array_equal(logs.context, df[["ctx_f0", "ctx_f1", "ctx_f2"]].to_numpy())
    assert logs.available.all() and logs.len_list == 1 and logs.binary_reward


def test_integer_actions_keep_their_index_and_sets_restrict_availability() -> None:
    df = frame().assign(action=lambda d: d["action"].str[4:].astype(int) * 5)
    df["action_set"] = np.where(df["action"] == 15, "0|5|10|15", "0|5|10|15|20")
    logs = check(df)
    assert logs.actions == ["0", "5", "10", "15", "20"]
    assert logs.available[df["action"].to_numpy() == 15, 4].sum() == 0
    assert logs.available[df["action"].to_numpy() != 15, 4].all()


def test_ltrr_decision_logs_are_read_as_they_are(tmp_path) -> None:
    """The loop's Parquet decision log (list columns and all) needs no conversion."""
    df = frame()
    n = len(df)
    loop = pd.DataFrame({
        "step": np.arange(n), "qid": [f"q{i % 7}" for i in range(n)], "query": ["jazz piano"] * n,
        "ctx_query_len": df["ctx_f0"], "ctx_hour": df["ctx_f1"], "action": df["action"],
        "action_index": df["action"].str[4:].astype(int), "propensity": df["propensity"],
        "reward": df["reward"].astype(float), "clicks_total": df["reward"],
        "candidates_bm25": np.full(n, 10), "shown": [["d1", "d2"]] * n, "clicks": [["d1"]] * n,
        "timestamp": np.arange(n), "action_set": df["action_set"],
    })
    path = tmp_path / "decisions.parquet"
    loop.to_parquet(path)
    logs = read_logs(path)
    assert logs.context_names == ["ctx_query_len", "ctx_hour"]
    assert logs.n_rows == n and logs.actions == WORLD.actions


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_formats_read_the_same(tmp_path, suffix: str) -> None:
    df = frame()
    path = tmp_path / f"logs{suffix}"
    {".csv": lambda: df.to_csv(path, index=False), ".parquet": lambda: df.to_parquet(path),
     ".jsonl": lambda: df.to_json(path, orient="records", lines=True)}[suffix]()
    logs = read_logs(path)
    np.testing.assert_allclose(logs.propensity, df["propensity"])
    np.testing.assert_array_equal(logs.reward, df["reward"])


def test_unreadable_files(tmp_path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found$"):
        read_logs(tmp_path / "nope.csv")
    (tmp_path / "logs.xlsx").write_text("x")
    with pytest.raises(InputError) as err:
        read_logs(tmp_path / "logs.xlsx")
    assert str(err.value).endswith("logs.xlsx: unknown file type '.xlsx'; use .parquet, .csv or .jsonl")


def policy_error(tmp_path, table: pd.DataFrame) -> str:
    path = tmp_path / "policy.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        target.build(f"file:{path}", check(frame()))
    return str(err.value).replace(str(path), "policy.csv")


def test_policy_file_errors(tmp_path) -> None:
    uniform = pd.DataFrame(0.25, index=range(200), columns=WORLD.actions)
    assert policy_error(tmp_path, uniform.rename(columns={"plan3": "plan7"})) == (
        "policy.csv: column 'plan7': not an action in logs.csv (actions: plan0, plan1, plan2, plan3); "
        "use one column per action or the long format row, action, probability")
    assert policy_error(tmp_path, uniform.iloc[:150]) == (
        "policy.csv: 150 rows but logs.csv has 200; give one row per logged decision or a 'row' column")
    bad = uniform.copy()
    bad.loc[[4, 9], "plan0"] = 0.5
    assert policy_error(tmp_path, bad) == (
        "policy.csv: probabilities do not sum to 1 at logged rows 4, 9 (sums 1.25, 1.25; "
        "tolerance 0.001, sums within it are renormalised)")
    bad.loc[[4, 9], "plan0"] = -0.25
    assert policy_error(tmp_path, bad) == "policy.csv: column 'plan0': values outside [0, 1] or NaN at rows 4, 9"
    long = pd.DataFrame({"row": np.repeat(np.arange(200), 4), "action": WORLD.actions * 200,
                         "probability": 0.25})
    long.loc[5, "action"] = "planX"
    assert policy_error(tmp_path, long) == (
        "policy.csv: column 'action': actions not in the logs' action set at row 5")


def test_policy_file_wide_and_long_agree(tmp_path) -> None:
    logs = check(frame())
    probs = synthetic.target_policy(WORLD)[frame()["user_type"]]
    wide = pd.DataFrame(probs, columns=WORLD.actions)
    long = pd.DataFrame({"row": np.repeat(np.arange(200), 4), "action": WORLD.actions * 200,
                         "probability": probs.ravel()})
    wide.to_parquet(tmp_path / "wide.parquet")
    long.to_csv(tmp_path / "long.csv", index=False)
    a = target.build(f"file:{tmp_path / 'wide.parquet'}", logs).action_dist
    b = target.build(f"file:{tmp_path / 'long.csv'}", logs).action_dist
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a[:, :, 0], probs)


def test_cli_bad_logs_exit_2_and_write_nothing(tmp_path, capsys) -> None:
    df = with_values("propensity", [3, 17, 42, 50], 0.0)
    logs = tmp_path / "logs.csv"
    df.to_csv(logs, index=False)
    out = tmp_path / "out" / "result.json"
    code = main(["ope", str(logs), "--policy", "uniform", "--output", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (f"ltrr ope: error: {logs}: column 'propensity': values outside (0, 1] "
                   "at rows 3, 17, 42 (and 1 more)\n")
    assert not out.exists() and not out.parent.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--policy", "greedy"], "--policy 'greedy': unknown policy; use one of uniform, "
     "greedy-dm:MODEL[:EPSILON], ipw-learner:MODEL, file:PATH"),
    (["--policy", "greedy-dm:svm"], "--policy greedy-dm:svm: model must be one of logistic, lightgbm"),
    (["--policy", "uniform", "--estimators", "ipw,magic"],
     "--estimators: unknown estimator 'magic'; choose from dm, ipw, snipw, dr, sndr, switch-dr, dr-os"),
    (["--policy", "uniform", "--reward-range", "1"], "--reward-range must be LO,HI (e.g. 0,1), got '1'"),
    (["--policy", "greedy-dm:logistic", "--train-fraction", "1.5"],
     "--train-fraction must be in (0, 1), got 1.5"),
])
def test_cli_bad_arguments(tmp_path, capsys, args: list[str], message: str) -> None:
    logs = tmp_path / "logs.csv"
    frame().to_csv(logs, index=False)
    assert main(["ope", str(logs), *args]) == 2
    assert capsys.readouterr().err == f"ltrr ope: error: {message}\n"


def test_cli_json_output(tmp_path, capsys) -> None:
    logs = tmp_path / "logs.csv"
    frame().to_csv(logs, index=False)
    out = tmp_path / "result.json"
    assert main(["ope", str(logs), "--policy", "uniform", "--estimators", "ipw,dm",
                 "--n-bootstrap", "50", "--json", "--output", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert set(printed["estimates"]) == {"ipw", "dm"}
    assert printed["diagnostics"]["nonzero_weight_share"] == 1.0
    assert printed["logging_policy_value"] == pytest.approx(frame()["reward"].mean())
