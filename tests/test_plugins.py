"""Outside policies, arms, click models and rankers in ``ltrr run``: they run like the built-ins
(one that copies a built-in gives its numbers), and one that breaks its contract stops the run
with one message naming it, exit code 2, nothing written. The worked example of
``docs/plugins.md`` (an outside policy and an outside PyTerrier arm in the music benchmark)
runs through the benchmark file and through the Python API, with the same numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ltrr
import ltrr_test_plugins as plug
from ltrr.cli import main
from worlds import EXAMPLE, record, tiny

REPO = Path(__file__).resolve().parents[1]


def run(path: Path, out: Path, *options: str) -> int:
    return main(["run", str(path), "--out", str(out), "--quiet", *options])


def last_line(capsys) -> str:
    """The error line ``ltrr run`` ends with (index builds may have printed before it)."""
    return capsys.readouterr().err.strip().splitlines()[-1]


def replay_propensities(log: pd.DataFrame, policy) -> np.ndarray:
    """The probability ``policy`` gave each logged plan, replaying the log's updates."""
    out = []
    for plan, reward in zip(log["action_index"], log["reward"]):
        out.append(policy.probabilities(None)[plan])
        policy.update(None, int(plan), float(reward))
    return np.array(out)


def test_outside_policy_and_factory_through_the_file_tuned_like_the_builtins(tmp_path):
    path = tiny(tmp_path, '''
[tuning]
seeds = [7]

[[policies]]
name = "ltrr_test_plugins:Greedy"
label = "greedy"
grid = { epsilon = [0.05, 0.3] }

[[policies]]
name = "ltrr_test_plugins:make_greedy"
label = "factory"

[[policies]]
name = "static_union"
''')
    out = tmp_path / "out"
    assert run(path, out, "--seeds", "0", "--stream-length", "120") == 0
    greedy = record(out, "greedy")
    assert greedy["policy_name"] == "ltrr_test_plugins:Greedy"
    assert greedy["tuning"]["grid"] == {"epsilon": [0.05, 0.3]}
    assert greedy["policy_params"] == greedy["tuning"]["chosen"]
    assert record(out, "factory")["policy_params"] == {"epsilon": 0.2}
    board = (out / "LEADERBOARD.md").read_text()
    assert "| greedy |" in board and "| factory |" in board and "| static_union |" in board
    log = pd.read_parquet(out / "greedy-seed0.decisions.parquet")
    fresh = plug.Greedy(list(range(7)), 1, **greedy["policy_params"])
    assert np.array_equal(log["propensity"].to_numpy(), replay_propensities(log, fresh))


CONTRACT = [
    # (policy table lines, expected message after "ltrr run: error: <file>")
    ('name = "ltrr_test_plugins:Fixed"\nparams = { plan = 99 }',
     ": policy 'ltrr_test_plugins:Fixed': choose() returned plan 99 at step 0, outside 0..6 "
     "(run 'ltrr_test_plugins:Fixed', seed 0)"),
    ('name = "ltrr_test_plugins:Fixed"\nlabel = "fixed"\nparams = { plan = 1.0 }',
     ": policy 'ltrr_test_plugins:Fixed': choose() returned plan 1.0 (float) at step 0; a plan "
     "is an integer index 0..6 (run 'fixed', seed 0)"),
    ('name = "ltrr_test_plugins:Fixed"\nlabel = "fixed"\nparams = { propensity = 0.0 }',
     ": policy 'ltrr_test_plugins:Fixed': choose() returned propensity 0.0 for plan 0 at step 0;"
     " it must be the probability of that choice, a number in (0, 1] (run 'fixed', seed 0)"),
    ('name = "ltrr_test_plugins:Fixed"\nlabel = "fixed"\nparams = { propensity = 1.5 }',
     ": policy 'ltrr_test_plugins:Fixed': choose() returned propensity 1.5 for plan 0 at step 0;"
     " it must be the probability of that choice, a number in (0, 1] (run 'fixed', seed 0)"),
    ('name = "ltrr_test_plugins:Fixed"\nlabel = "fixed"\nparams = { propensity = nan }',
     ": policy 'ltrr_test_plugins:Fixed': choose() returned propensity nan for plan 0 at step 0;"
     " it must be the probability of that choice, a number in (0, 1] (run 'fixed', seed 0)"),
    ('name = "ltrr_test_plugins:NotTuple"\nlabel = "x"',
     ": policy 'ltrr_test_plugins:NotTuple': choose() returned [0, 1.0] at step 0; it must "
     "return a tuple (plan_index, propensity) (run 'x', seed 0)"),
    ('name = "ltrr_test_plugins:Cheater"',
     ", field 'policies[0]': policy 'ltrr_test_plugins:Cheater' declares uses_truth = True: the "
     "simulator's expected rewards are the oracle's alone, never a compared policy's"),
    ('name = "ltrr_test_plugins:NeedsRate"',
     ", field 'policies[0]': policy 'ltrr_test_plugins:NeedsRate': missing required param(s) "
     "rate (keyword-only arguments without a default)"),
    ('name = "ltrr_test_plugins:Greedy"\nparams = { rate = 1 }',
     ", field 'policies[0]': policy 'ltrr_test_plugins:Greedy': unknown param 'rate' (known: "
     "epsilon)"),
    ('name = "ltrr_test_plugins:make_nothing"',
     ", field 'policies[0]': policy 'ltrr_test_plugins:make_nothing' built a str object, which "
     "has no method choose, update (see docs/plugins.md)"),
    ('name = "ltrr_test_plugins:NoChoose"',
     ", field 'policies[0].name': policy 'ltrr_test_plugins:NoChoose' is the class NoChoose, "
     "not a policy class (it has no method choose)"),
    ('name = "no_such_module_xyz:Policy"',
     ", field 'policies[0].name': policy 'no_such_module_xyz:Policy': cannot import module "
     "'no_such_module_xyz' (no module named 'no_such_module_xyz'; is its package installed, or "
     "its folder on PYTHONPATH?)"),
]


