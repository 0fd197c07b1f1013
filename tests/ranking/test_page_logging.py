"""``[ranking] logging = "plackett-luce"``: ``ltrr run`` shows Plackett-Luce pages over the
ranking stage's scores and logs their exact probabilities, which ``ltrr ope --pages`` reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from ltrr.decision_log import trace_decisions
from ltrr.errors import InputError
from ltrr.experiments.benchmark import load_benchmark
from ltrr.experiments.cell_runner import reward_range
from ltrr.experiments.runner import prepare
from ltrr.kernel.stochastic import PlackettLuce, position_marginals, prefix_probabilities
from ltrr.selection.policies import build_policy
from ltrr.simulation.loop import _plan_scores, compiles, run_policy
from ltrr.simulation.stream import sample_stream
from ltrr.simulation.truths import fill_lists, fill_truths

BENCHMARK = """
[benchmark]
name = "explore"
dataset = "ltrr:music?size=400&seed=3"
seeds = [0]

[arms]
names = ["lexical", "fuzzy", "structured"]

[plans]
budget = 12
single = true
equal_splits = [2]
union = true

[features]
groups = ["query"]

[stream]
length = 120

[clicks]
model = "pbm"
params = "navigational"

[ranking]
fusion = "{fusion}"
page = 5
{logging}

[[policies]]
name = "static_union"

[[policies]]
name = "linucb"
"""
EXPLORE = 'logging = "plackett-luce"\ntemperature = 0.5'


def write(tmp: Path, fusion: str = "rrf", logging: str = EXPLORE) -> Path:
    path = tmp / "explore.toml"
    path.write_text(BENCHMARK.format(fusion=fusion, logging=logging))
    return path


@pytest.mark.parametrize("logging, field, message", [
    ('logging = "softmax"', "ranking.logging", "unknown logging ranker 'softmax'"),
    ('logging = "plackett-luce"\ntemperature = 0', "ranking.temperature", "> 0, got 0"),
    ('logging = "plackett-luce"\ntemperature = -1.5', "ranking.temperature", "> 0"),
    ("temperature = 2.0", "ranking.temperature", 'needs logging = "plackett-luce"'),
    ("logging = 1", "ranking.logging", "str"),
])
def test_bad_logging_settings_name_file_and_key(tmp_path, logging, field, message):
    path = write(tmp_path, logging=logging)
    with pytest.raises(InputError) as error:
        load_benchmark(path)
    text = str(error.value)
    assert str(path) in text and field in text and message in text


@pytest.mark.parametrize("logging, exploration", [
    ("", None), ('logging = "top"', None), (EXPLORE, PlackettLuce(0.5)),
    ('logging = "plackett-luce"', PlackettLuce(1.0))])
def test_exploration_is_opt_in(tmp_path, logging, exploration):
    assert load_benchmark(write(tmp_path, logging=logging)).settings.exploration == exploration


@pytest.mark.parametrize("fusion", ["rrf", "combsum"])
def test_plan_scores_rank_each_plans_fused_page_first(tmp_path, fusion):
    """The scores the exploring loop samples over are the fusion's: each plan's fused top
    page is the top of its union by them (the same floats, ties aside)."""
    bench = load_benchmark(write(tmp_path, fusion=fusion, logging=""))
    world, _, _ = prepare(bench)
    st, buf = world.seed(0), world.buffers()
    checked = 0
    for step, t in enumerate(range(0, len(world.topics), 7)):
        fill_lists(world.tables, st.lists, t, step, buf)
        size = fill_truths(world.tables, st.cache, t, step, buf)
        for plan in range(len(world.plan_ids)):
            members, scores = _plan_scores(world, buf, size, plan, None)
            page = buf.pages[plan][buf.pages[plan] >= 0]
            assert len(page) == min(len(members), bench.settings.page)
            by_doc = dict(zip(buf.docs[members].tolist(), scores.tolist()))
            shown = np.array([by_doc[d] for d in page.tolist()])
            assert shown.tolist() == sorted(scores, reverse=True)[:len(page)]
            checked += len(page) > 0
    assert checked > 20


def test_prefix_probabilities_do_not_cancel():
    """The last candidate left is drawn with probability 1 exactly (the total minus the weight
    drawn would put it an ulp above 1 a third of the time here), and a low temperature keeps
    every step in (0, 1] (the total minus the weight drawn rounds to 0 there)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        logits = PlackettLuce(0.5).logits(rng.normal(size=4))
        cascade = prefix_probabilities(logits, rng.permutation(4))
        assert np.all(np.diff(cascade) <= 0) and cascade[-1] == cascade[-2]
    # three heavy candidates, five weighing e^-41 each: the page's 4th step has them alone
    logits = PlackettLuce(0.05).logits(np.r_[np.zeros(3), -np.ones(5)])
    assert prefix_probabilities(logits, np.arange(5)) == pytest.approx(
        [1 / 3, 1 / 6, 1 / 6, 1 / 30, 1 / 120], rel=1e-12)


