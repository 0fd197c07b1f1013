"""The music world (``ltrr:music``): a generated, seeded music-search catalogue.

``load(size=20000, seed=0)`` builds, in a few seconds and deterministically from ``seed``, a
catalogue of tracks, artists, albums, playlists and podcasts with English titles and
descriptions, and a query log whose intents each favour a different retrieval strategy
(see ``datasets/music.md`` for the dataset card).

Corpus records (dicts): ``docno`` (``t00001``, ``ar00001``, ``al…``, ``pl…``, ``pc…``), ``type``,
``title``, ``text``, ``artist`` (an artist's own name; a podcast's host; "Various Artists" for
playlists), ``genres`` ("rock country"), ``genre_weights`` ("rock:0.7 country:0.3"), ``moods``
("calm dreamy"), ``locale`` ("us", "br"…), ``release_year`` (int; an artist's first year),
``release_day`` (int, days before the world's today; 0 = today; an artist's latest release),
``first_release_day`` (int, the same scale: when the entity first exists; an artist's first
release, for every other type its own ``release_day``), ``popularity`` (float, Zipf: the r-th most popular entity has 100 / r).

``Dataset.meta``:

- ``structured_fields``: ``{field: {"kind": "categorical" | "set" | "year", "aliases":
  {value: [query phrases]}}}`` for ``type``, ``genres``, ``moods``, ``locale``, ``artist`` and
  ``release_year`` (decades such as "90s" are for the reader of the query to resolve).
  ``set`` fields are space-separated strings in the records.
- ``recency``: ``{"field": "release_day", "available_field": "first_release_day",
  "newer_is": "smaller", "words": ["new", "latest"]}``: ``field`` is what "new" means to a
  searcher (an artist is new when its latest work is), ``available_field`` when an entity
  exists at all (an artist from its first release): the loop hides entities by the latter.
- ``priors``: the document priors a learned ranker may use (:class:`ltrr.ranking.features.DocumentPriors`):
  ``{"popularity": {"field": "popularity"}, "recency": {"field": "release_day", "sign": -1,
  "latest_of_works": {"link": "artist", "types": ["track", "album"], "first":
  "first_release_day"}}}``: in a stream, an artist's recency at a step is its latest track or
  album released by that step (or its first release), never a later one.
- ``synonyms``: the topic lexicon, ``{topic: {"query": [...], "text": [...]}}``.
- ``generator``: ``{"name": "music", "version": VERSION, "size": …, "seed": …}``.

Topics: ``qid, query, intent, weight, head, split`` and the context columns ``locale, hour,
device, preferred_genre``. The split is by query text
(:func:`ltrr.datasets.splits.split_by_text`): every row of a text is in one split, so no query
is both trained on and reported. New releases over time: an entity exists at simulated time
``tau`` (days before today) iff ``first_release_day >= tau``; see :func:`released_by`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.datasets.base import Dataset
from ltrr.datasets.music import catalogue, lexicon, queries
from ltrr.errors import InputError

# 2: first_release_day (an artist exists from its first release); 3: each head text wholly in
# one split (was: half its rows in each), so no query text is in both. Generated worlds are
# cached under LTRR_HOME by this version: bump it with any change to the generator.
VERSION = "music-3"
PUBLIC_FIELDS = ["docno", "type", "title", "text", "artist", "genres", "genre_weights", "moods",
                 "locale", "release_year", "release_day", "first_release_day", "popularity"]
MIN_SIZE = 200


def default_queries(size: int) -> int:
    """Topic rows for a world of ``size`` entities: 15% of it, within [400, 4000]."""
    return int(min(4000, max(400, round(0.15 * size))))


def structured_fields(artists: list[str]) -> dict:
    """The fields a structured-search arm can map query phrases onto, with their aliases."""
    return {
        "type": {"kind": "categorical", "aliases": {t: list(w) for t, w in lexicon.TYPES.items()}},
        "genres": {"kind": "set", "aliases": {g: [g] for g in lexicon.GENRES}},
        "moods": {"kind": "set", "aliases": {m: [m] for m in lexicon.MOODS}},
        "locale": {"kind": "categorical",
                   "aliases": {c: [adj] for c, (adj, _, _) in lexicon.LOCALES.items()}},
        "artist": {"kind": "categorical", "aliases": {a: [a.lower()] for a in artists}},
        "release_year": {"kind": "year", "aliases": {}},
    }


def released_by(first_release_day: np.ndarray, tau: int) -> np.ndarray:
    """Mask of entities that exist at simulated time ``tau`` days before today (by their
    ``first_release_day``)."""
    return np.asarray(first_release_day) >= tau


def generate(size: int, seed: int, n_queries: int) -> tuple[list[dict], pd.DataFrame,
                                                            pd.DataFrame, list[str]]:
    """The world's records, topics, qrels and artist names, generated from ``seed``."""
    rng = np.random.default_rng(seed)
    df, mentions = catalogue.build(size, rng)
    topics, qrels = queries.build(df, mentions, rng, n_queries)
    df["genres"] = [" ".join(g) for g in df["genre_list"]]
    df["genre_weights"] = [" ".join(f"{g}:{w:g}" for g, w in zip(gs, ws))
                           for gs, ws in zip(df["genre_list"], df["gw"])]
    df["moods"] = [" ".join(m) for m in df["mood_list"]]
    df["first_release_day"] = df["first_day"]
    records = df[PUBLIC_FIELDS].to_dict("records")
    for r in records:
        r["release_year"] = int(r["release_year"])
        r["release_day"] = int(r["release_day"])
        r["first_release_day"] = int(r["first_release_day"])
        r["popularity"] = float(r["popularity"])
    return records, topics, qrels, sorted(df.loc[df["type"] == "artist", "artist"])


