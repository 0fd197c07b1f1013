"""Misspellings of titles and names: phonetic swaps and single character edits.

Every word of four letters or more gets one misspelling, so no word of the original survives
for an exact-term (BM25) match, while most character 3-grams do. A misspelt word is never
itself a word of the catalogue's titles and names (``vocabulary``).
"""

from __future__ import annotations

import numpy as np

# Phonetic confusions people make (pattern, replacement), tried before blind edits.
PHONETIC = [("ph", "f"), ("ck", "k"), ("c", "k"), ("k", "c"), ("s", "z"), ("z", "s"), ("ee", "ea"),
            ("ea", "ee"), ("y", "i"), ("ie", "y"), ("ou", "ow"), ("er", "ur"), ("or", "er"),
            ("qu", "kw"), ("x", "ks"), ("tion", "shun"), ("ll", "l"), ("tt", "t"), ("ss", "s"),
            ("nn", "n"), ("mm", "m"), ("rr", "r"), ("th", "t"), ("v", "f"), ("w", "v")]
VOWELS = "aeiou"


def _edit(word: str, rng: np.random.Generator) -> str:
    """One phonetic swap (when one applies, 60%) or one blind edit inside the word."""
    swaps = [(a, b) for a, b in PHONETIC if a in word[1:]]
    if swaps and rng.random() < 0.6:
        a, b = swaps[rng.integers(len(swaps))]
        at = word.find(a, 1)
        return word[:at] + b + word[at + len(a):]
    i = int(rng.integers(1, len(word) - 1))
    op = rng.integers(4)
    if op == 0:  # delete
        return word[:i] + word[i + 1:]
    if op == 1:  # transpose
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 2:  # double a letter
        return word[:i] + word[i] + word[i:]
    vowels = [v for v in VOWELS if v != word[i]]  # substitute, vowel for vowel where possible
    if word[i] in VOWELS:
        return word[:i] + vowels[rng.integers(len(vowels))] + word[i + 1:]
    return word[:i] + chr(97 + int(rng.integers(26))) + word[i + 1:]


def misspell(text: str, rng: np.random.Generator, vocabulary: set[str], tries: int = 8) -> str | None:
    """``text`` with every word of 4+ letters misspelt, or None if no clean misspelling was found."""
    out = []
    for word in text.split():
        if len(word) < 4 or not word.isalpha():
            out.append(word)
            continue
        for _ in range(tries):
            bad = _edit(word, rng)
            if bad != word and bad not in vocabulary:
                out.append(bad)
                break
        else:
            return None
    result = " ".join(out)
    return result if result != text else None
