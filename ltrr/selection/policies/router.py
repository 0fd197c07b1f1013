"""Policies that learn from the dataset's training topics before the stream: the supervised
router, and LinUCB warm-started from the same examples.

The router is the supervised baseline of Arabzadeh et al. (CIKM 2021, "Predicting
efficiency/effectiveness trade-offs for dense vs. sparse retrieval strategy selection"):
a model trained on judged queries picks, per query, the retrieval strategy (here: the plan)
from features known before retrieval, and stays fixed while queries arrive. Here it is a
LightGBM regressor (:class:`Router`) over the context vector and the plan's features
(:meth:`~ltrr.selection.plans.PlanSpace.features`), trained on a :class:`TrainingSet`:

- its rows are the training topics (never a topic, nor a query text, the stream asks:
  :mod:`ltrr.experiments.pretraining` refuses a stream that asks a training topic and leaves
  out a training topic whose text the stream asks), their context as the loop computes it at
  step 0 (the benchmark's feature groups, the memory arm cold: its ``memory`` features are
  then 0, so no tree splits on them and the router ignores them during the stream too);
- its label per (topic, plan) is the expected reward of the page the plan shows at step 0
  under the benchmark's users and reward, minus the plan's cost: the simulator's truth that
  the oracle maximises, computed from the training topics' own qrels, and what a policy is
  paid on average. (Not nDCG@10: under users who stop once satisfied the page with the best
  nDCG is not the one that earns the most, and the router is compared with bandits paid
  that reward.) The page is the one the policy's ranking stage shows: the fusion, or a
  trained ranker's ranking of the pool;
- the label is centred per topic (minus the mean over plans): the choice is the argmax over
  plans for one query, which a per-topic constant does not change, and without it most of
  the trees would model how good a query's pages are at all, which no choice changes.

At each step the router scores every plan with the forest, in the compiled loop
(:func:`~ltrr.selection.policies.kernels.router_scores`, the trees flattened into arrays:
LightGBM's own prediction, checked in the tests), and plays the argmax; exact ties go to
the policy's seeded rng, propensity ``1 / ties``. It never updates. Its hyper-parameters
(trees, leaves, learning rate) have fixed defaults and the benchmarks give it no grid: a
grid is tuned on streams of the reported topics, whose rewards the router must not see,
even to choose between models.

:class:`LinUCBWarm` is LinUCB whose ridge models have first learnt every (training topic,
plan) example: the same contexts and values (uncentred: LinUCB learns the reward itself),
then it learns online exactly as ``linucb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ltrr.errors import InputError
from ltrr.selection.plans import PlanSpace
from ltrr.selection.policies import kernels
from ltrr.selection.policies.contextual import LinUCB
from ltrr.selection.policies.plan_policy import PlanPolicy, check_param, is_number
from ltrr.selection.policies.kernels import PolicyArrays

NOT_TRAINED = ("has not been trained: it learns from a dataset's training topics before its "
               "stream, which `ltrr run` gives it (or call its fit(training))")


@dataclass(frozen=True)
class TrainingSet:
    """What a policy that learns before the stream learns from.

    Attributes:
        qids: the training topics, one row each.
        names: the context features' names (the columns of ``contexts``).
        contexts: ``(N, d)`` each topic's context at step 0.
        values: ``(N, P)`` each plan's expected reward minus cost on the topic at step 0.
        plan_ids: the plans, in the columns' order.
        info: what a result record says about the training (source, topics, text overlap).
    """

    qids: tuple[str, ...]
    names: tuple[str, ...]
    contexts: np.ndarray
    values: np.ndarray
    plan_ids: tuple[str, ...]
    info: dict

    def select(self, names: list[str]) -> "TrainingSet":
        """The same examples over the context features ``names`` (a policy that sees fewer
        feature groups); KeyError naming a feature the set lacks."""
        where = {n: i for i, n in enumerate(self.names)}
        missing = [n for n in names if n not in where]
        if missing:
            raise KeyError(f"the training contexts lack features {missing}")
        columns = [where[n] for n in names]
        return TrainingSet(self.qids, tuple(names),
                           np.ascontiguousarray(self.contexts[:, columns]), self.values,
                           self.plan_ids, self.info)


class _Trained:
    """What both policies check before learning from a training set."""

    uses_training = True
    name: str
    n_features: int
    plans: PlanSpace

    def _check(self, training: TrainingSet) -> None:
        if training.contexts.shape[1] != self.n_features:
            raise ValueError(f"{self.name}: training contexts have {training.contexts.shape[1]} "
                             f"features, expected {self.n_features}")
        if list(training.plan_ids) != list(self.plans.ids):
            raise ValueError(f"{self.name}: training values are for plans {training.plan_ids}, "
                             f"expected {tuple(self.plans.ids)}")
        self.training_info = dict(training.info)


class Router(_Trained, PlanPolicy):
    """The supervised router (module doc): argmax over plans of a LightGBM regressor of the
    plan's centred value from (context, plan features), trained once by :meth:`fit`.

    Hyper-parameters: ``trees`` (boosting rounds, 100), ``leaves`` (per tree, 8),
    ``learning_rate`` (0.05); leaves hold at least 20 examples; training is deterministic
    (one thread, fixed seed), so every run of a benchmark plays the same router.
    """

    name = "router"

    def __init__(self, plans: PlanSpace, n_features: int, random_state: int = 0,
                 reward_range: tuple[float, float] = (0.0, 1.0), *, trees: int = 100,
                 leaves: int = 8, learning_rate: float = 0.05) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        for key, value, low in (("trees", trees, 1), ("leaves", leaves, 2)):
            check_param(isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                        and value >= low, self.name, key, f"must be an integer >= {low}, "
                        f"got {value!r}")
        check_param(is_number(learning_rate) and learning_rate > 0, self.name, "learning_rate",
                    f"must be a number > 0, got {learning_rate!r}")
        self.trees, self.leaves, self.learning_rate = int(trees), int(leaves), float(learning_rate)
        self.booster = None

    def examples(self, training: TrainingSet) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)``: one row per (topic, plan), topic-major: the context then the plan's
        features; the plan's value minus the topic's mean over plans."""
        n, d = training.contexts.shape
        plan_features = self.plans.features()
        X = np.hstack([np.repeat(training.contexts, len(plan_features), axis=0),
                       np.tile(plan_features, (n, 1))])
        values = np.asarray(training.values, dtype=float)
        return X, (values - values.mean(axis=1, keepdims=True)).ravel()

    def fit(self, training: TrainingSet) -> "Router":
        """Train the forest on ``training`` (its contexts must have ``n_features`` columns
        and its values this plan space's plans)."""
        import lightgbm as lgb

        self._check(training)
        X, y = self.examples(training)
        params = {"objective": "regression", "num_leaves": self.leaves,
                  "learning_rate": self.learning_rate, "min_data_in_leaf": 20, "seed": 0,
                  "deterministic": True, "force_col_wise": True, "num_threads": 1,
                  "verbose": -1}
        self.booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=self.trees)
        self._arrays = forest_arrays(self.booster.dump_model(), self.n_plans, self.n_features,
                                     self.plans.features())
        return self

    def _make_arrays(self) -> PolicyArrays:
        raise InputError(f"policy '{self.name}' {NOT_TRAINED}")

    def scores(self, context: np.ndarray) -> np.ndarray:
        """Every plan's predicted centred value for ``context``."""
        x = np.ascontiguousarray(self.check_context(context))
        return kernels.router_scores(self.arrays(), x)


