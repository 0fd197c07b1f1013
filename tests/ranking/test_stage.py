"""The learned ranking stage inside ``ltrr run``: rankers trained from qrels and clicks and
online from the loop's clicks, the selection x ranking table, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ltrr.cli import main
from worlds import RANKING_BENCHMARK as BENCHMARK, RANKING_PARAMS as PARAMS, make_beir



def write(tmp: Path, text: str, folder: Path) -> Path:
    path = tmp / "rank.toml"
    path.write_text(text.replace("{folder}", str(folder)).replace("{params}", PARAMS))
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    import os

    old = os.environ.get("LTRR_HOME")
    folder = tmp_path_factory.mktemp("rank-loop-home")
    os.environ["LTRR_HOME"] = str(folder)
    yield folder
    os.environ["LTRR_HOME"] = old


@pytest.fixture(scope="module")
def finished(home, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rank-loop")
    path = write(tmp, BENCHMARK, make_beir(tmp / "beir"))
    out = tmp / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return path, out


def record(out: Path, label: str, seed: int = 0) -> dict:
    return json.loads((out / f"{label.replace('/', '-')}-seed{seed}.json").read_text())


def test_records_say_how_each_policy_ranked(finished):
    _, out = finished
    assert record(out, "static_union")["ranker"] == {"name": "rrf", "fusion": "rrf", "k": 60}
    qrels = record(out, "union/qrels")["ranker"]
    assert (qrels["name"], qrels["train"], qrels["mode"]) == ("qrels", "qrels", "qrels")
    assert qrels["labels"].endswith("#train") and qrels["trees"] >= 1
    assert qrels["train_overlap"]["left_out"] == 1  # q23 asks a streamed text
    assert "train_overlap" not in record(out, "union/online")["ranker"]
    clicks = record(out, "union/clicks")["ranker"]
    assert (clicks["correction"], clicks["sessions"]) == ("ips", 400)
    online = record(out, "union/online")["ranker"]
    assert (online["train"], online["retrain_every"], online["retrains"]) == ("online", 50, 4)


def test_learned_rankers_beat_rrf_on_the_same_streams(finished):
    _, out = finished
    for seed in (0, 1):
        rrf = record(out, "static_union", seed)["metrics"]["ndcg@10"]
        for label in ("union/qrels", "union/clicks"):
            assert record(out, label, seed)["metrics"]["ndcg@10"] > rrf + 0.02, (label, seed)


def test_leaderboard_and_learning_curve(finished):
    _, out = finished
    board = (out / "LEADERBOARD.md").read_text()
    assert "Selection x ranking (ndcg@10" in board
    assert ("`qrels`: 1 shared texts, 1 of 16 training topics (6.2% of their weight) left out, "
            "1 of 8 stream topics (12.5% of the stream's weight) had asked a training text"
            ) in board
    assert "| static_union | " in board and "| interaction, linucb x ranking |" in board
    assert (out / "ndcg.png").stat().st_size > 10_000
    # the best learner is compared with the baselines that rank the way it does
    assert "| linucb/qrels | union/qrels | ndcg@10 |" in board


def test_rerun_loads_the_cached_models_and_gives_the_same_numbers(finished, home, tmp_path):
    path, out = finished
    again = tmp_path / "again"
    assert main(["run", str(path), "--out", str(again), "--quiet", "--jobs", "2",
                 "--policies", "union/qrels,union/online,linucb/qrels", "--logs", "none"]) == 0
    for label in ("union/qrels", "union/online", "linucb/qrels"):
        for seed in (0, 1):
            assert record(again, label, seed)["metrics"] == record(out, label, seed)["metrics"]
    assert record(again, "union/qrels")["ranker"]["source"] == "cache"


BAD = [
    ('[rankers.qrels]\ntrain = "qrels"', '[rankers.qrels]\ntrain = "qrels"\nmodel = "xgboost"',
     "field 'rankers.qrels.model': unknown ranker 'xgboost' (choose from lambdamart)"),
    ('[rankers.qrels]\ntrain = "qrels"', '[rankers.qrels]\ntrain = "supervised"',
     "field 'rankers.qrels.train': unknown training mode 'supervised' (choose from qrels, "
     "clicks, online)"),
    ('label = "union/qrels"\nranker = "qrels"', 'label = "union/qrels"\nranker = "nope"',
     "field 'policies[1].ranker': unknown ranker 'nope' (the file declares qrels, clicks, online "
     "in [rankers.<name>] tables)"),
    ('retrain_every = 50', 'retrain_every = 0',
     "field 'rankers.online.retrain_every': must be >= 1, got 0"),
    ('sessions = 400', 'retrain_every = 400',
     "field 'rankers.clicks.retrain_every': only used with train = 'online'"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_bad_ranker_tables_exit_2_and_write_nothing(home, tmp_path, capsys, old, new, message):
    assert old in BENCHMARK
    path = write(tmp_path, BENCHMARK.replace(old, new, 1), make_beir(tmp_path / "beir"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"ltrr run: error: {path}, {message}"
    assert not out.exists()


def test_qrels_training_needs_training_topics(home, tmp_path, capsys):
    lonely = make_beir(tmp_path / "lonely", train=False)
    path = write(tmp_path, BENCHMARK, lonely)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"ltrr run: error: {path}, field 'rankers.clicks.train': dataset 'beir:{lonely}' has no "
        "training topics (no split == 'train' topics, no '.../train' or '#train' sibling)")
    assert not out.exists()


def test_clicks_from_a_log_without_positions(home, tmp_path, capsys):
    log = tmp_path / "clicks.csv"
    pd.DataFrame({"qid": ["q8", "q8"], "docno": ["d08", "d18"], "click": [1, 0]}).to_csv(
        log, index=False)
    path = write(tmp_path, BENCHMARK.replace("sessions = 400", f'log = "{log}"'),
                 make_beir(tmp_path / "beir"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"ltrr run: error: {log}, field 'position': click log has no positions: clicks "
        "training corrects position bias and needs a 'position' column (0-based shown "
        "position) per row")
    assert not out.exists()


def test_a_corrupt_cached_model_is_named(finished, home, tmp_path, capsys):
    path, _ = finished
    victim = next(p for p in sorted((home / "rankers").iterdir()) if "qrels" in p.name)
    content = victim.read_text()
    victim.write_text(content[:100])
    try:
        out = tmp_path / "out"
        assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err == (f"ltrr run: error: {path}, field 'rankers.qrels': {victim}: corrupt cached "
                       "ranker model (not readable as JSON: JSONDecodeError); delete the file to "
                       "retrain it")
        assert not out.exists()
    finally:
        victim.write_text(content)
