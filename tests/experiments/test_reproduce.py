"""``ltrr reproduce RECORD.json`` on a tiny benchmark with a tuned policy: a fresh record
reproduces; a tampered metric, curve or setting is reported with its difference; a changed
benchmark file is said; bad input exits 2."""

from __future__ import annotations

import json
import shutil

import pytest

from ltrr.cli import main
from ltrr.experiments.reproduce import compare, reproduce
from worlds import BENCHMARK, write_benchmark

TUNED = BENCHMARK.replace('[[policies]]\nname = "linucb"',
                          '[[policies]]\nname = "linucb"\ngrid = { alpha = [0.1, 3.0] }') \
    + '\n[tuning]\nseeds = [100, 101]\nmetric = "reward"\n'


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reproduce")
    path = write_benchmark(tmp, TUNED)
    out = tmp / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--logs", "none",
                 "--policies", "linucb,static_union"]) == 0
    return path, out


def _tamper(src, dst, change) -> None:
    record = json.loads(src.read_text())
    change(record)
    dst.write_text(json.dumps(record))


def test_a_fresh_record_reproduces(finished, capsys):
    _, out = finished
    record = json.loads((out / "linucb-seed1.json").read_text())
    assert record["tuning"]["chosen"] == {"alpha": record["policy_params"]["alpha"]}
    assert main(["reproduce", str(out / "linucb-seed1.json"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "SHA-256 matches the record's" in text
    count = int(text.split("reproduced: all ")[1].split()[0])
    assert count >= len(record["metrics"]) + len(record["curves"])


def test_a_tampered_record_is_reported_with_its_differences(finished, tmp_path, capsys):
    _, out = finished

    def change(record):
        record["metrics"]["reward"] += 0.25
        record["metrics"]["steps_without_relevant"] += 1
        record["curves"]["regret_oracle"][7] -= 2.0

    _tamper(out / "static_union-seed0.json", tmp_path / "static_union-seed0.json", change)
    assert main(["reproduce", str(tmp_path / "static_union-seed0.json"), "--quiet"]) == 1
    text = capsys.readouterr().out
    assert "NOT reproduced: 3 of" in text
    rows = {line.split(" | ")[0].strip("| "): line.strip("|").split(" | ")
            for line in text.splitlines() if line.startswith("| ") and "---" not in line}
    recorded = json.loads((out / "static_union-seed0.json").read_text())
    reward = rows["metrics.reward"]
    assert float(reward[1]) == pytest.approx(recorded["metrics"]["reward"] + 0.25)
    assert float(reward[2]) == pytest.approx(recorded["metrics"]["reward"])
    assert float(reward[3]) == pytest.approx(0.25, rel=1e-2)
    steps = rows["metrics.steps_without_relevant"]
    assert steps[1:4] == [str(recorded["metrics"]["steps_without_relevant"] + 1),
                          str(recorded["metrics"]["steps_without_relevant"]), "1"]
    curve = next(v for k, v in rows.items() if k.startswith("curves.regret_oracle"))
    assert "(1 of 100 points; largest at point 7)" in curve[0] and float(curve[3]) == 2.0


def test_the_record_s_setting_is_used_not_re_tuned(finished, tmp_path):
    _, out = finished
    record = json.loads((out / "linucb-seed0.json").read_text())
    other = 3.0 if record["policy_params"]["alpha"] != 3.0 else 0.1
    _tamper(out / "linucb-seed0.json", tmp_path / "linucb-seed0.json",
            lambda r: r["policy_params"].update(alpha=other))
    rep = reproduce(tmp_path / "linucb-seed0.json")
    assert not rep.matches  # the metrics are those of the chosen alpha, not of `other`
    assert any(d.field == "metrics.reward" for d in rep.differences)


def test_a_changed_benchmark_file_is_said(finished, tmp_path, capsys):
    path, out = finished
    copy = tmp_path / "tiny.toml"
    copy.write_text(path.read_text() + "\n# a comment changes the hash, not the numbers\n")
    assert main(["reproduce", str(out / "static_union-seed1.json"), "--benchmark", str(copy),
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "SHA-256 DIFFERS" in text and "the benchmark file has changed" in text
    assert "reproduced: all" in text


def test_compare_tolerance_and_kinds():
    assert compare({"x": 1.0}, {"x": 1.0 + 1e-12}, "m") == (1, [])
    assert compare({"x": float("nan")}, {"x": float("nan")}, "m") == (1, [])
    n, diffs = compare({"x": 1.0, "k": 3, "s": "a"}, {"x": 1.0 + 1e-6, "k": 4, "s": "b",
                                                       "new": 1}, "m")
    assert n == 4 and [d.field for d in diffs] == ["m.x", "m.k", "m.s", "m.new"]
    assert diffs[0].absolute == pytest.approx(1e-6) and diffs[1].absolute == 1
    assert diffs[3].recorded == '"missing"'


@pytest.mark.parametrize("case, field", [
    ("no such file", None),
    ("not json", None),
    ("not a record", "policy_name"),
    ("no benchmark file", "provenance.benchmark_file"),
    ("unknown policy", "policy"),
])
def test_bad_input_exits_2_with_one_message(finished, tmp_path, capsys, case, field):
    _, out = finished
    target = tmp_path / "linucb-seed0.json"
    if case == "not json":
        target.write_text("{")
    elif case == "not a record":
        target.write_text('{"policy": "linucb"}')
    elif case == "no benchmark file":
        _tamper(out / "linucb-seed0.json", target,
                lambda r: r["provenance"].update(benchmark_file="benchmarks/nope.toml"))
    elif case == "unknown policy":
        _tamper(out / "linucb-seed0.json", target, lambda r: r.update(policy="lints"))
    assert main(["reproduce", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ltrr reproduce: error: {target}")
    if field:
        assert f"field '{field}'" in err[0]


def test_a_record_found_from_its_folder(finished, tmp_path, monkeypatch, capsys):
    """A record naming its benchmark file relative to the repository root (as committed
    results do) is found from any folder below it."""
    path, out = finished
    root = tmp_path / "repo"
    (root / "benchmarks").mkdir(parents=True)
    shutil.copy(path, root / "benchmarks" / "tiny.toml")
    (root / "results" / "tiny").mkdir(parents=True)
    _tamper(out / "static_union-seed0.json", root / "results" / "tiny" / "static_union-seed0.json",
            lambda r: r["provenance"].update(benchmark_file="benchmarks/tiny.toml"))
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "repo/results/tiny/static_union-seed0.json", "--quiet"]) == 0
    assert "repo/benchmarks/tiny.toml" in capsys.readouterr().out


def test_a_fresh_record_says_whether_it_was_made_in_the_locked_environment(finished):
    from ltrr.results.environment import environment

    _, out = finished
    made = json.loads((out / "linucb-seed0.json").read_text())["provenance"]["environment"]
    assert made == environment()
    assert set(made) == {"lock", "lock_sha256", "locked", "differs"}


def test_several_records_each_get_a_verdict_and_a_tampered_one_exits_1(finished, tmp_path,
                                                                        capsys):
    _, out = finished
    _tamper(out / "static_union-seed0.json", tmp_path / "static_union-seed0.json",
            lambda r: r["metrics"].update(reward=r["metrics"]["reward"] + 0.5))
    good = out / "linucb-seed1.json"
    assert main(["reproduce", str(good), str(out / "static_union-seed1.json"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "== 2 records: 2 reproduced, 0 differ, 0 bad input" in text
    assert text.count("reproduced: all") == 2
    assert text.rstrip().splitlines()[-2].startswith(f"reproduced  {good}: all ")

    assert main(["reproduce", str(good), str(tmp_path / "static_union-seed0.json"),
                 "--quiet"]) == 1
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-3] == "== 2 records: 1 reproduced, 1 differ, 0 bad input"
    assert lines[-2].startswith(f"reproduced  {good}: all ")
    assert lines[-1].startswith(f"DIFFERS     {tmp_path / 'static_union-seed0.json'}: 1 of ")
    assert "(metrics.reward;" in lines[-1]


def test_bad_input_among_several_exits_2_after_the_others_are_reproduced(finished, tmp_path,
                                                                         capsys):
    _, out = finished
    missing = tmp_path / "nope-seed0.json"
    assert main(["reproduce", str(missing), str(out / "static_union-seed1.json"),
                 "--quiet"]) == 2
    captured = capsys.readouterr()
    assert f"ltrr reproduce: error: {missing}: no such file" in captured.err.splitlines()
    lines = captured.out.rstrip().splitlines()
    assert lines[-3] == "== 2 records: 1 reproduced, 0 differ, 1 bad input"
    assert lines[-2] == f"BAD INPUT   {missing}: no such file"
    assert lines[-1].startswith(f"reproduced  {out / 'static_union-seed1.json'}: all ")


def test_a_list_file_names_records_from_the_repository_root(finished, tmp_path, monkeypatch,
                                                           capsys):
    """``--list results/REPRODUCED.txt``: paths relative to the root, found from anywhere."""
    path, out = finished
    root = tmp_path / "repo"
    (root / "benchmarks").mkdir(parents=True)
    shutil.copy(path, root / "benchmarks" / "tiny.toml")
    (root / "results" / "tiny").mkdir(parents=True)
    for name in ("linucb-seed0.json", "static_union-seed1.json"):
        _tamper(out / name, root / "results" / "tiny" / name,
                lambda r: r["provenance"].update(benchmark_file="benchmarks/tiny.toml"))
    (root / "results" / "REPRODUCED.txt").write_text(
        "# CI's sample\nresults/tiny/linucb-seed0.json\n\nresults/tiny/static_union-seed1.json"
        "  # a comment\n")
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "--list", "repo/results/REPRODUCED.txt", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "== 2 records: 2 reproduced, 0 differ, 0 bad input" in text
    assert f"reproduced  {root / 'results/tiny/linucb-seed0.json'}: all " in text
    assert main(["reproduce", "--list", "repo/results/nope.txt", "--quiet"]) == 2
    assert "repo/results/nope.txt, field '--list': no such file" in capsys.readouterr().err
    assert main(["reproduce", "--quiet"]) == 2
    assert "no record given" in capsys.readouterr().err


def test_a_locked_record_rerun_outside_the_lock_names_what_differs(finished, tmp_path,
                                                                   monkeypatch, capsys):
    from ltrr.results import environment as env

    _, out = finished
    here = env.environment()
    _tamper(out / "static_union-seed1.json", tmp_path / "static_union-seed1.json",
            lambda r: r["provenance"].update(environment={**here, "locked": True,
                                                          "differs": {}}))
    monkeypatch.setattr(env, "environment", lambda: {
        **here, "locked": False, "differs": {"torch": ["2.13.0+cpu", "2.13.0"]}})
    assert main(["reproduce", str(tmp_path / "static_union-seed1.json"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert ("note: the record was made in the locked environment (requirements/lock.txt, "
            f"SHA-256 {here['lock_sha256'][:12]}); this environment is not: torch 2.13.0+cpu "
            "locked, 2.13.0 installed") in text


def test_a_difference_names_the_arm_whose_lists_changed():
    """The notes name the arms whose candidate-list hashes differ from the record's."""
    from ltrr.experiments.reproduce import list_notes

    then = {"lexical": "a1", "dense": "b1", "memory": "c1"}
    assert list_notes(then, dict(then), False) == []
    assert "same hashes" in list_notes(then, dict(then), True)[0]
    note = list_notes(then, {**then, "dense": "b2"}, True)[0]
    assert note.startswith("the candidate lists of arm(s) dense differ from the record's")
    assert "dense: b1 then, b2 now" in note and "follow from them" in note
    assert "cannot be said" in list_notes(None, then, True)[0]


def test_a_record_whose_arm_lists_changed_says_which(finished, tmp_path, capsys):
    """A record made with another lexical index (its hash differs) and other numbers: the
    report names the lexical arm's lists."""
    _, out = finished
    recorded = json.loads((out / "linucb-seed0.json").read_text())
    assert set(recorded["candidate_lists"]) == {"lexical", "fuzzy", "memory"}

    def change(record):
        record["candidate_lists"]["lexical"] = "0123456789abcdef"
        record["metrics"]["reward"] += 0.1

    _tamper(out / "linucb-seed0.json", tmp_path / "linucb-seed0.json", change)
    assert main(["reproduce", str(tmp_path / "linucb-seed0.json"), "--quiet"]) == 1
    text = capsys.readouterr().out
    assert "note: the candidate lists of arm(s) lexical differ from the record's" in text
    assert "lexical: 0123456789abcdef then" in text
