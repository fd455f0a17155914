"""The short answer: the phrase of the lead quote that gives the kind of fact asked for."""

from __future__ import annotations

import re

from .. import cues
from ..answer import ShortAnswer
from ..retrieval import Retrieval, ScoredSentence
from ..text.folding import fold, folded_words
from . import dates

COUNTED_PREFIX = 4  # letters of the noun "how many" counts that a phrase must repeat ("migrant(e)s")
_YEAR = re.compile(r"\b(?:1\d{3}|20\d{2})\b")
FAR = 99  # the distance of a phrase with no question word in its sentence: after every anchored one


def short_answer(retrieval: Retrieval, sentence: ScoredSentence, n: int) -> ShortAnswer | None:
    """The typed phrase of the quote that answers: of several, the one nearest the question's words (and,
    for "how many X", the one counting X). "Who" asks for a person: a name, not an institution, where the
    quote names one; "who is" only ever gets a person. No phrase of the kind: no short answer."""
    qtype = retrieval.query.qtype
    if qtype is None or not sentence.answer_spans:
        return None
    text = sentence.text
    spans = sentence.answer_spans
    if qtype.kind == "person":
        spans = [part for span in spans for part in _names_in(text, span, retrieval.query.asked)]
        people = [span for span in spans if cues.is_person(text[span[0] : span[1]])]
        if people or qtype.detail == "identity":
            spans = people
        if not spans:
            return None
    positions = cues.anchors(text, retrieval.query.asked)
    counted = fold(qtype.detail or "")[:COUNTED_PREFIX]

    def rank(span: tuple[int, int]) -> tuple[int, int, int]:
        phrase = fold(text[span[0] : span[1]])
        d = cues.distance(text, span, positions)
        counts_it = 0 if counted and counted in phrase else 1
        return (counts_it, d if d is not None else FAR, span[0])

    a, b = min(spans, key=rank)
    start = sentence.span.start + a
    phrase = text[a:b]
    return ShortAnswer(
        text=phrase,
        source=sentence.chunk.source,
        start=start,
        end=start + (b - a),
        n=n,
        kind=qtype.kind,
        resolved=_resolved(phrase, qtype.kind, retrieval.titles.get(sentence.chunk.source, ("", None))[1]),
    )


_AND = re.compile(r"\s+(?:y|e|and)\s+|,\s+")


def _names_in(text: str, span: tuple[int, int], asked: set[str]) -> list[tuple[int, int]]:
    """A phrase naming several ("Juan Ramón de la Fuente y Marco Rubio") as its names, without those the
    question already names."""
    parts, at = [], span[0]
    for m in _AND.finditer(text, span[0], span[1]):
        parts.append((at, m.start()))
        at = m.end()
    parts.append((at, span[1]))
    new = [p for p in parts if folded_words(text[p[0] : p[1]]) - asked]
    return new or [span]


def _resolved(phrase: str, kind: str, article_date: str | None) -> str | None:
    """For a date that only the article's date pins down ("el próximo jueves", "23 de enero"): the day."""
    if kind not in ("date", "day") or not article_date:
        return None
    day = dates.resolve(phrase, article_date)
    return day.isoformat() if day and (dates.is_relative(phrase) or not _YEAR.search(phrase)) else None
