"""Training a learned ranker on training topics' pools, from judgements or clicks, cached.

Shared by ``ltrr rank`` (:mod:`ltrr.ranking.experiment`) and the interaction loop's learned
ranking stage (:mod:`ltrr.ranking.stage`): the same training data, the same model cache
(:mod:`ltrr.ranking.store`). Their cache names differ (``ltrr rank`` names a model by its
mode, the loop by its ``[rankers.<name>]`` table), so each trains its own copy once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltrr.errors import InputError
from ltrr.ranking.features import FeatureSpec
from ltrr.ranking.learned import LambdaMART, fit_clicks, fit_qrels, known_examination
from ltrr.ranking.offline import TopicPools, click_rows, simulate_click_log


@dataclass
class ClickSource:
    """Where clicks mode gets its clicks: ``log`` (a file) or a simulation's settings."""

    log: pd.DataFrame | None = None
    log_path: str | None = None
    click_model: object | None = None
    sessions: int = 10000
    page: int = 10


def train_ranker(mode: str, correction: str | None, pools: dict[str, TopicPools], train, valid,
                 spec: FeatureSpec, priors, params: dict | None, clicks: ClickSource | None,
                 seed: int, key: dict, name: str, ranker=LambdaMART):
    """Train (or load from the cache) one ranker; returns ``(model, info)``.

    ``mode`` ``qrels`` learns from ``train``'s judgements on ``pools["train"]`` (early stopping
    on ``pools["valid"]`` when there is one); ``clicks`` from the click log of ``clicks`` (a
    file, or a simulation on the training pools) with ``correction``. ``key`` (what
    determines the model besides its training data) and ``name`` name the cache entry.
    ``ranker`` makes the model (:func:`~ltrr.ranking.checked_ranker.ranker_factory`); an outside one
    is trained every run (the model cache holds LightGBM's text models only).
    """
    from ltrr.ranking.store import array_hash, cached_model

    t0 = time.perf_counter()
    if mode == "qrels":
        X, group = pools["train"].stacked()
        y = np.concatenate(pools["train"].labels(train.qrels))
        v = None
        if "valid" in pools:
            vx, vg = pools["valid"].stacked()
            v = (vx, np.concatenate(pools["valid"].labels(valid.qrels)), vg)
        data = array_hash(X, y, group, *(v or ()))
        fit = lambda: fit_qrels(X, y, group, params, spec.names, v, ranker)  # noqa: E731
        source = {"labels": train.source}
    else:
        if clicks is None:
            raise InputError("clicks mode needs a click log or a click model to simulate one")
        log, source = click_log(clicks, pools["train"], train, seed)
        X, position, click, group = click_rows(pools["train"], log, spec, priors)
        data = array_hash(X, position, click, group)
        curve = None if clicks.log is not None else \
            known_examination(clicks.click_model, int(position.max()) + 1 if len(position) else 1)
        exam = None if curve is None else curve[position]
        fit = lambda: fit_clicks(X, position, click, group, correction, params,  # noqa: E731
                                 spec.names, examination=exam, ranker=ranker)
    model_key = {**key, "mode": mode, "correction": correction, "data": data}
    if ranker is LambdaMART:
        model, where, path = cached_model(name.replace(":", "-").replace("/", "-"),
                                          model_key, fit, spec.names)
    else:
        model, where, path = fit(), "trained", None
    info = {"mode": mode, "correction": correction, "source": where,
            "path": str(path), "trees": getattr(model, "n_trees", None), "rows": int(len(X)),
            "seconds": round(time.perf_counter() - t0, 3), **source}
    return model, info


def click_log(clicks: ClickSource, train_pools: TopicPools, train, seed: int):
    """The click log for clicks mode: the given file's, or one simulated on the train topics."""
    from ltrr.kernel.clicks import scale_grades

    if clicks.log is not None:
        return clicks.log, {"clicks": f"log {clicks.log_path}"}
    labels = train_pools.labels(train.qrels)
    top = max([int(g.max()) for g in labels if len(g)] + [1])
    grades = [scale_grades(g, top) for g in labels]
    log = simulate_click_log(train_pools, grades, clicks.click_model, clicks.sessions, seed,
                             clicks.page)
    model = clicks.click_model
    return log, {"clicks": f"simulated: {clicks.sessions} sessions on the train topics, "
                           f"{getattr(model, 'model', '?')}/{getattr(model, 'params', '?')} "
                           f"clicks on RRF pages of random arm subsets, seed {seed}",
                 "click_log_clicks": int(log["click"].sum())}
