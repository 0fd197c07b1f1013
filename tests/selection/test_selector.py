"""The selector as a PyTerrier transformer: the loop's choices from the same stream and clicks,
only the chosen arms called, learning (policy, memory arm), warm starts, save and load, its
decision log read by ``ltrr ope``, and every refusal."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

import ltrr
import ltrr_test_plugins as plug
from ltrr.cli import main
from ltrr.decision_log import AWAITING
from ltrr.errors import InputError
from ltrr.experiments.benchmark import load_benchmark
from ltrr.experiments.cell_runner import reward_range
from ltrr.experiments.runner import prepare
from ltrr.kernel.clicks import DependentClickModel, PositionBasedModel
from ltrr.ranking.fusion import Fusion
from ltrr.selection.policies import build_policy
from ltrr.selection.selector import Selector
from ltrr.simulation.loop import run_policy
from ltrr.simulation.stream import sample_stream
from ltrr.simulation.users import SimulatedUsers

PLANS = {"single": True, "equal_splits": [2], "union": True}
FEATURES = ["query", "idf", "context"]
TWIN = """
[benchmark]
name = "selector-twin"
dataset = "ltrr:music?size=400&seed=3"
seeds = [0]

[arms]
names = ["lex", "meta", "fuzzy"]

[arms.lex]
class = "ltrr_test_plugins:Untied"
base = "lexical"

[arms.meta]
class = "ltrr_test_plugins:Untied"
base = "structured"

[arms.fuzzy]
class = "ltrr_test_plugins:Untied"
base = "fuzzy"

[plans]
budget = 12
single = true
equal_splits = [2]
union = true

[features]
groups = ["query", "idf", "context"]

[stream]
length = 250

[clicks]
model = "pbm"
params = "navigational"

[ranking]
page = 5

