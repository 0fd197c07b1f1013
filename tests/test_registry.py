"""The one registry mechanism: built-ins unchanged, import paths, entry points, registrations,
and an exact message for every name that does not name a component of its kind."""

from __future__ import annotations

import pytest

import ltrr_test_plugins as plug
from ltrr.arms import REGISTRY as ARMS
from ltrr.errors import InputError
from ltrr.kernel.clicks import PositionBasedModel
from ltrr.ranking.learned import REGISTRY as RANKERS
from ltrr.ranking.learned import LambdaMART
from ltrr.registry import Registry, is_import_path
from ltrr.selection.policies import REGISTRY as POLICIES
from ltrr.selection.policies.contextual import LinUCB
from ltrr.simulation.clicks import REGISTRY as CLICKS

KINDS = {"policy": POLICIES, "arm": ARMS, "ranker": RANKERS, "click model": CLICKS}


def install_entry_points(tmp_path, monkeypatch, groups: dict[str, list[str]]) -> None:
    """A fake installed distribution declaring ``groups`` (as a package's pyproject would)."""
    dist = tmp_path / "ltrr_fake_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ltrr-fake-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{line}\n" for line in lines) for group, lines in groups.items()))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_one_mechanism_for_the_four_kinds_with_their_entry_point_groups():
    assert all(isinstance(r, Registry) for r in KINDS.values())
    assert {k: r.group for k, r in KINDS.items()} == {
        "policy": "ltrr.policies", "arm": "ltrr.arms", "ranker": "ltrr.rankers",
        "click model": "ltrr.click_models"}


def test_builtins_resolve_as_before():
    from ltrr.arms.lexical import LexicalArm

    assert POLICIES.resolve("linucb") is LinUCB
    assert ARMS.resolve("lexical") is LexicalArm
    assert RANKERS.resolve("lambdamart") is LambdaMART
    assert CLICKS.resolve("pbm") is PositionBasedModel
    assert POLICIES.names()[:3] == ["best_single", "static_union", "uniform"]
    assert ARMS.names() == ["lexical", "dense", "memory", "fuzzy", "structured"]


def test_import_paths_resolve_to_the_object():
    assert POLICIES.resolve("ltrr_test_plugins:Greedy") is plug.Greedy
    assert POLICIES.resolve("ltrr_test_plugins:make_greedy") is plug.make_greedy
    assert ARMS.resolve("ltrr_test_plugins:LexicalAgain") is plug.LexicalAgain
    assert RANKERS.resolve("ltrr_test_plugins:LambdaAgain") is plug.LambdaAgain
    assert CLICKS.resolve("ltrr_test_plugins:SamePBM") is plug.SamePBM
    assert POLICIES.resolve("collections:OrderedDict.fromkeys")  # a dotted attribute: callable
    assert is_import_path("a.b:C.d") and not is_import_path("linucb")
    assert not is_import_path("a:") and not is_import_path(":B") and not is_import_path("a b:C")


BAD = [
    ("policy", "no_such_module_xyz:Greedy",
     "policy 'no_such_module_xyz:Greedy': cannot import module 'no_such_module_xyz' (no module "
     "named 'no_such_module_xyz'; is its package installed, or its folder on PYTHONPATH?)"),
    ("policy", "ltrr_test_plugins.sub:Greedy",
     "policy 'ltrr_test_plugins.sub:Greedy': cannot import module 'ltrr_test_plugins.sub' (no "
     "module named 'ltrr_test_plugins.sub'; is its package installed, or its folder on "
     "PYTHONPATH?)"),
    ("policy", "ltrr_test_plugins:Nope",
     "policy 'ltrr_test_plugins:Nope': module 'ltrr_test_plugins' has no attribute 'Nope'"),
    ("policy", "ltrr_test_plugins:NUMBER",
     "policy 'ltrr_test_plugins:NUMBER' is an int object, not a policy class or factory"),
    ("policy", "ltrr_test_plugins:NoChoose",
     "policy 'ltrr_test_plugins:NoChoose' is the class NoChoose, not a policy class (it has no "
     "method choose)"),
    ("policy", "os:path", "policy 'os:path' is a module, not a policy class or factory"),
    ("policy", "bandit", "unknown policy 'bandit' (expected one of single:<arm>, best_single, static_union, "
                         "uniform, epsilon_greedy, ucb1, thompson, exp3, linucb, linucb_warm, "
                         "lints, lin_epsilon_greedy, semibandit, router, oracle)"),
    ("arm", "ltrr_test_plugins:NotATransformer",
     "arm 'ltrr_test_plugins:NotATransformer' is the class NotATransformer, not an arm class "
     "(it has no method transform)"),
    ("arm", "ltrr_test_plugins:NUMBER", "arm 'ltrr_test_plugins:NUMBER' is an int object, not a "
                                        "PyTerrier transformer (queries -> ranking), its class "
                                        "or a factory"),
    ("arm", "bm42", "field 'arm': unknown arm 'bm42'; valid arms: lexical, dense, memory, fuzzy, "
                    "structured"),
    ("ranker", "ltrr_test_plugins:Greedy",
     "ranker 'ltrr_test_plugins:Greedy' is the class Greedy, not a ranker class (it has no "
     "method fit, score)"),
    ("ranker", "xgb", "unknown ranker 'xgb' (choose from lambdamart)"),
    ("click model", "ltrr_test_plugins:Greedy",
     "click model 'ltrr_test_plugins:Greedy' is the class Greedy, not a click model class (it "
     "has no method expected_clicks, expected_total, sample)"),
    ("click model", "foo", "unknown click model 'foo' (choose from pbm, cascade, dcm)"),
]