@pytest.mark.parametrize("table, message", CONTRACT)
def test_a_policy_breaking_its_contract_stops_the_run_naming_it(tmp_path, capsys, table, message):
    path = tiny(tmp_path, f"[[policies]]\n{table}\n")
    out = tmp_path / "out"
    assert run(path, out, "--seeds", "0", "--stream-length", "20") == 2
    assert last_line(capsys) == f"ltrr run: error: {path}{message}"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny.toml"]


def test_a_failing_constructor_is_one_line_with_its_place(tmp_path, capsys):
    path = tiny(tmp_path, '[[policies]]\nname = "ltrr_test_plugins:Broken"\n')
    assert run(path, tmp_path / "out") == 2
    everything = capsys.readouterr().err
    err = everything.strip().splitlines()[-1]
    assert "Traceback" not in everything
    assert err.startswith(f"ltrr run: error: {path}, field 'policies[0]': policy "
                          "'ltrr_test_plugins:Broken': building it failed: ZeroDivisionError: "
                          "division by zero (")
    assert err.endswith(f"{plug.__file__}:{plug.Broken.__init__.__code__.co_firstlineno + 1})")


def test_a_policy_that_does_not_read_the_context_is_given_none(tmp_path):
    path = tiny(tmp_path, '[[policies]]\nname = "ltrr_test_plugins:SeesContext"\nlabel = "blind"\n')
    plug.SEEN.clear()
    assert run(path, tmp_path / "out", "--seeds", "0", "--stream-length", "30") == 0
    log = pd.read_parquet(tmp_path / "out" / "blind-seed0.decisions.parquet")
    contexts = log[[c for c in log.columns if c.startswith("ctx_")]].to_numpy()
    assert len(plug.SEEN) == 30 and all(c.shape == contexts.shape[1:] for c in plug.SEEN)
    assert not np.any(plug.SEEN) and np.any(contexts)  # the log keeps what ltrr computed


LEX2 = '[arms.lex2]\nclass = "ltrr_test_plugins:LexicalAgain"\n'


def test_outside_arm_gives_the_builtin_numbers_and_is_asked_once(tmp_path, monkeypatch):
    """A PyTerrier transformer around ltrr's lexical arm: single:lex2 has single:lexical's
    numbers; the transformer is asked once for every topic (and again, deeper, for the topics
    whose list ends inside a group of tied scores), then its lists come from the candidate
    cache."""
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "home"))
    path = tiny(tmp_path, '[[policies]]\nname = "single:lexical"\n\n[[policies]]\n'
                          'name = "single:lex2"\n\n[[policies]]\nname = "static_union"\n',
                replace={'names = ["lexical", "fuzzy", "memory"]':
                         'names = ["lexical", "fuzzy", "memory", "lex2"]\n' + LEX2})
    plug.CALLS.clear()
    assert run(path, tmp_path / "out", "--stream-length", "100") == 0
    asked = list(plug.CALLS)
    assert asked[0] == 10 and all(n < 10 for n in asked[1:])  # the 10 topics, then ties
    for seed in (0, 1):
        a, b = record(tmp_path / "out", "single:lexical", seed), record(tmp_path / "out",
                                                                        "single:lex2", seed)
        assert a["metrics"] == b["metrics"]
        assert "lex2:12" in b["plans"] and "fuzzy:4+lex2:4+lexical:4" not in b["plans"]
    assert len(list((tmp_path / "home" / "candidates").glob("lex2-*.npz"))) == len(asked)
    assert run(path, tmp_path / "again", "--stream-length", "100") == 0
    assert plug.CALLS == asked  # from the cache
    assert record(tmp_path / "again", "single:lex2")["metrics"] == \
        record(tmp_path / "out", "single:lex2")["metrics"]


