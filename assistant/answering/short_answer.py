"""The short answer: the phrase of the lead quote that gives the kind of fact asked for."""

from __future__ import annotations

from .. import cues
from ..answer import ShortAnswer
from ..retrieval import Retrieval, ScoredSentence
from ..text.folding import fold

COUNTED_PREFIX = 4  # letters of the noun "how many" counts that a phrase must repeat ("migrant(e)s")
FAR = 99  # the distance of a phrase with no question word in its sentence: after every anchored one


def short_answer(retrieval: Retrieval, sentence: ScoredSentence, n: int) -> ShortAnswer | None:
    """The typed phrase of the quote that answers: of several, the one nearest the question's words (and,
    for "how many X", the one counting X)."""
    qtype = retrieval.query.qtype
    if qtype is None or not sentence.answer_spans:
        return None
    text = sentence.text
    positions = cues.anchors(text, retrieval.query.asked)
    counted = fold(qtype.detail or "")[:COUNTED_PREFIX]

    def rank(span: tuple[int, int]) -> tuple[int, int, int]:
        phrase = fold(text[span[0] : span[1]])
        d = cues.distance(text, span, positions)
        counts_it = 0 if counted and counted in phrase else 1
        return (counts_it, d if d is not None else FAR, span[0])

    a, b = min(sentence.answer_spans, key=rank)
    start = sentence.span.start + a
    return ShortAnswer(
        text=text[a:b], source=sentence.chunk.source, start=start, end=start + (b - a), n=n, kind=qtype.kind
    )
