"""``ltrr check`` and ``ltrr.testing.check_component``: the worked example's policy and arm and
ltrr's built-ins pass; each broken plugin of ``ltrr_broken_plugins`` is named by the check it
breaks, exit code 2. Also the contracts themselves (``ltrr.contracts``): one reader of the
optional abilities, with their defaults, and ``docs/plugins.md`` kept in step with them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ltrr_broken_plugins as broken
from ltrr.check import check
from ltrr.cli import main
from ltrr.contracts import (KINDS, PLUGIN_KINDS, ArmContract, ClickModelContract, PolicyContract,
                            RankerContract, ability, markdown_table)
from ltrr.errors import InputError
from ltrr.testing import check_component

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "plugins"
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def example_path(monkeypatch):
    """The worked example's folder on the import path, as docs/plugins.md runs it."""
    monkeypatch.syspath_prepend(str(EXAMPLE))


def output(capsys) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- passing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target, kind, checks", [
    ("my_policy:Softmax", "policy", 10),
    ("my_arm:TfIdfArm", "arm", 8),
])
def test_the_worked_example_passes(example_path, capsys, target, kind, checks):
    assert main(["check", target]) == 0
    out, _ = output(capsys)
    assert out.strip() == f"'{target}' ({kind}): passed {checks} checks"


@pytest.mark.parametrize("name, kind", [("linucb", "policy"), ("thompson", "policy"),
                                        ("oracle", "policy"), ("semibandit", "policy"),
                                        ("router", "policy"), ("single:a", "policy"),
                                        ("lambdamart", "ranker"), ("pbm", "click model"),
                                        ("dcm", "click model")])
def test_builtins_pass(name, kind):
    report = check(name)
    assert (report.kind, report.violations) == (kind, [])
    assert len(report.passed) >= 5


def test_a_good_online_arm_ranker_and_click_model_pass():
    online = check("ltrr_broken_plugins:Remembers")
    assert (online.kind, online.passed) == ("online arm",
                                            ["methods", "ranking.depth", "update", "reset"])
    ranker = check("ltrr_test_plugins:LambdaAgain")
    assert (ranker.kind, ranker.passed) == ("ranker", ["fit", "score.shape", "score.finite",
                                                       "determinism", "fit.weight",
                                                       "fit.position"])
    clicks = check("ltrr_test_plugins:SamePBM", params="navigational")
    assert (clicks.kind, clicks.ok, len(clicks.passed)) == ("click model", True, 10)
    assert "sample.frequencies" in clicks.passed


# --- the five broken plugins, and one of each other kind -------------------------------------

BROKEN = [  # (plugin, the check it breaks, what the line says)
    ("ZeroPropensity", "choose.propensity", "got 0.0 for plan"),
    ("HalfProbabilities", "probabilities.sum", "(sum 0.5) at step 0"),
    ("PlanOutOfRange", "choose.plan", "expected an integer plan index in 0..2; got plan 3"),
    ("NoDocno", "transform.columns", "got a frame without docno"),
    ("Unseeded", "determinism", "expected the same 50 choices when built twice"),
    ("KeepsClicks", "reset", "expected the first ranking again after reset()"),
    ("NaNScores", "score.finite", "got a score that is not a finite number"),
    ("AboveOne", "expected_clicks.range", "expected click probabilities in [0, 1]; got [[1.9"),
]


@pytest.mark.parametrize("plugin, check_name, says", BROKEN)
def test_each_broken_plugin_is_named_with_what_was_expected(capsys, plugin, check_name, says):
    assert main(["check", f"ltrr_broken_plugins:{plugin}"]) == 2
    out, _ = output(capsys)
    lines = out.strip().splitlines()
    assert re.fullmatch(rf"'ltrr_broken_plugins:{plugin}' \(.+\): \d violation\(s\), \d+ checks "
                        "passed", lines[0])
    line = next(line for line in lines[1:] if line.startswith(f"  {check_name}: "))
    assert says in line


def test_every_violation_is_listed_not_only_the_first():
    report = check("ltrr_broken_plugins:ZeroPropensity")
    assert [v.check for v in report.violations] == ["choose.propensity",
                                                    "probabilities.propensity"]
    assert "determinism" in report.passed  # the rest still ran
    assert str(report.violations[1]) == (
        "probabilities.propensity: expected choose()'s propensity to be probabilities()[plan]; "
        "got 0.0 for plan 1, probabilities() gave 0.333333 at step 0")


