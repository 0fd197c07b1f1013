"""``ltrr rank``'s experiment: train rankers on training topics, compare on the test topics.

:func:`rank_experiment` builds the arms on the dataset, pools every topic's candidates (each
arm at its depth), trains each requested ranker (cached under ``$LTRR_HOME/rankers``,
:mod:`ltrr.ranking.store`), and ranks each test topic's whole union four ways or more: by
RRF and by CombSUM (:func:`~ltrr.kernel.pages.plan_pages`, the loop's fusions) and by each
ranker (:func:`~ltrr.kernel.pages.pages_from_scores`); ties, in every system alike, go to
the best constituent rank, then to the seeded per-docno key of
:func:`~ltrr.kernel.ties.tie_keys`. The runs are judged by ``pt.Experiment`` (ir_measures) per query; the report
gives means per topic group (all, each intent) and, per measure, each system's paired
difference to a baseline (RRF unless told) with a 95% t-interval and the paired t-test's
p-value (``scipy.stats``) over the test queries. It also states how the training topics'
query texts overlapped the test topics' (:class:`~ltrr.datasets.splits.TextOverlap`; the
overlapping training topics are left out).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltrr.datasets.splits import TextOverlap
from ltrr.errors import InputError
from ltrr.evaluation.intervals import format_p, t_interval
from ltrr.kernel.pages import FUSIONS, pages_from_scores, plan_pages
from ltrr.kernel.ties import tie_keys
from ltrr.ranking.features import DocumentPriors, FeatureSpec
from ltrr.ranking.learned import check_correction, check_mode
from ltrr.ranking.training_data import (QueryContexts, TopicPools, overlap_info,
                                        topic_pools, training_split)
from ltrr.ranking.training import ClickSource, TrainingRequest, train_ranker

MEASURES = ("nDCG@10", "R@100")
BASELINE = "rrf"
REFERENCES = {"beir/nfcorpus": "published BM25 nDCG@10 on nfcorpus test: 0.325 (BEIR, "
                               "Thakur et al. 2021)"}


@dataclass
class RankerSpec:
    """One ranker to train: training mode (``qrels`` | ``clicks``) and click correction."""

    mode: str
    correction: str | None = None

    @property
    def name(self) -> str:
        return f"lambdamart:{self.mode}" + (f"/{self.correction}" if self.correction else "")


@dataclass
class RankReport:
    """What ``ltrr rank`` prints, and its JSON (:meth:`to_dict`)."""

    dataset: str
    measures: list[str]
    systems: list[str]
    per_query: pd.DataFrame          # qid x (system, measure)
    groups: dict[str, list[str]]     # group -> qids
    setup: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    baselines: list[str] = field(default_factory=lambda: [BASELINE])

    def means(self, group: str = "all") -> pd.DataFrame:
        frame = self.per_query.loc[self.groups[group]]
        return pd.DataFrame({m: [frame[(s, m)].mean() for s in self.systems]
                             for m in self.measures}, index=self.systems)

    def versus(self, measure: str, baseline: str = BASELINE) -> dict[str, dict]:
        """Per system: mean paired difference to ``baseline``, its 95% t-interval and the
        paired t-test's p-value, over the judged test queries."""
        from scipy import stats

        base = self.per_query[(baseline, measure)].to_numpy()
        out = {}
        for s in self.systems:
            if s == baseline:
                continue
            vals = self.per_query[(s, measure)].to_numpy()
            mean, low, high = t_interval(vals - base)
            p = float(stats.ttest_rel(vals, base).pvalue) if np.any(vals != base) else 1.0
            out[s] = {"diff": mean, "low": low, "high": high, "p": p}
        return out

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "measures": self.measures, "setup": self.setup,
                "groups": {g: {"n_queries": len(q),
                               "systems": {s: {m: float(v) for m, v in row.items()}
                                           for s, row in self.means(g).iterrows()}}
                           for g, q in self.groups.items()},
                "versus": {b: {m: self.versus(m, b) for m in self.measures}
                           for b in self.baselines},
                "notes": self.notes}

    def paired_table(self, baseline: str) -> pd.DataFrame:
        """Means over all topics and paired differences to ``baseline``, one row per system."""
        means = self.means("all")
        versus = {m: self.versus(m, baseline) for m in self.measures}  # each test run once
        rows = []
        for s in self.systems:
            row = {"system": s}
            for m in self.measures:
                d = versus[m].get(s)
                row[m] = f"{means.loc[s, m]:.4f}"
                row[f"{m} vs {baseline} [95% CI], p"] = "" if d is None else (
                    f"{d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}], p={format_p(d['p'])}")
            rows.append(row)
        return pd.DataFrame(rows)

    def table(self, latency: bool = False) -> str:
        fmt = lambda x: f"{x:.4f}"  # noqa: E731
        setup = self.setup
        lines = [f"dataset {self.dataset}: {len(self.groups['all'])} judged test topics; "
                 f"trained on {setup.get('train', '')}",
                 f"candidate union: {', '.join(f'{a}@{d}' for a, d in setup['depths'].items())}",
                 f"document priors the rankers see: {', '.join(setup.get('priors') or []) or 'none'}",
                 "", self.paired_table(self.baselines[0]).to_string(index=False)]
        for other in self.baselines[1:]:
            lines += ["", f"paired against {other}:",
                      self.paired_table(other).to_string(index=False)]
        if len(self.groups) > 1:
            per = pd.DataFrame({g: self.means(g)[self.measures[0]] for g in self.groups}).T
            per.insert(0, "queries", [len(self.groups[g]) for g in per.index])
            lines += ["", f"{self.measures[0]} per topic group:",
                      per.to_string(float_format=fmt)]
        lines += ["", *(TextOverlap(**setup[key]).line(role) for key, role in
                        (("train_overlap", "training"), ("valid_overlap", "validation"))
                        if setup.get(key))]
        lines += ["", "rankers:"] + [f"  {n}: {r['source']} ({r['path']}), {r['trees']} trees, "
                                     f"{r['rows']} training rows, {r['seconds']:.1f} s"
                                     for n, r in setup.get("rankers", {}).items()]
        scored = {n: r["scoring"] for n, r in setup.get("rankers", {}).items() if r.get("scoring")}
        if scored and latency:
            lines += ["", "scoring a test topic's pool (one score call, after a warm-up call; "
                          "ms per pool, us per candidate):"]
            lines += [f"  {n}: mean {c['pool_mean_ms']:.3f}, p50 {c['pool_p50_ms']:.3f}, "
                      f"p95 {c['pool_p95_ms']:.3f}, p99 {c['pool_p99_ms']:.3f} ms over "
                      f"{c['pools']} pools of {c['candidates_per_pool']:.0f} candidates: "
                      f"{c['us_per_candidate']:.2f} us per candidate" for n, c in scored.items()]
        lines += self.notes + ["", f"total wall time {setup.get('seconds', 0.0):.1f} s"]
        return "\n".join(lines)


