"""The default answerer: quote the 1–3 sentences that answer the question, or abstain. No LLM.

The decision to answer and the choice of further sentences are `decision.py`'s (fitted weights); this
module applies them, lists the other articles that state the same fact (`also_in`) and picks the phrase
that answers a typed question (`short_answer`)."""

from __future__ import annotations

import re

import numpy as np

from . import cues
from .answer import ABSTENTION, Answer, Citation, Corroboration, ShortAnswer
from .chunking import Chunk, Span
from .decision import Decision, load
from .lexical import analyze, fold
from .retrieval import Retrieval, ScoredSentence

MAX_SENTENCES = 3
# A typed question ("when …") is answered from the best-ranked of the first TYPE_WINDOW sentences that
# states the kind of fact asked for; none of them does: abstain.
TYPE_WINDOW = 5
CANDIDATES = 8  # best-ranked sentences that may join the first quote
# Another article states the same fact (it is listed in `also_in`, never quoted twice) when its sentence
# gives the same value for a typed question and is close to the quote (cosine) or a near-copy (share of
# the smaller sentence's terms); otherwise when it is both close and shares half the terms. Set by eye on
# the sample articles' pairs: paraphrases of one wire text sit at cosine 0.90–0.97 with 0.5–0.9 of the
# terms shared, different facts of one story at 0.87–0.93 with under 0.45.
SAME_FACT = {"typed_cosine": 0.88, "near_copy": 0.6, "cosine": 0.90, "overlap": 0.5, "copy": 0.9}
MIN_TERMS = 5
CORROBORATION_CANDIDATES = 30  # nearest sentences looked at per quote (see HybridRetriever.similar_sentences)
Titles = dict[str, tuple[str, str | None]]


def first_sentence(retrieval: Retrieval, decision: Decision | None = None) -> ScoredSentence | None:
    """The sentence to quote first, among the first TYPE_WINDOW ranked that state the kind of fact asked
    for (all of them, for an untyped question): the best-ranked, or the one the sentence model rates
    highest where the fitted weights say that is more often right."""
    window = [s for s in retrieval.sentences[:TYPE_WINDOW] if s.cue]
    if not window:
        return None
    decision = decision or load()
    if decision.first_by_model(retrieval.query.language):
        return max(window, key=lambda s: decision.holds_answer(retrieval, s))
    return window[0]


def select(retrieval: Retrieval, decision: Decision | None = None) -> list[ScoredSentence]:
    """The sentences to quote, best first; empty when the articles do not support an answer."""
    decision = decision or load()
    if not retrieval.query.known_terms:
        return []
    first = first_sentence(retrieval, decision)
    if first is None or not decision.answers(retrieval, first):
        return []
    chosen = [first]
    short = short_answer(retrieval, first, 1)
    value = short.text if short else None
    for candidate in retrieval.sentences[:CANDIDATES]:
        if len(chosen) == MAX_SENTENCES:
            break
        if candidate is first or not candidate.cue:
            continue
        if any(_same_fact(retrieval, c, candidate.text, _cosine(c, candidate), value) for c in chosen):
            continue  # the same fact again (another article, other words): listed in `also_in`, not quoted
        if decision.joins(retrieval, candidate):
            chosen.append(candidate)
    return chosen


def _same_fact(
    retrieval: Retrieval, quoted: ScoredSentence, text: str, similarity: float | None, value: str | None
) -> bool:
    """Whether `text` (another sentence, `similarity` its cosine to the quote) states what `quoted` states.
    Typed question: it gives the same value ("23 de enero") and is close in embedding space or a
    near-copy. Otherwise: close in embedding space *and* sharing half of its terms (on-topic sentences of
    one story are all close). Headlines and sentences of under five terms never count."""
    if cues.is_heading(text):
        return False
    ta, tb = _terms(quoted.text), _terms(text)
    if min(len(ta), len(tb)) < MIN_TERMS:
        return False
    overlap, similarity = _overlap(ta, tb), similarity or 0.0
    if overlap >= SAME_FACT["copy"]:
        return True  # the same sentence (wire text): whatever the value looks like in it
    if retrieval.query.qtype is not None:
        if not value or not _value_words(value) <= _words(text):
            return False
        return similarity >= SAME_FACT["typed_cosine"] or overlap >= SAME_FACT["near_copy"]
    return similarity >= SAME_FACT["cosine"] and overlap >= SAME_FACT["overlap"]


