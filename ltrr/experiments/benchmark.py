"""Benchmark definitions: a TOML file read, checked and turned into a :class:`Benchmark`.

The format is documented in ``docs/benchmark-format.md``. Everything that can be checked
without loading the dataset is checked here, up front, so a typo fails in milliseconds
with one message naming the file and the key (``ltrr run`` then exits with code 2 and
writes nothing). Tables and keys::

    [benchmark]  name, dataset, seeds, version?, description?
    [arms]       names = [...];  [arms.<name>] class? (an outside arm), constructor parameters
    [plans]      budget, single?, equal_splits?, skewed?, custom?, union?
    [features]   groups = [...], probe_depth?, probe_arms?
    [stream]     length, zipf?, new_release_days?, split?
    [clicks]     model, params (a parameter set name, or an outside model's table), examination?
    [reward]     name? (clicks, any_click, first_click_rr, satisfied; default clicks)
    [ranking]    fusion?, k?, page?, logging?, temperature?, target?
    [cost]       per_arm_call?, per_candidate?, per_candidate_ranked?, latency_ms?,
                 ranking_ms_per_candidate?, latency?, latency_limit_ms?, over_limit?,
                 over_limit_penalty?, sources? (ltrr.simulation.prices)
    [tuning]     seeds, metric?
    [rankers.<name>]  model?, train?, correction?, params?, sessions?, log?, retrain_every?
    [[policies]] name, label?, params?, grid?, features?, ranker?

Policies, arms, rankers and click models are named through their registries
(:mod:`ltrr.registry`): a built-in name, an import path ``module:Name`` or an entry point.
An outside arm has a short name in ``arms.names`` and its class in ``[arms.<name>] class``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from ltrr.errors import InputError, check_keys
from ltrr.evaluation.registry import TUNABLE
from ltrr.experiments.policy_entries import PolicySpec, check_policy, policy_specs
from ltrr.kernel.rewards import REWARDS
from ltrr.kernel.stochastic import PlackettLuce
from ltrr.simulation.clicks import (CLICK_MODELS, PARAMETER_SETS, describe_users,
                                   make_click_model, producible_rewards, why_not)
from ltrr.simulation.loop import LoopSettings
from ltrr.simulation.prices import Prices

SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "benchmark": {"name": str, "dataset": str, "seeds": list, "version": (str, int),
                  "description": str},
    "arms": {"names": list},
    "plans": {"budget": int, "single": bool, "equal_splits": (list, str), "skewed": list,
              "custom": list, "union": bool},
    "features": {"groups": list, "probe_depth": int, "probe_arms": list},
    "stream": {"length": int, "zipf": (int, float), "new_release_days": int, "split": str},
    "clicks": {"model": str, "params": (str, dict), "examination": (str, list)},
    "reward": {"name": str},
    "ranking": {"fusion": str, "k": int, "page": int, "logging": str,
                "temperature": (int, float), "target": str},
    "cost": {"per_arm_call": (int, float, dict), "per_candidate": (int, float, dict),
             "per_candidate_ranked": (int, float, dict), "latency_ms": dict,
             "ranking_ms_per_candidate": (int, float, dict), "latency": str,
             "latency_limit_ms": (int, float), "over_limit": str,
             "over_limit_penalty": (int, float), "sources": dict},
    "tuning": {"seeds": list, "metric": str},
}
LOGGING_RANKERS = ("top", "plackett-luce")  # [ranking] logging: the fused top page, or a sample
REQUIRED = {"benchmark": ("name", "dataset", "seeds"), "arms": ("names",),
            "plans": ("budget",), "stream": ("length",), "clicks": ("model", "params")}
DEFAULT_PROBE_DEPTH = 10
ARM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # an outside arm's short name (plan ids)


@dataclass
class Tuning:
    """The ``[tuning]`` table: grids are run on ``seeds`` (disjoint from the reported seeds)
    with the benchmark's own stream length (the horizon a setting is tuned for is the one
    it is reported on), and the setting with the best mean ``metric`` is kept."""

    seeds: list[int]
    metric: str = "reward"


@dataclass
class Benchmark:
    """A checked benchmark definition: a plain description of the file. Running it is
    :func:`ltrr.experiments.api.run` (``ltrr.load_benchmark(...)`` returns the API's
    :class:`~ltrr.experiments.api.Benchmark`, this description with a ``run`` method), so
    this module never imports the runner."""

    path: Path
    sha256: str
    name: str
    dataset: str
    seeds: list[int]
    arms: list[str]
    arm_params: dict[str, dict]
    budget: int
    plans: dict
    features: list[str]
    stream_length: int
    zipf: float
    split: str | None
    settings: LoopSettings
    policies: list[PolicySpec]
    tuning: Tuning | None = None
    rankers: dict = field(default_factory=dict)  # name -> RankerConfig
    version: str = "1"
    description: str = ""
    raw: dict = field(default_factory=dict)
    variant: dict | None = None  # a sweep's users and reward, when it varies them ([vary])

    def plan_space(self):
        """The ``[plans]`` space, without the plans over the latency limit when ``[cost]``
        removes them (``over_limit = "remove"``)."""
        from ltrr.selection.plans import PlanSpace

        space = PlanSpace.from_config(self.arms, self.budget, self.plans, file=str(self.path))
        prices = self.settings.prices
        if prices is None or prices.limit_ms is None or prices.over_limit != "remove":
            return space
        over = prices.over(space.depth_matrix())
        return PlanSpace(space.arms, space.budget,
                         [plan for plan, o in zip(space.plans, over) if not o])


def read_toml(path: Path, kind: str) -> tuple[dict, bytes]:
    """A ``kind`` file's tables and bytes (InputError naming it when missing or not TOML)."""
    if not path.is_file():
        raise InputError(f"no such {kind} file", file=str(path))
    blob = path.read_bytes()
    try:
        return tomllib.loads(blob.decode("utf-8")), blob
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid TOML: {err}", file=str(path)) from None


