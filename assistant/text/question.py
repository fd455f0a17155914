"""Questions as typed, made safe to search: any bytes in, clean Unicode out.

`clean` is what the answer echoes: invalid bytes (surrogate escapes from a terminal or a pipe, lone
surrogates from JSON) become U+FFFD, the text is NFC (a Spanish question typed with combining accents
matches the articles), control characters and odd spaces (no-break, zero-width...) become one space.
`unshout` is what is searched: a question in capitals carries no case, and capitals read as names."""

from __future__ import annotations

import re
import unicodedata

_SURROGATES = re.compile(r"[\ud800-\udfff]")  # undecodable bytes, as Python escapes them
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_MIN_SHOUT = 4  # letters: "EU" or "OK?" is not a shouted question


def clean(text: str) -> str:
    text = _SURROGATES.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", _CONTROLS.sub(" ", text)).strip()


def unshout(text: str) -> str:
    """A question written in capitals, in sentence case; any other question as it is."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < _MIN_SHOUT or any(c.islower() for c in letters):
        return text
    lowered = text.lower()
    first = next((i for i, c in enumerate(lowered) if c.isalpha()), 0)
    return lowered[:first] + lowered[first].upper() + lowered[first + 1 :]
