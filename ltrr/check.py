"""``ltrr check module:Name``: run a component through its kind's contract on a tiny world.

scikit-learn gives its third parties ``check_estimator``; this is ltrr's. A plugin author
learns what a policy, an arm, an online arm, a ranker or a click model must do
(:mod:`ltrr.contracts`, ``docs/plugins.md``) from a list of every violation, each one line
naming the check, what was expected and what was seen, instead of from a run that stops at the
first bad step. The world is built in memory in about a second: a plan space of three plans over
two arms, fifty seeded contexts and rewards, a corpus of a dozen documents with three queries,
a few query groups of random features, two pages of every grade.

- policy: built as ltrr builds it (``Policy(plans, n_features, random_state, reward_range,
  **params)``); ``choose`` returns ``(plan, propensity)`` with a plan in range and a propensity
  in (0, 1]; ``probabilities`` (when it has it) is a distribution, of which the propensity is
  the chosen plan's value; ``update`` takes the rewards (and ``arm_rewards`` when it declares
  ``uses_arm_rewards``); an outside policy does not declare ``uses_truth``; built twice with
  the same seed it makes the same fifty choices.
- arm: built over the tiny corpus (``dataset=`` when its signature takes it), asked through
  ``fuse_rank_cutoff(k)`` when it has it; ``transform`` returns a frame with ``qid``, ``docno``
  and a finite ``score``, only for the queries asked, no document twice for a query, at most
  ``k`` per query when it was asked for ``k``, the same frame when asked twice.
- online arm: ``reset``, ``ranked`` (or ``search``) of at most ``k``, ``update`` with a click,
  and ``reset`` gives back the first ranking.
- ranker: ``fit`` on graded labels (and on clicks with ``weight`` and ``position``), ``score``
  of shape ``(n,)``, finite, the same when trained twice.
- click model: ``expected_clicks`` in [0, 1] of the pages' shape, ``expected_total`` its sum,
  ``sample`` 0/1 of the page's length from the generator given (the same for the same seed,
  with frequencies near the expected clicks), no click on an empty slot.

Built-in arms need an index over a real corpus and are not checked here (ltrr's tests run
them); every other built-in (``linucb``, ``lambdamart``, ``pbm``...) passes. This module sits
high in the house (it builds a world from the selection, arms, ranking and simulation rooms);
nothing in ltrr imports it but the command line and :mod:`ltrr.testing`.
"""

from __future__ import annotations

import argparse
import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ltrr.contracts import PLUGIN_KINDS, ability, conforms, kind_of, missing_methods
from ltrr.errors import InputError
from ltrr.registry import describe, import_object, is_import_path, where_raised

STEPS = 50  # choices a policy makes in the tiny world (twice, for determinism)
SEED = 0
N_FEATURES = 4
REWARD_RANGE = (0.0, 1.0)
DEPTH = 5  # the depth an arm is asked for
SLACK = 1e-9  # a probability computed as p / p.sum() may exceed 1 by rounding (as in the loop)


@dataclass(frozen=True)
class Violation:
    """One broken rule: which check, what the contract expects and what the component did."""

    check: str
    expected: str
    seen: str

    def __str__(self) -> str:
        return f"{self.check}: expected {self.expected}; got {self.seen}"


