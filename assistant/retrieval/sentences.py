"""Sentences of the best passages, scored for the answerer: mostly their passage's fused score, then
their own evidence (embedding similarity and BM25), a bonus for stating the kind of fact asked for and a
penalty for headlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import cues
from ..stores.base import Chunk, LexicalIndex, Span
from ..text.analysis import analyze
from .query import Query

SENTENCE_CHUNKS = 8  # chunks whose sentences compete for the answer
PASSAGE_WEIGHT = 0.7  # a sentence's score: mostly its passage's fused score, then its own evidence
DENSE_SHARE = 0.8  # of a sentence's own evidence: embedding similarity (the rest: its BM25)
SIMILARITY_SPAN = 0.1  # e5 cosines crowd near the top: 0.1 below the best candidate counts as nothing
CUE_BONUS = 0.15  # a sentence holding the kind of word asked for (a date for "when")
HEADING_PENALTY = 0.3  # headlines repeat a question's words without answering it


@dataclass
class ScoredSentence:
    chunk: Chunk
    span: Span
    score: float
    coverage: float  # idf-weighted share of query terms found in the sentence's passage
    cue: bool  # it states the kind of fact asked for (always True when no kind is asked)
    sentence_coverage: float = 0.0  # the same share, in the sentence alone
    similarity: float = 0.0  # cosine similarity to the question (best of its variants)
    passage_similarity: float = 0.0  # the passage's cosine similarity to the question
    agreement: float = 0.0  # the passage's fused score over the most any passage can get
    answer_spans: list[tuple[int, int]] = field(default_factory=list)  # typed facts, sentence offsets
    vector: np.ndarray | None = field(default=None, repr=False)
    lexical: float = 0.0  # its BM25 score over the best candidate's
    similarities: tuple[float, ...] = ()  # cosine to each query variant (the question, its translation)
    position: int = 0  # its place in its passage (0: the first sentence)
    context_similarity: float = 0.0  # the best cosine of the sentences next to it in its passage
    loose_coverage: float = 0.0  # sentence_coverage with words matched by their first letters too

    @property
    def text(self) -> str:
        return self.chunk.text[self.span.start - self.chunk.start : self.span.end - self.chunk.start]


@dataclass
class PassageEvidence:
    dense: list[dict[str, float]]  # per query variant: cosine of the nearest passages
    fused: dict[str, float]  # reciprocal-rank-fused score
    most: float  # the fused score of a passage first in every ranking

    def similarity(self, chunk_id: str) -> float:
        """The passage's best cosine over the query variants; one outside a variant's nearest passages
        counts as that variant's farthest."""
        return max((d.get(chunk_id, min(d.values())) for d in self.dense if d), default=0.0)


def rank_sentences(
    query: Query,
    vectors: np.ndarray,
    lexical: LexicalIndex,
    top: Sequence[Chunk],
    passage: PassageEvidence,
    stored: dict[str, np.ndarray],
) -> list[ScoredSentence]:
    """Sentences of the top passages, best first: the passage's fused score, plus the sentence's own
    evidence (BM25 and embedding similarity, each scaled to the best candidate), plus the cue."""
    if not top:
        return []
    fused = passage.fused
    bm25 = lexical.sentence_scores(query.terms, [c.id for c in top])
    candidates = []
    for chunk in top:
        row = bm25.get(chunk.id)
        for j, span in enumerate(chunk.sentences):
            lex = row[j] if row is not None and j < len(row) else 0.0
            candidates.append((chunk, span, fused[chunk.id] / fused[top[0].id], lex))
    own = [
        stored[chunk.id][j] if chunk.id in stored else None
        for chunk in top
        for j in range(len(chunk.sentences))
    ]
    per_variant = [tuple(float(x) for x in vectors @ v) if v is not None else () for v in own]
    similarity = [max(v) if v else 0.0 for v in per_variant]
    context = _context_similarity(top, similarity)
    top_lexical, top_sim = max(c[3] for c in candidates) or 1.0, max(similarity) or 1.0
    coverage = {c.id: coverage_of(query, lexical, frozenset(analyze(c.text))) for c in top}
    scored = []
    rows = zip(candidates, similarity, own, per_variant, context, strict=True)
    for (chunk, span, chunk_score, lex), sim, vector, variants, near in rows:
        text = chunk.text[span.start - chunk.start : span.end - chunk.start]
        spans = cues.answer_spans(query.qtype, text, query.asked)
        evidence = (1 - DENSE_SHARE) * lex / top_lexical + DENSE_SHARE * _stretch(sim, top_sim)
        score = PASSAGE_WEIGHT * chunk_score + (1 - PASSAGE_WEIGHT) * evidence
        score += CUE_BONUS if spans else 0.0
        if cues.is_heading(text):
            score -= HEADING_PENALTY
        scored.append(
            ScoredSentence(
                chunk,
                span,
                score,
                coverage[chunk.id],
                bool(spans) or query.qtype is None,
                sentence_coverage=coverage_of(query, lexical, frozenset(analyze(text))),
                loose_coverage=loose_coverage_of(query, lexical, analyze(text)),
                similarity=sim,
                passage_similarity=passage.similarity(chunk.id),
                agreement=fused[chunk.id] / passage.most,
                answer_spans=spans,
                vector=vector,
                lexical=lex / top_lexical,
                similarities=variants,
                position=chunk.sentences.index(span),
                context_similarity=near,
            )
        )
    return sorted(scored, key=lambda s: s.score, reverse=True)


def _context_similarity(top: Sequence[Chunk], similarity: list[float]) -> list[float]:
    """Per candidate (in the order of `top`'s sentences): the best cosine of its neighbours in its passage,
    0 for a sentence alone."""
    found, at = [], 0
    for chunk in top:
        row = similarity[at : at + len(chunk.sentences)]
        for j in range(len(row)):
            near = [row[i] for i in (j - 1, j + 1) if 0 <= i < len(row)]
            found.append(max(near, default=0.0))
        at += len(row)
    return found


def coverage_of(query: Query, lexical: LexicalIndex, present: frozenset[str]) -> float:
    """Idf-weighted share of the question's content terms present in a text (its terms). A term no
    article contains weighs as much as the rarest term: it may be just what was asked about."""
    weights = {t: lexical.idf(t) or lexical.max_idf for t in query.content_terms}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


LOOSE_PREFIX = 5  # letters two forms of one word share ("intercept", "intercepcion")


def loose_coverage_of(query: Query, lexical: LexicalIndex, terms: list[str]) -> float:
    """coverage_of where a term also counts as present when a term of the text starts with the same
    LOOSE_PREFIX letters: a translated question seldom uses the article's own word forms."""
    prefixes = {t[:LOOSE_PREFIX] for t in terms if len(t) >= LOOSE_PREFIX}
    present = set(terms)
    weights = {t: lexical.idf(t) or lexical.max_idf for t in query.content_terms}
    total = sum(weights.values())
    found = sum(
        w
        for t, w in weights.items()
        if t in present or (len(t) >= LOOSE_PREFIX and t[:LOOSE_PREFIX] in prefixes)
    )
    return found / total if total else 0.0


def _stretch(similarity: float, best: float) -> float:
    """Cosine similarity rescaled so the best candidate is 1 and SIMILARITY_SPAN below it is 0."""
    return max(0.0, 1.0 - (best - similarity) / SIMILARITY_SPAN)
