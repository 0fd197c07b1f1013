"""Bring-your-own collections: a BEIR folder or TREC topics + qrels with a JSONL corpus.

``beir:FOLDER[#split]`` reads ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``
through the ``beir`` package's ``GenericDataLoader`` (BEIR's own reader, so a folder that
works with BEIR works here). ``trec:FOLDER`` reads ``topics.txt`` (TREC ``<top>`` SGML) or
``topics.tsv`` (``qid<TAB>query``), ``qrels.txt`` (``qid iter docno label``) and
``corpus.jsonl`` (``docno`` or ``_id``/``id``, ``text``, optional ``title`` and any other
fields), using PyTerrier's ``pt.io.read_topics`` / ``pt.io.read_qrels``. PyTerrier drops
one leading zero of a TREC topic number (``051`` -> ``51``, as TREC-1's qrels number them).

Those readers stop on bad input with a bare exception or, worse, accept it (a qrels label
that is not an integer, a TSV row without a tab). The checks here name the file and line:
they rescan a file only after its reader failed, so good input costs nothing extra.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import pandas as pd

from ltrr.datasets.base import Dataset
from ltrr.datasets.identical_ids import META_KEY, identical_ids_note
from ltrr.errors import InputError

INT = re.compile(r"^[+-]?\d+$")
# Keys a JSONL corpus record may carry its document id under, most preferred first.
ID_KEYS = ("docno", "_id", "id")


def _folder(path: str | Path) -> Path:
    folder = Path(path).expanduser()
    if not str(path).strip():
        raise InputError("no folder given after the 'beir:' or 'trec:' prefix")
    if not folder.is_dir():
        raise InputError("no such folder", file=str(folder))
    return folder


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputError(f"missing {what}", file=str(path))
    return path


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line number, record)`` for each non-blank line; InputError on a malformed one."""
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise InputError(f"line {number}: not valid JSON ({err.msg})",
                                     file=str(path)) from None
                if not isinstance(record, dict):
                    raise InputError(f"line {number}: expected a JSON object", file=str(path))
                yield number, record
    except UnicodeDecodeError as err:
        # decoding runs a block ahead of the lines, so no line number can be given
        raise InputError(f"not UTF-8 text ({err.reason})", file=str(path)) from None


