"""Trained rankers on disk, like indexes: keyed by what determines them, written atomically.

A model trained once (``qrels`` or ``clicks`` mode) is cached as one JSON file under
``$LTRR_HOME/rankers/<name>-<key>.json``; the key hashes everything that determines the
model: the dataset's corpus fingerprint and id, the arms' cache keys and depths, the
feature spec, the training mode, correction and LightGBM parameters, and a hash of the
training arrays themselves (so a changed log or qrels never reuses a stale model).

Any ranker that can be saved is cached this way
(:func:`~ltrr.ranking.learned.can_be_saved`: it declares ``model_format`` and reads back its
``to_string`` with ``from_string``; LambdaMART's is LightGBM's text model). The file holds
``format`` (the ranker's ``model_format``), ``key`` (the inputs, readable), ``meta`` (what
training reported), ``feature_names``, ``params``, ``model`` (the ranker's ``to_string``) and
``sha1`` (of ``model``). Loading checks all of it: a truncated, edited or foreign file raises one
:class:`~ltrr.errors.InputError` naming the file (exit 2 at the CLI), and is left in place
for the user to inspect or delete; nothing is overwritten.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from ltrr.errors import InputError
from ltrr.paths import ltrr_home, write_atomically
from ltrr.ranking.learned import LambdaMART


def array_hash(*arrays: np.ndarray | None) -> str:
    """A sha1 over the arrays' dtypes, shapes and bytes (None counts as a marker)."""
    digest = hashlib.sha1()
    for a in arrays:
        if a is None:
            digest.update(b"none;")
            continue
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape};".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def model_path(name: str, key: dict) -> Path:
    """Where the model keyed by ``key`` is cached."""
    blob = json.dumps(key, sort_keys=True, default=str).encode()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return ltrr_home() / "rankers" / f"{safe}-{hashlib.sha1(blob).hexdigest()[:16]}.json"


def save_model(path: Path, model, key: dict, ranker=LambdaMART) -> None:
    """Write ``model``, made by ``ranker`` (a ranker that can be saved), to ``path`` atomically
    (temporary file, then rename)."""
    text = model.to_string()
    record = {"format": ranker.model_format, "key": key, "meta": model.meta,
              "feature_names": model.feature_names, "params": model.params, "model": text,
              "sha1": hashlib.sha1(text.encode()).hexdigest()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: tmp.write_text(json.dumps(record, default=str)))


def load_model(path: Path, expect_features: list[str] | None = None, ranker=LambdaMART):
    """The model of ``ranker`` (a class or factory that can be saved) saved at ``path``;
    InputError naming the file when it is corrupt."""
    path = Path(path)
    fmt = ranker.model_format

    def corrupt(why: str) -> InputError:
        return InputError(f"corrupt cached ranker model ({why}); delete the file to retrain it",
                          file=str(path))

    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise corrupt(f"not readable as JSON: {type(err).__name__}") from None
    if not isinstance(record, dict) or record.get("format") != fmt:
        raise corrupt(f"not an {fmt} file")
    text = record.get("model")
    if not isinstance(text, str) or hashlib.sha1(text.encode()).hexdigest() != record.get("sha1"):
        raise corrupt("the model text does not match its sha1")
    names = record.get("feature_names")
    if expect_features is not None and names != list(expect_features):
        differ = next((f"{a!r} vs {b!r}" for a, b in zip(names or [], expect_features) if a != b),
                      f"{len(names or [])} vs {len(expect_features)} features")
        raise InputError(f"ranker model was trained on other features than this ranker "
                         f"computes (first difference: {differ})", file=str(path))
    try:
        model = ranker.from_string(text, record.get("params"), names)
    except ValueError as err:  # the ranker cannot read the text back (from_string says why)
        raise corrupt(str(err)) from None
    model.meta = dict(record.get("meta") or {})
    return model


def cached_model(name: str, key: dict, train: Callable[[], object],
                 feature_names: list[str] | None = None,
                 ranker=LambdaMART) -> tuple[object, str, Path]:
    """``(model, source, path)``: the cached model of ``ranker`` for ``key`` (source
    ``"cache"``), or ``train()``'s, saved (source ``"trained"``). A corrupt cached file raises
    InputError."""
    path = model_path(name, key)
    if path.exists():
        return load_model(path, feature_names, ranker), "cache", path
    model = train()
    save_model(path, model, key, ranker)
    return model, "trained", path
