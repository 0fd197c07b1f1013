"""Off-policy evaluation of rankers from logged pages (``ltrr ope --pages``): Plackett-Luce
propensities, obp's slate estimators on obp's own data, convergence to the truth on a tiny
world, and bad input."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from ltrr.cli import main
from ltrr.compat import obp
from ltrr.errors import InputError
from ltrr.ope import evaluate_pages, synthetic_pages
from ltrr.ope.synthetic_pages import page_log, true_value
from ltrr.kernel.stochastic import (PlackettLuce, position_marginals, prefix_probabilities,
                                     sample_page)

# ---------------------------------------------------------------- Plackett-Luce propensities


def enumerated(logits: np.ndarray, page: int) -> tuple[np.ndarray, dict]:
    """Exact position marginals and page probabilities by listing every page."""
    marginals, pages = np.zeros((len(logits), page)), {}
    for perm in itertools.permutations(range(len(logits)), page):
        p = prefix_probabilities(logits, np.array(perm))[-1]
        pages[perm] = p
        marginals[list(perm), np.arange(page)] += p
    return marginals, pages


def test_position_marginals_equal_enumeration_of_every_page():
    logits = PlackettLuce(0.5).logits(np.array([3.0, 1.0, 0.5, 0.4, -1.0, -2.0, 0.0]))
    exact, pages = enumerated(logits, 3)
    assert sum(pages.values()) == pytest.approx(1.0, abs=1e-12)
    assert np.abs(position_marginals(logits, 3) - exact).max() < 1e-10


def test_sampled_pages_follow_their_probabilities():
    logits = np.array([1.5, 0.2, -0.3, -1.0])
    _, pages = enumerated(logits, 2)
    rng = np.random.default_rng(3)
    draws = [tuple(sample_page(logits, 2, rng)) for _ in range(40_000)]
    counts = pd.Series(draws).value_counts(normalize=True)
    for page, p in pages.items():
        assert abs(counts.get(page, 0.0) - p) < 4 * np.sqrt(p * (1 - p) / 40_000) + 1e-4


def test_prefix_probabilities_are_the_sampling_steps():
    logits = np.log(np.array([4.0, 2.0, 1.0, 1.0]))
    # page (1, 0, 3): 2/8, then 4/6, then 1/2
    assert prefix_probabilities(logits, np.array([1, 0, 3])) == pytest.approx(
        [2 / 8, 2 / 8 * 4 / 6, 2 / 8 * 4 / 6 * 1 / 2])
    many = prefix_probabilities(logits, np.array([[1, 0, 3], [3, 2, 1]]))
    assert many[1] == pytest.approx(prefix_probabilities(logits, np.array([3, 2, 1])))


# ---------------------------------------------------------------- obp's own slate data


@pytest.fixture(scope="module")
def obp_slate(tmp_path_factory):
    """obp's synthetic slate data (a non-uniform logger, an epsilon-greedy target) as a page
    log with obp's column names, and obp's own estimates on it."""
    obp("dataset", "ope")
    from obp.dataset import (SyntheticSlateBanditDataset, linear_behavior_policy_logit,
                             logistic_reward_function)
    from obp.ope import SlateIndependentIPS, SlateRewardInteractionIPS, SlateStandardIPS

    data = SyntheticSlateBanditDataset(
        n_unique_action=6, len_list=3, dim_context=2, reward_type="binary",
        reward_structure="cascade_additive", click_model="pbm", random_state=12,
        behavior_policy_function=linear_behavior_policy_logit,
        base_reward_function=logistic_reward_function)
    feedback = data.obtain_batch_bandit_feedback(n_rounds=400, return_pscore_item_position=True)
    evaluation = data.generate_evaluation_policy_pscore(
        evaluation_policy_type="optimal", context=feedback["context"],
        action=feedback["action"], epsilon=0.3)
    frame = pd.DataFrame({k: feedback[k] for k in (
        "slate_id", "position", "action", "reward", "pscore", "pscore_item_position",
        "pscore_cascade")})
    for name, values in zip(("pscore", "pscore_item_position", "pscore_cascade"), evaluation):
        frame[f"evaluation_policy_{name}"] = values
    path = tmp_path_factory.mktemp("obp") / "slates.parquet"
    frame.to_parquet(path)
    common = {k: feedback[k] for k in ("slate_id", "reward", "position")}
    expected = {
        "sips": SlateStandardIPS(len_list=3).estimate_policy_value(
            **common, pscore=feedback["pscore"], evaluation_policy_pscore=evaluation[0]),
        "iips": SlateIndependentIPS(len_list=3).estimate_policy_value(
            **common, pscore_item_position=feedback["pscore_item_position"],
            evaluation_policy_pscore_item_position=evaluation[1]),
        "rips": SlateRewardInteractionIPS(len_list=3).estimate_policy_value(
            **common, pscore_cascade=feedback["pscore_cascade"],
            evaluation_policy_pscore_cascade=evaluation[2]),
    }
    return path, expected


def test_ltrr_ope_pages_gives_obps_numbers_on_obps_slate_data(obp_slate, capsys):
    path, expected = obp_slate
    assert main(["ope", str(path), "--pages", "--policy", "log", "--json",
                 "--n-bootstrap", "200"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["estimates"]) == set(expected)
    for name, value in expected.items():
        assert doc["estimates"][name]["value"] == pytest.approx(value, abs=1e-9)
        assert doc["estimates"][name]["ci_lower"] <= value <= doc["estimates"][name]["ci_upper"]
    assert doc["pages"] == 400 and doc["page_length"] == 3


def test_a_log_with_list_columns_reads_as_the_long_one(obp_slate):
    path, expected = obp_slate
    long = pd.read_parquet(path)
    wide = long.groupby("slate_id").agg(list).reset_index().drop(columns="position")
    doc = evaluate_pages(wide, "log", n_bootstrap=10)
    for name, value in expected.items():
        assert doc["estimates"][name]["value"] == pytest.approx(value, abs=1e-9)


# ---------------------------------------------------------------- a tiny world with a truth


def test_slate_estimates_converge_to_the_on_policy_value(tmp_path):
    """10^5 logged rows (33,334 pages of 3): every estimator's 95% interval holds the
    target's exact value, and IIPS is within 0.01 of it. (Over 20 logs of 20,000 pages the
    four estimators' means were within one standard error of the truth.)"""
    target = ["d3", "d1", "d4"]  # worse than the logger, which shows this page 5% of the time
    truth = true_value(target)
    log = page_log(33_334, seed=0)
    pages = pd.DataFrame({"qid": "q", "position": range(3), "action": target})
    pages.to_csv(tmp_path / "target.csv", index=False)
    doc = evaluate_pages(log.assign(qid="q"), f"pages:{tmp_path / 'target.csv'}",
                         n_bootstrap=200)
    for name in ("sips", "iips", "rips", "pbm-ips"):
        row = doc["estimates"][name]
        assert row["ci_lower"] <= truth <= row["ci_upper"], (name, row, truth)
        assert abs(row["value"] - truth) < 0.05 * truth, (name, row, truth)
    assert doc["logging_policy_value"] > truth + 0.2  # the logger is better than the target
    assert doc["estimates"]["iips"]["value"] == pytest.approx(truth, abs=0.01)
    # SIPS weighs the pages equal to the target's: 5.2% of them (1,739 expected)
    assert abs(doc["estimates"]["sips"]["pages_weighted"] - 0.05216 * 33_334) < 4 * 41
    given = evaluate_pages(log.assign(qid="q"), f"pages:{tmp_path / 'target.csv'}",
                           estimators="pbm-ips", examination=list(synthetic_pages.EXAMINATION),
                           n_bootstrap=50)
    row = given["estimates"]["pbm-ips"]
    assert row["ci_lower"] <= truth <= row["ci_upper"]


