"""The music world's hand-written English vocabulary.

Every word the generator writes comes from here, so the world's lexical properties are
known by construction:

- ``TITLE_ADJECTIVES`` x ``TITLE_NOUNS`` make titles. The lists are grouped in clusters of
  near-synonyms (silver/golden/copper, raven/crow/sparrow…) so that many titles are close in
  meaning but not in words: an exact-title search is sharp lexically, fuzzy for an embedding.
- ``TOPICS`` are synonym groups. Each has *query* words (only ever used in queries) and
  *text* phrases (only ever used in entity descriptions), so a topic query shares no word with
  the entities it is about, while a sentence-embedding model knows they mean the same thing.
- ``BROAD`` words are occasions ("love", "summer"…) many entities are tagged with; they appear
  in descriptions, so one-word queries match hundreds of entities.
- ``GENRES``, ``LOCALES``, ``MOODS``, ``TYPES``, ``DECADES`` are the structured fields and the
  words queries use for them.

The sets are disjoint where the design needs it (titles vs query words, topic query words vs
every description word); ``tests/datasets/test_music_world.py`` checks that after porter2 stemming.
"""

from __future__ import annotations


def _words(*groups: str) -> list[str]:
    return [w for g in groups for w in g.split()]


# Title words, in clusters of near-synonyms (one string per cluster).
ADJECTIVE_CLUSTERS = [
    "silver golden copper bronze brass chrome platinum gilded",
    "velvet silken satin woolen linen leather lacy feathered",
    "crimson scarlet ruby vermilion rosy blushing cherry carmine",
    "azure cobalt sapphire indigo cerulean teal turquoise navy",
    "emerald jade olive verdant mossy leafy grassy minty",
    "amber honeyed tawny ochre saffron mustard lemony buttery",
    "ivory pearly milky chalky snowy frosted creamy alabaster",
    "shadowed dusky murky gloomy smoky sooty inky ashen",
    "glowing gleaming shining radiant glittering sparkling shimmering lucent",
    "faded pale hazy misty foggy blurry dim muted",
    "frozen icy wintry chilly glacial frosty polar arctic",
    "burning blazing fiery smoldering scorching flaming molten searing",
    "broken shattered cracked splintered fractured crumbling torn tattered",
    "hollow empty vacant barren bare sparse thin meager",
    "quiet silent hushed muffled soundless whispering mute still",
    "restless wandering roaming drifting rambling straying nomadic errant",
    "falling tumbling sinking plunging sliding slipping dropping toppling",
    "rising soaring climbing ascending lifting floating hovering gliding",
    "spinning whirling twirling turning rolling circling swirling looping",
    "ancient antique vintage timeworn weathered rusted dusty worn",
    "electric magnetic atomic static charged humming buzzing wired",
    "paper wooden iron stone glass marble clay cardboard",
    "crooked twisted tangled knotted bent warped curly wiry",
    "secret hidden buried masked veiled cloaked covert sealed",
]
NOUN_CLUSTERS = [
    "raven crow sparrow swallow finch heron falcon magpie",
    "owl hawk eagle vulture condor kestrel osprey buzzard",
    "lantern candle torch lamp beacon lighthouse chandelier flare",
    "mirror window pane lens prism spyglass glassware monocle",
    "compass anchor rudder mast keel lifeboat oar rowboat",
    "diamond pearl opal garnet topaz onyx quartz agate",
    "canyon valley ravine gorge gulch gully chasm crater",
    "castle fortress citadel tower palace chateau stronghold turret",
    "garden orchard vineyard greenhouse hedge courtyard terrace patio",
    "feather wing plume quill talon beak nest eggshell",
    "ribbon thread needle spool lace button zipper thimble",
    "clock pendulum hourglass sundial metronome stopwatch calendar almanac",
    "engine piston gear lever pulley turbine dynamo crankshaft",
    "kite balloon parachute glider zeppelin blimp airship windsock",
    "violin cello harp flute trumpet banjo accordion tambourine",
    "tiger panther leopard jaguar lynx cougar ocelot cheetah",
    "wolf fox coyote jackal hound terrier beagle greyhound",
    "rose lily tulip orchid iris daisy poppy marigold",
    "velocity momentum gravity orbit pressure voltage friction inertia",
    "cathedral chapel abbey temple shrine monastery pagoda minaret",
    "carousel circus acrobat juggler trapeze clown ringmaster tightrope",
    "envelope postcard letterbox stamp telegram parcel courier postman",
    "harbor pier wharf dockyard jetty quay boardwalk marina",
    "ember cinder spark ash flint tinder matchstick kindling",
    "bridge tunnel viaduct archway stairway corridor hallway doorway",
    "bicycle scooter wagon sled carriage tram trolley unicycle",
    "honey sugar syrup caramel molasses toffee fudge nougat",
    "chess checkers domino puzzle riddle labyrinth maze jigsaw",
    "umbrella raincoat overcoat scarf mitten bonnet shawl cloak",
    "cactus fern ivy bamboo willow cedar birch maple",
]
TITLE_ADJECTIVES = _words(*ADJECTIVE_CLUSTERS)
TITLE_NOUNS = _words(*NOUN_CLUSTERS)

