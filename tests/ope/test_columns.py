"""Which column plays which role: obp's names, the mapping options, context columns that must
not be ignored silently, policy files written with rounded probabilities, and `--help`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import build_parser, main
from ltrr.errors import InputError
from ltrr.ope import synthetic
from ltrr.ope.columns import ColumnMap
from ltrr.ope.validation import to_logged_data

WORLD = synthetic.make_world()


def frame(n: int = 200) -> pd.DataFrame:
    return synthetic.generate(WORLD, n, seed=1).drop(columns="user_type")


def check(df: pd.DataFrame, **columns):
    return to_logged_data(df, "logs.csv", columns=ColumnMap(**columns), reward_range=(0.0, 1.0),
                          needs_exploration=True, min_rows=100)


def error_of(df: pd.DataFrame, **columns) -> str:
    with pytest.raises(InputError) as err:
        check(df, **columns)
    return str(err.value)


def run_cli(tmp_path, capsys, df: pd.DataFrame, *args: str) -> tuple[int, dict | str]:
    path = tmp_path / "logs.csv"
    df.to_csv(path, index=False)
    code = main(["ope", str(path), *args, "--n-bootstrap", "20", "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else err.replace(str(path), "logs.csv")


OBP_STYLE = frame().rename(columns={"ctx_f0": "x0", "ctx_f1": "x1", "ctx_f2": "x2",
                                    "propensity": "pscore"})
PRESENT = "x0, x1, x2, action, pscore, reward, timestamp, action_set"


@pytest.mark.parametrize(("case", "df", "columns", "message"), [
    ("context columns without a known prefix",
     frame().rename(columns={"ctx_f0": "age", "ctx_f1": "hour", "ctx_f2": "genre"}), {},
     "logs.csv: no context columns (none named ctx_* or x0, x1, ...; columns present: age, hour, "
     "genre, action, propensity, reward, timestamp, action_set); name them with --context a,b,c "
     "or --context PREFIX*, or pass --context none to evaluate without context"),
    ("a prefix that matches nothing", OBP_STYLE, {"context": "f*"},
     f"logs.csv: no column starts with 'f' (named by --context f*) (columns present: {PRESENT})"),
    ("a prefix given as a name", OBP_STYLE, {"context": "x"},
     "logs.csv: missing column 'x' (named by --context) (did you mean --context x*? 3 columns "
     "start with it)"),
    ("a mapped column that is absent", OBP_STYLE, {"propensity": "prob"},
     f"logs.csv: missing column 'prob' (named by --propensity-column) (columns present: {PRESENT})"),
    ("a mapped action column that is absent", OBP_STYLE, {"action": "item"},
     f"logs.csv: missing column 'item' (named by --action-column) (columns present: {PRESENT})"),
    ("one column in two roles", OBP_STYLE, {"reward": "pscore"},
     "logs.csv: one column plays two roles (action 'action', propensity 'pscore', reward 'pscore')"),
    ("context naming the reward", OBP_STYLE, {"context": "x0,reward"},
     "logs.csv: column 'reward' is named as context but is also the action, propensity or reward"),
    ("a bad value names the file's own column", OBP_STYLE.assign(pscore=[0.0] + [0.25] * 199), {},
     "logs.csv: column 'pscore': values outside (0, 1] at row 0"),
])
def test_column_messages(case: str, df: pd.DataFrame, columns: dict, message: str) -> None:
    assert error_of(df, **columns) == message


def test_no_context_columns_stops_the_cli(tmp_path, capsys) -> None:
    df = frame().rename(columns={"ctx_f0": "age", "ctx_f1": "hour", "ctx_f2": "genre"})
    code, err = run_cli(tmp_path, capsys, df, "--policy", "uniform")
    assert code == 2 and err.startswith("ltrr ope: error: logs.csv: no context columns (")
    code, doc = run_cli(tmp_path, capsys, df, "--policy", "uniform", "--context", "none")
    assert code == 0
    assert doc["columns"]["context"] == [] and doc["columns"]["context_rule"] == "none (--context none)"


def test_obp_names_go_in_as_they_are(tmp_path, capsys) -> None:
    """pscore and x0..xN need no renaming; the record says which columns were used, and the
    numbers equal those of the same log with ltrr's names."""
    code, doc = run_cli(tmp_path, capsys, OBP_STYLE, "--policy", "uniform")
    assert code == 0
    assert doc["columns"] == {"action": "action", "propensity": "pscore", "reward": "reward",
                              "context": ["x0", "x1", "x2"],
                              "context_rule": "obp-style x0..xN (default)"}
    code, ours = run_cli(tmp_path, capsys, frame(), "--policy", "uniform")
    assert ours["columns"]["context"] == ["ctx_f0", "ctx_f1", "ctx_f2"]
    assert doc["estimates"] == ours["estimates"]


def test_every_role_can_be_mapped(tmp_path, capsys) -> None:
    renamed = frame().rename(columns={"action": "item", "propensity": "p_logged", "reward": "clicked",
                                      "ctx_f0": "u_age", "ctx_f1": "u_hour", "ctx_f2": "genre"})
    code, doc = run_cli(tmp_path, capsys, renamed, "--policy", "uniform", "--action-column", "item",
                        "--propensity-column", "p_logged", "--reward-column", "clicked",
                        "--context", "u_*")
    assert code == 0
    assert doc["columns"] == {"action": "item", "propensity": "p_logged", "reward": "clicked",
                              "context": ["u_age", "u_hour"], "context_rule": "prefix u_* (--context)"}
    code, listed = run_cli(tmp_path, capsys, renamed, "--policy", "uniform", "--action-column",
                           "item", "--propensity-column", "p_logged", "--reward-column", "clicked",
                           "--context", "u_age,u_hour,genre")
    assert listed["columns"]["context"] == ["u_age", "u_hour", "genre"]
    code, ours = run_cli(tmp_path, capsys, frame(), "--policy", "uniform", "--estimators", "ipw,snipw")
    assert doc["estimates"]["ipw"] == ours["estimates"]["ipw"]


