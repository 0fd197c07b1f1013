"""Training a learned ranker on training topics' pools, from judgements or clicks, cached.

Shared by ``ltrr rank`` (:mod:`ltrr.experiments.rank`) and the interaction loop's learned
ranking stage (:mod:`ltrr.ranking.stage`): the same training data, the same model cache
(:mod:`ltrr.ranking.store`). Their cache names differ (``ltrr rank`` names a model by its
mode, the loop by its ``[rankers.<name>]`` table), so each trains its own copy once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltrr.contracts import ability
from ltrr.errors import InputError
from ltrr.ranking.features import FeatureSpec
from ltrr.ranking.learned import (LambdaMART, can_be_saved, fit_clicks, fit_qrels,
                                  known_examination)
from ltrr.ranking.training_data import TopicPools, click_rows, simulate_click_log


@dataclass
class ClickSource:
    """Where clicks mode gets its clicks: ``log`` (a file) or a simulation's settings."""

    log: pd.DataFrame | None = None
    log_path: str | None = None
    click_model: object | None = None
    sessions: int = 10000
    page: int = 10


@dataclass(kw_only=True)
class TrainingRequest:
    """What one ranker is trained from, and the cache entry it is kept under (every field
    named at the call).

    Args:
        mode: ``qrels`` (``train``'s judgements on ``pools["train"]``, early stopping on
            ``pools["valid"]`` when there is one) or ``clicks`` (the click log of
            ``clicks``: a file, or a simulation on the training pools, with ``correction``).
        pools: the topic pools by role (``train``, optional ``valid``).
        train: the training part of the dataset (``qrels``, ``source``).
        valid: the validation part, or None.
        spec: the feature spec (its names are the model's feature names).
        priors: the priors the click rows' features read.
        key: what determines the model besides its training data (the cache key's base).
        name: the cache entry's name.
        correction: clicks mode's position-bias correction.
        params: the ranker's parameters (None: its defaults).
        clicks: where clicks mode gets its clicks.
        seed: the click simulation's seed.
        ranker: makes the model, ``ranker(params, feature_names)``
            (:func:`~ltrr.ranking.checked_ranker.ranker_factory`).
    """

    mode: str
    pools: dict[str, TopicPools]
    train: object
    valid: object | None
    spec: FeatureSpec
    priors: object
    key: dict
    name: str
    correction: str | None = None
    params: dict | None = None
    clicks: ClickSource | None = None
    seed: int = 0
    ranker: object = LambdaMART


def train_ranker(request: TrainingRequest):
    """Train (or load from the cache) one ranker; returns ``(model, info)``.

    A ranker that can be saved (:func:`~ltrr.ranking.learned.can_be_saved`) is cached under
    ``request.name`` and a key of ``request.key``, the mode, correction and a hash of the
    training arrays (:mod:`ltrr.ranking.store`), and for an outside ranker its source file's
    hash; any other is trained every run.
    """
    from ltrr.ranking.store import array_hash, cached_model

    r = request
    pools, spec, ranker = r.pools, r.spec, r.ranker
    t0 = time.perf_counter()
    if r.mode == "qrels":
        X, group = pools["train"].stacked()
        y = np.concatenate(pools["train"].labels(r.train.qrels))
        v = None
        if "valid" in pools:
            vx, vg = pools["valid"].stacked()
            v = (vx, np.concatenate(pools["valid"].labels(r.valid.qrels)), vg)
        data = array_hash(X, y, group, *(v or ()))
        fit = lambda: fit_qrels(X, y, group, r.params, spec.names, v, ranker)  # noqa: E731
        source = {"labels": r.train.source}
    else:
        clicks = r.clicks
        if clicks is None:
            raise InputError("clicks mode needs a click log or a click model to simulate one")
        log, source = click_log(clicks, pools["train"], r.train, r.seed)
        X, position, click, group = click_rows(pools["train"], log, spec, r.priors)
        data = array_hash(X, position, click, group)
        curve = None if clicks.log is not None else \
            known_examination(clicks.click_model, int(position.max()) + 1 if len(position) else 1)
        exam = None if curve is None else curve[position]
        fit = lambda: fit_clicks(X, position, click, group, r.correction,  # noqa: E731
                                 r.params, spec.names, examination=exam, ranker=ranker)
    model_key = {**r.key, "mode": r.mode, "correction": r.correction, "data": data}
    code = getattr(ranker, "source_sha1", None)  # an outside ranker's file (ranker_factory)
    if code is not None:
        model_key["code"] = code
    if can_be_saved(ranker):
        model, where, path = cached_model(r.name.replace(":", "-").replace("/", "-"),
                                          model_key, fit, spec.names, ranker)
    else:
        model, where, path = fit(), "trained", None
    info = {"mode": r.mode, "correction": r.correction, "source": where,
            "path": str(path), "trees": ability(model, "ranker", "n_trees"), "rows": int(len(X)),
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