def test_class_may_name_a_builtin_arm_under_a_second_name(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "home"))
    path = tiny(tmp_path, '[[policies]]\nname = "single:lexical"\n\n[[policies]]\n'
                          'name = "single:title_bm25"\n',
                replace={'names = ["lexical", "fuzzy", "memory"]':
                         'names = ["lexical", "fuzzy", "memory", "title_bm25"]\n'
                         '[arms.title_bm25]\nclass = "lexical"\nfields = ["title"]\n'})
    assert run(path, tmp_path / "out", "--seeds", "0", "--stream-length", "60") == 0
    both = record(tmp_path / "out", "single:lexical"), record(tmp_path / "out", "single:title_bm25")
    assert "title_bm25:12" in both[1]["plans"]
    assert len(list((tmp_path / "home" / "lexical").iterdir())) == 2  # two indexes, own settings
    files = list((tmp_path / "home" / "candidates").glob("lexical-*.npz"))
    assert len(files) >= 2  # each arm's own lists (and deeper asks where ties reach an end)


BAD_ARMS = [
    ('[arms.bad]\nclass = "ltrr_test_plugins:NoDocno"\n',
     ": arm 'bad' ('ltrr_test_plugins:NoDocno') returned a frame without column(s) docno; an "
     "arm returns a ranking (qid, docno, score[, rank])"),
    ('[arms.bad]\nclass = "ltrr_test_plugins:Twice"\n',
     ": arm 'bad' ('ltrr_test_plugins:Twice') returned docno 'd01' twice for qid 'q0'"),
    ('[arms.bad]\nclass = "ltrr_test_plugins:NotATransformer"\n',
     ", field 'arms.bad.class': arm 'ltrr_test_plugins:NotATransformer' is the class "
     "NotATransformer, not an arm class (it has no method transform)"),
    ('[arms.bad]\nclass = "ltrr_test_plugins:factory_returns_int"\n',
     ", field 'arms.bad': arm 'bad' ('ltrr_test_plugins:factory_returns_int') built an int "
     "object, not a PyTerrier transformer (queries -> ranking)"),
    ('[arms.bad]\nclass = "ltrr_test_plugins:LexicalAgain"\ndepth = 3\n',
     ", field 'arms.bad': field 'depth': arm 'bad' ('ltrr_test_plugins:LexicalAgain') has no "
     "parameter(s) ['depth']; it takes ['num_results']"),
    ('[arms.bad]\nclass = 3\n',
     ", field 'arms.bad.class': expected a string (a built-in arm, module:Name or an entry "
     "point), got 3"),
    ('',
     ", field 'arms.names': unknown arm 'bad' (choose from lexical, dense, memory, fuzzy, "
     "structured)"),
]


@pytest.mark.parametrize("table, message", BAD_ARMS)
def test_a_bad_outside_arm_stops_the_run_naming_it(tmp_path, capsys, table, message):
    """Checked when the file is read (the message names file and field) or, for what the arm
    returns, when the world is prepared (the message names the arm and its class)."""
    path = tiny(tmp_path, '[[policies]]\nname = "single:bad"\n',
                replace={'names = ["lexical", "fuzzy", "memory"]':
                         'names = ["lexical", "fuzzy", "memory", "bad"]\n' + table})
    out = tmp_path / "out"
    assert run(path, out, "--stream-length", "20") == 2
    where = "" if message.startswith(": ") else str(path)
    assert last_line(capsys) == f"ltrr run: error{': ' if where else ''}{where}{message}"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny.toml"]


