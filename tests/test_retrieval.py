"""Retrieval pieces: fusion of passage- and sentence-level rankings, batched Chroma search, the
in-memory sentence-vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.retrieval.fusion import by_best_sentence as _by_best_sentence
from assistant.retrieval.fusion import first_seen, fuse
from assistant.settings import Settings
from assistant.stores.bm25 import _ranked


def test_passages_ranked_by_their_best_sentence() -> None:
    scores = np.array([0.1, 0.0, 3.0, 0.2, 0.0, 0.0, 0.5])
    owner = np.array([0, 0, 1, 1, 2, 2, 3])
    # sentences by BM25 score, then each passage where its best sentence stands
    assert first_seen(owner[_ranked(scores)].tolist()) == [1, 3, 0]  # passage 2 matches nothing; 1 once
    assert _ranked(scores).tolist() == [2, 6, 3, 0]


def test_pooled_passages_ranked_by_their_best_sentence_vector() -> None:
    query = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    stored = {
        "a": np.array([[0.0, 1.0], [0.6, 0.8]], dtype=np.float32),  # its second sentence: 0.6 to query 0
        "b": np.array([[0.9, 0.44]], dtype=np.float32),
        "c": np.zeros((0, 2), dtype=np.float32),  # no sentence vectors: left out
    }
    rankings = _by_best_sentence(query, ["c", "a", "b", "gone"], stored)
    assert rankings == [["b", "a"], ["a", "b"]]
    assert _by_best_sentence(query, [], {}) == [[], []]


def test_fusion_follows_the_weights() -> None:
    fused = fuse([([0, 1], 0.6), ([1, 0], 0.4)])
    assert fused[0] > fused[1]
    fused = fuse([([0, 1], 0.4), ([1, 0], 0.6), ([2], 1.0)])
    assert fused[2] > fused[1] > fused[0]


def _indexed(corpus: Path) -> Assistant:
    assistant = Assistant(Settings(corpus_dir=corpus))
    assistant.index()
    return assistant


def _chunk_ids(assistant: Assistant) -> set[str]:
    return {chunk_id for chunk_id, _ in assistant.stores.sources.iter_terms()}


def test_one_chroma_call_answers_for_every_vector(corpus: Path) -> None:
    assistant = _indexed(corpus)
    store, chunk_ids = assistant.stores.vectors, _chunk_ids(assistant)
    vectors = assistant.encoder.embed_queries(
        ["reunión ministerial en Washington", "Security Implementation"]
    )
    passages = store.search(vectors, 3)
    assert len(passages) == 2 and all(0 < len(p) <= 3 and set(p) <= chunk_ids for p in passages)
    assert passages[0] != passages[1]
    everything = store.search(vectors[:1], 10_000)[0]  # more than there are: all of them, no error
    assert set(everything) == chunk_ids
    assert store.search(np.zeros((0, 384)), 3) == []


def test_sentence_vectors_are_stored_with_their_chunks(corpus: Path) -> None:
    assistant = _indexed(corpus)
    chunks = assistant.stores.sources
    chunk = next(c for c in chunks.source_chunks("001_5310fd264e07dab3.txt") if len(c.sentences) > 1)
    stored = chunks.sentence_vectors([chunk.id])[chunk.id]
    assert stored.shape == (len(chunk.sentences), 384) and stored.dtype == np.float32
    texts = [chunk.text[s.start - chunk.start : s.end - chunk.start] for s in chunk.sentences]
    fresh = np.array(assistant.encoder.embed_documents(texts))
    # float16 on disk; int8 activations are scaled per batch, so the batch-mates matter a little
    assert np.sum(stored * fresh, axis=1).min() > 0.99
    (corpus / "001_5310fd264e07dab3.txt").unlink()
    assistant.index()
    assert chunks.sentence_vectors([chunk.id]) == {}


def test_similar_sentences_finds_the_quoted_sentence_and_its_neighbours(corpus: Path) -> None:
    assistant = _indexed(corpus)
    chunks = assistant.stores.sources
    chunk = next(c for c in chunks.source_chunks("003_c7446edab9ff04d6.txt") if len(c.sentences) > 1)
    span = chunk.sentences[1]
    text = chunk.text[span.start - chunk.start : span.end - chunk.start]
    vector = chunks.sentence_vectors([chunk.id])[chunk.id][1]
    [hits] = assistant.retriever.similar_sentences([text], vector[None, :], 5)
    assert len(hits) == 5 and [h[2] for h in hits] == sorted((h[2] for h in hits), reverse=True)
    first, first_span, cosine = hits[0]
    assert (first.id, first_span) == (chunk.id, span) and cosine > 0.99