def load_benchmark(path: str | Path) -> Benchmark:
    """Read and check a benchmark file; InputError naming the file and key on any problem."""
    path = Path(path)
    file = str(path)
    raw, blob = read_toml(path, "benchmark")
    return _build(path, file, raw, hashlib.sha256(blob).hexdigest())


def _check_tables(file: str, raw: dict) -> None:
    """Every table and key of the file known, of its type, the required ones there."""
    for table in raw:
        if table not in SCHEMA and table not in ("policies", "rankers"):
            known = ", ".join(list(SCHEMA) + ["rankers", "policies"])
            raise InputError(f"unknown table (expected one of {known})", file=file, field=table)
    for table, keys in SCHEMA.items():
        section = raw.get(table, {})
        if not isinstance(section, dict):
            raise InputError("expected a table", file=file, field=table)
        check_keys(file, table, {k: v for k, v in section.items()  # per-arm tables: below
                                  if table != "arms" or k == "names"}, keys)
        for key in REQUIRED.get(table, ()):
            if key not in section:
                raise InputError("missing required key", file=file, field=f"{table}.{key}")


def _build(path: Path, file: str, raw: dict, sha: str) -> Benchmark:
    """The checked benchmark of a file's tables ``raw`` (also a sweep's variants of it, whose
    replaced tables are checked here as the file's own are)."""
    _check_tables(file, raw)
    bench, arms_t = raw["benchmark"], raw["arms"]
    seeds = bench["seeds"]
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                            for s in seeds) or len(set(seeds)) != len(seeds):
        raise InputError(f"expected a non-empty list of distinct integers >= 0, got {seeds!r}",
                         file=file, field="benchmark.seeds")
    arms = arms_t["names"]
    if not arms or not all(isinstance(a, str) for a in arms) or len(set(arms)) != len(arms):
        raise InputError(f"expected a non-empty list of distinct arm names, got {arms!r}",
                         file=file, field="arms.names")
    _check_arms(file, arms, arms_t)
    arm_params = {}
    for key, value in arms_t.items():
        if key == "names":
            continue
        if key not in arms:
            raise InputError(f"parameters for arm '{key}', which is not in arms.names",
                             file=file, field=f"arms.{key}")
        if not isinstance(value, dict):
            raise InputError("expected a table of arm parameters", file=file, field=f"arms.{key}")
        arm_params[key] = dict(value)
    plans = dict(raw["plans"])
    budget = plans.pop("budget")
    ranking = raw.get("ranking", {})
    click_model = click_model_of(file, raw["clicks"], ranking.get("page", 10))
    reward = _reward(file, raw.get("reward", {}), click_model)
    fusion = ranking.get("fusion", "rrf")
    if fusion not in ("rrf", "combsum"):
        raise InputError(f"unknown fusion '{fusion}' (choose from rrf, combsum)",
                         file=file, field="ranking.fusion")
    stream = raw["stream"]
    _positive(file, "stream.length", stream["length"])
    _positive(file, "ranking.page", ranking.get("page", 10))
    _positive(file, "ranking.k", ranking.get("k", 60))
    if stream.get("zipf", 1.0) <= 0:
        raise InputError(f"must be > 0, got {stream['zipf']!r}", file=file, field="stream.zipf")
    if stream.get("new_release_days", 0) < 0:
        raise InputError(f"must be >= 0, got {stream['new_release_days']!r}", file=file,
                         field="stream.new_release_days")
    rankers = _rankers(file, raw.get("rankers"))
    prices = Prices.from_table(raw.get("cost"), arms, [fusion, *rankers], file)
    settings = LoopSettings(fusion=fusion, k=ranking.get("k", 60), page=ranking.get("page", 10),
                            prices=prices, clicks=click_model, reward=reward,
                            new_release_days=stream.get("new_release_days", 0),
                            exploration=_exploration(file, ranking),
                            target=_target(file, ranking, rankers))
    features = raw.get("features", {}).get("groups", [])
    _check_features(file, features)
    probe_depth, probe_arms = _probe(file, raw.get("features", {}), features, arms)
    settings.probe_depth, settings.probe_arms = probe_depth, probe_arms
    benchmark = Benchmark(
        path=path, sha256=sha, name=bench["name"], dataset=bench["dataset"], seeds=list(seeds),
        arms=list(arms), arm_params=arm_params, budget=budget, plans=plans,
        features=list(features), stream_length=stream["length"],
        zipf=float(stream.get("zipf", 1.0)), split=stream.get("split"), settings=settings,
        policies=policy_specs(file, raw.get("policies")), version=str(bench.get("version", "1")),
        description=bench.get("description", ""), raw=raw,
        tuning=_tuning(file, raw.get("tuning"), seeds), rankers=rankers)
    _check_limit(file, benchmark)
    check_policies(file, benchmark, benchmark.policies)
    return benchmark


