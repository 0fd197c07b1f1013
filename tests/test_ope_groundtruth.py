"""Ground truth from the simulator: the plumbing of benchmarks/ope-*.toml on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.errors import InputError
from ltrr.ope import groundtruth

test_loop = pytest.importorskip("test_loop", reason="the loop's fake world lives in tests/test_loop.py")


def spec(**overrides) -> groundtruth.OpeBenchmark:
    values = {"path": "fake.toml", "sha256": "", "base": "fake", "seeds": [0], "stream_length": 1500,
              "logger": "uniform", "targets": ["single:lexical", "single:dense", "static_union"],
              "estimators": ["dm", "ipw", "dr"], "reward_model": "lightgbm", "n_bootstrap": 100}
    values.update(overrides)
    return groundtruth.OpeBenchmark(**values)


def test_off_policy_estimates_meet_on_policy_truth() -> None:
    world = test_loop.make_world(length=1500)
    rows = groundtruth.run_seed(spec(), 0, world, test_loop.TopicFeaturizer(), 1.0)
    assert [r["target"] for r in rows] == ["single:lexical", "single:dense", "static_union"]
    for row in rows:
        # a world without learning arms: the on-policy value equals the value on the log's stream
        assert row["v_on_policy"] == pytest.approx(row["v_log"])
        assert row["diagnostics"]["nonzero_weight_share"] == pytest.approx(1 / 3, abs=0.05)
        for name in ("ipw", "dr"):
            rel = abs(row["estimates"][name]["value"] - row["v_on_policy"]) / row["v_on_policy"]
            assert rel < 0.1, (row["target"], name, rel)
    lexical, dense = rows[0]["v_on_policy"], rows[1]["v_on_policy"]
    assert lexical > dense  # lexical finds 7 of 10 topics
    summary = groundtruth.summarize(rows, ["dm", "ipw", "dr"])
    assert len(summary) == 9 and all(0 <= s["coverage"] <= 1 for s in summary)


@pytest.mark.parametrize(("text", "message"), [
    ('[bench]\nx = 1\n', "expected exactly one table [ope], got bench"),
    ('[ope]\nbase = "music.toml"\nseeds = [0]\nstream_length = 10\nlogger = "uniform"\n',
     "ope.targets: missing required key"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = "long"\nlogger = "uniform"\ntargets = []\n',
     "ope.stream_length: expected int, got 'long'"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nlogger = "uniform"\ntargets = []\nspeed = 1\n',
     "ope.speed: unknown key (expected one of base, seeds, stream_length, logger, logger_params, "
     "targets, estimators, reward_model, folds, n_bootstrap)"),
    ('[ope]\nbase = "m.toml"\nseeds = [0]\nstream_length = 5\nlogger = "uniform"\ntargets = []\n'
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

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ope-music.toml"
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
    from ltrr.experiments.decision_log import decision_frame, write_decision_log
    from ltrr.simulation.loop import run_policy
    from ltrr.simulation.stream import sample_stream

    world = test_loop.make_world(length=600)
    featurizer = test_loop.TopicFeaturizer()
    logger = build_policy("uniform", {}, world.plans, featurizer.dim, 0, (0.0, 5.0))
    trace = run_policy(world, logger, featurizer, sample_stream(world.topics, 600, 1.0, 0), 0)
    path = tmp_path / "uniform-seed0.decisions.parquet"
    write_decision_log(decision_frame(trace, world, featurizer.names), path)
    code = main(["ope", str(path), "--policy", "greedy-dm:lightgbm", "--reward-range", "0,5",
                 "--n-bootstrap", "50", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_evaluated"] == 300 and sorted(doc["actions"]) == sorted(world.plan_ids)
    assert set(doc["estimates"]) == {"dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os"}
