"""Query generators: the predicted queries a memory index starts from (its cold start).

A generator follows the :class:`QueryGenerator` protocol: ``generate(doc, n)`` returns up to
``n`` queries for one corpus record, most confident first. Two ship with ltrr:

- :class:`ExtractivePseudoQueries` (default, offline, deterministic): the title, "artist title"
  where the record has an artist, then groups of the document's most salient terms by tf-idf
  (document frequencies from :meth:`~ExtractivePseudoQueries.fit` over the corpus).
- :class:`Doc2QueryGenerator`: a seq2seq model (docT5query style) through ``transformers``,
  sampling ``n`` queries per document with top-k sampling under a fixed torch seed.

``make_generator("extractive" | "doc2query:NAME_OR_PATH")`` builds one from a setting string.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Protocol, Sequence, runtime_checkable

from ltrr.errors import InputError

_WORD = re.compile(r"[a-z0-9]+")
# Function words never used as salient terms (a short English list; the corpus' own
# frequent words are discounted by idf anyway).
_STOP = frozenset("""a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why
will with would you your yours""".split())


@runtime_checkable
class QueryGenerator(Protocol):
    """Predicts the queries a document would be found by."""

    name: str

    def generate(self, doc: dict, n: int) -> list[str]:
        """Up to ``n`` queries for corpus record ``doc``, most confident first."""
        ...


class ExtractivePseudoQueries:
    """Pseudo-queries extracted from a record's own fields (no model, no randomness).

    Args:
        title_fields: fields whose whole value is a query ("title"); joined with ``artist``
            when the record has one ("artist title").
        text_fields: fields the salient terms are drawn from.
        terms_per_query: salient terms per generated query.
    """

    name = "extractive"

    def __init__(self, title_fields: Sequence[str] = ("title",),
                 text_fields: Sequence[str] = ("title", "text"), terms_per_query: int = 3) -> None:
        self.title_fields = list(title_fields)
        self.text_fields = list(text_fields)
        self.terms_per_query = int(terms_per_query)
        self.df: Counter[str] = Counter()
        self.n_docs = 0

    def fit(self, docs: Iterable[dict]) -> "ExtractivePseudoQueries":
        """Count document frequencies over the corpus (for the salient-term idf)."""
        self.df, self.n_docs = Counter(), 0
        for doc in docs:
            self.df.update(set(self._words(doc)))
            self.n_docs += 1
        return self

    def _words(self, doc: dict) -> list[str]:
        text = " ".join(str(doc.get(f) or "") for f in self.text_fields).lower()
        return [w for w in _WORD.findall(text) if w not in _STOP and len(w) > 2]

    def salient_terms(self, doc: dict) -> list[str]:
        """The record's words by tf-idf, highest first (ties: first occurrence)."""
        words = self._words(doc)
        tf = Counter(words)
        first = {w: i for i, w in reversed(list(enumerate(words)))}
        n = max(self.n_docs, 1)

        def weight(w: str) -> float:
            return (1 + math.log(tf[w])) * math.log((n + 1) / (self.df.get(w, 0) + 1) + 1)

        return sorted(tf, key=lambda w: (-weight(w), first[w]))

    def generate(self, doc: dict, n: int) -> list[str]:
        queries: list[str] = []

        def add(q: str) -> None:
            q = " ".join(q.split())
            if q and q.lower() not in {x.lower() for x in queries} and len(queries) < n:
                queries.append(q)

        for field in self.title_fields:
            title = str(doc.get(field) or "")
            add(title)
            artist = str(doc.get("artist") or "")
            if artist and artist.lower() != title.lower():
                add(f"{artist} {title}")
        terms = self.salient_terms(doc)
        size = self.terms_per_query
        for start in range(0, len(terms), size):
            if len(queries) >= n:
                break
            add(" ".join(terms[start:start + size]))
        return queries


class Doc2QueryGenerator:
    """Queries sampled from a seq2seq doc2query model (e.g. castorini/doc2query-t5-base-msmarco).

    Args:
        model_name_or_path: a ``transformers`` seq2seq model (name or local folder).
        text_fields: fields joined as the model input.
        max_input_tokens, max_query_tokens: truncation of input and output.
        top_k: top-k sampling (docTTTTTquery used 10).
        seed: torch seed set before each document, so a document's queries do not depend on
            the order documents are generated in.
    """

    def __init__(self, model_name_or_path: str, text_fields: Sequence[str] = ("title", "text"),
                 max_input_tokens: int = 512, max_query_tokens: int = 64, top_k: int = 10,
                 seed: int = 0) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.name = f"doc2query:{self.model_name_or_path}"
        self.text_fields = list(text_fields)
        self.max_input_tokens = int(max_input_tokens)
        self.max_query_tokens = int(max_query_tokens)
        self.top_k = int(top_k)
        self.seed = int(seed)
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        if self._model is None:
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.model_name_or_path)
                self._model = AutoModelForSeq2SeqLM.from_pretrained(self.model_name_or_path).eval()
            except (OSError, ValueError) as err:
                raise InputError(f"query generator: cannot load seq2seq model "
                                 f"'{self.model_name_or_path}' ({err})",
                                 field="query_generator") from None

    def generate(self, doc: dict, n: int) -> list[str]:
        import torch

        self._load()
        text = " ".join(str(doc.get(f) or "") for f in self.text_fields).strip()
        inputs = self._tokenizer(text, return_tensors="pt", truncation=True,
                                 max_length=self.max_input_tokens)
        torch.manual_seed(self.seed)
        with torch.no_grad():
            out = self._model.generate(**inputs, do_sample=True, top_k=self.top_k,
                                       max_length=self.max_query_tokens, num_return_sequences=n)
        queries: list[str] = []
        for q in self._tokenizer.batch_decode(out, skip_special_tokens=True):
            q = " ".join(q.split())
            if q and q not in queries:
                queries.append(q)
        return queries


def make_generator(setting: str | QueryGenerator) -> QueryGenerator:
    """A generator from ``"extractive"`` or ``"doc2query:NAME_OR_PATH"`` (or pass one through)."""
    if isinstance(setting, QueryGenerator):
        return setting
    if setting == "extractive":
        return ExtractivePseudoQueries()
    if isinstance(setting, str) and setting.startswith("doc2query:") and setting[10:].strip():
        return Doc2QueryGenerator(setting[10:].strip())
    raise InputError(f"unknown query generator '{setting}'; use 'extractive' or "
                     f"'doc2query:MODEL_NAME_OR_PATH'", field="query_generator")
