"""The ``[[policies]]`` entries of a benchmark (or of the Python API's ``policies=``): parsed
into :class:`PolicySpec` s and checked against the benchmark.

Every check happens before any work: keys and types (:func:`policy_specs`), then what the
entries name (:func:`ltrr.experiments.benchmark.check_policies`: grids need a ``[tuning]``
table, rankers and feature groups must be the benchmark's, and each policy, ltrr's own or an
outside one, is built once on the real plan space at every grid setting, :func:`check_policy`).
This module knows nothing of the benchmark it is part of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ltrr.errors import InputError, check_type

POLICY_KEYS = ("name", "label", "params", "grid", "features", "ranker")


@dataclass
class PolicySpec:
    """One policy entry: its ``name``, a ``label`` (unique, names its result files), params,
    the tuning ``grid`` (hyper-parameter -> candidate values; empty: not tuned) and the
    feature groups it sees (None: all of the benchmark's)."""

    name: str
    label: str
    params: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    features: list[str] | None = None
    ranker: str | None = None  # a [rankers.<name>] table; None: the benchmark's fusion

    def settings(self) -> list[dict]:
        """Every setting of the grid (params overlaid with one value per grid key), in the
        grid's order: the first key varies slowest."""
        from itertools import product

        keys = list(self.grid)
        return [{**self.params, **dict(zip(keys, values))}
                for values in product(*(self.grid[k] for k in keys))]


def policy_specs(file: str, entries) -> list[PolicySpec]:
    """``[[policies]]`` entries (tables) as checked :class:`PolicySpec` s (keys, types, grids,
    unique labels); what they name is checked by :func:`check_policies`."""
    if not isinstance(entries, list) or not entries:
        raise InputError("expected at least one [[policies]] entry", file=file, field="policies")
    specs, labels = [], set()
    for i, entry in enumerate(entries):
        key = f"policies[{i}]"
        if not isinstance(entry, dict):
            raise InputError("expected a table", file=file, field=key)
        for name in entry:
            if name not in POLICY_KEYS:
                raise InputError(f"unknown key (expected one of {', '.join(POLICY_KEYS)})",
                                 file=file, field=f"{key}.{name}")
        if "name" not in entry:
            raise InputError("missing required key", file=file, field=f"{key}.name")
        check_type(file, f"{key}.name", entry["name"], str)
        check_type(file, f"{key}.params", entry.get("params", {}), dict)
        grid = entry.get("grid", {})
        check_type(file, f"{key}.grid", grid, dict)
        for name, values in grid.items():
            if not isinstance(values, list) or not values or len(values) != len(set(map(repr, values))):
                raise InputError(f"expected a non-empty list of distinct values, got {values!r}",
                                 file=file, field=f"{key}.grid.{name}")
            if name in entry.get("params", {}):
                raise InputError("set both in params and in grid (keep one)",
                                 file=file, field=f"{key}.grid.{name}")
        label = entry.get("label", entry["name"])
        check_type(file, f"{key}.label", label, str)
        if label in labels:
            raise InputError(f"label '{label}' used twice (give one a distinct label)",
                             file=file, field=f"{key}.label")
        labels.add(label)
        ranker = entry.get("ranker")
        if ranker is not None:
            check_type(file, f"{key}.ranker", ranker, str)
        groups = entry.get("features")
        if groups is not None and (not isinstance(groups, list)
                                   or not all(isinstance(g, str) for g in groups)):
            raise InputError(f"expected a list of feature group names, got {groups!r}",
                             file=file, field=f"{key}.features")
        specs.append(PolicySpec(entry["name"], label, dict(entry.get("params", {})), dict(grid),
                                None if groups is None else list(groups), ranker))
    return specs


def check_policy(file: str, i: int, spec: PolicySpec, space) -> None:
    """Build policy ``i`` (every grid setting) once on the real plan space, so unknown
    names, params and grid keys (and an outside policy that cannot be built) fail now."""
    from ltrr.selection.policies import build_policy, default_params

    try:
        known = default_params(spec.name)
    except InputError as err:
        raise InputError(str(err), file=file, field=f"policies[{i}].name") from None
    for name in spec.grid:
        if name not in known:
            accepted = f"it takes {', '.join(known)}" if known else "it takes none"
            raise InputError(f"policy '{spec.name}' has no hyper-parameter '{name}' "
                             f"({accepted})", file=file, field=f"policies[{i}].grid.{name}")
    for setting in spec.settings():
        try:
            build_policy(spec.name, setting, space,
                         n_features=4, random_state=0, reward_range=(0.0, 1.0))
        except InputError as err:
            where = f"policies[{i}].grid" if spec.grid else f"policies[{i}]"
            raise InputError(str(err), file=file, field=where) from None