def _check_beir_jsonl(path: Path, error: Exception | None = None) -> None:
    """Raise InputError at the first line BEIR's loader cannot take (blank, not JSON, no ``_id``)."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                raise InputError(f"line {number}: empty line (BEIR reads every line as JSON)",
                                 file=str(path))
    for number, record in _jsonl(path):
        if record.get("_id") in (None, ""):
            raise InputError(f"line {number}: no '_id'", file=str(path))
    if error is not None:
        raise InputError(f"BEIR's loader failed ({type(error).__name__}: {error})", file=str(path))


def _check_qrels_lines(path: Path, *, beir: bool, error: Exception | None = None) -> None:
    """Raise InputError at the first qrels row that is short or has a non-integer label.

    BEIR qrels are tab-separated ``query-id corpus-id score`` under a header line; TREC
    qrels are whitespace-separated ``qid iter docno label``. ``error`` is what the library
    reader raised: when no row is at fault, the InputError carries its message.
    """
    width, label_at = (3, 2) if beir else (4, 3)
    layout = "query-id<TAB>corpus-id<TAB>score" if beir else "qid iter docno label"
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip() or (beir and number == 1):
                continue
            cells = line.rstrip("\n").split("\t" if beir else None)
            if len(cells) < width or (not beir and len(cells) > width):
                raise InputError(f"row {number}: {len(cells)} columns, expected {width}: {layout}",
                                 file=str(path))
            if not INT.match(cells[label_at].strip()):
                raise InputError(f"row {number}: label '{cells[label_at].strip()}' is not an "
                                 f"integer", file=str(path))
    detail = f" ({type(error).__name__}: {error})" if error is not None else ""
    raise InputError(f"cannot read qrels{detail}; expected rows '{layout}'", file=str(path))


def load_beir(path: str | Path, split: str = "test", *, dataset_id: str | None = None) -> Dataset:
    """A BEIR-format folder through ``beir.datasets.data_loader.GenericDataLoader``."""
    from beir.datasets.data_loader import GenericDataLoader

    folder = _folder(path)
    corpus_file = _need(folder / "corpus.jsonl", "BEIR corpus (corpus.jsonl)")
    queries_file = _need(folder / "queries.jsonl", "BEIR queries (queries.jsonl)")
    qrels_file = folder / "qrels" / f"{split}.tsv"
    if not qrels_file.is_file():
        splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        have = f"; splits present: {', '.join(splits)} (pick one with #SPLIT)" if splits else ""
        raise InputError(f"missing BEIR qrels for split '{split}'{have}", file=str(qrels_file))

    loader = GenericDataLoader(data_folder=str(folder))
    loader.qrels_file = str(qrels_file)
    for read, file, loaded in ((loader._load_corpus, corpus_file, loader.corpus),
                               (loader._load_queries, queries_file, loader.queries)):
        try:
            read()
        except (json.JSONDecodeError, AttributeError) as err:
            _check_beir_jsonl(file, err)
        if None in loaded or "" in loaded:
            _check_beir_jsonl(file)
    try:
        loader._load_qrels()
    except (ValueError, IndexError, StopIteration) as err:
        _check_qrels_lines(qrels_file, beir=True, error=err)
    # JSON ids may be numbers; qrels ids are always strings.
    loader.corpus = {str(k): v for k, v in loader.corpus.items()}
    loader.queries = {str(k): v for k, v in loader.queries.items()}
    missing = [qid for qid in loader.qrels if qid not in loader.queries]
    if missing:
        raise InputError(f"query id '{missing[0]}' has no entry in {queries_file.name}"
                         f" ({len(missing)} such ids)", file=str(qrels_file))

    corpus = loader.corpus
    topics = pd.DataFrame([(qid, _one_line(loader.queries[qid] or "")) for qid in loader.qrels],
                          columns=["qid", "query"], dtype=str)
    qrels = pd.DataFrame([(qid, docno, label) for qid, judged in loader.qrels.items()
                          for docno, label in judged.items()], columns=["qid", "docno", "label"])
    has_title = any(doc.get("title") for doc in corpus.values())
    text_fields = ["title", "text"] if has_title else ["text"]
    identical = int(topics["qid"].isin(set(corpus)).sum())
    meta = {"source": "beir", "folder": str(folder), "split": split,
            META_KEY: identical > 0, "identical_ids": identical}
    if identical:
        meta["notes"] = [identical_ids_note(identical, len(topics))]

    def docs() -> Iterator[dict]:
        for docno, doc in corpus.items():
            record = {"docno": docno, "text": doc.get("text") or ""}
            if has_title:
                record["title"] = doc.get("title") or ""
            yield record

    return _checked(Dataset(
        id=dataset_id or f"beir:{folder}#{split}", docs=docs, topics=topics,
        qrels=qrels.astype({"qid": str, "docno": str, "label": "int64"}),
        text_fields=text_fields, fields=["docno", *text_fields], num_docs=len(corpus),
        meta=meta,
    ), set(corpus), str(qrels_file))


def _trec_topics(folder: Path) -> pd.DataFrame:
    import pyterrier as pt

    sgml, tsv = folder / "topics.txt", folder / "topics.tsv"
    if sgml.is_file():
        if "<top>" not in sgml.read_text(encoding="utf-8", errors="replace").lower():
            raise InputError("no <top> topics with <num> and <title> found", file=str(sgml))
        try:
            topics = pt.io.read_topics(str(sgml), format="trec")
        except Exception as err:  # bs4/regex failures on a file that is not TREC SGML
            raise InputError(f"cannot read TREC topics ({type(err).__name__}: {err})",
                             file=str(sgml)) from None
        if topics.empty:
            raise InputError("no <top> topics with <num> and <title> found", file=str(sgml))
        return topics.astype(str)
    if tsv.is_file():
        # pt.io.read_topics(format="singleline") splits on any space or colon and silently
        # reuses the previous qid for a line it cannot split, so the TSV is read here.
        rows = []
        with open(tsv, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                cells = line.rstrip("\n").split("\t")
                if len(cells) != 2 or not cells[0].strip():
                    raise InputError(f"row {number}: expected 'qid<TAB>query', got "
                                     f"{len(cells)} column(s)", file=str(tsv))
                rows.append((cells[0].strip(), _one_line(cells[1])))
        return pd.DataFrame(rows, columns=["qid", "query"], dtype=str)
    raise InputError("missing TREC topics: expected topics.txt (TREC <top> format) or "
                     "topics.tsv (qid<TAB>query)", file=str(folder))


def _trec_qrels(folder: Path) -> pd.DataFrame:
    import pyterrier as pt

    path = _need(folder / "qrels.txt", "TREC qrels (qrels.txt: qid iter docno label)")
    try:
        qrels = pt.io.read_qrels(str(path))
    except Exception as err:  # pandas ParserError (too many columns), EmptyDataError
        _check_qrels_lines(path, beir=False, error=err)
    if qrels.empty:
        raise InputError("no relevance judgements", file=str(path))
    if not pd.api.types.is_integer_dtype(qrels["label"]):
        _check_qrels_lines(path, beir=False)
    return qrels.astype({"qid": str, "docno": str, "label": "int64"})


def _trec_corpus(path: Path) -> tuple[list[str], list[str], set[str]]:
    """One checking pass over the JSONL corpus: its fields, text fields and docnos."""
    fields: dict[str, None] = {"docno": None}
    docnos: set[str] = set()
    has_title = False
    for number, record in _jsonl(path):
        docno = next((record[k] for k in ID_KEYS if record.get(k) not in (None, "")), None)
        if docno is None:
            raise InputError(f"line {number}: no document id (expected docno, _id or id)",
                             file=str(path))
        if not isinstance(record.get("text"), str):
            raise InputError(f"line {number}: no 'text' string", file=str(path))
        if str(docno) in docnos:
            raise InputError(f"line {number}: document id '{docno}' appears twice", file=str(path))
        docnos.add(str(docno))
        has_title = has_title or bool(record.get("title"))
        fields.update(dict.fromkeys(k for k in record if k not in ID_KEYS))
    if not docnos:
        raise InputError("the corpus is empty", file=str(path))
    return list(fields), (["title", "text"] if has_title else ["text"]), docnos


def load_trec(path: str | Path, *, dataset_id: str | None = None) -> Dataset:
    """TREC topics + TREC qrels + a JSONL corpus from one folder."""
    folder = _folder(path)
    corpus_file = _need(folder / "corpus.jsonl", "JSONL corpus (corpus.jsonl)")
    topics = _trec_topics(folder)
    qrels = _trec_qrels(folder)
    fields, text_fields, docnos = _trec_corpus(corpus_file)

    def docs() -> Iterator[dict]:
        for _, record in _jsonl(corpus_file):
            docno = next(record[k] for k in ID_KEYS if record.get(k) not in (None, ""))
            doc = {"docno": str(docno), **{k: v for k, v in record.items() if k not in ID_KEYS}}
            if "title" in text_fields:
                doc["title"] = doc.get("title") or ""
            yield doc

    return _checked(Dataset(
        id=dataset_id or f"trec:{folder}", docs=docs, topics=topics, qrels=qrels,
        text_fields=text_fields, fields=fields, num_docs=len(docnos),
        meta={"source": "trec", "folder": str(folder)},
    ), docnos, str(folder / "qrels.txt"))


def _checked(dataset: Dataset, docnos: set[str], qrels_file: str) -> Dataset:
    """Refuse qrels that share no query with the topics or no document with the corpus."""
    if dataset.qrels.empty:
        raise InputError("no relevance judgements", file=qrels_file)
    if not dataset.qrels["qid"].isin(set(dataset.topics["qid"])).any():
        raise InputError("no qrels query id matches a topic id (wrong topics file?)", file=qrels_file)
    if not dataset.qrels["docno"].isin(docnos).any():
        raise InputError("no qrels document id is in the corpus (wrong corpus file?)", file=qrels_file)
    return dataset
