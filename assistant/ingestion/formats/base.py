"""What every extractor shares: the result type, the error, and the one normalisation of canonical text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime


class UnreadableFile(ValueError):
    """A file (or part of one) that yields no article; str() is "SOURCE: reason", meant for the user."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class Extracted:
    """One article read from a file. Offsets (citations, `pages`, `body_start`) index into `text`."""

    source: str  # the file's id; "mail.eml/report.pdf" for an attachment, "feed.xml#2" for a feed entry
    text: str  # canonical: NFC, "\n" line ends, no BOM; deterministic for the same bytes
    format: str  # "text" | "markdown" | "html" | "pdf" | "docx" | "eml" | "feed"
    title: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD, from the document's own metadata
    author: str | None = None
    site: str | None = None  # HTML site name, or the feed's title
    link: str | None = None  # HTML canonical URL, feed entry link
    parent: str | None = None  # for an attachment: the message's source
    pages: tuple[tuple[int, int], ...] = ()  # PDF: (start, end) of each page in text, empty span = no text
    body_start: int = 0  # text/markdown: where the body starts after YAML front matter (which stays in text)
    warnings: tuple[str, ...] = ()  # partial problems, for the user; they do not repeat the source

    def page(self, offset: int) -> int | None:
        """The 1-based PDF page holding text[offset] (a citation's `page`); None outside every page."""
        return page_of(self.pages, offset)


def page_of(pages: Sequence[Sequence[int]], offset: int) -> int | None:
    """The 1-based page whose (start, end) span holds offset; None outside every page (or no pages)."""
    for number, (start, end) in enumerate(pages, 1):
        if start <= offset < end:
            return number
    return None


# Line breaks other than "\n" that str.splitlines() honours; CRLF first so it becomes one break.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0/C1 controls except tab and newline; lone surrogates (undecodable bytes the email package keeps as
# surrogate escapes; they cannot be stored as UTF-8); the noncharacters PDFium uses as markers (U+FFFE
# where it removed a hyphen at a line end, the word is rejoined).
_JUNK = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"[^\S\n]+")


def canonical_file_text(text: str) -> str:
    """Canonical text of a text file: the decoded file with the BOM dropped, CRLF and CR as "\n", NFC."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def strip_controls(text: str) -> str:
    """The text without control characters (but tab and line breaks), lone surrogates and noncharacters."""
    return _JUNK.sub("", text)


def tidy(text: str) -> str:
    """Canonical text of an extracted document: one paragraph a line, single spaces, no blank lines."""
    text = _JUNK.sub("", _LINE_BREAKS.sub("\n", text.removeprefix("\ufeff")))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    # NFC last: nothing after it can undo it (stripping spaces before "\n" composes nothing).
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))


def one_line(text: str | None) -> str | None:
    """A metadata value as one tidy line, None when empty."""
    if text is None:
        return None
    value = tidy(str(text)).replace("\n", " ")
    return value or None


def iso_date(value: object) -> str | None:
    """YYYY-MM-DD from a date, a datetime or a string starting with an ISO date; None if not valid."""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
        if match:
            try:
                return date(*map(int, match.groups())).isoformat()
            except ValueError:
                return None
    return None


def with_headline(title: str | None, body: str) -> str:
    """The headline as the first line, as in the .txt articles, unless the body already starts with it."""
    if not title or body.split("\n", 1)[0].strip() == title:
        return body
    return f"{title}\n{body}" if body else title
