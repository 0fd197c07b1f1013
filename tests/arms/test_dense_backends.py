"""The dense arm's backends: OpenVINO (default) against sentence-transformers' own embeddings,
the cache key naming the backend, the export made once, and the PyTorch fallback.

One OpenVINO export of the bundled MiniLM is shared by the module (a module-wide LTRR_HOME);
each test uses a handful of short texts.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import ltrr.arms.dense as dense
from ltrr.arms import build_arm
from ltrr.arms.dense import DenseArm, model_path
from ltrr.arms.dense_openvino import openvino_version
from ltrr.errors import InputError

from worlds import paraphrase_dataset

pytestmark = pytest.mark.skipif(not dense.openvino_available(), reason="openvino not installed")

TEXTS = ["", "a", "Heartbreak ballad a sad song about a broken heart and tears after a breakup",
         "upbeat dance track with heavy bass for the night club",
         "naïve café, déjà vu: UPPER case and 1,234.5 numbers", " ".join(["word"] * 400)]
# fp32 OpenVINO vs PyTorch: the same arithmetic in another order (measured max |diff| ~3e-7)
F32_TOLERANCE = 1e-5
# bf16 rounds every matrix product's inputs (measured min cosine 0.99995 on music entities)
BF16_MIN_COSINE = 0.9995


@pytest.fixture(scope="module", autouse=True)
def shared_export(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LTRR_HOME", str(tmp_path_factory.mktemp("ltrr_home")))
        yield


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path("all-MiniLM-L6-v2"), device="cpu").encode(TEXTS)


def test_openvino_f32_equals_sentence_transformers(reference):
    arm = DenseArm(paraphrase_dataset(), backend="openvino")
    assert arm.backend == "openvino" and arm.precision == "f32"
    got = arm.encoder.encode_docs(TEXTS)
    assert got.dtype == np.float32 and got.shape == reference.shape
    assert np.abs(got - reference).max() <= F32_TOLERANCE
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # batching (and so padding) does not change a vector; queries go the same way
    np.testing.assert_allclose(arm.encoder.encode_docs(TEXTS, batch_size=2), got, atol=1e-6)
    np.testing.assert_allclose(arm.encode_queries(TEXTS), got, atol=1e-6)
    assert arm.encoder.encode_docs([]).shape == (0, reference.shape[1])


def test_openvino_bf16_is_close(reference):
    got = DenseArm(paraphrase_dataset(), backend="openvino",
                   precision="bf16").encoder.encode_docs(TEXTS)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    assert (got * reference).sum(axis=1).min() >= BF16_MIN_COSINE


def test_cache_key_names_backend_and_precision():
    ds = paraphrase_dataset()
    torch_arm = DenseArm(ds, backend="torch")
    f32 = DenseArm(ds, backend="openvino")
    bf16 = DenseArm(ds, backend="openvino", precision="bf16")
    # the PyTorch pipeline keeps the key it always had: its old indexes stay valid
    assert torch_arm.settings() == {"model": "all-MiniLM-L6-v2", "fields": ["title", "text"]}
    assert f32.settings() == {**torch_arm.settings(),
                              "backend": f"openvino {openvino_version()}",
                              "precision": "f32"}
    assert bf16.settings()["precision"] == "bf16"
    assert len({torch_arm.index_dir, f32.index_dir, bf16.index_dir}) == 3


def test_export_is_made_once_and_rebuilt_when_damaged(capsys):
    queries = pd.DataFrame({"qid": ["a"], "query": ["melancholy music for a breakup"]})
    first = build_arm("dense", paraphrase_dataset(), num_results=3, backend="openvino")
    res = first.transform(queries)
    assert res["docno"].iloc[0] == "p1"
    folder = first.encoder.folder
    stamp = (folder / "model.bin").stat().st_mtime_ns
    capsys.readouterr()
    again = build_arm("dense", paraphrase_dataset(), num_results=3, backend="openvino")
    pd.testing.assert_frame_equal(again.transform(queries), res)
    assert again.index_source == "cache" and again.encoder.folder == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp
    assert "exporting" not in capsys.readouterr().err
    os.truncate(folder / "model.bin", 1000)
    damaged = build_arm("dense", paraphrase_dataset(), num_results=3, backend="openvino")
    pd.testing.assert_frame_equal(damaged.transform(queries), res, check_exact=False,
                                  atol=1e-6)
    err = capsys.readouterr().err
    assert f"ltrr: {folder}: corrupt cached OpenVINO export (model.bin has 1000 bytes" in err


def test_a_cuda_gpu_keeps_torch(monkeypatch):
    monkeypatch.setattr(dense, "cuda_available", lambda: True)
    assert DenseArm(paraphrase_dataset()).backend == "torch"
    assert DenseArm(paraphrase_dataset(), backend="openvino").backend == "openvino"


def test_without_openvino_the_arm_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(dense, "openvino_available", lambda: False)
    arm = build_arm("dense", paraphrase_dataset(), num_results=3)
    assert arm.backend == "torch" and "backend" not in arm.settings()
    res = arm.transform(pd.DataFrame({"qid": ["b"], "query": ["songs to dance to at a disco"]}))
    assert res["docno"].iloc[0] == "p2"
    assert type(arm.encoder).__name__ == "SBertBiEncoder"
    with pytest.raises(InputError, match="backend 'openvino' needs the openvino package"):
        DenseArm(paraphrase_dataset(), backend="openvino")


@pytest.mark.parametrize("params, message", [
    ({"backend": "onnx"}, "backend must be one of auto, openvino, torch, got 'onnx'"),
    ({"precision": "int8"}, "precision must be one of f32, bf16, got 'int8'"),
    ({"backend": "torch", "precision": "bf16"}, "precision 'bf16' needs backend='openvino'"),
])
def test_bad_backend_settings_are_input_errors(params, message):
    with pytest.raises(InputError, match=message):
        DenseArm(paraphrase_dataset(), **params)
