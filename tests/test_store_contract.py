"""The storage contract (assistant/stores/base.py), run against every backend the factory knows: the same
tests for embedded Chroma, a real `chroma run` server and a real PostgreSQL; a new backend joins by adding one parameter to
BACKENDS. Synthetic chunks and random unit vectors: no embedding model is loaded."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexMismatch
from assistant.settings import Settings
from assistant.stores.base import Chunk, Source, Span, encode_terms
from assistant.stores.factory import existing_sources, open_stores
from assistant.stores.index import Stores

DIM = 8
IDENTITY = "fake-encoder dim=8"
BACKENDS = ["chroma", pytest.param("chroma-server", marks=pytest.mark.slow), "postgres"]


def _settings(backend: str, index_dir: Path, request: pytest.FixtureRequest) -> Settings:
    chroma: dict = {"collection": f"contract_{uuid.uuid4().hex[:8]}"}
    if backend == "chroma-server":
        chroma["url"] = request.getfixturevalue("chroma_server")
    store = request.getfixturevalue("pg_url") if backend == "postgres" else None
    return Settings(index_dir=index_dir, chroma=chroma, store=store)


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return _settings(request.param, tmp_path / "index", request)


@pytest.fixture
def stores(settings: Settings) -> Stores:
    return open_stores(settings, lambda: IDENTITY)


# --- a small corpus -----------------------------------------------------------------------------------

TEXTS = {
    "a.txt": "Rubio habló con De la Fuente. La reunión será el 23 de enero.\nEl grupo revisará el tráfico de armas.",
    "b.txt": "La Cancillería confirmó la llamada. Washington recibirá la reunión ministerial.",
}


def _source(name: str, text: str) -> Source:
    return Source(
        name, name, f"sha-{name}", len(text), 1, f"Title {name}", "2026-01-16", "text", {"k": 1}, text
    )


def _chunks(name: str, text: str) -> list[Chunk]:
    """One chunk a line, a sentence each run up to a full stop; ids of 16 characters, as the chunker's."""
    chunks, offset = [], 0
    for n, line in enumerate(text.split("\n")):
        spans = tuple(Span(offset + m.start(), offset + m.end()) for m in re.finditer(r"\S[^.]*\.?", line))
        chunks.append(Chunk(f"{name[0]}{n:015x}", name, offset, offset + len(line), line, spans))
        offset += len(line) + 1
    return chunks


def _terms(chunk: Chunk) -> str:
    texts = [chunk.text[s.start - chunk.start : s.end - chunk.start] for s in chunk.sentences]
    return encode_terms([re.findall(r"\w+", t.lower()) for t in texts])