def check_policies(file: str, benchmark: Benchmark, specs: list[PolicySpec]) -> None:
    """Check policy entries against the benchmark: a grid needs a ``[tuning]`` table, a
    ``ranker`` a ``[rankers.<name>]`` table, ``features`` a subset of its groups; then each
    is built on the plan space (:func:`check_policy`)."""
    if benchmark.tuning is None:
        for i, spec in enumerate(specs):
            if spec.grid:
                raise InputError("a tuning grid needs a [tuning] table (its seeds and metric)",
                                 file=file, field=f"policies[{i}].grid")
    features = benchmark.features
    for i, spec in enumerate(specs):
        if spec.ranker is not None and spec.ranker not in benchmark.rankers:
            raise InputError(f"unknown ranker '{spec.ranker}' (the file declares "
                             f"{', '.join(benchmark.rankers) or 'none'} in [rankers.<name>] tables)",
                             file=file, field=f"policies[{i}].ranker")
        if spec.features is not None:
            extra = [g for g in spec.features if g not in features]
            if extra or len(set(spec.features)) != len(spec.features):
                raise InputError(f"expected distinct groups from features.groups "
                                 f"({', '.join(features) or 'none'}), got {spec.features!r}",
                                 file=file, field=f"policies[{i}].features")
    space = benchmark.plan_space()
    for i, spec in enumerate(specs):
        check_policy(file, i, spec, space)


def _check_limit(file: str, benchmark: Benchmark) -> None:
    """A latency limit that every plan is over leaves nothing to offer: refused."""
    prices = benchmark.settings.prices
    if prices.limit_ms is None:
        return
    from ltrr.selection.plans import PlanSpace

    space = PlanSpace.from_config(benchmark.arms, benchmark.budget, benchmark.plans, file=file)
    latency = prices.retrieval_latency(space.depth_matrix())
    if (latency > prices.limit_ms + 1e-12).all():
        raise InputError(f"every plan's retrieval latency is over the limit of "
                         f"{prices.limit_ms:g} ms (the fastest plan, {space.ids[int(latency.argmin())]}, "
                         f"takes {latency.min():.3g} ms)", file=file, field="cost.latency_limit_ms")


