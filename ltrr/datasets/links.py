"""Offline use of ir_datasets: place local copies of its archives at its cache paths.

ir_datasets downloads each collection's archive once and keeps it at a fixed path under
``ir_datasets.util.home_path()`` (``$IR_DATASETS_HOME``, default ``~/.ir_datasets``). A
file already at that path is used as is, without a checksum, so a symlink to a local copy
makes the collection load with no network (see ``../shared/datasets/SOURCES.md``).

``link_archives(DIR)`` finds the known archives anywhere under ``DIR`` (by file name),
checks that each one opens and holds the members ir_datasets reads, and symlinks it at its
cache path. It is idempotent and refuses to replace a different file unless ``force``.
ir_datasets has no public "register a local copy" call for these small archives (its
``downloads/<md5>`` route is only for files over 5 MB and checks md5, which the shared
copies do not match), hence this module.

Setting ``LTRR_DATA_DIR`` makes :func:`ltrr.datasets.load` link that folder first.
"""

from __future__ import annotations

import filecmp
import json
import os
import pkgutil
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ltrr.errors import InputError

DATA_DIR_ENV = "LTRR_DATA_DIR"


@dataclass(frozen=True)
class Archive:
    """One archive ir_datasets downloads, and where it expects it.

    Attributes:
        file_name: the archive's file name (how it is found under a folder).
        layout_path: where it lies in a folder laid out like ``shared/datasets``.
        cache_path: its path relative to ``ir_datasets.util.home_path()``.
        dataset_ids: the ir_datasets ids that read it (the first is the collection).
        members: members it must hold (checked before linking).
    """

    file_name: str
    layout_path: str
    cache_path: str
    dataset_ids: tuple[str, ...]
    members: tuple[str, ...]

    def target(self) -> Path:
        """Its absolute cache path under the current ``IR_DATASETS_HOME``."""
        return irds_home() / self.cache_path


def _beir_archives() -> list[Archive]:
    """Every BEIR zip ir_datasets knows (``beir/<name>/source.zip``), from its download table."""
    table = json.loads(pkgutil.get_data("ir_datasets", "etc/downloads.json"))["beir"]
    archives = []
    for name, entry in sorted(table.items()):
        url, cache_path = entry.get("url", ""), entry.get("cache_path", "")
        if not url.endswith(f"/{name}.zip") or cache_path != f"{name}/source.zip":
            continue  # webis-touche2020 (v1 and v2 share a file name)
        if name == "cqadupstack":
            continue  # one zip of twelve forums: a layout the member check does not describe
        archives.append(Archive(
            file_name=f"{name}.zip", layout_path=f"beir-{name}/{name}.zip",
            cache_path=f"beir/{cache_path}", dataset_ids=(f"beir/{name}",),
            members=(f"{name}/corpus.jsonl", f"{name}/queries.jsonl")))
    return archives


def known_archives() -> list[Archive]:
    """The archives ``ltrr data link`` knows: vaswani, cranfield and the BEIR zips."""
    return [
        Archive("npl.tar.gz", "vaswani/npl.tar.gz", "vaswani/npl.tar.gz", ("vaswani",),
                ("doc-text", "query-text", "rlv-ass")),
        Archive("cran.tar.gz", "cranfield/cran.tar.gz", "cranfield/cran.tar.gz", ("cranfield",),
                ("cran.all.1400", "cran.qry", "cranqrel")),
        *_beir_archives(),
    ]


def irds_home() -> Path:
    """ir_datasets' cache root (``$IR_DATASETS_HOME`` or ``~/.ir_datasets``)."""
    return Path(os.environ.get("IR_DATASETS_HOME", Path.home() / ".ir_datasets")).expanduser()


def archive_for(dataset_id: str) -> Archive | None:
    """The known archive an ir_datasets id reads, if any (``beir/nfcorpus/test`` -> nfcorpus.zip)."""
    matches = [(len(base), archive) for archive in known_archives() for base in archive.dataset_ids
               if dataset_id == base or dataset_id.startswith(base + "/")]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def check_archive(path: Path, archive: Archive) -> None:
    """Raise InputError unless ``path`` opens as an archive holding ``archive.members``."""
    try:
        if archive.file_name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise zipfile.BadZipFile(f"member {bad} fails its CRC check")
                names = set(zf.namelist())
        else:
            with tarfile.open(path, "r:*") as tf:
                names = {m.name.lstrip("./") for m in tf.getmembers()}
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as err:
        reason = str(err).splitlines()[0].rstrip(":")  # tarfile lists every method it tried
        raise InputError(f"cannot read archive: {reason}", file=str(path)) from None
    missing = [m for m in archive.members if m not in names]
    if missing:
        raise InputError(f"not the {archive.dataset_ids[0]} archive: it lacks "
                         f"{', '.join(missing)}", file=str(path))


