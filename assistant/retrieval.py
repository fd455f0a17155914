"""Hybrid retrieval: dense (Chroma) + BM25, fused; English questions also searched in Spanish.

Ranks passages (chunks) for the reader and sentences for the answerer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from . import cues
from .chunking import Chunk, Span
from .indexing import Manifest
from .language import detect
from .lexical import BM25Index, analyze
from .store import VectorStore, chunk_of, sentence_id
from .translate import Translator

_NAME = re.compile(r"(?<=[^\s¿¡\"“(])\s+([A-ZÁÉÍÓÚÑ][\wáéíóúñü]+)")
RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the head without ignoring the tail
DENSE_CANDIDATES = 50  # nearest chunks (and sentences) asked of Chroma per query variant
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


@dataclass
class Query:
    text: str
    language: str
    translation: str | None = None
    kind: str | None = None  # question type cue: date, number, person
    terms: list[str] = field(default_factory=list)  # analyzed terms of text and translation
    content_terms: set[str] = field(default_factory=set)  # what an answer's passage should contain
    unknown_entity: str | None = None  # a name asked about that no article mentions

    @property
    def variants(self) -> list[str]:
        return [self.text] + ([self.translation] if self.translation else [])


@dataclass
class ScoredSentence:
    chunk: Chunk
    span: Span
    score: float
    coverage: float  # idf-weighted share of query terms found in the sentence or its passage
    cue: bool


@dataclass
class Retrieval:
    query: Query
    documents: list[Document]
    sentences: list[ScoredSentence]
    dense_best: float  # best cosine similarity between the question and any passage


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the indexed chunks; `search` also returns sentence-level scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: VectorStore
    manifest: Manifest
    translator: Translator | None = None
    k: int = 5

    _chunks: list[Chunk] = PrivateAttr()
    _chunk_index: BM25Index = PrivateAttr()
    _sentence_index: BM25Index = PrivateAttr()
    _sentence_offset: dict[str, int] = PrivateAttr()
    _sentence_owner: np.ndarray = PrivateAttr()  # sentence index -> its chunk's position
    _position: dict[str, int] = PrivateAttr()

    def model_post_init(self, _context: object) -> None:
        self._chunks = self.manifest.chunks
        self._position = {c.id: i for i, c in enumerate(self._chunks)}
        self._chunk_index = BM25Index([c.text for c in self._chunks])
        texts, owner, self._sentence_offset = [], [], {}
        for i, c in enumerate(self._chunks):
            self._sentence_offset[c.id] = len(texts)
            texts.extend(c.text[s.start - c.start : s.end - c.start] for s in c.sentences)
            owner.extend([i] * len(c.sentences))
        self._sentence_index = BM25Index(texts)
        self._sentence_owner = np.asarray(owner, dtype=np.int64)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.search(query).documents

    def analyze_query(self, question: str) -> Query:
        language = detect(question)
        translation = self.translator(question) if self.translator and language == "en" else None
        query = Query(question, language, translation, cues.question_type(question))
        query.terms = [t for v in query.variants for t in analyze(v)]
        # An English question's own words rarely occur in Spanish text: of them keep only those the
        # articles contain (names, numbers, quoted English); its translation carries the rest.
        own = analyze(question)
        if translation:
            own = [t for t in own if self._sentence_index.contains(t)] + analyze(translation)
        query.content_terms = set(own)
        if language == "es" or translation:
            query.unknown_entity = self._unknown_entity(query)
        return query

    def _unknown_entity(self, query: Query) -> str | None:
        """A name (capitalised, not sentence-initial) that no article mentions: "What did Canada say…"
        over articles that never mention Canada. A name in an English question counts as unknown only
        when Apertium knows its Spanish form (Canada → Canadá) and that is absent too; a name it passes
        through unchanged (Luther, where the articles say Lutero) cannot be judged."""
        for name in _NAME.findall(query.text):
            if self._mentioned(name):
                continue
            if query.language == "es":
                return name
            spanish = self.translator(name) if self.translator else None
            if spanish and spanish.strip() != name and not self._mentioned(spanish):
                return name
        return None

    def _mentioned(self, words: str) -> bool:
        terms = analyze(words)
        return not terms or all(self._sentence_index.contains(t) for t in terms)

    def search(self, question: str, query: Query | None = None) -> Retrieval:
        query = query or self.analyze_query(question)
        vectors = np.asarray(self.store.embeddings.embed_queries(query.variants), dtype=np.float32)
        dense = self._dense(vectors)
        sentence_bm25 = self._sentence_index.scores(query.terms)
        fused = self._fuse(
            [(self._by_score(d), PASSAGE_SHARE) for d in dense]
            + [(ranking, SENTENCE_SHARE) for ranking in self._dense_sentences(vectors)]
            + [(_ranked(self._chunk_index.scores(query.terms)), PASSAGE_SHARE)]
            + [(_ranked(sentence_bm25, self._sentence_owner), SENTENCE_SHARE)]
        )
        order = sorted(fused, key=fused.get, reverse=True)
        best_dense = max((max(d.values(), default=0.0) for d in dense), default=0.0)
        sentences = self._rank_sentences(query, vectors, sentence_bm25, order[:SENTENCE_CHUNKS], fused)
        order = self._rerank(order, fused, sentences)
        documents = [self._document(i, fused[i]) for i in order[: self.k]]
        return Retrieval(query, documents, sentences, best_dense)

    def _rerank(
        self, order: list[int], fused: dict[int, float], sentences: list[ScoredSentence]
    ) -> list[int]:
        """Reorder the top passages by their fused score and their best sentence's score, each scaled to
        the best: a passage whose one sentence answers beats one that merely shares the question's words."""
        top = order[:SENTENCE_CHUNKS]
        best: dict[str, float] = {}
        for s in sentences:
            best[s.chunk.id] = max(best.get(s.chunk.id, 0.0), s.score)
        top_sentence = max(best.values(), default=0.0) or 1.0

        def score(i: int) -> float:
            sentence = best.get(self._chunks[i].id, 0.0) / top_sentence
            return (1 - RERANK_SHARE) * fused[i] / fused[top[0]] + RERANK_SHARE * sentence

        return sorted(top, key=score, reverse=True) + order[len(top) :]

    def _dense(self, vectors: np.ndarray) -> list[dict[int, float]]:
        hits = self.store.search(vectors, DENSE_CANDIDATES)
        return [{self._position[cid]: sim for cid, sim in h.items() if cid in self._position} for h in hits]

    def _dense_sentences(self, vectors: np.ndarray) -> list[list[int]]:
        """Per vector: passages in the order of their best sentence among the nearest sentences."""
        hits = self.store.search(vectors, DENSE_CANDIDATES, sentences=True)  # nearest first
        positions = ((self._position.get(chunk_of(sid)) for sid in h) for h in hits)
        return [_first_seen(p for p in ps if p is not None) for ps in positions]

    @staticmethod
    def _by_score(scores: dict[int, float]) -> list[int]:
        return sorted(scores, key=scores.get, reverse=True)

    @staticmethod
    def _fuse(rankings: list[tuple[list[int], float]]) -> dict[int, float]:
        """Weighted reciprocal rank fusion of (ranking, weight) pairs."""
        fused: dict[int, float] = {}
        for ranking, weight in rankings:
            for rank, i in enumerate(ranking):
                fused[i] = fused.get(i, 0.0) + weight / (RRF_K + rank + 1)
        return fused

    def _rank_sentences(
        self,
        query: Query,
        vectors: np.ndarray,
        lexical: np.ndarray,
        top: list[int],
        fused: dict[int, float],
    ) -> list[ScoredSentence]:
        """Sentences of the top passages: the passage's fused score, plus the sentence's own evidence
        (BM25 and embedding similarity, each scaled to the best candidate), plus the question-type cue."""
        if not top:
            return []
        candidates = []
        for i in top:
            chunk = self._chunks[i]
            offset = self._sentence_offset[chunk.id]
            for j, span in enumerate(chunk.sentences):
                key = sentence_id(chunk.id, j)
                candidates.append((chunk, span, fused[i] / fused[top[0]], float(lexical[offset + j]), key))
        stored = self.store.sentence_vectors([c[4] for c in candidates])
        similarity = [float(np.max(vectors @ stored[c[4]])) if c[4] in stored else 0.0 for c in candidates]
        top_lexical, top_sim = max(c[3] for c in candidates) or 1.0, max(similarity) or 1.0
        coverage = {i: self._coverage(query, self._chunk_index.terms[i]) for i in top}
        scored = []
        for (chunk, span, chunk_score, lex, _), sim in zip(candidates, similarity, strict=True):
            text = chunk.text[span.start - chunk.start : span.end - chunk.start]
            cue = query.kind is not None and cues.matches(query.kind, text, query.text)
            evidence = (1 - DENSE_SHARE) * lex / top_lexical + DENSE_SHARE * _stretch(sim, top_sim)
            score = PASSAGE_WEIGHT * chunk_score + (1 - PASSAGE_WEIGHT) * evidence
            score += CUE_BONUS if cue else 0.0
            if cues.is_heading(text):
                score -= HEADING_PENALTY
            scored.append(ScoredSentence(chunk, span, score, coverage[self._position[chunk.id]], cue))
        return sorted(scored, key=lambda s: s.score, reverse=True)

    def _coverage(self, query: Query, present: frozenset[str]) -> float:
        """Idf-weighted share of the question's content terms present in a passage (its terms). A term no
        article contains weighs as much as the rarest term: it may be just what was asked about."""
        index = self._sentence_index
        weights = {t: index.idf(t) or index.max_idf for t in query.content_terms}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in present) / total if total else 0.0

    def _document(self, i: int, score: float) -> Document:
        chunk = self._chunks[i]
        entry = self.manifest.files[chunk.source]
        meta = {
            "chunk_id": chunk.id,
            "source": chunk.source,
            "start": chunk.start,
            "end": chunk.end,
            "title": entry.title,
            "date": entry.date,
            "score": round(score, 6),
        }
        return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


def _ranked(scores: np.ndarray, owner: np.ndarray | None = None) -> list[int]:
    """Positions with a positive BM25 score, best first (mapped through `owner`)."""
    hits = np.flatnonzero(scores > 0)
    ranked = hits[np.argsort(-scores[hits], kind="stable")]
    return _first_seen((ranked if owner is None else owner[ranked]).tolist())


def _first_seen(positions: Iterable[int]) -> list[int]:
    """A ranking of passages from a ranking of their parts: each passage where it first appears."""
    return list(dict.fromkeys(positions))[:DENSE_CANDIDATES]


def _stretch(similarity: float, best: float) -> float:
    """Cosine similarity rescaled so the best candidate is 1 and SIMILARITY_SPAN below it is 0."""
    return max(0.0, 1.0 - (best - similarity) / SIMILARITY_SPAN)