@dataclass
class Report:
    """What :func:`check` found: the checks passed and every violation (the first of each
    check: a rule broken at every step is one line)."""

    target: str
    kind: str
    passed: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def expect(self, check: str, ok: bool, expected: str, seen: str | Callable[[], str]) -> bool:
        """Record the outcome of ``check`` (``seen`` is made only when it failed); a check
        that failed once stays failed. Returns ``ok``."""
        failed = {v.check for v in self.violations}
        if not ok and check not in failed:
            self.violations.append(Violation(check, expected, seen() if callable(seen) else seen))
            if check in self.passed:
                self.passed.remove(check)
        elif ok and check not in failed and check not in self.passed:
            self.passed.append(check)
        return ok

    def raised(self, check: str, expected: str, err: BaseException) -> None:
        """``check`` failed because the component raised ``err``."""
        self.expect(check, False, expected, f"it raised {where_raised(err)}")

    def lines(self) -> list[str]:
        """The report as ``ltrr check`` prints it."""
        head = f"'{self.target}' ({self.kind})"
        if self.ok:
            return [f"{head}: passed {len(self.passed)} checks"]
        return [f"{head}: {len(self.violations)} violation(s), {len(self.passed)} checks passed",
                *(f"  {v}" for v in self.violations)]

    def __str__(self) -> str:
        return "\n".join(self.lines())


# -- which component, of which kind -----------------------------------------------------------
def _registries() -> dict[str, Any]:
    """Each plugin kind's registry (imported here: the checker is the one place needing all)."""
    from ltrr.arms import REGISTRY as arms
    from ltrr.ranking.learned import REGISTRY as rankers
    from ltrr.selection.policies import REGISTRY as policies
    from ltrr.simulation.clicks import REGISTRY as clicks

    return {"policy": policies, "arm": arms, "online arm": arms, "ranker": rankers,
            "click model": clicks}


def _kind_of_name(name: str, registries: dict[str, Any]) -> str:
    """The kind whose registry knows ``name`` (a built-in, a registered name or an entry
    point); InputError when none does."""
    for kind in ("policy", "arm", "ranker", "click model"):
        try:
            registries[kind].resolve(name)
        except InputError:
            continue
        return kind
    raise InputError(f"unknown component '{name}': not a built-in or entry point of any kind, "
                     "nor an import path module:Name")


def resolve(target: object, kind: str | None = None) -> tuple[object, str, bool]:
    """``(component, kind, builtin)`` for ``target``: an object, or a name resolved through the
    kind's registry (a built-in name, a registered name, ``module:Name`` or an entry point).
    The kind is inferred from the protocols it conforms to when not given; InputError when
    it cannot be (a factory function: give the kind) or the name is unknown."""
    kind = kind_of(kind).name if kind is not None else None
    if not isinstance(target, str):
        return target, kind or infer_kind(target, describe(target)), False
    registries = _registries()
    single = target.startswith("single:")  # ltrr's single-arm policies, not an import path
    if kind is None and single:
        kind = "policy"
    elif kind is None and not is_import_path(target):
        kind = _kind_of_name(target, registries)
    if kind is None:
        obj = import_object(target, "component")
        return obj, infer_kind(obj, target), False
    if kind == "policy":
        from ltrr.selection.policies import policy_class

        obj = policy_class(target)
    else:
        obj = registries[kind].resolve(target)
    builtin = registries[kind].is_builtin(target) or (kind == "policy" and single)
    return obj, kind, builtin


def infer_kind(obj: object, label: str) -> str:
    """The one plugin kind whose protocol ``obj`` (a class or an object) conforms to; an
    online arm is also an arm, and is checked as the online one."""
    fits = [k for k in PLUGIN_KINDS if conforms(obj, k)]
    if "online arm" in fits:
        fits = ["online arm"]
    if len(fits) == 1:
        return fits[0]
    kinds = ", ".join(k.replace(" ", "-") for k in PLUGIN_KINDS)
    if not fits:
        raise InputError(f"'{label}' is {describe(obj)}, which has the methods of no kind's "
                         f"contract; name its kind with --kind ({kinds})")
    raise InputError(f"'{label}' has the methods of kinds {', '.join(fits)}; name one with "
                     "--kind")


# -- the tiny world ---------------------------------------------------------------------------
def tiny_plans():
    """Three plans over arms ``a`` and ``b`` with a budget of 10: each alone, and both."""
    from ltrr.selection.plans import PlanSpace

    return PlanSpace.from_config(["a", "b"], 10, {"single": True, "union": True}, "<ltrr check>")


