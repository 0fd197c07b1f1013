"""LambdaMART over the candidate union (LightGBM ``lambdarank``) and its three training modes.

:class:`LambdaMART` is a thin, sklearn-shaped holder of a ``lightgbm.Booster``:

- ``fit(X, y, group, eval_set=..., eval_group=..., position=..., weight=...)`` with
  LightGBM's ``group`` sizes (the signature ``pt.ltr.apply_learned_model(model, form="ltr")``
  calls, so the model trains inside a PyTerrier pipeline too);
- ``score(X) -> (U,)`` for the loop's hot path (one call per step over the pool; ``predict``
  is the same method, for ``pt.ltr``);
- ``to_string`` / ``from_string`` (LightGBM's text model) and ``model_format``: the declared
  ability to be saved, by which :mod:`ltrr.ranking.store` caches trained models
  (:func:`can_be_saved`).

Training modes (:data:`TRAINING_MODES`, named in a benchmark file's ``[ranking]`` section):

- ``qrels``: supervised on the dataset's training topics' judgements (:func:`fit_qrels`);
- ``clicks``: from a click log (counterfactual LTR, :func:`fit_clicks`) with a position-bias
  ``correction`` from :data:`CLICK_CORRECTIONS`:

  * ``ips`` (the default): inverse propensity scoring (Joachims, Swaminathan & Schnabel, WSDM
    2017) with the click model's known examination probabilities (PBM: ``1 / (position +
    1)``), as LightGBM row weights ``1 / P(examined)`` on clicked rows (LightGBM multiplies
    each row's lambda gradient by its weight; unclicked rows keep weight 1);
  * ``position``: LightGBM's unbiased LambdaMART, ``Dataset(position=...)``: the score is
    decomposed as ``f(x) + g(position)``, the position factors ``g`` are learned jointly
    with ``f``, and ``f`` alone is the ranker (LightGBM >= 4.1, "Support for Position Bias
    Treatment"). It needs no examination probabilities;
  * ``none``: naive click training, clicks as labels, no correction (the baseline).

  Why ``ips`` is the default: ltrr's users are simulated, so the examination probabilities
  are known, and for PBM users (the click model of ltrr's benchmarks) IPS is the unbiased
  estimator. Measured (``docs/ranking.md``): on the music world it is the only correction
  that beats naive training at the default 10,000 simulated sessions (+0.045 nDCG@10;
  ``position`` -0.019) and it leads at 40,000 too (+0.063; ``position`` +0.034); on nfcorpus,
  with few sessions per topic, its variance makes it worse than naive (-0.019) while
  ``position`` ties naive; on a synthetic log whose logging ranker follows an irrelevant
  feature ``position`` beats both (``tests/ranking/test_learned.py``). Choose ``position``
  for clicks whose examination probabilities are unknown (a real log) or not PBM's
  (cascade and DCM users, whose examination depends on the clicks above).
- ``online``: retrained during the stream from the loop's own clicks every N queries: the
  loop accumulates shown rows in a :class:`ClickBuffer` and calls :meth:`ClickBuffer.fit`
  (the same :func:`fit_clicks`).

Determinism: LightGBM runs with ``deterministic=True``, ``num_threads=1`` and a ``seed``, so
the same data and parameters give the same model bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ltrr.contracts import ability
from ltrr.errors import InputError
from ltrr.kernel.clicks import PBM, ClickModel
from ltrr.registry import Registry, class_or_factory

TRAINING_MODES = ("qrels", "clicks", "online")
CLICK_CORRECTIONS = ("position", "ips", "none")
DEFAULT_CORRECTION = "ips"

# LightGBM parameters: lambdarank with a small forest (scoring runs once per loop step over
# a few hundred candidates, and LightGBM's predict costs about trees x rows): 50 trees of 31
# leaves ranked the music world as well as 100 of 15 (nDCG@10 0.841 both) in 64% of the
# time; early stopping on a validation set when one is given.
DEFAULT_PARAMS: dict = {
    "objective": "lambdarank",
    "num_boost_round": 50,
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "lambdarank_truncation_level": 20,
    "eval_at": [10],
    "early_stopping_rounds": 20,
    "seed": 0,
}
_FIXED = {"deterministic": True, "force_col_wise": True, "num_threads": 1, "verbose": -1}


def check_ranker(name: str, outside: bool = True) -> str:
    """``name`` if it is a known ranker (a built-in; with ``outside``, also an import path
    ``module:Name`` or an ``ltrr.rankers`` entry point), else InputError listing them."""
    if not outside and not REGISTRY.is_builtin(name):
        raise InputError(f"unknown ranker '{name}' (choose from {', '.join(REGISTRY.builtins)})")
    REGISTRY.resolve(name)
    return name


def check_mode(mode: str) -> str:
    """``mode`` if it is a training mode, else InputError listing them."""
    if mode not in TRAINING_MODES:
        raise InputError(f"unknown training mode '{mode}' (choose from "
                         f"{', '.join(TRAINING_MODES)})")
    return mode


def check_correction(correction: str) -> str:
    """``correction`` if it is a click correction, else InputError listing them."""
    if correction not in CLICK_CORRECTIONS:
        raise InputError(f"unknown click correction '{correction}' (choose from "
                         f"{', '.join(CLICK_CORRECTIONS)})")
    return correction


def pbm_examination(positions: np.ndarray) -> np.ndarray:
    """PBM's examination probability of 0-based ``positions``: ``1 / (position + 1)``
    (:class:`ltrr.kernel.clicks.PositionBasedModel`)."""
    return 1.0 / (np.asarray(positions, dtype=float) + 1.0)


def known_examination(click_model, page: int) -> np.ndarray | None:
    """The examination probability of each of ``page`` positions that IPS weighs clicks by
    for ``click_model``'s users: a position-based model's (one running the compiled PBM
    branch, :data:`~ltrr.kernel.clicks.PBM`) own curve when it is not PBM's default
    ``1 / (position + 1)``; None (the default) otherwise."""
    if not isinstance(click_model, ClickModel) or click_model.code != PBM:
        return None  # an outside click model's examination is its own to say
    curve = np.asarray(click_model.examination(page), dtype=float)
    return None if np.array_equal(curve, pbm_examination(np.arange(page))) else curve


def can_be_saved(ranker: object) -> bool:
    """Whether the models ``ranker`` makes can be cached on disk (:mod:`ltrr.ranking.store`):
    it declares ``model_format`` (the name its files are written under) and has a
    ``from_string(text, params, feature_names)`` that reads back what a model's
    ``to_string()`` wrote (raising ValueError for text it cannot read). One rule whatever the
    class: ltrr's LambdaMART declares both, and so does the factory of an outside ranker whose
    class does (:func:`~ltrr.ranking.checked_ranker.ranker_factory`); any other is trained
    every run."""
    return isinstance(ability(ranker, "ranker", "model_format"), str) and \
        ability(ranker, "ranker", "from_string")


class LambdaMART:
    """A LambdaMART ranker (LightGBM ``lambdarank``); the constructor stores parameters only.

    Args:
        params: LightGBM parameters over :data:`DEFAULT_PARAMS` (``num_boost_round`` and
            ``early_stopping_rounds`` included).
        feature_names: the feature columns' names (kept in the model file).
    """

    model_format = "ltrr-lambdamart-1"  # saved as LightGBM's text model (:func:`can_be_saved`)

    def __init__(self, params: dict | None = None, feature_names: list[str] | None = None) -> None:
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.booster = None
        self.meta: dict = {}

    def fit(self, X: np.ndarray, y: np.ndarray, group: np.ndarray, *,
            eval_set: list | None = None, eval_group: list | None = None,
            position: np.ndarray | None = None, weight: np.ndarray | None = None) -> "LambdaMART":
        """Train on rows ``X`` with integer labels ``y``, grouped by consecutive ``group`` sizes.

        ``eval_set=[(X_valid, y_valid)]`` with ``eval_group=[sizes]`` stops early on its
        nDCG@10; ``position`` (0-based shown position per row) turns on LightGBM's
        position-bias factors; ``weight`` is a per-row weight.
        """
        import lightgbm as lgb

        params = {**self.params, **_FIXED}
        rounds = int(params.pop("num_boost_round"))
        stop = params.pop("early_stopping_rounds", None)
        # LightGBM refuses JSON's special characters in feature names (``ctx:hour``): it
        # gets sanitised names; ltrr's own names stay in ``feature_names`` and the model file
        names = ([_lightgbm_name(n) for n in self.feature_names] if self.feature_names
                 else "auto")
        train = lgb.Dataset(np.asarray(X, dtype=float), np.asarray(y), group=np.asarray(group),
                            weight=weight, position=position, feature_name=names,
                            free_raw_data=True)
        valid_sets, callbacks = [], []
        if eval_set:
            (xv, yv), gv = eval_set[0], eval_group[0]
            valid_sets = [lgb.Dataset(np.asarray(xv, dtype=float), np.asarray(yv),
                                      group=np.asarray(gv), reference=train)]
            if stop:
                callbacks.append(lgb.early_stopping(int(stop), verbose=False))
        self.booster = lgb.train(params, train, num_boost_round=rounds, valid_sets=valid_sets,
                                 callbacks=callbacks)
        if self.booster.best_iteration > 0:
            self.booster = lgb.Booster(model_str=self.booster.model_to_string(
                num_iteration=self.booster.best_iteration))
        if self.feature_names is None:
            self.feature_names = self.booster.feature_name()
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        """``(n,)`` scores of rows ``X`` (``(n, F)``), higher is better."""
        if self.booster is None:
            raise RuntimeError("LambdaMART: call fit first (or load a trained model)")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.booster.num_feature():
            raise ValueError(f"expected {self.booster.num_feature()} feature columns, got "
                             f"shape {X.shape}")
        if len(X) == 0:
            return np.zeros(0)
        return self.booster.predict(X, num_threads=1)

    predict = score  # the name sklearn and pt.ltr.apply_learned_model call

    @property
    def n_trees(self) -> int:
        return 0 if self.booster is None else int(self.booster.num_trees())

    def to_string(self) -> str:
        """LightGBM's text model (the ranker's file holds it with ltrr's metadata)."""
        if self.booster is None:
            raise RuntimeError("LambdaMART: nothing trained to save")
        return self.booster.model_to_string()

    @classmethod
    def from_string(cls, model: str, params: dict | None = None,
                    feature_names: list[str] | None = None) -> "LambdaMART":
        """A trained ranker from LightGBM's text model; ValueError saying why when LightGBM
        cannot read it or its feature count differs from ``feature_names``."""
        import lightgbm as lgb

        ranker = cls(params, feature_names)
        try:
            ranker.booster = lgb.Booster(model_str=model)
        except Exception as err:  # lightgbm.basic.LightGBMError and friends
            raise ValueError(f"LightGBM cannot read the model: "
                             f"{str(err).splitlines()[0][:120]}") from None
        if feature_names is not None and ranker.booster.num_feature() != len(feature_names):
            raise ValueError("the model's feature count differs from its feature names")
        return ranker


