"""Click models' arithmetic over pages of 0..4 grades: closed forms and sampling.

A built-in click model is three arrays and a code (:mod:`ltrr.simulation.clicks` says which
models and parameter sets exist and where they come from): ``p_click[g]`` the probability
of a click on an examined document of grade ``g``, ``p_stop[g]`` of stopping after clicking
it, ``examination[i]`` the probability that position ``i`` is examined (the position-based
model). A position holding no document has grade -1: never clicked, never a stop.

- ``PBM``: position ``i`` examined with ``examination[i]``, independently of clicks;
- ``CASCADE`` / ``DCM``: scan top-down, click with ``p_click``, after a click stop with
  ``p_stop`` (1 for the cascade model), else go on.

:func:`sample_clicks` draws ``2 * page`` uniforms per page from the given numpy Generator
(row 0 decides clicks, row 1 examination or stopping), as the reference code always has, so
a run's clicks are the same whichever path plays it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
