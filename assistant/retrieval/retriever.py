"""Hybrid retrieval: dense (the vector store) + lexical (BM25), fused; English questions also searched in
their Spanish rendering. Ranks passages (chunks) for the reader and sentences for the answerer, reading
only the read side of the stores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr, SkipValidation

from ..encoders.base import Encoder
from ..stores.base import (
    Candidates,
    Chunk,
    HybridSearch,
    LexicalIndex,
    SourceReader,
    Span,
    Titles,
    VectorSearch,
)
from ..text.analysis import analyze
from ..text.translate import Translator
from . import fusion, sentences
from .candidates import FUSION, by_best_bm25_sentence, local_candidates
from .query import Query, QueryReader
from .sentences import SENTENCE_CHUNKS, PassageEvidence, ScoredSentence

FETCH_MARGIN = 8  # extra passages read from the source store, in case some were just removed
TITLE_CACHE_SIZE = 10_000

# The hand-set weights that the answer's signals depend on: the fitted decision records the values it was
# fitted with (answering/abstention.json) and warns when they no longer hold.
HAND_SET = {
    "RRF_K": fusion.RRF_K,
    "DENSE_CANDIDATES": fusion.DENSE_CANDIDATES,
    "BM25_CANDIDATES": fusion.BM25_CANDIDATES,
    "PASSAGE_SHARE": fusion.PASSAGE_SHARE,
    "SENTENCE_SHARE": fusion.SENTENCE_SHARE,
    "RERANK_SHARE": fusion.RERANK_SHARE,
    "SENTENCE_CHUNKS": sentences.SENTENCE_CHUNKS,
    "PASSAGE_WEIGHT": sentences.PASSAGE_WEIGHT,
    "DENSE_SHARE": sentences.DENSE_SHARE,
    "SIMILARITY_SPAN": sentences.SIMILARITY_SPAN,
    "CUE_BONUS": sentences.CUE_BONUS,
    "HEADING_PENALTY": sentences.HEADING_PENALTY,
}

# Sentences of any article nearest to given sentences (texts, vectors): (chunk, span, cosine) each.
Similar = Callable[[Sequence[str], np.ndarray, int], list[list[tuple[Chunk, Span, float]]]]


@dataclass
class Retrieval:
    query: Query
    documents: list[Document]
    sentences: list[ScoredSentence]
    titles: Titles = field(default_factory=dict)
    similar: Similar | None = field(default=None, repr=False)
    passage_rank: dict[str, int] = field(default_factory=dict)  # chunk id -> its place after the re-rank


class HybridRetriever(BaseRetriever):
    """LangChain retriever over an index's read side; `search` also returns sentence-level scores.
    Thread-safe: it only reads, and what it reads is replaced, never changed, by a sync."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # Protocols, not classes: pydantic takes them as they are (any backend's objects).
    encoder: SkipValidation[Encoder]
    vectors: SkipValidation[VectorSearch]
    lexical: SkipValidation[LexicalIndex]
    sources: SkipValidation[SourceReader]
    hybrid: SkipValidation[HybridSearch] | None = None  # the backend's own candidate stage, if it has one
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
        return QueryReader(self.lexical, self.translator).read(question)

    def search(self, question: str, query: Query | None = None) -> Retrieval:
        query = query or self.analyze_query(question)
        vectors = np.asarray(self.encoder.embed_queries(query.variants), dtype=np.float32)
        dense, fused, stored = self._candidates(vectors, query.terms)
        order = fusion.by_score(fused)
        chunks = self.sources.chunks(order[: SENTENCE_CHUNKS + self.k + FETCH_MARGIN])
        order = [i for i in order if i in chunks]  # a chunk removed by a sync under way is left out
        top = [chunks[i] for i in order[:SENTENCE_CHUNKS]]
        passage = PassageEvidence(dense, fused, fusion.most_fused(len(dense)))
        ranked = sentences.rank_sentences(query, vectors, self.lexical, top, passage, stored)
        order = fusion.rerank(order, fused, _best_sentence(ranked), SENTENCE_CHUNKS)
        titles = self._titles_of({chunks[i].source for i in order[: max(self.k, SENTENCE_CHUNKS)]})
        documents = [_document(chunks[i], fused[i], titles) for i in order[: self.k]]
        ranks = {i: r for r, i in enumerate(order[:SENTENCE_CHUNKS])}
        return Retrieval(query, documents, ranked, titles, self.similar_sentences, ranks)

    def _candidates(self, vectors: np.ndarray, terms: Sequence[str]) -> tuple:
        """(dense, fused, stored) of the candidate stage: the backend's, or built here."""
        if self.hybrid is not None:
            found: Candidates = self.hybrid.candidates(
                vectors, terms, FUSION, SENTENCE_CHUNKS + self.k + FETCH_MARGIN
            )
        else:
            found = local_candidates(self.vectors, self.lexical, self.sources, vectors, terms)
        return found.dense, found.fused, found.stored

    def similar_sentences(
        self, texts: Sequence[str], vectors: np.ndarray, k: int
    ) -> list[list[tuple[Chunk, Span, float]]]:
        """Per sentence (its text and vector): the k nearest sentences among the k passages nearest to it
        and the k whose sentences BM25 ranks first for its words, as (chunk, sentence span, cosine),
        nearest first. (Sentences are not in the ANN index: see fusion.by_best_sentence.)"""
        vectors = np.asarray(vectors, dtype=np.float32)
        near = self.vectors.search(vectors, k)
        pools = []
        for text, passages in zip(texts, near, strict=True):
            lexical = by_best_bm25_sentence(self.lexical, analyze(text))[:k]
            pools.append(list(dict.fromkeys(chain(passages, lexical))))
        everything = list(dict.fromkeys(chain(*pools)))
        chunks = self.sources.chunks(everything)
        stored = self.sources.sentence_vectors(everything)
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

    def _titles_of(self, sources: set[str]) -> Titles:
        missing = [s for s in sources if s not in self._titles]
        if missing:
            if len(self._titles) > TITLE_CACHE_SIZE:
                self._titles.clear()
            self._titles.update(self.sources.titles_of(missing))
        return {s: self._titles[s] for s in sources if s in self._titles}


def _best_sentence(ranked: list[ScoredSentence]) -> dict[str, float]:
    best: dict[str, float] = {}
    for s in ranked:
        best[s.chunk.id] = max(best.get(s.chunk.id, 0.0), s.score)
    return best


def _document(chunk: Chunk, score: float, titles: Titles) -> Document:
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
