"""English descriptions for the music world's entities, and who names whom.

A description is a few sentences assembled from :mod:`lexicon` phrases: an introduction that
names related entities (a track's album and artist, an album's tracks, an artist's hits, a
playlist's tracks), a sentence on the sound, the topic sentences for themed entities, the
occasion tags, and now and then the genre, mood or (for artists) the country. Genre and mood
words appear only sometimes and decades never, so attribute searches cannot rely on the text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.datasets.music import lexicon as lx

GENRE_MENTION = {"artist": 0.4, "album": 0.25, "track": 0.2, "playlist": 0.3, "podcast": 0.3}
MOOD_MENTION = 0.3
ALBUM_NAMES = 6  # an album description names at most this many of its tracks
PLAYLIST_NAMES = (4, 9)  # a playlist description names this many tracks (high exclusive)
THEME_SENTENCES = 3  # sentences on its topic in a themed entity's description
LOCALE_MENTION = 0.3  # artists only
SOUND_FORMS = ["It leans on {0} and {1}.", "Expect {0}, {1} and {2}.", "Built on {0} with {1}.",
               "You hear {0} over {1}.", "The arrangement favours {0} over {1}."]
GENRE_FORMS = ["Rooted in {0}.", "It has a {0} heart.", "Steeped in {0}."]
MOOD_FORMS = ["The mood is {0}.", "It feels {0} at its core."]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe(df: pd.DataFrame, rng: np.random.Generator) -> tuple[list[str], pd.DataFrame]:
    """Descriptions for every row of the catalogue frame, and the ``mentions`` relation."""
    n = len(df)
    docno = df["docno"].to_numpy()
    title = df["title"].to_numpy()
    kind = df["type"].to_numpy()
    pop = df["popularity"].to_numpy()
    by_key = {(k, int(i)): r for r, (k, i) in enumerate(zip(kind, df["num"]))}
    tracks = np.flatnonzero(kind == "track")
    album_of = df["album_idx"].to_numpy()
    num = df["num"].to_numpy()
    artists = df["artist"].tolist()
    topics = df["topic"].tolist()
    tags = df["tag_list"].tolist()
    moods = df["mood_list"].tolist()
    locales = df["locale"].tolist()
    artist_of = df["artist_idx"].to_numpy()

    # Relations first: album -> its tracks, artist -> its works by popularity.
    album_tracks: dict[int, list[int]] = {}
    for r in tracks:
        if album_of[r] >= 0:
            album_tracks.setdefault(int(album_of[r]), []).append(int(r))
    artist_works: dict[int, list[int]] = {}
    for r in np.flatnonzero((kind == "track") | (kind == "album")):
        artist_works.setdefault(int(artist_of[r]), []).append(int(r))
    for a in artist_works:
        artist_works[a].sort(key=lambda r: -pop[r])
    primary = [g[0] for g in df["genre_list"]]
    tracks_by_genre: dict[str, np.ndarray] = {}
    for g in lx.GENRES:
        tracks_by_genre[g] = tracks[np.array([primary[r] == g for r in tracks], dtype=bool)]

    mentions: list[tuple[str, str, int]] = []
    u = rng.random((n, 8))
    sound_pick = np.argsort(rng.random((n, len(lx.SOUNDS))), axis=1)[:, :6]  # distinct
    texts = []
    for r in range(n):
        k = kind[r]
        artist = artists[r]
        if k == "track":
            alb = album_of[r]
            if alb >= 0:
                ar = by_key[("album", int(alb))]
                forms = ["A track by {a} from the album {b}.", "{a} recorded this track for the album {b}.",
                         "Taken from {b}, the album by {a}."]
                intro = forms[int(u[r, 0] * 3)].format(a=artist, b=title[ar])
                mentions.append((docno[r], docno[ar], 1))
            else:
                intro = ["A single by {a}.", "A standalone single from {a}."][int(u[r, 0] * 2)].format(a=artist)
        elif k == "album":
            listed = album_tracks.get(int(num[r]), [])[:ALBUM_NAMES]
            intro = f"An album by {artist}"
            if listed:
                intro += " featuring " + _join([title[t] for t in listed])
                mentions += [(docno[r], docno[t], 2) for t in listed]
            intro += "."
        elif k == "artist":
            hits = artist_works.get(int(num[r]), [])[:2]
            intro = f"{artist} is an act"
            if hits:
                intro += " known for " + _join([title[h] for h in hits])
                mentions += [(docno[r], docno[h], 1) for h in hits]
            intro += "."
            mentions += [(docno[w], docno[r], 1) for w in artist_works.get(int(num[r]), [])[:3]]
        elif k == "playlist":
            pool = tracks_by_genre[primary[r]]
            if len(pool) == 0:
                pool = tracks
            m = min(len(pool), int(rng.integers(*PLAYLIST_NAMES)))
            w = pop[pool] ** 0.5
            picked = rng.choice(pool, m, replace=False, p=w / w.sum())
            intro = f"A playlist of {m * 5} tracks including " + _join(
                [f"{title[t]} by {artists[t]}" for t in picked]) + "."
            mentions += [(docno[r], docno[t], 1) for t in picked]
        else:
            intro = lx.PODCAST_INTROS[int(u[r, 0] * 3)].format(host=artist)
        parts = [intro]
        topic = topics[r]
        if topic:  # themed: the topic carries the description
            phrases = lx.TOPICS[topic]["text"]
            order = list(rng.permutation(len(phrases))) * 2
            used = 0
            for c in rng.choice(len(lx.THEME_SENTENCES), THEME_SENTENCES, replace=False):
                form = lx.THEME_SENTENCES[c]
                need = form.count("{")
                parts.append(form.format(*[phrases[i] for i in order[used:used + need]]))
                used += need
        elif k == "podcast":
            parts.append(lx.PODCAST_GENERIC[int(u[r, 1] * len(lx.PODCAST_GENERIC))])
        else:
            for picks, at in ((sound_pick[r], 1), (sound_pick[r][::-1], 2)):
                s = [lx.SOUNDS[i] for i in picks]
                parts.append(SOUND_FORMS[int(u[r, at] * len(SOUND_FORMS))].format(*s))
        for j, tag in enumerate(tags[r]):
            phrase = lx.BROAD[tag][int(u[r, 3 + j] * len(lx.BROAD[tag]))]
            parts.append(phrase[0].upper() + phrase[1:] + ".")
        if u[r, 5] < GENRE_MENTION[k]:
            parts.append(GENRE_FORMS[int(u[r, 6] * len(GENRE_FORMS))].format(primary[r]))
        if u[r, 6] < MOOD_MENTION:
            parts.append(MOOD_FORMS[int(u[r, 7] * 2)].format(moods[r][0]))
        if k == "artist" and u[r, 7] < LOCALE_MENTION:
            parts.append(f"A {lx.LOCALES[locales[r]][0]} act.")
        texts.append(" ".join(parts))
    rel = pd.DataFrame(mentions, columns=["source", "target", "grade"])
    return texts, rel