def forest_arrays(model: dict, n_plans: int, n_features: int,
                  plan_features: np.ndarray) -> PolicyArrays:
    """A LightGBM model (``Booster.dump_model()``) as the ``ROUTER`` kernel's arrays."""
    nodes: list[tuple[int, int, int]] = []
    thresholds: list[float] = []
    leaves: list[float] = []

    def add(tree: dict) -> int:
        if "leaf_value" in tree:
            leaves.append(float(tree["leaf_value"]))
            return -len(leaves)
        if tree.get("decision_type") != "<=":
            raise ValueError(f"router: unexpected split {tree.get('decision_type')!r}")
        at = len(nodes)
        nodes.append((int(tree["split_feature"]), 0, 0))
        thresholds.append(float(tree["threshold"]))
        left, right = add(tree["left_child"]), add(tree["right_child"])
        nodes[at] = (nodes[at][0], left, right)
        return at

    roots = [add(info["tree_structure"]) for info in model["tree_info"]]
    return PolicyArrays.of(kernels.ROUTER,
                           ints=np.array([-1, n_plans, n_features, *roots], dtype=np.int64),
                           im0=np.array(nodes, dtype=np.int64).reshape(len(nodes), 3),
                           v0=np.array(thresholds, dtype=float), v1=np.array(leaves, dtype=float),
                           m0=np.ascontiguousarray(plan_features, dtype=float))


class LinUCBWarm(_Trained, LinUCB):
    """LinUCB (``alpha``, 1.0) whose per-plan ridge models first learn every (training topic,
    plan) example of :meth:`fit` (the plan's value as the reward, topic-major), then learn
    online as ``linucb`` does."""

    name = "linucb_warm"

    def fit(self, training: TrainingSet) -> "LinUCBWarm":
        self._check(training)
        contexts = np.ascontiguousarray(training.contexts, dtype=float)
        values = np.ascontiguousarray(training.values, dtype=float)
        _warm(self.arrays(), contexts, values, self.rng)
        self.model.n_trial += values.size
        self.model.action_counts += len(values)
        return self


@njit(cache=True)
def _warm(pa: PolicyArrays, contexts: np.ndarray, values: np.ndarray, rng) -> None:
    credit = np.zeros(0)
    for t in range(contexts.shape[0]):
        for p in range(values.shape[1]):
            kernels.update(pa, contexts[t], p, values[t, p], credit, rng)
