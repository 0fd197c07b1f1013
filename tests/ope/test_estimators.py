"""obp's estimators through ltrr: the bootstrap re-runs them, sanity of the estimates, built-in
policies. (Interval coverage: tests/ope/test_coverage.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.compat import obp
from ltrr.ope import bootstrap, estimators, rewardmodel, synthetic, target
from ltrr.ope.target import EvaluationPolicy, with_positions
from ltrr.ope.validation import to_logged_data

WORLD = synthetic.make_world()
TARGET = synthetic.target_policy(WORLD)
TRUTH = WORLD.value(TARGET)


def logs_and_policy(n: int, seed: int) -> EvaluationPolicy:
    df = synthetic.generate(WORLD, n, seed)
    logs = to_logged_data(df, "synthetic", reward_range=(0.0, 1.0),
                          needs_exploration=True, min_rows=100)
    dist = with_positions(TARGET[df["user_type"].to_numpy()], 1)
    return EvaluationPolicy(spec="file:target", logs=logs, action_dist=dist, n_train=0)


def test_a_wrong_propensity_breaks_coverage() -> None:
    """The coverage test can fail: logs whose propensities lie make IPW miss the truth."""
    covered = 0
    for seed in range(20):
        policy = logs_and_policy(2000, seed)
        policy.logs.propensity = np.full(policy.logs.n_rows, 0.25)
        row = estimators.estimate(policy, ["ipw"], n_bootstrap=200, seed=seed)["estimates"]["ipw"]
        covered += row["ci_lower"] <= TRUTH <= row["ci_upper"]
    assert covered <= 10


@pytest.mark.parametrize("model", estimators.MODELS)
def test_all_estimators_land_near_the_truth(model: str) -> None:
    policy = logs_and_policy(20_000, seed=7)
    result = estimators.estimate(policy, list(estimators.ESTIMATORS), model=model, n_bootstrap=10, seed=7)
    for name, row in result["estimates"].items():
        assert row["ci_lower"] <= row["value"] <= row["ci_upper"], name
        if name == "dm" and model == "logistic":
            # obp's features are [context, one-hot action]: a logistic model cannot express
            # action-context interactions, so DM is biased here (and DR corrects it).
            assert (TRUTH - row["value"]) / TRUTH > 0.15
        else:
            assert abs(row["value"] - TRUTH) / TRUTH < 0.05, (name, row["value"], TRUTH)
    assert result["estimates"]["switch-dr"]["hyperparameter"] in estimators.SLOPE_GRID
    assert result["logging_policy_value"] == pytest.approx(policy.logs.reward.mean())


def test_a_resample_re_runs_obps_estimators() -> None:
    """Each bootstrap value is obp's estimate_policy_value on the resampled rows, with the
    reward model refitted on them (folds over the original rows)."""
    policy = logs_and_policy(300, seed=5)
    logs, dist = policy.logs, policy.action_dist
    names = list(estimators.ESTIMATORS)
    q_full = rewardmodel.cross_fitted(logs, "logistic", 3, 0)
    chosen, _ = estimators.obp_estimators(names, estimators.inputs_for(logs, dist, q_full))
    rows = np.random.default_rng(1).integers(300, size=300)
    q_hat = rewardmodel.refit(logs, rows, "logistic", 3, 0, np.random.default_rng(2))
    values = bootstrap.one_resample(logs, rows, q_hat, [dist], [chosen])[0]
    for name, est, value in zip(names, chosen, values):
        direct = est.estimate_policy_value(
            reward=logs.reward[rows], action=logs.action[rows], pscore=logs.propensity[rows],
            position=logs.position[rows], action_dist=dist[rows], estimated_rewards_by_reg_model=q_hat)
        assert value == pytest.approx(direct, rel=1e-12), name
    # SNIPW renormalises on the resample: not obp's full-sample round rewards resampled
    w = dist[np.arange(300), logs.action, 0] / logs.propensity
    obp_style = (logs.reward * w / w.mean())[rows].mean()
    assert values[names.index("snipw")] != pytest.approx(obp_style, rel=1e-6)


def test_refit_keeps_copies_of_a_row_in_one_fold(monkeypatch) -> None:
    """A resampled row is never predicted by a model trained on one of its own copies."""
    logs = logs_and_policy(200, seed=6).logs
    seen = []
    real = rewardmodel.fit_predict

    def spy(logs_, model, seed, train, test):
        seen.append((set(train.tolist()), set(test.tolist())))
        return real(logs_, model, seed, train, test)

    monkeypatch.setattr(rewardmodel, "fit_predict", spy)
    rows = np.random.default_rng(0).integers(200, size=200)
    rewardmodel.refit(logs, rows, "logistic", 3, 0, np.random.default_rng(0))
    assert len(seen) == 3
    for train, test in seen:
        assert not train & test
    assert set().union(*(t for _, t in seen)) == set(rows.tolist())


@pytest.mark.parametrize("model", estimators.MODELS)
def test_refit_predictions_equal_obps_regression_model(model: str) -> None:
    logs = logs_and_policy(400, seed=8).logs
    train, test = np.arange(0, 250), np.arange(250, 400)
    reg = rewardmodel.regression(logs, model, 0)
    reg.fit(context=logs.context[train], action=logs.action[train], reward=logs.reward[train],
            pscore=logs.propensity[train], position=logs.position[train])
    np.testing.assert_allclose(rewardmodel.fit_predict(logs, model, 0, train, test),
                               reg.predict(context=logs.context[test]), rtol=0, atol=1e-12)


def test_point_estimates_equal_obp_run_directly() -> None:
    policy = logs_and_policy(1000, seed=9)
    logs = policy.logs
    ours = estimators.estimate(policy, list(estimators.ESTIMATORS), n_bootstrap=5, seed=4,
                               switch_tau=50.0, dros_lambda=100.0)["estimates"]
    ope = obp().ope
    q_hat = ope.RegressionModel(base_model=rewardmodel.base_model("logistic", True, 4),
                                n_actions=4, action_context=np.eye(4)).fit_predict(
        context=logs.context, action=logs.action, reward=logs.reward, pscore=logs.propensity,
        position=logs.position, n_folds=3, random_state=4)
    theirs = ope.OffPolicyEvaluation(
        bandit_feedback=logs.bandit_feedback(),
        ope_estimators=[ope.DirectMethod(), ope.InverseProbabilityWeighting(),
                        ope.SelfNormalizedInverseProbabilityWeighting(), ope.DoublyRobust(),
                        ope.SelfNormalizedDoublyRobust(), ope.SwitchDoublyRobust(tau=50.0),
                        ope.DoublyRobustWithShrinkage(lambda_=100.0)],
    ).estimate_policy_values(action_dist=policy.action_dist, estimated_rewards_by_reg_model=q_hat)
    for name in estimators.ESTIMATORS:
        assert ours[name]["value"] == pytest.approx(theirs[name], rel=1e-12), name


def test_weight_diagnostics_by_hand() -> None:
    policy = logs_and_policy(500, seed=3)
    logs = policy.logs
    weights = policy.action_dist[np.arange(logs.n_rows), logs.action, 0] / logs.propensity
    d = estimators.weight_diagnostics(policy.action_dist, logs)
    assert d["effective_sample_size"] == pytest.approx(weights.sum() ** 2 / (weights ** 2).sum())
    assert d["max_weight"] == pytest.approx(weights.max())
    assert d["mean_weight"] == pytest.approx(weights.mean())
    assert d["nonzero_weight_share"] == 1.0


def test_estimates_are_reproducible() -> None:
    policy = logs_and_policy(1000, seed=11)
    a = estimators.estimate(policy, ["dm", "dr", "dr-os"], n_bootstrap=50, seed=5)
    b = estimators.estimate(policy, ["dm", "dr", "dr-os"], n_bootstrap=50, seed=5)
    assert a == b


@pytest.mark.parametrize("spec", ["greedy-dm:logistic", "greedy-dm:lightgbm:0.2", "ipw-learner:logistic"])
def test_trained_policies_split_in_time_and_respect_action_sets(spec: str) -> None:
    df = synthetic.generate(WORLD, 2000, seed=2)
    df["action_set"] = np.where(df["user_type"] % 2 == 0, "plan0|plan1|plan2|plan3", "plan0|plan1|plan2")
    df.loc[(df["user_type"] % 2 == 1) & (df["action"] == "plan3"), "action"] = "plan2"
    logs = to_logged_data(df, "synthetic", reward_range=(0.0, 1.0),
                          needs_exploration=True, min_rows=100)
    policy = target.build(spec, logs, train_fraction=0.25, seed=0)
    assert policy.n_train == 500 and policy.logs.n_rows == 1500
    dist = policy.action_dist[:, :, 0]
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    assert (dist[~policy.logs.available] == 0).all()
    # evaluated rows are the later ones in time
    np.testing.assert_array_equal(policy.logs.reward, df["reward"].to_numpy()[500:])


def test_greedy_dm_beats_the_logger_in_truth() -> None:
    """Learned from logs, the greedy policy is better than the logging policy (exact values)."""
    df = synthetic.generate(WORLD, 4000, seed=4)
    logs = to_logged_data(df, "synthetic", reward_range=(0.0, 1.0),
                          needs_exploration=True, min_rows=100)
    policy = target.build("greedy-dm:lightgbm", logs, train_fraction=0.5, seed=0)
    types = df["user_type"].to_numpy()[2000:]
    chosen = policy.action_dist[:, :, 0].argmax(axis=1)
    assert WORLD.q[types, chosen].mean() > WORLD.value(WORLD.logging)


def test_resamples_without_a_positive_weight_are_left_out_and_counted(tmp_path) -> None:
    """A target that only one logged row matches: resamples that miss that row leave SNIPW
    undefined (0/0); the interval uses the others and says how many there were."""
    import json

    import pandas as pd

    from ltrr.ope import evaluate, report

    df = synthetic.generate(WORLD, 200, seed=3)
    df["action"] = np.where(np.arange(200) == 7, "plan1", "plan0")
    df.loc[7, "propensity"] = 0.5
    policy = tmp_path / "policy.csv"
    pd.DataFrame({"plan0": 0.0, "plan1": 1.0, "plan2": 0.0, "plan3": 0.0}, index=range(200)).to_csv(
        policy, index=False)
    doc = evaluate(df, f"file:{policy}", estimators=["ipw", "snipw"], n_bootstrap=200)
    snipw = doc["estimates"]["snipw"]
    # P(a resample misses row 7) = (199/200)^200, about 37%
    assert 40 <= snipw["undefined_resamples"] <= 110
    assert snipw["ci_lower"] <= snipw["value"] <= snipw["ci_upper"]
    assert "undefined_resamples" not in doc["estimates"]["ipw"]
    json.loads(report.to_json(doc))
    assert "resamples had no positive weight" in report.table(doc)
