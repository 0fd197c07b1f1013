"""Benchmark definitions: a TOML file read, checked and turned into a :class:`Benchmark`.

The format is documented in ``docs/benchmark-format.md``. Everything that can be checked
without loading the dataset is checked here, up front, so a typo fails in milliseconds
with one message naming the file and the key (``ltrr run`` then exits with code 2 and
writes nothing). Tables and keys::

    [benchmark]  name, dataset, seeds, version?, description?
    [arms]       names = [...];  [arms.<name>] constructor parameters of that arm
    [plans]      budget, single?, equal_splits?, skewed?, custom?, union?
    [features]   groups = [...], probe_depth?, probe_arms?
    [stream]     length, zipf?, new_release_days?, split?
    [clicks]     model, params
    [ranking]    fusion?, k?, page?
    [cost]       per_candidate?, per_arm_call?
    [tuning]     seeds, metric?
    [rankers.<name>]  model?, train?, correction?, params?, sessions?, log?, retrain_every?
    [[policies]] name, label?, params?, grid?, features?, ranker?
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from ltrr.errors import InputError
from ltrr.simulation.clicks import CLICK_MODELS, PARAMETER_SETS, ClickModel
from ltrr.simulation.loop import LoopSettings

SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "benchmark": {"name": str, "dataset": str, "seeds": list, "version": (str, int),
                  "description": str},
    "arms": {"names": list},
    "plans": {"budget": int, "single": bool, "equal_splits": (list, str), "skewed": list,
              "custom": list, "union": bool},
    "features": {"groups": list, "probe_depth": int, "probe_arms": list},
    "stream": {"length": int, "zipf": (int, float), "new_release_days": int, "split": str},
    "clicks": {"model": str, "params": str},
    "ranking": {"fusion": str, "k": int, "page": int},
    "cost": {"per_candidate": (int, float), "per_arm_call": (int, float)},
    "tuning": {"seeds": list, "metric": str},
}
REQUIRED = {"benchmark": ("name", "dataset", "seeds"), "arms": ("names",),
            "plans": ("budget",), "stream": ("length",), "clicks": ("model", "params")}
POLICY_KEYS = ("name", "label", "params", "grid", "features", "ranker")
DEFAULT_PROBE_DEPTH = 10
# what tuning can select on: a run's metrics where larger is better
TUNING_METRICS = ("reward", "expected_reward", "clicks", "ndcg@10", "candidate_recall")


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


@dataclass
class Tuning:
    """The ``[tuning]`` table: grids are run on ``seeds`` (disjoint from the reported seeds)
    with the benchmark's own stream length (the horizon a setting is tuned for is the one
    it is reported on), and the setting with the best mean ``metric`` is kept."""

    seeds: list[int]
    metric: str = "reward"


@dataclass
class Benchmark:
    """A checked benchmark definition."""

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
    probe_depth: int = 0
    version: str = "1"
    description: str = ""
    raw: dict = field(default_factory=dict)

    def plan_space(self):
        from ltrr.selection.plans import PlanSpace

        return PlanSpace.from_config(self.arms, self.budget, self.plans, file=str(self.path))


def _check_type(file: str, key: str, value: object, kind) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"expected {names}, got {value!r}", file=file, field=key)


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
    for table in raw:
        if table not in SCHEMA and table not in ("policies", "rankers"):
            known = ", ".join(list(SCHEMA) + ["rankers", "policies"])
            raise InputError(f"unknown table (expected one of {known})", file=file, field=table)
    for table, keys in SCHEMA.items():
        section = raw.get(table, {})
        if not isinstance(section, dict):
            raise InputError("expected a table", file=file, field=table)
        for key, value in section.items():
            if table == "arms" and key != "names":
                continue  # per-arm parameter tables, checked below
            if key not in keys:
                raise InputError(f"unknown key (expected one of {', '.join(keys)})",
                                 file=file, field=f"{table}.{key}")
            _check_type(file, f"{table}.{key}", value, keys[key])
        for key in REQUIRED.get(table, ()):
            if key not in section:
                raise InputError("missing required key", file=file, field=f"{table}.{key}")
    return _build(path, file, raw, hashlib.sha256(blob).hexdigest())


def _build(path: Path, file: str, raw: dict, sha: str) -> Benchmark:
    from ltrr.arms import ARM_NAMES

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
    for arm in arms:
        if arm not in ARM_NAMES:
            raise InputError(f"unknown arm '{arm}' (choose from {', '.join(ARM_NAMES)})",
                             file=file, field="arms.names")
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
    clicks_t = raw["clicks"]
    if clicks_t["model"] not in CLICK_MODELS:
        raise InputError(f"unknown click model '{clicks_t['model']}' "
                         f"(choose from {', '.join(CLICK_MODELS)})", file=file, field="clicks.model")
    if clicks_t["params"] not in PARAMETER_SETS:
        raise InputError(f"unknown click parameter set '{clicks_t['params']}' "
                         f"(choose from {', '.join(PARAMETER_SETS)})",
                         file=file, field="clicks.params")
    ranking = raw.get("ranking", {})
    fusion = ranking.get("fusion", "rrf")
    if fusion not in ("rrf", "combsum"):
        raise InputError(f"unknown fusion '{fusion}' (choose from rrf, combsum)",
                         file=file, field="ranking.fusion")
    stream = raw["stream"]
    cost = raw.get("cost", {})
    _positive(file, "stream.length", stream["length"])
    _positive(file, "ranking.page", ranking.get("page", 10))
    _positive(file, "ranking.k", ranking.get("k", 60))
    if stream.get("zipf", 1.0) <= 0:
        raise InputError(f"must be > 0, got {stream['zipf']!r}", file=file, field="stream.zipf")
    for key in ("stream.new_release_days", "cost.per_candidate", "cost.per_arm_call"):
        table, name = key.split(".")
        if raw.get(table, {}).get(name, 0) < 0:
            raise InputError(f"must be >= 0, got {raw[table][name]!r}", file=file, field=key)
    settings = LoopSettings(fusion=fusion, k=ranking.get("k", 60), page=ranking.get("page", 10),
                            per_candidate=float(cost.get("per_candidate", 0.0)),
                            per_arm_call=float(cost.get("per_arm_call", 0.0)),
                            clicks=ClickModel(clicks_t["model"], clicks_t["params"]),
                            new_release_days=stream.get("new_release_days", 0))
    features = raw.get("features", {}).get("groups", [])
    _check_features(file, features)
    probe_depth, probe_arms = _probe(file, raw.get("features", {}), features, arms)
    settings.probe_depth, settings.probe_arms = probe_depth, probe_arms
    benchmark = Benchmark(
        path=path, sha256=sha, name=bench["name"], dataset=bench["dataset"], seeds=list(seeds),
        arms=list(arms), arm_params=arm_params, budget=budget, plans=plans,
        features=list(features), stream_length=stream["length"],
        zipf=float(stream.get("zipf", 1.0)), split=stream.get("split"), settings=settings,
        policies=_policies(file, raw.get("policies")), version=str(bench.get("version", "1")),
        description=bench.get("description", ""), raw=raw, probe_depth=probe_depth,
        tuning=_tuning(file, raw.get("tuning"), seeds), rankers=_rankers(file, raw.get("rankers")))
    if benchmark.tuning is None:
        for i, spec in enumerate(benchmark.policies):
            if spec.grid:
                raise InputError("a tuning grid needs a [tuning] table (its seeds and metric)",
                                 file=file, field=f"policies[{i}].grid")
    for i, spec in enumerate(benchmark.policies):
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
    _check_policies(file, benchmark, space)
    return benchmark


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
    if metric not in TUNING_METRICS:
        raise InputError(f"unknown metric '{metric}' (choose from {', '.join(TUNING_METRICS)})",
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


def _positive(file: str, key: str, value) -> None:
    if value < 1:
        raise InputError(f"must be >= 1, got {value!r}", file=file, field=key)


def _check_features(file: str, groups) -> None:
    from ltrr.selection.features import FEATURE_GROUPS

    if not all(isinstance(g, str) for g in groups):
        raise InputError(f"expected a list of group names, got {groups!r}",
                         file=file, field="features.groups")
    for group in groups:
        if group not in FEATURE_GROUPS:
            raise InputError(f"unknown feature group '{group}' "
                             f"(choose from {', '.join(FEATURE_GROUPS)})",
                             file=file, field="features.groups")


def _policies(file: str, entries) -> list[PolicySpec]:
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
        _check_type(file, f"{key}.name", entry["name"], str)
        _check_type(file, f"{key}.params", entry.get("params", {}), dict)
        grid = entry.get("grid", {})
        _check_type(file, f"{key}.grid", grid, dict)
        for name, values in grid.items():
            if not isinstance(values, list) or not values or len(values) != len(set(map(repr, values))):
                raise InputError(f"expected a non-empty list of distinct values, got {values!r}",
                                 file=file, field=f"{key}.grid.{name}")
            if name in entry.get("params", {}):
                raise InputError("set both in params and in grid (keep one)",
                                 file=file, field=f"{key}.grid.{name}")
        label = entry.get("label", entry["name"])
        _check_type(file, f"{key}.label", label, str)
        if label in labels:
            raise InputError(f"label '{label}' used twice (give one a distinct label)",
                             file=file, field=f"{key}.label")
        labels.add(label)
        ranker = entry.get("ranker")
        if ranker is not None:
            _check_type(file, f"{key}.ranker", ranker, str)
        groups = entry.get("features")
        if groups is not None and (not isinstance(groups, list)
                                   or not all(isinstance(g, str) for g in groups)):
            raise InputError(f"expected a list of feature group names, got {groups!r}",
                             file=file, field=f"{key}.features")
        specs.append(PolicySpec(entry["name"], label, dict(entry.get("params", {})), dict(grid),
                                None if groups is None else list(groups), ranker))
    return specs


def _check_policies(file: str, benchmark: Benchmark, space) -> None:
    """Build every policy (every grid setting) once on the real plan space, so unknown
    names, params and grid keys fail now."""
    from ltrr.selection.policies import build_policy, default_params

    for i, spec in enumerate(benchmark.policies):
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
                build_policy(spec.name, setting, space, 4, 0, (0.0, 1.0))
            except InputError as err:
                where = f"policies[{i}].grid" if spec.grid else f"policies[{i}]"
                raise InputError(str(err), file=file, field=where) from None
