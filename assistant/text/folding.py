"""Case and accent folding: the one way words are compared across the package."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

_LETTERS_AND_DIGITS = re.compile(r"[^\W_]+")
CACHED_CHARS = 2000  # words and sentences are remembered; passages are longer, and each is seen once
CACHE_SIZE = 32768  # ~6 MB of sentences
T = TypeVar("T")


def remembered(func: Callable[[str], T]) -> Callable[[str], T]:
    """func, remembered for texts of up to CACHED_CHARS: retrieval, the reader, the cues and corroboration
    each fold and analyse the same candidate sentences and words of a question."""
    cached = lru_cache(maxsize=CACHE_SIZE)(func)

    def call(text: str) -> T:
        return cached(text) if len(text) <= CACHED_CHARS else func(text)

    return call


@remembered
def fold(text: str) -> str:
    """Lowercase and strip accents, so 'reunión', 'Reunion' and 'REUNIÓN' meet ('ñ' becomes 'n')."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_words(text: str) -> set[str]:
    """The folded words (letters and digits, no underscores) of a text."""
    return set(_LETTERS_AND_DIGITS.findall(fold(text)))
