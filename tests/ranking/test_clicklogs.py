"""Click logs for the ranker: both formats read to the same rows; bad logs get one message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.errors import InputError
from ltrr.kernel.clicks import PositionBasedModel
from ltrr.kernel.pools import CandidatePool
from ltrr.ranking.clicklogs import read_click_log
from ltrr.ranking.features import FeatureSpec, absent_features
from ltrr.ranking.training_data import TopicPools, click_rows, simulate_click_log

EXPECTED = pd.DataFrame({"session": [0, 0, 0, 1, 1], "qid": ["q1", "q1", "q1", "q2", "q2"],
                         "docno": ["a", "b", "c", "b", "d"], "position": [0, 1, 2, 0, 1],
                         "click": [0, 1, 0, 1, 1]})


def check(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame.astype({"session": int, "position": int, "click": int}),
                                  EXPECTED, check_dtype=False)


def test_decision_log_becomes_one_row_per_shown_document(tmp_path):
    path = tmp_path / "log.parquet"
    pd.DataFrame({"step": [0, 1], "qid": ["q1", "q2"], "shown": [["a", "b", "c"], ["b", "d"]],
                  "clicks": [[0, 1, 0], [1, 1]]}).to_parquet(path)
    check(read_click_log(path))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_long_logs_with_or_without_sessions(tmp_path, suffix):
    path = tmp_path / f"log{suffix}"
    long = EXPECTED.drop(columns="session")
    if suffix == ".parquet":
        long.to_parquet(path)
    elif suffix == ".jsonl":
        long.to_json(path, orient="records", lines=True)
    else:
        long.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    check(read_click_log(path))  # sessions from runs of one qid with rising positions
    EXPECTED.assign(session=["s7", "s7", "s7", "s9", "s9"]).to_csv(tmp_path / "s.csv", index=False)
    check(read_click_log(tmp_path / "s.csv"))


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"qid": ["q"], "docno": ["a"], "click": [1]}),
     "field 'position': click log has no positions: clicks training corrects position bias and "
     "needs a 'position' column (0-based shown position) per row"),
    (pd.DataFrame({"qid": ["q", "q"], "docno": ["a", "b"], "position": [0, -1], "click": [1, 0]}),
     "field 'position', row(s) 1: positions must be non-negative integers"),
    (pd.DataFrame({"qid": ["q", "q"], "docno": ["a", "b"], "position": [0, 1], "click": [2, 0]}),
     "field 'click', row(s) 0: clicks must be 0 or 1"),
    (pd.DataFrame({"qid": ["q"], "shown": [["a", "b"]], "clicks": [[1]]}),
     "field 'clicks', row(s) 0: 'clicks' must be a list as long as 'shown' in every row"),
    (pd.DataFrame({"docno": ["a"], "position": [0], "click": [1]}),
     "field 'qid': click log has no 'qid' column"),
    (pd.DataFrame({"qid": ["q"], "action": ["x"]}),
     "not a click log: expected ltrr's decision log (qid, shown, clicks) or the long format "
     "(qid, docno, position, click); columns are ['action', 'qid']"),
])
def test_bad_logs_name_file_field_and_rows(tmp_path, frame, message):
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputError) as err:
        read_click_log(path)
    separator = ", " if message.startswith("field") else ": "
    assert str(err.value) == f"{path}{separator}{message}"


def test_missing_or_unknown_files(tmp_path):
    with pytest.raises(InputError, match="click log not found"):
        read_click_log(tmp_path / "none.csv")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(InputError, match="click log must be .parquet, .csv, .tsv or .jsonl"):
        read_click_log(tmp_path / "x.txt")


def small_pools() -> TopicPools:
    spec = FeatureSpec(("a", "b"))
    pools, docnos, feats = [], [], []
    for t in range(3):
        pool = CandidatePool.from_lists([np.arange(8), np.arange(4, 12)[::-1]],
                                        [np.linspace(2, 1, 8), np.linspace(5, 3, 8)])
        pools.append(pool)
        docnos.append(np.array([f"t{t}d{i:02d}" for i in pool.docs], dtype=object))
        feats.append(np.arange(len(pool.docs) * spec.dim, dtype=float).reshape(-1, spec.dim) + t)
    topics = pd.DataFrame({"qid": ["q0", "q1", "q2"], "query": ["x", "y", "z"]})
    return TopicPools(topics, pools, docnos, [np.zeros(0)] * 3, feats)


def test_simulated_log_is_seeded_and_shows_rrf_pages():
    pools = small_pools()
    grades = [np.where(np.arange(12) % 3 == 0, 4, 0)] * 3
    model = PositionBasedModel("navigational")
    a = simulate_click_log(pools, grades, model, 200, seed=4, page=5)
    b = simulate_click_log(pools, grades, model, 200, seed=4, page=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(simulate_click_log(pools, grades, model, 200, seed=5, page=5))
    assert a["session"].nunique() == 200 and set(a["position"]) == set(range(5))
    assert a.groupby("session")["qid"].nunique().max() == 1
    ctr = a.groupby("position")["click"].mean()
    assert ctr.iloc[0] > ctr.iloc[4]  # examination falls with the position


def test_click_rows_take_pool_features_and_absent_rows_for_the_rest():
    pools = small_pools()
    spec = FeatureSpec(("a", "b"))
    log = pd.DataFrame({"session": [3, 3, 8], "qid": ["q1", "q1", "test-topic"],
                        "docno": ["t1d05", "elsewhere", "t0d00"], "position": [0, 1, 0],
                        "click": [1, 0, 1]})
    X, position, click, group = click_rows(pools, log, spec, None)
    assert position.tolist() == [0, 1] and click.tolist() == [1, 0] and group.tolist() == [0, 0]
    np.testing.assert_array_equal(X[0], pools.features[1][5])
    np.testing.assert_array_equal(X[1], absent_features(spec, 1)[0])
    with pytest.raises(InputError, match=r"no interactions on the 3 training topics \(1 rows"):
        click_rows(pools, log.iloc[2:], spec, None)
