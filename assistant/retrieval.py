"""Hybrid retrieval: dense (Chroma) + BM25, fused; English questions also searched in Spanish.

Ranks passages (chunks) for the reader and sentences for the answerer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from . import cues
from .chunking import Chunk, Span
from .indexing import Index
from .language import detect
from .lexical import LexicalIndex, analyze
from .translate import Translator

_NAME = re.compile(r"(?<=[^\s¿¡\"“(])\s+([A-ZÁÉÍÓÚÑ][\wáéíóúñü]+)")
RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the head without ignoring the tail
DENSE_CANDIDATES = 50  # nearest chunks asked of Chroma per query variant; length of each ranking
# Each vote in the fusion (an embedding ranking per query variant; the BM25 ranking) is split between two
# granularities: the passage as a whole, and the passage's best sentence, whose match a long passage
# dilutes (a one-sentence answer among unrelated sentences).
PASSAGE_SHARE, SENTENCE_SHARE = 0.6, 0.4
SENTENCE_CHUNKS = 8  # chunks whose sentences compete for the answer
PASSAGE_WEIGHT = 0.7  # a sentence's score: mostly its passage's fused score, then its own evidence
DENSE_SHARE = 0.8  # of a sentence's own evidence: embedding similarity (the rest: its BM25)
SIMILARITY_SPAN = 0.1  # e5 cosines crowd near the top: 0.1 below the best candidate counts as nothing
CUE_BONUS = 0.15  # a sentence holding the kind of word asked for (a date for "when")
RERANK_SHARE = 0.5  # of a passage's final rank: its best sentence's score (the rest: fused passage score)
HEADING_PENALTY = 0.3  # headlines repeat a question's words without answering it
BM25_CANDIDATES = 2000  # sentences (or passages) by BM25 score considered for a ranking of 50 passages
FETCH_MARGIN = 8  # extra passages read from the chunk store, in case some were just removed
TITLE_CACHE_SIZE = 10_000


@dataclass
class Query:
    text: str
    language: str
    translation: str | None = None
    qtype: cues.QuestionType | None = None  # the kind of fact asked for (cues.py)
    terms: list[str] = field(default_factory=list)  # analyzed terms of text and translation
    content_terms: set[str] = field(default_factory=set)  # what an answer's passage should contain
    asked: set[str] = field(default_factory=set)  # folded words of text and translation (cues.py)
    names: list[str] = field(default_factory=list)  # capitalised words asked about
    unknown_names: list[str] = field(default_factory=list)  # of them, those no article mentions
    known_terms: bool = True  # some content word of the question occurs in the articles

    @property
    def variants(self) -> list[str]:
        return [self.text] + ([self.translation] if self.translation else [])

    @property
    def kind(self) -> str | None:
        return self.qtype.kind if self.qtype else None

    @property
    def unknown_entity(self) -> str | None:
        return self.unknown_names[0] if self.unknown_names else None

    @property
    def unknown_share(self) -> float:
        return len(self.unknown_names) / len(self.names) if self.names else 0.0


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

    @property
    def text(self) -> str:
        return self.chunk.text[self.span.start - self.chunk.start : self.span.end - self.chunk.start]


@dataclass
class Retrieval:
    query: Query
    documents: list[Document]
    sentences: list[ScoredSentence]
    dense_best: float  # best cosine similarity between the question and any passage
    titles: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # (title, date) by source
    # Sentences of any article nearest to given sentences (texts, vectors): (chunk, span, cosine) each.
    similar: Callable[[Sequence[str], np.ndarray, int], list[list[tuple[Chunk, Span, float]]]] | None = field(
        default=None, repr=False
    )


class HybridRetriever(BaseRetriever):
    """LangChain retriever over an index; `search` also returns sentence-level scores. Thread-safe: it
    only reads, and the index it reads is replaced, never changed, by a sync."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    lexical: LexicalIndex
    translator: Translator | None = None
    k: int = 5

    _titles: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)

    @property
    def generation(self) -> str:
        return self.lexical.generation

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.search(query).documents

    def analyze_query(self, question: str) -> Query:
        language = detect(question)
        translation = self.translator(question) if self.translator and language == "en" else None
        query = Query(question, language, translation, cues.question_type(question, translation))
        query.terms = [t for v in query.variants for t in analyze(v)]
        # An English question's own words rarely occur in Spanish text: of them keep only those the
        # articles contain (names, numbers, quoted English); its translation carries the rest.
        own = analyze(question)
        if translation:
            own = [t for t in own if self.lexical.contains(t)] + analyze(translation)
        query.content_terms = set(own)
        query.asked = cues.asked_words(question, translation)
        # "?", "null", "%s%s%n {0}": no word the articles contain, nothing to look for.
        query.known_terms = any(
            self.lexical.contains(t) for t in query.terms if sum(c.isalpha() for c in t) >= 2
        )
        query.names = _NAME.findall(question)
        query.unknown_names = [n for n in query.names if not self._known_name(n, language)]
        return query

    def _known_name(self, name: str, language: str) -> bool:
        """A name asked about (capitalised, not sentence-initial) that an article mentions, as written or,
        for an English question, as Apertium renders it (Canada → Canadá). An evidence for the decision
        (see decision.py), not a veto: one word of a machine translation is weak evidence."""
        if self._mentioned(name):
            return True
        if language == "es" or self.translator is None:
            return False
        spanish = self.translator(name)
        return bool(spanish) and self._mentioned(spanish)

    def _mentioned(self, words: str) -> bool:
        terms = analyze(words)
        return not terms or all(self.lexical.contains(t) for t in terms)

    def search(self, question: str, query: Query | None = None) -> Retrieval:
        query = query or self.analyze_query(question)
        vectors = np.asarray(self.index.embeddings.embed_queries(query.variants), dtype=np.float32)
        dense = self.index.vectors.search(vectors, DENSE_CANDIDATES)
        term_ids = self.lexical.term_ids(query.terms)
        sentence_bm25 = self.lexical.sentences.scores(term_ids)
        passage_rankings = [self._by_score(d) for d in dense]
        passage_rankings.append(self._ranked(self.lexical.passages.scores(term_ids)))
        by_sentence_bm25 = self._ranked(sentence_bm25, self.lexical.sentence_owner)
        pool = list(dict.fromkeys(chain(*passage_rankings, by_sentence_bm25)))
        stored = self.index.chunks.sentence_vectors(pool)
        fused = self._fuse(
            [(ranking, PASSAGE_SHARE) for ranking in passage_rankings]
            + [(ranking, SENTENCE_SHARE) for ranking in _by_best_sentence(vectors, pool, stored)]
            + [(by_sentence_bm25, SENTENCE_SHARE)]
        )
        order = sorted(fused, key=fused.get, reverse=True)
        chunks = self.index.chunks.chunks(order[: SENTENCE_CHUNKS + self.k + FETCH_MARGIN])
        order = [i for i in order if i in chunks]  # a chunk removed by a sync under way is left out
        best_dense = max((max(d.values(), default=0.0) for d in dense), default=0.0)
        top = [chunks[i] for i in order[:SENTENCE_CHUNKS]]
        votes = len(dense) * (PASSAGE_SHARE + SENTENCE_SHARE) + PASSAGE_SHARE + SENTENCE_SHARE
        passage = _PassageEvidence(dense, fused, votes / (RRF_K + 1))
        sentences = self._rank_sentences(query, vectors, sentence_bm25, top, passage, stored)
        order = self._rerank(order, fused, sentences)
        titles = self._titles_of({chunks[i].source for i in order[: max(self.k, SENTENCE_CHUNKS)]})
        documents = [self._document(chunks[i], fused[i], titles) for i in order[: self.k]]
        return Retrieval(query, documents, sentences, best_dense, titles, self.similar_sentences)

    def similar_sentences(
        self, texts: Sequence[str], vectors: np.ndarray, k: int
    ) -> list[list[tuple[Chunk, Span, float]]]:
        """Per sentence (its text and vector): the k nearest sentences among the k passages nearest to it
        and the k whose sentences BM25 ranks first for its words, as (chunk, sentence span, cosine),
        nearest first. (Sentences are not in the ANN index: see _by_best_sentence.)"""
        vectors = np.asarray(vectors, dtype=np.float32)
        near = self.index.vectors.search(vectors, k)
        pools = []
        for text, passages in zip(texts, near, strict=True):
            scores = self.lexical.sentences.scores(self.lexical.term_ids(analyze(text)))
            lexical = self._ranked(scores, self.lexical.sentence_owner)[:k]
            pools.append(list(dict.fromkeys(chain(passages, lexical))))
        everything = list(dict.fromkeys(chain(*pools)))
        chunks = self.index.chunks.chunks(everything)
        stored = self.index.chunks.sentence_vectors(everything)
        found = []
        for vector, pool in zip(vectors, pools, strict=True):
            row = [
                (chunks[i], chunks[i].sentences[j], float(v @ vector))
                for i in pool
                if i in chunks and i in stored and len(stored[i]) == len(chunks[i].sentences)
                for j, v in enumerate(stored[i])
            ]
            found.append(sorted(row, key=lambda h: -h[2])[:k])
        return found

    def _rerank(
        self, order: list[str], fused: dict[str, float], sentences: list[ScoredSentence]
    ) -> list[str]:
        """Reorder the top passages by their fused score and their best sentence's score, each scaled to
        the best: a passage whose one sentence answers beats one that merely shares the question's words."""
        top = order[:SENTENCE_CHUNKS]
        best: dict[str, float] = {}
        for s in sentences:
            best[s.chunk.id] = max(best.get(s.chunk.id, 0.0), s.score)
        top_sentence = max(best.values(), default=0.0) or 1.0

        def score(i: str) -> float:
            sentence = best.get(i, 0.0) / top_sentence
            return (1 - RERANK_SHARE) * fused[i] / fused[top[0]] + RERANK_SHARE * sentence

        return sorted(top, key=score, reverse=True) + order[len(top) :]

    def _ranked(self, scores: np.ndarray, owner: np.ndarray | None = None) -> list[str]:
        return [self.lexical.chunk_id(p) for p in _ranked(scores, owner)]

    @staticmethod
    def _by_score(scores: dict[str, float]) -> list[str]:
        return sorted(scores, key=scores.get, reverse=True)

    @staticmethod
    def _fuse(rankings: list[tuple[list[str], float]]) -> dict[str, float]:
        """Weighted reciprocal rank fusion of (ranking, weight) pairs."""
        fused: dict[str, float] = {}
        for ranking, weight in rankings:
            for rank, i in enumerate(ranking):
                fused[i] = fused.get(i, 0.0) + weight / (RRF_K + rank + 1)
        return fused

    def _rank_sentences(
        self,
        query: Query,
        vectors: np.ndarray,
        lexical: np.ndarray,
        top: list[Chunk],
        passage: _PassageEvidence,
        stored: dict[str, np.ndarray],
    ) -> list[ScoredSentence]:
        """Sentences of the top passages: the passage's fused score, plus the sentence's own evidence
        (BM25 and embedding similarity, each scaled to the best candidate), plus the question-type cue."""
        if not top:
            return []
        fused = passage.fused
        candidates = []
        for chunk in top:
            position = self.lexical.position(chunk.id)
            offset = int(self.lexical.first_sentence[position]) if position is not None else None
            for j, span in enumerate(chunk.sentences):
                lex = float(lexical[offset + j]) if offset is not None else 0.0
                candidates.append((chunk, span, fused[chunk.id] / fused[top[0].id], lex))
        own = [
            stored[chunk.id][j] if chunk.id in stored else None
            for chunk in top
            for j in range(len(chunk.sentences))
        ]
        similarity = [float(np.max(vectors @ v)) if v is not None else 0.0 for v in own]
        top_lexical, top_sim = max(c[3] for c in candidates) or 1.0, max(similarity) or 1.0
        coverage = {c.id: self._coverage(query, frozenset(analyze(c.text))) for c in top}
        scored = []
        for (chunk, span, chunk_score, lex), sim, vector in zip(candidates, similarity, own, strict=True):
            text = chunk.text[span.start - chunk.start : span.end - chunk.start]
            spans = cues.answer_spans(query.qtype, text, query.asked)
            cue = bool(spans)
            evidence = (1 - DENSE_SHARE) * lex / top_lexical + DENSE_SHARE * _stretch(sim, top_sim)
            score = PASSAGE_WEIGHT * chunk_score + (1 - PASSAGE_WEIGHT) * evidence
            score += CUE_BONUS if cue else 0.0
            if cues.is_heading(text):
                score -= HEADING_PENALTY
            sentence = ScoredSentence(
                chunk,
                span,
                score,
                coverage[chunk.id],
                cue or query.qtype is None,
                sentence_coverage=self._coverage(query, frozenset(analyze(text))),
                similarity=sim,
                passage_similarity=passage.similarity(chunk.id),
                agreement=fused[chunk.id] / passage.most,
                answer_spans=spans,
                vector=vector,
            )
            scored.append(sentence)
        return sorted(scored, key=lambda s: s.score, reverse=True)

    def _coverage(self, query: Query, present: frozenset[str]) -> float:
        """Idf-weighted share of the question's content terms present in a passage (its terms). A term no
        article contains weighs as much as the rarest term: it may be just what was asked about."""
        lexical = self.lexical
        weights = {t: lexical.idf(t) or lexical.max_idf for t in query.content_terms}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in present) / total if total else 0.0

    def _titles_of(self, sources: set[str]) -> dict[str, tuple[str, str | None]]:
        missing = [s for s in sources if s not in self._titles]
        if missing:
            if len(self._titles) > TITLE_CACHE_SIZE:
                self._titles.clear()
            self._titles.update(self.index.chunks.titles_of(missing))
        return {s: self._titles[s] for s in sources if s in self._titles}

    @staticmethod
    def _document(chunk: Chunk, score: float, titles: dict[str, tuple[str, str | None]]) -> Document:
        title, date = titles.get(chunk.source, (chunk.source, None))
        meta = {
            "chunk_id": chunk.id,
            "source": chunk.source,
            "start": chunk.start,
            "end": chunk.end,
            "title": title,
            "date": date,
            "score": round(score, 6),
        }
        return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