def _unit(rng: np.random.Generator, rows: int) -> np.ndarray:
    v = rng.normal(size=(rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _fill(stores: Stores, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Record both sources and their vectors as a sync would; returns the passage vector of each chunk."""
    vectors: dict[str, np.ndarray] = {}
    entries = []
    for name, text in TEXTS.items():
        chunks = _chunks(name, text)
        passage = _unit(rng, len(chunks))
        stores.sources.mark_pending(c.id for c in chunks)
        stores.vectors.upsert(chunks, passage)
        vectors |= {c.id: passage[i] for i, c in enumerate(chunks)}
        entries.append(
            (
                _source(name, text),
                chunks,
                [_terms(c) for c in chunks],
                [_unit(rng, len(c.sentences)) for c in chunks],
            )
        )
    stores.sources.add(entries)
    return vectors


# --- the vector store -----------------------------------------------------------------------------------


def test_an_empty_vector_store(stores: Stores) -> None:
    vectors = stores.vectors
    assert vectors.count() == 0 and list(vectors.ids()) == [] and vectors.model() is None
    assert vectors.search(np.zeros((2, DIM), dtype=np.float32), 3) == [{}, {}]
    assert vectors.search(np.zeros((0, DIM), dtype=np.float32), 3) == []


def test_vectors_are_found_by_vector_with_their_cosine(stores: Stores) -> None:
    rng = np.random.default_rng(1)
    stored = _fill(stores, rng)
    vectors = stores.vectors
    assert vectors.count() == len(stored) and set(vectors.ids()) == set(stored)
    ids = list(stored)
    [near, other] = vectors.search(np.stack([stored[ids[0]], stored[ids[2]]]), 2)
    assert max(near, key=near.get) == ids[0] and near[ids[0]] == pytest.approx(1.0, abs=1e-4)
    assert max(other, key=other.get) == ids[2] and len(near) == 2
    everything = vectors.search(stored[ids[0]][None, :], 100)[0]  # more than there are: all, no error
    assert set(everything) == set(stored)
    for chunk_id, cosine in everything.items():
        assert cosine == pytest.approx(float(stored[chunk_id] @ stored[ids[0]]), abs=1e-4)


def test_upsert_is_idempotent_and_delete_forgets(stores: Stores) -> None:
    rng = np.random.default_rng(2)
    stored = _fill(stores, rng)
    chunks = _chunks("a.txt", TEXTS["a.txt"])
    moved = _unit(rng, len(chunks))
    stores.vectors.upsert(chunks, moved)  # a redone batch overwrites itself
    assert stores.vectors.count() == len(stored)
    [near] = stores.vectors.search(moved[:1], 1)
    assert list(near) == [chunks[0].id] and near[chunks[0].id] == pytest.approx(1.0, abs=1e-4)
    stores.vectors.delete([chunks[0].id, "0000000000000000"])  # an unknown id is no error
    assert chunks[0].id not in set(stores.vectors.ids()) and stores.vectors.count() == len(stored) - 1


def test_the_model_identity_is_recorded_and_checked(stores: Stores, settings: Settings) -> None:
    stores.vectors.claim(IDENTITY)
    assert stores.vectors.model() == IDENTITY
    stores.check_model()
    other = open_stores(settings, lambda: "another-encoder dim=8")
    with pytest.raises(IndexMismatch, match="another-encoder"):
        other.check_model()
    stores.vectors.reset()
    assert stores.vectors.model() is None and stores.vectors.count() == 0


def test_released_and_refreshed_stores_keep_what_was_written(stores: Stores, settings: Settings) -> None:
    stored = _fill(stores, np.random.default_rng(3))
    stores.release_vectors()  # let go (an embedded HNSW graph leaves memory); the next use reopens
    assert stores.vectors.count() == len(stored)
    reader = open_stores(settings, lambda: IDENTITY)
    assert reader.vectors.count() == len(stored)
    extra = _chunks("c.txt", "Otra nota sobre la reunión.")
    stores.vectors.upsert(extra, _unit(np.random.default_rng(4), 1))  # another writer
    reader.refresh()
    assert reader.vectors.count() == len(stored) + 1
    assert extra[0].id in set(reader.current_vectors.search(_unit(np.random.default_rng(4), 1), 100)[0])


# --- the source store ---------------------------------------------------------------------------------


def test_sources_and_chunks_come_back_with_exact_offsets(stores: Stores) -> None:
    _fill(stores, np.random.default_rng(5))
    sources = stores.sources
    assert sources.count_documents() == 2 and sources.count() == 3
    for name, text in TEXTS.items():
        assert sources.text(name) == text
        doc = sources.document(name)
        assert doc is not None and (doc.title, doc.date, doc.extra, doc.text) == (
            f"Title {name}",
            "2026-01-16",
            {"k": 1},
            text,
        )
        assert sources.document(name, with_text=False).text == ""
        for chunk in sources.source_chunks(name):
            assert text[chunk.start : chunk.end] == chunk.text
            assert all(chunk.start <= s.start < s.end <= chunk.end for s in chunk.sentences)
    ids = [c.id for c in _chunks("a.txt", TEXTS["a.txt"])]
    found = sources.chunks([*ids, "ffffffffffffffff"])
    assert set(found) == set(ids) and found[ids[0]] == _chunks("a.txt", TEXTS["a.txt"])[0]
    assert sources.titles_of(["a.txt", "zzz"]) == {"a.txt": ("Title a.txt", "2026-01-16")}
    assert [(x.source, x.chunks) for x in sources.listing()] == [("a.txt", 2), ("b.txt", 1)]
    assert sources.document("zzz") is None and sources.text("zzz") is None


def test_sentence_vectors_and_terms_are_kept_per_chunk(stores: Stores) -> None:
    rng = np.random.default_rng(6)
    chunks = _chunks("a.txt", TEXTS["a.txt"])
    sentence = [_unit(rng, len(c.sentences)) for c in chunks]
    stores.sources.add([(_source("a.txt", TEXTS["a.txt"]), chunks, [_terms(c) for c in chunks], sentence)])
    got = stores.sources.sentence_vectors([c.id for c in chunks] + ["nope"])
    assert set(got) == {c.id for c in chunks}
    for c, v in zip(chunks, sentence, strict=True):
        assert got[c.id].dtype == np.float32 and got[c.id].shape == (len(c.sentences), DIM)
        np.testing.assert_allclose(got[c.id], v, atol=2e-3)  # stored at half precision
    terms = dict(stores.sources.iter_terms())
    assert terms[chunks[0].id][0] == ["rubio", "habló", "con", "de", "la", "fuente"]
    assert list(terms) == [c.id for c in chunks]  # a stable order


def test_the_journal_and_the_file_states(stores: Stores) -> None:
    sources = stores.sources
    before = sources.changes()
    sources.mark_pending(["x1", "x2"])
    assert sorted(sources.pending()) == ["x1", "x2"]
    _fill(stores, np.random.default_rng(7))
    assert sorted(sources.pending()) == ["x1", "x2"]  # recorded chunks leave the journal, others stay
    sources.clear_pending(["x1"])
    assert sources.pending() == ["x2"]
    assert sources.changes() > before
    assert sources.states()["a.txt"].sha256 == "sha-a.txt"
    sources.touch("a.txt", 99, 12345)
    assert (sources.states()["a.txt"].size, sources.states()["a.txt"].mtime_ns) == (99, 12345)
    removed = sources.remove(["a.txt"])
    assert sorted(removed) == sorted(c.id for c in _chunks("a.txt", TEXTS["a.txt"]))
    assert set(removed) <= set(sources.pending()) and "a.txt" not in sources.states()
    sources.skip("bad.pdf", 10, 20, "bad.pdf: damaged")
    assert sources.skipped()["bad.pdf"][1] == "bad.pdf: damaged"
    sources.set_meta(alpha="1", beta=None)
    assert sources.meta("alpha") == "1" and sources.meta("beta") is None
    sources.reset()
    assert sources.count() == 0 and sources.pending() == [] and sources.meta("alpha") is None


def test_a_failed_write_leaves_nothing_half_written(stores: Stores) -> None:
    chunks = _chunks("a.txt", TEXTS["a.txt"])
    broken = (_source("a.txt", TEXTS["a.txt"]), chunks, [_terms(chunks[0])], [np.zeros((1, DIM))])  # too few
    with pytest.raises(ValueError):
        stores.sources.add([broken])
    assert stores.sources.count() == 0 and stores.sources.count_documents() == 0


def test_an_index_that_does_not_exist_is_not_made(settings: Settings) -> None:
    assert existing_sources(settings) is None
    open_stores(settings, lambda: IDENTITY).sources.set_meta(x="1")
    assert existing_sources(settings).meta("x") == "1"


# --- the lexical index ---------------------------------------------------------------------------------


def test_the_lexical_index_searches_passages_and_sentences(stores: Stores) -> None:
    assert stores.generation() is None and stores.lexical() is None
    _fill(stores, np.random.default_rng(8))
    stores.update_lexical()
    lexical = stores.lexical()
    assert lexical is not None and lexical.generation == stores.generation()
    a0, a1 = (c.id for c in _chunks("a.txt", TEXTS["a.txt"]))
    b0 = _chunks("b.txt", TEXTS["b.txt"])[0].id
    passages = lexical.search_passages(["reunión"], 10)
    assert {i for i, _ in passages} == {a0, b0} and all(s > 0 for _, s in passages)
    assert [s for _, s in passages] == sorted((s for _, s in passages), reverse=True)
    assert lexical.search_passages(["reunión"], 1) == passages[:1]
    hits = lexical.search_sentences(["armas"], 10)
    assert [(i, j) for i, j, _ in hits] == [(a1, 0)]
    hits = lexical.search_sentences(["reunión"], 10)
    assert {(i, j) for i, j, _ in hits} == {(a0, 1), (b0, 1)}
    scores = lexical.sentence_scores(["reunión"], [a0, b0, "ffffffffffffffff"])
    assert set(scores) == {a0, b0} and scores[a0][0] == 0.0 and scores[a0][1] > 0 and len(scores[b0]) == 2
    assert lexical.search_passages(["nada"], 10) == [] and lexical.search_sentences([], 10) == []


def test_term_statistics(stores: Stores) -> None:
    _fill(stores, np.random.default_rng(9))
    stores.update_lexical()
    lexical = stores.lexical()
    assert lexical.contains("reunión") and not lexical.contains("nada")
    assert lexical.idf("nada") == 0.0
    assert lexical.idf("armas") > lexical.idf("reunión") > 0  # rarer, higher
    assert lexical.max_idf >= lexical.idf("armas")


def test_a_rebuild_is_a_new_generation_and_readers_keep_theirs(stores: Stores) -> None:
    _fill(stores, np.random.default_rng(10))
    stores.update_lexical()
    first, reader = stores.generation(), stores.lexical()
    stores.update_lexical()
    assert stores.generation() == first  # nothing changed: no rebuild
    stores.sources.remove(["b.txt"])
    stores.update_lexical()
    assert stores.generation() != first
    assert {i for i, _ in stores.lexical().search_passages(["reunión"], 10)} == {"a000000000000000"}
    assert len(reader.search_passages(["reunión"], 10)) == 2  # the old generation still answers
