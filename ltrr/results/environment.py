"""Whether this process runs in the locked environment: every package version the lock
file pins compared with what is installed.

ltrr's results are made in one environment, pinned with hashes in ``requirements/lock.txt``
(pip-compile's output for Python 3.11 on Linux x86_64; ``docs/reproducibility.md`` has the
command that regenerates it). A record's ``provenance.environment`` says whether it was
made there::

    {"lock": "requirements/lock.txt", "lock_sha256": "<64 hex>", "locked": true,
     "differs": {}}

``differs`` maps each pinned package (its normalised name) whose installed version is not
the pinned one to ``[locked, installed]`` (``installed`` is null when the package is
absent); ``locked`` is true when nothing differs. Versions are compared exactly, a local
label included (``2.13.0+cpu`` is not ``2.13.0``); ``1.0`` and ``1.0.0`` are the same
version (PEP 440). Packages installed beside the lock's are not compared. Where ltrr runs
from an installed copy with no lock file beside its source tree (``pip install ltrr``),
``lock`` and ``lock_sha256`` are null and ``locked`` is false.

:func:`environment` is computed once per process (one pass over the installed
distributions' metadata): the lock and the installed packages cannot change under a run.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from importlib import metadata
from pathlib import Path

# the lock file, relative to the root of ltrr's source tree (the folder above the package)
LOCK_FILE = "requirements/lock.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)\s*"
                  r"(?:;([^\\#]*))?")


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them (``PyYAML``, ``pyyaml`` -> ``pyyaml``;
    ``ir_datasets`` -> ``ir-datasets``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def source_root() -> Path:
    """The folder above the ``ltrr`` package: a clone's root for a source checkout or an
    editable install."""
    import ltrr

    return Path(ltrr.__file__).resolve().parent.parent


def read_lock(text: str) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a pip-compile lock
    (hash, comment and option lines skipped; a line whose environment marker does not hold
    here is left out)."""
    pins = {}
    for line in text.splitlines():
        match = _PIN.match(line)
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker and marker.strip():
            from packaging.markers import Marker

            if not Marker(marker.strip()).evaluate():
                continue
        pins[normalise(name)] = version
    return pins


def installed_versions() -> dict[str, str]:
    """``{normalised name: version}`` of the installed distributions (the first found on
    ``sys.path`` when a name is installed twice, as imports see it)."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(normalise(name), dist.version)
    return out


def same_version(a: str, b: str) -> bool:
    """Whether two version strings name one version: equal as PEP 440 versions (local
    labels included), else as strings."""
    if a == b:
        return True
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging comes with the locked environment
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return False


def differences(pins: dict[str, str], installed: dict[str, str]) -> dict[str, list]:
    """``{name: [locked, installed or None]}`` for each pinned package not installed at its
    pinned version, by name."""
    return {name: [version, installed.get(name)] for name, version in sorted(pins.items())
            if installed.get(name) is None or not same_version(version, installed[name])}


def describe(lock: Path | None, root: Path | None = None,
             installed: dict[str, str] | None = None) -> dict:
    """The ``provenance.environment`` entry for the lock file ``lock`` (None: no lock
    file) against ``installed`` (default: this process's distributions); ``lock`` is
    written relative to ``root`` when below it."""
    if lock is None or not Path(lock).is_file():
        return {"lock": None, "lock_sha256": None, "locked": False, "differs": {}}
    data = Path(lock).read_bytes()
    differs = differences(read_lock(data.decode("utf-8")),
                          installed_versions() if installed is None else installed)
    name = Path(lock)
    if root is not None:
        try:
            name = Path(lock).resolve().relative_to(Path(root).resolve())
        except ValueError:
            pass
    return {"lock": name.as_posix(), "lock_sha256": hashlib.sha256(data).hexdigest(),
            "locked": not differs, "differs": differs}


@functools.lru_cache(maxsize=1)
def _environment() -> dict:
    root = source_root()
    lock = root / LOCK_FILE
    return describe(lock if lock.is_file() else None, root)


def environment() -> dict:
    """This process's ``provenance.environment`` (see the module docstring), computed once
    per process; a fresh copy each call."""
    return copy.deepcopy(_environment())


def differs_text(differs: dict[str, list], limit: int = 8) -> str:
    """``torch 2.13.0+cpu locked, 2.13.0 installed; ranx 0.3.21 locked, not installed``
    (the first ``limit`` packages, then how many more)."""
    parts = [f"{name} {locked} locked, " + (f"{now} installed" if now else "not installed")
             for name, (locked, now) in list(differs.items())[:limit]]
    if len(differs) > limit:
        parts.append(f"and {len(differs) - limit} more")
    return "; ".join(parts)