[[policies]]
name = "linucb"
"""


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """A small music world whose arms have no ties (the loop and a selector cut them alike)."""
    path = tmp_path_factory.mktemp("twin") / "twin.toml"
    path.write_text(TWIN)
    return prepare(load_benchmark(path))


def selector(world, policy="linucb", **kwargs) -> Selector:
    arms = {a: world.arms[a] for a in world.arm_names}
    options = dict(budget=12, plans=PLANS, features=FEATURES, dataset=world.dataset, page=5)
    return Selector(arms, policy, **{**options, **kwargs})


@pytest.mark.parametrize("policy", ["linucb", "semibandit", "thompson"])
def test_the_loops_choices_from_the_loops_stream_and_clicks(twin, policy):
    world, featurizer = twin.world, twin.featurizer
    played = build_policy(policy, {}, world.plans,
                          n_features=featurizer.dim, random_state=0,
                          reward_range=reward_range(world))
    stream = sample_stream(world.topics, 250, 1.0, 0)
    trace = run_policy(world, played, featurizer, stream, 0, per_step=True)
    sel = selector(world, policy)
    assert sel.plans.ids == world.plan_ids and sel.reward_range == reward_range(world)
    docnos = world.vocab.docnos
    for step, t in enumerate(stream.tolist()):
        out = sel.transform(world.topics.iloc[[t]])
        row = sel._rows[-1]
        assert (row["plan"], row["propensity"]) == (trace.plan[step], trace.propensity[step]), step
        np.testing.assert_array_equal(row["context"], trace.contexts[step])
        drawn = [int((out["arm"] == a).sum()) for a in world.arm_names]
        assert drawn == trace.drawn[step].tolist()
        shown = trace.shown[step][trace.shown[step] >= 0]
        if len(shown):
            sel.learn(pd.DataFrame({"qid": row["qid"], "docno": docnos[shown],
                                    "click": trace.clicks[step][:len(shown)]}))
        assert row["reward"] == trace.reward[step]
    log = sel.decisions
    np.testing.assert_array_equal(log["action_index"], trace.plan)
    np.testing.assert_array_equal(log["propensity"], trace.propensity)
    assert not log[AWAITING].any() and len(set(trace.plan.tolist())) > 2


def test_only_the_chosen_arms_are_called_at_their_depths(twin):
    world = twin.world
    plug.UNTIED_CALLS.clear()
    sel = selector(world, "single:lex")
    topics = world.topics.iloc[:7]
    out = sel.transform(topics)
    assert plug.UNTIED_CALLS == {"lexical": [7]}
    assert set(out["arm"]) == {"lex"} and set(out["plan"]) == {"lex:12"}
    assert out.groupby("qid").size().max() <= 12 and (out["propensity"] == 1.0).all()
    plug.UNTIED_CALLS.clear()
    sel = selector(world, "uniform", seed=4)
    out = sel.transform(world.topics.iloc[:40])
    chosen = [sel.plans[r["plan"]] for r in sel._rows]
    for arm, base in (("lex", "lexical"), ("meta", "structured"), ("fuzzy", "fuzzy")):
        asked = sum(arm in plan.arms for plan in chosen)  # one call per depth, for those queries
        assert sum(plug.UNTIED_CALLS.get(base, [])) == asked
    for qid, rows in out.groupby("qid", sort=False):
        plan = sel.plans.plans[sel.plans.index(rows["plan"].iloc[0])]
        assert set(rows["arm"]) <= set(plan.arms)
        for arm, n in rows.groupby("arm").size().items():
            assert n <= plan.depth(arm)
    fused = (sel >> Fusion(num_results=5)).transform(world.topics.iloc[40:45])
    assert fused.groupby("qid").size().max() <= 5 and {"docno", "score", "rank"} <= set(fused)


def test_feedback_teaches_the_memory_arm_and_simulated_users_click(twin):
    from ltrr.arms import build_arm

    world = twin.world
    memory = build_arm("memory", world.dataset, num_results=1000)
    memory.reset()
    arms = {"lex": world.arms["lex"], "memory": memory}
    sel = Selector(arms, "uniform", budget=10, features=["query", "memory"], page=5, seed=1)
    users = SimulatedUsers(world.dataset.qrels, PositionBasedModel("perfect"), page=5, seed=0)
    topics = world.topics.iloc[:30]
    before = sel.featurizer.vectors(topics)[:, sel.featurizer.names.index("mem:seen")]
    results = (sel >> Fusion(num_results=5)).transform(topics)
    feedback = users(results)
    assert set(feedback.columns) == {"qid", "docno", "rank", "click", "satisfied"}
    sel.learn(feedback)
    log = sel.decisions
    assert not log[AWAITING].any()
    clicks = feedback.groupby("qid", sort=False)["click"].sum()
    np.testing.assert_array_equal(log.set_index("qid").loc[clicks.index, "clicks_total"], clicks)
    assert clicks.sum() > 0
    after = sel.featurizer.vectors(topics)[:, sel.featurizer.names.index("mem:seen")]
    assert before.sum() < after.sum() == len(topics)  # every query issued is now remembered
    clicked = feedback[feedback["click"] == 1].iloc[0]
    query = topics.set_index(topics["qid"].astype(str)).loc[clicked["qid"], "query"]
    assert clicked["docno"] in [d for d, _ in memory.search(query, 50)]


def test_a_judged_page_pays_its_expected_reward(twin):
    world = twin.world
    users = DependentClickModel("informational")
    sel = selector(world, "single:lex", users=users, max_grade=4)
    topic = world.topics.iloc[[3]]
    out = sel.transform(topic).head(5)
    labels = np.array([4, 0, 2, 0, 1])
    sel.learn(out[["qid", "docno"]].assign(label=labels))
    assert sel.decisions["reward"].iloc[0] == pytest.approx(users.expected_total(labels))
    # without max_grade (or a fit) a judged page cannot say which label is the top grade
    unscaled = selector(world, "single:lex")
    page = unscaled.transform(topic).head(5)[["qid", "docno"]].assign(label=[1, 0, 0, 0, 0])
    with pytest.raises(InputError, match="needs the label users see as the top grade"):
        unscaled.learn(page)


def test_fit_warm_starts_the_router_and_linucb(twin):
    world = twin.world
    topics, qrels = world.topics.iloc[:200], world.dataset.qrels
    router = selector(world, "router")
    with pytest.raises(InputError, match="call selector.fit"):
        router.transform(topics.iloc[:2])
    values = router.plan_values(topics, qrels)
    assert values.shape == (200, len(router.plans)) and values.max() > 0
    router.fit(topics, qrels)
    router.transform(topics)
    chosen = np.array([r["plan"] for r in router._rows])
    # it learnt which plans pay on the topics it saw: better than a plan at random
    assert values[np.arange(len(topics)), chosen].mean() > values.mean() + 0.1
    warm = selector(world, "linucb_warm").fit(topics, qrels)
    assert warm.policy.model.n_trial == values.size
    cold = selector(world, "linucb").fit(topics, qrels)  # a full-information warm start
    assert cold.policy.model.n_trial == values.size
    with pytest.raises(InputError, match="click credit"):
        selector(world, "semibandit").fit(topics, qrels)


def test_save_and_load_resume_the_same_decisions(twin, tmp_path, monkeypatch):
    world = twin.world
    arms = {a: world.arms[a] for a in world.arm_names}
    users = SimulatedUsers(world.dataset.qrels, page=5, seed=0)
    first, second = world.topics.iloc[:40], world.topics.iloc[40:80]
    sel = selector(world, "lints")
    sel.learn(users((sel >> Fusion(num_results=5)).transform(first)))
    pending = sel.transform(world.topics.iloc[80:83])
    sel.save(tmp_path / "selector.pkl")
    again = Selector.load(tmp_path / "selector.pkl", arms)
    for one in (sel, again):
        one.learn(users.__class__(world.dataset.qrels, page=5, seed=9)(
            pending.groupby("qid").head(5)))
        one.transform(second)
    assert sel.decisions.drop(columns=["shown"]).equals(again.decisions.drop(columns=["shown"]))
    # refusals: another plan space, other arms, another version, not a state file
    with pytest.raises(InputError, match="another plan space"):
        Selector.load(tmp_path / "selector.pkl", arms, budget=30)
    with pytest.raises(InputError, match="is for arms"):
        Selector.load(tmp_path / "selector.pkl", dict(reversed(list(arms.items()))))
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"format": "something"}))
    with pytest.raises(InputError, match="not a selector state file"):
        Selector.load(tmp_path / "other.pkl", arms)
    # saved before the house moved (issue 19): a class at its old path, or the old format
    (tmp_path / "moved.pkl").write_bytes(b"cltrr.selection.features\nContextFeaturizer\n.")
    with pytest.raises(InputError, match="saved by an earlier ltrr .*fit the selector again"):
        Selector.load(tmp_path / "moved.pkl", arms)
    (tmp_path / "old.pkl").write_bytes(pickle.dumps({"format": "ltrr-selector/1"}))
    with pytest.raises(InputError, match="format ltrr-selector/1, this ltrr reads "
                                         "ltrr-selector/2"):
        Selector.load(tmp_path / "old.pkl", arms)
    monkeypatch.setattr(ltrr, "__version__", "9.9.9")
    with pytest.raises(InputError, match="saved by ltrr 0.1.0; this is ltrr 9.9.9"):
        Selector.load(tmp_path / "selector.pkl", arms)


def test_ltrr_ope_reads_the_selectors_log(twin, tmp_path, capsys):
    world = twin.world
    users = SimulatedUsers(world.dataset.qrels, page=5, seed=2)
    log = tmp_path / "decisions.parquet"
    sel = selector(world, "uniform", seed=3, log=log)
    for start in range(0, 300, 50):
        batch = world.topics.iloc[start:start + 50]
        sel.learn(users((sel >> Fusion(num_results=5)).transform(batch)))
    sel.transform(world.topics.iloc[300:310])  # decisions whose feedback has not come
    frame = pd.read_parquet(log)
    found = frame.filter(like="candidates_").sum(axis=1) > 0
    # the last ten await feedback, but a query whose arms found nothing earned nothing at once
    assert len(frame) == 310 and frame[AWAITING].tolist() == [False] * 300 + found[300:].tolist()
    assert frame["reward"][frame[AWAITING]].isna().all() and found[300:].sum() >= 8
    waiting = int(frame[AWAITING].sum())
    out = tmp_path / "ope.json"
    code = main(["ope", str(log), "--policy", "uniform", "--estimators", "ipw,snipw",
                 "--reward-range", "0,5", "--n-bootstrap", "20", "--output", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["rows_evaluated"] == 310 - waiting
    assert f"{waiting} decisions awaiting feedback (awaiting_feedback = true) left out" \
        in doc["notes"]
    # uniform is the logging policy: IPW's estimate is the logged mean reward exactly
    logged = frame.loc[~frame[AWAITING], "reward"].mean()
    assert doc["estimates"]["ipw"]["value"] == pytest.approx(logged, rel=1e-9)
    # a log whose awaiting_feedback is not true/false, or that awaits every reward: exit 2,
    # one message, nothing written
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    frame.drop(columns=["shown", "clicks"]).assign(
        **{AWAITING: ["no"] * 3 + ["maybe"] + ["no"] * 306}).to_csv(bad, index=False)
    out.unlink()
    args = ["--policy", "uniform", "--reward-range", "0,5", "--output", str(out)]
    assert main(["ope", str(bad), *args]) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"bad.csv: column '{AWAITING}': values that are not true or false at rows 0, 1, 2 "
        "(and 307 more)")
    waiting_all = tmp_path / "waiting.csv"
    frame.drop(columns=["shown", "clicks"]).assign(**{AWAITING: True}).to_csv(waiting_all,
                                                                             index=False)
    assert main(["ope", str(waiting_all), *args]) == 2
    assert "0 rows with feedback (310 more await it)" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("make, message", [
    (lambda w, arms: Selector({}, "linucb"), "needs arms"),
    (lambda w, arms: Selector({"lex": "bm25"}, "linucb"), "not a PyTerrier transformer"),
    (lambda w, arms: Selector(arms, "linucb", plans={"custom": [{"dense": 5}]}),
     "Selector, field 'plans.custom[0]': unknown arm 'dense'"),
    (lambda w, arms: Selector(arms, "no_such_policy"), "unknown policy 'no_such_policy'"),
    (lambda w, arms: Selector(arms, "oracle"), "simulator's truth"),
    (lambda w, arms: Selector(arms, "linucb", features=["post_retrieval"]),
     "not known before the arms are called"),
    (lambda w, arms: Selector(arms, "linucb", features=["idf"]), "needs a dataset"),
    (lambda w, arms: Selector(arms, "linucb", reward="dwell"), "unknown reward 'dwell'"),
])
def test_bad_construction(twin, make, message):
    arms = {a: twin.world.arms[a] for a in twin.world.arm_names}
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        make(twin.world, arms)


def test_bad_feedback_is_refused_and_nothing_is_learnt(twin):
    world = twin.world
    sel = selector(world, "linucb")
    out = sel.transform(world.topics.iloc[:3])
    page = out[out["qid"] == out["qid"].iloc[0]].head(3)[["qid", "docno"]].assign(click=[1, 0, 0])
    cases = [
        (page.assign(qid="nope"), "no decision awaiting feedback: nope"),
        (page.assign(docno=["x1", page["docno"].iloc[1], "x2"]),
         "documents x1, x2 were not among the candidates the selector produced"),
        (page.assign(click=[1, 2, 0]), "clicks must be 0 or 1"),
        (page.drop(columns="click"), "needs columns qid, docno and click"),
    ]
    for bad, message in cases:
        with pytest.raises(InputError, match=message):
            sel.learn(bad)
    assert sel.decisions[AWAITING].all() and sel.policy.model.n_trial == 0
    with pytest.raises(InputError, match="appears twice"):
        sel.transform(pd.concat([world.topics.iloc[:2], world.topics.iloc[:1]]))
    with pytest.raises(InputError, match="missing \\['query'\\]"):
        sel.transform(world.topics.iloc[:2][["qid"]])
    sel.learn(page)  # the good page is learnt after all that
    assert sel.decisions[AWAITING].sum() == 2 and sel.policy.model.n_trial == 1


def test_context_features_from_a_contexts_frame(twin):
    from ltrr.selection.context import ContextFeaturizer

    world = twin.world
    arms = {"lex": world.arms["lex"], "meta": world.arms["meta"]}
    contexts = pd.DataFrame({"qid": ["a", "b", "c", "d"], "device": ["phone", "desk", "phone",
                                                                      "tv"],
                             "hour": [0, 6, 12, 18], "age": [20.0, 30.0, 40.0, 60.0]})
    sel = ltrr.Selector(arms, "linucb", budget=10, features=["query", "context"],
                        contexts=contexts)
    assert sel.featurizer.context_columns == ["device", "hour", "age"]
    topics = pd.DataFrame({"qid": ["b", "d"], "query": ["blue train", "so what"]})
    sel.transform(topics)
    expected = ContextFeaturizer(["query", "context"], None, {}, context_columns=[
        "device", "hour", "age"]).fit(contexts.assign(query=["", "blue train", "", "so what"]))
    for i, t in enumerate((1, 3)):
        np.testing.assert_allclose(sel._rows[i]["context"], expected.transform(t))
    # a topics frame's own columns win; a value never seen is all zeros of its one-hot
    own = topics.assign(device=["radio", "desk"], hour=[6, 6], age=[30.0, 80.0])
    x = sel.featurizer.vectors(own)
    names = sel.featurizer.names
    assert [x[0, names.index(f"ctx:device={d}")] for d in ("desk", "phone", "tv")] == [0, 0, 0]
    assert x[1, names.index("ctx:age")] == pytest.approx(1.5)  # scaled by the fitted range
    with pytest.raises(InputError, match="no context for queries zz"):
        sel.transform(pd.DataFrame({"qid": ["zz"], "query": ["x"]}))
