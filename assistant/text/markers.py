"""Citation markers: every claim of an answer ends with `[n]`, n the number of its citation."""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+)\]")
SPACED_MARKER = re.compile(r"\s*\[(\d+)\]")  # a marker with the blank before it, to strip or rewrite


def numbers(text: str) -> list[int]:
    """The citation numbers a text refers to, in order of first mention."""
    return list(dict.fromkeys(int(n) for n in MARKER.findall(text)))


def strip(text: str) -> str:
    """The text without its markers."""
    return SPACED_MARKER.sub("", text).strip()
