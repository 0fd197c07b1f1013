"""What a page pays the policy: rewards a live system can observe from its users' clicks.

A benchmark declares its reward (``[reward] name``); the policy is paid it minus the plan's
cost (and the probe's, when it reads one), and the oracle, regret and the OPE ground truth
use its expectation. Each reward is a sum over the page's positions of a per-position
contribution, so the semi-bandit's per-arm credit is the contribution of the positions an arm
retrieved:

- ``clicks``: the number of clicks (each click contributes 1). Under cascade and DCM users a
  satisfied user stops, so a page that answers at rank 1 can earn *fewer* clicks than a page
  of near misses;
- ``any_click``: 1 if the page got a click (the first click contributes it);
- ``first_click_rr``: the reciprocal rank of the first click, ``1 / position`` (0 without a
  click);
- ``satisfied``: 1 if a click satisfied the user (:mod:`ltrr.kernel.clicks` says when, per
  click model); the satisfying click contributes it.

The closed forms (:func:`expected_reward_row`) are written per click model with ``a_i`` the
probability of a click on position ``i`` once examined, ``e_i`` PBM's examination and ``s_i``
the probability that a click there satisfies:

- PBM (independent clicks ``c_i = e_i a_i``): P(any) = ``1 - prod(1 - c_i)``; first click at
  ``i``: ``c_i prod_{j<i}(1 - c_j)``; satisfied: the last click satisfies,
  ``sum_i c_i s_i prod_{j>i}(1 - c_j)``;
- cascade and DCM (top-down until a stop; before the first click every position is
  examined): P(any) = ``1 - prod(1 - a_i)``; first click at ``i``: ``a_i prod_{j<i}(1 - a_j)``;
  satisfied: ``sum_i r_i a_i s_i`` with ``r_i`` the probability of reaching ``i``
  (``r_{i+1} = r_i (1 - a_i p_stop_i)``).

Written by hand: no maintained package gives these expectations for the simulated users.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ltrr.kernel.clicks import PBM, expected_total_row

CLICKS, ANY_CLICK, FIRST_CLICK_RR, SATISFIED = 0, 1, 2, 3
REWARD_CODES = {"clicks": CLICKS, "any_click": ANY_CLICK, "first_click_rr": FIRST_CLICK_RR,
                "satisfied": SATISFIED}
REWARDS = tuple(REWARD_CODES)


@njit(cache=True)
def expected_reward_row(grades: np.ndarray, reward: int, model: int, p_click: np.ndarray,
                        p_stop: np.ndarray, p_satisfy: np.ndarray,
                        examination: np.ndarray) -> float:
    """The expected ``reward`` of one page of 0..4 grades (-1: an empty slot)."""
    if reward == CLICKS:
        return expected_total_row(grades, model, p_click, p_stop, examination)
    n = grades.shape[0]
    total = 0.0
    if model == PBM and reward == SATISFIED:
        after = 1.0  # P(no click below position i)
        for i in range(n - 1, -1, -1):
            g = grades[i]
            if g < 0:
                continue
            c = p_click[min(g, 4)] * examination[i]
            total += c * p_satisfy[min(g, 4)] * after
            after *= 1.0 - c
        return total
    none_yet = 1.0  # P(no click above position i)
    reach = 1.0  # cascade/DCM: P(the user examines position i)
    for i in range(n):
        g = grades[i]
        if g < 0:
            continue
        a = p_click[min(g, 4)]
        c = a * examination[i] if model == PBM else a
        if reward == SATISFIED:
            total += reach * a * p_satisfy[min(g, 4)]
            reach *= 1.0 - a * p_stop[min(g, 4)]
            continue
        first = none_yet * c
        none_yet *= 1.0 - c
        if reward == ANY_CLICK:
            total += first
        else:
            total += first / (i + 1.0)
    return total


@njit(cache=True)
def page_reward(reward: int, clicks: np.ndarray, count: int, satisfied: int,
                contribution: np.ndarray) -> float:
    """The ``reward`` a sampled page earned (cost not subtracted), from its clicks (0/1 per
    position), their ``count`` and the satisfying click's position (-1: none); each
    position's share goes into ``contribution`` (the semi-bandit's per-arm credit)."""
    contribution[:] = 0.0
    if reward == CLICKS:
        for i in range(clicks.shape[0]):
            contribution[i] = clicks[i]
        return float(count)
    if reward == SATISFIED:
        if satisfied < 0:
            return 0.0
        contribution[satisfied] = 1.0
        return 1.0
    for i in range(clicks.shape[0]):
        if clicks[i]:
            value = 1.0 if reward == ANY_CLICK else 1.0 / (i + 1.0)
            contribution[i] = value
            return value
    return 0.0


@njit(cache=True)
def expected_rewards(grades: np.ndarray, reward: int, model: int, p_click: np.ndarray,
                     p_stop: np.ndarray, p_satisfy: np.ndarray,
                     examination: np.ndarray) -> np.ndarray:
    """:func:`expected_reward_row` of every page of ``grades`` ``(n, page)``."""
    out = np.empty(grades.shape[0])
    for r in range(grades.shape[0]):
        out[r] = expected_reward_row(grades[r], reward, model, p_click, p_stop, p_satisfy,
                                     examination)
    return out