def test_obp_synthetic_logs_match_obp(tmp_path, capsys) -> None:
    """A log written straight from obp's SyntheticBanditDataset gives obp's own IPW."""
    from ltrr.compat import obp

    obp()
    from obp.dataset import SyntheticBanditDataset, logistic_reward_function

    dataset = SyntheticBanditDataset(n_actions=4, dim_context=3, random_state=3,
                                     reward_function=logistic_reward_function)
    fb = dataset.obtain_batch_bandit_feedback(n_rounds=2000)
    df = pd.DataFrame(fb["context"], columns=[f"x{i}" for i in range(3)])
    df["action"], df["reward"], df["pscore"] = fb["action"], fb["reward"], fb["pscore"]
    code, doc = run_cli(tmp_path, capsys, df, "--policy", "uniform", "--estimators", "ipw")
    assert code == 0 and doc["columns"]["propensity"] == "pscore"
    uniform = np.full((2000, 4, 1), 0.25)
    expected = obp().ope.InverseProbabilityWeighting().estimate_policy_value(
        reward=fb["reward"], action=fb["action"], pscore=fb["pscore"], action_dist=uniform,
        position=np.zeros(2000, dtype=int))
    assert doc["estimates"]["ipw"]["value"] == pytest.approx(expected, rel=1e-12)


def test_policy_file_rounded_to_six_decimals(tmp_path, capsys) -> None:
    """16 actions at 6 decimals sum to 1 +- 8e-6: accepted, renormalised, and said so."""
    rng = np.random.default_rng(0)
    n, k = 200, 16
    df = pd.DataFrame(rng.normal(size=(n, 2)), columns=["ctx_a", "ctx_b"])
    df["action"] = rng.integers(k, size=n)
    df["propensity"] = 1 / k
    df["reward"] = rng.integers(2, size=n)
    probs = rng.dirichlet(np.ones(k), size=n)
    policy = tmp_path / "policy.csv"
    pd.DataFrame(probs, columns=[str(a) for a in range(k)]).to_csv(policy, index=False, float_format="%.6f")
    sums = pd.read_csv(policy).sum(axis=1)
    assert (sums != 1).any() and (abs(sums - 1) < 1e-5).all()  # the rounding the file carries
    code, doc = run_cli(tmp_path, capsys, df, "--policy", f"file:{policy}", "--estimators", "ipw")
    assert code == 0
    renormalised = int((abs(sums - 1) > 1e-9).sum())
    assert doc["notes"] == [f"policy file {policy}: {renormalised} rows renormalised (sums off 1 by "
                            f"up to {abs(sums - 1).max():.2g}, within the tolerance 0.001)"]
    exact = float(np.mean(probs[np.arange(n), df["action"]] * k * df["reward"]))
    assert doc["estimates"]["ipw"]["value"] == pytest.approx(exact, abs=1e-4)


def test_policy_file_mass_on_unavailable_actions(tmp_path) -> None:
    from ltrr.ope import target

    df = frame()
    df["action_set"] = np.where(np.arange(200) % 2 == 0, "plan0|plan1|plan2|plan3", "plan0|plan1|plan2")
    df.loc[(np.arange(200) % 2 == 1) & (df["action"] == "plan3"), "action"] = "plan2"
    path = tmp_path / "policy.csv"
    pd.DataFrame(0.25, index=range(200), columns=WORLD.actions).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        target.build(f"file:{path}", check(df))
    assert str(err.value) == (f"{path}: probability on actions outside the logged row's action_set "
                              "at logged rows 1, 3, 5 (and 97 more)")


def test_help_describes_every_option_and_the_policy_file_formats() -> None:
    parser = build_parser()
    ope = parser._subparsers._group_actions[0].choices["ope"]
    text = ope.format_help()
    for action in ope._actions:
        for flag in action.option_strings:
            assert flag in text
        if action.help is not None and action.dest != "help":
            assert action.help.split("(")[0].split()[0] in text, action.dest
    for needle in ("wide: one column per action id", "long: columns row, action, probability",
                   "'row' column", "obp's 'pscore'", "x0..xN", "--context none",
                   "learn:NAME[:KEY=VALUE,...]", "exits with code 2"):
        assert needle in text, needle


def test_python_api_takes_a_dataframe_with_obp_names(tmp_path, capsys) -> None:
    """ltrr.ope.evaluate is `ltrr ope` on a DataFrame: same document, same numbers."""
    from ltrr.ope import evaluate

    doc = evaluate(OBP_STYLE, "uniform", estimators=["ipw", "snipw"], n_bootstrap=20)
    code, cli = run_cli(tmp_path, capsys, OBP_STYLE, "--policy", "uniform", "--estimators", "ipw,snipw")
    assert doc["logs"] == "<DataFrame>" and doc["columns"] == cli["columns"]
    assert doc["estimates"] == cli["estimates"]
    learned = evaluate(OBP_STYLE, "learn:ucb1", context=["x0", "x1"], min_rows=1)
    assert learned["learner"] == "ucb1" and learned["columns"]["context"] == ["x0", "x1"]
    with pytest.raises(InputError, match="not used by --policy learn:ucb1"):
        evaluate(OBP_STYLE, "learn:ucb1", estimators="ipw")
