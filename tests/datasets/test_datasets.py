"""ltrr.datasets.load: real collections (counts and sampled records), BYO folders, bad input.

Expected records are those of ir_datasets' own integration tests
(test/integration/{vaswani,cranfield,beir}.py), in PyTerrier's column names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ltrr.cli import main
from ltrr.datasets import load
from ltrr.datasets.irds import _guarded
from ltrr.errors import InputError

# id -> (docs, queries, qrels, {index: docno}, {index: (qid, query)}, {index: (qid, docno, label)})
REAL = {
    "vaswani": (11429, 93, 2083,
                {0: "1", 9: "10", 11428: "11429"},
                {0: ("1", "MEASUREMENT OF DIELECTRIC CONSTANT OF LIQUIDS BY THE USE OF MICROWAVE TECHNIQUES"),
                 92: ("93", "HIGH FREQUENCY OSCILLATORS USING TRANSISTORS THEORETICAL TREATMENT AND "
                            "PRACTICAL CIRCUIT DETAILS")},
                {0: ("1", "1239", 1), 9: ("1", "6824", 1), 2082: ("93", "11318", 1)}),
    "cranfield": (1400, 225, 1837,
                  {0: "1", 9: "10", 1399: "1400"},
                  {0: ("1", "what similarity laws must be obeyed when constructing aeroelastic models "
                            "of heated high speed aircraft ."),
                   224: ("225", "what design factors can be used to control lift-drag ratios at mach "
                                "numbers above 5 .")},
                  {0: ("1", "184", 2), 9: ("1", "57", 2), 1836: ("225", "1188", -1)}),
    "beir/nfcorpus/test": (3633, 323, 12334,
                           {0: "MED-10", 9: "MED-335", 3632: "MED-961"},
                           {0: ("PLAIN-2", "Do Cholesterol Statin Drugs Cause Breast Cancer?"),
                            322: ("PLAIN-3472", "How Doctors Responded to Being Named a Leading Killer")},
                           {0: ("PLAIN-2", "MED-2427", 2), 9: ("PLAIN-2", "MED-2434", 1),
                            12333: ("PLAIN-3472", "MED-3627", 1)}),
}


@pytest.mark.shared
@pytest.mark.parametrize("dataset_id", list(REAL))
def test_real_collection_counts_and_records(dataset_id):
    n_docs, n_queries, n_qrels, docs_at, topics_at, qrels_at = REAL[dataset_id]
    dataset = load(dataset_id)
    docs = list(dataset.docs())
    assert dataset.num_docs == n_docs == len(docs)
    assert len(dataset.topics) == n_queries and len(dataset.qrels) == n_qrels
    assert {i: docs[i]["docno"] for i in docs_at} == docs_at
    assert {i: tuple(dataset.topics.iloc[i][["qid", "query"]]) for i in topics_at} == topics_at
    assert {i: tuple(dataset.qrels.iloc[i]) for i in qrels_at} == qrels_at
    assert list(dataset.topics.columns) == ["qid", "query"]
    assert list(dataset.qrels.columns) == ["qid", "docno", "label"]
    assert dataset.qrels["label"].dtype == "int64"
    assert not dataset.topics["query"].str.contains("\n").any()
    assert set(dataset.qrels["qid"]) <= set(dataset.topics["qid"])
    assert all(set(dataset.fields) >= set(doc) for doc in docs[:50])


@pytest.mark.shared
def test_real_collection_fields():
    nfcorpus = load("beir/nfcorpus/test")
    assert nfcorpus.text_fields == ["title", "text"]
    assert nfcorpus.fields == ["docno", "text", "title", "url"]
    first = next(nfcorpus.docs())
    assert first["title"] == ("Statin Use and Breast Cancer Survival: A Nationwide Cohort Study "
                              "from Finland")
    assert first["text"].startswith("Recent studies have suggested that statins")
    # cranfield's text repeats the title, so the title is not joined again
    assert load("cranfield").text_fields == ["text"]
    assert load("vaswani").text_fields == ["text"]


@pytest.mark.shared
def test_cranfield_labels_kept_as_given():
    labels = load("cranfield").qrels["label"].value_counts().to_dict()
    assert labels == {3: 734, 2: 387, 4: 363, -1: 225, 1: 128}


def run_ltrr(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``ltrr ARGS`` in a fresh process (ir_datasets reads IR_DATASETS_HOME once, at import)."""
    return subprocess.run([sys.executable, "-m", "ltrr.cli", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})


