"""Synthetic logged decisions with a known truth, for tests, examples and the speed benchmark.

A small world: ``n_types`` user types with fixed context vectors, ``n_actions`` actions,
a click probability ``q(type, action)``, and a softmax logging policy. Because contexts
come from a finite set, the true value of any policy given as per-type probabilities is
an exact sum, ``V = mean_type sum_a pi(a|type) q(type, a)``, not a Monte Carlo guess.
(obp's ``SyntheticBanditDataset`` draws continuous contexts, so its ground truth is itself
an estimate on the sample; here we need the exact value.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class World:
    """Fixed parameters of the synthetic world (from ``world_seed``)."""

    contexts: np.ndarray  # (types, dim)
    q: np.ndarray  # (types, actions) click probabilities
    logging: np.ndarray  # (types, actions) logging policy

    @property
    def actions(self) -> list[str]:
        return [f"plan{a}" for a in range(self.q.shape[1])]

    def value(self, policy: np.ndarray) -> float:
        """Exact value of ``policy`` (types x actions probabilities)."""
        return float((policy * self.q).sum(axis=1).mean())


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.exp((scores - scores.max(axis=1, keepdims=True)) / temperature)
    return z / z.sum(axis=1, keepdims=True)


def make_world(n_types: int = 8, n_actions: int = 4, dim: int = 3, world_seed: int = 0,
               temperature: float = 0.5) -> World:
    rng = np.random.default_rng(world_seed)
    contexts = rng.normal(size=(n_types, dim))
    theta = rng.normal(size=(dim, n_actions))
    q = 1 / (1 + np.exp(-(contexts @ theta - 1.0)))
    logging = softmax(contexts @ theta + rng.normal(size=(n_types, n_actions)), temperature * 4)
    return World(contexts=contexts, q=q, logging=logging)


def target_policy(world: World, temperature: float = 0.3) -> np.ndarray:
    """A stochastic policy that prefers high-q actions more than the logger does."""
    return softmax(np.log(world.q), temperature)


def generate(world: World, n: int, seed: int) -> pd.DataFrame:
    """``n`` logged decisions in ltrr's logged-data format."""
    rng = np.random.default_rng(seed)
    types = rng.integers(len(world.contexts), size=n)
    cum = world.logging.cumsum(axis=1)[types]
    action = (rng.random(n)[:, None] > cum).sum(axis=1)
    action = np.minimum(action, world.q.shape[1] - 1)
    reward = (rng.random(n) < world.q[types, action]).astype(np.int64)
    frame = pd.DataFrame(world.contexts[types], columns=[f"ctx_f{i}" for i in range(world.contexts.shape[1])])
    names = np.array(world.actions)
    frame["action"] = names[action]
    frame["propensity"] = world.logging[types, action]
    frame["reward"] = reward
    frame["timestamp"] = np.arange(n)
    frame["action_set"] = "|".join(world.actions)
    frame["user_type"] = types  # not part of the format (ignored by the reader); for exact truths
    return frame