def parse_rankers(modes: list[str], corrections: list[str]) -> list[RankerSpec]:
    """The rankers to train: each mode, clicks once per correction. InputError if unknown."""
    specs = []
    for mode in modes:
        check_mode(mode)
        if mode == "online":
            raise InputError("training mode 'online' retrains inside the interaction loop "
                             "(ltrr run); ltrr rank trains offline: choose qrels or clicks")
        if mode == "clicks":
            specs += [RankerSpec("clicks", check_correction(c)) for c in corrections]
        else:
            specs.append(RankerSpec(mode))
    return specs


def rank_experiment(dataset, arm_names: list[str], depths: dict[str, int],
                    rankers: list[RankerSpec], params: dict | None = None,
                    train_id: str | None = None, valid_id: str | None = None,
                    clicks: ClickSource | None = None, seed: int = 0,
                    measures: tuple[str, ...] = MEASURES, k: int = 60,
                    baselines: tuple[str, ...] = (BASELINE,),
                    priors: list[str] | None = None) -> RankReport:
    """Train ``rankers`` and evaluate them against RRF and CombSUM (see the module);
    ``priors``: the dataset's document priors the rankers see (None: every declared one)."""
    from ltrr.arms import build_arm
    from ltrr.datasets.splits import split_topics, topic_groups

    start = time.perf_counter()
    test = split_topics(dataset.topics, "test").reset_index(drop=True)
    if not len(test):
        raise InputError(f"dataset '{dataset.id}' has no test topics", field="split")
    train, valid = training_split(dataset, train_id, valid_id)
    priors = DocumentPriors(dataset, priors)  # an undeclared prior fails before arms are built
    arms = {}
    for name in arm_names:
        arms[name] = build_arm(name, dataset, num_results=depths[name]).load()
    parts = [test, train.topics] + ([valid.topics] if valid is not None else [])
    everything = pd.concat([p[["qid", "query"] + [c for c in dataset.context_columns
                                                  if c in p.columns]] for p in parts])
    contexts = QueryContexts(dataset, everything, arm_names)
    spec = FeatureSpec(tuple(arm_names), tuple(contexts.names), priors.names, k)
    pools = {role: topic_pools(arms, depths, frame, spec, contexts, priors)
             for role, frame in (("test", test), ("train", train.topics),
                                 ("valid", None if valid is None else valid.topics))
             if frame is not None}
    key = {"dataset": dataset.id, "corpus": _fingerprint(dataset),
           "arms": {a: arms[a].cache_key for a in arm_names}, "depths": depths,
           "spec": spec.describe(), "params": params or {}}
    trained = {r.name: train_ranker(TrainingRequest(
                   mode=r.mode, pools=pools, train=train, valid=valid, spec=spec, priors=priors,
                   key=key, name=r.name, correction=r.correction, params=params, clicks=clicks,
                   seed=seed))
               for r in rankers}
    scoring: dict[str, list] = {}
    runs = _ranked_runs(pools["test"], {n: m for n, (m, _) in trained.items()}, k, seed,
                        scoring)
    per_query = _per_query(runs, test, dataset.qrels, list(measures))
    groups = {g: [q for q in t["qid"].astype(str) if q in per_query.index]
              for g, t in topic_groups(test).items()}
    groups = {g: q for g, q in groups.items() if q}
    setup = {"train": train.source, "valid": valid.source if valid is not None else None,
             "n_train": len(train.topics), **overlap_info(train, valid), "depths": depths,
             "seed": seed, "priors": list(priors.names),
             "features": spec.names, "rankers": {n: {**info, "scoring": scoring_cost(scoring[n])}
                                                 for n, (_, info) in trained.items()},
             "seconds": time.perf_counter() - start}
    notes = [f"note: {text}" for prefix, text in REFERENCES.items()
             if dataset.id.startswith(prefix)]
    unknown = [b for b in baselines if b not in runs]
    if unknown:
        raise InputError(f"baseline(s) {unknown} are not among the compared systems "
                         f"({', '.join(runs)})")
    return RankReport(dataset.id, list(measures), list(runs), per_query, groups, setup, notes,
                      list(baselines))