def find_archives(folder: Path) -> dict[Archive, Path]:
    """The known archives under ``folder``, found by file name at any depth.

    When a name occurs more than once, the copy at the ``shared/datasets`` layout path wins;
    otherwise the choice would be a guess, so that is an error.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such folder", file=str(folder))
    by_name = {a.file_name: a for a in known_archives()}
    found: dict[Archive, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if path.name in by_name and path.is_file():
            found.setdefault(by_name[path.name], []).append(path)
    chosen = {}
    for archive, paths in found.items():
        preferred = [p for p in paths if p == folder / archive.layout_path]
        if len(paths) > 1 and not preferred:
            raise InputError(f"{len(paths)} copies of {archive.file_name}: "
                             f"{', '.join(map(str, paths))}; keep one", file=str(folder))
        chosen[archive] = preferred[0] if preferred else paths[0]
    return chosen


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b) or filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _derived_files(archive: Archive) -> list[Path]:
    """What ir_datasets extracted from an archive (next to it in its cache folder)."""
    target = archive.target()
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.iterdir() if p.name != target.name)


def link_archive(source: Path, archive: Archive, *, force: bool = False) -> str:
    """Symlink one checked archive at its cache path; return what happened, in words.

    The outcomes are ``linked``, ``already linked`` (same file there: nothing to do) and
    ``replaced`` (``force`` over a different file; ir_datasets' extracted files from the
    old archive are removed so they cannot be served with the new one). A different file
    without ``force`` raises InputError.
    """
    source = Path(source).resolve()
    check_archive(source, archive)
    target = archive.target()
    outcome = "linked"
    if target.is_symlink() and not target.exists():
        outcome = "relinked (the old link was broken)"
    elif target.exists():
        if _same_file(source, target):
            return "already linked"
        if not force:
            raise InputError(f"a different file is already there; pass --force to replace it "
                             f"with {source}", file=str(target))
        for derived in _derived_files(archive):
            shutil.rmtree(derived) if derived.is_dir() and not derived.is_symlink() else derived.unlink()
        outcome = "replaced"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.ltrr-tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(source)
    os.replace(tmp, target)  # atomic: the cache path is never half-made
    return outcome


def link_archives(folder: Path, *, force: bool = False) -> list[tuple[Archive, Path, str]]:
    """Link every known archive under ``folder``; return ``(archive, source, outcome)`` rows."""
    found = find_archives(folder)
    if not found:
        names = ", ".join(a.file_name for a in known_archives()[:3])
        raise InputError(f"no known dataset archive in it (looked for {names}, "
                         f"<beir name>.zip)", file=str(folder))
    return [(a, p, link_archive(p, a, force=force)) for a, p in found.items()]


def link_from_env(dataset_id: str) -> None:
    """Link ``$LTRR_DATA_DIR``'s archive for ``dataset_id`` when the variable is set.

    A different file already at the cache path is kept (a real download, say): the
    environment variable only fills gaps and never replaces.
    """
    folder = os.environ.get(DATA_DIR_ENV)
    archive = archive_for(dataset_id)
    if not folder or archive is None:
        return
    if not Path(folder).is_dir():
        raise InputError(f"${DATA_DIR_ENV} is not a folder", file=folder)
    source = find_archives(Path(folder)).get(archive)
    if source is None:
        return
    target = archive.target()
    if target.exists() and not _same_file(source, target):
        return
    link_archive(source, archive)


def archive_status() -> list[tuple[Archive, str]]:
    """Each known archive with its state at the cache path: missing, linked -> SRC, or present."""
    rows = []
    for archive in known_archives():
        target = archive.target()
        if target.is_symlink() and not target.exists():
            state = f"broken link -> {os.readlink(target)}"
        elif target.is_symlink():
            state = f"linked -> {os.readlink(target)}"
        elif target.exists():
            state = "present"
        else:
            state = "missing"
        rows.append((archive, state))
    return rows