def _cached(size: int, seed: int, n_queries: int) -> tuple:
    """:func:`generate`'s output, kept under ``LTRR_HOME/datasets`` (a pickle keyed by the
    generator's version, size, seed and topic count): generating the default world takes a
    few seconds, loading it a fraction of one. An entry that does not read back is named on
    stderr and generated again."""
    import pickle

    from ltrr.paths import discard_corrupt, ltrr_home, write_atomically

    path = ltrr_home() / "datasets" / f"music-{VERSION}-{size}-{seed}-{n_queries}.pkl"
    if path.exists():
        try:
            with open(path, "rb") as src:
                return pickle.load(src)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError, AttributeError) as err:
            discard_corrupt(path, "music world", f"{type(err).__name__}: {err}")
    made = generate(size, seed, n_queries)
    path.parent.mkdir(parents=True, exist_ok=True)

    def save(tmp) -> None:
        with open(tmp, "wb") as out:
            pickle.dump(made, out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        write_atomically(path, save)
    except OSError:
        pass  # a read-only cache: the world is generated again next time
    return made


def load(size: int = 20000, seed: int = 0, n_queries: int | None = None) -> Dataset:
    """Generate the music world with ``size`` entities from ``seed`` (see the module docstring).

    ``n_queries`` sets the number of topic rows (default :func:`default_queries`).
    """
    if not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise InputError(f"ltrr:music size must be an integer >= {MIN_SIZE}, got {size!r}", field="size")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"ltrr:music seed must be a non-negative integer, got {seed!r}", field="seed")
    if n_queries is not None and (not isinstance(n_queries, (int, np.integer)) or n_queries < 100):
        raise InputError(f"ltrr:music n_queries must be an integer >= 100, got {n_queries!r}",
                         field="n_queries")
    n_queries = int(n_queries or default_queries(int(size)))
    records, topics, qrels, artists = _cached(int(size), int(seed), n_queries)
    return Dataset(
        id=f"ltrr:music?size={int(size)}&seed={int(seed)}",
        docs=lambda: iter([dict(r) for r in records]),
        topics=topics,
        qrels=qrels,
        text_fields=["title", "text"],
        fields=list(PUBLIC_FIELDS),
        num_docs=len(records),
        context_columns=list(queries.CONTEXT_COLUMNS),
        meta={
            "structured_fields": structured_fields(artists),
            "recency": {"field": "release_day", "available_field": "first_release_day",
                        "newer_is": "smaller",
                        "words": list(lexicon.RECENCY_WORDS)},
            "priors": {"popularity": {"field": "popularity"},
                       "recency": {"field": "release_day", "sign": -1,
                                   "latest_of_works": {"link": "artist",
                                                       "types": ["track", "album"],
                                                       "first": "first_release_day"}}},
            "synonyms": {k: {"query": list(v["query"]), "text": list(v["text"])}
                         for k, v in lexicon.TOPICS.items()},
            "generator": {"name": "music", "version": VERSION, "size": int(size), "seed": int(seed)},
            "intents": list(queries.INTENTS),
        },
    )