class Recording(PlackettLuce):
    """A Plackett-Luce ranker that keeps the scores it sampled each page over, and the page."""

    def __init__(self, temperature: float) -> None:
        super().__init__(temperature)
        object.__setattr__(self, "draws", [])

    def sample(self, scores, page, rng):
        logged = super().sample(scores, page, rng)
        self.draws.append((np.array(scores), logged))
        return logged


def test_logged_probabilities_are_stochastics_for_the_logged_pages(tmp_path):
    bench = load_benchmark(write(tmp_path))
    world, featurizer, _ = prepare(bench)
    recorder = Recording(0.5)
    world.settings.exploration = recorder
    policy = build_policy("static_union", {}, world.plans,
                          n_features=featurizer.dim, random_state=0,
                          reward_range=reward_range(world))
    assert not compiles(world, policy, featurizer)
    stream = sample_stream(world.topics, bench.stream_length, bench.zipf, 0)
    trace = run_policy(world, policy, featurizer, stream, 0)
    log = trace_decisions(trace, world, featurizer.names)
    assert len(recorder.draws) == len(log)  # the union plan never has an empty union here
    for row, (scores, logged) in zip(log.itertuples(), recorder.draws):
        logits = recorder.logits(scores)
        index = logged.shown
        assert len(row.shown) == len(index) == min(len(scores), bench.settings.page)
        marginals = position_marginals(logits, bench.settings.page)
        assert row.pscore_cascade == prefix_probabilities(logits, index).tolist()
        assert row.pscore == [row.pscore_cascade[-1]] * len(index)
        assert row.pscore_item_position == [marginals[i, k] for k, i in enumerate(index)]
        assert [list(p) for p in row.pscore_positions] == marginals[index].tolist()
        assert row.pscore_cascade[0] == pytest.approx(row.pscore_item_position[0], rel=1e-8)


def test_ltrr_run_explores_and_ltrr_ope_pages_reads_its_log(tmp_path, capsys):
    path = write(tmp_path)
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    record = json.loads((out / "static_union-seed0.json").read_text())
    assert record["ranker"]["logging"] == {"name": "plackett-luce", "temperature": 0.5}
    log = pd.read_parquet(out / "static_union-seed0.decisions.parquet")
    for column in ("pscore", "pscore_cascade", "pscore_item_position", "pscore_positions"):
        assert list(map(len, log[column])) == list(map(len, log["shown"]))
    assert all(np.all(np.diff(c) <= 0) for c in log["pscore_cascade"])  # prefixes shrink
    # explored: one query shows different pages
    by_query = log.groupby("qid")["shown"].agg(lambda s: len({tuple(p) for p in s}))
    assert by_query.max() > 1
    # the target: per query, its docs by how often the log showed them first
    target = log.assign(first=log["shown"].map(lambda p: p[0]))
    counts = target.groupby(["qid", "first"]).size().rename("score").reset_index()
    scores = counts.rename(columns={"first": "action"})
    scores_path = tmp_path / "target.csv"
    scores.to_csv(scores_path, index=False)
    capsys.readouterr()
    code = main(["ope", str(out / "static_union-seed0.decisions.parquet"), "--pages",
                 "--policy", f"scores:{scores_path}", "--estimators", "iips",
                 "--n-bootstrap", "20", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["pages"] == len(log)
    # IIPS by hand: the target's page per query, clicks where it agrees / P(item at position)
    best = {q: g.sort_values(["score", "action"], ascending=[False, True],
                             key=lambda c: c if c.name == "score" else c.astype(str))
            ["action"].tolist() for q, g in scores.groupby("qid")}
    value = np.mean([sum(c / p for k, (d, c, p) in enumerate(
        zip(row.shown, row.clicks, row.pscore_item_position))
        if k < len(best[row.qid]) and best[row.qid][k] == d) for row in log.itertuples()])
    assert doc["estimates"]["iips"]["value"] == pytest.approx(value, rel=1e-9)


def test_a_learned_ranking_stage_explores_over_its_own_scores(tmp_path, monkeypatch):
    """At a low temperature the sampled pages of a policy ranked by a trained LambdaMART are
    nearly that ranker's top pages, not the fusion's; an online ranker learns from them."""
    from worlds import RANKING_BENCHMARK as RANKING, RANKING_PARAMS as PARAMS, make_beir

    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "home"))
    folder = make_beir(tmp_path / "beir")
    text = RANKING.replace("{folder}", str(folder)).replace("{params}", PARAMS)
    text = text.replace("seeds = [0, 1]", "seeds = [0]")
    logs = {}
    for name, extra in (("top", ""), ("explore", 'logging = "plackett-luce"\ntemperature = 0.05')):
        path = tmp_path / f"{name}.toml"
        path.write_text(text.replace("page = 5\n", f"page = 5\n{extra}\n"))
        assert main(["run", str(path), "--out", str(tmp_path / name), "--quiet",
                     "--policies", "static_union,union/qrels,union/online"]) == 0
        logs[name] = {label: pd.read_parquet(tmp_path / name / f"{label}-seed0.decisions.parquet")
                      for label in ("static_union", "union-qrels", "union-online")}

    def agree(a: pd.DataFrame, b: pd.DataFrame) -> float:
        """The share of steps whose pages hold the same documents (the trained ranker ties
        often, and ties are sampled, so the order is not compared)."""
        return float(np.mean([set(x) == set(y) for x, y in zip(a["shown"], b["shown"])]))

    explored = logs["explore"]["union-qrels"]
    assert "pscore_item_position" in explored and "pscore" not in logs["top"]["union-qrels"]
    same_ranker = agree(explored, logs["top"]["union-qrels"])
    fusion = agree(explored, logs["top"]["static_union"])
    assert same_ranker > 0.6 and fusion < 0.3
    online = logs["explore"]["union-online"]
    assert len(online) == 200 and online["pscore_item_position"].map(len).sum() > 0