DOCS = [
    ("d01", "Blue in Green", "a slow jazz ballad on piano"),
    ("d02", "So What", "modal jazz with trumpet and saxophone"),
    ("d03", "Giant Steps", "fast jazz saxophone changes"),
    ("d04", "Clair de Lune", "a quiet piano piece"),
    ("d05", "Bolero", "an orchestral crescendo"),
    ("d06", "Take Five", "jazz in five four time"),
    ("d07", "Gymnopedie", "slow calm piano"),
    ("d08", "Spain", "latin jazz on electric piano"),
    ("d09", "The Four Seasons", "baroque violin concertos"),
    ("d10", "Naima", "a jazz ballad for saxophone"),
    ("d11", "Air on the G String", "baroque strings, slow"),
    ("d12", "Round Midnight", "a late night jazz standard"),
]


def tiny_dataset():
    """A dozen documents (``docno``, ``title``, ``text``), three queries and their qrels."""
    from ltrr.datasets.base import Dataset

    docs = [{"docno": d, "title": t, "text": x} for d, t, x in DOCS]
    topics = pd.DataFrame({"qid": ["q1", "q2", "q3"],
                           "query": ["slow piano", "jazz saxophone", "baroque violin"]})
    qrels = pd.DataFrame({"qid": ["q1", "q1", "q2", "q2", "q3"],
                          "docno": ["d04", "d07", "d03", "d10", "d09"], "label": [2, 1, 2, 1, 2]})
    return Dataset(id="ltrr-check:tiny", docs=lambda: iter([dict(d) for d in docs]),
                   topics=topics, qrels=qrels, text_fields=["title", "text"],
                   fields=["docno", "title", "text"], num_docs=len(docs))


# -- policies ---------------------------------------------------------------------------------
def _training_set(plans):
    """A few training examples for a policy that learns before the stream."""
    from ltrr.selection.policies.router import TrainingSet

    rng = np.random.default_rng([SEED, 1])
    contexts = np.hstack([rng.normal(size=(12, N_FEATURES - 1)), np.ones((12, 1))])
    return TrainingSet(tuple(f"t{i}" for i in range(12)),
                       tuple(f"f{i}" for i in range(N_FEATURES)), contexts,
                       rng.uniform(*REWARD_RANGE, size=(12, len(plans))), tuple(plans.ids),
                       {"source": "ltrr check"})


def _build_policy(obj, name: str, builtin: bool, plans, params: dict, report: Report):
    """The policy built with seed :data:`SEED`, or None (the failure reported)."""
    try:
        if builtin:
            from ltrr.selection.policies import build_policy

            return build_policy(name, params, plans, n_features=N_FEATURES, random_state=SEED,
                                reward_range=REWARD_RANGE)
        if not callable(obj):
            return obj  # an instance: checked as it is (determinism needs a class)
        return obj(plans, N_FEATURES, SEED, REWARD_RANGE, **params)
    except InputError:  # ltrr refused the params given (a built-in's): bad input, not a violation
        raise
    except Exception as err:
        report.raised("build", "Policy(plans, n_features, random_state, reward_range, **params)"
                               " to build a policy", err)
        return None


