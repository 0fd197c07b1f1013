"""The selector as a PyTerrier transformer: per query, which arms to call and how deep, learnt.

    selector = Selector({"lexical": bm25, "dense": dense}, policy="linucb", budget=50)
    pipeline = selector >> Fusion(num_results=10)        # or >> LearnedRanker(model, features)
    results = pipeline.transform(topics)
    selector.learn(feedback)            # qid, docno, click (or label) of the pages shown
    selector.save("selector.pkl")       # later: Selector.load("selector.pkl", arms)

It is the loop's decision step outside the simulator, made of the same code: the plan space
(:meth:`PlanSpace.from_config <ltrr.selection.plans.PlanSpace.from_config>`, a benchmark's
``[plans]`` table), the policy (:func:`~ltrr.selection.policies.build_policy`: any ltrr policy,
or an outside one by ``module:Name``), the context features
(:meth:`ContextFeaturizer.vectors <ltrr.selection.context.ContextFeaturizer.vectors>`, the
pre-retrieval groups), the reward (:func:`~ltrr.kernel.rewards.page_reward` of the declared
reward, minus the plan's price from :class:`~ltrr.simulation.prices.Prices`). It imports
no room above ``selection`` (the simulation and ranking rooms import this one): prices are
given as an object, pages for ``fit`` are fused by ``pyterrier_alpha``'s RRF.
``tests/selection/test_selector.py`` feeds it the stream and the clicks of a loop run and checks that
it makes the loop's choices with the loop's propensities.

**transform** takes a topics frame (``qid, query`` and any context columns), computes each
query's context, asks the policy for a plan, and calls each arm once, for the queries whose
plan uses it, at the plan's depth (``(arm % k).compile()``: PyTerrier fuses the cut into
arms that support it, so a lexical or dense arm asks its index for ``k``). It returns the
union of only the chosen arms' results, a ranking frame with ``arm`` (which arm returned the
row), ``plan`` and ``propensity`` columns: what :class:`~ltrr.ranking.fusion.Fusion` and
:class:`~ltrr.ranking.pipeline.RankFeatures` take. Every decision is appended to the
decision log (:mod:`ltrr.decision_log`, ``awaiting_feedback`` until learnt).

**learn** takes the feedback on the pages shown, ``qid, docno`` and ``click`` (0/1, in page
order or with ``rank``; ``satisfied`` for that reward) or ``label`` (a judged page: its
reward is the page's expected reward under ``users``), pairs each qid with its oldest
decision awaiting feedback, pays the policy the page's reward minus the plan's price (and
the semi-bandit each arm's share), lets the arms that learn (the memory arm) learn the
clicked documents, and completes the decisions' log rows. Decisions are learnt in the order
they were made; a batch of queries is chosen with one policy state, as a deployed selector
would.

**fit** warm-starts the policy offline from judgements: every plan's page (the RRF of its
arms' results, ``pyterrier_alpha.fusion.rr_fusion`` as :class:`~ltrr.ranking.fusion.Fusion`
calls it) on each topic, and its expected reward under ``users`` minus its price: the
examples of the ``router`` and ``linucb_warm`` (their ``fit``), or a full-information update
of every plan for the other policies.

**save/load** keep the policy's state, the fitted features, the plan space, the settings,
the decisions awaiting feedback and the log, with ltrr's version; the arms are given again
to :meth:`Selector.load` (their indexes live in their own caches). A state file is a pickle:
load only files you trust.
"""

from __future__ import annotations

import pickle
from collections import deque
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyterrier as pt

from ltrr.decision_log import AWAITING, decision_table, write_decision_log
from ltrr.contracts import ability, missing_methods
from ltrr.errors import InputError
from ltrr.kernel.clicks import ClickModel, DependentClickModel, scale_grades
from ltrr.kernel.rewards import REWARD_CODES, expected_rewards, page_reward
from ltrr.paths import write_atomically
from ltrr.selection.context import PRE_RETRIEVAL_GROUPS, ContextFeaturizer
from ltrr.selection.plans import PlanSpace

STATE_FORMAT = "ltrr-selector/2"  # 2: the classes of issue 19's house (context.py, click models)
CLICK_COLUMNS = ("click", "clicks")