@pytest.mark.parametrize("kind, name, message", BAD)
def test_bad_names_get_one_exact_message(kind, name, message):
    with pytest.raises(InputError) as err:
        KINDS[kind].resolve(name)
    assert str(err.value) == message


def test_a_plugin_that_fails_to_import_is_named_with_the_place(tmp_path, monkeypatch):
    (tmp_path / "ltrr_test_syntax.py").write_text("x = 1\ndef f(:\n    pass\n")
    (tmp_path / "ltrr_test_raises.py").write_text("import math\nmath.sqrt(-1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError) as err:
        POLICIES.resolve("ltrr_test_syntax:P")
    text = str(err.value)
    assert text.startswith("policy 'ltrr_test_syntax:P': importing module 'ltrr_test_syntax' "
                           "failed: SyntaxError: ")
    assert text.endswith(f"({tmp_path / 'ltrr_test_syntax.py'}:2)")
    with pytest.raises(InputError) as err:
        ARMS.resolve("ltrr_test_raises:A")
    assert str(err.value) == ("arm 'ltrr_test_raises:A': importing module 'ltrr_test_raises' "
                              f"failed: ValueError: math domain error "
                              f"({tmp_path / 'ltrr_test_raises.py'}:2)")


def test_entry_points_register_installed_plugins(tmp_path, monkeypatch):
    install_entry_points(tmp_path, monkeypatch, {
        "ltrr.policies": ["greedy_ep = ltrr_test_plugins:Greedy",
                          "linucb = ltrr_test_plugins:Greedy",  # a built-in name: not taken
                          "missing_ep = ltrr_test_no_such_module:Greedy"],
        "ltrr.click_models": ["same_pbm = ltrr_test_plugins:SamePBM"]})
    assert POLICIES.resolve("greedy_ep") is plug.Greedy
    assert POLICIES.resolve("linucb") is LinUCB
    assert CLICKS.resolve("same_pbm") is plug.SamePBM
    assert "greedy_ep" in POLICIES.names() and POLICIES.names().count("linucb") == 1
    with pytest.raises(InputError) as err:
        POLICIES.resolve("missing_ep")
    assert str(err.value) == (
        "policy 'missing_ep': loading entry point 'ltrr_test_no_such_module:Greedy' "
        "(ltrr.policies) failed: ModuleNotFoundError: No module named "
        "'ltrr_test_no_such_module'" + str(err.value).split("'ltrr_test_no_such_module'")[-1])
    with pytest.raises(InputError) as err:
        POLICIES.resolve("bandit")
    assert "greedy_ep" in str(err.value)  # the choices listed include installed plugins


def test_registrations_in_this_process():
    registry = Registry("policy", {"builtin": plug.Greedy}, lambda obj: None,
                        lambda name, known: f"unknown {name}")
    registry.register("mine", plug.Greedy)
    assert registry.resolve("mine") is plug.Greedy
    registry.register("mine", plug.make_greedy)  # a notebook cell run again replaces it
    assert registry.resolve("mine") is plug.make_greedy
    with pytest.raises(InputError, match="^'builtin' is a built-in policy; register under "
                                         "another name$"):
        registry.register("builtin", plug.make_greedy)
    with pytest.raises(InputError, match="^policy 'three' is an int object, not a policy class "
                                         "or factory$"):
        POLICIES.register("three", 3)
