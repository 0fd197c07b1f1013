"""What retrieval costs: a benchmark's ``[cost]`` table, the price and latency of every plan.

Retrieval is a funnel because calling every strategy and ranking every candidate costs time
and money. ``[cost]`` prices a plan as search systems are priced:

========================== ==================================================================
``per_arm_call``           reward units per arm called: a number for every arm, or a table
                           ``{arm = price}`` (arms differ: a dense call is dearer than BM25)
``per_candidate``          per candidate retrieved (a number, or a table per arm)
``per_candidate_ranked``   per candidate the ranking stage ranks: a number, or a table keyed
                           by the stage's name (the fusion, ``rrf``/``combsum``, or a
                           ``[rankers.<name>]``); a stage not in the table ranks for free
``latency_ms``             each arm's latency per call in milliseconds: a table
                           ``{arm = ms}`` or ``{arm = {10 = ms, 50 = ms, 100 = ms}}`` by
                           depth (linear between the depths given, flat outside), every arm
                           of the benchmark listed; ``ltrr arms DATASET --latency --json``
                           measures it
``ranking_ms_per_candidate`` the ranking stage's milliseconds per candidate ranked: a number or
                           a table by stage name (``ltrr rank --latency`` measures it)
``latency``                ``"parallel"`` (default: a plan waits for its slowest arm) or
                           ``"sequential"`` (the sum of its arms)
``latency_limit_ms``       a limit on a plan's retrieval latency (its arms' calls, not the
                           ranking); plans over it are ``over_limit``:
``over_limit``             ``"remove"`` (default: not offered, the plan space has none of
                           them) or ``"penalise"`` (offered, charged ``over_limit_penalty``)
``over_limit_penalty``     reward units charged per query for a plan over the limit
``sources``                ``{key = "where it came from"}``: required for every price,
                           latency and penalty above with a nonzero value (measured by which
                           command on which machine, or a published figure, cited); the
                           limit is a choice, its source optional
========================== ==================================================================

A plan's price is subtracted from its reward (the policies are paid net of it). Its latency
is its arms' latencies combined (``latency``) plus the ranking stage's milliseconds for the
candidates it draws; a policy that reads a post-retrieval probe waits for the probe first.
Candidates ranked are the plan's depths summed: an upper bound on the union the stage
ranks (a document two arms return is ranked once). Prices and latencies are constants, so a
run's latency per query is its chosen plans' latencies: records carry their mean and 95th
percentile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ltrr.errors import InputError

COMBINE = ("parallel", "sequential")
OVER_LIMIT = ("remove", "penalise")
PRICED = ("per_arm_call", "per_candidate", "per_candidate_ranked", "latency_ms",
          "ranking_ms_per_candidate", "latency_limit_ms", "over_limit_penalty")
COST_KEYS = (*PRICED, "latency", "over_limit", "sources")


@dataclass(frozen=True)
class Prices:
    """A benchmark's cost model (module doc), checked; arrays follow ``arms``' order.

    Attributes:
        arms: the benchmark's arms.
        per_arm_call, per_candidate: (A,) prices per arm.
        per_candidate_ranked: stage name -> price per candidate ranked.
        latency_depths, latency_values: per arm, the depths and milliseconds to interpolate
            (one entry at depth 0 for a constant); None when no latency is declared.
        ranking_ms: stage name -> milliseconds per candidate ranked.
        combine: ``parallel`` or ``sequential``.
        limit_ms: the latency limit (None: none); over_limit, penalty: what it does.
        sources: where each price came from.
    """

    arms: tuple[str, ...] = ()
    per_arm_call: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_candidate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_candidate_ranked: dict = field(default_factory=dict)
    default_ranked: float = 0.0
    latency_depths: tuple | None = None
    latency_values: tuple | None = None
    ranking_ms: dict = field(default_factory=dict)
    default_ranking_ms: float = 0.0
    combine: str = "parallel"
    limit_ms: float | None = None
    over_limit: str = "remove"
    penalty: float = 0.0
    sources: dict = field(default_factory=dict)

    @classmethod
    def free(cls, arms) -> "Prices":
        """Nothing priced, no latency declared."""
        n = len(arms)
        return cls(tuple(arms), np.zeros(n), np.zeros(n))

    @classmethod
    def flat(cls, arms, per_arm_call: float = 0.0, per_candidate: float = 0.0) -> "Prices":
        """One price per arm call and per candidate, the same for every arm."""
        n = len(arms)
        return cls(tuple(arms), np.full(n, float(per_arm_call)), np.full(n, float(per_candidate)))

    @property
    def has_latency(self) -> bool:
        return self.latency_depths is not None

    @property
    def priced(self) -> bool:
        """Whether anything is priced or a latency declared."""
        return bool(self.per_arm_call.any() or self.per_candidate.any() or self.default_ranked
                    or any(self.per_candidate_ranked.values()) or self.has_latency)

    def describe(self) -> dict | None:
        """What a result record says about the cost model (None: nothing priced): the prices
        and latencies as declared, how arms combine, the limit and the sources."""
        if not self.priced:
            return None
        out: dict = {"per_arm_call": dict(zip(self.arms, self.per_arm_call.tolist())),
                     "per_candidate": dict(zip(self.arms, self.per_candidate.tolist())),
                     "per_candidate_ranked": {"default": self.default_ranked,
                                              **self.per_candidate_ranked}}
        if self.has_latency:
            out["latency_ms"] = {  # as the file gives it: a number, or ms by depth
                a: float(v[0]) if d.tolist() == [0.0] else dict(zip(map(str, d.astype(int)),
                                                                    v.tolist()))
                for a, d, v in zip(self.arms, self.latency_depths, self.latency_values)}
            out["ranking_ms_per_candidate"] = {"default": self.default_ranking_ms,
                                               **self.ranking_ms}
            out["latency"] = self.combine
        if self.limit_ms is not None:
            out.update(latency_limit_ms=self.limit_ms, over_limit=self.over_limit)
            if self.over_limit == "penalise":
                out["over_limit_penalty"] = self.penalty
        out["sources"] = dict(self.sources)
        return out

    # -- per plan ----------------------------------------------------------------------
    def arm_latency(self, depths: np.ndarray) -> np.ndarray:
        """``(P, A)`` milliseconds of each arm's call at the plan's depth (0 where the plan
        does not call it)."""
        depths = np.asarray(depths)
        out = np.zeros(depths.shape, dtype=float)
        if not self.has_latency:
            return out
        for a in range(depths.shape[1]):
            at = np.interp(depths[:, a], self.latency_depths[a], self.latency_values[a])
            out[:, a] = np.where(depths[:, a] > 0, at, 0.0)
        return out

    def retrieval_latency(self, depths: np.ndarray) -> np.ndarray:
        """``(P,)`` each plan's retrieval latency: its arms in parallel (max) or in sequence."""
        each = self.arm_latency(depths)
        return each.max(axis=1) if self.combine == "parallel" else each.sum(axis=1)

    def over(self, depths: np.ndarray) -> np.ndarray:
        """``(P,)`` bool: plans whose retrieval latency is over the limit."""
        if self.limit_ms is None:
            return np.zeros(len(depths), dtype=bool)
        return self.retrieval_latency(depths) > self.limit_ms + 1e-12

    def plan_cost(self, depths: np.ndarray, stage: str) -> np.ndarray:
        """``(P,)`` each plan's price with ranking stage ``stage``: arm calls, candidates
        retrieved and ranked, and the penalty of a plan over the latency limit."""
        depths = np.asarray(depths)
        cost = (depths > 0) @ self.per_arm_call + depths @ self.per_candidate
        cost = cost + self.ranked_price(stage) * depths.sum(axis=1)
        if self.over_limit == "penalise":
            cost = cost + self.penalty * self.over(depths)
        return cost.astype(float)

    def plan_latency(self, depths: np.ndarray, stage: str) -> np.ndarray:
        """``(P,)`` each plan's latency with ranking stage ``stage``, in milliseconds."""
        depths = np.asarray(depths)
        return self.retrieval_latency(depths) + self.ranking_ms_of(stage) * depths.sum(axis=1)

    def probe_cost(self, arm_index: list[int], depth: int) -> float:
        """What a post-retrieval probe of those arms at ``depth`` costs per query."""
        return float(sum(self.per_arm_call[a] + self.per_candidate[a] * depth for a in arm_index))

    def probe_latency(self, arm_index: list[int], depth: int) -> float:
        """The probe's latency: its arms at ``depth``, combined like a plan's."""
        depths = np.zeros((1, len(self.arms)), dtype=int)
        depths[0, arm_index] = depth
        return float(self.retrieval_latency(depths)[0])

    def ranked_price(self, stage: str) -> float:
        return float(self.per_candidate_ranked.get(stage, self.default_ranked))

    def ranking_ms_of(self, stage: str) -> float:
        return float(self.ranking_ms.get(stage, self.default_ranking_ms))

    # -- parsing -----------------------------------------------------------------------
    @classmethod
    def from_table(cls, table: dict | None, arms, stages, file: str) -> "Prices":
        """The ``[cost]`` table checked against the benchmark's ``arms`` and ranking
        ``stages`` (the fusion and the ``[rankers]`` names).

        Raises:
            InputError: an unknown key, a negative or non-numeric price or latency, a price
                for an arm (or stage) the benchmark does not have, latencies missing an arm,
                an unknown ``latency`` or ``over_limit``, a penalty without ``penalise``, a
                nonzero price without its ``sources`` entry; the message names ``file`` and
                the key (``cost.<key>``).
        """
        table = dict(table or {})
        arms = tuple(arms)
        for key in table:
            if key not in COST_KEYS:
                raise InputError(f"unknown key (expected one of {', '.join(COST_KEYS)})",
                                 file=file, field=f"cost.{key}")
        per_call = _per_arm(table, "per_arm_call", arms, file)
        per_cand = _per_arm(table, "per_candidate", arms, file)
        ranked, ranked_default = _per_stage(table, "per_candidate_ranked", stages, file)
        rank_ms, rank_ms_default = _per_stage(table, "ranking_ms_per_candidate", stages, file)
        lat_depths, lat_values = _latencies(table, arms, file)
        if "ranking_ms_per_candidate" in table and lat_depths is None:
            raise InputError("a ranking stage's latency needs every arm's latency_ms",
                             file=file, field="cost.ranking_ms_per_candidate")
        combine = _choice(table, "latency", COMBINE, file)
        over_limit = _choice(table, "over_limit", OVER_LIMIT, file)
        limit = table.get("latency_limit_ms")
        if limit is not None:
            limit = _number(limit, file, "cost.latency_limit_ms")
            if limit <= 0:
                raise InputError(f"must be > 0, got {limit!r}", file=file,
                                 field="cost.latency_limit_ms")
            if lat_depths is None:
                raise InputError("a latency limit needs every arm's latency_ms",
                                 file=file, field="cost.latency_limit_ms")
        penalty = _number(table.get("over_limit_penalty", 0.0), file, "cost.over_limit_penalty")
        if "over_limit_penalty" in table and over_limit != "penalise":
            raise InputError('a penalty needs over_limit = "penalise"', file=file,
                             field="cost.over_limit_penalty")
        if over_limit == "penalise" and "over_limit_penalty" not in table:
            raise InputError('over_limit = "penalise" needs over_limit_penalty', file=file,
                             field="cost.over_limit")
        if "over_limit" in table and limit is None:
            raise InputError("over_limit needs latency_limit_ms", file=file,
                             field="cost.over_limit")
        sources = _sources(table, file)
        return cls(arms, per_call, per_cand, ranked, ranked_default, lat_depths, lat_values,
                   rank_ms, rank_ms_default, combine, limit, over_limit, penalty, sources)


