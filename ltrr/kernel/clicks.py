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

- ``pbm``: position-based; position ``i`` (1-based) is examined with a probability that
  depends on the position alone, independently of clicks: ``1 / i`` by default
  (``examination = "reciprocal"``, i.e. ``1 / (rank + 1)`` for PyTerrier's 0-based rank), or
  the eye-tracking curve unbiased-LTR work uses (``"eye-tracking"``: 0.68, 0.61, 0.48, 0.34,
  0.28, 0.20, 0.11, 0.10, 0.08, 0.06 for positions 1..10, measured by Joachims et al., SIGIR
  2005, and used for PBM by ULTRA, Ai et al., CIKM 2021 / TOIS 2022), or a curve of one's own
  (values in (0, 1], one per position of the page); a document examined is clicked with
  P(click | grade). P(stop) does not change who clicks.
- ``cascade``: the user scans top-down, clicks with P(click | grade) and stops after the
  first click (Craswell et al., 2008): the cascade model with P(stop) = 1.
- ``dcm``: the dependent click model (Guo et al., 2009) as used for online LTR by
  Oosterhuis & de Rijke: scan top-down, click with P(click | grade), after a click stop
  with P(stop | grade), else go on.

**When a click satisfies.** Logs record a session's last click: a click after which the
user neither clicks again nor reformulates. Each parameter set's P(stop | click, grade) is read
as the probability that a click on a document of that grade satisfies the user:

- ``dcm``: satisfaction *is* the stop event; a user who scans past the page's end without
  stopping was not satisfied (they reformulate);
- ``cascade``: the user always leaves the page after the first click and is satisfied with
  P(stop | click, grade); otherwise they come back and reformulate;
- ``pbm`` (clicks are independent, so there is no stop event; the stated rule): the page's
  last click satisfies with P(stop | click, grade) of its document's grade.

The ``perfect`` set never stops (P(stop) = 0), so it cannot produce a satisfied click.

A built-in click model is a small class (:class:`PositionBasedModel`, :class:`CascadeModel`,
:class:`DependentClickModel`, registered in :data:`CLICK_MODELS`) over a shared base,
:class:`ClickModel`: four arrays and the code its class declares (:meth:`ClickModel.arrays`):
``p_click[g]`` the probability of a click on an examined document of grade ``g``,
``p_stop[g]`` of stopping scanning after clicking it (1 for cascade), ``p_satisfy[g]`` of that
click satisfying, ``examination[i]`` the probability that position ``i`` is examined (the
position-based model); the compiled functions below take them. :func:`sample_clicks` draws
``2 * page`` uniforms per page from the given numpy Generator (row 0 decides clicks, row 1
examination or stopping), so a run's clicks are the same whichever loop plays it, and
whichever reward is paid: satisfaction reuses the same draws (cascade and DCM: the stopping
click's row-1 draw below P(satisfy); PBM: the last click's row-0 draw below
P(click) * P(satisfy), which given the click is an independent uniform). Written by hand:
no maintained Python package implements these simulators with a closed form. Outside click
models are registered and checked in :mod:`ltrr.simulation.clicks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from numba import njit

from ltrr.errors import InputError

# the compiled functions' branches; each click model class declares the one it runs (``code``)
PBM, CASCADE, DCM = 0, 1, 2


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
                  p_satisfy: np.ndarray, examination: np.ndarray, rng, out: np.ndarray,
                  satisfied: np.ndarray) -> int:
    """Sample one page's clicks (0/1 into ``out``) from ``rng``; returns how many, and puts
    the position of the click that satisfied the user (-1: none) into ``satisfied[0]``."""
    page = grades.shape[0]
    draws = np.empty((2, page))
    for j in range(2):
        for i in range(page):
            draws[j, i] = rng.random()
    out[:] = 0
    count = 0
    satisfied[0] = -1
    last = -1
    for i in range(page):
        g = grades[i]
        attract = 0.0 if g < 0 else p_click[min(g, 4)]
        if model == PBM:
            if draws[1, i] < examination[i] and draws[0, i] < attract:
                out[i] = 1
                count += 1
                last = i
        elif draws[0, i] < attract:
            out[i] = 1
            count += 1
            if draws[1, i] < p_stop[min(g, 4)]:
                if draws[1, i] < p_satisfy[min(g, 4)]:
                    satisfied[0] = i
                break
    if model == PBM and last >= 0:
        g = min(grades[last], 4)
        if draws[0, last] < p_click[g] * p_satisfy[g]:
            satisfied[0] = last
    return count


EXAMINATION_CURVES: dict[str, tuple[float, ...] | None] = {
    "reciprocal": None,  # 1 / position, as long as the page
    "eye-tracking": (0.68, 0.61, 0.48, 0.34, 0.28, 0.20, 0.11, 0.10, 0.08, 0.06),
}
PARAMETER_SETS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "perfect": ((0.0, 0.2, 0.4, 0.8, 1.0), (0.0, 0.0, 0.0, 0.0, 0.0)),
    "navigational": ((0.05, 0.3, 0.5, 0.7, 0.95), (0.2, 0.3, 0.5, 0.7, 0.9)),
    "informational": ((0.4, 0.6, 0.7, 0.8, 0.9), (0.1, 0.2, 0.3, 0.4, 0.5)),
}


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class ClickModel:
    """What every built-in click model shares: its parameter set, the arrays the compiled
    functions above take (:meth:`arrays`), and the closed forms and sampling over them.

    A built-in click model is a small subclass declaring ``model`` (its name in records:
    ``model/params``) and ``code`` (the branch of the compiled functions it runs: :data:`PBM`,
    :data:`CASCADE` or :data:`DCM`), and overriding what differs (``p_stop``, ``examination``);
    it is registered by one line in :data:`CLICK_MODELS`.

    Args:
        params: ``"perfect"``, ``"navigational"`` or ``"informational"``.
    """

    params: str = "informational"
    model: ClassVar[str]
    code: ClassVar[int]

    def __post_init__(self) -> None:
        if not hasattr(type(self), "code"):
            raise InputError("ClickModel is the base of the built-in click models: make one "
                             "by name with ltrr.simulation.clicks.make_click_model(name, params) "
                             "or as PositionBasedModel, CascadeModel or DependentClickModel")
        if self.params not in PARAMETER_SETS:
            raise InputError(f"unknown click parameter set '{self.params}' "
                             f"(choose from {', '.join(PARAMETER_SETS)})")

    @property
    def name(self) -> str:
        """How records and tables name these users: ``model/params``."""
        return f"{self.model}/{self.params}"

    @cached_property
    def p_click(self) -> np.ndarray:
        """P(click | grade) for grades 0..4 (read-only; made once per model)."""
        return _frozen(np.asarray(PARAMETER_SETS[self.params][0]))

    @cached_property
    def p_stop(self) -> np.ndarray:
        """P(stop | click, grade) for grades 0..4 (read-only; made once per model)."""
        return _frozen(np.asarray(PARAMETER_SETS[self.params][1]))

    @cached_property
    def p_satisfy(self) -> np.ndarray:
        """P(a click on a document of grade g satisfies the user), grades 0..4: the parameter
        set's P(stop | click, grade) for every model (see the module doc)."""
        return _frozen(np.asarray(PARAMETER_SETS[self.params][1]))

    def examination(self, page: int) -> np.ndarray:
        """P(position i examined) under the position-based model, for a page of ``page``
        positions: ``1 / i`` (1-based); the compiled functions read it for PBM only."""
        return 1.0 / np.arange(1, int(page) + 1)

    def arrays(self, page: int) -> tuple:
        """``(model code, p_click, p_stop, p_satisfy, examination)``: what the compiled
        functions take."""
        return (self.code, np.ascontiguousarray(self.p_click, dtype=float),
                np.ascontiguousarray(self.p_stop, dtype=float),
                np.ascontiguousarray(self.p_satisfy, dtype=float), self.examination(page))

    def expected_clicks(self, grades: np.ndarray) -> np.ndarray:
        """Expected clicks per position for pages of 0..4 grades (shape ``(..., page)``).

        A position holding no document can be marked with grade -1: it is never clicked
        and does not stop the user.
        """
        grades = np.asarray(grades, dtype=np.int64)
        flat = np.ascontiguousarray(grades.reshape(-1, grades.shape[-1]))
        model, p_click, p_stop, _, examination = self.arrays(grades.shape[-1])
        return expected_clicks(flat, model, p_click, p_stop, examination).reshape(grades.shape)

    def expected_total(self, grades: np.ndarray) -> np.ndarray:
        """Expected number of clicks per page (sums :meth:`expected_clicks`)."""
        return self.expected_clicks(grades).sum(axis=-1)

    def sample(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sample clicks (0/1 per position) for one page of 0..4 grades (-1: empty slot)."""
        return self.sample_session(grades, rng)[0]

    def sample_session(self, grades: np.ndarray, rng: np.random.Generator
                       ) -> tuple[np.ndarray, int]:
        """Sample one page's clicks and the position of the click that satisfied the user
        (-1: none); the same draws as :meth:`sample`."""
        grades = np.ascontiguousarray(grades, dtype=np.int64)
        out = np.zeros(grades.shape[-1], dtype=np.int8)
        satisfied = np.full(1, -1, dtype=np.int64)
        sample_clicks(grades, *self.arrays(grades.shape[-1]), rng, out, satisfied)
        return out, int(satisfied[0])


@dataclass(frozen=True)
class PositionBasedModel(ClickModel):
    """``pbm``: position ``i`` is examined with a probability of its own, independently of
    clicks; an examined document is clicked with P(click | grade).

    Args:
        params: the parameter set.
        examination_curve: ``"reciprocal"`` (``1 / position``), ``"eye-tracking"``, or a tuple
            of probabilities in (0, 1], one per position.
    """

    examination_curve: str | tuple[float, ...] = "reciprocal"
    model: ClassVar[str] = "pbm"
    code: ClassVar[int] = PBM

    def __post_init__(self) -> None:
        super().__post_init__()
        curve = self.examination_curve
        if isinstance(curve, str):
            if curve not in EXAMINATION_CURVES:
                raise InputError(f"unknown examination curve '{curve}' (choose from "
                                 f"{', '.join(EXAMINATION_CURVES)}, or a list of "
                                 f"probabilities in (0, 1], one per position)")
        else:
            values = tuple(curve)
            bad = [v for v in values if not isinstance(v, (int, float)) or isinstance(v, bool)
                   or not 0.0 < float(v) <= 1.0]
            if not values or bad:
                raise InputError(f"an examination curve needs probabilities in (0, 1], one per "
                                 f"position; got {list(values)}")
            object.__setattr__(self, "examination_curve", tuple(float(v) for v in values))

    @property
    def name(self) -> str:
        """``pbm/params``, and the curve when it is not the reciprocal one."""
        curve = self.examination_curve
        tail = "" if curve == "reciprocal" else (
            f"/{curve}" if isinstance(curve, str) else "/custom-examination")
        return f"{self.model}/{self.params}{tail}"

    def examination(self, page: int) -> np.ndarray:
        """P(position i examined) for a page of ``page`` positions: ``1 / i`` (1-based), or
        the curve's first ``page`` values (InputError if the curve is shorter than the page)."""
        curve = self.examination_curve
        curve = EXAMINATION_CURVES.get(curve) if isinstance(curve, str) else curve
        if curve is None:
            return super().examination(page)
        if len(curve) < page:
            raise InputError(f"the examination curve has {len(curve)} values, the page shows "
                             f"{page} documents: give one value per position")
        return np.asarray(curve[:page], dtype=float)


@dataclass(frozen=True)
class CascadeModel(ClickModel):
    """``cascade``: scan top-down, click with P(click | grade), stop after the first click."""

    model: ClassVar[str] = "cascade"
    code: ClassVar[int] = CASCADE

    @cached_property
    def p_stop(self) -> np.ndarray:
        """1 for every grade: the user stops after the first click."""
        return _frozen(np.ones(5))


@dataclass(frozen=True)
class DependentClickModel(ClickModel):
    """``dcm``: scan top-down, click with P(click | grade), after a click stop with
    P(stop | grade), else go on."""

    model: ClassVar[str] = "dcm"
    code: ClassVar[int] = DCM


# The built-in click models, by name: the one list of them (``ltrr.simulation.clicks.REGISTRY``
# resolves its built-in names here). An entry is a class of this module or the import path
# ``"module:Class"`` of one in a module of its own (imported on first use), so adding one is its
# class plus one line here (``docs/architecture.md``, "Adding a built-in").
CLICK_MODELS: dict[str, type[ClickModel] | str] = {
    "pbm": PositionBasedModel,
    "cascade": CascadeModel,
    "dcm": DependentClickModel,
}