class Selector(pt.Transformer):
    """Choose, per query, which arms to call and how deep; learn from the pages' feedback.

    Args:
        arms: arm name -> PyTerrier retriever (queries -> ranking), in the plan space's order.
        policy: a policy name (``ltrr.selection.policies``; ``module:Name`` for an outside
            one) or a policy object over this plan space.
        budget: the candidate budget every plan stays within.
        plans: the plan space, as a benchmark's ``[plans]`` table (default: every arm alone
            and the union).
        params: the policy's hyper-parameters.
        features: context feature groups, from the pre-retrieval ones (``query``, ``idf``,
            ``memory``, ``context``).
        dataset: the collection (its corpus for ``idf``; its context columns and topics for
            ``context``).
        contexts: a frame ``qid, <context columns>`` the ``context`` group reads for queries
            whose topics frame lacks the columns; its values fit the encoding (one-hot levels,
            number ranges) when no dataset gives the topics.
        context_columns: the context columns (default: the dataset's, else ``contexts``').
        reward: what a page pays: ``clicks``, ``any_click``, ``first_click_rr``, ``satisfied``.
        users: the click model ``fit`` and judged (``label``) feedback value pages under.
        page: documents shown per query (the reward's range; ``fit``'s pages).
        k: the RRF constant of ``fit``'s pages.
        prices: what each plan costs: a :class:`~ltrr.simulation.prices.Prices` over ``arms``
            (default: nothing priced); a plan is priced as ranked by RRF.
        seed: the policy's seed.
        max_grade: the label that is grade 4 for ``users`` (default: the largest label of the
            qrels ``fit`` learns from; judged feedback needs one or the other).
        log: a Parquet file the decision log is written to after every transform and learn
            (the whole log, atomically: for a long deployment, write it when you need it with
            :meth:`write_log` instead).
    """

    def __init__(self, arms: Mapping[str, pt.Transformer], policy="linucb", *,
                 budget: int = 100, plans: dict | None = None, params: dict | None = None,
                 features: Sequence[str] = ("query",), dataset=None,
                 contexts: pd.DataFrame | None = None,
                 context_columns: Sequence[str] | None = None, reward: str = "clicks",
                 users: ClickModel | None = None, page: int = 10, k: int = 60,
                 prices=None, seed: int = 0,
                 max_grade: int | None = None, log: str | Path | None = None) -> None:
        self.arms = _check_arms(arms)
        if reward not in REWARD_CODES:
            raise InputError(f"unknown reward {reward!r} (choose from {', '.join(REWARD_CODES)})",
                             field="reward")
        self.settings = {"budget": int(budget), "plans": dict(plans or {}),
                         "params": dict(params or {}), "features": list(features),
                         "reward": reward, "users": users or DependentClickModel(),
                         "page": int(page), "k": int(k), "seed": int(seed),
                         "max_grade": max_grade}
        self.plans = PlanSpace.from_config(list(self.arms), budget, plans, file="Selector")
        self.prices = prices
        self.plan_cost = _plan_cost(prices, self.plans, list(self.arms))
        self.featurizer = _featurizer(features, dataset, self.arms, contexts, context_columns)
        self.contexts = None if contexts is None else contexts.assign(
            qid=contexts["qid"].astype(str)).set_index("qid")
        self.policy = _policy(policy, self.settings["params"], self.plans, self.featurizer.dim,
                              int(seed), self.reward_range)
        self.log = None if log is None else Path(log)
        self._rows: list[dict] = []  # the decision log, one dict per decision
        self._pending: dict[str, deque] = {}  # qid -> its decisions awaiting feedback (rows)
        self._cuts: dict[tuple[str, int], pt.Transformer] = {}

    # -- what it is ---------------------------------------------------------------------
    @property
    def reward_range(self) -> tuple[float, float]:
        """What a policy can be paid: the page's reward (its clicks, or 1) minus a price."""
        top = float(self.settings["page"]) if self.settings["reward"] == "clicks" else 1.0
        return -float(self.plan_cost.max()), top - float(self.plan_cost.min())

    @property
    def decisions(self) -> pd.DataFrame:
        """The decision log so far (``docs/decision-log.md``; ``awaiting_feedback`` marks the
        decisions not learnt yet, whose ``reward`` is empty)."""
        rows = self._rows
        frame = decision_table(
            qids=[r["qid"] for r in rows], queries=[r["query"] for r in rows],
            contexts=np.array([r["context"] for r in rows]).reshape(len(rows),
                                                                    self.featurizer.dim),
            feature_names=self.featurizer.names, plan_ids=self.plans.ids,
            plan=np.array([r["plan"] for r in rows], dtype=np.int64),
            propensity=[r["propensity"] for r in rows], reward=[r["reward"] for r in rows],
            clicks_total=[r["clicks_total"] for r in rows], cost=[r["cost"] for r in rows],
            probe_cost=np.zeros(len(rows)), arm_names=list(self.arms),
            drawn=np.array([r["drawn"] for r in rows]).reshape(len(rows), len(self.arms)),
            shown=[r["shown"] for r in rows], clicks=[r["clicks"] for r in rows],
            steps=np.array([r["step"] for r in rows], dtype=np.int64))
        frame[AWAITING] = np.array([r["awaiting"] for r in rows], dtype=bool)
        return frame

    def write_log(self, path: str | Path) -> None:
        """Write the decision log as Parquet, atomically (``ltrr ope`` reads it as it is)."""
        write_decision_log(self.decisions, Path(path))

    # -- deciding -----------------------------------------------------------------------
    def transform(self, topics: pd.DataFrame) -> pd.DataFrame:
        """The union of each query's chosen arms at the chosen depths (module doc)."""
        topics = self._topics(topics)
        X = self.featurizer.vectors(self._with_contexts(topics))
        if ability(self.policy, "policy", "uses_training") and not _fitted(self.policy):
            raise InputError(f"policy '{self.policy.name}' learns before it chooses: call "
                             "selector.fit(topics, qrels) first")
        chosen = [self.policy.choose(x) for x in X]
        plans = np.array([int(p) for p, _ in chosen], dtype=np.int64)
        depths = self.plans.depth_matrix()[plans]  # (n, A)
        frames = []
        for a, name in enumerate(self.arms):
            for depth in sorted(set(depths[:, a].tolist()) - {0}):
                asked = topics[depths[:, a] == depth]
                frames.append(self._call(name, depth, asked))
        cols = ["qid", "query", "docno", "score", "rank", "arm"]
        found = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        position = {q: i for i, q in enumerate(topics["qid"])}
        arm_at = {name: i for i, name in enumerate(self.arms)}
        found = found.assign(_q=found["qid"].map(position), _a=found["arm"].map(arm_at)) \
            .sort_values(["_q", "_a", "rank"], kind="stable").drop(columns=["_q", "_a"])
        plan_ids = np.asarray(self.plans.ids, dtype=object)
        found["plan"] = plan_ids[plans][found["qid"].map(position).to_numpy(np.int64)]
        found["propensity"] = np.array([float(q) for _, q in chosen])[
            found["qid"].map(position).to_numpy(np.int64)]
        self._record(topics, X, plans, chosen, found)
        return found.reset_index(drop=True)

    def _call(self, name: str, depth: int, asked: pd.DataFrame) -> pd.DataFrame:
        """Arm ``name``'s top ``depth`` for the queries ``asked``, tagged with the arm."""
        key = (name, depth)
        if key not in self._cuts:
            self._cuts[key] = (self.arms[name] % depth).compile()
        res = self._cuts[key].transform(asked.reset_index(drop=True))
        missing = [c for c in ("qid", "docno") if c not in res.columns]
        if missing:
            raise InputError(f"arm '{name}' returned a frame without column(s) "
                             f"{', '.join(missing)} (a ranking needs qid, docno, score, rank)",
                             field=missing[0])
        res = res.assign(qid=res["qid"].astype(str), docno=res["docno"].astype(str))
        if "rank" not in res.columns:
            res = pt.model.add_ranks(res)
        keep = [c for c in res.columns if c not in ("plan", "propensity", "arm")]
        return res[keep].assign(arm=name)

    def _record(self, topics: pd.DataFrame, X: np.ndarray, plans: np.ndarray,
                chosen: list, found: pd.DataFrame) -> None:
        """Append the decisions to the log and to the qids' decisions awaiting feedback."""
        union = {qid: rows for qid, rows in found.groupby("qid", sort=False)}
        empty = pd.DataFrame(columns=["docno", "arm"])
        for i, (qid, query) in enumerate(zip(topics["qid"], topics["query"].astype(str))):
            rows = union.get(qid, empty)
            retrieved: dict[str, list[str]] = {}
            for docno, arm in zip(rows["docno"], rows["arm"]):
                retrieved.setdefault(docno, []).append(arm)
            drawn = [int((rows["arm"] == name).sum()) for name in self.arms]
            self._pending.setdefault(qid, deque()).append(len(self._rows))
            self._rows.append({"step": len(self._rows), "qid": qid, "query": query,
                               "context": X[i].copy(), "plan": int(plans[i]),
                               "propensity": float(chosen[i][1]), "reward": np.nan,
                               "clicks_total": np.nan, "cost": float(self.plan_cost[plans[i]]),
                               "drawn": drawn, "shown": [], "clicks": [], "awaiting": True,
                               "retrieved": retrieved})
        # a query whose chosen arms found nothing shows an empty page: it earned nothing, known
        # now (the loop pays the same at its step)
        for at in range(len(self._rows) - len(topics), len(self._rows)):
            if not self._rows[at]["retrieved"]:
                self._settle(at, [], np.zeros(0, np.int64), 0.0, np.zeros(0))
        self._flush()

    # -- learning -----------------------------------------------------------------------
    def learn(self, feedback: pd.DataFrame) -> "Selector":
        """Pay the policy each page's reward and let online arms learn its clicks (module
        doc); InputError for feedback on a query or a document the selector did not produce,
        and nothing is learnt then."""
        pages = self._pages(feedback)
        code = REWARD_CODES[self.settings["reward"]]
        for at, page in pages:
            docnos = page["docno"].tolist()
            contribution = np.zeros(len(docnos))
            if "label" in page.columns:
                earned = self._judged(page["label"].to_numpy(), contribution)
                self._settle(at, docnos, None, earned, contribution)
            else:
                clicks = page["_click"].to_numpy(np.int64)
                earned = page_reward(code, clicks, int(clicks.sum()), _satisfied(page),
                                     contribution)
                self._settle(at, docnos, clicks, earned, contribution)
        self._flush()
        return self

    def _settle(self, at: int, docnos: list[str], clicks: np.ndarray | None, earned: float,
                contribution: np.ndarray) -> None:
        """Pay the policy decision ``at``'s reward (``earned`` minus the plan's price; the
        semi-bandit each arm's share of ``contribution``), let online arms learn the clicked
        documents (not from a judged page, ``clicks`` None), and complete its log row."""
        row = self._rows[at]
        reward = float(earned) - row["cost"]
        arm_rewards = None
        if ability(self.policy, "policy", "uses_arm_rewards"):
            arm_rewards = dict.fromkeys(self.plans[row["plan"]].arms, 0.0)
            for docno, share in zip(docnos, contribution):
                for arm in row["retrieved"][docno]:
                    arm_rewards[arm] += float(share)
        self.policy.update(row["context"], row["plan"], reward, arm_rewards)
        if clicks is not None:
            clicked = [d for d, c in zip(docnos, clicks) if c]
            for arm in self.arms.values():
                if not missing_methods(arm, "online arm"):
                    arm.update(row["query"], clicked)
        self._pending[row["qid"]].remove(at)
        del row["retrieved"]  # only feedback still to come is checked against it
        row.update(reward=reward, awaiting=False, shown=list(docnos),
                   clicks=[] if clicks is None else [int(c) for c in clicks],
                   clicks_total=np.nan if clicks is None else float(np.sum(clicks)))

    def _pages(self, feedback: pd.DataFrame) -> list[tuple[int, pd.DataFrame]]:
        """Each feedback page with the log row of its decision, in decision order; every
        problem found before anything is learnt."""
        if not isinstance(feedback, pd.DataFrame):
            raise InputError(f"feedback must be a DataFrame, got {type(feedback).__name__}")
        clicks = [c for c in CLICK_COLUMNS if c in feedback.columns]
        missing = [c for c in ("qid", "docno") if c not in feedback.columns]
        if missing or (not clicks and "label" not in feedback.columns):
            raise InputError("feedback needs columns qid, docno and click (0/1) or label; "
                             f"it has {', '.join(map(str, feedback.columns))}",
                             field=(missing or ["click"])[0])
        frame = feedback.reset_index(drop=True).assign(qid=feedback["qid"].astype(str).values,
                                                       docno=feedback["docno"].astype(str).values)
        if clicks:
            values = pd.to_numeric(frame[clicks[0]], errors="coerce")
            bad = np.flatnonzero(~values.isin([0, 1]).to_numpy())
            if len(bad):
                raise InputError(f"clicks must be 0 or 1; rows {_rows(bad)} are not",
                                 field=clicks[0], rows=_rows(bad))
            frame["_click"] = values.astype(np.int64)
        elif not pd.api.types.is_numeric_dtype(frame["label"]):
            raise InputError("labels must be numbers", field="label")
        if self.settings["reward"] == "satisfied" and "label" not in frame.columns \
                and "satisfied" not in frame.columns:
            raise InputError("the 'satisfied' reward needs a satisfied column (1 on the click "
                             "that satisfied the user)", field="satisfied")
        unknown = ~frame["qid"].map(lambda q: bool(self._pending.get(q))).to_numpy(bool)
        if unknown.any():
            qids = sorted(set(frame["qid"][unknown]))
            raise InputError(f"feedback for queries with no decision awaiting feedback: "
                             f"{', '.join(qids[:5])}{' ...' if len(qids) > 5 else ''}",
                             field="qid", rows=_rows(np.flatnonzero(unknown)))
        pages = []
        for qid, page in frame.groupby("qid", sort=False):
            at = self._pending[qid][0]
            produced = self._rows[at]["retrieved"]
            foreign = ~page["docno"].isin(list(produced)).to_numpy()
            if foreign.any():
                raise InputError(f"query {qid}: documents {', '.join(page['docno'][foreign][:5])} "
                                 "were not among the candidates the selector produced for it",
                                 field="docno", rows=_rows(page.index[foreign]))
            if page["docno"].duplicated().any():
                raise InputError(f"query {qid}: a document appears twice on its page",
                                 field="docno", rows=_rows(page.index[page["docno"].duplicated()]))
            if "rank" in page.columns:
                page = page.sort_values("rank", kind="stable")
            pages.append((at, page))
        return sorted(pages, key=lambda item: item[0])

    def _judged(self, labels: np.ndarray, contribution: np.ndarray) -> float:
        """A judged page's expected reward under ``users`` (its positions' shares unknown:
        the semi-bandit's credit goes to the positions by their expected clicks)."""
        users = self.settings["users"]
        grades = scale_grades(np.asarray(labels, dtype=int), self._max_grade())
        arrays = users.arrays(len(grades))
        value = expected_rewards(grades[np.newaxis].astype(np.int64),
                                 REWARD_CODES[self.settings["reward"]], *arrays)[0]
        expected = users.expected_clicks(grades[np.newaxis])[0]
        contribution[:] = expected * (value / expected.sum() if expected.sum() else 0.0)
        return float(value)

    def _max_grade(self) -> int:
        """The label users see as grade 4: ``max_grade``, or the largest label of the qrels
        ``fit`` learnt from; a judged page alone cannot say (its best label need not be the
        scale's top), so judged feedback without either is refused."""
        top = self.settings["max_grade"]
        if not top:
            raise InputError("judged feedback (label) needs the label users see as the top "
                             "grade: give Selector(..., max_grade=N), or fit() first",
                             field="label")
        return int(top)

    # -- warm start -----------------------------------------------------------------------
    def fit(self, topics: pd.DataFrame, qrels: pd.DataFrame) -> "Selector":
        """Warm-start the policy from judgements (module doc); returns ``self``."""
        from ltrr.selection.policies.router import TrainingSet

        topics = self._topics(topics)
        missing = [c for c in ("qid", "docno", "label") if c not in qrels.columns]
        if missing:
            raise InputError(f"qrels need columns qid, docno, label; missing {missing}",
                             field=missing[0])
        if ability(self.policy, "policy", "uses_arm_rewards"):
            raise InputError(f"policy '{self.policy.name}' learns from each arm's click credit, "
                             "which judgements do not give; warm it with learn() on clicks")
        X = self.featurizer.vectors(self._with_contexts(topics))
        if not self.settings["max_grade"]:  # the qrels' scale, for judged feedback later too
            self.settings["max_grade"] = max(int(qrels["label"].max()), 1)
        values = self.plan_values(topics, qrels)
        if ability(self.policy, "policy", "uses_training"):
            self.policy.fit(TrainingSet(tuple(topics["qid"]), tuple(self.featurizer.names), X,
                                        values, tuple(self.plans.ids),
                                        {"source": "Selector.fit", "topics": len(topics)}))
        else:
            for x, row in zip(X, values):
                for plan, value in enumerate(row):
                    self.policy.update(x, plan, float(value), None)
        return self

    def plan_values(self, topics: pd.DataFrame, qrels: pd.DataFrame) -> np.ndarray:
        """``(topics, plans)`` every plan's page value on each topic: the expected reward of
        its RRF page under ``users``, graded by ``qrels`` (0..4 as the loop scales them),
        minus its price."""
        import pyterrier_alpha as pta

        topics = self._topics(topics)
        s = self.settings
        depth = self.plans.depth_matrix()
        lists = {name: self._call(name, int(depth[:, a].max()), topics)
                 for a, name in enumerate(self.arms) if depth[:, a].max() > 0}
        labels = qrels["label"].astype(int).to_numpy()
        top = self.settings["max_grade"] or max(int(labels.max(initial=1)), 1)
        grade = dict(zip(zip(qrels["qid"].astype(str), qrels["docno"].astype(str)),
                         scale_grades(labels, top).tolist()))
        arrays = s["users"].arrays(s["page"])
        position = {q: i for i, q in enumerate(topics["qid"])}
        values = np.zeros((len(topics), len(self.plans)))
        for p in range(len(self.plans)):
            frames = [lists[name][lists[name]["rank"] < depth[p, a]].drop(columns="arm")
                      for a, name in enumerate(self.arms) if depth[p, a] > 0]
            pages = pta.fusion.rr_fusion(*frames, k=s["k"] + 1, num_results=s["page"])
            grades = np.full((len(topics), s["page"]), -1, dtype=np.int64)
            for qid, page in pages.groupby("qid", sort=False):
                ranked = page.sort_values("rank", kind="stable")["docno"].astype(str)
                grades[position[str(qid)], :len(ranked)] = [grade.get((str(qid), d), 0)
                                                            for d in ranked]
            values[:, p] = expected_rewards(grades, REWARD_CODES[s["reward"]], *arrays)
        return values - self.plan_cost

    # -- inputs -------------------------------------------------------------------------
    def _topics(self, topics: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(topics, pd.DataFrame):
            raise InputError(f"topics must be a DataFrame, got {type(topics).__name__}")
        missing = [c for c in ("qid", "query") if c not in topics.columns]
        if missing:
            raise InputError(f"the selector needs a topics frame with qid, query; missing "
                             f"{missing}", field=missing[0])
        topics = topics.reset_index(drop=True).assign(qid=topics["qid"].astype(str).values)
        twice = topics["qid"].duplicated()
        if twice.any():
            raise InputError(f"query {topics['qid'][twice].iloc[0]} appears twice in one call: "
                             "a query's results are told apart by qid", field="qid",
                             rows=_rows(np.flatnonzero(twice)))
        return topics

    def _with_contexts(self, topics: pd.DataFrame) -> pd.DataFrame:
        """The topics with their context columns (from the ``contexts`` frame where the
        topics lack them)."""
        if "context" not in self.featurizer.groups:
            return topics
        lacking = [c for c in self.featurizer.context_columns if c not in topics.columns]
        if not lacking:
            return topics
        if self.contexts is None:
            raise InputError(f"the topics lack context column(s) {', '.join(lacking)} and no "
                             "contexts frame was given", field=lacking[0])
        unknown = ~topics["qid"].isin(self.contexts.index)
        if unknown.any():
            raise InputError(f"no context for queries {', '.join(topics['qid'][unknown][:5])}",
                             field="qid", rows=_rows(np.flatnonzero(unknown)))
        return topics.join(self.contexts[lacking], on="qid")

    def _flush(self) -> None:
        if self.log is not None:
            self.write_log(self.log)

    # -- keeping it ---------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Keep the selector's state in ``path`` (written atomically; module doc)."""
        from ltrr import __version__

        state = {"format": STATE_FORMAT, "ltrr_version": __version__, "arms": list(self.arms),
                 "plan_ids": list(self.plans.ids), "settings": self.settings,
                 "prices": self.prices, "policy": self.policy,
                 "featurizer": self.featurizer.detached(), "contexts": self.contexts,
                 "rows": self._rows, "pending": self._pending}
        write_atomically(Path(path), lambda tmp: tmp.write_bytes(pickle.dumps(state)))

    @classmethod
    def load(cls, path: str | Path, arms: Mapping[str, pt.Transformer], *,
             budget: int | None = None, plans: dict | None = None,
             log: str | Path | None = None) -> "Selector":
        """A selector saved by :meth:`save`, over ``arms`` (the same names, in the same
        order). ``budget``/``plans``: the plan space the caller expects; a state file for
        another plan space, another ltrr version or other arms is refused (InputError)."""
        from ltrr import __version__

        state = _read_state(Path(path))
        if state["ltrr_version"] != __version__:
            raise InputError(f"the state was saved by ltrr {state['ltrr_version']}; this is ltrr "
                             f"{__version__}: retrain it (fit, learn) with this version",
                             file=str(path))
        arms = _check_arms(arms)
        settings = state["settings"]
        if list(arms) != state["arms"]:
            raise InputError(f"the state is for arms {state['arms']}, given {list(arms)}",
                             file=str(path), field="arms")
        expected = PlanSpace.from_config(list(arms), settings["budget"] if budget is None
                                         else budget, settings["plans"] if plans is None
                                         else plans, file="Selector.load")
        if expected.ids != state["plan_ids"]:
            raise InputError(f"the state is for another plan space ({len(state['plan_ids'])} "
                             f"plans: {', '.join(state['plan_ids'][:4])}, ...) than the one "
                             f"asked ({len(expected)} plans: {', '.join(expected.ids[:4])}, ...)",
                             file=str(path), field="plans")
        selector = cls.__new__(cls)
        selector.arms, selector.settings, selector.prices = arms, settings, state["prices"]
        selector.plans = expected
        selector.plan_cost = _plan_cost(selector.prices, expected, list(arms))
        selector.featurizer = state["featurizer"].attached(arms)
        selector.contexts, selector.policy = state["contexts"], state["policy"]
        selector.log = None if log is None else Path(log)
        selector._rows, selector._pending, selector._cuts = state["rows"], state["pending"], {}
        return selector

    def __repr__(self) -> str:
        return (f"Selector({list(self.arms)}, policy={getattr(self.policy, 'name', self.policy)!r}, "
                f"budget={self.settings['budget']}, plans={len(self.plans)})")


def _check_arms(arms) -> dict:
    if not isinstance(arms, Mapping) or not arms:
        raise InputError("the selector needs arms: a mapping of names to PyTerrier retrievers",
                         field="arms")
    for name, arm in arms.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"arm names must be non-empty strings, got {name!r}", field="arms")
        if not isinstance(arm, pt.Transformer):
            raise InputError(f"arm '{name}' is a {type(arm).__name__}, not a PyTerrier "
                             "transformer", field="arms")
    return dict(arms)


