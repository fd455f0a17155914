"""The default answerer: quote the sentences that answer the question, or abstain. No LLM.

Whether to answer, and the lead quote, are `abstention.decide`'s; a further sentence is quoted only where
the fitted sentence model says it answers on its own (weights.py) and no quote states its fact already.
Besides the quotes: the other articles that state the same fact (`corroboration`) and the phrase that
answers a typed question (`short_answer`)."""

from __future__ import annotations

from collections.abc import Generator, Sequence

from ..answer import ABSTENTION, Answer, Citation
from ..retrieval import Retrieval, ScoredSentence
from ..stores.base import Titles
from .abstention import Verdict, decide
from .corroboration import corroborations, cosine, same_fact
from .short_answer import short_answer
from .weights import Weights, load

MAX_SENTENCES = 3
CANDIDATES = 8  # best-ranked sentences that may join the first quote


def select(retrieval: Retrieval, weights: Weights | None = None) -> list[ScoredSentence]:
    """The sentences to quote, lead first; empty when the articles do not support an answer."""
    weights = weights or load()
    verdict = decide(retrieval, weights)
    return _quotes(retrieval, verdict, weights) if verdict.answer else []


def _quotes(retrieval: Retrieval, verdict: Verdict, weights: Weights) -> list[ScoredSentence]:
    first = verdict.lead
    assert first is not None  # an answering verdict names its lead
    chosen = [first]
    short = short_answer(retrieval, first, 1)
    value = short.text if short else None
    for candidate in retrieval.sentences[:CANDIDATES]:
        if len(chosen) == MAX_SENTENCES:
            break
        if candidate is first or not candidate.cue:
            continue
        if any(same_fact(retrieval, c, candidate.text, cosine(c, candidate), value) for c in chosen):
            continue  # the same fact again (another article, other words): listed in `also_in`, not quoted
        if weights.joins(retrieval, candidate):
            chosen.append(candidate)
    return chosen


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


def answer(retrieval: Retrieval, titles: Titles, weights: Weights | None = None) -> Answer:
    query = retrieval.query
    weights = weights or load()
    verdict = decide(retrieval, weights)
    if not verdict.answer:
        return abstain(query.text, query.language, verdict.reason)
    chosen = _quotes(retrieval, verdict, weights)
    citations = [citation(n, s, titles) for n, s in enumerate(chosen, start=1)]
    short = short_answer(retrieval, chosen[0], 1)
    value = short.text if short else None
    for c, also in zip(citations, corroborations(retrieval, chosen, value, titles), strict=True):
        c.also_in = also
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(
        question=query.text,
        language=query.language,
        answer=text,
        abstained=False,
        citations=citations,
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


def extractive_answer(retrieval: Retrieval, question: str, language: str, titles: Titles) -> Answer:
    """The extractive answer, reported against the user's question and in its language."""
    result = answer(retrieval, titles)
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
