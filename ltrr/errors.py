"""The one exception type for bad user input.

Every check of user-supplied input (benchmark files, logs, dataset ids, arm names)
raises :class:`InputError` with a message that names the file, field and row. The CLI
prints that message alone (no traceback) and exits with code 2.
"""

from __future__ import annotations


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


def check_type(file: str, key: str, value: object, kind: type | tuple[type, ...]) -> None:
    """InputError naming ``file`` and ``key`` unless ``value`` is of ``kind`` (a bool is not an
    int here: TOML's ``true`` is no number)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"expected {names}, got {value!r}", file=file, field=key)
