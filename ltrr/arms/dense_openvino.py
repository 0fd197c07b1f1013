"""The dense arm's OpenVINO encoder: the sentence-transformers model, exported once, run by OpenVINO.

Why: encoding the corpus is the longest step of a first run (the music world's 20,000 entities
took 3 minutes with PyTorch on 2 idle cores, 6-19 on 2 cores shared with other jobs). OpenVINO
runs the same fp32 model with fused kernels, one single-threaded stream per core working on
different batches (no cross-core barrier inside every small matrix product, which is where
PyTorch loses most when the cores are shared), and token-sorted batches (1% padding instead
of 11%). ``benchmarks/dense_encoding.py`` compares it with the PyTorch pipeline in one run:
2.35-2.84x on 2 cores shared with other jobs, 1.33x on nearly idle ones (1.4x per core, one
thread each, per CPU-second): about what fp32 allows there, since PyTorch already runs near
the cores' fp32 matrix-product peak.

Precision: ``f32`` (default) gives vectors within ~3e-7 of sentence-transformers' own (nfcorpus
nDCG@10 0.3159, identical to PyTorch's). ``bf16`` (opt-in, on CPUs that compute it natively:
AVX512-BF16, AMX) is another ~2x faster but moves vectors by ~2e-3 (cosine >= 0.99995) and
nfcorpus nDCG@10 to 0.3147, outside ltrr's +-0.001 tolerance for the published 0.3159, so it is
never chosen silently. The output is float32 either way, re-normalised in float32 when the
model ends with ``Normalize``.

What: the whole sentence-transformers pipeline (transformer, pooling, normalisation) is traced
once with OpenVINO's PyTorch frontend (``openvino.frontend``; ``openvino.convert_model``'s
conversion tool would also report usage telemetry) and saved as OpenVINO IR, with the model's
tokenizer and a ``meta.json``, under ``$LTRR_HOME/models/openvino/`` keyed by the model (a local
model folder by its files' sizes and times too) and the OpenVINO version, atomically, as the
arms' indexes are. The export checks, on a few probe texts, that the saved tokenizer gives the
sentence-transformers model's own features and that the exported model's fp32 output matches
its embeddings (max |diff| <= 1e-4); a model that fails (prompts, other modalities, custom
tokenisation) is refused with the hint to use ``backend="torch"``.

Note: importing ``openvino`` records anonymous usage telemetry unless opted out
(``opt_in_out --opt_out``, from the ``openvino-telemetry`` package); ltrr imports it only
when the dense arm encodes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pyterrier_dr

from ltrr.errors import InputError
from ltrr.paths import ltrr_home, settings_key

PROBE_TEXTS = [
    "a", "Heartbreak ballad a sad song about a broken heart and tears after a breakup",
    "UPPER case, punctuation! and numbers 1,234.5 - with   extra   spaces",
    "naïve café déjà vu",
    " ".join(["long"] * 400),  # past max_seq_length: truncation
]
EXPORT_TOLERANCE = 1e-4  # max |diff| of exported fp32 vs sentence-transformers (measured ~2e-7)


def openvino_version() -> str:
    """The installed OpenVINO release, e.g. ``2026.4.1`` (part of the index and export keys)."""
    return importlib.metadata.version("openvino")


def _model_fingerprint(source: str) -> str:
    """A local model folder's file names, sizes and times (a changed model re-exports);
    a hub name as given."""
    folder = Path(source)
    if not folder.exists():
        return source
    digest = hashlib.sha1()
    for item in sorted(folder.rglob("*")):
        if item.is_file():
            stat = item.stat()
            digest.update(f"{item.relative_to(folder)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return f"{folder.resolve()}:{digest.hexdigest()[:16]}"


def export_dir(model_key: str, source: str) -> Path:
    """Where the OpenVINO export of a model lives: ``$LTRR_HOME/models/openvino/<name>-<key>``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(model_key).name)
    return ltrr_home() / "models" / "openvino" / \
        f"{safe}-{settings_key(model=_model_fingerprint(source), openvino=openvino_version())}"


class _Embed:
    """Builds the traceable module: token tensors in, the model's sentence embedding out."""

    @staticmethod
    def module(model):
        import torch

        class Embed(torch.nn.Module):
            def __init__(self, st):
                super().__init__()
                self.st = st

            def forward(self, input_ids, attention_mask, token_type_ids=None):
                features = {"input_ids": input_ids, "attention_mask": attention_mask}
                if token_type_ids is not None:
                    features["token_type_ids"] = token_type_ids
                return self.st(features)["sentence_embedding"]

        return Embed(model).eval()


def _features(tokenizer, texts: Sequence[str], max_length: int) -> dict:
    """What sentence-transformers' Transformer module feeds the model for plain texts."""
    return tokenizer(list(texts), padding=True, truncation="longest_first",
                     max_length=max_length, return_tensors="np")


