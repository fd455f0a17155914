"""Retrieval pieces: fusion of passage- and sentence-level rankings, batched Chroma search, the
in-memory sentence-vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.retrieval import HybridRetriever, _ranked
from assistant.settings import Settings
from assistant.store import chunk_of, sentence_id


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


def test_one_chroma_call_answers_for_every_vector(corpus: Path) -> None:
    assistant = _indexed(corpus)
    store, chunk_ids = assistant.store, {c.id for c in assistant.retriever.manifest.chunks}
    vectors = store.embeddings.embed_queries(["reunión ministerial en Washington", "Security Implementation"])
    passages = store.search(vectors, 3)
    assert len(passages) == 2 and all(0 < len(p) <= 3 and set(p) <= chunk_ids for p in passages)
    assert passages[0] != passages[1]
    sentences = store.search(vectors, 5, sentences=True)
    assert all(len(s) == 5 and {chunk_of(i) for i in s} <= chunk_ids for s in sentences)
    everything = store.search(vectors[:1], 10_000)[0]  # more than there are: all of them, no error
    assert set(everything) == chunk_ids
    assert store.search([], 3) == []


def test_cached_sentence_vectors_go_with_their_chunks(corpus: Path) -> None:
    assistant = _indexed(corpus)
    store = assistant.store
    chunk = assistant.retriever.manifest.chunks[0]
    ids = [sentence_id(chunk.id, j) for j in range(len(chunk.sentences))]
    first = store.sentence_vectors(ids)
    assert set(first) == set(ids)
    assert all(v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-3 for v in first.values())
    again = store.sentence_vectors(ids)  # served from memory: the very same arrays
    assert all(again[i] is first[i] for i in ids)
    store.delete([chunk.id])
    assert store.sentence_vectors(ids) == {}
