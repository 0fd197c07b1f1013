"""The query stream: Zipf popularity (head repeats, tail rare), weights, seeds, releases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltrr.errors import InputError
from ltrr.simulation.stream import release_steps, sample_stream, topic_probabilities

TOPICS = pd.DataFrame({"qid": [f"q{i}" for i in range(200)], "query": ["x"] * 200})


def test_zipf_head_repeats_and_tail_is_rare():
    stream = sample_stream(TOPICS, 5000, 1.0, seed=0)
    counts = np.sort(np.bincount(stream, minlength=200))[::-1]
    assert counts[0] > 400  # 1 / H(200) ~ 17% of the stream
    assert counts[:10].sum() > 0.4 * 5000
    assert (counts <= 5).sum() > 50  # a long tail seen a few times or never


def test_stream_is_seeded():
    assert np.array_equal(sample_stream(TOPICS, 300, 1.0, 4), sample_stream(TOPICS, 300, 1.0, 4))
    assert not np.array_equal(sample_stream(TOPICS, 300, 1.0, 4),
                              sample_stream(TOPICS, 300, 1.0, 5))


def test_zipf_exponent_sharpens_the_head():
    rng = np.random.default_rng(0)
    flat = np.sort(topic_probabilities(TOPICS, 0.5, rng))[::-1]
    steep = np.sort(topic_probabilities(TOPICS, 2.0, rng))[::-1]
    assert steep[0] > flat[0]
    assert steep[0] / steep[1] == pytest.approx(4.0)


def test_weight_column_is_used():
    topics = TOPICS.head(3).assign(weight=[0.0, 1.0, 3.0])
    stream = sample_stream(topics, 4000, 1.0, seed=1)
    counts = np.bincount(stream, minlength=3)
    assert counts[0] == 0
    assert counts[2] / counts[1] == pytest.approx(3.0, rel=0.15)


def test_bad_weights():
    topics = TOPICS.head(3).assign(weight=[1.0, -1.0, 2.0])
    with pytest.raises(InputError, match="topic weights must be finite"):
        sample_stream(topics, 10, 1.0, seed=0)


def test_release_steps_map_the_last_days_onto_the_stream():
    days = np.array([0.0, 50.0, 90.0, 95.0, 100.0, np.nan])
    steps = release_steps(days, 1000, new_release_days=20)
    assert steps.tolist() == [0, 0, 500, 750, 999, 0]
    assert release_steps(days, 1000, 0).tolist() == [0] * 6