def _plan_cost(prices, plans: PlanSpace, arms: list[str]) -> np.ndarray:
    """``(P,)`` each plan's price (RRF ranks its candidates); zeros without prices."""
    if prices is None:
        return np.zeros(len(plans))
    if list(getattr(prices, "arms", ())) != arms:
        raise InputError(f"prices are for arms {list(getattr(prices, 'arms', ()))}, the "
                         f"selector's are {arms}", field="prices")
    return np.asarray(prices.plan_cost(plans.depth_matrix(), "rrf"), dtype=float)


def _featurizer(groups: Sequence[str], dataset, arms: dict, contexts: pd.DataFrame | None,
                columns: Sequence[str] | None) -> ContextFeaturizer:
    """The loop's featurizer over the pre-retrieval ``groups``, fitted on the reference topics
    (the dataset's, else the contexts frame)."""
    late = [g for g in groups if g not in PRE_RETRIEVAL_GROUPS]
    if late:
        raise InputError(f"feature groups {late} are not known before the arms are called; "
                         f"a selector reads {', '.join(PRE_RETRIEVAL_GROUPS)}", field="features")
    if contexts is not None and "qid" not in contexts.columns:
        raise InputError("the contexts frame needs a qid column", field="contexts")
    if columns is None and contexts is not None and (dataset is None or not
                                                     getattr(dataset, "context_columns", ())):
        columns = [c for c in contexts.columns if c not in ("qid", "query")]
    featurizer = ContextFeaturizer(list(groups), dataset, arms, context_columns=columns)
    if dataset is not None and "context" in groups and contexts is None:
        reference = dataset.topics
    elif contexts is not None:
        reference = contexts
    else:
        reference = pd.DataFrame({"qid": ["-"]})
    return featurizer.fit(reference.assign(query=reference.get("query", "")))


