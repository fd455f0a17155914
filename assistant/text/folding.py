"""Case and accent folding: the one way words are compared across the package."""

from __future__ import annotations

import re
import unicodedata

_LETTERS_AND_DIGITS = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lowercase and strip accents, so 'reunión', 'Reunion' and 'REUNIÓN' meet ('ñ' becomes 'n')."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_words(text: str) -> set[str]:
    """The folded words (letters and digits, no underscores) of a text."""
    return set(_LETTERS_AND_DIGITS.findall(fold(text)))