def _number(value, file: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise InputError(f"expected a number, got {value!r}", file=file, field=key)
    if value < 0:
        raise InputError(f"must be >= 0, got {value!r}", file=file, field=key)
    return float(value)


def _per_arm(table: dict, key: str, arms: tuple, file: str) -> np.ndarray:
    value = table.get(key, 0.0)
    if not isinstance(value, dict):
        return np.full(len(arms), _number(value, file, f"cost.{key}"))
    out = np.zeros(len(arms))
    for arm, price in value.items():
        if arm not in arms:
            raise InputError(f"a price for arm '{arm}', which the benchmark does not have "
                             f"(its arms: {', '.join(arms)})", file=file, field=f"cost.{key}.{arm}")
        out[arms.index(arm)] = _number(price, file, f"cost.{key}.{arm}")
    return out


def _per_stage(table: dict, key: str, stages, file: str) -> tuple[dict, float]:
    value = table.get(key, 0.0)
    if not isinstance(value, dict):
        return {}, _number(value, file, f"cost.{key}")
    out = {}
    for stage, price in value.items():
        if stage not in stages:
            raise InputError(f"a price for ranking stage '{stage}', which the benchmark does "
                             f"not have (its stages: {', '.join(stages)})", file=file,
                             field=f"cost.{key}.{stage}")
        out[stage] = _number(price, file, f"cost.{key}.{stage}")
    return out, 0.0


def _latencies(table: dict, arms: tuple, file: str) -> tuple[tuple | None, tuple | None]:
    value = table.get("latency_ms")
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise InputError("expected a table {arm = ms} or {arm = {depth = ms}}", file=file,
                         field="cost.latency_ms")
    for arm in value:
        if arm not in arms:
            raise InputError(f"a latency for arm '{arm}', which the benchmark does not have "
                             f"(its arms: {', '.join(arms)})", file=file,
                             field=f"cost.latency_ms.{arm}")
    missing = [a for a in arms if a not in value]
    if missing:
        raise InputError(f"no latency for arm(s) {', '.join(missing)}: a plan's latency needs "
                         "every arm's", file=file, field="cost.latency_ms")
    depths, values = [], []
    for arm in arms:
        where = f"cost.latency_ms.{arm}"
        ms = value[arm]
        if not isinstance(ms, dict):
            depths.append(np.array([0.0]))
            values.append(np.array([_number(ms, file, where)]))
            continue
        if not ms:
            raise InputError("an empty table", file=file, field=where)
        points = []
        for depth, v in ms.items():
            if not str(depth).isdigit() or int(depth) < 1:
                raise InputError(f"depth '{depth}' is not a positive integer", file=file,
                                 field=f"{where}.{depth}")
            points.append((int(depth), _number(v, file, f"{where}.{depth}")))
        points.sort()
        depths.append(np.array([d for d, _ in points], dtype=float))
        values.append(np.array([v for _, v in points], dtype=float))
    return tuple(depths), tuple(values)


def _choice(table: dict, key: str, options: tuple, file: str) -> str:
    value = table.get(key, options[0])
    if value not in options:
        raise InputError(f"expected one of {', '.join(options)}, got {value!r}", file=file,
                         field=f"cost.{key}")
    return value


def _sources(table: dict, file: str) -> dict:
    sources = table.get("sources", {})
    if not isinstance(sources, dict):
        raise InputError("expected a table {key = \"where it came from\"}", file=file,
                         field="cost.sources")
    for key, text in sources.items():
        if key not in PRICED:
            raise InputError(f"a source for '{key}', which is not a price (prices: "
                             f"{', '.join(PRICED)})", file=file, field=f"cost.sources.{key}")
        if not isinstance(text, str) or not text.strip():
            raise InputError("expected a text saying where the value came from", file=file,
                             field=f"cost.sources.{key}")
    for key in PRICED:
        if key != "latency_limit_ms" and _nonzero(table.get(key)) and key not in sources:
            raise InputError(f"'{key}' has no source: say where it came from (the command and "
                             "machine that measured it, or a published figure)", file=file,
                             field=f"cost.sources.{key}")
    return dict(sources)


def _nonzero(value) -> bool:
    if isinstance(value, dict):
        return any(_nonzero(v) for v in value.values())
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0
