"""Test set-up shared by every test file: isolated caches and the offline collections.

For the whole session (autouse), before any test runs:

- ``LTRR_HOME`` (ltrr's index/embedding cache) is ``$LTRR_TEST_HOME`` when set (a persistent
  folder, so CI and repeated runs reuse indexes and embeddings), else a session temp dir.
- ``IR_DATASETS_HOME`` is ``$LTRR_TEST_IRDS_HOME`` when set (persistent: keeps ir_datasets'
  extracted files between runs), else a session temp dir. When the shared archives exist,
  they are linked there with ``ltrr.datasets.links`` (the code behind ``ltrr data link``;
  a different file already at a cache path is kept), so ``ltrr.datasets.load("vaswani" | "cranfield" | "beir/nfcorpus/test")`` works offline.
- ``LTRR_DATA_DIR`` is removed, so a developer's own setting cannot change what tests load.

The shared archives are looked for in ``$LTRR_SHARED/datasets`` or, by default,
``../shared/datasets`` next to the repository root. Tests that need them are marked
``@pytest.mark.shared`` and are skipped, with the reason, when the folder is absent.

Fixtures: ``shared_datasets`` (the archives folder; skips when absent), ``ltrr_home`` and
``irds_home`` (the cache folders in use).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_datasets() -> Path:
    shared = Path(os.environ.get("LTRR_SHARED", REPO.parent / "shared")).expanduser()
    return shared / "datasets"


SHARED_DATASETS = _shared_datasets()
SHARED_SKIP = f"needs the dataset archives in {SHARED_DATASETS} (set LTRR_SHARED to the shared folder)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATASETS.is_dir():
        return
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=SHARED_SKIP))


@pytest.fixture(scope="session", autouse=True)
def _isolated_caches(tmp_path_factory: pytest.TempPathFactory):
    """Point LTRR_HOME and IR_DATASETS_HOME at test folders and link the shared archives."""
    ltrr_home = os.environ.get("LTRR_TEST_HOME") or tmp_path_factory.mktemp("ltrr_home")
    irds_home = os.environ.get("LTRR_TEST_IRDS_HOME") or tmp_path_factory.mktemp("ir_datasets")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LTRR_HOME", str(ltrr_home))
        patch.setenv("IR_DATASETS_HOME", str(irds_home))
        patch.delenv("LTRR_DATA_DIR", raising=False)
        if SHARED_DATASETS.is_dir():
            _link_shared()
        yield


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
