"""The plan space a benchmark declares: which arms to call and how many candidates from each.

A plan maps every arm to a depth; the depths of a plan sum to at most the candidate budget
B. The benchmark's ``[plans]`` table says which plans exist (``PlanSpace.from_config``):

- ``single`` (bool, default true): each arm alone at full budget, ``"lexical:100"``;
- ``equal_splits`` (list of subset sizes such as ``[2, 3]``, or ``"all"`` for every size
  from 2 to the number of arms; default ``[]``): the budget split equally over every subset
  of that many arms, ``"lexical:50+dense:50"``;
- ``skewed`` (list of weight lists such as ``[[0.8, 0.2]]``; default ``[]``): for every
  ordered tuple of distinct arms as long as the weight list, depth ``weight * B``
  (``"lexical:40+dense:10"`` and ``"lexical:10+dense:40"`` at B = 50). Weights are each > 0
  and sum to at most 1: a split that sums to more would draw over the budget and is refused;
  one that sums to less draws ``round(B * sum)`` candidates;
- ``custom`` (list of tables ``{arm = depth, ...}``; default ``[]``): explicit plans, each
  depth an integer >= 1 and their sum at most B;
- ``union`` (bool, default true): all arms, equal split (the static union).

Plans are listed in that order (single, equal splits, skewed, custom, union) and a plan
already listed is not repeated (e.g. ``equal_splits = [1]`` adds nothing beside ``single``).
Depths are integers: a budget that does not divide evenly is shared by the largest-remainder
rule (ties go to the arm earlier in the benchmark's arm order), so every generated plan
draws exactly B candidates and plans compete at the same budget. Arms inside a plan id
follow the benchmark's arm order.
"""

from __future__ import annotations

from itertools import combinations, permutations
from typing import Sequence

import numpy as np

from ltrr.errors import InputError
from ltrr.selection.base import Plan

PLAN_KEYS = ("single", "equal_splits", "skewed", "custom", "union")


def plan_id(depths: Sequence[tuple[str, int]]) -> str:
    """``"lexical:50+dense:50"``: the arms with a positive depth, in the given order."""
    return "+".join(f"{arm}:{depth}" for arm, depth in depths if depth > 0)


def split_budget(budget: int, weights: Sequence[float]) -> list[int]:
    """Integer depths proportional to ``weights`` (largest-remainder rule, ties to the first).

    The depths sum to ``round(budget * sum(weights))``: exactly the budget when the weights
    sum to one.
    """
    exact = np.asarray(weights, dtype=float) * budget
    depths = np.floor(exact + 1e-9).astype(int)
    missing = int(round(float(exact.sum()))) - int(depths.sum())
    if missing > 0:
        remainders = exact - depths
        order = np.argsort(-remainders, kind="stable")  # stable: ties go to earlier arms
        depths[order[:missing]] += 1
    return [int(d) for d in depths]


class PlanSpace:
    """A finite, ordered list of plans over the benchmark's arms.

    Attributes:
        arms: the benchmark's arms, in its order (plan ids and depth columns follow it).
        budget: the candidate budget B every plan stays within.
        plans: the plans; a policy's action ``i`` is ``plans[i]``.
    """

    def __init__(self, arms: Sequence[str], budget: int, plans: Sequence[Plan]) -> None:
        self.arms: tuple[str, ...] = tuple(arms)
        self.budget = int(budget)
        self.plans: tuple[Plan, ...] = tuple(plans)
        self._index = {plan.id: i for i, plan in enumerate(self.plans)}
        self._depths = np.array([[plan.depth(arm) for arm in self.arms] for plan in self.plans],
                                dtype=int).reshape(len(self.plans), len(self.arms))

    def __repr__(self) -> str:
        return f"PlanSpace(arms={list(self.arms)}, budget={self.budget}, plans={self.ids})"

    def __len__(self) -> int:
        return len(self.plans)

    def __getitem__(self, i: int) -> Plan:
        return self.plans[i]

    def __iter__(self):
        return iter(self.plans)

    @property
    def ids(self) -> list[str]:
        return [plan.id for plan in self.plans]

    def index(self, plan_id: str) -> int:
        """Position of the plan with that id; ``KeyError`` if there is none."""
        return self._index[plan_id]

    def depth_matrix(self) -> np.ndarray:
        """``(n_plans, n_arms)`` int depths, columns in arm order (a copy: made once, since a
        plan space does not change, and asked for at every selector call)."""
        return self._depths.copy()

    def features(self) -> np.ndarray:
        """``(n_plans, 2 * n_arms)``: per-arm depth as a fraction of the budget, then per-arm
        indicator (1.0 if the plan calls that arm). For joint (context x plan) models."""
        depths = self.depth_matrix().astype(float)
        return np.hstack([depths / self.budget, (depths > 0).astype(float)])

    def feature_names(self) -> list[str]:
        return [f"depth_frac:{arm}" for arm in self.arms] + [f"uses:{arm}" for arm in self.arms]

    @classmethod
    def from_config(cls, arms: Sequence[str], budget: int, config: dict | None,
                    file: str = "<benchmark>") -> "PlanSpace":
        """Build the plan space a benchmark's ``[plans]`` table declares (see module doc).

        Raises:
            InputError: unknown key, a value of the wrong type, an unknown arm, a budget too
                small for a plan (a depth below 1) or too small for its depths, or an empty
                plan space; the message names ``file`` and the key (``plans.<key>``).
        """
        config = dict(config or {})
        arms = list(arms)
        for key in config:
            if key not in PLAN_KEYS:
                raise InputError(f"unknown key (expected one of {', '.join(PLAN_KEYS)})",
                                 file=file, field=f"plans.{key}")
        if not arms:
            raise InputError("no arms to build plans from", file=file, field="arms")
        if len(set(arms)) != len(arms):
            raise InputError(f"arms listed twice in {arms}", file=file, field="arms")
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
            raise InputError(f"budget must be a positive integer, got {budget!r}",
                             file=file, field="budget")
        builder = _Builder(arms, int(budget), file)
        if _flag(config, "single", file):
            for arm in arms:
                builder.add_split("single", [arm], [1.0])
        for size in _sizes(config.get("equal_splits", []), len(arms), file):
            for subset in combinations(arms, size):
                builder.add_split("equal_splits", list(subset), [1.0 / size] * size)
        for weights in _weight_lists(config.get("skewed", []), len(arms), file):
            for ordered in permutations(arms, len(weights)):
                builder.add_split("skewed", list(ordered), weights)
        for i, table in enumerate(_list(config, "custom", file)):
            builder.add_custom(i, table)
        if _flag(config, "union", file):
            builder.add_split("union", arms, [1.0 / len(arms)] * len(arms))
        if not builder.plans:
            raise InputError("the plan space is empty (enable single, union or another key)",
                             file=file, field="plans")
        return cls(arms, int(budget), builder.plans)


