"""The Python API: every code block of docs/api.md runs, the worked example's api_example.py
runs, and ``Benchmark.run`` gives ``ltrr run``'s numbers for the same policy and seed, with
labels, names, classes, factories and tables, and one exact message for what it refuses."""

from __future__ import annotations

import json
import re
import runpy
import sys
import tempfile
from pathlib import Path

import pytest

import ltrr
import ltrr_test_plugins as plug
from ltrr.cli import main
from ltrr.errors import InputError
from worlds import EXAMPLE, REPO, record, tiny


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_every_code_block_of_docs_api_runs(monkeypatch):
    blocks = python_blocks(REPO / "docs" / "api.md")
    assert len(blocks) == 5
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the page adds the example's folder
    namespace: dict = {"__name__": "docs_api"}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)
    records = namespace["results"].records
    assert records["policy"].tolist() == ["static_union", "single:tfidf", "Softmax",
                                          "softmax-hot", "nearly_greedy", "uniform"]
    assert records.set_index("policy").loc["softmax-hot", "params"] == {"temperature": 1.0}
    assert records.set_index("policy").loc["Softmax", "policy_name"] == "my_policy:Softmax"
    assert records.set_index("policy").loc["nearly_greedy", "policy_name"] == \
        "docs_api:nearly_greedy"  # not importable: registered in this process
    assert set(namespace["doc"]["estimates"]) == {"dm", "ipw", "dr"}
    assert namespace["table"]["name"].tolist() == ["lexical", "tfidf"]
    assert (namespace["table"]["nDCG@10"] > 0).all()
    folder = namespace["results"].folder
    assert Path(tempfile.gettempdir()) in folder.parents and not (REPO / "results" /
                                                                   "music-plugins").exists()


def test_the_worked_example_script_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    script = runpy.run_path(str(EXAMPLE / "api_example.py"), run_name="api_example")
    results, doc = script["main"](["--seeds", "0", "--stream-length", "200",
                                   "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "| softmax-greedy |" in printed and "| softmax |" in printed
    assert "| single:tfidf |" in printed and f"results: {tmp_path / 'out'}" in printed
    assert results.records["policy"].tolist()[-1] == "softmax-greedy"
    assert set(doc["estimates"]) == {"dm", "ipw", "dr"} and doc["rows_evaluated"] == 100


FILE_POLICIES = '''
[[policies]]
name = "linucb"

[[policies]]
name = "ltrr_test_plugins:Greedy"
label = "greedy"
params = { epsilon = 0.2 }

[[policies]]
name = "static_union"
'''


@pytest.fixture(scope="module")
def from_cli(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    path = tiny(tmp, FILE_POLICIES, extra="[tuning]\nseeds = [7]\n")
    assert main(["run", str(path), "--out", str(tmp / "out"), "--quiet", "--seeds", "0",
                 "--stream-length", "80"]) == 0
    return path, tmp / "out"


def test_the_api_gives_the_command_line_numbers(from_cli, tmp_path):
    path, out = from_cli
    bench = ltrr.load_benchmark(path)
    results = bench.run(seeds=[0], stream_length=80, progress=False, out=tmp_path / "api",
                        policies=["linucb", "greedy", "static_union",
                                  {"name": plug.Greedy, "label": "class",
                                   "params": {"epsilon": 0.2}},
                                  plug.make_greedy, lambda plans, n, seed, rr: plug.Greedy(
                                      plans, n, seed, rr, epsilon=0.2)])
    rows = results.records.set_index("policy")
    assert rows.index.tolist() == ["linucb", "greedy", "static_union", "class", "make_greedy",
                                   "<lambda>"]
    for label in ("linucb", "greedy", "static_union"):
        cli = record(out, label)["metrics"]
        assert {k: rows.loc[label, k] for k in cli} == cli
    greedy = record(out, "greedy")["metrics"]
    for label in ("class", "make_greedy", "<lambda>"):  # the same policy, built three ways
        assert {k: rows.loc[label, k] for k in greedy} == greedy
    assert rows.loc["class", "policy_name"] == "ltrr_test_plugins:Greedy"
    assert rows.loc["<lambda>", "policy_name"].startswith("test_api:test_the_api_gives_the_")
    api = json.loads((tmp_path / "api" / "linucb-seed0.json").read_text())
    assert api["provenance"]["command"].startswith(f"python: ltrr.load_benchmark('{path}').run(")


def test_run_leaves_the_benchmark_alone_and_forked_workers_see_registrations(from_cli, tmp_path):
    path, out = from_cli
    bench = ltrr.load_benchmark(path)
    before = (list(bench.seeds), [p.label for p in bench.policies], bench.stream_length)
    results = bench.run(seeds=[0, 1], stream_length=80, progress=False, jobs=2, logs="none",
                        policies=[lambda plans, n, seed, rr: plug.Greedy(plans, n, seed, rr,
                                                                         epsilon=0.2)])
    assert (list(bench.seeds), [p.label for p in bench.policies], bench.stream_length) == before
    rows = results.records
    assert rows["seed"].tolist() == [0, 1]
    assert {k: rows.iloc[0][k] for k in record(out, "greedy")["metrics"]} == \
        record(out, "greedy")["metrics"]
    summary = results.summary()
    assert summary["seeds"].tolist() == [2]
    assert summary["reward"].iloc[0] == pytest.approx(rows["reward"].mean())
    with pytest.raises(InputError, match=r"^no decision log of policy '<lambda>' in .* \(logs "):
        results.decisions("<lambda>")


def test_the_api_refuses_what_it_cannot_run(from_cli):
    path, _ = from_cli
    bench = ltrr.load_benchmark(path)
    where = f"{path} (run's policies=)"
    cases = [
        ([plug.Greedy([0, 1], 2)], "policies[0] is a Greedy object, a policy object: pass its "
                                    "class (or a factory) and its params; ltrr builds a fresh "
                                    "policy for every seed with that seed's random_state"),
        (["linucb", 3], "policies[1] is an int object: pass a label of the file, a policy name, "
                        "a class or factory, or a dict like a [[policies]] table"),
        (["nope"], f"{where}, field 'policies[0].name': unknown policy 'nope' (expected one of "
                   "single:<arm>, best_single, static_union, uniform, epsilon_greedy, ucb1, thompson, exp3, "
                   "linucb, linucb_warm, lints, lin_epsilon_greedy, semibandit, router, "
                   "oracle)"),
        (["linucb", {"name": "linucb"}], f"{where}, field 'policies[1].label': label 'linucb' "
                                         "used twice (give one a distinct label)"),
        ([{"name": plug.Greedy, "params": {"epsilon": 2}, "grid": {"epsilon": [0.1]}}],
         f"{where}, field 'policies[0].grid.epsilon': set both in params and in grid (keep one)"),
    ]
    for policies, message in cases:
        with pytest.raises(InputError) as err:
            bench.run(policies=policies, progress=False)
        assert str(err.value) == message
    with pytest.raises(InputError) as err:
        bench.run(seeds=[7], progress=False)
    assert str(err.value) == (f"{path}, field '--seeds': tuning seeds [7] are also reported seeds"
                              " (benchmark.seeds); tune on seeds disjoint from the ones you "
                              "report")
