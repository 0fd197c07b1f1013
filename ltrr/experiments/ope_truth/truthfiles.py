"""What the two simulator ground-truth drivers (:mod:`ltrr.experiments.ope_truth.groundtruth` for plan choice,
:mod:`ltrr.experiments.ope_truth.ranking_truth` for rankers) share: reading their benchmark file's one table,
and writing their results folder."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

from ltrr.errors import InputError


def read_table(path: Path, name: str, keys: dict, required: tuple) -> tuple[dict, str]:
    """The one ``[name]`` table of a TOML benchmark file, its keys and their types checked
    (``keys``: key -> type; ``required``: keys it must have), and the file's SHA-256."""
    if not path.is_file():
        raise InputError(f"{path}: no such benchmark file")
    blob = path.read_bytes()
    try:
        raw = tomllib.loads(blob.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    if set(raw) != {name}:
        raise InputError(f"{path}: expected exactly one table [{name}], got "
                         f"{', '.join(raw) or 'none'}")
    table = dict(raw[name])
    for key, value in table.items():
        if key not in keys:
            raise InputError(f"{path}: {name}.{key}: unknown key (expected one of "
                             f"{', '.join(keys)})")
        if not isinstance(value, keys[key]) or isinstance(value, bool):
            raise InputError(f"{path}: {name}.{key}: expected {keys[key].__name__}, "
                             f"got {value!r}")
    for key in required:
        if key not in table:
            raise InputError(f"{path}: {name}.{key}: missing required key")
    return table, hashlib.sha256(blob).hexdigest()


def write_results(benchmark: str | Path, out: str | Path | None, name: str, result: dict,
                  tables: str) -> str:
    """Write a ground-truth run's JSON (``name``) and ``README.md`` (how it was made, then
    ``tables``) to ``out`` (default ``results/<file stem>``), each atomically; return
    ``tables``."""
    import json  # noqa: PLC0415

    from ltrr.experiments.ope_truth.groundtruth_tables import made_by  # noqa: PLC0415
    from ltrr.ope.report import json_ready, write_atomic  # noqa: PLC0415

    out = Path(out or Path("results") / Path(benchmark).stem)
    write_atomic(out / name, json.dumps(json_ready(result), indent=2, allow_nan=False) + "\n")
    write_atomic(out / "README.md", f"# {Path(benchmark).name}\n\n{made_by(result)}\n\n" + tables)
    return tables
