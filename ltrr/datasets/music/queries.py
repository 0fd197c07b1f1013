"""The music world's query log: intents, contexts, head/tail weights, splits and judgements.

A *query text* has an intent and a judgement rule; a *topic row* is one (text, context) pair.
Head texts (all broad words and the most popular of the rest) get several rows with different
contexts, half in the ``train`` split and half in ``test``; tail texts get one row each.
Judgements depend on the context where the intent is about taste (broad, attribute, recent):
the same text from a Brazilian samba fan and an American rock fan has different qrels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ltrr.datasets.music import lexicon as lx
from ltrr.datasets.music.misspell import misspell
from ltrr.datasets.splits import split_by_text

INTENTS = ["known_item", "misspelled", "topic_paraphrase", "broad", "attribute", "recent"]
# Share of tail query rows per intent (broad queries are all head).
TAIL_MIX = {"known_item": 0.25, "misspelled": 0.22, "topic_paraphrase": 0.20,
            "attribute": 0.23, "recent": 0.10}
HEAD_MIX = {"known_item": 0.4, "misspelled": 0.2, "attribute": 0.2, "topic_paraphrase": 0.1,
            "recent": 0.1}
HEAD_SHARE = 0.02  # non-broad head texts, as a share of all rows
HEAD_ROWS = 4  # contexts per non-broad head text (half train, half test)
BROAD_ROWS = 8  # contexts per broad word
TAIL_TRAIN = 0.2  # share of tail rows in the train split
QUERY_ZIPF = 1.0
DEVICES = ["mobile", "desktop", "speaker", "car"]
NEW_DAYS = 30  # "new releases": released within this many days
NEW_GENRE_DAYS = 90
LATEST_ARTIST_DAYS = 365
CONTEXT_COLUMNS = ["locale", "hour", "device", "preferred_genre"]

Judge = Callable[[dict], dict[str, int]]


@dataclass
class QueryText:
    text: str
    intent: str
    judge: Judge


def _graded(docnos: np.ndarray, score: np.ndarray, cuts: tuple[int, int, int]) -> dict[str, int]:
    """Top ``cuts[2]`` by score get labels 3 (first cuts[0]), 2 (to cuts[1]), 1 (the rest)."""
    order = np.argsort(-score, kind="stable")[: cuts[2]]
    labels = np.where(np.arange(len(order)) < cuts[0], 3, np.where(np.arange(len(order)) < cuts[1], 2, 1))
    return {str(docnos[i]): int(l) for i, l in zip(order, labels)}


class World:
    """Vectorised views of the catalogue the judgement rules share."""

    def __init__(self, df: pd.DataFrame, mentions: pd.DataFrame) -> None:
        self.df = df
        self.docno = df["docno"].to_numpy()
        self.type = df["type"].to_numpy()
        self.locale = df["locale"].to_numpy()
        self.logpop = np.log(df["popularity"].to_numpy())
        self.day = df["release_day"].to_numpy()
        self.year = df["release_year"].to_numpy()
        self.genre = {g: np.array([g in gs for gs in df["genre_list"]]) for g in lx.GENRES}
        self.mood = {m: np.array([m in ms for ms in df["mood_list"]]) for m in lx.MOODS}
        self.tag = {t: np.array([t in ts for ts in df["tag_list"]]) for t in lx.BROAD}
        self.topic = df["topic"].to_numpy()
        self.artist_idx = df["artist_idx"].to_numpy()
        self.named_by: dict[str, list[tuple[str, int]]] = {}
        for src, tgt, g in mentions[["source", "target", "grade"]].itertuples(index=False):
            self.named_by.setdefault(tgt, []).append((src, int(g)))

    def boost(self, ctx: dict, locale_w: float, genre_w: float) -> np.ndarray:
        """The context's taste: its locale and preferred genre raise matching entities."""
        return locale_w * (self.locale == ctx["locale"]) + genre_w * self.genre[ctx["preferred_genre"]]

    def known_item(self, r: int) -> dict[str, int]:
        labels = {str(self.docno[r]): 3}
        for src, g in self.named_by.get(self.docno[r], []):
            labels.setdefault(src, g)
        return labels