def _check_arms(file: str, arms: list[str], table: dict) -> None:
    """Each arm is a built-in, an entry point, or a short name whose ``[arms.<name>] class``
    resolves (:data:`ltrr.arms.REGISTRY`); what it builds is checked when the dataset is
    loaded (``prepare``)."""
    from ltrr.arms import REGISTRY

    for arm in arms:
        source = table.get(arm, {}).get("class") if isinstance(table.get(arm), dict) else None
        if source is None and REGISTRY.is_builtin(arm):
            continue
        if not ARM_NAME.fullmatch(arm):
            raise InputError(f"arm name '{arm}' is not a short name (letters, digits, _ and -; "
                             "plan ids are made of them): name an outside arm's class in "
                             f"[arms.<name>] class = \"module:Name\"", file=file, field="arms.names")
        if source is None:
            if arm not in REGISTRY.entry_points():
                raise InputError(f"unknown arm '{arm}' (choose from {', '.join(REGISTRY.names())})",
                                 file=file, field="arms.names")
            continue
        if not isinstance(source, str):
            raise InputError(f"expected a string (a built-in arm, module:Name or an entry point),"
                             f" got {source!r}", file=file, field=f"arms.{arm}.class")
        try:
            REGISTRY.resolve(source)
        except InputError as err:
            raise InputError(str(err), file=file, field=f"arms.{arm}.class") from None


def click_model_of(file: str, table: dict, page: int):
    """The ``[clicks]`` model: a built-in with a parameter set (and PBM's examination curve),
    or an outside one (:func:`ltrr.simulation.clicks.make_click_model`)."""
    model, params = table["model"], table["params"]
    if model in CLICK_MODELS:
        if not isinstance(params, str) or params not in PARAMETER_SETS:
            raise InputError(f"unknown click parameter set '{params}' "
                             f"(choose from {', '.join(PARAMETER_SETS)})",
                             file=file, field="clicks.params")
    elif "examination" in table:
        raise InputError(f"an examination curve is for the built-in pbm model; click model "
                         f"'{model}' examines as it defines", file=file, field="clicks.examination")
    try:
        built = make_click_model(model, params)
    except InputError as err:
        raise InputError(str(err), file=file, field="clicks.model") from None
    if "examination" in table:
        try:
            built = make_click_model(model, params, examination=table["examination"])
            built.examination(int(page) if isinstance(page, int) else 10)
        except InputError as err:
            raise InputError(str(err), file=file, field="clicks.examination") from None
    return built


def _reward(file: str, table: dict, click_model) -> str:
    """The ``[reward]`` name (default ``clicks``), one the click model can produce."""
    name = table.get("name", "clicks")
    if name not in REWARDS:
        raise InputError(f"unknown reward '{name}' (choose from {', '.join(REWARDS)})",
                         file=file, field="reward.name")
    can = producible_rewards(click_model)
    if name not in can:
        raise InputError(f"click model {describe_users(click_model)} cannot produce reward "
                         f"'{name}' ({why_not(click_model, name)}); it can produce "
                         f"{', '.join(can)}", file=file, field="reward.name")
    return name


def _probe(file: str, table: dict, groups: list[str], arms: list[str]) -> tuple[int, tuple]:
    """``(probe_depth, probe_arms)``: what post-retrieval features read (0, () without them)."""
    if "post_retrieval" not in groups:
        for key in ("probe_depth", "probe_arms"):
            if key in table:
                raise InputError("only used with the post_retrieval feature group",
                                 file=file, field=f"features.{key}")
        return 0, ()
    depth = table.get("probe_depth", DEFAULT_PROBE_DEPTH)
    _positive(file, "features.probe_depth", depth)
    probed = table.get("probe_arms", list(arms))
    if not probed or not all(isinstance(a, str) and a in arms for a in probed) \
            or len(set(probed)) != len(probed):
        raise InputError(f"expected distinct names from arms.names, got {probed!r}",
                         file=file, field="features.probe_arms")
    return int(depth), tuple(a for a in arms if a in probed)