def _fingerprint(dataset) -> str:
    from ltrr.arms.base import corpus_fingerprint

    return corpus_fingerprint(dataset)


def _order_frame(pools: TopicPools, orders: list[np.ndarray]) -> pd.DataFrame:
    """A ranking frame from per-topic orders of pool indices (score = descending by order)."""
    sizes = np.array([len(o) for o in orders], dtype=np.int64)
    rank = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    docno = np.concatenate([d[o] for d, o in zip(pools.docnos, orders)]) if len(orders) else []
    return pd.DataFrame({"qid": np.repeat(pools.topics["qid"].astype(str).to_numpy(), sizes),
                         "docno": docno, "rank": rank,
                         "score": (np.repeat(sizes, sizes) - rank).astype(float)})


def _ranked_runs(pools: TopicPools, models: dict, k: int, seed: int,
                 scoring: dict | None = None) -> dict[str, pd.DataFrame]:
    """Each test topic's whole union ranked by each fusion and each model; ``scoring``
    collects each model's ``(seconds, candidates)`` per pool (after one untimed warm-up
    call on the first pool)."""
    orders: dict[str, list[np.ndarray]] = {name: [] for name in [*FUSIONS, *models]}
    timed = {name: [] for name in models}
    if pools.features:
        for model in models.values():
            model.score(pools.features[0])  # the warm-up call, untimed
    for pool, X, docnos in zip(pools.pools, pools.features, pools.docnos):
        every = np.full((1, pool.ranks.shape[0]), np.iinfo(np.int32).max - 1)
        n, keys = max(len(pool.docs), 1), tie_keys(docnos, seed)
        pages = {f: plan_pages(pool, every, f, k, n, keys)[0][0] for f in FUSIONS}
        for name, model in models.items():
            start = time.perf_counter()
            scores = model.score(X)
            timed[name].append((time.perf_counter() - start, len(X)))
            pages[name] = pages_from_scores(pool, every, scores, n, keys)[0][0]
        for name, page in pages.items():
            orders[name].append(page[page >= 0])
    if scoring is not None:
        scoring.update(timed)
    return {name: _order_frame(pools, o) for name, o in orders.items()}


def scoring_cost(timed: list[tuple[float, int]]) -> dict:
    """What a ranker costs to score a candidate pool: per pool, the mean, p50, p95 and p99
    milliseconds of one ``score`` call, and microseconds per candidate scored (all pools'
    time over all their candidates)."""
    if not timed:
        return {}
    ms = np.array([t for t, _ in timed]) * 1000.0
    candidates = int(sum(n for _, n in timed))
    return {"pools": len(timed), "candidates_per_pool": round(candidates / len(timed), 1),
            "us_per_candidate": round(float(ms.sum()) * 1000.0 / max(candidates, 1), 3),
            "pool_mean_ms": round(float(ms.mean()), 4),
            **{f"pool_p{q}_ms": round(float(np.percentile(ms, q)), 4) for q in (50, 95, 99)}}


def _per_query(runs: dict[str, pd.DataFrame], topics: pd.DataFrame, qrels: pd.DataFrame,
               measures: list[str]) -> pd.DataFrame:
    """Per judged test query, each system's value of each measure (pt.Experiment, perquery)."""
    import ir_measures
    import pyterrier as pt

    judged = set(qrels["qid"].astype(str))
    topics = topics[topics["qid"].astype(str).isin(judged)][["qid", "query"]]
    topics = topics.assign(qid=topics["qid"].astype(str))
    qrels = qrels.assign(qid=qrels["qid"].astype(str), docno=qrels["docno"].astype(str))
    parsed = [ir_measures.parse_measure(m) for m in measures]
    exp = pt.Experiment(list(runs.values()), topics, qrels, parsed, names=list(runs),
                        perquery=True, verbose=False)
    exp["measure"] = exp["measure"].astype(str)
    wide = exp.pivot_table(index="qid", columns=["name", "measure"], values="value")
    columns = pd.MultiIndex.from_product([list(runs), [str(m) for m in parsed]])
    return wide.reindex(index=sorted(topics["qid"]), columns=columns).fillna(0.0)
