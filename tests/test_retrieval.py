"""Retrieval pieces: fusion of passage- and sentence-level rankings, batched Chroma search, the
in-memory sentence-vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.retrieval import HybridRetriever, _ranked
from assistant.settings import Settings
from assistant.store import chunk_of


def test_passages_ranked_by_their_best_sentence() -> None:
    scores = np.array([0.1, 0.0, 3.0, 0.2, 0.0, 0.0, 0.5])
    owner = np.array([0, 0, 1, 1, 2, 2, 3])
    assert _ranked(scores, owner) == [1, 3, 0]  # passage 2 matches nothing; passage 1 listed once
    assert _ranked(scores) == [2, 6, 3, 0]


def test_fusion_follows_the_weights() -> None:
    fused = HybridRetriever._fuse([([0, 1], 0.6), ([1, 0], 0.4)])
    assert fused[0] > fused[1]
    fused = HybridRetriever._fuse([([0, 1], 0.4), ([1, 0], 0.6), ([2], 1.0)])
    assert fused[2] > fused[1] > fused[0]


def _indexed(corpus: Path) -> Assistant:
    assistant = Assistant(Settings(corpus_dir=corpus))
    assistant.index()
    return assistant


def _chunk_ids(assistant: Assistant) -> set[str]:
    return {chunk_id for chunk_id, _ in assistant.store.chunks.iter_terms()}


def test_one_chroma_call_answers_for_every_vector(corpus: Path) -> None:
    assistant = _indexed(corpus)
    store, chunk_ids = assistant.store.vectors, _chunk_ids(assistant)
    vectors = assistant.embeddings.embed_queries(
        ["reunión ministerial en Washington", "Security Implementation"]
    )
    passages = store.search(vectors, 3)
    assert len(passages) == 2 and all(0 < len(p) <= 3 and set(p) <= chunk_ids for p in passages)
    assert passages[0] != passages[1]
    sentences = store.search(vectors, 5, sentences=True)
    assert all(len(s) == 5 and {chunk_of(i) for i in s} <= chunk_ids for s in sentences)
    everything = store.search(vectors[:1], 10_000)[0]  # more than there are: all of them, no error
    assert set(everything) == chunk_ids
    assert store.search(np.zeros((0, 384)), 3) == []


def test_sentence_vectors_are_stored_with_their_chunks(corpus: Path) -> None:
    assistant = _indexed(corpus)
    chunks = assistant.store.chunks
    chunk = next(c for c in chunks.source_chunks("001_5310fd264e07dab3.txt") if len(c.sentences) > 1)
    stored = chunks.sentence_vectors([chunk.id])[chunk.id]
    assert stored.shape == (len(chunk.sentences), 384) and stored.dtype == np.float32
    texts = [chunk.text[s.start - chunk.start : s.end - chunk.start] for s in chunk.sentences]
    fresh = np.array(assistant.embeddings.embed_documents(texts))
    # float16 on disk; int8 activations are scaled per batch, so the batch-mates matter a little
    assert np.sum(stored * fresh, axis=1).min() > 0.99
    (corpus / "001_5310fd264e07dab3.txt").unlink()
    assistant.index()
    assert chunks.sentence_vectors([chunk.id]) == {}
