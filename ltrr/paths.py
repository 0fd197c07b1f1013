"""Where ltrr keeps what it can rebuild (indexes, embeddings, candidate lists), and how files
are put there and into results folders without ever leaving a half-written one.

``LTRR_HOME`` (default ``~/.cache/ltrr``) is the root. Each cache entry lives in a
folder keyed by what determines its content (dataset id, arm name, arm settings), so a
second run finds and reuses it.

Everything ltrr writes goes first to a *temporary sibling* ``.<name>.tmp-<host>-<pid>-<hex>``
and is renamed into place when complete (:func:`write_atomically`; folders: the arms'
``atomic_build`` and the runner). A process killed midway leaves its temporary behind: the
host and process id in the name tell a later run that its maker is gone
(:func:`stale_temporaries`), and the temporary is removed or, for a results folder, resumed.
A temporary made on another host (a shared file system, Dask workers) is never touched.

A write that fails (a full disk, a quota, a read-only folder: any ``OSError``) removes its
half-written temporary and raises :class:`~ltrr.errors.WriteError` naming the file
(:func:`writing`), which the CLI prints as one message.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ltrr.errors import InputError, WriteError

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old|corrupt)-(?:(?P<host>[A-Za-z0-9._]+)-)?"
                        r"(?P<pid>\d+)-[0-9a-f]+$")


def ltrr_home() -> Path:
    """The cache root: ``$LTRR_HOME`` or ``~/.cache/ltrr``."""
    return Path(os.environ.get("LTRR_HOME", Path.home() / ".cache" / "ltrr")).expanduser()


def settings_key(**settings: object) -> str:
    """A short stable hash of keyword settings, for cache folder names."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:12]


def cache_dir(kind: str, dataset_id: str, **settings: object) -> Path:
    """A cache folder for ``kind`` (e.g. ``"lexical"``) on ``dataset_id`` with ``settings``.

    The dataset id is made filesystem-safe; the settings hash keeps different
    configurations of the same arm apart.
    """
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset_id)
    return ltrr_home() / kind / f"{safe}-{settings_key(**settings)}"


def host_name() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def temporary_sibling(path: Path, kind: str = "tmp") -> Path:
    """A fresh name beside ``path`` for writing it (``kind="tmp"``), or for moving an old
    (``"old"``) or broken (``"corrupt"``) one out of the way before it is deleted."""
    path = Path(path)
    return path.parent / f".{path.name}.{kind}-{host_name()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _maker_is_gone(match: re.Match) -> bool:
    """Whether the process that made a temporary has ended (a temporary of another host, or
    of a live process, even one that only reuses the id, is not gone)."""
    if match["host"] is not None and match["host"] != host_name():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def stale_temporaries(path: Path, kind: str = "tmp") -> list[Path]:
    """The temporary siblings of ``path`` of this ``kind`` left by processes that have ended,
    oldest first."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    found = []
    for item in path.parent.glob(f".{glob.escape(path.name)}.{kind}-*"):
        match = _TEMPORARY.match(item.name)
        if match and match["name"] == path.name and _maker_is_gone(match):
            found.append(item)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def remove_stale_temporaries(folder: Path) -> None:
    """Delete every temporary in ``folder`` whose maker has ended (killed builds, writes)."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for item in folder.glob(".*.*-*"):
        match = _TEMPORARY.match(item.name)
        if match and _maker_is_gone(match):
            remove(item)


def remove(item: Path) -> None:
    """Delete a file or folder (what is already gone is no error)."""
    if item.is_dir() and not item.is_symlink():
        shutil.rmtree(item, ignore_errors=True)
    else:
        item.unlink(missing_ok=True)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into a :class:`~ltrr.errors.WriteError` naming
    ``path``, the file (or folder) being written."""
    try:
        yield
    except WriteError:
        raise
    except OSError as err:
        raise WriteError(path, err) from err


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary sibling of the file ``path``, then rename it into
    place: a reader (or a run resumed after a kill) sees the old file or the whole new one.
    A write that fails leaves neither: the temporary is removed and a
    :class:`~ltrr.errors.WriteError` names ``path``."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        with writing(path):
            write(tmp)
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def discard_corrupt(path: Path, what: str, reason: str) -> None:
    """Say on stderr that the cache entry ``path`` (a file or folder) is corrupt and will be
    rebuilt, and delete it (moved aside first, so a process still reading it is not
    disturbed). An entry that cannot be removed stops the run with the command that would."""
    path = Path(path)
    print(f"ltrr: {path}: corrupt cached {what} ({reason}); rebuilding", file=sys.stderr)
    aside = temporary_sibling(path, "corrupt")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another process removed it first
    except OSError as err:
        clear = f"rm -r {path}" if path.is_dir() else f"rm {path}"
        raise InputError(f"corrupt cached {what} ({reason}) and it cannot be removed ({err}); "
                         f"clear it with: {clear}", file=str(path)) from None
    remove(aside)
