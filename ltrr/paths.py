"""Where ltrr keeps what it can rebuild: indexes, embeddings, candidate lists.

``LTRR_HOME`` (default ``~/.cache/ltrr``) is the root. Each cache entry lives in a
folder keyed by what determines its content (dataset id, arm name, arm settings), so a
second run finds and reuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


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
