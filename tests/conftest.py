"""Test set-up shared by every test file: isolated caches and the offline collections.

For the whole session, before any test module is imported (``pytest_configure``):

- ``LTRR_HOME`` (ltrr's index/embedding cache) is ``$LTRR_TEST_HOME`` when set (a persistent
  folder, so CI and repeated runs reuse indexes and embeddings), else a session temp dir.
- ``IR_DATASETS_HOME`` is ``$LTRR_TEST_IRDS_HOME`` when set (persistent: keeps ir_datasets'
  extracted files between runs), else a session temp dir. When the shared archives exist,
  they are linked there with ``ltrr.datasets.links`` (the code behind ``ltrr data link``; a
  different file already at a cache path is kept), so ``ltrr.datasets.load("vaswani")``,
  ``"cranfield"`` and ``"beir/nfcorpus/test"`` work offline. ir_datasets reads this
  variable once, when first imported: a test that needs another IR_DATASETS_HOME must run
  ltrr in a subprocess.
- ``LTRR_DATA_DIR`` is removed, so a developer's own setting cannot change what tests load.
- ``NUMBA_CACHE_DIR`` (the parent of ltrr's compiled-code cache) is ``$LTRR_TEST_HOME/numba``
  or ``~/.cache/ltrr/numba`` unless set: compiling ltrr's loop takes about a minute, and a
  session temp dir would pay it every run.

The shared archives are looked for in ``$LTRR_SHARED/datasets`` or, by default,
``../shared/datasets`` next to the repository root. Tests that need them are marked
``@pytest.mark.shared`` and are skipped, with the reason, when the folder is absent.

Fixtures: ``shared_datasets`` (the archives folder; skips when absent), ``ltrr_home`` and
``irds_home`` (the cache folders in use).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_datasets() -> Path:
    shared = Path(os.environ.get("LTRR_SHARED", REPO.parent / "shared")).expanduser()
    return shared / "datasets"


SHARED_DATASETS = _shared_datasets()
_SAVED_ENV: dict[str, str | None] = {}
_MADE_DIRS: list[str] = []
SHARED_SKIP = f"needs the dataset archives in {SHARED_DATASETS} (set LTRR_SHARED to the shared folder)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATASETS.is_dir():
        return
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=SHARED_SKIP))


def pytest_configure(config: pytest.Config) -> None:
    """Set the cache variables before any test module is imported.

    ir_datasets fixes its cache paths when it is first imported, so IR_DATASETS_HOME must be
    set before collection (a session fixture would run too late). Tests that need another
    IR_DATASETS_HOME run ltrr in a subprocess.
    """
    made = []
    for variable, persistent in (("LTRR_HOME", "LTRR_TEST_HOME"),
                                 ("IR_DATASETS_HOME", "LTRR_TEST_IRDS_HOME")):
        folder = os.environ.get(persistent)
        if not folder:
            folder = tempfile.mkdtemp(prefix=f"ltrr-test-{variable.lower()}-")
            made.append(folder)
        _SAVED_ENV[variable] = os.environ.get(variable)
        os.environ[variable] = folder
    _SAVED_ENV["LTRR_DATA_DIR"] = os.environ.pop("LTRR_DATA_DIR", None)
    # numba's compiled code outlives a temporary LTRR_HOME (compiling takes a minute)
    _SAVED_ENV["NUMBA_CACHE_DIR"] = os.environ.get("NUMBA_CACHE_DIR")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(
        os.environ.get("LTRR_TEST_HOME") or Path.home() / ".cache" / "ltrr") / "numba"))
    _MADE_DIRS.extend(made)
    if SHARED_DATASETS.is_dir():
        _link_shared()


def pytest_unconfigure(config: pytest.Config) -> None:
    for variable, value in _SAVED_ENV.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value
    for folder in _MADE_DIRS:
        shutil.rmtree(folder, ignore_errors=True)


def _link_shared() -> None:
    """Link each shared archive; a different file already there (a persistent home holding a
    real download) is kept, with a warning, rather than replaced."""
    import warnings

    from ltrr.datasets import links
    from ltrr.errors import InputError

    for archive, source in links.find_archives(SHARED_DATASETS).items():
        try:
            links.link_archive(source, archive)
        except InputError as err:
            warnings.warn(f"kept the existing archive: {err}", stacklevel=1)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder of shared dataset archives; the test is skipped when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(SHARED_SKIP)
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def ltrr_home() -> Path:
    """The LTRR_HOME the tests run with."""
    return Path(os.environ["LTRR_HOME"])


@pytest.fixture(scope="session")
def irds_home() -> Path:
    """The IR_DATASETS_HOME the tests run with (shared archives linked when present)."""
    return Path(os.environ["IR_DATASETS_HOME"])