# The built-in rankers, by name: the one list of them. Adding a built-in ranker is its module
# plus one line here, ``"name": "module:Class"`` (imported on first use; ``docs/architecture.md``,
# "Adding a built-in").
BUILTIN_RANKERS: dict[str, object] = {
    "lambdamart": LambdaMART,
}
REGISTRY = Registry(
    "ranker", BUILTIN_RANKERS, class_or_factory("ranker", ("fit", "score")),
    lambda name, known: f"unknown ranker '{name}' (choose from {', '.join(known)})")


def _lightgbm_name(name: str) -> str:
    return "".join("_" if c in '",:[]{}= ' else c for c in name)


def group_sizes(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, sizes)``: a stable order putting each group's rows together, and the sizes.

    ``group`` holds one query-group id per row (an interaction of the log, a step of the
    loop); LightGBM wants consecutive groups and their sizes.
    """
    group = np.asarray(group)
    order = np.argsort(group, kind="stable")
    _, sizes = np.unique(group[order], return_counts=True)
    return order, sizes


def fit_qrels(X: np.ndarray, labels: np.ndarray, group: np.ndarray, params: dict | None = None,
              feature_names: list[str] | None = None, valid: tuple | None = None,
              ranker=LambdaMART) -> LambdaMART:
    """LambdaMART (or ``ranker(params, feature_names)``, :mod:`ltrr.ranking.checked_ranker`) on
    judged candidate pools: ``labels`` are graded qrels (unjudged = 0).

    ``group`` is one query id per row; ``valid`` optionally ``(X, labels, group)`` of
    validation topics for early stopping (nfcorpus' dev topics).
    """
    order, sizes = group_sizes(group)
    kwargs = {}
    if valid is not None:
        v_order, v_sizes = group_sizes(valid[2])
        kwargs = {"eval_set": [(np.asarray(valid[0])[v_order],
                                np.clip(np.asarray(valid[1])[v_order], 0, None).astype(int))],
                  "eval_group": [v_sizes]}
    y = np.clip(np.asarray(labels)[order], 0, None).astype(int)
    model = ranker(params, feature_names)
    model.fit(np.asarray(X)[order], y, sizes, **kwargs)
    return model


def fit_clicks(X: np.ndarray, position: np.ndarray, click: np.ndarray, group: np.ndarray,
               correction: str = DEFAULT_CORRECTION, params: dict | None = None,
               feature_names: list[str] | None = None,
               examination: np.ndarray | None = None, ranker=LambdaMART) -> LambdaMART:
    """LambdaMART from clicks on shown pages (counterfactual LTR; see the module docstring).

    Args:
        X: ``(n, F)`` features of each shown row.
        position: ``(n,)`` 0-based position the row was shown at.
        click: ``(n,)`` 0/1.
        group: ``(n,)`` one id per shown page (an interaction).
        correction: ``"ips"`` (the default), ``"position"`` or ``"none"``.
        params: LightGBM parameters.
        feature_names: column names.
        examination: ``ips`` only: ``(n,)`` the probability each row was examined (default
            PBM's ``1 / (position + 1)``).
        ranker: ``ranker(params, feature_names)`` makes the model
            (:func:`ltrr.ranking.checked_ranker.ranker_factory`).

    Pages without a click carry no pairwise preference and are dropped. Raises ValueError
    when no page has a click.
    """
    check_correction(correction)
    X, position = np.asarray(X, dtype=float), np.asarray(position, dtype=np.int64)
    click, group = np.asarray(click).astype(int), np.asarray(group)
    if not (len(X) == len(position) == len(click) == len(group)):
        raise ValueError("X, position, click and group must have one entry per row")
    clicked_groups = np.unique(group[click > 0])
    keep = np.isin(group, clicked_groups)
    if not keep.any():
        raise ValueError("no shown page has a click: nothing to learn from")
    order, sizes = group_sizes(group[keep])
    rows = np.flatnonzero(keep)[order]
    kwargs: dict = {}
    if correction == "position":
        kwargs["position"] = position[rows]
    elif correction == "ips":
        exam = pbm_examination(position) if examination is None else np.asarray(examination, float)
        kwargs["weight"] = np.where(click > 0, 1.0 / exam, 1.0)[rows]
    model = ranker(params, feature_names)
    model.fit(X[rows], click[rows], sizes, **kwargs)
    model.meta = {"correction": correction, "pages": int(len(sizes)), "rows": int(len(rows))}
    return model


@dataclass
class ClickBuffer:
    """The loop's own clicks, accumulated for the ``online`` mode's retraining.

    Per step the loop calls :meth:`add` with the shown page's feature rows (``X[page]`` of
    the pool's feature matrix) and clicks; every N queries it calls :meth:`fit`.
    ``max_pages`` keeps only the most recent pages (None: all).
    """

    correction: str = DEFAULT_CORRECTION
    params: dict | None = None
    feature_names: list[str] | None = None
    max_pages: int | None = None
    ranker: object = LambdaMART  # ranker(params, feature_names) makes the model (.checked_ranker)
    examination: np.ndarray | None = None  # per position, for ips (None: PBM's 1/(pos + 1))
    _X: list = field(default_factory=list)
    _clicks: list = field(default_factory=list)

    def __post_init__(self) -> None:
        check_correction(self.correction)

    def add(self, X_page: np.ndarray, clicks: np.ndarray) -> None:
        """One shown page: ``(n, F)`` rows best first (position = row) and ``n`` 0/1 clicks."""
        n = len(X_page)
        self._X.append(np.asarray(X_page, dtype=float))
        self._clicks.append(np.asarray(clicks[:n], dtype=np.int8))
        if self.max_pages is not None and len(self._X) > self.max_pages:
            del self._X[0], self._clicks[0]

    def __len__(self) -> int:
        return len(self._X)

    @property
    def n_clicks(self) -> int:
        return int(sum(int(c.sum()) for c in self._clicks))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X, position, click, group)`` over every buffered page."""
        sizes = np.array([len(x) for x in self._X], dtype=np.int64)
        width = self._X[0].shape[1] if self._X else 0
        X = np.vstack(self._X) if self._X else np.zeros((0, width))
        group = np.repeat(np.arange(len(sizes)), sizes)
        position = np.arange(len(group)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        click = np.concatenate(self._clicks) if self._clicks else np.zeros(0, np.int8)
        return X, position, click, group

    def fit(self) -> LambdaMART | None:
        """A ranker trained on the buffer (:func:`fit_clicks`); None before the first click."""
        if self.n_clicks == 0:
            return None
        X, position, click, group = self.arrays()
        exam = None if self.examination is None else self.examination[position]
        return fit_clicks(X, position, click, group, correction=self.correction,
                          params=self.params, feature_names=self.feature_names,
                          examination=exam, ranker=self.ranker)
