"""Any ir_datasets id as an ltrr :class:`~ltrr.datasets.base.Dataset` (PyTerrier frames).

ir_datasets does the parsing and caching; this module only renames to PyTerrier's columns
(``query_id`` -> ``qid``, ``doc_id`` -> ``docno``, ``relevance`` -> ``label``), picks the
query field, and turns ir_datasets' failures on user-facing problems (an unknown id, an
archive that cannot be downloaded or read) into one :class:`~ltrr.errors.InputError`.
PyTerrier's own ``pt.get_dataset("irds:…")`` does the renaming too, but prints instead of
choosing when a collection has several query fields, and passes errors through raw.

Topics and qrels are small and read at load time; the corpus is read when iterated.
"""

from __future__ import annotations

import difflib
import tarfile
import zipfile
import zlib
from typing import Callable, Iterator, TypeVar

import pandas as pd

from ltrr.datasets import links
from ltrr.datasets.base import Dataset
from ltrr.datasets.identical_ids import META_KEY, beir_default
from ltrr.errors import InputError

T = TypeVar("T")

# Query fields, most preferred first; the first one a collection has becomes ``query``.
QUERY_FIELDS = ("text", "title", "query")
# Document fields that hold running text, in the order arms should join them.
TEXT_FIELDS = ("title", "text", "body", "abstract")
# Collections whose ``text`` already starts with the title: joining both would count it twice.
TEXT_FIELDS_OVERRIDE = {"cranfield": ["text"]}
# What ir_datasets raises when an archive on disk is truncated or not an archive.
ARCHIVE_ERRORS = (EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error, OSError)


def _irds():
    import ir_datasets
    return ir_datasets


def resolve(dataset_id: str):
    """The ir_datasets dataset for ``dataset_id``, or InputError with close ids."""
    ir_datasets = _irds()
    if dataset_id in ir_datasets.registry:
        return ir_datasets.load(dataset_id)
    close = difflib.get_close_matches(dataset_id, list(ir_datasets.registry), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"unknown dataset '{dataset_id}': it is neither an ir_datasets id nor "
                     f"'beir:FOLDER', 'trec:FOLDER', 'ltrr:music' or 'ltrr:mixed'{hint}")


def _where(dataset_id: str) -> str:
    archive = links.archive_for(dataset_id)
    if archive is not None:
        return str(archive.target())
    return f"ir_datasets' cache under {links.irds_home()}"


def _guarded(dataset_id: str, read: Callable[[], T]) -> T:
    """Run an ir_datasets read, turning archive and download failures into InputError."""
    try:
        return read()
    except ARCHIVE_ERRORS as err:
        raise _archive_error(dataset_id, err) from None
    except RuntimeError as err:
        if "download" not in str(err).lower():
            raise
        raise _download_error(dataset_id) from None


def _download_error(dataset_id: str) -> InputError:
    return InputError(f"'{dataset_id}' is not available offline and its download failed; "
                      f"link a local copy of its archive with `ltrr data link DIR` or set "
                      f"${links.DATA_DIR_ENV}", file=_where(dataset_id))


def _archive_error(dataset_id: str, err: Exception) -> InputError:
    """A missing archive whose download failed, or an archive ir_datasets cannot read."""
    archive = links.archive_for(dataset_id)
    if archive is not None and not archive.target().exists():
        return _download_error(dataset_id)
    return InputError(f"ir_datasets cannot read the archive for '{dataset_id}' ({err}); "
                      f"replace it (ltrr data link DIR --force)", file=_where(dataset_id))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _topics(ds, dataset_id: str) -> pd.DataFrame:
    fields = ds.queries_cls()._fields
    field = next((f for f in QUERY_FIELDS if f in fields), fields[1])
    rows = _guarded(dataset_id, lambda: [(q.query_id, getattr(q, field)) for q in ds.queries_iter()])
    topics = pd.DataFrame(rows, columns=["qid", "query"], dtype=str)
    topics["query"] = topics["query"].map(_one_line)
    return topics


def _qrels(ds, dataset_id: str) -> pd.DataFrame:
    rows = _guarded(dataset_id, lambda: [(q.query_id, q.doc_id, q.relevance) for q in ds.qrels_iter()])
    qrels = pd.DataFrame(rows, columns=["qid", "docno", "label"])
    return qrels.astype({"qid": str, "docno": str, "label": "int64"})


def _docs(ds, dataset_id: str) -> Callable[[], Iterator[dict]]:
    names = ds.docs_cls()._fields

    def iterate() -> Iterator[dict]:
        try:
            for doc in ds.docs_iter():
                record = dict(zip(names, doc))
                record["docno"] = record.pop("doc_id")
                yield record
        except ARCHIVE_ERRORS as err:
            raise _archive_error(dataset_id, err) from None

    return iterate


def load_irds(dataset_id: str) -> Dataset:
    """Load an ir_datasets id into frames (links ``$LTRR_DATA_DIR`` first when set)."""
    ds = resolve(dataset_id)
    for part in ("docs", "queries", "qrels"):
        if not getattr(ds, f"has_{part}")():
            raise InputError(f"'{dataset_id}' has no {part}; ltrr needs docs, queries and "
                             f"qrels (pick a subset id such as '{dataset_id}/test')")
    links.link_from_env(dataset_id)
    doc_fields = [f for f in ds.docs_cls()._fields if f != "doc_id"]
    text_fields = TEXT_FIELDS_OVERRIDE.get(dataset_id) or [f for f in TEXT_FIELDS if f in doc_fields]
    documentation = ds.documentation() if hasattr(ds, "documentation") else {}
    return Dataset(
        id=dataset_id,
        docs=_docs(ds, dataset_id),
        topics=_topics(ds, dataset_id),
        qrels=_qrels(ds, dataset_id),
        text_fields=text_fields or doc_fields[:1],
        fields=["docno", *doc_fields],
        num_docs=_guarded(dataset_id, ds.docs_count),
        meta={
            "source": "ir_datasets",
            "irds_id": dataset_id,
            "name": documentation.get("pretty_name", dataset_id),
            "bibtex_ids": list(documentation.get("bibtex_ids", [])),  # ir_datasets/docs/bibliography.bib
            "qrels_defs": dict(ds.qrels_defs() or {}),
            META_KEY: beir_default(dataset_id),  # BEIR drops self-hits (.identical_ids)
        },
    )
