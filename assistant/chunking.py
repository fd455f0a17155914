"""Sentence-aware chunks with character offsets into the source file and stable ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

from .corpus import Article

_PARAGRAPH = re.compile(r"[^\n]+")
# Titles and abbreviations that pysbd's Spanish rules still end sentences on ("el Sr. Rubio").
_ABBREVIATION_END = re.compile(
    r"\b(?:Sr|Sra|Srta|Dr|Dra|Lic|Ing|Gral|Gob|Pdte|Mr|Mrs|Ms|Prof|St|EE|UU|[A-Z])\.$"
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    start: int
    end: int
    text: str  # == article.text[start:end]
    sentences: tuple[Span, ...]  # absolute offsets, inside [start, end)


@lru_cache(maxsize=4)
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False, char_span=True)


def sentences(text: str, start: int = 0, end: int | None = None, language: str = "es") -> list[Span]:
    """Sentences of text[start:end], one paragraph (line) at a time, trimmed of surrounding space."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    for para in _PARAGRAPH.finditer(text, start, end):
        merge = False
        for piece in _segmenter(language).segment(para.group()):
            s, e = _trim(text, para.start() + piece.start, min(para.start() + piece.end, para.end()))
            if e <= s:
                continue
            if merge:
                spans[-1] = Span(spans[-1].start, e)
            else:
                spans.append(Span(s, e))
            merge = bool(_ABBREVIATION_END.search(text, s, e))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_article(article: Article, max_chars: int) -> list[Chunk]:
    """Pack consecutive sentences of a paragraph into chunks of at most max_chars (a longer sentence
    stands alone). Paragraph breaks always end a chunk: they are topic breaks in news text."""
    chunks: list[Chunk] = []
    group: list[Span] = []
    for span in sentences(article.text, article.body_start, article.body_end):
        if group and (
            _paragraph_break(article.text, group[-1], span) or span.end - group[0].start > max_chars
        ):
            chunks.append(_make_chunk(article, group))
            group = []
        group.append(span)
    if group:
        chunks.append(_make_chunk(article, group))
    return chunks


def _paragraph_break(text: str, before: Span, after: Span) -> bool:
    return "\n" in text[before.end : after.start]


def _make_chunk(article: Article, group: list[Span]) -> Chunk:
    start, end = group[0].start, group[-1].end
    text = article.text[start:end]
    digest = hashlib.sha1(f"{article.source}\0{start}\0{text}".encode()).hexdigest()[:16]
    return Chunk(digest, article.source, start, end, text, tuple(group))
