"""Bad benchmark files: one exact message naming file and key, exit code 2, nothing written."""

from __future__ import annotations

import pytest

from ltrr.cli import main
from ltrr.errors import InputError
from ltrr.experiments.benchmark import load_benchmark
from worlds import BENCHMARK, write_benchmark

CASES = [
    # (replace this, with that, expected message after "<file>, ")
    ('[clicks]\nmodel = "pbm"', '[clicks]\nmodel = "foo"',
     "field 'clicks.model': unknown click model 'foo' (choose from pbm, cascade, dcm)"),
    ('params = "navigational"', 'params = "lazy"',
     "field 'clicks.params': unknown click parameter set 'lazy' (choose from perfect, "
     "navigational, informational)"),
    ('names = ["lexical", "fuzzy", "memory"]', 'names = ["lexical", "bm42"]',
     "field 'arms.names': unknown arm 'bm42' (choose from lexical, dense, memory, fuzzy, "
     "structured)"),
    ('name = "linucb"', 'name = "linucbb"', None),  # message from the policy registry
    ("budget = 12", "budget = 2",
     "field 'plans.union': budget 2 is too small for a plan over lexical+fuzzy+memory"),
    ("[stream]\nlength = 150", "[stream]\nlength = 150\nspeed = 3",
     "field 'stream.speed': unknown key (expected one of length, zipf, new_release_days, split)"),
    ("[ranking]", "[rerankers]\nx = 1\n[ranking]",
     "field 'rerankers': unknown table (expected one of benchmark, arms, plans, features, stream, "
     "clicks, reward, ranking, cost, tuning, rankers, policies)"),
    ("length = 150", 'length = "long"', "field 'stream.length': expected int, got 'long'"),
    ("length = 150", "length = 0", "field 'stream.length': must be >= 1, got 0"),
    ("seeds = [0, 1]", "seeds = []",
     "field 'benchmark.seeds': expected a non-empty list of distinct integers >= 0, got []"),
    ('groups = ["query", "memory"]', 'groups = ["query", "vibes"]',
     "field 'features.groups': unknown feature group 'vibes' (choose from query, idf, memory, "
     "context, post_retrieval)"),
    ('[ranking]\npage = 5', '[ranking]\npage = 5\nfusion = "borda"',
     "field 'ranking.fusion': unknown fusion 'borda' (choose from rrf, combsum)"),
    ("[stream]", "[cost]\nper_candidate = -1\n[stream]",
     "field 'cost.per_candidate': must be >= 0, got -1"),
    ('[clicks]\nmodel = "pbm"\n', '[clicks]\n', "field 'clicks.model': missing required key"),
    # tuning: grids name real hyper-parameters, tuning seeds are not reported seeds
    ('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [0.5, 1.0] }',
     "field 'policies[2].grid': a tuning grid needs a [tuning] table (its seeds and metric)"),
    ('name = "linucb"', 'name = "linucb"\ngrid = { epsilon = [0.1] }\n[tuning]\nseeds = [7]',
     "field 'policies[2].grid.epsilon': policy 'linucb' has no hyper-parameter 'epsilon' "
     "(it takes alpha)"),
    ('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [1.0] }\n[tuning]\nseeds = [1, 7]',
     "field 'tuning.seeds': tuning seeds [1] are also reported seeds (benchmark.seeds); tune on "
     "seeds disjoint from the ones you report"),
    ('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [-1.0] }\n[tuning]\nseeds = [7]',
     "field 'policies[2].grid': policy 'linucb': param 'alpha' must be a number >= 0, got -1.0"),
    ('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [] }\n[tuning]\nseeds = [7]',
     "field 'policies[2].grid.alpha': expected a non-empty list of distinct values, got []"),
    ('name = "linucb"', 'name = "linucb"\ngrid = { alpha = [1.0] }\n[tuning]\nseeds = [7]\n'
     'metric = "vibes"',
     "field 'tuning.metric': unknown metric 'vibes' (choose from reward, clicks, expected_reward, "
     "candidate_recall, ndcg@10)"),
    # the post-retrieval probe
    ('groups = ["query", "memory"]', 'groups = ["query", "memory"]\nprobe_depth = 5',
     "field 'features.probe_depth': only used with the post_retrieval feature group"),
    ('groups = ["query", "memory"]', 'groups = ["query", "post_retrieval"]\nprobe_arms = ["dense"]',
     "field 'features.probe_arms': expected distinct names from arms.names, got ['dense']"),
]


def bad_file(tmp_path, old: str, new: str):
    assert old in BENCHMARK, old
    return write_benchmark(tmp_path, BENCHMARK.replace(old, new, 1))


@pytest.mark.parametrize("old,new,message", CASES)
def test_bad_input_message(tmp_path, old, new, message):
    path = bad_file(tmp_path, old, new)
    with pytest.raises(InputError) as err:
        load_benchmark(path)
    text = str(err.value)
    assert text.startswith(f"{path}, ")
    if message is None:
        assert "field 'policies[2].name'" in text and "unknown policy 'linucbb'" in text
    elif message.endswith("lexical+fuzzy+memory"):
        assert text.startswith(f"{path}, {message}")
    else:
        assert text == f"{path}, {message}"


@pytest.mark.parametrize("old,new,message", CASES[:4] + CASES[-8:-5])
def test_cli_exit_code_2_and_nothing_written(tmp_path, capsys, old, new, message):
    path = bad_file(tmp_path, old, new)
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ltrr run: error: {path}, ")
    assert "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny", "tiny.toml"]


def test_missing_dataset(tmp_path, capsys):
    path = bad_file(tmp_path, 'dataset = "beir:{folder}"', 'dataset = "beir:/no/such/folder"')
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ltrr run: error: {path}, field 'benchmark.dataset': ")
    assert not out.exists()


def test_unknown_dataset_id(tmp_path):
    path = bad_file(tmp_path, 'dataset = "beir:{folder}"', 'dataset = "ltrr:songs"')
    from ltrr.experiments.runner import prepare

    with pytest.raises(InputError, match="field 'benchmark.dataset': unknown dataset 'ltrr:songs'"):
        prepare(load_benchmark(path))


def test_bad_arm_parameter(tmp_path):
    path = bad_file(tmp_path, "[plans]", "[arms.lexical]\nk1 = 0.9\nspeed = 2\n\n[plans]")
    from ltrr.experiments.runner import prepare

    with pytest.raises(InputError, match=r"field 'arms.lexical': .*speed"):
        prepare(load_benchmark(path))


def test_missing_file(tmp_path):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2


def test_not_toml(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("[benchmark\nname=")
    with pytest.raises(InputError, match=r"x.toml: not valid TOML"):
        load_benchmark(path)


def test_unknown_policy_on_the_command_line(tmp_path):
    path = write_benchmark(tmp_path)
    with pytest.raises(InputError, match="no policy labelled 'nope'"):
        from ltrr.experiments.runner import run_benchmark

        run_benchmark(path, policies=["nope"], out=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_reported_seeds_from_the_command_line_must_not_be_tuning_seeds(tmp_path, capsys):
    path = bad_file(tmp_path, 'name = "linucb"', 'name = "linucb"\ngrid = { alpha = [1.0] }\n'
                    '[tuning]\nseeds = [7]')
    out = tmp_path / "results"
    assert main(["run", str(path), "--seeds", "0,7", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"ltrr run: error: {path}, field '--seeds': tuning seeds [7] are also reported "
                           "seeds (benchmark.seeds); tune on seeds disjoint from the ones you "
                           "report")
    assert not out.exists()
