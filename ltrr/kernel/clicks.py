"""Click models: simulated users over pages of graded relevance (PBM, cascade, DCM), their
parameter sets, closed forms and sampling.

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

A built-in click model is three arrays and a code (:meth:`ClickModel.arrays`):
``p_click[g]`` the probability of a click on an examined document of grade ``g``,
``p_stop[g]`` of stopping after clicking it, ``examination[i]`` the probability that position
``i`` is examined (the position-based model); the compiled functions below take them.
:func:`sample_clicks` draws ``2 * page`` uniforms per page from the given numpy Generator
(row 0 decides clicks, row 1 examination or stopping), so a run's clicks are the same
whichever loop plays it. Written by hand: no maintained Python package implements these
simulators with a closed form. Outside click models are registered and checked in
:mod:`ltrr.simulation.clicks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numba import njit

from ltrr.errors import InputError

PBM, CASCADE, DCM = 0, 1, 2
MODEL_CODES = {"pbm": PBM, "cascade": CASCADE, "dcm": DCM}


def scale_grades(grades: np.ndarray, max_grade: int) -> np.ndarray:
    """Map grades ``0..max_grade`` onto ``0..4`` (``round(4 g / max_grade)``; < 0 -> 0)."""
    grades = np.clip(np.asarray(grades, dtype=float), 0, None)
    if max_grade <= 0:
        return np.zeros(grades.shape, dtype=np.int64)
    return np.clip(np.rint(4.0 * grades / max_grade), 0, 4).astype(np.int64)


@njit(cache=True)
def expected_clicks_row(grades: np.ndarray, model: int, p_click: np.ndarray,
                        p_stop: np.ndarray, examination: np.ndarray, out: np.ndarray) -> float:
    """Expected clicks per position of one page (into ``out``); returns their sum."""
    total = 0.0
    examined = 1.0
    for i in range(grades.shape[0]):
        g = grades[i]
        attract = 0.0 if g < 0 else p_click[min(g, 4)]
        if model == PBM:
            value = attract * examination[i]
        else:
            value = examined * attract
            if g >= 0:
                examined *= 1.0 - attract * p_stop[min(g, 4)]
        out[i] = value
        total += value
    return total


@njit(cache=True)
def expected_total_row(grades: np.ndarray, model: int, p_click: np.ndarray,
                       p_stop: np.ndarray, examination: np.ndarray) -> float:
    """Expected number of clicks on one page."""
    total = 0.0
    examined = 1.0
    for i in range(grades.shape[0]):
        g = grades[i]
        if g < 0:
            continue
        attract = p_click[min(g, 4)]
        if model == PBM:
            total += attract * examination[i]
        else:
            total += examined * attract
            examined *= 1.0 - attract * p_stop[min(g, 4)]
    return total


@njit(cache=True)
def expected_clicks(grades: np.ndarray, model: int, p_click: np.ndarray, p_stop: np.ndarray,
                    examination: np.ndarray) -> np.ndarray:
    """Expected clicks per position for pages ``(n, page)`` of grades."""
    out = np.empty(grades.shape, dtype=np.float64)
    for r in range(grades.shape[0]):
        expected_clicks_row(grades[r], model, p_click, p_stop, examination, out[r])
    return out


@njit(cache=True)
def sample_clicks(grades: np.ndarray, model: int, p_click: np.ndarray, p_stop: np.ndarray,
                  examination: np.ndarray, rng, out: np.ndarray) -> int:
    """Sample one page's clicks (0/1 into ``out``) from ``rng``; returns how many."""
    page = grades.shape[0]
    draws = np.empty((2, page))
    for j in range(2):
        for i in range(page):
            draws[j, i] = rng.random()
    out[:] = 0
    count = 0
    for i in range(page):
        g = grades[i]
        attract = 0.0 if g < 0 else p_click[min(g, 4)]
        if model == PBM:
            if draws[1, i] < examination[i] and draws[0, i] < attract:
                out[i] = 1
                count += 1
        elif draws[0, i] < attract:
            out[i] = 1
            count += 1
            if draws[1, i] < p_stop[min(g, 4)]:
                break
    return count


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
    functions below, which the loop runs.

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

    def arrays(self, page: int) -> tuple:
        """``(model code, p_click, p_stop, examination)``: what the compiled functions take."""
        return (MODEL_CODES[self.model], np.ascontiguousarray(self.p_click, dtype=float),
                np.ascontiguousarray(self.p_stop, dtype=float), self.examination(page))

    def expected_clicks(self, grades: np.ndarray) -> np.ndarray:
        """Expected clicks per position for pages of 0..4 grades (shape ``(..., page)``).

        A position holding no document can be marked with grade -1: it is never clicked
        and does not stop the user.
        """
        grades = np.asarray(grades, dtype=np.int64)
        flat = np.ascontiguousarray(grades.reshape(-1, grades.shape[-1]))
        return expected_clicks(flat, *self.arrays(grades.shape[-1])) \
            .reshape(grades.shape)

    def expected_total(self, grades: np.ndarray) -> np.ndarray:
        """Expected number of clicks per page (sums :meth:`expected_clicks`)."""
        return self.expected_clicks(grades).sum(axis=-1)

    def sample(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sample clicks (0/1 per position) for one page of 0..4 grades (-1: empty slot)."""
        grades = np.ascontiguousarray(grades, dtype=np.int64)
        out = np.zeros(grades.shape[-1], dtype=np.int8)
        sample_clicks(grades, *self.arrays(grades.shape[-1]), rng, out)
        return out