def _play(policy, plans, report: Report, builtin: bool) -> list[tuple[int, float]]:
    """:data:`STEPS` choices and updates in the tiny world; each one's ``(plan, propensity)``
    (stopping at a choice that is not one). Only ltrr's oracle is given the truth."""
    rng = np.random.default_rng([SEED, 2])
    contexts = np.hstack([rng.normal(size=(STEPS, N_FEATURES - 1)), np.ones((STEPS, 1))])
    rewards = rng.uniform(*REWARD_RANGE, size=(STEPS, len(plans)))
    truths = rng.uniform(*REWARD_RANGE, size=(STEPS, len(plans)))
    reads = ability(policy, "policy", "uses_context")
    truth = builtin and ability(policy, "policy", "uses_truth")
    exposes = ability(policy, "policy", "probabilities")
    credits = ability(policy, "policy", "uses_arm_rewards")
    n, trace = len(plans), []
    for step in range(STEPS):
        context = contexts[step] if reads else np.zeros(N_FEATURES)
        p = None
        if exposes:
            try:
                p = np.asarray(policy.probabilities(context, truth=truths[step]) if truth
                               else policy.probabilities(context), dtype=float)
            except NotImplementedError:
                exposes = False  # a policy may say it cannot
            except Exception as err:
                report.raised("probabilities", "the distribution choose() draws from", err)
                exposes = False
        try:
            out = policy.choose(context, truth=truths[step]) if truth else policy.choose(context)
        except Exception as err:
            report.raised("choose", "(plan_index, propensity)", err)
            return trace
        if not report.expect("choose.returns", isinstance(out, tuple) and len(out) == 2,
                             "a tuple (plan_index, propensity)", f"{out!r} at step {step}"):
            return trace
        plan, prop = out
        integer = isinstance(plan, (int, np.integer)) and not isinstance(plan, (bool, np.bool_))
        if not report.expect("choose.plan", integer and 0 <= plan < n,
                             f"an integer plan index in 0..{n - 1}",
                             f"plan {plan!r} at step {step}"):
            return trace
        number = isinstance(prop, (int, float, np.integer, np.floating)) \
            and not isinstance(prop, (bool, np.bool_))
        report.expect("choose.propensity",
                      number and np.isfinite(prop) and 0 < prop <= 1 + SLACK,
                      "a propensity in (0, 1], the probability of the chosen plan",
                      f"{prop!r} for plan {plan} at step {step}")
        if p is not None:
            shaped = report.expect("probabilities.shape", p.shape == (n,),
                                   f"one probability per plan, shape ({n},)",
                                   f"shape {p.shape} at step {step}")
            if shaped:
                report.expect("probabilities.sum",
                              bool(np.isfinite(p).all() and (p >= 0).all()
                                   and abs(p.sum() - 1) <= 1e-6),
                              "probabilities >= 0 summing to 1",
                              f"{np.round(p, 6).tolist()} (sum {p.sum():.6g}) at step {step}")
                if number:
                    report.expect("probabilities.propensity", bool(np.isclose(p[plan], prop)),
                                  "choose()'s propensity to be probabilities()[plan]",
                                  f"{prop!r} for plan {plan}, probabilities() gave "
                                  f"{p[plan]:.6g} at step {step}")
        arm_rewards = ({a: float(rewards[step, plan]) / len(plans[plan].arms)
                        for a in plans[plan].arms} if credits else None)
        try:
            policy.update(context, int(plan), float(rewards[step, plan]), arm_rewards)
        except Exception as err:
            report.raised("update", "update(context, plan, reward, arm_rewards) to learn", err)
            return trace
        report.expect("update", True, "", "")
        trace.append((int(plan), float(prop) if number else float("nan")))
    return trace


def check_policy(obj, name: str, builtin: bool, params: dict, report: Report) -> None:
    """A policy built twice with the same seed, each playing :data:`STEPS` steps (module doc)."""
    plans = tiny_plans()

    def made():
        policy = _build_policy(obj, name, builtin, plans, params, report)
        if policy is None:
            return None
        if ability(policy, "policy", "uses_training") and callable(getattr(policy, "fit", None)):
            try:
                policy.fit(_training_set(plans))
            except Exception as err:
                report.raised("fit", "fit(training) to learn the training examples", err)
                return None
        return policy

    policy = made()
    if policy is None:
        return
    missing = missing_methods(policy, "policy")
    if not report.expect("methods", not missing, "methods choose and update",
                         lambda: f"{describe(policy)} without {', '.join(missing)}"):
        return
    report.expect("uses_truth", builtin or not ability(policy, "policy", "uses_truth"),
                  "no uses_truth on an outside policy (the simulator's truth is the oracle's)",
                  "uses_truth = True")
    first = _play(policy, plans, report, builtin)
    if not (builtin or callable(obj)) or len(first) < STEPS:
        return  # an instance cannot be built again; a broken run has nothing to compare
    again = made()
    if again is None:
        return
    second = _play(again, plans, Report(report.target, report.kind), builtin)
    differ = next((i for i, (x, y) in enumerate(zip(first, second)) if x != y), None)
    report.expect("determinism", differ is None and len(second) == len(first),
                  f"the same {STEPS} choices when built twice with random_state={SEED}",
                  lambda: f"(plan, propensity) {first[differ]} then {second[differ]} at step "
                          f"{differ}" if differ is not None else "a shorter second run")