def _cosine(a: ScoredSentence, b: ScoredSentence) -> float | None:
    return float(a.vector @ b.vector) if a.vector is not None and b.vector is not None else None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", fold(text)))


def _terms(text: str) -> set[str]:
    return set(analyze(text))


def _overlap(ta: set[str], tb: set[str]) -> float:
    return len(ta & tb) / min(len(ta), len(tb)) if ta and tb else 0.0


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


# --- the short answer ---------------------------------------------------------------------------------


def short_answer(retrieval: Retrieval, sentence: ScoredSentence, n: int) -> ShortAnswer | None:
    """The typed phrase of the quote that answers: of several, the one nearest the question's words (and,
    for "how many X", the one counting X)."""
    qtype = retrieval.query.qtype
    if qtype is None or not sentence.answer_spans:
        return None
    text = sentence.text
    positions = cues.anchors(text, retrieval.query.asked)
    counted = fold(qtype.detail or "")[:4]

    def rank(span: tuple[int, int]) -> tuple[int, int, int]:
        phrase = fold(text[span[0] : span[1]])
        d = cues.distance(text, span, positions)
        counts_it = 0 if counted and counted in phrase else 1
        return (counts_it, d if d is not None else 99, span[0])

    a, b = min(sentence.answer_spans, key=rank)
    start = sentence.span.start + a
    return ShortAnswer(
        text=text[a:b], source=sentence.chunk.source, start=start, end=start + (b - a), n=n, kind=qtype.kind
    )


# --- corroboration --------------------------------------------------------------------------------------


def _value_words(text: str) -> set[str]:
    """What must recur for another sentence to give the same value: its digits and content words."""
    words = re.findall(r"[^\W_]+", fold(text))
    return {w for w in words if w.isdigit() or (len(w) >= 3 and analyze(w))}


def corroborations(
    retrieval: Retrieval, chosen: list[ScoredSentence], value: str | None, titles: Titles
) -> list[list[Corroboration]]:
    """Per quoted sentence: the other articles stating the same fact, one sentence each, closest first."""
    found: list[list[Corroboration]] = [[] for _ in chosen]
    vectors = [s.vector for s in chosen]
    if retrieval.similar is None or any(v is None for v in vectors) or not chosen:
        return found
    quoted = {(s.chunk.source, s.span.start) for s in chosen}
    hits = retrieval.similar([s.text for s in chosen], np.stack(vectors), CORROBORATION_CANDIDATES)
    for i, (sentence, near) in enumerate(zip(chosen, hits, strict=True)):
        sources = {sentence.chunk.source}
        for chunk, span, similarity in sorted(near, key=lambda h: -h[2]):
            if chunk.source in sources or (chunk.source, span.start) in quoted:
                continue
            text = _text(chunk, span)
            if not _same_fact(retrieval, sentence, text, similarity, value):
                continue
            title, date = titles.get(chunk.source) or retrieval_title(retrieval, chunk.source)
            found[i].append(
                Corroboration(
                    source=chunk.source, title=title, date=date, quote=text, start=span.start, end=span.end
                )
            )
            sources.add(chunk.source)
    return found


def retrieval_title(retrieval: Retrieval, source: str) -> tuple[str, str | None]:
    return retrieval.titles.get(source, (source, None))


def _text(chunk: Chunk, span: Span) -> str:
    return chunk.text[span.start - chunk.start : span.end - chunk.start]


# --- the answer -----------------------------------------------------------------------------------------


def answer(retrieval: Retrieval, titles: Titles, decision: Decision | None = None) -> Answer:
    query = retrieval.query
    chosen = select(retrieval, decision)
    if not chosen:
        return abstain(query.text, query.language)
    citations = [citation(n, s, titles) for n, s in enumerate(chosen, start=1)]
    short = short_answer(retrieval, chosen[0], 1)
    for c, also in zip(
        citations, corroborations(retrieval, chosen, short.text if short else None, titles), strict=True
    ):
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


def abstain(question: str, language: str) -> Answer:
    return Answer(
        question=question,
        language=language,
        answer=ABSTENTION.get(language, ABSTENTION["en"]),
        abstained=True,
    )
