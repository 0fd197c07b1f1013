"""Arms that run neural models: the dense arm with the real bundled MiniLM, and the doc2query
code path with a tiny randomly initialised T5 (no real doc2query model exists offline)."""

from __future__ import annotations

import pandas as pd
import pytest

from ltrr.arms import build_arm
from ltrr.arms.querygen import Doc2QueryGenerator, ExtractivePseudoQueries, make_generator
from ltrr.errors import InputError
from worlds import PARAPHRASE_DOCS, paraphrase_dataset


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LTRR_HOME", str(tmp_path / "ltrr_home"))


def test_dense_finds_paraphrase_with_minilm():
    arm = build_arm("dense", paraphrase_dataset(), num_results=3)
    qs = pd.DataFrame({"qid": ["a", "b", "c"],
                       "query": ["melancholy music for when your relationship ended",
                                 "songs to dance to at a disco",
                                 "cultivating blossoms in the backyard"]})
    res = arm.transform(qs)
    firsts = res[res["rank"] == 0].set_index("qid")["docno"].to_dict()
    assert firsts == {"a": "p1", "b": "p2", "c": "p7"}
    assert arm.index_source == "built"
    # the lexical arm cannot bridge the vocabulary gap of the first query
    lexical = build_arm("lexical", paraphrase_dataset(), num_results=3).transform(qs.iloc[:1])
    assert "p1" not in set(lexical["docno"])
    again = build_arm("dense", paraphrase_dataset(), num_results=3)
    pd.testing.assert_frame_equal(again.transform(qs), res, check_exact=False, atol=1e-5)
    assert again.index_source == "cache"


def test_dense_unknown_model_is_input_error(tmp_path):
    arm = build_arm("dense", paraphrase_dataset(), model=str(tmp_path / "no-such-model"))
    with pytest.raises(InputError, match="cannot load sentence-transformers model"):
        arm.load()


def tiny_t5(folder):
    """A 1-layer T5 with random weights and a word-level tokenizer, saved to ``folder``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration
    import torch

    words = sorted({w.lower() for _, t, x in PARAPHRASE_DOCS for w in f"{t} {x}".split()})
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                        eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(vocab), d_model=16, d_ff=32, d_kv=8, num_layers=1,
                      num_decoder_layers=1, num_heads=2, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_doc2query_code_path_with_tiny_t5(tmp_path):
    path = str(tiny_t5(tmp_path / "t5"))
    gen = Doc2QueryGenerator(path, max_query_tokens=6)
    doc = {"docno": "p1", "title": "Heartbreak ballad", "text": PARAPHRASE_DOCS[0][2]}
    queries = gen.generate(doc, 3)
    assert 1 <= len(queries) <= 3 and all(q.strip() for q in queries)
    assert gen.generate(doc, 3) == queries  # seeded: same document, same queries
    from_setting = make_generator(f"doc2query:{path}")
    assert isinstance(from_setting, Doc2QueryGenerator)
    assert from_setting.model_name_or_path == path
    # short queries keep the random model's generation quick on CPU
    arm = build_arm("memory", paraphrase_dataset(), n_queries=2,
                    query_generator=Doc2QueryGenerator(path, max_query_tokens=6))
    assert arm.settings()["generator"] == f"doc2query:{path}"
    arm.load()
    assert arm.index_source == "built"
    assert arm.search(queries[0], 5)  # a generated query finds something


def test_query_generator_settings():
    assert isinstance(make_generator("extractive"), ExtractivePseudoQueries)
    with pytest.raises(InputError, match="unknown query generator 'gpt'"):
        make_generator("gpt")
    with pytest.raises(InputError, match="cannot load seq2seq model"):
        Doc2QueryGenerator("/no/such/model").generate({"text": "x"}, 1)


def test_extractive_pseudo_queries():
    docs = [{"title": "Silver Crow", "artist": "Copper Lake",
             "text": "banjo banjo and fiddle for a summer barn dance"},
            {"title": "Other", "text": "summer rain"}]
    gen = ExtractivePseudoQueries().fit(docs)
    queries = gen.generate(docs[0], 4)
    assert queries[:2] == ["Silver Crow", "Copper Lake Silver Crow"]
    assert queries[2].split()[0] == "banjo"  # repeated and rare: most salient
    assert len(queries) == 4 and len(gen.generate(docs[0], 1)) == 1
