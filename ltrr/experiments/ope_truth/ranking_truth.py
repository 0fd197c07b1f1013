"""Ground truth for off-policy estimates of rankers from logged pages
(``benchmarks/ope-ranking.toml``, an ``[ope_ranking]`` table).

The world is the base benchmark's (its dataset, arms, click parameters and learned rankers,
trained on its training topics as ``ltrr run`` trains them). Every query of a seed's stream
(its test topics, drawn as the loop draws them) gets the loop's candidate pool of one plan at
step 0 (``plan``, default the union of every arm: :func:`ltrr.ranking.training_data.topic_pools`,
as the learned rankers' training pools are made); the world is held still (no memory learning,
no releases during the stream), so a target's on-policy value is exactly its expected clicks on
the stream, and what is measured is the estimators, not the world's drift (which
``benchmarks/ope-music.toml`` measures for plan choice).

Per seed, click model and logging temperature:

1. the logging ranker (:class:`~ltrr.kernel.stochastic.PlackettLuce` over the ``logger``'s
   scores) shows each query a sampled page; users click by the click model (the base's
   parameter set); the page log carries every exact probability (page, prefix, item at its
   position, item at every position) and goes through ``ltrr ope --pages``' checks;
2. each deterministic target ranker is estimated from it (:mod:`ltrr.ope.slate`: SIPS, IIPS,
   RIPS, and PBM-IPS with examination estimated from the log) and its on-policy value ``V``
   computed: the mean over the stream of its page's expected clicks under the click model.

Rankers by name: ``rrf`` (the loop's fusion), ``reversed-rrf`` (the pool's worst by RRF first:
a deliberately bad ranker), and any ``[rankers.<name>]`` of the base benchmark that is trained
before the stream (``train = "qrels"`` or ``"clicks"``).

File format (TOML)::

    [ope_ranking]
    base = "music-ranking.toml"
    seeds = [0, 1]
    stream_length = 2000
    temperatures = [0.5, 1.0]
    click_models = ["pbm", "cascade"]
    logger = "rrf"
    targets = ["rrf", "lambdamart-qrels", "reversed-rrf"]
    n_bootstrap = 200
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.errors import InputError
from ltrr.ope import slate
from ltrr.ope.pages import to_page_logs
from ltrr.experiments.ope_truth.truthfiles import read_table, write_results
from ltrr.kernel.stochastic import (PlackettLuce, position_marginals, prefix_probabilities,
                                     sample_page)

BUILT_IN = ("rrf", "reversed-rrf")
KEYS = {"base": str, "seeds": list, "stream_length": int, "temperatures": list,
        "click_models": list, "logger": str, "targets": list, "plan": str,
        "estimators": list, "n_bootstrap": int}
REQUIRED = ("base", "seeds", "stream_length", "temperatures", "click_models", "targets")
RRF_K = 60


@dataclass
class RankingBenchmark:
    path: Path
    sha256: str
    base: Path
    seeds: list[int]
    stream_length: int
    temperatures: list[float]
    click_models: list[str]
    targets: list[str]
    logger: str = "rrf"
    plan: str | None = None  # a plan id of the base drawing from every arm; default the union
    estimators: list[str] = field(default_factory=lambda: list(slate.ESTIMATORS))
    n_bootstrap: int = 200


def load(path: str | Path) -> RankingBenchmark:
    """Read and check an ``[ope_ranking]`` benchmark file."""
    path = Path(path)
    table, sha256 = read_table(path, "ope_ranking", KEYS, REQUIRED)
    if not all(isinstance(t, (int, float)) and t > 0 for t in table["temperatures"]):
        raise InputError(f"{path}: ope_ranking.temperatures: numbers > 0, got "
                         f"{table['temperatures']!r}")
    if "estimators" in table:
        table["estimators"] = slate.parse_estimators(",".join(table["estimators"]))
    base = (path.parent / table.pop("base")).resolve()
    return RankingBenchmark(path=path, sha256=sha256, base=base, **table)


@dataclass
class Pools:
    """Every stream topic's pool for the plan: docnos, 0..4 grades, and each ranker's scores
    (ties by the loop's seeded keys, as a pure function of the docno)."""

    plan: str
    docnos: list[np.ndarray]
    grades: list[np.ndarray]
    keys: list[np.ndarray]
    scores: dict[str, list[np.ndarray]]

    def page(self, ranker: str, t: int, length: int) -> np.ndarray:
        """Topic ``t``'s page by ``ranker``: pool indices, best first."""
        return np.lexsort((self.keys[t], -self.scores[ranker][t]))[:length]


def rrf_scores(ranks: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of a pool's arm ranks (0-based; absent: past every list),
    Cormack et al.'s 1-based form as the loop fuses."""
    from ltrr.kernel.pools import ABSENT  # noqa: PLC0415

    return np.where(ranks < ABSENT, 1.0 / (k + ranks + 1.0), 0.0).sum(axis=0)


def build_pools(spec: RankingBenchmark, world, stages: dict) -> Pools:
    """Pools of every stream topic and every ranker's scores on them."""
    from ltrr.kernel.ties import tie_keys  # noqa: PLC0415
    from ltrr.ranking.training_data import TIE_SEED, topic_pools  # noqa: PLC0415
    from ltrr.ranking.stage import TopicContexts  # noqa: PLC0415

    plan = spec.plan or max(world.plan_ids, key=lambda p: p.count("+"))
    if plan not in world.plan_ids:
        raise InputError(f"{spec.path}: ope_ranking.plan: '{plan}' is not a plan of the base "
                         f"(one of {', '.join(world.plan_ids)})")
    depths = dict(zip(world.arm_names, world.depths[world.plan_ids.index(plan)].tolist()))
    if min(depths.values()) < 1:  # the rankers' features read every arm's list
        raise InputError(f"{spec.path}: ope_ranking.plan: '{plan}' leaves out an arm; name a "
                         "plan that draws from every arm")
    stage = next(iter(stages.values()))
    rows = {str(q): i for i, q in enumerate(world.topics["qid"].astype(str))}
    pools = topic_pools(world.arms, depths, world.topics,
                        stage.spec, TopicContexts(stage.featurizer, rows),
                        stage.priors.as_of(0), hidden=set(world.late.index))
    rrf = [rrf_scores(p.ranks) for p in pools.pools]
    scores = {"rrf": rrf, "reversed-rrf": [-s for s in rrf]}
    for name, st in stages.items():
        scores[name] = [np.asarray(st.model.score(x), dtype=float) if len(x) else np.zeros(0)
                        for x in pools.features]
    grades = [world.grades_of(t, world.vocab.ids(d)) for t, d in enumerate(pools.docnos)]
    keys = [tie_keys(d, TIE_SEED) for d in pools.docnos]
    return Pools(plan, [np.asarray(d, dtype=str) for d in pools.docnos], grades, keys, scores)


def page_log(pools: Pools, stream: np.ndarray, logits: list, marginals: list, click_model,
             page: int, rng: np.random.Generator) -> pd.DataFrame:
    """One logged page per query of ``stream`` (its qid: the topic's row): Plackett-Luce
    pages, clicks, and every probability the estimators read."""
    shown = [sample_page(logits[t], page, rng) for t in stream.tolist()]
    clicks = [click_model.sample(pools.grades[t][s], rng) for t, s in zip(stream.tolist(), shown)]
    prefix = [prefix_probabilities(logits[t], s) for t, s in zip(stream.tolist(), shown)]
    sizes = np.array([len(s) for s in shown])
    cat = np.concatenate
    return pd.DataFrame({
        "slate_id": np.repeat(np.arange(len(stream)), sizes),
        "qid": np.repeat(stream, sizes).astype(str),
        "position": cat([np.arange(n) for n in sizes]),
        "action": cat([pools.docnos[t][s] for t, s in zip(stream.tolist(), shown)]),
        "reward": cat(clicks).astype(float),
        "pscore": np.repeat([p[-1] for p in prefix], sizes),
        "pscore_cascade": cat(prefix),
        "pscore_item_position": cat([marginals[t][s, np.arange(len(s))]
                                     for t, s in zip(stream.tolist(), shown)]),
        "pscore_positions": list(cat([marginals[t][s] for t, s in zip(stream.tolist(), shown)]))})


def on_policy_value(pools: Pools, ranker: str, stream: np.ndarray, click_model,
                    page: int) -> float:
    """Mean expected clicks of ``ranker``'s pages over ``stream``."""
    grades = np.full((len(pools.docnos), page), -1, dtype=np.int64)
    for t, g in enumerate(pools.grades):
        shown = pools.page(ranker, t, page)
        grades[t, :len(shown)] = g[shown]
    return float(click_model.expected_total(grades)[stream].mean())


class Logger:
    """The logging ranker at one temperature: per topic its logits and position marginals
    (computed once, shared by every seed)."""

    def __init__(self, pools: Pools, ranker: str, temperature: float, page: int) -> None:
        pl = PlackettLuce(temperature)
        self.temperature = temperature
        self.logits = [pl.logits(s) for s in pools.scores[ranker]]
        self.marginals = [position_marginals(x, page) if len(x) else np.zeros((0, page))
                          for x in self.logits]


@dataclass
class Setup:
    """What every seed shares (forked workers inherit it): the pools, the loggers, the stream's
    topics and the world's settings."""

    spec: RankingBenchmark
    pools: Pools
    loggers: list[Logger]
    topics: pd.DataFrame
    zipf: float
    page: int
    click_params: str
    plan: str


def run_seed(setup: Setup, seed: int) -> list[dict]:
    """One seed: each click model x temperature's log, every target's estimates and V."""
    from ltrr.simulation.clicks import make_click_model  # noqa: PLC0415
    from ltrr.simulation.stream import sample_stream  # noqa: PLC0415

    spec, pools, page = setup.spec, setup.pools, setup.page
    stream = sample_stream(setup.topics, spec.stream_length, setup.zipf, seed)
    rows = []
    for m, model in enumerate(spec.click_models):
        users = make_click_model(model, setup.click_params)
        values = {r: on_policy_value(pools, r, stream, users, page) for r in spec.targets}
        for logger in setup.loggers:
            rng = np.random.default_rng([seed, m, round(logger.temperature * 1000), 0x0B5])
            frame = page_log(pools, stream, logger.logits, logger.marginals, users, page, rng)
            logs = to_page_logs(frame, f"{model}-t{logger.temperature:g}-seed{seed}",
                                needed=slate.needed_columns(spec.estimators, False),
                                page_length=page)
            first = np.zeros(logs.n_pages, dtype=np.int64)
            first[logs.slate[::-1]] = np.arange(logs.n_rows)[::-1]
            for target in spec.targets:
                pages = [pools.docnos[t][pools.page(target, t, page)]
                         for t in logs.qid[first].astype(int)]
                result = slate.estimate(logs, slate.target_from_pages(logs, pages, target),
                                        spec.estimators, n_bootstrap=spec.n_bootstrap,
                                        seed=seed, checked=False)
                rows.append({"seed": seed, "click_model": model,
                             "temperature": logger.temperature, "target": target,
                             "v_on_policy": values[target],
                             "logging_value": result["logged_value"],
                             "estimates": result["estimates"], "notes": result["notes"]})
    return rows


_FORKED: dict = {}  # what forked workers inherit: the prepared Setup


def _seed_worker(seed: int) -> list[dict]:
    return run_seed(_FORKED["setup"], seed)


def _seeds_rows(setup: Setup, jobs: int, progress: bool):
    """Each seed's rows in seed order, in this process or ``jobs`` forked ones."""
    seeds = setup.spec.seeds
    if jobs <= 1 or len(seeds) == 1:
        for seed in seeds:
            yield run_seed(setup, seed)
            if progress:
                print(f"seed {seed} done", flush=True)
        return
    import multiprocessing as mp  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    _FORKED["setup"] = setup
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(seeds)),
                                 mp_context=mp.get_context("fork")) as pool:
            for seed, rows in zip(seeds, pool.map(_seed_worker, seeds)):
                yield rows
                if progress:
                    print(f"seed {seed} done", flush=True)
    finally:
        _FORKED.clear()