def test_arm_names_are_short_names(tmp_path):
    from ltrr.errors import InputError
    from ltrr.experiments.benchmark import load_benchmark

    path = tiny(tmp_path, '[[policies]]\nname = "static_union"\n',
                replace={'names = ["lexical", "fuzzy", "memory"]':
                         'names = ["lexical", "ltrr_test_plugins:LexicalAgain"]'})
    with pytest.raises(InputError) as err:
        load_benchmark(path)
    assert str(err.value) == (
        f"{path}, field 'arms.names': arm name 'ltrr_test_plugins:LexicalAgain' is not a short "
        "name (letters, digits, _ and -; plan ids are made of them): name an outside arm's class "
        "in [arms.<name>] class = \"module:Name\"")


def test_outside_click_model_gives_the_builtin_numbers(tmp_path):
    policies = '[[policies]]\nname = "linucb"\n\n[[policies]]\nname = "uniform"\n'
    builtin = tiny(tmp_path / "a", policies)
    assert run(builtin, tmp_path / "a" / "out", "--seeds", "0", "--stream-length", "100") == 0
    for i, params in enumerate(('"navigational"', '{ params = "navigational" }')):
        outside = tiny(tmp_path / f"o{i}", policies, replace={
            'model = "pbm"\nparams = "navigational"':
            f'model = "ltrr_test_plugins:SamePBM"\nparams = {params}'})
        assert run(outside, outside.parent / "out", "--seeds", "0", "--stream-length", "100") == 0
        for label in ("linucb", "uniform"):
            assert record(outside.parent / "out", label)["metrics"] == \
                record(tmp_path / "a" / "out", label)["metrics"]


def test_a_broken_click_model_fails_before_anything_runs(tmp_path, capsys):
    path = tiny(tmp_path, '[[policies]]\nname = "uniform"\n', replace={
        'model = "pbm"': 'model = "ltrr_test_plugins:FlatTotal"'})
    assert run(path, tmp_path / "out") == 2
    assert last_line(capsys) == (
        f"ltrr run: error: {path}, field 'clicks.model': click model "
        "'ltrr_test_plugins:FlatTotal': expected_total on grades of shape (2, 6) must give finite "
        "numbers >= 0 of shape (2,), got ()")


RANKERS = '''
[rankers.online]
train = "online"
retrain_every = 40
params = { num_boost_round = 10, min_data_in_leaf = 5 }

[rankers.outside]
model = "ltrr_test_plugins:{cls}"
train = "online"
retrain_every = 40
params = { num_boost_round = 10, min_data_in_leaf = 5 }
'''


def test_outside_ranker_gives_the_builtin_numbers(tmp_path):
    path = tiny(tmp_path, '[[policies]]\nname = "static_union"\nlabel = "u/online"\n'
                          'ranker = "online"\n\n[[policies]]\nname = "static_union"\n'
                          'label = "u/outside"\nranker = "outside"\n',
                extra=RANKERS.replace("{cls}", "LambdaAgain"))
    out = tmp_path / "out"
    assert run(path, out, "--seeds", "0", "--stream-length", "120") == 0
    a, b = record(out, "u/online"), record(out, "u/outside")
    assert a["metrics"] == b["metrics"] and a["metrics"]["ndcg@10"] > 0
    assert b["ranker"]["model"] == "ltrr_test_plugins:LambdaAgain" and b["ranker"]["retrains"] == 3


def test_an_outside_ranker_breaking_its_contract_is_named(tmp_path, capsys):
    path = tiny(tmp_path, '[[policies]]\nname = "static_union"\nlabel = "u/outside"\n'
                          'ranker = "outside"\n', extra=RANKERS.replace("{cls}", "PairScores"))
    assert run(path, tmp_path / "out", "--seeds", "0", "--stream-length", "60") == 2
    err = last_line(capsys)
    assert re.fullmatch(re.escape(f"ltrr run: error: {path}: ranker 'ltrr_test_plugins:PairScores'"
                                  ": score() returned shape (") + r"(\d+), 2\) for \1 rows; it must "
                        r"return one score per row \(run 'u/outside', seed 0\)", err), err
    assert not (tmp_path / "out").exists()


# --- the worked example: docs/examples/plugins in the music benchmark ---------------------

@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """``ltrr run docs/examples/plugins/music-plugins.toml`` (seed 0, 300 queries), with the
    example's folder on the import path as its comment says (PYTHONPATH)."""
    import sys

    sys.path.insert(0, str(EXAMPLE))
    try:
        out = tmp_path_factory.mktemp("example") / "out"
        assert run(EXAMPLE / "music-plugins.toml", out, "--seeds", "0",
                   "--stream-length", "300") == 0
        yield out
    finally:
        sys.path.remove(str(EXAMPLE))