# ---------------------------------------------------------------- bad input


def small_log() -> pd.DataFrame:
    """Four pages of 3 from the tiny world's logger, every probability exact."""
    return page_log(4, seed=0)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="pscore_item_position"),
     "missing column 'pscore_item_position' (columns present: slate_id, position, action, "
     "reward, pscore, pscore_cascade, pscore_positions)"),
    (lambda f: f.assign(pscore_item_position=np.where(f.index == 5, 1.5, f.pscore_item_position)),
     "column 'pscore_item_position': values outside (0, 1] at row 5"),
    (lambda f: f.assign(pscore=np.where(f.index.isin([0, 7]), 0.0, f.pscore)),
     "column 'pscore': values outside (0, 1] at rows 0, 7"),
    (lambda f: f.assign(action=np.where(f.index == 4, f.action.iloc[3], f.action)),
     "column 'action': an item repeated within a page at row 4"),
    (lambda f: f.assign(position=np.where(f.index == 2, 3, f.position)),
     "column 'position': values that are not integers in [0, 3) at row 2"),
    (lambda f: f.assign(position=np.where(f.index == 8, -1, f.position)),
     "column 'position': values that are not integers in [0, 3) at row 8"),
    (lambda f: f.assign(position=np.where(f.index == 1, 0, f.position)),
     "column 'position': a position repeated within a page at row 1"),
    (lambda f: f.assign(reward=np.where(f.index == 6, 2, f.reward)),
     "column 'reward': values outside the reward range [0, 1] at row 6"),
    (lambda f: f.assign(pscore_positions=[np.zeros(3) if i == 10 else v
                                          for i, v in enumerate(f.pscore_positions)]),
     "column 'pscore_positions': all zero for a shown item at row 10"),
], ids=["missing", "above-one", "zero", "repeated-item", "position-past-page",
        "negative-position", "repeated-position", "reward", "positions-zero"])