def prepare_setup(spec: RankingBenchmark) -> Setup:
    """The base benchmark's world and rankers, the pools, and the loggers."""
    from ltrr.experiments.benchmark import load_benchmark  # noqa: PLC0415
    from ltrr.experiments.runner import prepare, select  # noqa: PLC0415

    base = load_benchmark(spec.base)
    learned = [t for t in {*spec.targets, spec.logger} if t not in BUILT_IN]
    for name in learned:
        config = base.rankers.get(name)
        if config is None or config.train == "online":
            raise InputError(f"{spec.path}: ope_ranking: '{name}' is not rrf, reversed-rrf or a "
                             f"[rankers.{name}] of {spec.base.name} trained before the stream")
    picked = list(dict.fromkeys(next(p.label for p in base.policies if p.ranker == name)
                                for name in learned))
    benchmark = select(base, spec.seeds[:1], picked or [base.policies[0].label],
                       spec.stream_length)
    world, _, stages = prepare(benchmark)
    if not stages:  # no learned ranker named: a stage still supplies the pools' features
        raise InputError(f"{spec.path}: ope_ranking: name at least one learned ranker of "
                         f"{spec.base.name} among the targets")
    stages = {k: v for k, v in stages.items() if k in learned}
    page = benchmark.settings.page
    pools = build_pools(spec, world, stages)
    loggers = [Logger(pools, spec.logger, float(t), page) for t in spec.temperatures]
    return Setup(spec, pools, loggers, world.topics, benchmark.zipf, page,
                 benchmark.settings.clicks.params, pools.plan)


