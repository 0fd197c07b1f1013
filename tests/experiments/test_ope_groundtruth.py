"""Ground truth from the simulator: the plumbing of benchmarks/ope-*.toml on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.experiments.ope_truth import groundtruth, groundtruth_tables
from ltrr.selection.policies import build_policy

import worlds as test_loop


def spec(**overrides) -> groundtruth.OpeBenchmark:
    values = {"path": "fake.toml", "sha256": "", "base": "fake", "seeds": [0], "stream_length": 1500,
              "loggers": [groundtruth.PolicySpec("uniform"), groundtruth.PolicySpec("thompson")],
              "targets": ["single:lexical", "single:dense", "static_union"],
              "learners": [groundtruth.PolicySpec("linucb", {"alpha": 0.5}),
                           groundtruth.PolicySpec("epsilon_greedy")],
              "estimators": ["dm", "ipw", "dr"], "reward_model": "logistic", "n_bootstrap": 20}
    values.update(overrides)
    return groundtruth.OpeBenchmark(**values)


@pytest.fixture(scope="module")
def seed_rows():
    world = test_loop.make_world(length=1500)
    return world, groundtruth.run_seed(spec(), 0, world, test_loop.TopicFeaturizer(), 1.0)


def test_off_policy_estimates_meet_on_policy_truth(seed_rows) -> None:
    _, rows = seed_rows
    targets = rows["targets"]
    assert [(r["logger"], r["target"]) for r in targets] == [
        (logger, t) for logger in ("uniform", "thompson") for t in ("single:lexical", "single:dense", "static_union")]
    for row in targets:
        # a world without learning arms: the on-policy value equals the value on the log's stream
        assert row["v_on_policy"] == pytest.approx(row["v_log"])
        if row["logger"] == "uniform":
            assert row["diagnostics"]["nonzero_weight_share"] == pytest.approx(1 / 3, abs=0.05)
            for name in ("ipw", "dr"):
                rel = abs(row["estimates"][name]["value"] - row["v_on_policy"]) / row["v_on_policy"]
                assert rel < 0.1, (row["target"], name, rel)
    lexical, dense = targets[0]["v_on_policy"], targets[1]["v_on_policy"]
    assert lexical > dense  # lexical finds 7 of 10 topics
    summary = groundtruth_tables.summarize(targets, ["dm", "ipw", "dr"])
    assert len(summary) == 18 and all(0 <= s["coverage"] <= 1 for s in summary)


def test_replayed_learners_meet_their_on_policy_values(seed_rows) -> None:
    """Replay from the uniform log accepts about T/3 rows (3 plans) and its estimate is close to
    the learner's value along the replay path (V_log: same learner path). The on-policy values
    are what they say: V_N from a run where the learner acts at a third of the steps, V_first
    and V_T from its plain on-policy run. (A learner's path varies from run to run, so replay
    matches those only in distribution: tests/ope/test_replay.py checks that over 40 seeds.)"""
    from ltrr.simulation.loop import run_policy
    from ltrr.simulation.stream import sample_stream

    world, rows = seed_rows
    uniform = [r for r in rows["learners"] if r["logger"] == "uniform"]
    assert [r["learner"] for r in uniform] == ["linucb", "epsilon_greedy"]
    for row in uniform:
        assert abs(row["accepted"] - 500) <= 3 * np.sqrt(1500 * (1 / 3) * (2 / 3))
        assert row["method"] == "replay (uniform logs; Li et al. 2011)"
        assert row["acceptance_probability"] == pytest.approx(1 / 3)
        assert row["ci_lower"] < row["estimate"] < row["ci_upper"]
        assert abs(row["interleaved_decisions"] - 500) <= 3 * np.sqrt(1500 * (1 / 3) * (2 / 3))
        assert abs(row["estimate"] - row["v_log"]) / row["v_log"] < 0.1, row
    linucb = uniform[0]
    policy = build_policy("linucb", {"alpha": 0.5}, world.plans,
                          n_features=2, random_state=0, reward_range=(0.0, 5.0))
    trace = run_policy(world, policy, test_loop.TopicFeaturizer(),
                       sample_stream(world.topics, 1500, 1.0, 0), 0)
    values = trace.expected[np.arange(1500), trace.plan]
    assert linucb["v_first_n"] == pytest.approx(values[:linucb["accepted"]].mean())
    assert linucb["v_all"] == pytest.approx(values.mean())
    logger = build_policy("uniform", {}, world.plans,
                          n_features=2, random_state=0, reward_range=(0.0, 5.0))
    mixed = groundtruth.Interleaved(build_policy("linucb", {"alpha": 0.5}, world.plans,
                                                 n_features=2, random_state=0,
                                                 reward_range=(0.0, 5.0)),
                                    logger, 1 / 3, 0)
    trace = run_policy(world, mixed, test_loop.TopicFeaturizer(), sample_stream(world.topics, 1500, 1.0, 0), 0)
    turns = np.array(mixed.turns)
    assert linucb["v_interleaved"] == pytest.approx(trace.expected[np.arange(1500), trace.plan][turns].mean())
    thompson = [r for r in rows["learners"] if r["logger"] == "thompson"]
    assert all(r["method"].startswith("rejection-sampling replay") for r in thompson)
    summary = groundtruth_tables.summarize_learners(rows["learners"])
    assert [(s["logger"], s["learner"]) for s in summary] == [
        ("uniform", "linucb"), ("uniform", "epsilon_greedy"),
        ("thompson", "linucb"), ("thompson", "epsilon_greedy")]


def test_markdown_has_a_table_per_logger_and_the_learners(seed_rows) -> None:
    _, rows = seed_rows
    result = {"seeds": [0], "stream_length": 1500, "reward_model": "lightgbm", "n_bootstrap": 20,
              "loggers": [{"name": "uniform", "params": {}}, {"name": "thompson", "params": {}}],
              "summary": groundtruth_tables.summarize(rows["targets"], ["dm", "ipw", "dr"]),
              "learner_summary": groundtruth_tables.summarize_learners(rows["learners"])}
    text = groundtruth_tables.markdown(result)
    assert "## Fixed targets, logger `uniform`" in text and "## Fixed targets, logger `thompson`" in text
    assert "## Learning policies by replay" in text
    assert text.count("| uniform | linucb |") == 1 and text.count("| single:lexical |") == 6


@pytest.mark.parametrize(("text", "message"), [
    ('[bench]\nx = 1\n', "expected exactly one table [ope], got bench"),
    ('[ope]\nbase = "music.toml"\nseeds = [0]\nstream_length = 10\nloggers = ["uniform"]\n',
     "ope.targets: missing required key"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = "long"\nloggers = ["uniform"]\ntargets = []\n',
     "ope.stream_length: expected int, got 'long'"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nlogger = "uniform"\ntargets = []\n',
     "ope.logger: unknown key (expected one of base, seeds, stream_length, loggers, targets, "
     "learners, estimators, reward_model, folds, n_bootstrap)"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nloggers = []\ntargets = []\n',
     "ope.loggers: name at least one logging policy"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nloggers = [{name = "uniform", p = 1}]\n'
     'targets = []\n',
     "ope.loggers[0]: expected a policy name or a table {name = \"...\", params = {...}}, "
     "got {'name': 'uniform', 'p': 1}"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nloggers = ["uniform"]\ntargets = []\n'
     'learners = ["linucb", "oracle"]\n',
     "ope.learners[1]: 'oracle' is not a learning policy replay can evaluate (one of epsilon_greedy, "
     "ucb1, thompson, exp3, linucb, lints, lin_epsilon_greedy)"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nloggers = ["uniform"]\n'
     'targets = ["static_union", "router"]\n',
     "ope.targets[1]: policy 'router' learns from training topics before the stream, which the "
     "OPE ground truth does not prepare; compare it on-policy with `ltrr run`"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nloggers = ["uniform"]\ntargets = []\n'
     'estimators = ["ipw", "magic"]\n',
     "--estimators: unknown estimator 'magic'; choose from dm, ipw, snipw, dr, sndr, switch-dr, dr-os"),
])
def test_bad_ope_benchmark_files(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "ope.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        groundtruth.load(path)
    assert str(err.value) in (f"{path}: {message}", message)


def test_the_committed_benchmark_file_loads() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ope-music.toml"
    if not path.exists():
        pytest.skip("benchmarks/ope-music.toml not written yet")
    loaded = groundtruth.load(path)
    assert loaded.base.name == "music.toml" and loaded.base.exists()
    assert np.all(np.array(loaded.seeds) >= 0)


def test_ltrr_ope_reads_a_real_decision_log(tmp_path, capsys) -> None:
    """The loop's own Parquet decision log goes into `ltrr ope` unchanged."""
    import json

    from ltrr.cli import main
    from ltrr.selection.policies import build_policy
    from ltrr.decision_log import trace_decisions, write_decision_log
    from ltrr.simulation.loop import run_policy
    from ltrr.simulation.stream import sample_stream

    world = test_loop.make_world(length=600)
    featurizer = test_loop.TopicFeaturizer()
    logger = build_policy("uniform", {}, world.plans,
                          n_features=featurizer.dim, random_state=0, reward_range=(0.0, 5.0))
    trace = run_policy(world, logger, featurizer, sample_stream(world.topics, 600, 1.0, 0), 0)
    path = tmp_path / "uniform-seed0.decisions.parquet"
    write_decision_log(trace_decisions(trace, world, featurizer.names), path)
    code = main(["ope", str(path), "--policy", "greedy-dm:lightgbm", "--reward-range", "0,5",
                 "--n-bootstrap", "50", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_evaluated"] == 300 and sorted(doc["actions"]) == sorted(world.plan_ids)
    assert set(doc["estimates"]) == {"dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os"}


def test_the_base_benchmark_is_written_relative_to_the_current_folder(tmp_path, monkeypatch):
    """A committed ope_groundtruth.json must not carry the absolute path of its machine."""
    from pathlib import Path

    from ltrr.experiments.ope_truth.groundtruth import _shown

    monkeypatch.chdir(tmp_path)
    assert _shown(tmp_path / "benchmarks" / "music.toml") == "benchmarks/music.toml"
    assert _shown(Path("/elsewhere/music.toml")) == "/elsewhere/music.toml"


def test_a_base_with_a_post_retrieval_probe_is_refused(tmp_path, capsys):
    """On-policy values are probe-free expected clicks; a probe's price would make the logged
    rewards incomparable, so such a base is refused before anything runs."""
    from pathlib import Path

    from ltrr.cli import main

    base = Path(__file__).resolve().parents[2] / "benchmarks" / "music-post.toml"
    path = tmp_path / "ope.toml"
    path.write_text(f'[ope]\nbase = "{base}"\nseeds = [0]\nstream_length = 100\n'
                    'loggers = ["uniform"]\ntargets = ["static_union"]\n')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{path}, field 'ope.base': the base benchmark has a post-retrieval probe" in err
    assert not (tmp_path / "out").exists()


def test_seeds_in_forked_processes_give_the_rows_of_one_process() -> None:
    """``ltrr run ope.toml --jobs 2`` plays seeds in parallel; the rows, in seed order, are
    the serial run's."""
    world = test_loop.make_world(length=300)
    small = spec(seeds=[0, 1], stream_length=300, n_bootstrap=5,
                 learners=[groundtruth.PolicySpec("epsilon_greedy")])
    featurizer = test_loop.TopicFeaturizer()
    serial = list(groundtruth._seeds_rows(small, world, featurizer, 1.0, 1, False))
    forked = list(groundtruth._seeds_rows(small, world, featurizer, 1.0, 2, False))
    assert len(serial) == 2 and forked == serial
    assert serial[0] != serial[1]


def test_the_written_result_says_how_it_was_made() -> None:
    """The committed README of a ground-truth run names its command, commit and environment."""
    result = {"benchmark": "b.toml", "seeds": [0], "stream_length": 1500,
              "reward_model": "logistic", "n_bootstrap": 20, "loggers": [], "rows": [],
              "provenance": {"command": "ltrr run b.toml --jobs 2", "ltrr_version": "0.1.0",
                             "git": {"commit": "0123456789abcdef", "dirty": False},
                             "wall_time_s": 61.2,
                             "environment": {"lock": "requirements/lock.txt",
                                             "lock_sha256": "ea156de2d8236269", "locked": True}}}
    assert groundtruth_tables.made_by(result) == (
        "Made by `ltrr run b.toml --jobs 2` at git commit `0123456789ab`, ltrr 0.1.0, 61 s wall, "
        "in the locked environment (`requirements/lock.txt`, SHA-256 `ea156de2d823`).")
    result["provenance"]["environment"] = {"lock": "requirements/lock.txt", "lock_sha256": "ea",
                                           "locked": False, "differs": {"numpy": ["2.0", "2.1"]}}
    assert groundtruth_tables.made_by(result).endswith(
        "outside the locked environment (`requirements/lock.txt`, SHA-256 `ea`): installed "
        "versions that differed from the lock: numpy 2.0 locked, 2.1 installed.")


def test_an_undefined_relative_error_says_why() -> None:
    """A learner whose on-policy V_N is 0 on its one estimated seed has no relative error; the
    table says so, also when read back from JSON (NaN as None)."""
    row = {"logger": "thompson", "learner": "lints", "accepted": 1.0, "v_interleaved": 0.0,
           "v_first_n": 0.27, "v_all": 1.13, "v_log": 0.75, "estimate": 1.0, "ci_width": 2.6,
           "relative_error": None, "relative_error_ci": [None, None], "coverage": 1.0,
           "coverage_v_first_n": 1.0, "coverage_v_log": 1.0, "seeds_estimated": 1, "seeds": 10}
    line = groundtruth_tables.learner_table({"stream_length": 5000, "learner_summary": [row]})[-1]
    assert "| — (V_N = 0)  | 1.00 | 1.00 | 1.00 (1 of 10 seeds) |" in line