def _contexts(rng: np.random.Generator, n: int) -> pd.DataFrame:
    codes = list(lx.LOCALES)
    shares = np.array([lx.LOCALES[c][1] for c in codes])
    locale = np.array(codes)[rng.choice(len(codes), n, p=shares / shares.sum())]
    hour = (rng.normal(17, 6, n).round().astype(int)) % 24
    device = np.array(DEVICES)[rng.choice(4, n, p=[0.55, 0.2, 0.15, 0.1])]
    fav = rng.random(n) < 0.7
    any_genre = np.array(lx.GENRES)[rng.integers(0, len(lx.GENRES), n)]
    pick = rng.random(n)
    genre = [lx.LOCALES[l][2][int(p * len(lx.LOCALES[l][2]))] if f else g
             for l, f, g, p in zip(locale, fav, any_genre, pick)]
    return pd.DataFrame({"locale": locale, "hour": hour, "device": device, "preferred_genre": genre})


def _broad(w: World, word: str) -> QueryText:
    tagged = np.flatnonzero(w.tag[word])
    calm = (w.mood["calm"] | w.mood["dreamy"] | w.mood["romantic"])[tagged]
    lively = (w.mood["energetic"] | w.mood["happy"])[tagged]

    def judge(ctx: dict) -> dict[str, int]:
        night = ctx["hour"] >= 21 or ctx["hour"] <= 4
        score = (w.logpop[tagged] + w.boost(ctx, 2.0, 2.5)[tagged]
                 + np.where(night, 1.0 * calm, 1.0 * lively)
                 + 1.0 * (w.type[tagged] == ("podcast" if ctx["device"] == "car" else "playlist")))
        return _graded(w.docno[tagged], score, (5, 15, 30))
    return QueryText(word, "broad", judge)


def _known_item(w: World, r: int, rng: np.random.Generator) -> QueryText:
    title = w.df.at[r, "title"].lower()
    if w.type[r] in ("track", "album") and rng.random() < 0.25:
        title = f"{title} {w.df.at[r, 'artist'].lower()}"
    labels = w.known_item(r)
    return QueryText(title, "known_item", lambda ctx: labels)


def _misspelled(w: World, r: int, rng: np.random.Generator, vocabulary: set[str]) -> QueryText | None:
    name = (w.df.at[r, "artist"] if w.type[r] == "artist" else w.df.at[r, "title"]).lower()
    text = misspell(name, rng, vocabulary)
    if text is None:
        return None
    labels = {str(w.docno[r]): 3}
    return QueryText(text, "misspelled", lambda ctx: labels)


