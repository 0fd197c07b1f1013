"""Outside components for the plugin tests: good ones, ones that copy a built-in (their numbers
must match it), and every way a plugin can break its contract. Imported by import path
(``ltrr_test_plugins:Name``): pytest puts ``tests/`` on ``sys.path``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.kernel.clicks import PositionBasedModel
from ltrr.ranking.learned import LambdaMART
from ltrr.selection.base import Policy

NUMBER = 3
CALLS: list[int] = []  # queries per transform call of LexicalAgain
SEEN: list[np.ndarray] = []  # contexts SeesContext was given


class Greedy(Policy):
    """Epsilon-greedy over the plans' mean rewards, with its exact propensity."""

    name = "greedy"

    def __init__(self, plans, n_features, random_state=0, reward_range=(0.0, 1.0), *,
                 epsilon: float = 0.1) -> None:
        super().__init__(len(plans), n_features, random_state)
        self.epsilon = epsilon
        self.sums, self.counts = np.zeros(self.n_plans), np.zeros(self.n_plans)

    def probabilities(self, context, truth=None):
        means = self.sums / np.maximum(self.counts, 1)
        best = np.flatnonzero(means == means.max())
        p = np.full(self.n_plans, self.epsilon / self.n_plans)
        p[best] += (1 - self.epsilon) / len(best)
        return p

    def choose(self, context, truth=None):
        p = self.probabilities(context)
        plan = int(self.rng.choice(self.n_plans, p=p))
        return plan, float(p[plan])

    def update(self, context, plan, reward, arm_rewards=None):
        self.sums[plan] += reward
        self.counts[plan] += 1


class Fixed(Policy):
    """Returns whatever it is told to, from the first step: ``plan`` and ``propensity``."""

    def __init__(self, plans, n_features, random_state=0, reward_range=(0.0, 1.0), *,
                 plan: object = 0, propensity: object = 1.0) -> None:
        super().__init__(len(plans), n_features, random_state)
        self.plan, self.propensity = plan, propensity

    def choose(self, context, truth=None):
        return self.plan, self.propensity


class NotTuple(Fixed):
    def choose(self, context, truth=None):
        return [0, 1.0]


class Cheater(Greedy):
    uses_truth = True


class NeedsRate(Greedy):
    def __init__(self, plans, n_features, random_state=0, reward_range=(0.0, 1.0), *,
                 rate: float) -> None:
        super().__init__(plans, n_features, random_state, reward_range)
        self.rate = rate


class Broken(Greedy):
    def __init__(self, plans, n_features, random_state=0, reward_range=(0.0, 1.0)) -> None:
        raise ZeroDivisionError("division by zero")


class SeesContext(Fixed):
    """Declares it does not read the context; records what it is given."""

    uses_context = False

    def choose(self, context, truth=None):
        SEEN.append(np.array(context))
        return 0, 1.0


class NoChoose:
    def update(self, context, plan, reward, arm_rewards=None):
        pass


def make_greedy(plans, n_features, random_state, reward_range, *, epsilon: float = 0.2):
    """A factory: a policy from a function."""
    return Greedy(plans, n_features, random_state, reward_range, epsilon=epsilon)


def make_nothing(plans, n_features, random_state, reward_range):
    return "not a policy"


class LexicalAgain(pt.Transformer):
    """ltrr's lexical arm seen from outside: a plain PyTerrier transformer around it, without
    ``fuse_rank_cutoff`` (ltrr cuts its ranking) and without a rank column."""

    def __init__(self, dataset, num_results: int = 1000) -> None:
        from ltrr.arms import build_arm

        self.arm = build_arm("lexical", dataset, num_results=num_results)

    def transform(self, queries):
        CALLS.append(len(queries))
        return self.arm.transform(queries)[["qid", "docno", "score"]]


class NoDocno(pt.Transformer):
    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def transform(self, queries):
        return pd.DataFrame({"qid": queries["qid"], "score": 1.0})


class Twice(pt.Transformer):
    def transform(self, queries):
        q = str(queries["qid"].iloc[0])
        return pd.DataFrame({"qid": [q, q], "docno": ["d01", "d01"], "score": [2.0, 1.0]})


class NotATransformer:
    pass


def factory_returns_int(dataset):
    return 3


class SamePBM:
    """The built-in PBM, as an outside click model (``params``: a parameter set name)."""

    def __init__(self, params: str) -> None:
        self.inner = PositionBasedModel(params)

    def expected_clicks(self, grades):
        return self.inner.expected_clicks(grades)

    def expected_total(self, grades):
        return self.inner.expected_total(grades)

    def sample(self, grades, rng):
        return self.inner.sample(grades, rng)


class FlatTotal(SamePBM):
    """Breaks the contract: one number for every batch of pages."""

    def expected_total(self, grades):
        return float(self.inner.expected_total(grades).sum())


class LambdaAgain:
    """The built-in LambdaMART, as an outside ranker."""

    def __init__(self, params=None, feature_names=None) -> None:
        self.inner = LambdaMART(params, feature_names)

    def fit(self, X, y, group, **kwargs):
        self.inner.fit(X, y, group, **kwargs)

    def score(self, X):
        return self.inner.score(X)


class PairScores(LambdaAgain):
    """Breaks the contract: two scores per row."""

    def score(self, X):
        return np.zeros((len(X), 2))


class Untied(pt.Transformer):
    """One of ltrr's arms with its ties broken once, in a fixed order (by an MD5 of the
    docno), scored ``1000 - rank``: the same top ``k`` whoever cuts it, so the loop (which
    breaks ties by seeded keys) and a selector (which takes the arm's own order) see the same
    candidates. Counts the queries of every call in ``UNTIED_CALLS[base]``."""

    def __init__(self, dataset, base: str = "lexical") -> None:
        from ltrr.arms import build_arm

        self.base = base
        self.arm = build_arm(base, dataset, num_results=1000)

    def transform(self, queries):
        import hashlib

        UNTIED_CALLS.setdefault(self.base, []).append(len(queries))
        res = self.arm.transform(queries)
        res = res.assign(_key=[hashlib.md5(str(d).encode()).hexdigest() for d in res["docno"]])
        res = res.sort_values(["qid", "score", "_key"], ascending=[True, False, True],
                              kind="stable")
        res["rank"] = res.groupby("qid", sort=False).cumcount()
        res["score"] = 1000.0 - res["rank"]
        return res.drop(columns="_key").reset_index(drop=True)


UNTIED_CALLS: dict[str, list[int]] = {}
