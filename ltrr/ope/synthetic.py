"""Synthetic logged decisions with a known truth, for tests, examples and benchmarks.

A small world: ``n_types`` user types with fixed context vectors, ``n_actions`` actions,
an expected reward ``trials * q(type, action)`` (rewards are Binomial(trials, q): clicks out
of ``trials`` slots), and a softmax logging policy. Because contexts come from a finite
set, the true value of any policy given as per-type probabilities is an exact sum,
``V = trials * mean_type sum_a pi(a|type) q(type, a)``, not a Monte Carlo guess. (obp's
``SyntheticBanditDataset`` draws continuous contexts, so its ground truth is itself an
estimate on the sample; here we need the exact value.)

Two kinds of world: the default has context-action interactions (``q = sigmoid(x theta_a - 1)``:
a model on obp's ``[context, one-hot action]`` features cannot express it, so DM is biased);
``linear=True`` makes ``q`` additive in the context and the action, which that linear model
fits exactly, so every estimator, DM included, targets the truth (the interval-coverage
studies need that).

:func:`run_logger` lets an ltrr policy (e.g. Thompson sampling) be the logger, learning
from its own rewards as it goes; its logged propensities are the ones the policy reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltrr.decision_log import ACTION_SET_SEPARATOR


@dataclass(frozen=True)
class World:
    """Fixed parameters of the synthetic world (from ``world_seed``)."""

    contexts: np.ndarray  # (types, dim)
    q: np.ndarray  # (types, actions) success probability per trial
    logging: np.ndarray  # (types, actions) logging policy
    trials: int = 1  # reward = successes out of ``trials`` (1: a click, 0/1)

    @property
    def actions(self) -> list[str]:
        return [f"plan{a}" for a in range(self.q.shape[1])]

    @property
    def expected(self) -> np.ndarray:
        """(types, actions) expected reward."""
        return self.trials * self.q

    def value(self, policy: np.ndarray) -> float:
        """Exact value of ``policy`` (types x actions probabilities)."""
        return float((policy * self.expected).sum(axis=1).mean())


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.exp((scores - scores.max(axis=1, keepdims=True)) / temperature)
    return z / z.sum(axis=1, keepdims=True)


def make_world(n_types: int = 8, n_actions: int = 4, dim: int = 3, world_seed: int = 0,
               temperature: float = 0.5, linear: bool = False, trials: int = 1) -> World:
    rng = np.random.default_rng(world_seed)
    contexts = rng.normal(size=(n_types, dim))
    theta = rng.normal(size=(dim, n_actions))
    if linear:
        effect = contexts @ rng.normal(size=dim)
        q = 0.45 + 0.08 * effect[:, None] + 0.1 * rng.normal(size=n_actions)[None, :]
        if not ((q > 0) & (q < 1)).all():
            raise ValueError(f"world_seed {world_seed}: a linear q outside (0, 1); pick another seed")
    else:
        q = 1 / (1 + np.exp(-(contexts @ theta - 1.0)))
    logging = softmax(contexts @ theta + rng.normal(size=(n_types, n_actions)), temperature * 4)
    return World(contexts=contexts, q=q, logging=logging, trials=trials)


def target_policy(world: World, temperature: float = 0.3) -> np.ndarray:
    """A stochastic policy that prefers high-q actions more than the logger does."""
    return softmax(np.log(world.q), temperature)


def frame_of(world: World, types: np.ndarray, action: np.ndarray, propensity: np.ndarray,
             reward: np.ndarray) -> pd.DataFrame:
    """Logged decisions in ltrr's logged-data format (plus ``user_type``, which the reader
    ignores and tests use for exact truths)."""
    n = len(types)
    frame = pd.DataFrame(world.contexts[types], columns=[f"ctx_f{i}" for i in range(world.contexts.shape[1])])
    frame["action"] = np.array(world.actions)[action]
    frame["propensity"] = propensity
    frame["reward"] = reward
    frame["timestamp"] = np.arange(n)
    frame["action_set"] = ACTION_SET_SEPARATOR.join(world.actions)
    frame["user_type"] = types
    return frame


def generate(world: World, n: int, seed: int) -> pd.DataFrame:
    """``n`` decisions of the world's softmax logging policy."""
    rng = np.random.default_rng(seed)
    types = rng.integers(len(world.contexts), size=n)
    cum = world.logging.cumsum(axis=1)[types]
    action = (rng.random(n)[:, None] > cum).sum(axis=1)
    action = np.minimum(action, world.q.shape[1] - 1)
    q = world.q[types, action]
    # one trial keeps the uniform draw the committed example (docs/examples) was made with
    reward = ((rng.random(n) < q) if world.trials == 1 else rng.binomial(world.trials, q)).astype(np.int64)
    return frame_of(world, types, action, world.logging[types, action], reward)


def run_logger(world: World, policy, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` decisions of an ltrr ``policy`` (``choose``/``update``) learning as it logs; also
    the expected reward of each chosen action (for on-policy truths)."""
    rng = np.random.default_rng([seed, 1])
    types = rng.integers(len(world.contexts), size=n)
    action = np.zeros(n, dtype=np.int64)
    propensity = np.zeros(n)
    reward = np.zeros(n, dtype=np.int64)
    for t, kind in enumerate(types):
        context = world.contexts[kind]
        action[t], propensity[t] = policy.choose(context)
        reward[t] = rng.binomial(world.trials, world.q[kind, action[t]])
        policy.update(context, int(action[t]), float(reward[t]), None)
    return frame_of(world, types, action, propensity, reward), world.expected[types, action]