# -- arms -------------------------------------------------------------------------------------
def _build_over(obj, dataset, params: dict, what: str, report: Report):
    """``obj`` built over the tiny dataset as ltrr builds an outside arm (an instance as it
    is); None when it fails (reported)."""
    from ltrr.arms.base import Arm

    if not callable(obj) or (not inspect.isclass(obj) and conforms(obj, "arm")):
        return obj
    try:
        if inspect.isclass(obj) and issubclass(obj, Arm):
            return obj(dataset, **params)
        try:
            takes = "dataset" in inspect.signature(obj).parameters
        except (TypeError, ValueError):
            takes = False
        return obj(dataset=dataset, **params) if takes else obj(**params)
    except Exception as err:
        report.raised("build", what, err)
        return None


def _ranking(transformer, queries: pd.DataFrame, report: Report) -> pd.DataFrame | None:
    """The frame ``transform`` returned, or None (what went wrong reported)."""
    try:
        out = transformer.transform(queries)
    except Exception as err:
        report.raised("transform", "transform(queries) to return a ranking", err)
        return None
    if not report.expect("transform.frame", isinstance(out, pd.DataFrame),
                         "a ranking DataFrame (qid, docno, score[, rank])", lambda: describe(out)):
        return None
    return out


def check_arm(obj, name: str, builtin: bool, params: dict, report: Report) -> None:
    """A static arm over the tiny corpus, asked for two of its three queries (module doc)."""
    if builtin:
        raise InputError(f"arm '{name}' is a built-in arm, which needs an index over a real "
                         "corpus: ltrr's own tests check it; ltrr check runs outside arms")
    dataset = tiny_dataset()
    transformer = _build_over(obj, dataset, params, "a transformer built over a corpus "
                              "(dataset=) with the given params", report)
    if transformer is None:
        return
    missing = missing_methods(transformer, "arm")
    if not report.expect("methods", not missing, "a PyTerrier transformer (method transform)",
                         lambda: describe(transformer)):
        return
    asked = transformer
    cut = ability(transformer, "arm", "fuse_rank_cutoff")
    if cut:
        try:
            fused = transformer.fuse_rank_cutoff(DEPTH)
        except Exception as err:
            report.raised("fuse_rank_cutoff", f"fuse_rank_cutoff({DEPTH}) to return the arm at "
                                              "that depth (or None)", err)
            return
        asked = transformer if fused is None else fused
        cut = fused is not None
    queries = dataset.topics[["qid", "query"]].iloc[:2].copy()  # q3 is not asked
    out = _ranking(asked, queries, report)
    if out is None:
        return
    missing = [c for c in ("qid", "docno", "score") if c not in out.columns]
    if not report.expect("transform.columns", not missing, "columns qid, docno, score",
                         lambda: f"a frame without {', '.join(missing)} (columns "
                                 f"{list(out.columns)})"):
        return
    qids = out["qid"].astype(str)
    stray = sorted(set(qids) - set(queries["qid"]))
    report.expect("transform.qids", not stray, "results only for the qids asked (q1, q2)",
                  f"results for {stray}")
    scores = pd.to_numeric(out["score"], errors="coerce").to_numpy(dtype=float)
    report.expect("transform.score", bool(np.isfinite(scores).all()), "finite scores",
                  lambda: f"{out['score'][~np.isfinite(scores)].iloc[0]!r}")
    twice = pd.Series(list(zip(qids, out["docno"].astype(str)))).duplicated()
    report.expect("transform.duplicates", not twice.any(), "each docno at most once per qid",
                  lambda: f"{tuple(pd.Series(list(zip(qids, out['docno'])))[twice].iloc[0])} "
                          "twice")
    if cut:
        most = int(qids.value_counts().max()) if len(qids) else 0
        report.expect("transform.depth", most <= DEPTH,
                      f"at most {DEPTH} results per query after fuse_rank_cutoff({DEPTH})",
                      f"{most} for a query")
    again = _ranking(asked, queries, Report(report.target, report.kind))
    same = again is not None and list(again.columns) == list(out.columns) and \
        again.reset_index(drop=True).equals(out.reset_index(drop=True))
    report.expect("transform.determinism", same, "the same ranking when asked twice",
                  "a different frame")


