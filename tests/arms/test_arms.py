"""The retrieval arms on small in-memory corpora: contract, each arm's strategy, caching, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltrr.arms import BUILTIN_ARMS, build_arm
from ltrr.arms.base import RANKING_COLUMNS, atomic_build
from ltrr.datasets.base import Dataset
from ltrr.errors import InputError
from worlds import SONGS, music_dataset, text_dataset


def queries(*texts: str) -> pd.DataFrame:
    return pd.DataFrame({"qid": [str(i) for i in range(1, len(texts) + 1)], "query": list(texts)})


def top(arm, text: str, k: int = 3) -> list[str]:
    res = arm.with_depth(k).transform(queries(text))
    return res["docno"].tolist()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "ltrr_home"))
    return tmp_path / "ltrr_home"


# -- registry and bad input ---------------------------------------------------------------
def test_unknown_arm_lists_valid_names():
    with pytest.raises(InputError, match="unknown arm 'bm25'.*lexical, dense, memory, fuzzy, structured"):
        build_arm("bm25", music_dataset())
    assert tuple(BUILTIN_ARMS) == ("lexical", "dense", "memory", "fuzzy", "structured")


def test_unknown_parameter_is_input_error():
    with pytest.raises(InputError, match="no parameter"):
        build_arm("lexical", music_dataset(), k3=1.0)


def test_structured_needs_structured_fields():
    with pytest.raises(InputError, match="arm 'structured'.*dataset 'toy-text'"):
        build_arm("structured", text_dataset())


def test_fuzzy_needs_title_field():
    with pytest.raises(InputError, match=r"arm 'fuzzy'.*'title'.*dataset 'toy-text'"):
        build_arm("fuzzy", text_dataset())


def test_missing_configured_field_names_dataset_arm_and_field():
    with pytest.raises(InputError, match=r"arm 'lexical' needs corpus field 'abstract'.*'toy-text'"):
        build_arm("lexical", text_dataset(), fields=["abstract"])


def test_depth_must_be_positive():
    with pytest.raises(InputError, match="depth"):
        build_arm("lexical", music_dataset(), num_results=0)


# -- the ranking frame contract -------------------------------------------------------------
@pytest.mark.parametrize("name", ["lexical", "fuzzy", "structured", "memory"])
def test_ranking_frame_contract(name):
    arm = build_arm(name, music_dataset(), num_results=3)
    qs = queries("country songs", "copper lake", "summer love")
    qs["extra"] = ["x", "y", "z"]
    res = arm.transform(qs)
    assert list(res.columns[:2]) == ["qid", "query"]
    assert set(RANKING_COLUMNS + ["extra"]) <= set(res.columns)
    assert res.groupby("qid").size().max() <= 3
    for qid, group in res.groupby("qid"):
        assert group["rank"].tolist() == list(range(len(group)))
        assert (np.diff(group["score"].to_numpy()) <= 0).all()
        assert (group["extra"] == qs.set_index("qid").loc[qid, "extra"]).all()
    assert res["qid"].is_monotonic_increasing
    assert arm.cache_key.startswith(f"{name}:toy-music:")
    assert len(arm.transform(qs.iloc[0:0])) == 0


# -- each arm's strategy ----------------------------------------------------------------------
def test_lexical_ranks_exact_title_first():
    arm = build_arm("lexical", music_dataset())
    assert top(arm, "Silver Crow")[0] == "t2"
    assert top(arm, "ivory tower")[0] == "t4"
    assert arm.describe().endswith("BM25 k1=0.9, b=0.4 (PISA)")


def test_fuzzy_finds_misspelt_title_and_artist():
    arm = build_arm("fuzzy", music_dataset())
    assert arm.fields == ["title", "artist"]
    assert top(arm, "Silvr Crwo")[0] == "t2"
    assert top(arm, "azur sparow")[0] == "t3"
    assert top(arm, "nina bleu", k=2) == ["t4", "t5"]  # both by Nina Blue, ties by docno
    assert top(build_arm("lexical", music_dataset()), "Silvr Crwo") == []


def test_structured_understands_fields_decades_and_aliases():
    arm = build_arm("structured", music_dataset())
    constraints, recent = arm.understand("American country songs from the 90s")
    assert sorted(constraints) == sorted([[("locale", "us")], [("genres", "country")],
                                          [("type", "track")], [("release_year", (1990, 1999))]])
    assert not recent
    for form in ("90s", "1990s", "nineties", "'90s"):
        assert arm.understand(f"songs {form}")[0][1] == [("release_year", (1990, 1999))]
    assert arm.understand("british albums")[0] == [[("locale", "gb")], [("type", "album")]]
    assert arm.understand("latest tracks")[1]


def test_structured_applies_constraints_then_popularity():
    arm = build_arm("structured", music_dataset())
    # all three constraints: t2 (pop 9) before t1 (pop 5); then partial matches
    assert top(arm, "country songs from the 90s", k=6)[:2] == ["t2", "t1"]
    scores = dict(arm.search("country songs from the 90s", 6))
    assert scores["t2"] > scores["t1"] > scores["a1"]  # a1: country + 90s but not a track
    assert int(scores["t4"]) == 2 and int(scores["t5"]) == 2
    assert top(arm, "new country songs", k=3) == ["t4", "t2", "t1"]  # recency order
    assert top(arm, "songs by copper lake", k=1) == ["t2"]
    assert arm.search("golden raven", 5) == []  # nothing to understand


def test_memory_update_changes_ranking_and_reset_restores():
    arm = build_arm("memory", music_dataset())
    cold = arm.search("summer dance", 5)
    assert cold and cold[0][0] == "t2"  # predicted queries: salient terms of t2's text
    assert not arm.seen("summer dance") and arm.past_ctr("summer dance") == 0.0
    arm.update("Summer  dance!", ["t5"])
    warm = arm.search("summer dance", 5)
    assert warm[0][0] == "t5"
    assert "t2" in dict(warm)  # still reachable through lexically similar stored queries
    assert arm.seen("summer dance") and arm.past_ctr("summer dance") == 1.0
    arm.update("summer dance", [])
    # the exact match weighs 2 x clicks / (issues + 1): 2 x 1/2, then 2 x 1/3
    assert dict(arm.search("summer dance", 5))["t5"] == pytest.approx(warm[0][1] - 2 / 2 + 2 / 3)
    assert arm.past_ctr("summer dance") == 0.5 and arm.issues("summer dance") == 2
    arm.reset()
    assert arm.search("summer dance", 5) == cold
    assert not arm.seen("summer dance")


def test_memory_matches_clicked_query_lexically():
    arm = build_arm("memory", music_dataset())
    arm.update("barn dance fiddle tunes", ["t3"])
    assert "t3" in dict(arm.search("fiddle tunes", 10))


def test_memory_no_click_issue_keeps_predictions():
    arm = build_arm("memory", music_dataset())
    before = arm.search("golden raven", 3)
    arm.update("golden raven", [])
    assert arm.search("golden raven", 3) == before
    assert arm.seen("golden raven") and arm.past_ctr("golden raven") == 0.0


def test_memory_ranked_leaves_hidden_documents_out():
    """The loop hides entities not yet released: they must not take a top-k slot."""
    arm = build_arm("memory", music_dataset())
    arm.update("summer dance", ["t5"])
    docnos, _ = arm.ranked("summer dance", 3)
    assert docnos[0] == "t5"
    hidden = arm.docnos == "t5"
    shown, scores = arm.ranked("summer dance", 3, hidden=hidden)
    assert "t5" not in shown.tolist()
    assert len(shown) == min(3, len(arm.ranked("summer dance", 100)[0]) - 1)
    assert list(scores) == sorted(scores, reverse=True)


def test_memory_transform_matches_search():
    arm = build_arm("memory", music_dataset(), num_results=4)
    res = arm.transform(queries("copper lake"))
    assert list(zip(res["docno"], res["score"])) == [
        (d, pytest.approx(s)) for d, s in arm.search("copper lake", 4)]


# -- caching -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lexical", "fuzzy", "structured", "memory"])
def test_second_build_reuses_cached_index(name):
    first = build_arm(name, music_dataset()).load()
    assert first.index_source == "built"
    marker = first.index_dir / "built-by-first"
    marker.write_text("x")
    mtime = first.index_dir.stat().st_mtime_ns
    second = build_arm(name, music_dataset()).load()
    assert second.index_source == "cache"
    assert second.index_dir == first.index_dir and marker.exists()
    assert second.index_dir.stat().st_mtime_ns == mtime
    q = queries("copper lake")
    pd.testing.assert_frame_equal(first.transform(q), second.transform(q))


def test_cache_key_depends_on_dataset_and_settings():
    a = build_arm("lexical", music_dataset("toy-a"))
    b = build_arm("lexical", music_dataset("toy-b"))
    c = build_arm("lexical", music_dataset("toy-a"), fields=["title"])
    assert len({a.index_dir, b.index_dir, c.index_dir}) == 3
    assert a.cache_key != c.cache_key


def test_changed_corpus_under_same_id_is_reindexed():
    first = build_arm("lexical", music_dataset("toy-same-id")).load()
    changed = music_dataset("toy-same-id")
    docs = list(changed.docs())
    docs[0]["title"] = "Golden Ravens"
    changed.docs = lambda: iter(docs)
    second = build_arm("lexical", changed).load()
    assert second.index_source == "built" and second.index_dir != first.index_dir


def test_interrupted_build_is_not_reused(isolated_cache):
    target = isolated_cache / "x" / "index"

    def failing(path):
        path.mkdir(parents=True)
        (path / "half").write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_build(target, failing)
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert atomic_build(target, lambda p: p.mkdir()) is True
    assert atomic_build(target, lambda p: pytest.fail("rebuilt")) is False


# -- the command line -----------------------------------------------------------------------
def beir_folder(tmp_path):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w") as out:
        for row in SONGS:
            out.write(json.dumps({"_id": row[0], "title": row[1], "text": row[10]}) + "\n")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "silver crow"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tt2\t1\n")
    return folder


def test_cli_unknown_arm_exits_2(capsys):
    from ltrr.cli import main

    assert main(["arms", "vaswani", "--arms", "lexical,nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown arm 'nope'" in err and "valid arms" in err and "Traceback" not in err


def test_cli_arm_without_needed_field_exits_2(tmp_path, capsys):
    from ltrr.cli import main

    assert main(["arms", f"beir:{beir_folder(tmp_path)}", "--arms", "structured"]) == 2
    err = capsys.readouterr().err
    assert "arm 'structured'" in err and "structured_fields" in err and "Traceback" not in err


def test_cli_measures_beir_folder_as_json(tmp_path, capfd):
    from ltrr.cli import main

    folder = beir_folder(tmp_path)
    assert main(["arms", f"beir:{folder}", "--arms", "lexical,fuzzy", "--json"]) == 0
    out = json.loads(capfd.readouterr().out)  # PISA's own logging stays off stdout
    assert out["arms"]["lexical"]["index_source"] == "built"
    assert out["groups"]["all"]["arms"]["lexical"]["RR"] == 1.0
    assert out["groups"]["all"]["arms"]["fuzzy"]["nDCG@10"] == 1.0
    assert main(["arms", f"beir:{folder}", "--arms", "lexical", "--json"]) == 0
    assert json.loads(capfd.readouterr().out)["arms"]["lexical"]["index_source"] == "cache"


def test_cli_bad_measure_exits_2(tmp_path, capsys):
    from ltrr.cli import main

    assert main(["arms", "vaswani", "--measures", "nDCG@10,Bogus@3"]) == 2
    assert "unknown measure 'Bogus@3'" in capsys.readouterr().err


def test_structured_reads_space_separated_sets_and_meta_recency():
    docs = [{"docno": "x1", "title": "A", "genres": "rock country", "release_day": 5,
             "popularity": 1.0},
            {"docno": "x2", "title": "B", "genres": "country", "release_day": 900,
             "popularity": 9.0},
            {"docno": "x3", "title": "C", "genres": "jazz", "release_day": 1, "popularity": 5.0}]
    ds = Dataset(id="toy-days", docs=lambda: iter(docs), topics=queries("x"),
                 qrels=pd.DataFrame(columns=["qid", "docno", "label"]), text_fields=["title"],
                 fields=["docno", "title", "genres", "release_day", "popularity"],
                 meta={"structured_fields": {"genres": {"kind": "set"}},
                       "recency": {"field": "release_day", "newer_is": "smaller",
                                   "words": ["fresh"]}})
    arm = build_arm("structured", ds)
    assert top(arm, "country") == ["x2", "x1"]        # popularity
    assert top(arm, "new country") == ["x1", "x2"]    # 5 days old before 900 days old
    assert top(arm, "fresh") == ["x3", "x1", "x2"]    # recency alone orders everything
    with pytest.raises(InputError, match="newer_is"):
        build_arm("structured", ds, newer_is="older")
