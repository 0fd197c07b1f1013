"""The exception types the CLI turns into one message: bad input, and a file it cannot write.

Every check of user-supplied input (benchmark files, logs, dataset ids, arm names)
raises :class:`InputError` with a message that names the file, field and row. The CLI
prints that message alone (no traceback) and exits with code 2.

A file ltrr cannot write (a full disk, a quota, a read-only or forbidden folder) raises
:class:`WriteError`, naming the file and the system's reason and, where a run keeps what it had
finished, where and how to resume. The CLI prints that message alone and exits with code
:data:`WRITE_FAILED` (74, ``EX_IOERR`` of BSD's ``sysexits.h``): neither 2 (the input is
fine; the same command will work once the disk does) nor 1 (a crash, with a traceback).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

WRITE_FAILED = 74  # the CLI's exit code for a WriteError (sysexits.h: EX_IOERR)


class InputError(ValueError):
    """Bad input from the user: one clear message, exit code 2 at the CLI."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 rows: object | None = None) -> None:
        parts = []
        if file is not None:
            parts.append(str(file))
        if field is not None:
            parts.append(f"field '{field}'")
        if rows is not None:
            parts.append(f"row(s) {rows}")
        prefix = ": ".join([", ".join(parts)]) if parts else ""
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.message = message  # without the file/field/row prefix
        self.file = file
        self.field = field
        self.rows = rows


class WriteError(OSError):
    """A file could not be written: ``path`` (the file's final name) and the ``OSError`` that
    stopped it (pyarrow's own subclasses included). ``kept``, when set, says what finished
    work was kept and how to resume; ``str()`` is the whole one-line message."""

    def __init__(self, path: str | Path, cause: OSError, kept: str | None = None) -> None:
        # pyarrow's message wraps the system's ("Error writing bytes to file. Detail: [errno
        # 28] No space left on device"): the errno's own text is the reason to show
        reason = os.strerror(cause.errno) if cause.errno else str(cause) or type(cause).__name__
        super().__init__(cause.errno, reason, str(path))
        self.path, self.reason, self.kept = str(path), reason, kept

    def __str__(self) -> str:
        text = f"cannot write {self.path}: {self.reason}"
        return f"{text}; {self.kept}" if self.kept else text

    def __reduce__(self):  # raised in a forked worker, it reaches the parent whole
        return _rebuild_write_error, (self.path, self.errno, self.reason, self.kept)

    def remedy(self) -> str:
        """What to do before running the command again, by the cause."""
        if self.errno in (errno.ENOSPC, errno.EDQUOT):
            return "free some space"
        if self.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "make the folder writable"
        return "fix the cause"


def _rebuild_write_error(path: str, number: int | None, reason: str,
                         kept: str | None) -> WriteError:
    return WriteError(path, OSError(number, reason) if number else OSError(reason), kept)


def check_keys(file: str, where: str, table: dict, schema: dict) -> None:
    """InputError naming ``file`` and ``where.key`` for the first key of ``table`` that
    ``schema`` (key -> type) does not have, or whose value is not of its type."""
    for key, value in table.items():
        if key not in schema:
            raise InputError(f"unknown key (expected one of {', '.join(schema)})", file=file,
                             field=f"{where}.{key}")
        check_type(file, f"{where}.{key}", value, schema[key])


def check_type(file: str, key: str, value: object, kind: type | tuple[type, ...]) -> None:
    """InputError naming ``file`` and ``key`` unless ``value`` is of ``kind`` (a bool is not an
    int here: TOML's ``true`` is no number)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"expected {names}, got {value!r}", file=file, field=key)