@pytest.mark.shared
def test_data_dir_env_links_before_loading(shared_datasets, tmp_path):
    done = run_ltrr("data", "info", "vaswani", "--json",
                    IR_DATASETS_HOME=str(tmp_path), LTRR_DATA_DIR=str(shared_datasets))
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["docs"], info["queries"], info["qrels"]) == (11429, 93, 2083)
    link = tmp_path / "vaswani" / "npl.tar.gz"
    assert link.is_symlink() and link.resolve() == (shared_datasets / "vaswani" / "npl.tar.gz").resolve()


# ---- corrupt or missing ir_datasets archives (no shared files needed) ----

@pytest.mark.parametrize("dataset_id, cache_path, content, reason", [
    ("vaswani", "vaswani/npl.tar.gz", b"\x1f\x8b\x08\x00 truncated gzip", "invalid compressed data"),
    ("beir/nfcorpus/test", "beir/nfcorpus/source.zip", b"not a zip", "File is not a zip file"),
])
def test_unreadable_archive_is_named(dataset_id, cache_path, content, reason, tmp_path):
    (tmp_path / cache_path).parent.mkdir(parents=True)
    (tmp_path / cache_path).write_bytes(content)
    done = run_ltrr("data", "info", dataset_id, IR_DATASETS_HOME=str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"ltrr data: error: {tmp_path / cache_path}: ir_datasets cannot read the archive for "
        f"'{dataset_id}' ({reason}); replace it (ltrr data link DIR --force)")


def test_failed_download_names_cache_path(irds_home):
    def offline():
        raise RuntimeError("All download sources failed", [])

    with pytest.raises(InputError) as err:
        _guarded("cranfield", offline)
    assert str(err.value) == (f"{irds_home}/cranfield/cran.tar.gz: 'cranfield' is not available "
                              "offline and its download failed; link a local copy of its archive "
                              "with `ltrr data link DIR` or set $LTRR_DATA_DIR")


# ---- bring-your-own folders ----

def write_jsonl(path: Path, records: list) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


@pytest.fixture
def beir_folder(tmp_path) -> Path:
    folder = tmp_path / "mybeir"
    (folder / "qrels").mkdir(parents=True)
    write_jsonl(folder / "corpus.jsonl", [
        {"_id": "d1", "title": "Jazz", "text": "smooth\nsaxophone"},
        {"_id": "d2", "title": "Rock", "text": "loud guitars"},
        {"_id": 3, "text": "no title here"},
    ])
    write_jsonl(folder / "queries.jsonl", [
        {"_id": "q1", "text": "saxophone\nmusic"},
        {"_id": "q2", "text": "guitar"},
        {"_id": "q3", "text": "unjudged"},
    ])
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\nq2\t3\t0\n")
    return folder


def test_beir_folder_loads(beir_folder):
    dataset = load(f"beir:{beir_folder}")
    assert dataset.id == f"beir:{beir_folder}"
    assert dataset.topics.to_dict("records") == [{"qid": "q1", "query": "saxophone music"},
                                                 {"qid": "q2", "query": "guitar"}]
    assert dataset.qrels.to_dict("records") == [{"qid": "q1", "docno": "d1", "label": 2},
                                                {"qid": "q2", "docno": "d2", "label": 1},
                                                {"qid": "q2", "docno": "3", "label": 0}]
    assert dataset.qrels["label"].dtype == "int64"
    assert list(dataset.docs()) == [{"docno": "d1", "text": "smooth\nsaxophone", "title": "Jazz"},
                                    {"docno": "d2", "text": "loud guitars", "title": "Rock"},
                                    {"docno": "3", "text": "no title here", "title": ""}]
    assert dataset.text_fields == ["title", "text"] and dataset.num_docs == 3


