"""Case and accent folding: the one way words are compared across the package."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LETTERS_AND_DIGITS = re.compile(r"[^\W_]+")
CACHED_CHARS = 2000  # words and sentences are folded once and remembered (passages are longer)
CACHE_SIZE = 32768  # ~6 MB of sentences: a question's candidates are folded by several stages


def fold(text: str) -> str:
    """Lowercase and strip accents, so 'reunión', 'Reunion' and 'REUNIÓN' meet ('ñ' becomes 'n')."""
    return _fold_cached(text) if len(text) <= CACHED_CHARS else _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Retrieval, the reader, the cues and corroboration each fold the same candidate sentences and words.
_fold_cached = lru_cache(maxsize=CACHE_SIZE)(_fold)


def folded_words(text: str) -> set[str]:
    """The folded words (letters and digits, no underscores) of a text."""
    return set(_LETTERS_AND_DIGITS.findall(fold(text)))
