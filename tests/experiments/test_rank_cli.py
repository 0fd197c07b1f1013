"""``ltrr rank`` end to end on a tiny BEIR folder, and every bad input: one message, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ltrr.cli import main
from worlds import make_beir

WORDS = ["jazz", "rock", "piano", "guitar", "violin", "drums", "blues", "opera", "techno", "folk"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("rank-home")


@pytest.fixture()
def env(home, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_beir(tmp_path_factory.mktemp("beir") / "tiny")


ARGS = ["--arms", "lexical,fuzzy", "--depth", "lexical=20,fuzzy=10", "--sessions", "400",
        "--mode", "qrels,clicks", "--correction", "position,none", "--json"]


def run_json(capsys, *argv) -> dict:
    assert main(["rank", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_rank_trains_caches_and_reports(env, folder, capsys):
    first = run_json(capsys, f"beir:{folder}", *ARGS)
    setup = first["setup"]
    assert setup["train"] == f"beir:{folder}#train" and setup["n_train"] == 15
    assert setup["train_overlap"] == {  # q23 asks test q0's text: left out of training
        "texts": 1, "train_topics": 16, "left_out": 1, "left_out_weight": 0.0625,
        "test_topics": 8, "test_shared": 1, "test_shared_weight": 0.125}
    assert setup["depths"] == {"lexical": 20, "fuzzy": 10}
    rankers = setup["rankers"]
    assert list(rankers) == ["lambdamart:qrels", "lambdamart:clicks/position",
                             "lambdamart:clicks/none"]
    assert {r["source"] for r in rankers.values()} == {"trained"}
    assert all(Path(r["path"]).parent == env / "rankers" for r in rankers.values())
    means = first["groups"]["all"]["systems"]
    assert list(means) == ["rrf", "combsum", *rankers]
    assert first["groups"]["all"]["n_queries"] == 8
    # every system ranks the same union: the same recall at 100 (the union holds < 100)
    assert len({round(m["R@100"], 12) for m in means.values()}) == 1
    assert means["lambdamart:qrels"]["nDCG@10"] > means["rrf"]["nDCG@10"]
    versus = first["versus"]["rrf"]["nDCG@10"]["lambdamart:qrels"]
    assert list(first["versus"]) == ["rrf"] and versus["low"] <= versus["diff"] <= versus["high"]
    assert versus["diff"] == pytest.approx(means["lambdamart:qrels"]["nDCG@10"]
                                           - means["rrf"]["nDCG@10"])
    for r in rankers.values():  # what scoring a pool costs: every test topic's pool, timed
        cost = r["scoring"]
        assert cost["pools"] == 8 and cost["candidates_per_pool"] > 0
        assert 0 < cost["pool_p50_ms"] <= cost["pool_p95_ms"] <= cost["pool_p99_ms"]
        assert cost["us_per_candidate"] == pytest.approx(
            cost["pool_mean_ms"] * 1000 / cost["candidates_per_pool"], rel=0.01)
    again = run_json(capsys, f"beir:{folder}", *ARGS)
    assert {r["source"] for r in again["setup"]["rankers"].values()} == {"cache"}
    assert again["groups"] == first["groups"]
    assert main(["rank", f"beir:{folder}", *ARGS[:-1], "--baseline",
                 "rrf,lambdamart:clicks/none"]) == 0
    table = capsys.readouterr().out
    assert ("training topics vs reported topics by normalised query text: 1 shared texts; "
            "1 of 16 training topics (6.2% of their weight) asked a reported text and were "
            "left out; 1 of 8 reported topics (12.5% of their weight) asked a training text"
            ) in table
    assert "nDCG@10 vs rrf [95% CI], p" in table
    assert "paired against lambdamart:clicks/none:" in table
    assert "nDCG@10 vs lambdamart:clicks/none [95% CI], p" in table


def error_of(capsys, *argv) -> str:
    assert main(["rank", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = [line for line in captured.err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "Traceback" not in captured.err  # BEIR's loader prints progress
    return errors[0].strip()


def test_a_corrupt_cached_model_exits_2_naming_the_file(env, folder, capsys):
    run_json(capsys, f"beir:{folder}", *ARGS)  # cached by now (or trained here)
    files = sorted((env / "rankers").iterdir())
    victim = next(p for p in files if "qrels" in p.name)
    content = victim.read_text()[:100]
    victim.write_text(content)
    try:
        err = error_of(capsys, f"beir:{folder}", *ARGS)
        assert err == (f"ltrr rank: error: {victim}: corrupt cached ranker model (not readable "
                       "as JSON: JSONDecodeError); delete the file to retrain it")
        assert sorted((env / "rankers").iterdir()) == files and victim.read_text() == content
    finally:
        victim.unlink()


@pytest.mark.parametrize("argv, message", [
    (["--ranker", "xgboost"], "unknown ranker 'xgboost' (choose from lambdamart)"),
    (["--mode", "qrels,supervised"],
     "unknown training mode 'supervised' (choose from qrels, clicks, online)"),
    (["--mode", "online"], "training mode 'online' retrains inside the interaction loop "
                           "(ltrr run); ltrr rank trains offline: choose qrels or clicks"),
    (["--mode", "clicks", "--correction", "dr"],
     "unknown click correction 'dr' (choose from position, ips, none)"),
    (["--baseline", "bm25"], "--baseline 'bm25' is not one of the compared systems (rrf, "
                             "combsum, lambdamart:qrels)"),
    (["--params", "[1]"], "--params must be a JSON object of LightGBM parameters"),
    (["--mode", "clicks", "--click-model", "nope"],
     "unknown click model 'nope' (choose from pbm, cascade, dcm)"),
    (["--mode", "clicks", "--click-params", "casual"],
     "unknown click parameter set 'casual' (choose from perfect, navigational, informational)"),
    (["--arms", "lexical,bm42"], "field 'arm': unknown arm 'bm42'; valid arms: lexical, dense, "
                                 "memory, fuzzy, structured"),
    (["--arms", "lexical", "--depth", "dense=5"],
     "--depth: 'dense=5' is not arm=N for one of the arms (lexical)"),
])
def test_bad_options_exit_2_before_anything_is_built(env, folder, capsys, argv, message):
    before = set(env.rglob("*"))
    assert error_of(capsys, f"beir:{folder}", *argv) == f"ltrr rank: error: {message}"
    assert set(env.rglob("*")) == before


def test_qrels_training_needs_training_topics(env, tmp_path, capsys):
    lonely = make_beir(tmp_path / "lonely", train=False)
    err = error_of(capsys, f"beir:{lonely}", "--arms", "lexical")
    assert err == (f"ltrr rank: error: dataset 'beir:{lonely}' has no training topics (no "
                   "split == 'train' topics, no '.../train' or '#train' sibling); name a "
                   "dataset on the same corpus to train on (ltrr rank --train DATASET)")
    assert not (env / "rankers").exists() or not any(
        str(lonely) in p.read_text() for p in (env / "rankers").iterdir())


def test_training_on_another_corpus_is_refused(env, folder, tmp_path, capsys):
    other = make_beir(tmp_path / "other")
    (other / "corpus.jsonl").write_text((other / "corpus.jsonl").read_text().replace("jazz", "soul"))
    err = error_of(capsys, f"beir:{folder}", "--arms", "lexical", "--train", f"beir:{other}#train")
    assert err == (f"ltrr rank: error: field 'train': 'beir:{other}#train' does not share the "
                   f"corpus of 'beir:{folder}': a ranker trained on it would rank other documents")


def test_clicks_from_a_log_without_positions(env, folder, tmp_path, capsys):
    log = tmp_path / "clicks.csv"
    pd.DataFrame({"qid": ["q8", "q8"], "docno": ["d08", "d18"], "click": [1, 0]}).to_csv(log,
                                                                                       index=False)
    before = set(env.rglob("*"))
    err = error_of(capsys, f"beir:{folder}", "--mode", "clicks", "--log", str(log))
    assert err == (f"ltrr rank: error: {log}, field 'position': click log has no positions: "
                   "clicks training corrects position bias and needs a 'position' column "
                   "(0-based shown position) per row")
    assert set(env.rglob("*")) == before


def test_clicks_from_a_decision_log(env, folder, tmp_path, capsys):
    log = tmp_path / "decisions.parquet"
    shown = [["d08", "d18", "d01"], ["d09", "d02", "d19"], ["d00", "d10"]] * 20
    clicks = [[0, 1, 0], [1, 0, 1], [1, 0]] * 20
    qids = ["q8", "q9", "q0"] * 20  # q0 is a test topic: never trained on
    pd.DataFrame({"step": range(60), "qid": qids, "shown": shown, "clicks": clicks}).to_parquet(log)
    out = run_json(capsys, f"beir:{folder}", "--arms", "lexical,fuzzy", "--depth", "10",
                   "--mode", "clicks", "--log", str(log), "--json")
    info = out["setup"]["rankers"]["lambdamart:clicks/ips"]  # the default correction
    assert info["clicks"] == f"log {log}" and info["rows"] == 120  # the 60 q8 and 60 q9 rows only


def test_training_on_the_reported_topics_is_refused(env, folder, capsys):
    err = error_of(capsys, f"beir:{folder}", "--arms", "lexical", "--train", f"beir:{folder}")
    assert err == (f"ltrr rank: error: field 'qid': training topics (beir:{folder}) share qids "
                   f"with the reported test topics of 'beir:{folder}'")


def test_the_rankers_see_the_declared_priors_or_those_named(env, capsys):
    """``--priors none`` trains without the dataset's document priors (the music world's
    popularity shares a cause with its judge), so the gain from the arms' scores alone can be
    measured; a prior the dataset does not declare is refused before anything is built."""
    world = "ltrr:music?size=400&seed=3"
    argv = [world, "--arms", "lexical,fuzzy", "--depth", "20", "--mode", "qrels", "--json"]
    every = run_json(capsys, *argv)["setup"]
    assert every["priors"] == ["popularity", "recency"]
    assert {"prior:popularity", "prior:recency"} <= set(every["features"])
    none = run_json(capsys, *argv, "--priors", "none")["setup"]
    assert none["priors"] == [] and not [f for f in none["features"] if f.startswith("prior:")]
    assert set(none["features"]) == set(every["features"]) - {"prior:popularity", "prior:recency"}
    one = run_json(capsys, *argv, "--priors", "recency")["setup"]
    assert one["priors"] == ["recency"]
    before = set(env.rglob("*"))
    assert error_of(capsys, *argv, "--priors", "age") == (
        f"ltrr rank: error: field 'priors': dataset '{world}' declares no prior(s) ['age'] "
        "(declared: popularity, recency)")
    assert set(env.rglob("*")) == before


def test_scoring_cost_statistics_and_the_latency_lines(env, folder, capsys):
    from ltrr.experiments.rank import scoring_cost

    cost = scoring_cost([(0.001, 100), (0.003, 100), (0.002, 50)])
    assert cost == {"pools": 3, "candidates_per_pool": 83.3, "us_per_candidate": 24.0,
                    "pool_mean_ms": 2.0, "pool_p50_ms": 2.0, "pool_p95_ms": 2.9,
                    "pool_p99_ms": 2.98}
    assert main(["rank", f"beir:{folder}", *ARGS[:-1], "--latency"]) == 0
    out = capsys.readouterr().out
    assert "scoring a test topic's pool (one score call, after a warm-up call" in out
    assert out.count("us per candidate") == 4  # the header and one line per ranker
    assert main(["rank", f"beir:{folder}", *ARGS[:-1]]) == 0
    assert "us per candidate" not in capsys.readouterr().out
