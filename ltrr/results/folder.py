"""A results folder: its records read and checked, and every leaderboard file written from them.

``ltrr run`` and ``ltrr leaderboard`` both end here (:func:`load_folder`, then
:func:`write_leaderboard`), so the leaderboard a run wrote is rebuilt byte for byte from the
same records. The title, the row order (``benchmark_policies``: the benchmark file's policy
labels), the commands and the benchmark file's version and hash all come from the records.

A record is left out, with one message naming its file and field, when it cannot be read,
misses a field or has one of the wrong kind (:func:`~ltrr.results.records.read_record`),
repeats another record's policy and seed, or comes from another benchmark, version, file
(SHA-256) or stream length than the folder's other records (the most common one is kept;
ties go to the first file in name order). A folder with no record left is an
:class:`~ltrr.errors.InputError`.

Files written (each to a temporary name first, all renamed only once every one is ready):
``LEADERBOARD.md``, ``leaderboard.csv``, ``leaderboard.tex``, ``regret.png``, ``ndcg.png``
(when a record was ranked by a learned ranker) and ``leaderboard.html`` (when asked for, or
when the folder already has one: a page is never left stale).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ltrr.errors import InputError
from ltrr.evaluation.registry import HEADLINE, label_of
from ltrr.paths import temporary_sibling, writing
from ltrr.results.blocks import to_markdown
from ltrr.results.export import csv_text, latex_text
from ltrr.results.leaderboard import sections, title_of
from ltrr.results.page import html_page
from ltrr.results.plots import curve_plot, regret_plot
from ltrr.results.records import read_record, read_topic_tables

# the fields that make records comparable, in the order a mismatch is reported
SAME = ("benchmark", "benchmark_version", "provenance.benchmark_sha256", "stream_length")


@dataclass
class ResultsFolder:
    """A folder's valid records (in file name order), their per-topic tables and one
    message per file left out."""

    path: Path
    records: list[dict]
    topics: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return title_of(self.records)

    @property
    def order(self) -> list[str]:
        """The leaderboard's rows: the benchmark file's policy labels, in its order."""
        return list(self.records[0]["benchmark_policies"])


def _same(record: dict) -> tuple:
    return tuple(record["provenance"]["benchmark_sha256"] if key.startswith("provenance.")
                 else record[key] for key in SAME)


def load_folder(folder: str | Path) -> ResultsFolder:
    """Read and check every ``*-seed*.json`` record in ``folder`` (see the module docstring
    for what is left out). Raises :class:`InputError` when the folder does not exist or
    has no valid record."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such results folder", file=str(folder))
    paths = sorted(folder.glob("*-seed*.json"))
    if not paths:
        raise InputError("no result records (*-seed<k>.json) in this folder", file=str(folder))
    read, skipped = [], []
    for path in paths:
        try:
            read.append((path, read_record(path)))
        except InputError as err:
            skipped.append(f"{err}; skipped")
    if not read:
        raise InputError(f"no valid result record ({len(paths)} skipped; first: "
                         f"{skipped[0]})", file=str(folder))
    counts = Counter(_same(r) for _, r in read)
    first: dict[tuple, int] = {}
    for i, (_, r) in enumerate(read):
        first.setdefault(_same(r), i)
    keep = max(counts, key=lambda k: (counts[k], -first[k]))
    reference = read[first[keep]][1]
    records, seen = [], {}
    for path, record in read:
        same = _same(record)
        if same != keep:
            i = next(i for i, (a, b) in enumerate(zip(same, keep)) if a != b)
            skipped.append(f"{path}: field '{SAME[i]}': {same[i]!r}, the folder's other "
                           f"{counts[keep]} record(s) have {keep[i]!r} (from "
                           f"{reference['provenance']['benchmark_file']}); skipped")
            continue
        run = (record["policy"], record["seed"])
        if run in seen:
            skipped.append(f"{path}: field 'policy': policy '{run[0]}' seed {run[1]} is "
                           f"already in {seen[run].name}; skipped")
            continue
        seen[run] = path
        records.append(record)
    topics = read_topic_tables(folder, records, skipped)
    return ResultsFolder(folder, records, topics, skipped)


def leaderboard_files(results: ResultsFolder, html: bool = False) -> dict[str, str | bytes]:
    """Every leaderboard file's name and content (nothing written)."""
    records, order = results.records, results.order
    name = records[0]["benchmark"]
    images = {"regret.png": regret_plot(records, f"{name}: cumulative expected regret", order)}
    if any((r.get("ranker") or {}).get("model") for r in records):
        images["ndcg.png"] = curve_plot(records, HEADLINE,
                                        f"{name}: {label_of(HEADLINE)} over the stream", order)
    blocks = sections(records, order, results.topics)
    files: dict[str, str | bytes] = {
        "LEADERBOARD.md": to_markdown(results.title, blocks),
        "leaderboard.csv": csv_text(records, order),
        "leaderboard.tex": latex_text(records, order, results.topics),
        **images,
    }
    if html:
        files["leaderboard.html"] = html_page(results.title, blocks, images)
    return files


def write_leaderboard(results: ResultsFolder, html: bool = False) -> list[Path]:
    """Write the leaderboard files into the folder (see the module docstring); returns
    their paths. Each is written to a temporary name, and all are renamed at the end; a
    write that fails removes every temporary and raises :class:`~ltrr.errors.WriteError`."""
    html = html or (results.path / "leaderboard.html").exists()
    files = leaderboard_files(results, html)
    staged = []
    try:
        for name, content in files.items():
            tmp = temporary_sibling(results.path / name)
            staged.append((tmp, results.path / name))  # before writing: removed if half-written
            with writing(results.path / name):
                if isinstance(content, bytes):
                    tmp.write_bytes(content)
                else:
                    tmp.write_text(content, encoding="utf-8")
        for tmp, path in staged:
            with writing(path):
                os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [path for _, path in staged]