def _policy(policy, params: dict, plans: PlanSpace, n_features: int, seed: int,
            reward_range: tuple[float, float]):
    from ltrr.selection.policies import build_policy

    if isinstance(policy, str):
        made = build_policy(policy, params, plans,
                            n_features=n_features, random_state=seed, reward_range=reward_range)
    else:
        made = policy
        if missing_methods(made, "policy"):
            raise InputError(f"policy must be a name or an object with choose and update, got "
                             f"{type(policy).__name__}", field="policy")
        if ability(made, "policy", "n_plans") not in (None, len(plans)):
            raise InputError(f"the policy is over {made.n_plans} plans; the selector's plan space "
                             f"has {len(plans)}", field="policy")
    if ability(made, "policy", "uses_truth"):
        raise InputError(f"policy '{made.name}' chooses by the simulator's truth, which a "
                         "pipeline does not have", field="policy")
    return made


def _fitted(policy) -> bool:
    """Whether a policy that learns before the stream has learnt (its ``fit`` ran)."""
    return hasattr(policy, "training_info")


def _satisfied(page: pd.DataFrame) -> int:
    """The position of the click that satisfied the user (-1: none or not given)."""
    if "satisfied" not in page.columns:
        return -1
    hit = np.flatnonzero(page["satisfied"].to_numpy() == 1)
    return int(hit[0]) if len(hit) else -1