def _online_list(arm, query: str) -> list[str]:
    """An online arm's top :data:`DEPTH` docnos for ``query``, by ``ranked`` or ``search``."""
    if ability(arm, "online arm", "ranked"):
        docnos, scores = arm.ranked(query, DEPTH)
        if len(docnos) != len(scores):
            raise ValueError(f"ranked() gave {len(docnos)} docnos and {len(scores)} scores")
        return [str(d) for d in docnos]
    return [str(d) for d, _ in arm.search(query, DEPTH)]


def check_online_arm(obj, name: str, builtin: bool, params: dict, report: Report) -> None:
    """An online arm over the tiny corpus: rank, learn a click, reset, rank (module doc)."""
    if builtin:
        raise InputError(f"arm '{name}' is a built-in arm: ltrr's own tests check it; ltrr "
                         "check runs outside online arms")
    dataset = tiny_dataset()
    arm = _build_over(obj, dataset, params, "the arm built as cls(dataset, **params)", report)
    if arm is None:
        return
    missing = missing_methods(arm, "online arm")
    if not report.expect("methods", conforms(arm, "online arm"),
                         "methods update, reset and ranked or search",
                         lambda: f"{describe(arm)} without "
                                 f"{', '.join(missing) or 'ranked or search'}"):
        return
    query = str(dataset.topics["query"].iloc[0])
    try:
        if ability(arm, "online arm", "load"):
            arm.load()
        arm.reset()
        first = _online_list(arm, query)
    except Exception as err:
        report.raised("ranking", f"reset(), then ranked(query, {DEPTH}) or search(query, "
                                 f"{DEPTH})", err)
        return
    report.expect("ranking.depth", len(first) <= DEPTH, f"at most {DEPTH} documents",
                  f"{len(first)}")
    clicked = first[-1:] or [DOCS[-1][0]]
    try:
        arm.update(query, clicked)
        _online_list(arm, query)
    except Exception as err:
        report.raised("update", "update(query, clicked_docnos) to learn", err)
        return
    report.expect("update", True, "", "")
    try:
        arm.reset()
        after = _online_list(arm, query)
    except Exception as err:
        report.raised("reset", "reset() to forget every update", err)
        return
    report.expect("reset", after == first, "the first ranking again after reset()",
                  f"{after} (first: {first})")