def _rankers(file: str, table: object) -> dict:
    """The ``[rankers.<name>]`` tables, checked (:class:`ltrr.ranking.stage.RankerConfig`)."""
    from ltrr.ranking.stage import RankerConfig

    if table is None:
        return {}
    if not isinstance(table, dict):
        raise InputError("expected tables [rankers.<name>]", file=file, field="rankers")
    return {name: RankerConfig.from_table(name, value, file) for name, value in table.items()}


def _tuning(file: str, table: dict | None, seeds: list[int]) -> Tuning | None:
    if table is None:
        return None
    if "seeds" not in table:
        raise InputError("missing required key", file=file, field="tuning.seeds")
    tuning_seeds = table["seeds"]
    if not tuning_seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                   for s in tuning_seeds) or len(set(tuning_seeds)) != len(tuning_seeds):
        raise InputError(f"expected a non-empty list of distinct integers >= 0, got {tuning_seeds!r}",
                         file=file, field="tuning.seeds")
    check_disjoint(tuning_seeds, seeds, file)
    metric = table.get("metric", "reward")
    if metric not in TUNABLE:  # a run's metrics where larger is better (the registry's)
        raise InputError(f"unknown metric {metric!r} (choose from {', '.join(TUNABLE)})",
                         file=file, field="tuning.metric")
    return Tuning(list(tuning_seeds), metric)


def check_disjoint(tuning_seeds: list[int], seeds: list[int], file: str,
                   field: str = "tuning.seeds") -> None:
    """Tuning seeds must not be reported seeds (a setting chosen on the reported streams
    would be tuned on the test data)."""
    shared = sorted(set(tuning_seeds) & set(seeds))
    if shared:
        raise InputError(f"tuning seeds {shared} are also reported seeds (benchmark.seeds); "
                         "tune on seeds disjoint from the ones you report",
                         file=file, field=field)


def _exploration(file: str, ranking: dict) -> PlackettLuce | None:
    """``[ranking] logging``/``temperature``: the Plackett-Luce ranker the loop shows its
    pages by, or None (``"top"``, the default: the ranking stage's top page)."""
    logging = ranking.get("logging", "top")
    if logging not in LOGGING_RANKERS:
        raise InputError(f"unknown logging ranker '{logging}' (choose from "
                         f"{', '.join(LOGGING_RANKERS)})", file=file, field="ranking.logging")
    if "temperature" in ranking and logging != "plackett-luce":
        raise InputError('a temperature needs logging = "plackett-luce"', file=file,
                         field="ranking.temperature")
    if logging == "top":
        return None
    temperature = ranking.get("temperature", 1.0)
    if isinstance(temperature, bool) or not temperature > 0 or temperature == float("inf"):
        raise InputError(f"must be a number > 0, got {temperature!r}", file=file,
                         field="ranking.temperature")
    return PlackettLuce(float(temperature))


def _target(file: str, ranking: dict, rankers: dict) -> str | None:
    """``[ranking] target``: a ``[rankers.<name>]`` trained before the run (from qrels or
    clicks) whose page an exploring run logs beside the sampled one, or None."""
    target = ranking.get("target")
    if target is None:
        return None
    if ranking.get("logging") != "plackett-luce":
        raise InputError('a target needs logging = "plackett-luce"', file=file,
                         field="ranking.target")
    if target not in rankers:
        raise InputError(f"no [rankers.{target}] table (rankers: "
                         f"{', '.join(rankers) or 'none'})", file=file, field="ranking.target")
    if rankers[target].train == "online":
        raise InputError(f"ranker '{target}' learns online during each run; a target is "
                         "trained before it (train = \"qrels\" or \"clicks\")", file=file,
                         field="ranking.target")
    return target


def _positive(file: str, key: str, value) -> None:
    if value < 1:
        raise InputError(f"must be >= 1, got {value!r}", file=file, field=key)


def _check_features(file: str, groups) -> None:
    from ltrr.selection.context import FEATURE_GROUPS

    if not all(isinstance(g, str) for g in groups):
        raise InputError(f"expected a list of group names, got {groups!r}",
                         file=file, field="features.groups")
    for group in groups:
        if group not in FEATURE_GROUPS:
            raise InputError(f"unknown feature group '{group}' "
                             f"(choose from {', '.join(FEATURE_GROUPS)})",
                             file=file, field="features.groups")
