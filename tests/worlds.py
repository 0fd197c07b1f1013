"""The tiny worlds and helpers several test files share: benchmark files over a tiny BEIR
folder (``write_benchmark``), small in-memory corpora (``music_dataset``, ``text_dataset``,
``paraphrase_dataset``), the loop's fake world of two static arms and a memory stub
(``make_world``), and the helpers that run, kill and read ``ltrr`` results. Fixtures live in
``tests/conftest.py``; this module holds plain functions, importable from every test folder
(``pythonpath = ["tests"]`` in pyproject.toml)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ltrr.datasets.base import Dataset
from ltrr.kernel.clicks import PositionBasedModel
from ltrr.selection.plans import PlanSpace
from ltrr.simulation.loop import LoopSettings, World

REPO = Path(__file__).resolve().parents[1]
N_TOPICS, N_DOCS = 10, 80  # the loop's fake world (make_world)

# --- benchmark files over a tiny BEIR folder ----------------------------------------------

WORDS = ["jazz", "rock", "piano", "guitar", "violin", "drums", "blues", "opera", "techno", "folk"]

SETTING = """
[benchmark]
name = "tiny"
dataset = "beir:{folder}"
seeds = [0, 1]

[arms]
names = ["lexical", "fuzzy", "memory"]

[plans]
budget = 12
equal_splits = [2]

[features]
groups = ["query", "memory"]

[stream]
length = 150

[clicks]
model = "pbm"
params = "navigational"

[ranking]
page = 5
"""  # every table but the policies (test_ranking_loop adds rankers)

BENCHMARK = SETTING + """
[[policies]]
name = "single:lexical"

[[policies]]
name = "static_union"

[[policies]]
name = "linucb"