FIRST_NAMES = _words(
    "marina oliver sofia lucas amara felix nadia theo ingrid mateo yara hugo elena rafael",
    "clara jonas leila viktor noor dario freya tomas alma kenji mira bruno ayla cosmo",
    "lena idris vera otto zara emil nina pablo saskia ravi ines arlo greta kofi",
    "paloma sven leona dante imani milo juno ezra talia anton carmen joaquin hana ruben",
    "beatriz caspar odile wendell priya lorenzo maeve nikolai sabine tariq elodie gideon",
)
LAST_NAMES = _words(
    "holt varga lindqvist okafor moreau castillo brandt sato ferreira novak quinn adeyemi",
    "lund marsh delacroix hartmann nakamura silva kowalski blackwood ortega fontaine reyes",
    "albright kimura dubois schreiber mensah valdez whitlock haddad sorensen calloway",
    "rossi ashford bergstrom takeda oduya lacroix winslow petrova mcallister esposito",
    "fairbanks okonkwo halvorsen benedetti prescott yamamoto coelho lindgren abernathy",
)

# Topic synonym groups: query words (queries only) and text phrases (descriptions only).
TOPICS: dict[str, dict[str, list[str]]] = {
    "heartbreak": {"query": ["heartbreak", "heartache", "breakup", "heartbroken"],
                   "text": ["sorrow", "grief", "tears", "a painful goodbye", "an ex", "weeping",
                            "a lover who walked away", "mourning a romance"]},
    "ocean": {"query": ["ocean", "sea"],
              "text": ["waves", "tides", "sailors", "saltwater", "the coastline", "surf",
                       "gulls over the shore", "a voyage across deep water"]},
    "nostalgia": {"query": ["nostalgia", "nostalgic"],
                  "text": ["memories", "yesteryear", "the old days", "childhood summers long gone",
                           "remembering", "bygone times", "faded photographs"]},
    "rebellion": {"query": ["rebellion", "revolt", "uprising", "defiance"],
                  "text": ["protest", "resistance", "revolution", "riots", "anarchy",
                           "fighting the system", "overthrowing rulers"]},
    "cosmos": {"query": ["cosmos", "astronomy", "universe", "cosmic"],
               "text": ["stars", "galaxies", "planets", "astronauts", "the moon", "nebulae",
                        "drifting through the solar system", "a sky full of constellations"]},
    "money": {"query": ["money", "wealth"],
              "text": ["cash", "fortune", "dollars", "getting paid", "luxury cars",
                       "diamond watches", "a bank account overflowing"]},
    "faith": {"query": ["faith", "spirituality", "worship", "religion"],
              "text": ["prayer", "god", "heaven", "church", "salvation", "grace", "hymns",
                       "the holy spirit"]},
    "war": {"query": ["war", "warfare", "combat"],
            "text": ["soldiers", "the battlefield", "army", "bombs", "veterans", "trenches",
                     "gunfire", "fallen troops"]},
    "city": {"query": ["urban", "cityscape"],
             "text": ["streets", "downtown", "the subway", "skyscrapers", "neon signs",
                      "traffic", "crowded sidewalks", "apartment blocks"]},
    "loneliness": {"query": ["loneliness", "lonely", "solitude"],
                   "text": ["being alone", "empty rooms", "nobody around", "by myself",
                            "an unanswered phone", "eating dinner for one"]},
    "travel": {"query": ["travel", "traveling"],
               "text": ["trains", "airports", "passports", "foreign lands", "a suitcase",
                        "backpacking", "distant countries", "flights abroad"]},
    "family": {"query": ["family", "parents", "relatives"],
               "text": ["mother", "father", "siblings", "grandmother", "kids", "brothers",
                        "sisters", "a dad and his daughter"]},
    "addiction": {"query": ["addiction", "addicted"],
                  "text": ["whiskey", "pills", "rehab", "the bottle", "hangovers", "sobriety",
                           "relapse", "getting clean"]},
    "death": {"query": ["death", "mortality"],
              "text": ["funerals", "graves", "the afterlife", "a eulogy", "ghosts", "coffins",
                       "the cemetery", "last breaths"]},
    "revenge": {"query": ["revenge", "vengeance", "payback"],
                "text": ["getting even", "a grudge", "retribution", "betrayal", "settling scores",
                         "making them pay"]},
    "desire": {"query": ["lust", "seduction", "sensual"],
               "text": ["passion", "temptation", "attraction", "flirting", "kisses",
                        "bodies close together", "a steamy encounter"]},
    "youth": {"query": ["adolescence", "teenagers"],
              "text": ["high school", "classrooms", "prom", "a first crush", "growing up",
                       "homework", "skipping class"]},
    "storm": {"query": ["storm", "thunder"],
              "text": ["lightning", "hurricanes", "gales", "downpours", "dark clouds",
                       "howling wind", "floods"]},
    "food": {"query": ["food", "cooking", "cuisine"],
             "text": ["kitchens", "recipes", "spices", "dinner", "baking", "chefs",
                      "a feast", "restaurants"]},
    "sports": {"query": ["sports", "sport", "sporting"],
               "text": ["football", "stadiums", "trophies", "championships", "marathons",
                        "the final whistle", "a winning goal"]},
    "crime": {"query": ["crime", "criminal"],
              "text": ["robbery", "a heist", "police", "prison", "detectives", "thieves",
                       "a getaway car", "bank robbers"]},
    "technology": {"query": ["technology", "computers", "tech"],
                   "text": ["robots", "machines", "screens", "algorithms", "the digital age",
                            "cyber", "artificial intelligence", "smartphones"]},
    "politics": {"query": ["politics", "elections", "political"],
                 "text": ["presidents", "votes", "parliament", "democracy", "campaigns",
                          "senators", "a corrupt regime"]},
    "anxiety": {"query": ["anxiety", "anxious", "mental health"],
                "text": ["panic attacks", "therapy", "racing thoughts", "inner demons",
                         "burnout", "a troubled mind", "fear and worry"]},
}