@dataclass
class _PassageEvidence:
    dense: list[dict[str, float]]  # per query variant: cosine of the nearest passages
    fused: dict[str, float]  # reciprocal-rank-fused score
    most: float  # the fused score of a passage first in every ranking

    def similarity(self, chunk_id: str) -> float:
        """The passage's best cosine over the query variants; one outside a variant's nearest passages
        counts as that variant's farthest."""
        return max((d.get(chunk_id, min(d.values())) for d in self.dense if d), default=0.0)


def _ranked(scores: np.ndarray, owner: np.ndarray | None = None) -> list[int]:
    """Passage positions by BM25 score (of the passage, or of its best sentence through `owner`), best
    first, positive scores only."""
    hits = np.flatnonzero(scores > 0)
    if len(hits) > BM25_CANDIDATES:  # only the head is used: no need to sort a long tail
        hits = hits[np.argpartition(-scores[hits], BM25_CANDIDATES)[:BM25_CANDIDATES]]
    ranked = hits[np.argsort(-scores[hits], kind="stable")]
    return _first_seen((ranked if owner is None else owner[ranked]).tolist())


def _by_best_sentence(vectors: np.ndarray, pool: list[str], stored: dict[str, np.ndarray]) -> list[list[str]]:
    """Per query vector: the pooled passages in the order of their best sentence's cosine. Sentence
    vectors are read from the chunk store, not searched in the ANN index: one vector per sentence there
    would hold 4-5 times the passages' memory, for passages that the other rankings find anyway."""
    ids = [i for i in pool if i in stored and len(stored[i])]
    if not ids:
        return [[] for _ in vectors]
    owner = np.repeat(np.arange(len(ids)), [len(stored[i]) for i in ids])
    similarity = vectors @ np.concatenate([stored[i] for i in ids]).T  # (query vectors, sentences)
    rankings = []
    for row in similarity:
        best = np.full(len(ids), -np.inf, dtype=np.float32)
        np.maximum.at(best, owner, row)
        rankings.append([ids[j] for j in np.argsort(-best, kind="stable")[:DENSE_CANDIDATES]])
    return rankings


def _first_seen(positions: Iterable) -> list:
    """A ranking of passages from a ranking of their parts: each passage where it first appears."""
    return list(dict.fromkeys(positions))[:DENSE_CANDIDATES]


def _stretch(similarity: float, best: float) -> float:
    """Cosine similarity rescaled so the best candidate is 1 and SIMILARITY_SPAN below it is 0."""
    return max(0.0, 1.0 - (best - similarity) / SIMILARITY_SPAN)
