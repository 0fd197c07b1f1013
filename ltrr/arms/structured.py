"""The structured arm: query understanding onto structured fields, then a filtered, ordered search.

Where a corpus has structured fields (the music world: type, genres, moods, locale, artist,
release year), a query such as "new country songs from the 90s" is understood as constraints
``type=track, genres∋country, release_year∈[1990,1999]`` plus "sort by recency". The arm returns
the entities satisfying all constraints, then those satisfying fewer (most first), each group
ordered by popularity (or by release recency when the query asks for new/latest/recent things).
No library does this field-value parsing, so it is written here; it is deliberately simple.

Query understanding:

- text is lower-cased, split on non-alphanumerics, and each token singularised ("songs" ->
  "song", "blues" -> "blue"; field values and aliases go through the same function);
- query n-grams are matched to field values greedily, longest first; one span can mean several
  (field, value) alternatives, any of which satisfies it (e.g. a word that is a genre and a mood);
- year fields understand decades: "90s", "'90s", "1990s", "nineties" (and 4-digit years);
- "new", "newest", "latest", "recent" switch the order to release recency.

Which fields take part comes from ``dataset.meta["structured_fields"]``, either a list of
field names or a dict ``field -> spec`` with optional keys ``kind`` (``"categorical"`` for one
string per entity, ``"set"`` for a list, a space-separated string or a dict of weights,
``"year"`` for an integer year)
and ``aliases`` (``{value: [query phrase, ...]}``, e.g. ``{"track": ["songs", "tracks"]}``,
``{"us": ["american"]}``). A spec may also be the alias dict itself. Kinds not given are
inferred from the corpus values. ``dataset.meta["recency"]`` (optional) names the recency field,
its direction and extra recency words: ``{"field": "release_day", "newer_is": "smaller",
"words": ["new", "latest"]}`` (default: ``release_day``, larger is newer).
"""

from __future__ import annotations

import pickle
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.arms.base import Arm, ranking_frame, require_fields
from ltrr.datasets.base import Dataset
from ltrr.errors import InputError

RECENCY_WORDS = frozenset({"new", "newest", "latest", "recent"})
STOPWORDS = frozenset({"a", "an", "the", "of", "from", "by", "for", "in", "on", "and", "or",
                       "to", "with", "me", "my", "i", "you", "us", "it", "is", "some", "any", "best",
                       "top"})
DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
                "seventies": 70, "eighties": 80, "nineties": 90}
_TOKEN = re.compile(r"[a-z0-9]+")