def export(source: str, folder: Path) -> None:
    """Export sentence-transformers model ``source`` (name or path) to OpenVINO IR in ``folder``."""
    import openvino as ov
    import torch
    from openvino.frontend import FrontEndManager
    from openvino.frontend.pytorch.ts_decoder import TorchScriptPythonDecoder
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize
    from transformers import AutoTokenizer

    model = SentenceTransformer(source, device="cpu").eval()
    refuse = f"arm 'dense': the OpenVINO backend cannot export model '{source}'"
    tokenizer = getattr(model, "tokenizer", None)
    max_length = model.max_seq_length
    if tokenizer is None or not max_length:
        raise InputError(f"{refuse} (no text tokenizer); use backend='torch'", field="backend")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    own = {k: v.numpy() for k, v in model.preprocess(PROBE_TEXTS).items()
           if isinstance(v, torch.Tensor)}
    if not {"input_ids", "attention_mask"} <= set(own) or not set(own) <= set(names):
        raise InputError(f"{refuse} (its features are {sorted(own)}); use backend='torch'",
                         field="backend")
    names = [n for n in names if n in own]
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(folder / "tokenizer"))
    saved = AutoTokenizer.from_pretrained(str(folder / "tokenizer"))
    mine = _features(saved, PROBE_TEXTS, max_length)
    if any(not np.array_equal(own[n], mine[n]) for n in names):
        raise InputError(f"{refuse} (its tokenisation is not the plain tokenizer's); "
                         f"use backend='torch'", field="backend")
    example = {n: torch.from_numpy(own[n][:2, :8].copy()) for n in names}
    example["attention_mask"][0, 5:] = 0  # a padded row, so the mask path is traced
    loggers = [logging.getLogger(name) for name in ("sentence_transformers", "transformers")]
    levels = [logger.level for logger in loggers]
    # tracing warns that shape checks become constants: they hold for every padded batch
    # (the export is checked against sentence-transformers below)
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            decoder = TorchScriptPythonDecoder(_Embed.module(model), example_input=example)
            frontend = FrontEndManager().load_by_framework("pytorch")
            converted = frontend.convert(frontend.load(decoder))
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)
    for port, name in zip(converted.inputs, names):
        port.get_tensor().set_names({name})
    ov.save_model(converted, str(folder / "model.xml"), compress_to_fp16=False)
    expected = model.encode(PROBE_TEXTS, batch_size=len(PROBE_TEXTS), convert_to_numpy=True)
    compiled = ov.Core().compile_model(str(folder / "model.xml"), "CPU",
                                       {"INFERENCE_PRECISION_HINT": "f32"})
    got = compiled({n: mine[n].astype(np.int64) for n in names})[0]
    diff = float(np.abs(got - expected).max())
    if not diff <= EXPORT_TOLERANCE:
        raise InputError(f"{refuse} (its fp32 export differs from sentence-transformers by "
                         f"{diff:.1e}); use backend='torch'", field="backend")
    meta = {"source": source, "inputs": names, "max_seq_length": int(max_length),
            "dimension": int(expected.shape[1]),
            "normalize": any(isinstance(m, Normalize) for m in model),
            "openvino": openvino_version(), "probe_max_abs_diff_f32": diff}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


class OpenVINOBiEncoder(pyterrier_dr.BiEncoder):
    """A pyterrier-dr bi-encoder running an exported sentence-transformers model with OpenVINO.

    Queries and documents go through the same compiled model (one precision), so the index's
    vectors and the queries' are comparable. ``doc_encoder()`` and ``query_encoder()`` are
    pyterrier-dr's, so the arm's FlexIndex pipelines are unchanged.

    The model is compiled for throughput: OpenVINO's streams (one per core here, each a
    single thread) run batches side by side through an ``AsyncInferQueue``, instead of every
    batch splitting its small matrix products over all cores and waiting at each one, which
    is where PyTorch loses most on cores shared with other jobs.

    Args:
        folder: an export made by :func:`export`.
        precision: ``f32`` or ``bf16`` (OpenVINO's ``INFERENCE_PRECISION_HINT``).
        batch_size: texts per inference call.
        streams: parallel inference streams (default: OpenVINO's choice for throughput).
    """

    def __init__(self, folder: Path, precision: str = "f32", batch_size: int = 32,
                 streams: int | None = None, verbose: bool = False) -> None:
        super().__init__(batch_size=batch_size, verbose=verbose)
        import openvino as ov
        from transformers import AutoTokenizer

        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "meta.json").read_text())
        self.model_name = self.meta["source"]
        self.precision = precision
        self.max_length = int(self.meta["max_seq_length"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder / "tokenizer"))
        config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "THROUGHPUT"}
        if streams:
            config["NUM_STREAMS"] = int(streams)
        self.compiled = ov.Core().compile_model(str(self.folder / "model.xml"), "CPU", config)
        self._queue = ov.AsyncInferQueue(
            self.compiled, int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))

    def __repr__(self) -> str:
        return f"OpenVINOBiEncoder({self.model_name!r}, precision={self.precision!r})"

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, input order)."""
        texts = [str(t) for t in texts]
        out = np.empty((len(texts), int(self.meta["dimension"])), dtype=np.float32)
        if not texts:
            return out
        batch_size = int(batch_size or self.batch_size)
        names = self.meta["inputs"]
        encoded = self.tokenizer(texts, padding=False, truncation="longest_first",
                                 max_length=self.max_length)
        lengths = np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64,
                              count=len(texts))
        order = np.argsort(-lengths, kind="stable")

        def done(request, rows):
            out[rows] = request.get_output_tensor(0).data

        self._queue.set_callback(done)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            batch = self.tokenizer.pad({n: [encoded[n][i] for i in rows] for n in names},
                                       padding=True, return_tensors="np")
            self._queue.start_async({n: np.asarray(batch[n], dtype=np.int64) for n in names},
                                    rows)
        self._queue.wait_all()
        if self.meta["normalize"]:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def encode_queries(self, texts, batch_size=None) -> np.ndarray:
        return self.encode(list(texts), batch_size)

    def encode_docs(self, texts, batch_size=None) -> np.ndarray:
        return self.encode(list(texts), batch_size)

    def encode_queries_torch(self, texts, batch_size=None):
        raise NotImplementedError("the OpenVINO encoder is for inference only (no gradients)")
