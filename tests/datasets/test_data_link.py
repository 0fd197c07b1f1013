"""``ltrr data link``: archives found by name, checked, symlinked at ir_datasets' cache paths."""

from __future__ import annotations

import io
import json
import pkgutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from ltrr.cli import main
from ltrr.datasets import links
from ltrr.errors import InputError


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh IR_DATASETS_HOME (links.py reads the variable at each call)."""
    folder = tmp_path / "irds"
    monkeypatch.setenv("IR_DATASETS_HOME", str(folder))
    return folder


@pytest.fixture
def archives(tmp_path) -> Path:
    """A folder laid out like shared/datasets, with small stand-in archives."""
    folder = tmp_path / "datasets"
    make_tar(folder / "vaswani" / "npl.tar.gz", {"doc-text": b"1\nx\n   /\n", "query-text": b"",
                                                 "rlv-ass": b""})
    make_zip(folder / "beir-nfcorpus" / "nfcorpus.zip", {"nfcorpus/corpus.jsonl": b"{}",
                                                         "nfcorpus/queries.jsonl": b"{}"})
    return folder


def test_table_matches_ir_datasets_download_paths():
    table = json.loads(pkgutil.get_data("ir_datasets", "etc/downloads.json"))
    by_name = {a.file_name: a for a in links.known_archives()}
    assert by_name["npl.tar.gz"].cache_path == "vaswani/" + table["vaswani"]["main"]["cache_path"]
    assert by_name["cran.tar.gz"].cache_path == "cranfield/" + table["cranfield"]["main"]["cache_path"]
    assert by_name["nfcorpus.zip"].cache_path == "beir/" + table["beir"]["nfcorpus"]["cache_path"]
    assert by_name["nfcorpus.zip"].cache_path == "beir/nfcorpus/source.zip"
    assert by_name["scifact.zip"].dataset_ids == ("beir/scifact",)
    assert "cqadupstack.zip" not in by_name


@pytest.mark.parametrize("dataset_id, file_name", [
    ("vaswani", "npl.tar.gz"), ("beir/nfcorpus/test", "nfcorpus.zip"),
    ("beir/nfcorpus", "nfcorpus.zip"), ("cranfield", "cran.tar.gz"), ("antique/test", None),
])
def test_archive_for_dataset_id(dataset_id, file_name):
    archive = links.archive_for(dataset_id)
    assert (archive.file_name if archive else None) == file_name


def test_link_is_idempotent(archives, home):
    first = links.link_archives(archives)
    assert [(a.cache_path, src, outcome) for a, src, outcome in first] == [
        ("beir/nfcorpus/source.zip", archives / "beir-nfcorpus" / "nfcorpus.zip", "linked"),
        ("vaswani/npl.tar.gz", archives / "vaswani" / "npl.tar.gz", "linked"),
    ]
    target = home / "vaswani" / "npl.tar.gz"
    assert target.is_symlink() and target.resolve() == (archives / "vaswani" / "npl.tar.gz").resolve()
    second = links.link_archives(archives)
    assert [outcome for _, _, outcome in second] == ["already linked", "already linked"]
    assert not list(home.rglob(".*ltrr-tmp"))


def test_archive_found_by_name_at_any_depth(tmp_path, home):
    make_tar(tmp_path / "downloads" / "old" / "npl.tar.gz", {"doc-text": b"", "query-text": b"",
                                                             "rlv-ass": b""})
    [(archive, source, outcome)] = links.link_archives(tmp_path / "downloads")
    assert (archive.dataset_ids, outcome) == (("vaswani",), "linked")
    assert source == tmp_path / "downloads" / "old" / "npl.tar.gz"


def test_refuses_to_overwrite_a_different_file(archives, home):
    target = home / "vaswani" / "npl.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"someone else's download")
    with pytest.raises(InputError) as err:
        links.link_archives(archives)
    assert str(err.value) == (f"{target}: a different file is already there; pass --force to "
                              f"replace it with {archives / 'vaswani' / 'npl.tar.gz'}")
    assert target.read_bytes() == b"someone else's download"


def test_force_replaces_and_drops_extracted_files(archives, home):
    target = home / "vaswani" / "npl.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    (home / "vaswani" / "docs.pklz4").mkdir()
    (home / "vaswani" / "docs.pklz4" / "bin").write_bytes(b"stale")
    rows = links.link_archives(archives, force=True)
    assert {a.file_name: outcome for a, _, outcome in rows} == {"npl.tar.gz": "replaced",
                                                                "nfcorpus.zip": "linked"}
    assert target.is_symlink()
    assert sorted(p.name for p in (home / "vaswani").iterdir()) == ["npl.tar.gz"]


def test_broken_link_is_replaced(archives, home, tmp_path):
    target = home / "vaswani" / "npl.tar.gz"
    target.parent.mkdir(parents=True)
    target.symlink_to(tmp_path / "gone.tar.gz")
    rows = dict((a.file_name, outcome) for a, _, outcome in links.link_archives(archives))
    assert rows["npl.tar.gz"] == "relinked (the old link was broken)"
    assert target.resolve() == (archives / "vaswani" / "npl.tar.gz").resolve()


@pytest.mark.parametrize("write, expected", [
    (lambda p: p.write_bytes(b"\x1f\x8b\x08\x00garbage"), "{p}: cannot read archive: "),
    (lambda p: p.write_bytes(b""), "{p}: cannot read archive: "),
    (lambda p: make_tar(p, {"doc-text": b"x"}),
     "{p}: not the vaswani archive: it lacks query-text, rlv-ass"),
])
def test_unreadable_archive_is_refused(tmp_path, home, write, expected):
    path = tmp_path / "in" / "vaswani" / "npl.tar.gz"
    path.parent.mkdir(parents=True)
    write(path)
    with pytest.raises(InputError) as err:
        links.link_archives(tmp_path / "in")
    assert str(err.value).startswith(expected.format(p=path))
    assert "\n" not in str(err.value)  # one line, not tarfile's list of every method it tried
    assert not (home / "vaswani" / "npl.tar.gz").exists()


def test_corrupt_zip_member_is_refused(tmp_path, home):
    path = make_zip(tmp_path / "in" / "nfcorpus.zip", {"nfcorpus/corpus.jsonl": b"x" * 1000,
                                                       "nfcorpus/queries.jsonl": b"{}"})
    data = bytearray(path.read_bytes())
    start = data.index(b"x" * 1000)
    data[start:start + 4] = b"yyyy"  # same size, wrong CRC
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        links.link_archives(tmp_path / "in")
    assert str(err.value) == (f"{path}: cannot read archive: member nfcorpus/corpus.jsonl fails "
                              "its CRC check")


def test_folder_without_archives(tmp_path, home):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as err:
        links.link_archives(tmp_path / "empty")
    assert str(err.value) == (f"{tmp_path / 'empty'}: no known dataset archive in it (looked for "
                              "npl.tar.gz, cran.tar.gz, arguana.zip, <beir name>.zip)")


def test_two_copies_off_the_layout_path_is_an_error(tmp_path, home):
    members = {"doc-text": b"", "query-text": b"", "rlv-ass": b""}
    a = make_tar(tmp_path / "d" / "a" / "npl.tar.gz", members)
    b = make_tar(tmp_path / "d" / "b" / "npl.tar.gz", members)
    with pytest.raises(InputError) as err:
        links.link_archives(tmp_path / "d")
    assert str(err.value) == f"{tmp_path / 'd'}: 2 copies of npl.tar.gz: {a}, {b}; keep one"


def test_cli_link_and_list(archives, home, capsys):
    assert main(["data", "link", str(archives)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"IR_DATASETS_HOME={home}"
    assert out[2] == (f"        linked  vaswani/npl.tar.gz -> {archives / 'vaswani' / 'npl.tar.gz'}"
                      "  (vaswani)")
    assert main(["data", "link", str(archives)]) == 0
    assert capsys.readouterr().out.count("already linked") == 2
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"linked -> {archives.resolve() / 'vaswani' / 'npl.tar.gz'}" in listing
    assert "cran.tar.gz              cranfield              missing" in listing


def test_cli_link_errors_exit_2(tmp_path, home, capsys):
    assert main(["data", "link", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == f"ltrr data: error: {tmp_path / 'nowhere'}: no such folder\n"


@pytest.mark.shared
def test_link_shared_datasets(shared_datasets, home):
    rows = links.link_archives(shared_datasets)
    assert sorted((a.cache_path, outcome) for a, _, outcome in rows) == [
        ("beir/nfcorpus/source.zip", "linked"), ("cranfield/cran.tar.gz", "linked"),
        ("vaswani/npl.tar.gz", "linked")]
    assert (home / "cranfield" / "cran.tar.gz").resolve() == \
        (shared_datasets / "cranfield" / "cran.tar.gz").resolve()
