"""The music world's entities: artists, albums, tracks, playlists and podcasts.

Numeric draws are vectorised numpy from one ``Generator``; only the final string assembly
loops in Python (a few microseconds per entity). Besides the public fields every entity
carries hidden truths the query generator needs (its topic, its occasion tags, which
entities its description names); they never reach the corpus records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.datasets.music import lexicon as lx
from ltrr.datasets.music.descriptions import describe

# Shares of the catalogue by type (tracks take the rest).
TYPE_SHARES = {"artist": 0.08, "album": 0.12, "playlist": 0.10, "podcast": 0.08}
TODAY = np.datetime64("2026-07-01")  # the world's fixed "today" (release_day 0)
NEW_SHARE = 0.05  # entities released within the last NEW_WINDOW days
NEW_WINDOW = 60
THEMED_SHARE = 0.07  # entities whose description is about one topic group
ZIPF_EXPONENT = 1.0


def _titles(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct Title Case titles: adjective noun, then adjective noun noun."""
    adj, noun = lx.TITLE_ADJECTIVES, lx.TITLE_NOUNS
    pairs = len(adj) * len(noun)
    n2 = min(n, pairs // 2)
    idx = rng.choice(pairs, n2, replace=False)
    out = [f"{adj[i // len(noun)]} {noun[i % len(noun)]}" for i in idx]
    if n > n2:
        triples = rng.choice(pairs * len(noun), n - n2, replace=False)
        out += [f"{adj[t // len(noun) ** 2]} {noun[t // len(noun) % len(noun)]} {noun[t % len(noun)]}"
                for t in triples]
    order = rng.permutation(n)
    return [out[i].title() for i in order]


def _person_names(rng: np.random.Generator, n: int) -> list[str]:
    first, last = lx.FIRST_NAMES, lx.LAST_NAMES
    pairs = len(first) * len(last)
    if n <= 0.8 * pairs:
        idx = rng.choice(pairs, n, replace=False)
        return [f"{first[i // len(last)]} {last[i % len(last)]}".title() for i in idx]
    idx = rng.choice(pairs * 26, n, replace=False)  # with a middle initial
    return [f"{first[i // 26 // len(last)]} {chr(97 + i % 26)}. {last[i // 26 % len(last)]}".title()
            for i in idx]


def _release_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Days before today: a few new releases, then an age skewed toward recent decades."""
    new = rng.random(n) < NEW_SHARE
    years = np.minimum(rng.exponential(14.0, n), 64.0)
    old = NEW_WINDOW + (years * 365.25).astype(np.int64) + rng.integers(0, 365, n)
    return np.where(new, rng.integers(0, NEW_WINDOW, n), old).astype(np.int64)


def _genres(rng: np.random.Generator, locales: np.ndarray) -> tuple[list[list[str]], np.ndarray]:
    """Primary genre from the locale's favourites (70%) or any genre; half get a second one."""
    n = len(locales)
    favourite = rng.random(n) < 0.7
    second = rng.random(n) < 0.5
    primary_w = np.round(rng.uniform(0.55, 0.9, n), 2)
    out, weights = [], []
    any_pick = rng.integers(0, len(lx.GENRES), (n, 2))
    fav_pick = rng.random(n)
    for i, loc in enumerate(locales):
        favs = lx.LOCALES[loc][2]
        g1 = favs[int(fav_pick[i] * len(favs))] if favourite[i] else lx.GENRES[any_pick[i, 0]]
        gs = [g1]
        g2 = lx.GENRES[any_pick[i, 1]]
        if second[i] and g2 != g1:
            gs.append(g2)
        out.append(gs)
        weights.append([1.0] if len(gs) == 1 else [primary_w[i], round(1 - primary_w[i], 2)])
    return out, weights


def _moods(rng: np.random.Generator, n: int) -> list[list[str]]:
    k = rng.integers(1, 3, n)
    picks = rng.integers(0, len(lx.MOODS), (n, 2))
    return [sorted({lx.MOODS[p] for p in picks[i, :k[i]]}) for i in range(n)]


def _locales(rng: np.random.Generator, n: int) -> np.ndarray:
    codes = list(lx.LOCALES)
    shares = np.array([lx.LOCALES[c][1] for c in codes])
    return np.array(codes)[rng.choice(len(codes), n, p=shares / shares.sum())]


def build(size: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The catalogue frame (public and hidden columns) and the ``mentions`` relation.

    ``mentions`` rows ``(source, target, grade)``: the description of ``source`` names
    ``target``'s title, so a known-item search for ``target`` finds ``source`` too.
    """
    counts = {t: max(2, int(round(size * s))) for t, s in TYPE_SHARES.items()}
    counts["track"] = size - sum(counts.values())
    if counts["track"] < 10:
        raise ValueError(f"music world size {size} is too small (need at least 100 entities)")
    n_art, n_alb, n_trk = counts["artist"], counts["album"], counts["track"]
    n_pl, n_pod = counts["playlist"], counts["podcast"]

    # Artists: half people, half bands named like titles.
    is_band = rng.random(n_art) < 0.45
    titles = _titles(rng, int(is_band.sum()) + n_alb + n_trk + n_pl + n_pod)
    people = _person_names(rng, n_art - int(is_band.sum()) + n_pod)
    band_names = iter(titles[: int(is_band.sum())])
    titles = iter(titles[int(is_band.sum()):])
    person_iter = iter(people)
    art_name = [("The " + next(band_names)) if b else next(person_iter) for b in is_band]
    art_rank = rng.permutation(n_art)
    art_lat = -np.log1p(art_rank)  # latent log-popularity of each artist
    art_loc = _locales(rng, n_art)
    art_gen, art_gw = _genres(rng, art_loc)
    art_moods = _moods(rng, n_art)

    # Albums by artists (popular artists make more), tracks on albums or as singles.
    w = np.exp(0.6 * art_lat)
    alb_art = rng.choice(n_art, n_alb, p=w / w.sum())
    alb_day = _release_days(rng, n_alb)
    n_single = int(0.15 * n_trk)
    trk_alb = np.concatenate([np.arange(n_alb), rng.integers(0, n_alb, n_trk - n_single - n_alb)])
    trk_alb = np.concatenate([trk_alb, -np.ones(n_single, dtype=np.int64)])
    trk_art = np.where(trk_alb >= 0, alb_art[np.maximum(trk_alb, 0)],
                       rng.choice(n_art, n_trk, p=w / w.sum()))
    trk_day = np.where(trk_alb >= 0, alb_day[np.maximum(trk_alb, 0)], _release_days(rng, n_trk))

    rows: list[dict] = []

    def add(kind: str, i: int, title: str, artist: str, artist_idx: int, locale: str,
            genres: list[str], gw: list[float], moods: list[str], day: int, lat: float,
            album_idx: int = -1) -> None:
        rows.append({"type": kind, "num": i, "title": title, "artist": artist,
                     "artist_idx": artist_idx, "album_idx": album_idx, "locale": locale,
                     "genre_list": genres, "gw": gw, "mood_list": moods, "release_day": int(day),
                     "lat": lat})

    noise = rng.normal(0.0, 0.9, size)
    k = iter(noise)
    for a in range(n_art):
        add("artist", a, art_name[a], art_name[a], a, art_loc[a], art_gen[a], art_gw[a],
            art_moods[a], 0, art_lat[a] + 0.5 + 0.3 * next(k))
    alb_moods = _moods(rng, n_alb)
    for b in range(n_alb):
        a = alb_art[b]
        add("album", b, next(titles), art_name[a], a, art_loc[a], art_gen[a], art_gw[a],
            alb_moods[b], alb_day[b], art_lat[a] + 0.8 * next(k), album_idx=b)
    trk_moods = _moods(rng, n_trk)
    for t in range(n_trk):
        a = trk_art[t]
        add("track", t, next(titles), art_name[a], a, art_loc[a], art_gen[a], art_gw[a],
            trk_moods[t], trk_day[t], art_lat[a] + 0.9 * next(k), album_idx=int(trk_alb[t]))
    pl_loc = _locales(rng, n_pl)
    pl_gen, pl_gw = _genres(rng, pl_loc)
    pl_moods = _moods(rng, n_pl)
    pl_day = np.minimum(_release_days(rng, n_pl), rng.integers(0, 3000, n_pl))
    for p in range(n_pl):
        add("playlist", p, next(titles), "Various Artists", -1, pl_loc[p], pl_gen[p], pl_gw[p],
            pl_moods[p], pl_day[p], -1.5 + 1.2 * next(k))
    pod_loc = _locales(rng, n_pod)
    pod_gen, pod_gw = _genres(rng, pod_loc)
    pod_moods = _moods(rng, n_pod)
    pod_day = np.minimum(_release_days(rng, n_pod), rng.integers(0, 1500, n_pod))
    for c in range(n_pod):
        add("podcast", c, next(titles), next(person_iter), -1, pod_loc[c], pod_gen[c], pod_gw[c],
            pod_moods[c], pod_day[c], -2.0 + 1.2 * next(k))
    df = pd.DataFrame(rows)

    # Zipf-like popularity from the latent order: the r-th most popular gets 100 / r.
    order = np.argsort(-df["lat"].to_numpy(), kind="stable")
    rank = np.empty(len(df), dtype=np.int64)
    rank[order] = np.arange(1, len(df) + 1)
    df["popularity"] = np.round(100.0 / rank ** ZIPF_EXPONENT, 6)
    prefix = {"track": "t", "artist": "ar", "album": "al", "playlist": "pl", "podcast": "pc"}
    df["docno"] = [f"{prefix[t]}{n + 1:05d}" for t, n in zip(df["type"], df["num"])]

    # Artists: release_day = their latest work, release_year = their first.
    works = df[df["artist_idx"].ge(0) & df["type"].isin(["album", "track"])]
    last = works.groupby("artist_idx")["release_day"].min()
    first = works.groupby("artist_idx")["release_day"].max()
    is_art = df["type"].eq("artist").to_numpy()
    art_days = _release_days(rng, n_art)
    df.loc[is_art, "release_day"] = [int(last.get(a, art_days[a])) for a in range(n_art)]
    df["first_day"] = df["release_day"]  # when the entity first exists (public: first_release_day)
    df.loc[is_art, "first_day"] = [int(first.get(a, art_days[a])) for a in range(n_art)]
    dates = TODAY - df["first_day"].to_numpy().astype("timedelta64[D]")
    df["release_year"] = dates.astype("datetime64[Y]").astype(np.int64) + 1970

    # Hidden truths: a topic for a few, 0-2 occasion tags for most (playlists at least one).
    topics = list(lx.TOPICS)
    themed = rng.random(size) < THEMED_SHARE
    df["topic"] = np.where(themed, np.array(topics)[rng.integers(0, len(topics), size)], "")
    n_tags = rng.choice(3, size, p=[0.3, 0.45, 0.25])
    n_tags[df["type"].eq("playlist").to_numpy()] = np.maximum(
        n_tags[df["type"].eq("playlist").to_numpy()], 1)
    broad = list(lx.BROAD)
    picks = rng.integers(0, len(broad), (size, 2))
    df["tag_list"] = [sorted({broad[p] for p in picks[i, :n_tags[i]]}) for i in range(size)]

    df["text"], mentions = describe(df, rng)
    return df, mentions