# Occasion words: the broad one-word queries. Each has description phrases containing it.
BROAD: dict[str, list[str]] = {
    "love": ["a love anthem", "pure love on record"],
    "summer": ["a summer staple", "sounds like summer"],
    "party": ["a party starter", "built for the party"],
    "night": ["made for the night", "a late night spin"],
    "dance": ["made to dance", "a dance floor filler"],
    "chill": ["a chill listen", "best when you chill"],
    "workout": ["a workout booster", "keeps a workout going"],
    "christmas": ["a christmas classic", "heard every christmas"],
    "rain": ["perfect for rain", "fits a day of rain"],
    "morning": ["a morning lift", "for the morning commute"],
    "sleep": ["soft enough for sleep", "drifts toward sleep"],
    "focus": ["good for focus", "helps you focus"],
    "wedding": ["a wedding favourite", "played at every wedding"],
    "drive": ["a drive companion", "for a long drive"],
    "study": ["steady for study", "a study companion"],
    "relax": ["lets you relax", "a way to relax"],
}

GENRES = _words("rock pop country jazz blues rap techno house classical folk metal reggae",
                "samba funk soul punk indie ambient salsa kpop gospel bossa afrobeat fado")
MOODS = ["happy", "sad", "calm", "energetic", "romantic", "dark", "dreamy", "angry"]