def run(path: str | Path, progress: bool = True, jobs: int = 1,
        command: str | None = None) -> dict:
    """Run an ``[ope_ranking]`` benchmark over its seeds; per-seed rows, the summary and the
    run's provenance."""
    import time  # noqa: PLC0415

    from ltrr.experiments.ope_truth import ranking_truth_tables  # noqa: PLC0415
    from ltrr.experiments.ope_truth.groundtruth import _shown  # noqa: PLC0415
    from ltrr.results.records import provenance  # noqa: PLC0415

    started = time.perf_counter()
    spec = load(path)
    setup = prepare_setup(spec)
    rows = [row for found in _seeds_rows(setup, jobs, progress) for row in found]
    return {"benchmark": str(spec.path), "benchmark_sha256": spec.sha256,
            "base": _shown(spec.base), "seeds": spec.seeds, "stream_length": spec.stream_length,
            "temperatures": spec.temperatures, "click_models": spec.click_models,
            "click_params": setup.click_params, "logger": spec.logger, "targets": spec.targets,
            "estimators": spec.estimators, "n_bootstrap": spec.n_bootstrap, "page": setup.page,
            "plan": setup.plan, "topics": len(setup.topics),
            "rows": rows, "summary": ranking_truth_tables.summarize(rows, spec.estimators),
            "provenance": provenance(spec, None, time.perf_counter() - started,
                                     command or f"ltrr run {path}")}


def run_and_write(benchmark: str | Path, out: str | Path | None = None, progress: bool = True,
                  jobs: int = 1, command: str | None = None) -> str:
    """Run, write ``ope_ranking.json`` and ``README.md`` to ``out`` (default
    ``results/<file stem>``), and return the markdown tables."""
    from ltrr.experiments.ope_truth.ranking_truth_tables import markdown  # noqa: PLC0415

    result = run(benchmark, progress=progress, jobs=jobs, command=command)
    return write_results(benchmark, out, "ope_ranking.json", result, markdown(result))
