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

Outside arms come through :data:`REGISTRY` (the :class:`ltrr.registry.Registry` policies,
rankers and click models share): any PyTerrier transformer (queries -> ranking), its class or a
factory, named by import path ``module:Name`` or by an entry point of group ``ltrr.arms``, is
wrapped by :class:`ltrr.arms.transformer_arm.TransformerArm` (``docs/plugins.md``)::

    arm = build_arm("tfidf", dataset, **{"class": "my_arm:TfIdfArm"}, ngram_max=2)
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING

from ltrr.errors import InputError
from ltrr.registry import Registry

if TYPE_CHECKING:
    from ltrr.arms.base import Arm
    from ltrr.datasets.base import Dataset

# The built-in arms: name -> "module:Class", imported on first use (naming an arm does not import
# every arm's heavy dependencies). The one list of them: adding a built-in arm is its module plus
# one line here (``docs/architecture.md``, "Adding a built-in").
BUILTIN_ARMS: dict[str, str] = {
    "lexical": "ltrr.arms.lexical:LexicalArm",
    "dense": "ltrr.arms.dense:DenseArm",
    "memory": "ltrr.arms.memory:MemoryArm",
    "fuzzy": "ltrr.arms.fuzzy:FuzzyArm",
    "structured": "ltrr.arms.structured:StructuredArm",
}


def _check(obj: object) -> str | None:
    """An arm is a transformer object, a class with ``transform``, or a factory."""
    if inspect.isclass(obj):
        return None if callable(getattr(obj, "transform", None)) else \
            "an arm class (it has no method transform)"
    if callable(getattr(obj, "transform", None)) or inspect.isfunction(obj) \
            or isinstance(obj, functools.partial):
        return None
    return "a PyTerrier transformer (queries -> ranking), its class or a factory"


REGISTRY = Registry(
    "arm", BUILTIN_ARMS, _check,
    lambda name, known: InputError(f"unknown arm '{name}'; valid arms: {', '.join(known)}",
                                   field="arm"))


def arm_class(name: str) -> type:
    """The class (or outside transformer, or factory) behind arm ``name``: a built-in name,
    an import path ``module:Name`` or an ``ltrr.arms`` entry point; InputError listing the
    valid names otherwise."""
    return REGISTRY.resolve(name)


def build_arm(name: str, dataset: "Dataset", **params: object) -> "Arm":
    """Arm ``name`` over ``dataset``; ``params`` go to its constructor (e.g. ``num_results``).

    ``params["class"]`` (a benchmark file's ``[arms.<name>] class = ...``) names what to build
    under the short name ``name``: a built-in arm, an import path or an entry point; without
    it, ``name`` itself is resolved. ltrr's own arms (and outside subclasses of
    :class:`ltrr.arms.base.Arm`) are called as ``cls(dataset, **params)``; any other
    PyTerrier transformer is built and wrapped by :func:`ltrr.arms.transformer_arm.outside_arm`.

    Raises InputError for an unknown arm, an unknown parameter, or a corpus without the
    field the arm needs. The index is built (or loaded from cache) on first use.
    """
    from ltrr.arms.base import Arm

    source = params.pop("class", name)
    if not isinstance(source, str):
        raise InputError(f"arm '{name}': class must be a string (a built-in arm, module:Name or "
                         f"an entry point), got {source!r}", field="class")
    cls = arm_class(source)
    if not (inspect.isclass(cls) and issubclass(cls, Arm)):
        from ltrr.arms.transformer_arm import outside_arm

        return outside_arm(name, source, cls, dataset, params)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "dataset"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise InputError(f"arm '{name}' has no parameter(s) {unknown}; it takes {sorted(accepted)}",
                         field=unknown[0])
    return cls(dataset, **params)


__all__ = ["BUILTIN_ARMS", "REGISTRY", "arm_class", "build_arm"]
