"""The default answerer: quote the sentence that answers the question, or abstain. No LLM.

Whether to answer, and the lead quote, are `abstention.decide`'s (the reader ranks the candidates, the
fitted answer model judges the lead). A second sentence is not quoted: on XQuAD a second sentence chosen on
score was wrong one time in two to three, so the other articles that state the same fact are listed in
`also_in` instead (`corroboration`); `short_answer` picks the phrase that answers a typed question."""

from __future__ import annotations

from collections.abc import Generator, Sequence

from ..answer import ABSTENTION, Answer, Citation
from ..retrieval import Retrieval, ScoredSentence
from ..stores.base import Titles
from .abstention import Verdict, decide
from .corroboration import corroborations
from .short_answer import short_answer


def citation(n: int, sentence: ScoredSentence, titles: Titles) -> Citation:
    chunk, span = sentence.chunk, sentence.span
    title, date = titles.get(chunk.source, (chunk.source, None))
    return Citation(
        n=n,
        source=chunk.source,
        title=title,
        date=date,
        quote=sentence.text,
        start=span.start,
        end=span.end,
        chunk_id=chunk.id,
        score=round(sentence.score, 4),
    )


def answer(retrieval: Retrieval, titles: Titles, verdict: Verdict | None = None) -> Answer:
    """`verdict`: `decide`'s on this retrieval, where the caller has it already."""
    query = retrieval.query
    verdict = verdict or decide(retrieval)
    if not verdict.answer or verdict.lead is None:
        return abstain(query.text, query.language, verdict.reason)
    lead = verdict.lead
    cited = citation(1, lead, titles)
    short = short_answer(retrieval, lead, 1)
    [cited.also_in] = corroborations(retrieval, [lead], short.text if short else None, titles)
    return Answer(
        question=query.text,
        language=query.language,
        answer=f"{cited.quote} [1]",
        abstained=False,
        citations=[cited],
        short_answer=short,
    )


def abstain(question: str, language: str, reason: str | None = None) -> Answer:
    return Answer(
        question=question,
        language=language,
        answer=ABSTENTION.get(language, ABSTENTION["en"]),
        abstained=True,
        reason=reason,
    )


def extractive_answer(
    retrieval: Retrieval, question: str, language: str, titles: Titles, verdict: Verdict | None = None
) -> Answer:
    """The extractive answer, reported against the user's question and in its language."""
    result = answer(retrieval, titles, verdict)
    if result.abstained:
        return abstain(question, language, result.reason)
    return result.model_copy(update={"question": question, "language": language})


class ExtractiveAnswerer:
    name = "extractive"

    def condense(self, question: str, history: Sequence[Answer]) -> str | None:
        return None

    def stream(
        self, retrieval: Retrieval, question: str, language: str, titles: Titles
    ) -> Generator[str, None, Answer]:
        result = extractive_answer(retrieval, question, language, titles)
        yield result.answer
        return result