def _rows(rows) -> str:
    rows = list(rows)
    return ", ".join(str(r) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")


def _read_state(path: Path) -> dict:
    if not path.is_file():
        raise InputError("no selector state file here", file=str(path))
    try:
        state = pickle.loads(path.read_bytes())
    except (ImportError, AttributeError) as err:  # a class of ltrr's that has moved since
        if (getattr(err, "name", None) or "").startswith("ltrr") or "ltrr" in str(err):
            raise InputError(f"a selector state saved by an earlier ltrr (format "
                             f"{STATE_FORMAT} expected; {err}): fit the selector again and "
                             "save it", file=str(path)) from None
        raise InputError(f"not a selector state file ({type(err).__name__})",
                         file=str(path)) from None
    except Exception as err:  # noqa: BLE001 - any unpickling failure: not a state file
        raise InputError(f"not a selector state file ({type(err).__name__})",
                         file=str(path)) from None
    if isinstance(state, dict) and str(state.get("format", "")).startswith("ltrr-selector/") \
            and state["format"] != STATE_FORMAT:
        raise InputError(f"a selector state saved by another ltrr (format {state['format']}, "
                         f"this ltrr reads {STATE_FORMAT}): fit the selector again and save it",
                         file=str(path))
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise InputError(f"not a selector state file (format {STATE_FORMAT} expected)",
                         file=str(path))
    return state


__all__ = ["Selector"]
