"""Simulated users: click models over graded relevance (PBM, cascade, DCM).

Each model turns the relevance grades of a shown page into clicks, and gives the
*expected* number of clicks per position in closed form. The closed form is what the
simulator's truths are made of (the oracle's choice, regret in expectation); the sampled
clicks are what the policy observes.

Parameter sets (``perfect``, ``navigational``, ``informational``) are the ones of
Oosterhuis & de Rijke (CIKM 2018, "Differentiable Unbiased Online Learning to Rank",
table of click-model instantiations), for grades 0..4:

=============  ===============================  ===========================
set            P(click | grade)                 P(stop | click, grade)
=============  ===============================  ===========================
perfect        0.0, 0.2, 0.4, 0.8, 1.0          0.0, 0.0, 0.0, 0.0, 0.0
navigational   0.05, 0.3, 0.5, 0.7, 0.95        0.2, 0.3, 0.5, 0.7, 0.9
informational  0.4, 0.6, 0.7, 0.8, 0.9          0.1, 0.2, 0.3, 0.4, 0.5
=============  ===============================  ===========================

Collections with fewer grades are mapped onto 0..4 by max-grade scaling:
``g -> round(4 * g / max_grade)`` (so nfcorpus' 0/1/2 become 0/2/4); negative grades
count as 0. The models:

- ``pbm``: position-based; position ``i`` (1-based) is examined with probability
  ``1 / i`` (i.e. ``1 / (rank + 1)`` for PyTerrier's 0-based rank), independently of
  clicks; a document examined is clicked with P(click | grade). P(stop) is unused.
- ``cascade``: the user scans top-down, clicks with P(click | grade) and stops after the
  first click (Craswell et al., 2008): the cascade model with P(stop) = 1.
- ``dcm``: the dependent click model (Guo et al., 2009) as used for online LTR by
  Oosterhuis & de Rijke: scan top-down, click with P(click | grade), after a click stop
  with P(stop | grade), else go on.

Written by hand (no maintained Python package implements these simulators with a
closed form); the code is vectorised over any leading batch axes of the grade array.

Outside click models are named through :data:`REGISTRY` (``module:Name`` or an entry point of
group ``ltrr.click_models``) and made by :func:`make_click_model`; they provide the three
methods of :class:`ClickModel` (``docs/plugins.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ltrr.errors import InputError
from ltrr.kernel import clicks as kernel_clicks
from ltrr.kernel.clicks import MODEL_CODES
from ltrr.registry import Registry, class_or_factory, describe, plugin_errors, where_raised

PARAMETER_SETS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "perfect": ((0.0, 0.2, 0.4, 0.8, 1.0), (0.0, 0.0, 0.0, 0.0, 0.0)),
    "navigational": ((0.05, 0.3, 0.5, 0.7, 0.95), (0.2, 0.3, 0.5, 0.7, 0.9)),
    "informational": ((0.4, 0.6, 0.7, 0.8, 0.9), (0.1, 0.2, 0.3, 0.4, 0.5)),
}
CLICK_MODELS = ("pbm", "cascade", "dcm")


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class ClickModel:
    """A click model with its parameter set; the arithmetic is the compiled
    :mod:`ltrr.kernel.clicks` the loop runs.

    Args:
        model: ``"pbm"``, ``"cascade"`` or ``"dcm"``.
        params: ``"perfect"``, ``"navigational"`` or ``"informational"``.
    """

    model: str = "dcm"
    params: str = "informational"

    def __post_init__(self) -> None:
        if self.model not in CLICK_MODELS:
            raise InputError(f"unknown click model '{self.model}' "
                             f"(choose from {', '.join(CLICK_MODELS)})")
        if self.params not in PARAMETER_SETS:
            raise InputError(f"unknown click parameter set '{self.params}' "
                             f"(choose from {', '.join(PARAMETER_SETS)})")

    @cached_property
    def p_click(self) -> np.ndarray:
        """P(click | grade) for grades 0..4 (read-only; made once per model)."""
        return _frozen(np.asarray(PARAMETER_SETS[self.params][0]))

    @cached_property
    def p_stop(self) -> np.ndarray:
        """P(stop | click, grade) for grades 0..4 (read-only; made once per model)."""
        if self.model == "cascade":
            return _frozen(np.ones(5))
        return _frozen(np.asarray(PARAMETER_SETS[self.params][1]))

    def examination(self, page: int) -> np.ndarray:
        """P(position i examined) under the position-based model: ``1 / i`` (1-based)."""
        return 1.0 / np.arange(1, int(page) + 1)

    def _arrays(self, page: int) -> tuple:
        return (MODEL_CODES[self.model], np.ascontiguousarray(self.p_click, dtype=float),
                np.ascontiguousarray(self.p_stop, dtype=float), self.examination(page))

    def expected_clicks(self, grades: np.ndarray) -> np.ndarray:
        """Expected clicks per position for pages of 0..4 grades (shape ``(..., page)``).

        A position holding no document can be marked with grade -1: it is never clicked
        and does not stop the user.
        """
        grades = np.asarray(grades, dtype=np.int64)
        flat = np.ascontiguousarray(grades.reshape(-1, grades.shape[-1]))
        return kernel_clicks.expected_clicks(flat, *self._arrays(grades.shape[-1])) \
            .reshape(grades.shape)

    def expected_total(self, grades: np.ndarray) -> np.ndarray:
        """Expected number of clicks per page (sums :meth:`expected_clicks`)."""
        return self.expected_clicks(grades).sum(axis=-1)

    def sample(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sample clicks (0/1 per position) for one page of 0..4 grades (-1: empty slot)."""
        grades = np.ascontiguousarray(grades, dtype=np.int64)
        out = np.zeros(grades.shape[-1], dtype=np.int8)
        kernel_clicks.sample_clicks(grades, *self._arrays(grades.shape[-1]), rng, out)
        return out


CLICK_METHODS = ("expected_clicks", "expected_total", "sample")
REGISTRY = Registry(
    "click model", {name: ClickModel for name in CLICK_MODELS},
    class_or_factory("click model", CLICK_METHODS),
    lambda name, known: f"unknown click model '{name}' (choose from {', '.join(known)})")


def make_click_model(model: str, params: str | dict):
    """The click model ``model`` with ``params``: a built-in :class:`ClickModel` (``params``
    names a parameter set), or an outside one called as ``Model(params)`` (a string) or
    ``Model(**params)`` (a table), then tried once on a small page (shapes, values) so a
    broken one fails here rather than mid-run."""
    if model in CLICK_MODELS:
        if not isinstance(params, str):
            raise InputError(f"click model '{model}' takes a parameter set name "
                             f"({', '.join(PARAMETER_SETS)}), got {params!r}")
        return ClickModel(model, params)
    factory = REGISTRY.resolve(model)
    with plugin_errors(f"click model '{model}'", "building it"):
        clicks = factory(**params) if isinstance(params, dict) else factory(params)
    missing = [m for m in CLICK_METHODS if not callable(getattr(clicks, m, None))]
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
