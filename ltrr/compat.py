"""Every compatibility shim ltrr needs for its dependencies, in one place.

obp 0.4.1 was written for numpy < 1.24 and pandas < 2:

- numpy 2 removed ``np.int`` (and ``np.float``, ``np.bool``), which obp still uses in
  its policies and estimators; we restore them as the builtins they aliased.

Import :func:`obp` from here instead of importing ``obp`` directly, so the shims are
always in force first. (obp's ``OpenBanditDataset`` breaks under pandas 3; ltrr reads
the Open Bandit Dataset sample with its own loader in ``ltrr.datasets.obd``.)
"""

from __future__ import annotations

import types

import numpy as np

_NUMPY_ALIASES = {"int": int, "float": float, "bool": bool, "object": object}


def patch_numpy() -> None:
    """Restore numpy aliases removed in numpy 1.24/2.0 that obp 0.4.1 still uses."""
    for name, value in _NUMPY_ALIASES.items():
        if name not in np.__dict__:
            setattr(np, name, value)


def obp(*parts: str) -> types.ModuleType:
    """Import obp's ``parts`` (default: ``policy`` and ``ope``) with the shims applied, and
    return the module. The policies ask for ``policy`` alone: ``obp.ope`` takes a second to
    import and a benchmark run needs none of it."""
    import importlib  # noqa: PLC0415

    patch_numpy()
    import obp as _obp  # noqa: PLC0415 - imported after the shims on purpose

    for part in parts or ("policy", "ope"):
        importlib.import_module(f"obp.{part}")
    return _obp