# Locale code -> (adjective used in queries, share of the world's users, favourite genres).
LOCALES: dict[str, tuple[str, float, list[str]]] = {
    "us": ("american", 0.30, ["country", "rap", "rock", "pop", "blues"]),
    "gb": ("british", 0.10, ["indie", "rock", "punk", "pop"]),
    "br": ("brazilian", 0.10, ["samba", "bossa", "funk"]),
    "de": ("german", 0.08, ["techno", "house", "metal", "classical"]),
    "fr": ("french", 0.07, ["pop", "house", "jazz"]),
    "mx": ("mexican", 0.07, ["salsa", "pop", "folk"]),
    "jp": ("japanese", 0.06, ["ambient", "pop", "jazz"]),
    "kr": ("korean", 0.06, ["kpop", "pop", "rap"]),
    "se": ("swedish", 0.05, ["metal", "pop", "indie"]),
    "ng": ("nigerian", 0.05, ["afrobeat", "gospel", "reggae"]),
    "pt": ("portuguese", 0.03, ["fado", "folk"]),
    "jm": ("jamaican", 0.03, ["reggae", "soul"]),
}

# Entity type -> words a query uses for it (plural first).
TYPES: dict[str, list[str]] = {
    "track": ["songs", "tracks"],
    "artist": ["artists", "bands", "singers"],
    "album": ["albums", "records"],
    "playlist": ["playlists", "mixes"],
    "podcast": ["podcasts", "shows"],
}
DECADES: dict[str, tuple[int, int]] = {
    f"{d % 100:02d}s": (d, d + 9) for d in range(1960, 2030, 10)
}
RECENCY_WORDS = ["new", "latest"]

# Description building blocks: neutral about genre, decade, topic and occasion.
SOUNDS = [
    "warm guitars", "layered vocals", "steady drums", "sparse piano", "wide synth pads",
    "a slow build", "a bright chorus", "a driving bassline", "soft harmonies", "crisp percussion",
    "a hummable hook", "rich strings", "a restless groove", "a patient arrangement",
    "an airy mix", "a punchy low end", "gentle fingerpicking", "a soaring bridge",
    "muted horns", "a loose live feel", "handclaps", "a whistled melody", "tape hiss",
    "a call and response refrain", "stacked backing vocals", "an organ swell",
]
THEME_SENTENCES = [
    "The lyrics circle around {0} and {1}.",
    "Every verse returns to {0}, {1} and {2}.",
    "It is a meditation on {0}.",
    "Its images are of {0} and {1}.",
    "Listeners hear {0} in every line.",
]
PODCAST_INTROS = [
    "A weekly podcast hosted by {host}.",
    "A conversation podcast from {host}.",
    "{host} hosts this long running podcast.",
]
PODCAST_GENERIC = [
    "Each episode brings interviews and stories from working musicians.",
    "Guests discuss their work, their tours and their gear.",
    "Episodes dig into how classic hits were made.",
]