def singular(token: str) -> str:
    """A light plural stripper shared by queries and field values ("songs" -> "song")."""
    if len(token) <= 3 or any(c.isdigit() for c in token):
        return token
    if token.endswith(("ches", "shes", "xes", "sses")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens of ``text`` (lower-cased, alphanumeric runs, singularised)."""
    return tuple(singular(t) for t in _TOKEN.findall(str(text).lower()))


def decade_of(token: str) -> int | None:
    """The first year of the decade a token names ("90s", "1990s", "nineties"), else None."""
    word = token if token in DECADE_WORDS else token + "s"  # tokens arrive singularised
    if word in DECADE_WORDS:
        return 1900 + DECADE_WORDS[word]
    m = re.fullmatch(r"(\d{2})?(\d)0s", token)
    if m is None:
        return None
    if m.group(1):
        return int(m.group(1) + m.group(2) + "0")
    two = int(m.group(2)) * 10
    return (2000 if two <= 20 else 1900) + two


@dataclass
class FieldSpec:
    """One structured field: its kind and the query phrases that name each value."""

    name: str
    kind: str
    aliases: dict[str, list[str]]


def _parse_specs(dataset: Dataset, sample: dict) -> list[FieldSpec]:
    """The structured fields of ``dataset.meta`` as FieldSpecs (InputError if missing)."""
    raw = dataset.meta.get("structured_fields")
    if not raw:
        raise InputError(f"arm 'structured' needs structured fields, but dataset '{dataset.id}' "
                         f"declares none (meta['structured_fields'])", field="structured_fields")
    if isinstance(raw, (list, tuple)):
        raw = {name: {} for name in raw}
    require_fields(dataset, "structured", list(raw))
    specs = []
    for name, spec in raw.items():
        spec = spec if isinstance(spec, dict) else {}
        if spec and not set(spec) & {"kind", "aliases", "values"}:
            spec = {"aliases": spec}  # the alias dict itself
        kind = spec.get("kind") or _infer_kind(name, sample.get(name))
        if kind not in ("categorical", "set", "year"):
            raise InputError(f"dataset '{dataset.id}': structured field '{name}' has kind "
                             f"'{kind}'; expected categorical, set or year",
                             field="structured_fields")
        aliases = {}
        for value, phrases in (spec.get("aliases") or {}).items():
            if isinstance(phrases, str):
                phrases = [phrases]
            aliases[str(value)] = [p for p in phrases if isinstance(p, str)]
        specs.append(FieldSpec(name, kind, aliases))
    return specs


def _infer_kind(name: str, value: object) -> str:
    if isinstance(value, (list, tuple, set, dict, np.ndarray)):
        return "set"
    if isinstance(value, (int, np.integer)) and "year" in name:
        return "year"
    return "categorical"


def _values(value: object, kind: str) -> list[str]:
    """The values an entity has for a field: a list, a dict's keys, a space-separated string
    (``set`` fields), or one value."""
    if value is None:
        return []
    if kind == "set" and isinstance(value, str):
        return value.split()
    if isinstance(value, dict):
        return [str(v) for v in value]
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [str(v) for v in value]
    return [str(value)]


class StructuredArm(Arm):
    """Field-value query understanding + constrained search ordered by popularity or recency.

    Args:
        dataset: a collection whose ``meta["structured_fields"]`` declares its fields.
        num_results: depth (results per query).
        popularity_field: numeric field ordering results (higher first).
        recency_field: numeric field for "new/latest" queries (higher = more recent); falls
            back to the year field when the corpus lacks it.
    """

    name = "structured"

    def __init__(self, dataset: Dataset, num_results: int = 1000,
                 popularity_field: str = "popularity", recency_field: str | None = None,
                 newer_is: str | None = None) -> None:
        super().__init__(dataset, num_results)
        if not dataset.meta.get("structured_fields"):
            _parse_specs(dataset, {})  # raises the InputError
        require_fields(dataset, self.name, [popularity_field])
        recency = dataset.meta.get("recency") or {}
        self.popularity_field = popularity_field
        self.recency_field = recency_field or recency.get("field", "release_day")
        self.newer_is = newer_is or recency.get("newer_is", "larger")
        if self.newer_is not in ("larger", "smaller"):
            raise InputError(f"arm 'structured': newer_is must be 'larger' or 'smaller', got "
                             f"'{self.newer_is}'", field="recency")
        self.recency_words = RECENCY_WORDS | {w.lower() for w in recency.get("words", [])}
        self._docnos: np.ndarray | None = None
        self._phrases: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self._postings: dict[tuple[str, str], np.ndarray] = {}
        self._years: dict[str, np.ndarray] = {}
        self._popularity: np.ndarray | None = None
        self._recency: np.ndarray | None = None
        self._max_len = 1

    def settings(self) -> dict:
        return {"fields": self.dataset.meta.get("structured_fields"),
                "popularity": self.popularity_field, "recency": self.recency_field,
                "newer_is": self.newer_is, "recency_words": sorted(self.recency_words)}

    def describe(self) -> str:
        return (f"{self.name}: fields={list(self.dataset.meta['structured_fields'])}, order by "
                f"{self.popularity_field} (recency: {self.recency_field}, newer is "
                f"{self.newer_is}; words {', '.join(sorted(self.recency_words))})")

    def _build(self, path: Path) -> None:
        docs = list(self.dataset.docs())
        specs = _parse_specs(self.dataset, docs[0] if docs else {})
        n = len(docs)
        postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        phrases: dict[tuple[str, ...], set[tuple[str, str]]] = defaultdict(set)
        years: dict[str, np.ndarray] = {}
        for spec in specs:
            if spec.kind == "year":
                years[spec.name] = np.array([int(d.get(spec.name) or 0) for d in docs])
                continue
            for i, doc in enumerate(docs):
                for value in _values(doc.get(spec.name), spec.kind):
                    postings[(spec.name, value)].append(i)
            for field, value in [k for k in postings if k[0] == spec.name]:
                for phrase in [value] + spec.aliases.get(value, []):
                    toks = tokens(phrase)
                    if toks and not (len(toks) == 1 and toks[0] in STOPWORDS | self.recency_words):
                        phrases[toks].add((field, value))
        popularity = np.array([float(d.get(self.popularity_field) or 0.0) for d in docs])
        if n and self.recency_field in docs[0]:
            recency = np.array([float(d.get(self.recency_field) or 0.0) for d in docs])
            if self.newer_is == "smaller":  # e.g. days before today
                recency = -recency
        elif years:
            recency = next(iter(years.values())).astype(float)
        else:
            recency = np.zeros(n)
        state = {
            "docnos": np.array([str(d["docno"]) for d in docs], dtype=object),
            "postings": {k: np.array(v, dtype=np.int64) for k, v in postings.items()},
            "phrases": {k: sorted(v) for k, v in phrases.items()},
            "years": years,
            # ranks in [0, 1): ties keep corpus order, higher value -> higher key
            "popularity": _unit_rank(popularity),
            "recency": _unit_rank(recency),
        }
        path.mkdir(parents=True)
        with open(path / "structured.pkl", "wb") as out:
            pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)

    def _open(self, path: Path) -> None:
        with open(path / "structured.pkl", "rb") as src:
            state = pickle.load(src)
        self._docnos = state["docnos"]
        self._postings = state["postings"]
        self._phrases = state["phrases"]
        self._years = state["years"]
        self._popularity = state["popularity"]
        self._recency = state["recency"]
        self._max_len = max((len(p) for p in self._phrases), default=1)

    def understand(self, query: str) -> tuple[list[list[tuple[str, object]]], bool]:
        """Parse ``query`` into constraints and a recency flag.

        Each constraint is a list of alternatives: ``(field, value)`` for a field value, or
        ``(year_field, (lo, hi))`` for a year range; an entity satisfies the constraint if it
        satisfies any alternative.
        """
        self.load()
        toks = tokens(query)
        constraints: list[list[tuple[str, object]]] = []
        recent = False
        i = 0
        while i < len(toks):
            for n in range(min(self._max_len, len(toks) - i), 0, -1):
                alts = self._phrases.get(toks[i:i + n])
                if alts:
                    constraints.append(list(alts))
                    i += n
                    break
            else:
                tok = toks[i]
                decade = decade_of(tok)
                if tok in self.recency_words:
                    recent = True
                elif decade is not None and self._years:
                    constraints.append([(f, (decade, decade + 9)) for f in self._years])
                elif re.fullmatch(r"(19|20)\d\d", tok) and self._years:
                    constraints.append([(f, (int(tok), int(tok))) for f in self._years])
                i += 1
        return constraints, recent

    def _mask(self, alternatives: list[tuple[str, object]]) -> np.ndarray:
        mask = np.zeros(len(self._docnos), dtype=bool)
        for field, value in alternatives:
            if isinstance(value, tuple):
                lo, hi = value
                mask |= (self._years[field] >= lo) & (self._years[field] <= hi)
            else:
                mask[self._postings[(field, value)]] = True
        return mask

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (docno, score) for one query; score = constraints satisfied + order key."""
        constraints, recent = self.understand(query)
        if not constraints and not recent:
            return []
        key = self._recency if recent else self._popularity
        if constraints:
            count = np.sum([self._mask(c) for c in constraints], axis=0)
            candidates = np.flatnonzero(count > 0)
            score = count[candidates] + key[candidates]
        else:
            candidates = np.arange(len(self._docnos))
            score = key.copy()
        k = min(k, len(candidates))
        if k == 0:
            return []
        top = np.argpartition(-score, k - 1)[:k]
        return list(zip(self._docnos[candidates[top]], score[top].tolist()))

    def _retrieve(self, queries: pd.DataFrame, k: int) -> pd.DataFrame:
        qidx, docnos, scores = [], [], []
        for i, query in enumerate(queries["query"].astype(str)):
            for docno, score in self.search(query, k):
                qidx.append(i)
                docnos.append(docno)
                scores.append(score)
        return ranking_frame(queries, np.array(qidx, dtype=np.int64), docnos, np.array(scores))


def _unit_rank(values: np.ndarray) -> np.ndarray:
    """Values mapped to [0, 1) by rank (order-preserving; ties broken by position)."""
    if len(values) == 0:
        return values.astype(float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks / len(values)