def test_an_exploring_run_logs_a_trained_rankers_pages_as_the_target(tmp_path, monkeypatch,
                                                                       capsys):
    """``[ranking] target``: the log's evaluation-policy columns say where the trained
    ranker's page agrees with the sampled one; its page is the one a run ranked by it shows
    (static arms: every step's union is the same in both runs), and ``ltrr ope --pages
    --policy log`` estimates it."""
    from worlds import RANKING_BENCHMARK as RANKING, RANKING_PARAMS as PARAMS, make_beir

    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "home"))
    text = RANKING.replace("{folder}", str(make_beir(tmp_path / "beir"))).replace(
        "{params}", PARAMS).replace("seeds = [0, 1]", "seeds = [0]").replace(
        '"fuzzy", "memory"]', '"fuzzy"]').replace('["query", "memory"]', '["query"]')
    explore = tmp_path / "explore.toml"
    explore.write_text(text.replace("page = 5\n", 'page = 5\nlogging = "plackett-luce"\n'
                                                  'target = "qrels"\n'))
    top = tmp_path / "top.toml"
    top.write_text(text)
    assert main(["run", str(explore), "--out", str(tmp_path / "explore"), "--quiet",
                 "--policies", "static_union"]) == 0
    assert main(["run", str(top), "--out", str(tmp_path / "top"), "--quiet",
                 "--policies", "union/qrels"]) == 0
    log = pd.read_parquet(tmp_path / "explore" / "static_union-seed0.decisions.parquet")
    ranked = pd.read_parquet(tmp_path / "top" / "union-qrels-seed0.decisions.parquet")
    assert log["qid"].tolist() == ranked["qid"].tolist()
    for row, page in zip(log.itertuples(), ranked["shown"]):
        agree = [float(a == b) for a, b in zip(row.shown, page)]
        assert list(row.evaluation_policy_pscore_item_position) == agree
        assert list(row.evaluation_policy_pscore_cascade) == np.cumprod(agree).tolist()
        assert list(row.evaluation_policy_pscore) == [float(np.prod(agree))] * len(agree)
    capsys.readouterr()
    assert main(["ope", str(tmp_path / "explore" / "static_union-seed0.decisions.parquet"),
                 "--pages", "--policy", "log", "--estimators", "iips", "--n-bootstrap", "20",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    value = np.mean([sum(c * e / p for c, e, p in zip(row.clicks,
                                                       row.evaluation_policy_pscore_item_position,
                                                       row.pscore_item_position))
                     for row in log.itertuples()])
    assert doc["estimates"]["iips"]["value"] == pytest.approx(value, rel=1e-9) and value > 0


@pytest.mark.parametrize("ranking, message", [
    ('target = "qrels"', 'a target needs logging = "plackett-luce"'),
    ('logging = "plackett-luce"\ntarget = "nope"', "no [rankers.nope] table"),
    ('logging = "plackett-luce"\ntarget = "online"', "learns online during each run"),
])
def test_bad_targets_name_file_and_key(tmp_path, ranking, message):
    from worlds import RANKING_BENCHMARK as RANKING, RANKING_PARAMS as PARAMS

    path = tmp_path / "bad.toml"
    path.write_text(RANKING.replace("{folder}", str(tmp_path)).replace("{params}", PARAMS)
                    .replace("page = 5\n", f"page = 5\n{ranking}\n"))
    with pytest.raises(InputError) as error:
        load_benchmark(path)
    assert str(path) in str(error.value) and "ranking.target" in str(error.value)
    assert message in str(error.value)
