"""The retrieval arms (candidate generators) a learning-to-retrieve policy chooses between.

Each arm is a ``pyterrier.Transformer`` (queries -> ranking) that indexes its dataset lazily
and caches the index on disk (see :mod:`ltrr.arms.base`):

- ``lexical``: BM25 through PISA (:mod:`ltrr.arms.lexical`);
- ``dense``: a sentence-transformers bi-encoder, exact inner-product search (:mod:`ltrr.arms.dense`);
- ``memory``: stored queries -> entities, from predicted queries and then clicks (:mod:`ltrr.arms.memory`);
- ``fuzzy``: character 3-gram matching over titles/names (:mod:`ltrr.arms.fuzzy`);
- ``structured``: query understanding onto structured fields (:mod:`ltrr.arms.structured`).

    from ltrr.arms import build_arm
    arm = build_arm("lexical", dataset, num_results=100)
    ranking = arm.transform(dataset.topics)
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING

from ltrr.errors import InputError

if TYPE_CHECKING:
    from ltrr.arms.base import Arm
    from ltrr.datasets.base import Dataset

ARM_NAMES = ("lexical", "dense", "memory", "fuzzy", "structured")

_CLASSES = {
    "lexical": ("ltrr.arms.lexical", "LexicalArm"),
    "dense": ("ltrr.arms.dense", "DenseArm"),
    "memory": ("ltrr.arms.memory", "MemoryArm"),
    "fuzzy": ("ltrr.arms.fuzzy", "FuzzyArm"),
    "structured": ("ltrr.arms.structured", "StructuredArm"),
}


def arm_class(name: str) -> type:
    """The class implementing arm ``name``; InputError listing the valid names otherwise."""
    if name not in _CLASSES:
        raise InputError(f"unknown arm '{name}'; valid arms: {', '.join(ARM_NAMES)}", field="arm")
    module, cls = _CLASSES[name]
    return getattr(importlib.import_module(module), cls)


def build_arm(name: str, dataset: "Dataset", **params: object) -> "Arm":
    """Arm ``name`` over ``dataset``; ``params`` go to its constructor (e.g. ``num_results``).

    Raises InputError for an unknown arm, an unknown parameter, or a corpus without the
    field the arm needs. The index is built (or loaded from cache) on first use.
    """
    cls = arm_class(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "dataset"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise InputError(f"arm '{name}' has no parameter(s) {unknown}; it takes {sorted(accepted)}",
                         field=unknown[0])
    return cls(dataset, **params)


__all__ = ["ARM_NAMES", "arm_class", "build_arm"]