def _paraphrases(w: World) -> list[QueryText]:
    """Every topic query: each query word of each topic in each phrasing."""
    out = []
    for topic, group in lx.TOPICS.items():
        labels = {}
        for kind in ("track", None):
            themed = np.flatnonzero((w.topic == topic) & ((w.type == kind) if kind else True))
            n = len(themed)
            labels[kind] = _graded(w.docno[themed], w.logpop[themed],
                                   (max(1, n // 5), max(1, 3 * n // 5), n)) if n >= 2 else None
        words = group["query"]
        for i, word in enumerate(words):
            other = words[(i + 1) % len(words)]
            forms = [(f"songs about {word}", "track"), (f"{word} songs", "track"),
                     (f"music about {word}", None), (word, None), (f"{word} music", None),
                     (f"{word} tunes", None)] + ([(f"{word} {other}", None)] if other != word else [])
            for text, kind in forms:
                if labels[kind]:
                    out.append(QueryText(text, "topic_paraphrase", lambda ctx, l=labels[kind]: l))
    return out


def _attribute(w: World, r: int, rng: np.random.Generator) -> QueryText | None:
    """Constraints read off entity ``r`` so the answer set is never empty."""
    kind = w.type[r]
    genre = w.df.at[r, "genre_list"][0]
    decade = f"{w.year[r] // 10 % 10}0s"
    lo = w.year[r] // 10 * 10
    loc = w.locale[r]
    mood = w.df.at[r, "mood_list"][0]
    tword = lx.TYPES[kind][rng.integers(len(lx.TYPES[kind]))]
    form = rng.integers(6)
    mask = w.type == kind
    if form in (0, 1, 4):
        mask = mask & (w.year >= lo) & (w.year <= lo + 9)
    if form in (0, 1, 2, 3, 5):
        mask = mask & w.genre[genre]
    if form in (2, 4):
        mask = mask & (w.locale == loc)
    if form == 3:
        mask = mask & w.mood[mood]
    adj = lx.LOCALES[loc][0]
    text = [f"{genre} {tword} from the {decade}", f"{decade} {genre} {tword}",
            f"{adj} {genre} {tword}", f"{mood} {genre} {tword}", f"{adj} {tword} from the {decade}",
            f"{genre} {tword}"][form]
    hits = np.flatnonzero(mask)
    if len(hits) < 3:
        return None

    def judge(ctx: dict) -> dict[str, int]:
        return _graded(w.docno[hits], w.logpop[hits] + w.boost(ctx, 1.0, 0.0)[hits], (5, 20, 50))
    return QueryText(text, "attribute", judge)


def _recent(w: World, r: int, rng: np.random.Generator) -> QueryText | None:
    form = rng.integers(3)
    works = (w.type == "track") | (w.type == "album")
    if form == 0:
        text = ["new releases", "new music", "latest releases", "new songs", "new albums"][rng.integers(5)]
        mask = works & (w.day < NEW_DAYS)
        if "songs" in text:
            mask &= w.type == "track"
        if "albums" in text:
            mask &= w.type == "album"
        cuts = (5, 15, 30)
    elif form == 1:
        genre = w.df.at[r, "genre_list"][0]
        kind = "track" if w.type[r] == "track" else "album"
        text = f"{['new', 'latest'][rng.integers(2)]} {genre} {lx.TYPES[kind][0]}"
        mask = (w.type == kind) & w.genre[genre] & (w.day < NEW_GENRE_DAYS)
        cuts = (3, 10, 30)
    else:
        a = w.artist_idx[r]
        name = w.df.at[r, "artist"].lower()
        text = f"latest {name}" if rng.random() < 0.5 else f"{name} new {['songs', 'albums'][rng.integers(2)]}"
        mask = works & (w.artist_idx == a) & (w.day < LATEST_ARTIST_DAYS)
        if text.endswith("albums"):
            mask &= w.type == "album"
        if text.endswith("songs"):
            mask &= w.type == "track"
        cuts = (1, 5, 30)
    hits = np.flatnonzero(mask)
    if len(hits) == 0:
        return None
    if form == 2:
        labels = _graded(w.docno[hits], -w.day[hits].astype(float), cuts)
        return QueryText(text, "recent", lambda ctx: labels)

    def judge(ctx: dict) -> dict[str, int]:
        return _graded(w.docno[hits], w.logpop[hits] + w.boost(ctx, 1.0, 1.5)[hits], cuts)
    return QueryText(text, "recent", judge)


def _texts(w: World, rng: np.random.Generator, intent: str, n: int, head: bool,
           vocabulary: set[str], taken: set[str]) -> list[QueryText]:
    """``n`` distinct new query texts of ``intent``: head ones about the most popular entities."""
    pop = np.exp(w.logpop)
    allowed = {"known_item": w.type != "",
               "misspelled": (w.type == "track") | (w.type == "artist") | (w.type == "album"),
               "attribute": w.type != "podcast",
               "recent": ((w.type == "track") | (w.type == "album")) & (w.day < NEW_GENRE_DAYS),
               "topic_paraphrase": w.type != ""}[intent]
    weights = np.where(allowed, pop ** (3.0 if head else 0.3), 0.0)
    out: list[QueryText] = []
    if intent == "topic_paraphrase":
        pool = _paraphrases(w)
        fresh = [pool[i] for i in rng.permutation(len(pool)) if pool[i].text not in taken]
        taken.update(q.text for q in fresh[:n])
        return fresh[:n]
    for r in rng.choice(len(weights), 20 * n + 100, p=weights / weights.sum()):
        if len(out) == n:
            break
        r = int(r)
        if intent == "known_item":
            q = _known_item(w, r, rng)
        elif intent == "misspelled":
            q = _misspelled(w, r, rng, vocabulary)
        elif intent == "attribute":
            q = _attribute(w, r, rng)
        else:
            q = _recent(w, r, rng)
        if q is not None and q.text not in taken:
            taken.add(q.text)
            out.append(q)
    return out


def _head_train(weight: np.ndarray, n_head: int) -> np.ndarray:
    """Per text, whether it is a training text: the first ``n_head`` (head) texts, heaviest
    first, each go wholly to the side that holds less of its half of the head's stream
    weight (ties to test); the other entries are False."""
    train = np.zeros(len(weight), dtype=bool)
    held = np.zeros(2)  # test, train
    for i in np.argsort(-weight[:n_head], kind="stable"):
        side = int(held[1] < held[0])
        train[i] = bool(side)
        held[side] += weight[i]
    return train


def build(df: pd.DataFrame, mentions: pd.DataFrame, rng: np.random.Generator,
          n_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The topics frame and the qrels frame for about ``n_rows`` topic rows."""
    w = World(df, mentions)
    vocabulary = {t for s in pd.concat([df["title"], df["artist"]]).str.lower() for t in s.split()}
    taken: set[str] = set()
    head: list[QueryText] = [_broad(w, word) for word in lx.BROAD]
    n_head = max(len(HEAD_MIX), int(round(HEAD_SHARE * n_rows)))
    for intent, share in HEAD_MIX.items():
        head += _texts(w, rng, intent, max(1, int(round(share * n_head))), True, vocabulary, taken)
    n_tail = max(len(TAIL_MIX), n_rows - BROAD_ROWS * len(lx.BROAD) - HEAD_ROWS * (len(head) - len(lx.BROAD)))
    tail: list[QueryText] = []
    for intent, share in TAIL_MIX.items():
        tail += _texts(w, rng, intent, max(2, int(round(share * n_tail))), False, vocabulary, taken)

    # Popularity of texts: Zipf over ranks, head texts (shuffled) before tail texts.
    texts = [head[i] for i in rng.permutation(len(head))] + [tail[i] for i in rng.permutation(len(tail))]
    text_weight = 1.0 / np.arange(1, len(texts) + 1) ** QUERY_ZIPF
    reps = np.array([(BROAD_ROWS if q.intent == "broad" else HEAD_ROWS) if i < len(head) else 1
                     for i, q in enumerate(texts)])
    text_of_row = np.repeat(np.arange(len(texts)), reps)
    ctx = _contexts(rng, len(text_of_row))
    is_head = text_of_row < len(head)
    tail_train = rng.random(len(text_of_row)) < TAIL_TRAIN
    train = np.where(is_head, _head_train(text_weight, len(head))[text_of_row], tail_train)
    topics = pd.DataFrame({
        "qid": [f"q{i + 1:05d}" for i in range(len(text_of_row))],
        "query": [texts[t].text for t in text_of_row],
        "intent": [texts[t].intent for t in text_of_row],
        "weight": text_weight[text_of_row] / reps[text_of_row],
        "head": is_head,
        "split": split_by_text([texts[t].text for t in text_of_row], train),
    })
    topics["weight"] /= topics["weight"].sum()
    topics = pd.concat([topics, ctx], axis=1)
    qrels = []
    for qid, t, c in zip(topics["qid"], text_of_row, ctx.to_dict("records")):
        for docno, label in texts[t].judge(c).items():
            qrels.append((qid, docno, label))
    qrels = pd.DataFrame(qrels, columns=["qid", "docno", "label"])
    return topics, qrels
