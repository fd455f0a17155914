"""The BM25 indexes: built from flat arrays, they must score exactly as bm25s's own index does, and keep
the passage/sentence maps straight, through a save and a memory-mapped load."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from assistant.stores.bm25 import K1, B, BM25Index, Bm25Lexical


def _random_docs(rng: random.Random, n: int, vocab: int) -> list[list[int]]:
    # Zipf-like term draws, some empty documents (a sentence of stopwords only)
    return [
        [min(int(rng.paretovariate(1.1)), vocab - 1) for _ in range(rng.choice([0, 1, 3, 8, 20]))]
        for _ in range(n)
    ]


def _flat(docs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.cumsum([0, *map(len, docs)]).astype(np.int64)
    return np.asarray([t for d in docs for t in d], dtype=np.int32), bounds


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_match_bm25s(seed, tmp_path):
    rng = random.Random(seed)
    vocab_size = 300
    docs = _random_docs(rng, 400, vocab_size)
    reference = bm25s.BM25(k1=K1, b=B)
    reference.index(([d or [0] for d in docs], {str(i): i for i in range(vocab_size)}), show_progress=False)
    ours = BM25Index.build(*_flat(docs), vocab_size)
    ours.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25", len(docs))
    for _ in range(30):
        query = [rng.randrange(1, vocab_size) for _ in range(rng.randint(1, 5))]
        expected = reference.get_scores_from_ids(query)
        assert expected.any() or not any(t in d for d in docs for t in query)
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(loaded.scores(query), expected, rtol=1e-5, atol=1e-6)
    for term in range(vocab_size):
        assert loaded.df(term) == sum(term in d for d in docs) + (term == 0) * sum(not d for d in docs)


def test_lexical_index_maps_sentences_to_passages(tmp_path):
    chunks = [
        ("00000000000000b2", [["reunion", "washington"], [], ["rubio"]]),
        ("00000000000000a1", [["fuent", "seguridad"]]),
        ("00000000000000c3", [[]]),
    ]
    index = Bm25Lexical.build(tmp_path, iter(chunks))
    assert (index.passages.size, index.sentences.size) == (3, 5)
    assert list(index.first_sentence) == [0, 3, 4, 5]
    assert list(index.sentence_owner) == [0, 0, 0, 1, 2]
    assert index.position("00000000000000a1") == 1 and index.position("00000000000000ff") is None
    assert index.chunk_id(2) == "00000000000000c3"
    rubio = index.term_ids(["rubio", "unknown"])
    assert np.flatnonzero(index.sentences.scores(rubio)).tolist() == [2]
    assert np.flatnonzero(index.passages.scores(rubio)).tolist() == [0]
    assert index.contains("seguridad") and not index.contains("unknown")
    reopened = Bm25Lexical.open(tmp_path)
    assert reopened.generation == index.generation
    np.testing.assert_array_equal(reopened.passages.scores(rubio), index.passages.scores(rubio))


def test_empty_lexical_index(tmp_path):
    index = Bm25Lexical.build(tmp_path, iter([]))
    assert index.passages.size == index.sentences.size == 0
    assert not index.sentences.scores(index.term_ids(["rubio"])).any()