def test_bad_page_logs_exit_2_naming_file_column_and_rows(tmp_path, capsys, change, message):
    logs = tmp_path / "pages.parquet"
    change(small_log()).to_parquet(logs)
    target = tmp_path / "target.csv"
    pd.DataFrame({"slate_id": np.repeat(range(4), 3), "action": "d0",
                  "score": 1.0}).to_csv(target, index=False)
    out = tmp_path / "out.json"
    assert main(["ope", str(logs), "--pages", "--policy", f"scores:{target}",
                 "--estimators", "iips,sips", "--page-length", "3",
                 "--output", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"ltrr ope: error: {logs}: {message}"
    assert not out.exists()


def test_a_target_file_missing_a_logged_page_is_an_error(tmp_path, capsys):
    logs = tmp_path / "pages.csv"
    frame = small_log()
    frame.assign(pscore_positions=frame.pscore_positions.map(
        lambda v: "|".join(f"{x:.17g}" for x in v))).to_csv(logs, index=False)
    target = tmp_path / "target.csv"
    pd.DataFrame({"slate_id": [0, 1, 2], "action": "d1", "score": 0.5}).to_csv(target,
                                                                              index=False)
    assert main(["ope", str(logs), "--pages", "--policy", f"scores:{target}"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ltrr ope: error: {target}: no slate_id '3' (the target is not given for {logs}'s "
        "rows 9, 10, 11)")


def test_a_scored_target_ranks_by_score_with_ties_by_item_id():
    from ltrr.ope.page_policy import build
    from ltrr.ope.pages import to_page_logs

    logs = to_page_logs(pd.DataFrame({"slate_id": 0, "position": [0, 1], "action": ["b", "a"],
                                      "reward": [1, 0], "pscore_item_position": 0.5}), "x")
    scores = pd.DataFrame({"slate_id": 0, "action": ["a", "b", "c"], "score": [1.0, 1.0, 0.0]})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ltrr.ope.page_policy.read_table", lambda path: scores)
        target = build("scores:s.csv", logs)
    # the target shows a, b: b (logged first) is its second, a (logged second) its first
    assert target.rank.tolist() == [1, 0]
    assert target.pscores["pscore_item_position"].tolist() == [0.0, 0.0]
    assert target.pscores["pscore_cascade"].tolist() == [0.0, 0.0]


def test_a_page_log_with_list_columns_reads_as_the_long_one_with_every_probability():
    long = page_log(2000, seed=4).assign(qid="q1")
    per_page = long.groupby("slate_id").agg(list).reset_index().drop(columns="position")
    per_page["qid"] = "q1"
    assert isinstance(per_page.pscore_positions.iloc[0][0], np.ndarray)  # a list of lists
    target = pd.DataFrame({"qid": "q1", "action": ["d1", "d3", "d0"], "position": range(3)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ltrr.ope.page_policy.read_table", lambda path: target)
        docs = [evaluate_pages(f, "pages:t.csv", n_bootstrap=20) for f in (long, per_page)]
    assert docs[0]["estimates"] == docs[1]["estimates"]
    assert set(docs[0]["estimates"]) == {"sips", "iips", "rips", "pbm-ips"}


def test_an_empty_page_log_is_an_error():
    with pytest.raises(InputError) as err:
        evaluate_pages(pd.DataFrame({"action": [[]], "reward": [[]]}), "log", estimators="sips")
    assert str(err.value) == "<DataFrame>: no logged pages"


def test_ltrrs_decision_log_reads_as_pages_for_pbm_ips_with_given_examination(tmp_path):
    decisions = pd.DataFrame({"step": [0, 1, 2], "qid": "q", "action": "plan",
                              "propensity": 1.0, "reward": [1.0, 0.0, 0.0],
                              "shown": [["a", "b"], [], ["a", "b"]],
                              "clicks": [[0, 1], [], [0, 0]]})  # step 1 showed nothing
    target = tmp_path / "target.csv"
    pd.DataFrame({"qid": "q", "position": [0, 1], "action": ["b", "a"]}).to_csv(target,
                                                                                index=False)
    doc = evaluate_pages(decisions, f"pages:{target}", estimators="pbm-ips",
                         examination=[1.0, 0.5], n_bootstrap=20)
    # one click on b at position 1 (theta 0.5) moved to position 0 (theta 1): 2 clicks / 2 pages
    assert doc["estimates"]["pbm-ips"]["value"] == pytest.approx(1.0)
    assert doc["pages"] == 2 and doc["estimates"]["pbm-ips"]["pages_weighted"] == 2


def test_a_pyterrier_ranking_frame_is_a_target(tmp_path):
    logs = page_log(3000, seed=2).assign(qid="q1")
    run = pd.DataFrame({"qid": "q1", "docno": ["d0", "d2", "d1", "d3", "d4"],
                        "score": [5.0, 4, 3, 2, 1], "rank": range(5)})
    run.to_csv(tmp_path / "run.csv", index=False)
    by_scores = evaluate_pages(logs, f"scores:{tmp_path / 'run.csv'}", n_bootstrap=20)
    by_pages = evaluate_pages(logs, f"pages:{tmp_path / 'run.csv'}", n_bootstrap=20)
    assert by_scores["estimates"] == by_pages["estimates"]
    row = by_scores["estimates"]["pbm-ips"]
    assert row["ci_lower"] <= true_value(["d0", "d2", "d1"]) <= row["ci_upper"]