def test_worked_example_through_the_file_is_on_the_leaderboard(example):
    board = (example / "LEADERBOARD.md").read_text()
    for label in ("single:lexical", "single:tfidf", "static_union", "linucb", "softmax", "oracle"):
        assert f"| {label} |" in board
    assert "| softmax | temperature ∈ [0.1, 0.3] |" in board  # tuned like linucb
    softmax = record(example, "softmax")
    assert softmax["policy_name"] == "my_policy:Softmax"
    assert softmax["policy_params"]["temperature"] in (0.1, 0.3)
    assert "tfidf:50" in softmax["plans"] and "lexical:25+tfidf:25" in softmax["plans"]
    assert record(example, "single:tfidf")["metrics"]["candidate_recall"] > 0.1


def test_worked_example_records_name_the_outside_code(example):
    """A plugin's record says which code made it: import path, source hash, distribution."""
    import hashlib

    code = record(example, "softmax")["provenance"]["outside_code"]
    assert set(code) == {"policies.name", "arms.tfidf.class"}
    policy = code["policies.name"]
    assert policy["object"] == "my_policy:Softmax"
    source = (EXAMPLE / "my_policy.py").read_bytes()
    assert policy["source_sha1"] == hashlib.sha1(source).hexdigest()[:12]
    assert policy["distribution"] is None  # a file on sys.path, no installed package
    assert code["arms.tfidf.class"]["object"].startswith("my_arm:")
    # every run of the file used the outside arm; only softmax's used the outside policy
    assert set(record(example, "linucb")["provenance"]["outside_code"]) == {"arms.tfidf.class"}


def test_worked_example_records_reproduce(example, capsys):
    """``ltrr reproduce`` reruns an outside policy's record from the file it names."""
    assert main(["reproduce", str(example / "softmax-seed0.json"), "--quiet"]) == 0
    assert "match" in capsys.readouterr().out


def test_worked_example_propensities_are_the_softmax_probabilities(example):
    from my_policy import Softmax  # the example's folder is on sys.path (the fixture)

    softmax = record(example, "softmax")
    log = pd.read_parquet(example / "softmax-seed0.decisions.parquet")
    fresh = Softmax(list(range(len(softmax["plans"]))), 1, **softmax["policy_params"])
    assert np.allclose(log["propensity"].to_numpy(), replay_propensities(log, fresh),
                       rtol=0, atol=1e-15)
    assert log["propensity"].nunique() > 10  # it explores


def test_worked_example_through_the_api_gives_the_same_numbers(example, tmp_path):
    from my_policy import Softmax  # the example's folder is on sys.path (the fixture)

    bench = ltrr.load_benchmark(EXAMPLE / "music-plugins.toml")
    results = bench.run(seeds=[0], stream_length=300, progress=False, out=tmp_path / "api",
                        policies=["softmax", "single:tfidf",
                                  {"name": Softmax, "label": "softmax-0.3",
                                   "params": {"temperature": 0.3}}])
    records = results.records.set_index("policy")
    for label in ("softmax", "single:tfidf"):
        cli = record(example, label)["metrics"]
        assert {k: records.loc[label, k] for k in cli} == cli
    if record(example, "softmax")["policy_params"] == {"temperature": 0.3}:
        assert records.loc["softmax-0.3", "reward"] == records.loc["softmax", "reward"]
    assert records.loc["softmax-0.3", "policy_name"] == "my_policy:Softmax"
    board = results.leaderboard()
    assert "| softmax |" in board and "| softmax-0.3 |" in board and "| single:tfidf |" in board


def test_worked_example_components_keep_their_contracts(monkeypatch):
    """``ltrr check`` (through :func:`ltrr.testing.check_component`) on the example's policy at
    both grid settings and its arm with the file's keys: no violation."""
    from ltrr.testing import check_component

    monkeypatch.syspath_prepend(str(EXAMPLE))
    for temperature in (0.1, 0.3):
        report = check_component("my_policy:Softmax", params={"temperature": temperature})
        assert (report.kind, len(report.passed)) == ("policy", 10)
    report = check_component("my_arm:TfIdfArm", params={"ngram_max": 2})
    assert report.passed == ["methods", "transform.frame", "transform.columns", "transform.qids",
                             "transform.score", "transform.duplicates", "transform.depth",
                             "transform.determinism"]