class _Builder:
    """Collects plans in order, skipping ids already present, checking depths."""

    def __init__(self, arms: list[str], budget: int, file: str) -> None:
        self.arms, self.budget, self.file = arms, budget, file
        self.plans: list[Plan] = []
        self.ids: set[str] = set()

    def add_split(self, key: str, subset: list[str], weights: Sequence[float]) -> None:
        depths = split_budget(self.budget, weights)
        if min(depths) < 1:
            raise InputError(
                f"budget {self.budget} is too small for a plan over {'+'.join(subset)} "
                f"(depths {depths}; every depth must be >= 1)",
                file=self.file, field=f"plans.{key}")
        self._add(dict(zip(subset, depths)))

    def add_custom(self, i: int, table: object) -> None:
        field = f"plans.custom[{i}]"
        if not isinstance(table, dict) or not table:
            raise InputError(f"expected a table {{arm = depth, ...}}, got {table!r}",
                             file=self.file, field=field)
        for arm, depth in table.items():
            if arm not in self.arms:
                raise InputError(f"unknown arm '{arm}' (benchmark arms: {', '.join(self.arms)})",
                                 file=self.file, field=field)
            if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
                raise InputError(f"depth of arm '{arm}' must be an integer >= 1, got {depth!r}",
                                 file=self.file, field=field)
        if sum(table.values()) > self.budget:
            raise InputError(f"depths sum to {sum(table.values())}, over the budget {self.budget}",
                             file=self.file, field=field)
        self._add(dict(table))

    def _add(self, depth_of: dict[str, int]) -> None:
        depths = tuple((arm, int(depth_of[arm])) for arm in self.arms if arm in depth_of)
        pid = plan_id(depths)
        if pid not in self.ids:
            self.ids.add(pid)
            self.plans.append(Plan(id=pid, depths=depths))


def _flag(config: dict, key: str, file: str) -> bool:
    value = config.get(key, True)
    if not isinstance(value, bool):
        raise InputError(f"expected true or false, got {value!r}", file=file, field=f"plans.{key}")
    return value


def _list(config: dict, key: str, file: str) -> list:
    value = config.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"expected a list, got {value!r}", file=file, field=f"plans.{key}")
    return value


def _sizes(value: object, n_arms: int, file: str) -> list[int]:
    if value == "all":
        return list(range(2, n_arms + 1))
    if not isinstance(value, list):
        raise InputError(f"expected a list of subset sizes or \"all\", got {value!r}",
                         file=file, field="plans.equal_splits")
    for size in value:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= n_arms:
            raise InputError(f"subset size must be an integer from 1 to {n_arms} (the number of "
                             f"arms), got {size!r}", file=file, field="plans.equal_splits")
    return list(value)


def _weight_lists(value: object, n_arms: int, file: str) -> list[list[float]]:
    """Each skewed entry: 1 to ``n_arms`` weights, each > 0, summing to at most 1 (a split
    summing to more would draw more than the budget)."""
    if not isinstance(value, list):
        raise InputError(f"expected a list of weight lists, got {value!r}",
                         file=file, field="plans.skewed")
    lists = []
    for i, weights in enumerate(value):
        field = f"plans.skewed[{i}]"
        if not (isinstance(weights, list) and 1 <= len(weights) <= n_arms
                and all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0
                        for w in weights)):
            raise InputError(f"expected a list of 1 to {n_arms} weights, each > 0, got "
                             f"{weights!r}", file=file, field=field)
        if sum(weights) > 1 + 1e-9:
            raise InputError(f"weights {weights!r} sum to {sum(weights):g}, over the budget "
                             "(the weights of a split sum to at most 1)", file=file, field=field)
        lists.append([float(w) for w in weights])
    return lists