# -- rankers ----------------------------------------------------------------------------------
def check_ranker(obj, name: str, builtin: bool, params: dict, report: Report) -> None:
    """A ranker trained on six groups of ten random rows, twice (module doc)."""
    rng = np.random.default_rng([SEED, 3])
    X = rng.normal(size=(60, N_FEATURES))
    y = rng.integers(0, 3, size=60)
    group = np.full(6, 10)
    clicks = rng.integers(0, 2, size=60)
    position = np.tile(np.arange(10), 6)
    names = [f"f{i}" for i in range(N_FEATURES)]

    def trained(check: str, **kwargs) -> np.ndarray | None:
        try:
            ranker = obj(params or None, names) if callable(obj) else obj
            labels = clicks if kwargs else y
            ranker.fit(X, labels, group, **kwargs)
            return np.asarray(ranker.score(X), dtype=float)
        except Exception as err:
            report.raised(check, f"Ranker(params, feature_names).fit(X, y, group"
                                 f"{''.join(f', {k}=...' for k in kwargs)}) then score(X)", err)
            return None

    scores = trained("fit")
    if scores is None:
        return
    report.expect("fit", True, "", "")
    if report.expect("score.shape", scores.shape == (len(X),), f"shape ({len(X)},), one score "
                     "per row", f"shape {scores.shape}"):
        report.expect("score.finite", bool(np.isfinite(scores).all()), "finite scores",
                      "a score that is not a finite number")
        again = trained("fit")
        report.expect("determinism", again is not None and again.shape == scores.shape
                      and np.array_equal(again, scores, equal_nan=True),
                      "the same scores when trained twice on the same rows", "other scores")
    trained("fit.weight", weight=np.where(clicks == 1, 1.5, 1.0))
    trained("fit.position", position=position)
    for check in ("fit.weight", "fit.position"):
        report.expect(check, True, "", "")


# -- click models -----------------------------------------------------------------------------
def _build_clicks(obj, name: str, builtin: bool, params, report: Report):
    """The click model built as ltrr builds it (a built-in with a parameter set name,
    ``navigational`` when none is given), or None (the failure reported)."""
    try:
        if builtin:
            from ltrr.simulation.clicks import make_click_model

            return make_click_model(name, params or "navigational")  # a table is refused
        if not callable(obj) or not inspect.isclass(obj) and conforms(obj, "click model"):
            return obj
        return obj(**params) if isinstance(params, dict) else obj(params)
    except InputError:  # ltrr refused the params given (a built-in's): bad input, not a violation
        raise
    except Exception as err:
        report.raised("build", "Model(**params) (a table) or Model(params) (a string)", err)
        return None