def test_beir_split_selected_by_fragment(beir_folder):
    (beir_folder / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq3\td2\t1\n")
    dataset = load(f"beir:{beir_folder}#dev")
    assert dataset.topics.to_dict("records") == [{"qid": "q3", "query": "unjudged"}]
    assert dataset.meta["split"] == "dev"


@pytest.fixture
def trec_folder(tmp_path) -> Path:
    folder = tmp_path / "mytrec"
    folder.mkdir()
    (folder / "topics.txt").write_text(
        "<top>\n<num> Number: 301\n<title> international organized crime\n"
        "<desc> Description:\nignored\n</top>\n"
        "<top>\n<num> 302\n<title> poliomyelitis\nand post-polio\n</top>\n")
    (folder / "qrels.txt").write_text("301 0 a 1\n301 0 b 0\n\n302 0 c 2\n")
    write_jsonl(folder / "corpus.jsonl", [
        {"docno": "a", "text": "crime rings", "title": "Crime", "year": 1990},
        {"_id": "b", "text": "fishing"},
        {"id": "c", "text": "polio vaccine"},
    ])
    return folder


def test_trec_folder_loads(trec_folder):
    dataset = load(f"trec:{trec_folder}")
    assert dataset.topics.to_dict("records") == [
        {"qid": "301", "query": "international organized crime"},
        {"qid": "302", "query": "poliomyelitis and post-polio"}]
    assert dataset.qrels.to_dict("records") == [{"qid": "301", "docno": "a", "label": 1},
                                                {"qid": "301", "docno": "b", "label": 0},
                                                {"qid": "302", "docno": "c", "label": 2}]
    assert dataset.qrels["label"].dtype == "int64"
    assert list(dataset.docs()) == [
        {"docno": "a", "text": "crime rings", "title": "Crime", "year": 1990},
        {"docno": "b", "text": "fishing", "title": ""},
        {"docno": "c", "text": "polio vaccine", "title": ""}]
    assert dataset.fields == ["docno", "text", "title", "year"]
    assert dataset.text_fields == ["title", "text"] and dataset.num_docs == 3


def test_trec_topics_tsv(trec_folder):
    (trec_folder / "topics.txt").unlink()
    (trec_folder / "topics.tsv").write_text("301\torganized  crime\n302\tpolio\n")
    topics = load(f"trec:{trec_folder}").topics
    assert topics.to_dict("records") == [{"qid": "301", "query": "organized crime"},
                                         {"qid": "302", "query": "polio"}]


# ---- bad input: one exact message each ----

def _break(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


BEIR_BAD = [
    ("corpus.jsonl", '{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": \n',
     "{f}/corpus.jsonl: line 2: not valid JSON (Expecting value)"),
    ("corpus.jsonl", '{"_id": "d1", "text": "a"}\n{"text": "b"}\n',
     "{f}/corpus.jsonl: line 2: no '_id'"),
    ("queries.jsonl", '{"_id": "q1", "text": "a"}\n\n{"_id": "q2", "text": "b"}\n',
     "{f}/queries.jsonl: line 2: empty line (BEIR reads every line as JSON)"),
    ("queries.jsonl", '{"_id": "q1", "text": "a"}\n[1]\n',
     "{f}/queries.jsonl: line 2: expected a JSON object"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\thigh\n",
     "{f}/qrels/test.tsv: row 3: label 'high' is not an integer"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n",
     "{f}/qrels/test.tsv: row 2: 2 columns, expected 3: query-id<TAB>corpus-id<TAB>score"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq9\td1\t1\n",
     "{f}/qrels/test.tsv: query id 'q9' has no entry in queries.jsonl (1 such ids)"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\tzzz\t1\n",
     "{f}/qrels/test.tsv: no qrels document id is in the corpus (wrong corpus file?)"),
]


@pytest.mark.parametrize("name, text, expected", BEIR_BAD)
def test_bad_beir_folder(beir_folder, name, text, expected):
    _break(beir_folder, name, text)
    with pytest.raises(InputError) as err:
        load(f"beir:{beir_folder}")
    assert str(err.value) == expected.format(f=beir_folder)


TREC_BAD = [
    ("qrels.txt", "301 0 a 1\n301 0 b x\n", "{f}/qrels.txt: row 2: label 'x' is not an integer"),
    ("qrels.txt", "301 0 a 1\n301 0 b 0.5\n", "{f}/qrels.txt: row 2: label '0.5' is not an integer"),
    ("qrels.txt", "301 0 a 1\n301 0 b 1 extra\n",
     "{f}/qrels.txt: row 2: 5 columns, expected 4: qid iter docno label"),
    ("qrels.txt", "301 a 1\n", "{f}/qrels.txt: row 1: 3 columns, expected 4: qid iter docno label"),
    ("qrels.txt", "", "{f}/qrels.txt: no relevance judgements"),
    ("qrels.txt", "999 0 a 1\n", "{f}/qrels.txt: no qrels query id matches a topic id (wrong topics file?)"),
    ("corpus.jsonl", '{"docno": "a", "text": "x"}\n{"docno": "b", "text": "y"\n',
     "{f}/corpus.jsonl: line 2: not valid JSON (Expecting ',' delimiter)"),
    ("corpus.jsonl", '{"docno": "a", "text": "x"}\n{"title": "y", "text": "z"}\n',
     "{f}/corpus.jsonl: line 2: no document id (expected docno, _id or id)"),
    ("corpus.jsonl", '{"docno": "a", "text": "x"}\n{"docno": "b"}\n',
     "{f}/corpus.jsonl: line 2: no 'text' string"),
    ("corpus.jsonl", '{"docno": "a", "text": "x"}\n{"docno": "a", "text": "y"}\n',
     "{f}/corpus.jsonl: line 2: document id 'a' appears twice"),
    ("corpus.jsonl", '["a", "x"]\n', "{f}/corpus.jsonl: line 1: expected a JSON object"),
    ("topics.txt", "<top>no number</top>\n",
     "{f}/topics.txt: cannot read TREC topics (AttributeError: 'NoneType' object has no attribute "
     "'get_text')"),
    ("topics.txt", "301 crime\n", "{f}/topics.txt: no <top> topics with <num> and <title> found"),
]


@pytest.mark.parametrize("name, text, expected", TREC_BAD)
def test_bad_trec_folder(trec_folder, name, text, expected):
    _break(trec_folder, name, text)
    with pytest.raises(InputError) as err:
        load(f"trec:{trec_folder}")
    assert str(err.value) == expected.format(f=trec_folder)


def test_bad_topics_tsv(trec_folder):
    (trec_folder / "topics.txt").unlink()
    (trec_folder / "topics.tsv").write_text("301\tcrime\n302 polio\n")
    with pytest.raises(InputError, match=r"topics.tsv: row 2: expected 'qid<TAB>query', got 1 column\(s\)$"):
        load(f"trec:{trec_folder}")


@pytest.mark.parametrize("make_id, expected", [
    (lambda t: "vaswan", "unknown dataset 'vaswan': it is neither an ir_datasets id nor 'beir:FOLDER', "
                         "'trec:FOLDER', 'ltrr:music' or 'ltrr:mixed'; did you mean 'vaswani'?"),
    (lambda t: "no-such-collection-at-all", "unknown dataset 'no-such-collection-at-all': it is neither "
     "an ir_datasets id nor 'beir:FOLDER', 'trec:FOLDER', 'ltrr:music' or 'ltrr:mixed'"),
    (lambda t: "beir/nfcorpus", "'beir/nfcorpus' has no qrels; ltrr needs docs, queries and qrels "
                                "(pick a subset id such as 'beir/nfcorpus/test')"),
    (lambda t: "", "a dataset id must be a non-empty string, got ''"),
    (lambda t: "ltrr:musik", "unknown dataset 'ltrr:musik': ltrr's own datasets are ltrr:music, ltrr:mixed"),
    (lambda t: "ltrr:music?sise=10", "unknown setting 'sise' in dataset id 'ltrr:music?sise=10'; "
                                     "ltrr:music takes size, seed"),
    (lambda t: "ltrr:music?size=ten", "setting 'size' in dataset id 'ltrr:music?size=ten' must be an "
                                      "integer, got 'ten'"),
    (lambda t: "ltrr:music?seed=1&seed=2", "setting 'seed' given twice in dataset id "
                                           "'ltrr:music?seed=1&seed=2'"),
    (lambda t: f"beir:{t}/absent", "{t}/absent: no such folder"),
    (lambda t: f"trec:{t}", "{t}/corpus.jsonl: missing JSONL corpus (corpus.jsonl)"),
    (lambda t: "beir:", "no folder given after the 'beir:' or 'trec:' prefix"),
])
def test_bad_dataset_ids(make_id, expected, tmp_path):
    with pytest.raises(InputError) as err:
        load(make_id(tmp_path))
    assert str(err.value) == expected.format(t=tmp_path)


def test_missing_beir_split_lists_present_ones(beir_folder):
    with pytest.raises(InputError) as err:
        load(f"beir:{beir_folder}#train")
    assert str(err.value) == (f"{beir_folder}/qrels/train.tsv: missing BEIR qrels for split 'train'; "
                              "splits present: test (pick one with #SPLIT)")


def test_music_id_passes_only_given_settings(monkeypatch):
    calls = []
    fake = type(sys)("ltrr.datasets.music")
    fake.load = lambda **kwargs: calls.append(kwargs) or "world"
    monkeypatch.setitem(sys.modules, "ltrr.datasets.music", fake)
    assert load("ltrr:music") == "world" and load("ltrr:music?size=5000&seed=3") == "world"
    assert load("ltrr:music?seed=7") == "world"
    assert calls == [{}, {"size": 5000, "seed": 3}, {"seed": 7}]


# ---- the CLI: exit code 2, one line, no traceback ----

def test_cli_info_on_beir_folder(beir_folder, capsys):
    assert main(["data", "info", f"beir:{beir_folder}", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["docs"], info["queries"], info["qrels"]) == (3, 2, 3)
    assert info["labels"] == {"0": 1, "1": 1, "2": 1}
    assert info["first_doc"] == {"docno": "d1", "text": "smooth\nsaxophone", "title": "Jazz"}


def test_cli_bad_input_exit_code(trec_folder, capsys):
    _break(trec_folder, "qrels.txt", "301 0 a one\n")
    assert main(["data", "info", f"trec:{trec_folder}"]) == 2
    err = capsys.readouterr().err
    assert err == f"ltrr data: error: {trec_folder}/qrels.txt: row 1: label 'one' is not an integer\n"


def test_cli_subprocess_unknown_dataset():
    done = run_ltrr("data", "info", "vaswan")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "ltrr data: error: unknown dataset 'vaswan': it is neither an ir_datasets id nor "
        "'beir:FOLDER', 'trec:FOLDER', 'ltrr:music' or 'ltrr:mixed'; did you mean 'vaswani'?")


def test_corpus_not_utf8(trec_folder):
    (trec_folder / "corpus.jsonl").write_bytes(b'{"docno": "a", "text": "x"}\n{"docno": "b", "text": "\xff\xfe"}\n')
    with pytest.raises(InputError) as err:
        load(f"trec:{trec_folder}")
    assert str(err.value) == f"{trec_folder}/corpus.jsonl: not UTF-8 text (invalid start byte)"


def test_archive_error_says_download_failed_when_the_archive_is_missing() -> None:
    """requests' connection errors are OSErrors: with no archive on disk, the message must
    say the download failed (not that the archive is unreadable)."""
    from ltrr.datasets import irds

    err = irds._archive_error("beir/scifact/test", ConnectionError("no network"))
    assert "is not available offline and its download failed" in str(err)
    assert str(err).startswith(str(Path(irds.links.irds_home()) / "beir" / "scifact"))
