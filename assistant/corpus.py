"""Reading articles: decode, find date and title, and the span worth indexing. Text is kept exactly."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIXES = {".txt", ".md"}
_DATE = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
# Comment-counter junk left by news sites at the end of a scraped page.
_TRAILING_JUNK = re.compile(
    r"(?:\s*\b(?:comentarios|comments)\b\s*\d*\s*(?:comentarios?|comments?)?)+\s*\Z", re.IGNORECASE
)
_TITLE_CHARS = 120


class UnreadableFile(ValueError):
    """A file that cannot be indexed (empty, binary or undecodable); the message names it."""


@dataclass(frozen=True)
class Article:
    source: str  # path relative to the corpus directory, with forward slashes
    text: str  # the whole decoded file, offsets are into this
    title: str
    date: str | None
    body_start: int  # the indexable span: after the date token, before trailing junk
    body_end: int

    @property
    def body(self) -> str:
        return self.text[self.body_start : self.body_end]


def decode(data: bytes, name: str) -> tuple[str, str | None]:
    """Decode as UTF-8, else cp1252. Returns (text, warning or None); raises UnreadableFile."""
    if b"\x00" in data[:8192]:
        raise UnreadableFile(f"{name}: looks binary, skipped")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{name}: neither UTF-8 nor cp1252, skipped") from exc
    return text, f"{name}: not UTF-8, read as cp1252"


def read_text(path: Path) -> str:
    """The decoded text of a file, exactly as citations' offsets refer to it."""
    return decode(path.read_bytes(), str(path))[0]


def parse(source: str, text: str) -> Article:
    """Find the date token, the title and the indexable span of a decoded file."""
    match = _DATE.match(text)
    date = match.group(1) if match else None
    start = match.end() if match else len(text) - len(text.lstrip())
    junk = _TRAILING_JUNK.search(text, start)
    end = junk.start() if junk else len(text.rstrip())
    end = start + len(text[start:end].rstrip())
    if end <= start:
        raise UnreadableFile(f"{source}: empty, skipped")
    first_line = text[start:end].split("\n", 1)[0].strip()
    return Article(source, text, _short_title(first_line), date, start, end)


def _short_title(line: str) -> str:
    if len(line) <= _TITLE_CHARS:
        return line
    return line[:_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def load_article(source: str, data: bytes) -> tuple[Article, str | None]:
    """The article in a file's bytes, and a warning (e.g. not UTF-8) or None; raises UnreadableFile."""
    if not data.strip():
        raise UnreadableFile(f"{source}: empty, skipped")
    text, warning = decode(data, source)
    return parse(source, text), warning


def article_paths(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
