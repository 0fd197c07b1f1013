"""The collections ltrr benchmarks on, all loaded by one call: :func:`load`.

Dataset ids:

- any ir_datasets id (``vaswani``, ``cranfield``, ``beir/nfcorpus/test``, …);
- ``ltrr:music`` with optional settings, e.g. ``ltrr:music?size=5000&seed=3`` (the
  generated music world, :mod:`ltrr.datasets.music`);
- ``ltrr:mixed`` with optional ``?seed=S&context=0|1``: vaswani, cranfield and
  beir/nfcorpus/test as one collection, each query judged by its own collection's qrels
  and tagged with a ``collection`` column, a context column unless ``context=0``
  (:mod:`ltrr.datasets.mixed`, ``datasets/mixed.md``);
- ``beir:/path/to/folder`` (optionally ``#dev`` for a split other than ``test``): a BEIR
  folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``);
- ``trec:/path/to/folder``: TREC topics (``topics.txt`` or ``topics.tsv``), TREC qrels
  (``qrels.txt``) and a JSONL corpus (``corpus.jsonl``).

Every loader returns a :class:`~ltrr.datasets.base.Dataset` and raises
:class:`~ltrr.errors.InputError` for an id, folder or file it cannot use.
"""

from __future__ import annotations

import importlib

from ltrr.datasets.base import Dataset
from ltrr.errors import InputError

__all__ = ["Dataset", "load"]

# ltrr's own generated collections: name -> (module, integer settings it accepts).
LTRR_DATASETS = {"music": ("ltrr.datasets.music", ("size", "seed")),
                 "mixed": ("ltrr.datasets.mixed", ("seed", "context"))}


def _parse_ltrr(dataset_id: str) -> tuple[str, dict[str, int]]:
    """``ltrr:music?size=5000&seed=3`` -> ``("music", {"size": 5000, "seed": 3})``."""
    name, _, query = dataset_id[len("ltrr:"):].partition("?")
    if name not in LTRR_DATASETS:
        known = ", ".join(f"ltrr:{n}" for n in LTRR_DATASETS)
        raise InputError(f"unknown dataset '{dataset_id}': ltrr's own datasets are {known}")
    allowed = LTRR_DATASETS[name][1]
    params: dict[str, int] = {}
    for pair in filter(None, query.split("&")):
        key, sep, value = pair.partition("=")
        if key not in allowed:
            raise InputError(f"unknown setting '{key}' in dataset id '{dataset_id}'; "
                             f"ltrr:{name} takes {', '.join(allowed)}")
        if key in params:
            raise InputError(f"setting '{key}' given twice in dataset id '{dataset_id}'")
        try:
            params[key] = int(value)
        except ValueError:
            raise InputError(f"setting '{key}' in dataset id '{dataset_id}' must be an "
                             f"integer, got '{value if sep else ''}'") from None
    return name, params


def load(dataset_id: str) -> Dataset:
    """Load a dataset by id (see the module docstring for the forms an id takes)."""
    if not isinstance(dataset_id, str) or not dataset_id.strip():
        raise InputError(f"a dataset id must be a non-empty string, got {dataset_id!r}")
    dataset_id = dataset_id.strip()
    if dataset_id.startswith("ltrr:"):
        name, params = _parse_ltrr(dataset_id)
        module = importlib.import_module(LTRR_DATASETS[name][0])
        return module.load(**params)
    if dataset_id.startswith("beir:"):
        from ltrr.datasets.local import load_beir
        folder, _, split = dataset_id[len("beir:"):].partition("#")
        return load_beir(folder, split or "test", dataset_id=dataset_id)
    if dataset_id.startswith("trec:"):
        from ltrr.datasets.local import load_trec
        return load_trec(dataset_id[len("trec:"):], dataset_id=dataset_id)
    from ltrr.datasets.irds import load_irds
    return load_irds(dataset_id)
