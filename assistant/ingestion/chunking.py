"""Sentence-aware chunks with character offsets into the source file and stable ids.

Sentences come from pysbd (rule-based, Spanish rules): its boundaries gave the best retrieval on XQuAD
(sentencex, 270x faster, cost 0.5 points of recall@1). pysbd is superlinear on one huge paragraph, so a
paragraph over PYSBD_MAX_CHARS is split by sentencex (Wikimedia's segmenter, Rust, linear) instead. A run
without sentence ends (a table dump, a minified line) is cut at spaces into pieces of at most
MAX_SENTENCE_CHARS: no input makes a passage or a quote unbounded, or stalls indexing."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import pysbd
import sentencex

from ..stores.base import Chunk, Span
from .corpus import Article

# pysbd builds its abbreviation regexes from strings at every call (2,100 distinct patterns on 250 articles,
# 3,200 on 530), more than the `re` module caches (512, evicting the oldest): each was recompiled for every
# paragraph. A larger cache makes sentence splitting 30% faster (250 articles: 2.3 s -> 1.6 s), same output.
re._MAXCACHE = max(re._MAXCACHE, 4096)  # type: ignore[attr-defined]

_PARAGRAPH = re.compile(r"[^\n]+")
# Titles and abbreviations that pysbd's Spanish rules still end sentences on ("el Sr. Rubio").
_ABBREVIATION_END = re.compile(
    r"\b(?:Sr|Sra|Srta|Dr|Dra|Lic|Ing|Gral|Gob|Pdte|Mr|Mrs|Ms|Prof|St|EE|UU|[A-Z])\.$"
)


MAX_SENTENCE_CHARS = 1000
PYSBD_MAX_CHARS = 5000  # pysbd: 1.2 s at 16 KB, 17.5 s at 64 KB; news paragraphs are < 2 KB


@lru_cache(maxsize=4)
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False, char_span=True)


def sentences(text: str, start: int = 0, end: int | None = None, language: str = "es") -> list[Span]:
    """Sentences of text[start:end], one paragraph (line) at a time, trimmed of surrounding space."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    for para in _PARAGRAPH.finditer(text, start, end):
        merge = False
        for s, e in _pieces(para.group(), para.start(), language):
            s, e = _trim(text, s, e)
            if e <= s:
                continue
            if merge:
                spans[-1] = Span(spans[-1].start, e)
            else:
                spans.extend(_bounded(text, s, e))
            merge = (
                bool(_ABBREVIATION_END.search(text, s, e))
                and spans[-1].end - spans[-1].start < MAX_SENTENCE_CHARS
            )
    return spans


def _pieces(paragraph: str, offset: int, language: str) -> list[tuple[int, int]]:
    """The sentences of one paragraph as spans, untrimmed."""
    if len(paragraph) <= PYSBD_MAX_CHARS:
        pieces = _segmenter(language).segment(paragraph)
        return [(offset + p.start, offset + min(p.end, len(paragraph))) for p in pieces]
    out, pos = [], offset
    for piece in sentencex.segment(language, paragraph):  # its pieces cover the paragraph exactly
        out.append((pos, pos + len(piece)))
        pos += len(piece)
    return out


def _bounded(text: str, start: int, end: int) -> list[Span]:
    """A sentence, or pieces of at most MAX_SENTENCE_CHARS cut at the last space before the limit."""
    spans = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + 1, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        spans.append(Span(*_trim(text, start, cut)))
        start = _trim(text, cut, end)[0]
    spans.append(Span(start, end))
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