[[policies]]
name = "oracle"
"""


def make_tiny_beir(folder: Path) -> Path:
    """60 documents, 10 queries, graded qrels (2 for the first half of a query's docs, 1 after)."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    docs = [{"_id": f"d{i:02d}", "title": f"{WORDS[i % 10]} {WORDS[(i * 3 + 1) % 10]} record {i}",
             "text": f"a {WORDS[i % 10]} song with {WORDS[(i * 3 + 1) % 10]}"} for i in range(60)]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    queries = [{"_id": f"q{j}", "text": f"{WORDS[j]} {WORDS[(j * 3 + 1) % 10]}"} for j in range(10)]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    rows = ["query-id\tcorpus-id\tscore"] + [f"q{j}\td{i:02d}\t{2 if i < 30 else 1}"
                                              for j in range(10) for i in range(60) if i % 10 == j]
    (folder / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n")
    return folder


def write_benchmark(tmp: Path, text: str | None = None) -> Path:
    folder = make_tiny_beir(tmp / "tiny")
    path = tmp / "tiny.toml"
    path.write_text((text or BENCHMARK).replace("{folder}", str(folder)))
    return path

COLOURS = ["red", "blue", "green", "amber", "violet", "grey", "white", "black"]


def make_beir(folder: Path, train: bool = True) -> Path:
    """80 documents "<word> <colour> <i>" described as "a <word> piece"; 24 queries "<word>
    <colour>" (0-7 test, 8-23 train). Relevant: the documents of the query's word, graded by
    their colour, so the lexical arm (title and text: the word twice, the colour once) ranks
    them above the query colour's other documents and the fuzzy arm (titles: each once) does
    not, a difference a ranker can learn from one set of queries and use on another. No
    train query asks a test query's text except q23, "Jazz, Amber!" (test q0 in other case
    and punctuation): ltrr leaves it out of training and reports the overlap."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    docs = [{"_id": f"d{i:02d}", "title": f"{WORDS[i % 10]} {COLOURS[(i // 10) % 8]} {i}",
             "text": f"a {WORDS[i % 10]} piece"} for i in range(80)]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    queries = [{"_id": f"q{j}", "text": f"{WORDS[j % 10]} {COLOURS[(j * 3 + 3) % 8]}"}
               for j in range(23)] + [{"_id": "q23", "text": "Jazz, Amber!"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    for split, qs in (("test", range(8)), ("train", range(8, 24))):
        if split == "train" and not train:
            continue
        rows = ["query-id\tcorpus-id\tscore"]
        for j in qs:
            word = WORDS.index(queries[j]["text"].split()[0].strip(",").lower())
            for i in range(80):
                if i % 10 == word:
                    rows.append(f"q{j}\td{i:02d}\t{2 if (i // 10) % 2 else 1}")
        (folder / "qrels" / f"{split}.tsv").write_text("\n".join(rows) + "\n")
    return folder

# the tiny benchmark with learned ranking stages (tests/ranking/test_stage.py)
RANKING_PARAMS = "{ num_boost_round = 20, min_data_in_leaf = 5 }"
# budget 30: unions deep enough that the fusion lets the fuzzy arm's colour matches onto the
# page, which a ranker trained on other queries learns to push down (make_beir)
RANKING_BENCHMARK = SETTING.replace('name = "tiny"', 'name = "tiny-rank"').replace(
    "length = 150", "length = 200").replace("budget = 12", "budget = 30") + """
[rankers.qrels]
train = "qrels"
params = {params}

[rankers.clicks]
train = "clicks"
sessions = 400
params = {params}

[rankers.online]
train = "online"
retrain_every = 50
params = {params}

[[policies]]
name = "static_union"

[[policies]]
name = "static_union"
label = "union/qrels"
ranker = "qrels"

[[policies]]
name = "static_union"
label = "union/clicks"
ranker = "clicks"

[[policies]]
name = "static_union"
label = "union/online"
ranker = "online"

[[policies]]
name = "linucb"

[[policies]]
name = "linucb"
label = "linucb/qrels"
ranker = "qrels"
"""


# --- small in-memory corpora for the arms ------------------------------------------------

SONGS = [
    # docno, title, artist, type, genres, moods, locale, year, day, popularity, text
    ("t1", "Golden Raven", "The Velvet Owls", "track", ["country"], ["sad"], "us", 1994, 100, 5.0,
     "a slow ballad about a lost love on a dusty road"),
    ("t2", "Silver Crow", "Copper Lake", "track", ["country", "folk"], ["happy"], "us", 1998, 200,
     9.0, "banjo and fiddle for a summer barn dance"),
    ("t3", "Azure Sparrow", "Copper Lake", "album", ["rock"], ["dark"], "gb", 2021, 900, 3.0,
     "heavy guitars and thunderous drums from a british band"),
    ("t4", "Ivory Tower", "Nina Blue", "track", ["country"], ["calm"], "us", 2023, 990, 1.0,
     "a quiet acoustic lullaby for falling asleep"),
    ("a1", "Copper Lake", "Copper Lake", "artist", ["country"], [], "us", 1990, 10, 20.0,
     "a band from nashville playing country music since the nineties"),
    ("t5", "Crimson Meadow", "Nina Blue", "track", ["pop"], ["happy"], "us", 1995, 150, 7.0,
     "bright synths and a catchy chorus about summer love"),
]

FIELDS = ["docno", "title", "artist", "type", "genres", "moods", "locale", "release_year",
          "release_day", "popularity", "text"]

STRUCTURED = {
    "type": {"kind": "categorical",
             "aliases": {"track": ["songs", "tracks"], "album": ["albums"], "artist": ["bands"]}},
    "genres": {"kind": "set"},
    "moods": {},
    "locale": {"aliases": {"us": ["american"], "gb": ["british"]}},
    "artist": {},
    "release_year": {"kind": "year"},
}


def music_dataset(dataset_id: str = "toy-music", topics: pd.DataFrame | None = None,
                  qrels: pd.DataFrame | None = None, structured: bool = True) -> Dataset:
    docs = [dict(zip(FIELDS, row)) for row in SONGS]
    if topics is None:
        topics = pd.DataFrame({"qid": ["1"], "query": ["golden raven"]})
    if qrels is None:
        qrels = pd.DataFrame({"qid": ["1"], "docno": ["t1"], "label": [1]})
    return Dataset(id=dataset_id, docs=lambda: iter([dict(d) for d in docs]), topics=topics,
                   qrels=qrels, text_fields=["title", "text"], fields=FIELDS,
                   num_docs=len(docs), meta={"structured_fields": STRUCTURED} if structured else {})


def text_dataset(dataset_id: str = "toy-text") -> Dataset:
    docs = [{"docno": "d1", "text": "rivers and lakes of the north"},
            {"docno": "d2", "text": "mountain rivers in spring"}]
    return Dataset(id=dataset_id, docs=lambda: iter(docs),
                   topics=pd.DataFrame({"qid": ["1"], "query": ["rivers"]}),
                   qrels=pd.DataFrame({"qid": ["1"], "docno": ["d1"], "label": [1]}))

PARAPHRASE_DOCS = [
    ("p1", "Heartbreak ballad", "a sad song about a broken heart and tears after a breakup"),
    ("p2", "Club anthem", "upbeat dance track with heavy bass for the night club"),
    ("p3", "Weather report", "rain and strong winds expected tomorrow in the north"),
    ("p4", "Pasta recipe", "boil the noodles and add tomato sauce and basil"),
    ("p5", "Marathon training", "how to build endurance for long distance running"),
    ("p6", "Stock market", "shares fell as investors worried about interest rates"),
    ("p7", "Garden tips", "plant tulip bulbs in autumn for flowers in spring"),
    ("p8", "Space probe", "the spacecraft reached the outer planets after ten years"),
    ("p9", "Chess opening", "the queen's gambit offers a pawn for central control"),
    ("p10", "Coffee brewing", "grind the beans coarse for a french press"),
]


def paraphrase_dataset() -> Dataset:
    docs = [{"docno": d, "title": t, "text": x} for d, t, x in PARAPHRASE_DOCS]
    return Dataset(id="toy-paraphrase", docs=lambda: iter(docs),
                   topics=pd.DataFrame({"qid": ["1"], "query": ["x"]}),
                   qrels=pd.DataFrame({"qid": ["1"], "docno": ["p1"], "label": [1]}),
                   text_fields=["title", "text"], fields=["docno", "title", "text"],
                   num_docs=len(docs))


def report_world():
    topics = pd.DataFrame({
        "qid": ["q1", "q2", "q3", "q4", "q5", "q6", "q7"],
        "query": ["songs for summer", "summer songs", "silvr crwo", "country songs from the 90s",
                  "golden raven", "songs for summer", "Golden Raven!"],
        "intent": ["broad", "broad", "misspelled", "attribute", "known_item", "broad",
                   "known_item"],
        "head": [True, True, False, False, False, True, False],
        "split": ["train", "test", "test", "test", "test", "train", "train"],
    })
    qrels = pd.DataFrame({
        "qid": ["q1", "q1", "q2", "q2", "q3", "q4", "q4", "q5", "q6", "q7"],
        "docno": ["t5", "t2", "t5", "t2", "t2", "t2", "t1", "t1", "t5", "t1"],
        "label": [2, 1, 2, 1, 1, 1, 1, 1, 2, 1],
    })
    return music_dataset("toy-world", topics=topics, qrels=qrels)


# --- the loop's fake world: two static arms and a memory stub -----------------------------

def fake_dataset() -> Dataset:
    topics = pd.DataFrame({"qid": [f"q{i}" for i in range(N_TOPICS)],
                           "query": [f"query number {i}" for i in range(N_TOPICS)]})
    rows = []
    for t in range(N_TOPICS):
        for j, grade in enumerate((3, 2, 1)):
            rows.append((f"q{t}", f"d{t * 5 + j:03d}", grade))
    qrels = pd.DataFrame(rows, columns=["qid", "docno", "label"])
    docs = [{"docno": f"d{i:03d}", "text": f"doc {i}"} for i in range(N_DOCS)]
    return Dataset(id="fake:world", docs=lambda: iter(docs), topics=topics, qrels=qrels)


class FakeArm:
    """A static arm: relevant documents on top for the topics it is good at, noise after."""

    def __init__(self, name: str, good: set[int]) -> None:
        self.name, self.good, self.num_results = name, good, 10
        self.cache_key = f"{name}:fake:{sorted(good)}"

    def with_depth(self, k: int) -> "FakeArm":
        self.num_results = k
        return self

    def transform(self, queries: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for qid in queries["qid"]:
            t = int(qid[1:])
            rel = [f"d{t * 5 + j:03d}" for j in range(3)] if t in self.good else []
            noise = [f"d{(t * 7 + 50 + j) % N_DOCS:03d}" for j in range(20)]
            noise = [d for d in noise if int(d[1:]) // 5 != t]
            docs = list(dict.fromkeys(rel + noise))[: self.num_results]
            for r, d in enumerate(docs):
                rows.append((qid, "", d, 100.0 - r, r))
        return pd.DataFrame(rows, columns=["qid", "query", "docno", "score", "rank"])


class FakeMemory:
    """Remembers clicked documents per query string."""

    name, cache_key = "memory", "memory:fake"

    def __init__(self) -> None:
        self.store: dict[str, dict[str, float]] = {}

    def reset(self) -> None:
        self.store = {}

    def update(self, query: str, clicked: list[str]) -> None:
        for d in clicked:
            self.store.setdefault(query, {})
            self.store[query][d] = self.store[query].get(d, 0.0) + 1.0

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        found = sorted(self.store.get(query, {}).items(), key=lambda x: (-x[1], x[0]))
        return found[:k]


class TopicFeaturizer:
    """One-hot of 'lexical topic' vs 'dense topic', plus bias (what a good feature would say)."""

    names = ["dense_topic", "bias"]
    dim = 2

    def transform(self, t: int, candidates=None, step: int = 0) -> np.ndarray:
        return np.array([1.0 if t >= 7 else 0.0, 1.0])


def make_world(memory: bool = False, length: int = 400, fusion: str = "rrf"):
    arms = {"lexical": FakeArm("lexical", set(range(7))), "dense": FakeArm("dense", {7, 8, 9})}
    if memory:
        arms["memory"] = FakeMemory()
    space = PlanSpace.from_config(list(arms), 6, {"single": True, "union": True})
    settings = LoopSettings(fusion=fusion, page=5, clicks=PositionBasedModel("navigational"))
    return World(fake_dataset(), arms, space, settings, length)


# --- running, killing and reading ltrr results --------------------------------------------

def start_and_kill(argv: list[str], cwd: Path, files: str, count: int) -> None:
    """Start ``ltrr *argv`` in ``cwd`` in a session of its own and SIGKILL the session (the
    command and any worker it forked) once ``count`` files match the glob ``files``."""
    proc = subprocess.Popen([sys.executable, "-m", "ltrr.cli", *argv], cwd=cwd,
                            env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    try:
        while len(list(cwd.glob(files))) < count:
            assert proc.poll() is None, "the command ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def results_of(out: Path) -> dict:
    """Every file of a results folder, records without their wall time."""
    found = {}
    for path in sorted(out.iterdir()):
        if path.suffix == ".json":
            found[path.name] = json.loads(path.read_text())
            found[path.name].get("provenance", {}).pop("wall_time_s", None)
        elif path.suffix == ".parquet":
            found[path.name] = pd.read_parquet(path)
        elif path.suffix == ".md":
            found[path.name] = path.read_text()
    return found


def records_of(folder: Path, drop=("wall_time_s",)) -> dict:
    out = {}
    for path in sorted(folder.glob("*-seed*.json")):
        record = json.loads(path.read_text())
        for key in drop:
            record["provenance"].pop(key)
        out[path.name] = record
    return out

# --- the plugins' worked example and other policies in the tiny benchmark -----------------

EXAMPLE = REPO / "docs" / "examples" / "plugins"

POLICIES_AT = BENCHMARK.index("[[policies]]")


def tiny(tmp_path: Path, policies: str, extra: str = "", replace: dict | None = None) -> Path:
    """The tiny BEIR benchmark (BENCHMARK) with other ``[[policies]]`` (and edits)."""
    text = BENCHMARK[:POLICIES_AT] + extra + "\n" + policies
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return write_benchmark(tmp_path, text)


def record(out: Path, label: str, seed: int = 0) -> dict:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return json.loads((out / f"{safe}-seed{seed}.json").read_text())