def check_click_model(obj, name: str, builtin: bool, params, report: Report) -> None:
    """A click model on three pages (every grade, no relevance, an empty slot inside) and
    2,000 samples of each (module doc)."""
    clicks = _build_clicks(obj, name, builtin, params, report)
    if clicks is None:
        return
    missing = missing_methods(clicks, "click model")
    if not report.expect("methods", not missing, "methods expected_clicks, expected_total, "
                         "sample", lambda: f"{describe(clicks)} without {', '.join(missing)}"):
        return
    grades = np.array([[4, 3, 2, 1, 0, -1], [0, 0, 0, 0, 0, 0], [2, 4, -1, 1, 3, 0]])
    try:
        expected = np.asarray(clicks.expected_clicks(grades), dtype=float)
    except Exception as err:
        report.raised("expected_clicks", "expected clicks per position", err)
        return
    if report.expect("expected_clicks.shape", expected.shape == grades.shape,
                     f"the pages' shape {grades.shape}", f"shape {expected.shape}"):
        report.expect("expected_clicks.range", bool(np.isfinite(expected).all()
                                                    and ((expected >= 0) & (expected <= 1)).all()),
                      "click probabilities in [0, 1]", f"{np.round(expected, 4).tolist()}")
        report.expect("expected_clicks.empty", bool((expected[grades < 0] == 0).all()),
                      "no click on an empty slot (grade -1)",
                      f"{expected[grades < 0].tolist()}")
    try:
        total = np.asarray(clicks.expected_total(grades), dtype=float)
    except Exception as err:
        report.raised("expected_total", "the expected clicks of every page", err)
        total = None
    if total is not None and report.expect("expected_total.shape", total.shape == grades.shape[:1],
                                           f"shape {grades.shape[:1]}", f"shape {total.shape}"):
        if expected.shape == grades.shape:
            report.expect("expected_total.sum", bool(np.allclose(total, expected.sum(axis=-1))),
                          f"the sum of expected_clicks, {np.round(expected.sum(-1), 6).tolist()}",
                          f"{np.round(total, 6).tolist()}")
    draws = []
    try:
        for page in grades:
            draws.append([np.asarray(clicks.sample(page, np.random.default_rng([SEED, i])))
                          for i in range(2000)])
        repeat = np.asarray(clicks.sample(grades[0], np.random.default_rng([SEED, 0])))
        sampled = np.array(draws[0])
    except Exception as err:  # its own error, or pages of clicks of different lengths
        report.raised("sample", "sample(page, rng) -> 0/1 clicks", err)
        return
    if not report.expect("sample.shape", sampled.shape[1:] == grades.shape[1:]
                         and np.isin(sampled, (0, 1)).all(),
                         f"{grades.shape[1]} clicks of 0 or 1 for a page of {grades.shape[1]}",
                         f"{sampled[0].tolist()}"):
        return
    report.expect("sample.seeded", np.array_equal(repeat, sampled[0]),
                  "the same clicks from a generator with the same seed (every draw from rng)",
                  f"{repeat.tolist()} then {sampled[0].tolist()}")
    empty = any(np.asarray(d)[:, page < 0].any() for d, page in zip(draws, grades))
    report.expect("sample.empty", not empty, "no click on an empty slot (grade -1)",
                  "a click on grade -1")
    if expected.shape == grades.shape:
        means = np.array([np.mean(d, axis=0) for d in draws])
        off = np.abs(means - expected).max()
        report.expect("sample.frequencies", off < 0.06,
                      "click frequencies over 2,000 samples near expected_clicks",
                      f"{np.round(means, 3).tolist()} against {np.round(expected, 3).tolist()}")


CHECKERS = {"policy": check_policy, "arm": check_arm, "online arm": check_online_arm,
            "ranker": check_ranker, "click model": check_click_model}


def check(target: object, kind: str | None = None, params: dict | str | None = None) -> Report:
    """Run ``target`` (a class, factory or object, or a name: built-in, registered,
    ``module:Name`` or entry point) through its kind's contract; every violation found.

    Raises:
        InputError: an unknown name or kind, a kind that cannot be inferred, params of the
            wrong type, or a built-in arm (see the module doc).
    """
    obj, kind, builtin = resolve(target, kind)
    if (params is not None and not isinstance(params, (dict, str))) or \
            (isinstance(params, str) and kind != "click model"):
        raise InputError(f"params must be a table (a click model's may be a string), got "
                         f"{params!r}")
    label = target if isinstance(target, str) else describe(target)
    report = Report(label, kind)
    CHECKERS[kind](obj, label, builtin, {} if params is None else params, report)
    return report


# -- the command ------------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ltrr check`` to the command line."""
    parser = subparsers.add_parser(
        "check", help="run a policy, arm, ranker or click model through its contract",
        description="Run a component (module:Name, a registered name or an entry point) "
                    "through its kind's contract on a tiny world; print every violation "
                    "(exit 2) or the number of checks passed.")
    parser.add_argument("target", help="module:Name, a built-in name or an entry point")
    parser.add_argument("--kind", choices=[k.replace(" ", "-") for k in PLUGIN_KINDS],
                        help="the kind (inferred from its methods when left out)")
    parser.add_argument("--params", default=None,
                        help="JSON: the hyper-parameters or constructor keys (a table); a "
                             "click model's may be a string")
    parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """``ltrr check``: print the report; exit 0 when it passed, 2 on any violation."""
    params = None
    if args.params is not None:
        try:
            params = json.loads(args.params)
        except json.JSONDecodeError as err:
            raise InputError(f"--params is not JSON: {err}") from None
    report = check(args.target, args.kind, params)
    print(report)
    return 0 if report.ok else 2
