"""Click models in a benchmark: ltrr's own (subclasses of :class:`~ltrr.kernel.clicks.ClickModel`:
PBM, cascade and DCM with the parameter sets of Oosterhuis and de Rijke, listed once in
:data:`~ltrr.kernel.clicks.CLICK_MODELS`) and outside ones.

Outside click models are named through :data:`REGISTRY` (``module:Name`` or an entry point of
group ``ltrr.click_models``) and made by :func:`make_click_model`; they provide the three
methods of :class:`~ltrr.kernel.clicks.ClickModel` (``docs/plugins.md``) and are checked on a
page of every grade before any run.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from ltrr.contracts import missing_methods
from ltrr.errors import InputError
from ltrr.kernel.clicks import CLICK_MODELS, PARAMETER_SETS, ClickModel
from ltrr.kernel.rewards import REWARDS
from ltrr.registry import Registry, class_or_factory, describe, plugin_errors, where_raised

CLICK_METHODS = ("expected_clicks", "expected_total", "sample")
REGISTRY = Registry(
    "click model", CLICK_MODELS,
    class_or_factory("click model", CLICK_METHODS),
    lambda name, known: f"unknown click model '{name}' (choose from {', '.join(known)})")


def make_click_model(model: str, params: str | dict,
                     examination: str | list | None = None):
    """The click model ``model`` with ``params``: a built-in (``params`` names a parameter
    set; ``examination``, a position-based model's examination curve), or an outside one
    called as ``Model(params)`` (a string) or ``Model(**params)`` (a table), then tried once
    on a small page (shapes, values) so a broken one fails here rather than mid-run."""
    factory = REGISTRY.resolve(model)
    if REGISTRY.is_builtin(model):
        if not isinstance(params, str):
            raise InputError(f"click model '{model}' takes a parameter set name "
                             f"({', '.join(PARAMETER_SETS)}), got {params!r}")
        if examination is None:
            return factory(params)
        if "examination_curve" not in {f.name for f in fields(factory)}:
            if examination == "reciprocal":  # the default curve: what every model reads
                return factory(params)
            raise InputError(f"an examination curve is a position-based model's (pbm); "
                             f"{model} users examine top-down until they stop")
        return factory(params, examination_curve=examination)
    if examination is not None:
        raise InputError(f"an examination curve is for the built-in pbm model; click model "
                         f"'{model}' examines as it defines")
    with plugin_errors(f"click model '{model}'", "building it"):
        clicks = factory(**params) if isinstance(params, dict) else factory(params)
    missing = missing_methods(clicks, "click model")
    if missing:
        raise InputError(f"click model '{model}' built {describe(clicks)}, which has no "
                         f"method {', '.join(missing)}")
    _try_page(model, clicks)
    return clicks


def _try_page(model: str, clicks) -> None:
    """One call of each method on two pages of every grade (and an empty slot)."""
    grades = np.array([[4, 3, 2, 1, 0, -1], [0, 0, 0, 0, 0, 0]])
    try:
        per_position = np.asarray(clicks.expected_clicks(grades), dtype=float)
        total = np.asarray(clicks.expected_total(grades), dtype=float)
        sampled = np.asarray(clicks.sample(grades[0], np.random.default_rng(0)))
    except Exception as err:  # the plugin failed on a valid page: one line, with where
        raise InputError(f"click model '{model}' failed on a page of grades 4..0: "
                         f"{where_raised(err)}") from None
    for method, value, shape in (("expected_clicks", per_position, grades.shape),
                                 ("expected_total", total, grades.shape[:1])):
        if value.shape != shape or not np.isfinite(value).all() or (value < 0).any():
            raise InputError(f"click model '{model}': {method} on grades of shape {grades.shape}"
                             f" must give finite numbers >= 0 of shape {shape}, got "
                             f"{value.shape if value.shape != shape else value.tolist()}")
    if not np.allclose(total, per_position.sum(axis=-1)):
        raise InputError(f"click model '{model}': expected_total {total.tolist()} is not the "
                         f"sum of expected_clicks {per_position.sum(axis=-1).tolist()}")
    if sampled.shape != grades.shape[1:] or not np.isin(sampled, (0, 1)).all():
        raise InputError(f"click model '{model}': sample on one page of {grades.shape[1]} must "
                         f"give {grades.shape[1]} clicks of 0 or 1, got {sampled.tolist()}")
    if per_position[0, -1] != 0 or sampled[-1] != 0:
        raise InputError(f"click model '{model}': an empty slot (grade -1) must get no click")


def describe_users(clicks) -> str:
    """A click model as records and messages name it: ``pbm/navigational`` (and PBM's
    examination curve), or an outside model's class."""
    if isinstance(clicks, ClickModel):
        return clicks.name
    return f"'{type(clicks).__module__}:{type(clicks).__qualname__}'"


def producible_rewards(clicks) -> tuple[str, ...]:
    """The rewards (:mod:`ltrr.kernel.rewards`) a click model's users can produce: every one
    for a built-in model whose clicks can satisfy; all but ``satisfied`` for the ``perfect``
    set (its users never stop); ``clicks`` only for an outside model (its expected reward is
    its own ``expected_total``)."""
    if not isinstance(clicks, ClickModel):
        return ("clicks",)
    if not clicks.p_satisfy.any():
        return tuple(r for r in REWARDS if r != "satisfied")
    return REWARDS


def why_not(clicks, reward: str) -> str:
    """Why ``clicks`` cannot produce ``reward``, in a few words."""
    if not isinstance(clicks, ClickModel):
        return "an outside click model gives expected clicks only"
    return f"P(stop | click) is 0 for every grade in the '{clicks.params}' set: no click satisfies"