def test_the_command_in_a_subprocess_exits_2_naming_the_violation():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS)])}
    done = subprocess.run([sys.executable, "-m", "ltrr.cli", "check",
                           "ltrr_broken_plugins:PlanOutOfRange", "--kind", "policy"],
                          capture_output=True, text=True, env=env, cwd=str(TESTS), timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout.splitlines() == [
        "'ltrr_broken_plugins:PlanOutOfRange' (policy): 1 violation(s), 3 checks passed",
        "  choose.plan: expected an integer plan index in 0..2; got plan 3 at step 0"]


def test_a_broken_builtin_contract_of_the_test_plugins_is_named():
    assert [v.check for v in check("ltrr_test_plugins:PairScores").violations] == ["score.shape"]
    flat = check("ltrr_test_plugins:FlatTotal", params="navigational")
    assert [v.check for v in flat.violations] == ["expected_total.shape"]
    assert [v.check for v in check("ltrr_test_plugins:Cheater").violations] == ["uses_truth"]
    built = check("ltrr_test_plugins:Broken").violations
    assert built[0].check == "build" and "ZeroDivisionError: division by zero" in built[0].seen


# --- names, kinds, params --------------------------------------------------------------------

def test_unknown_name_or_uninferable_kind_is_one_message_exit_2(capsys):
    assert main(["check", "nosuch"]) == 2
    assert output(capsys)[1].strip() == (
        "ltrr check: error: unknown component 'nosuch': not a built-in or entry point of any "
        "kind, nor an import path module:Name")
    assert main(["check", "ltrr_test_plugins:make_greedy"]) == 2
    assert "name its kind with --kind" in output(capsys)[1]
    assert main(["check", "ltrr_test_plugins:make_greedy", "--kind", "policy"]) == 0
    assert main(["check", "lexical"]) == 2
    assert "built-in arm" in output(capsys)[1]
    assert main(["check", "linucb", "--params", "{alpha"]) == 2
    assert "--params is not JSON" in output(capsys)[1]


def test_params_reach_the_component(capsys):
    assert main(["check", "ltrr_test_plugins:Fixed", "--params", '{"plan": 7}']) == 2
    assert "got plan 7 at step 0" in output(capsys)[0]
    with pytest.raises(InputError, match="params must be a table"):
        check("linucb", params="navigational")


def test_params_ltrr_refuses_for_a_builtin_are_bad_input_not_a_violation(capsys):
    assert main(["check", "linucb", "--params", '{"zzz": 1}']) == 2
    out, err = output(capsys)
    assert out == "" and err.strip() == ("ltrr check: error: policy 'linucb': unknown param "
                                         "'zzz' (known: alpha)")
    with pytest.raises(InputError, match="click model 'pbm' takes a parameter set name"):
        check("pbm", params={"a": 1})
    assert check("pbm", params="perfect").ok


def test_check_component_raises_listing_every_violation_and_returns_the_report():
    report = check_component(broken.Uniform)
    assert report.ok and report.kind == "policy" and len(report.passed) == 10
    with pytest.raises(AssertionError) as err:
        check_component("ltrr_broken_plugins:HalfProbabilities")
    text = str(err.value)
    assert "  probabilities.sum: expected probabilities >= 0 summing to 1" in text
    assert "  probabilities.propensity: " in text


# --- the contracts ---------------------------------------------------------------------------

def test_protocols_say_which_kind_an_object_has():
    from ltrr_test_plugins import Greedy, LambdaAgain, SamePBM

    from ltrr.kernel.clicks import PositionBasedModel

    assert issubclass(Greedy, PolicyContract) and not issubclass(Greedy, ArmContract)
    assert isinstance(PositionBasedModel("navigational"), ClickModelContract)
    assert issubclass(SamePBM, ClickModelContract) and issubclass(LambdaAgain, RankerContract)


def test_abilities_are_read_with_their_one_default():
    from ltrr.selection.base import Policy

    class Bare:
        pass

    assert [ability(Bare(), "policy", n) for n in ("uses_context", "uses_truth",
                                                    "uses_arm_rewards", "uses_training",
                                                    "probabilities", "n_plans")] == \
        [True, False, False, False, False, None]
    assert ability(Policy, "policy", "probabilities") is True
    assert ability(broken.Remembers, "online arm", "search") is True
    assert ability(Bare(), "featurizer", "needs_candidates") is False
    with pytest.raises(KeyError):
        ability(Bare(), "policy", "uses_magic")


SECTIONS = {"policy": "## Policies", "arm": "## Arms", "online arm": "## Arms",
            "ranker": "## Rankers", "click model": "## Click models"}


def section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_docs_name_every_member_of_every_contract_in_its_section():
    docs = (REPO / "docs" / "plugins.md").read_text()
    for kind in PLUGIN_KINDS:
        text = section(docs, SECTIONS[kind])
        for name in KINDS[kind].required + tuple(a.name for a in KINDS[kind].abilities):
            assert f"`{name}" in text, (kind, name)


def test_docs_contract_table_is_generated_from_the_protocols():
    """The table in docs/plugins.md is ``markdown_table()``'s: what the docs list as required
    is exactly what the protocols require (paste the function's output when this fails)."""
    docs = (REPO / "docs" / "plugins.md").read_text()
    block = docs.split("<!-- contracts table: begin -->\n")[1].split("\n<!-- contracts")[0]
    assert block == markdown_table()


def test_a_good_policy_online_arm_and_ranker_pass():
    for target in ("ltrr_broken_plugins:Uniform", "ltrr_broken_plugins:Remembers",
                   "ltrr_test_plugins:LambdaAgain"):
        assert check(target).ok, target


def test_declared_flags_are_read_only_through_ability():
    """No module of ltrr reads a declared flag or value (``uses_context``, ``uses_truth``,
    ``min_plans``...) with its own ``getattr`` default: the defaults are ``ltrr.contracts``'s
    alone."""
    import ast

    flags = {a.name for kind in KINDS.values() for a in kind.abilities
             if a.sort in ("flag", "value")}
    found = []
    for path in (REPO / "ltrr").rglob("*.py"):
        if path.name == "contracts.py" and path.parent.name == "ltrr":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2 \
                    and isinstance(node.args[1], ast.Constant) and node.args[1].value in flags:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.args[1].value}")
    assert found == []
