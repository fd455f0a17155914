"""The PostgreSQL store beyond the contract, on a real server: BM25 in SQL scores as the BM25 files do;
the candidate stage in one SQL statement fuses as the local one does over the same store; the schema is
migrated by numbered files, each once, keeping the data; a bad URL or an unreachable server is a message.

The sample articles go through the real reader, chunker and analyzer; vectors are random (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.errors import StoreUnavailable
from assistant.ingestion.chunking import chunk_article
from assistant.ingestion.corpus import read_articles
from assistant.retrieval.candidates import FUSION, local_candidates
from assistant.settings import Settings
from assistant.stores.base import Source, encode_terms
from assistant.stores.factory import open_stores
from assistant.stores.index import Stores
from assistant.stores.postgres import database as pg_database
from assistant.text.analysis import analyze
from tests.conftest import ARTICLES

DIM = 16
QUERIES = [
    "reunión seguridad",
    "Grupo de Implementación",
    "cooperación armas frontera fentanilo",
    "23 enero",
    "nada",
]


def _entries(rng: np.random.Generator) -> tuple[list, dict]:
    entries, passages = [], {}
    for path in sorted(ARTICLES.iterdir()):
        articles, _ = read_articles(path.name, path.read_bytes())
        for article in articles:
            chunks = chunk_article(article, 1200)
            terms = [
                encode_terms([analyze(c.text[s.start - c.start : s.end - c.start]) for s in c.sentences])
                for c in chunks
            ]
            vectors = [_unit(rng, len(c.sentences)) for c in chunks]
            source = Source(
                article.source, path.name, "sha", 1, 1, article.title, article.date, text=article.text
            )
            entries.append((source, chunks, terms, vectors))
            passages |= {c.id: _unit(rng, 1)[0] for c in chunks}
    return entries, passages


def _unit(rng: np.random.Generator, rows: int) -> np.ndarray:
    v = rng.normal(size=(rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _filled(settings: Settings, entries: list, passages: dict) -> Stores:
    stores = open_stores(settings, lambda: "fake dim=16")
    chunks = [c for _, cs, _, _ in entries for c in cs]
    stores.vectors.upsert(chunks, np.stack([passages[c.id] for c in chunks]))
    stores.sources.add(entries)
    stores.update_lexical()
    return stores


@pytest.fixture(scope="module")
def both(pg_server, tmp_path_factory: pytest.TempPathFactory) -> tuple[Stores, Stores]:
    """The same sample articles in the embedded backend and in PostgreSQL."""
    entries, passages = _entries(np.random.default_rng(0))
    name = "bm25_parity"
    pg_server.sql(f"CREATE DATABASE {name} TEMPLATE briefing_template OWNER briefing")
    local = _filled(Settings(index_dir=tmp_path_factory.mktemp("index")), entries, passages)
    remote = _filled(
        Settings(index_dir=tmp_path_factory.mktemp("unused"), store=pg_server.url(name)), entries, passages
    )
    return local, remote


def test_bm25_in_sql_scores_as_the_bm25_files(both: tuple[Stores, Stores]) -> None:
    files, sql = (s.lexical() for s in both)
    assert sql.max_idf == pytest.approx(files.max_idf)
    for text in QUERIES:
        terms = analyze(text) * 2 if text.startswith("23") else analyze(text)  # repeated terms count twice
        for term in terms:
            assert sql.contains(term) == files.contains(term) and sql.idf(term) == pytest.approx(
                files.idf(term)
            )
        want, got = files.search_passages(terms, 50), sql.search_passages(terms, 50)
        assert [i for i, _ in got] == [i for i, _ in want], text
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)
        want, got = files.search_sentences(terms, 200), sql.search_sentences(terms, 200)
        assert [(i, n) for i, n, _ in got] == [(i, n) for i, n, _ in want], text
        assert [s for *_, s in got] == pytest.approx([s for *_, s in want], rel=1e-5)
        ids = [i for i, _ in files.search_passages(terms, 8)] + ["ffffffffffffffff"]
        want_scores, got_scores = files.sentence_scores(terms, ids), sql.sentence_scores(terms, ids)
        assert set(got_scores) == set(want_scores)
        for i in want_scores:
            assert got_scores[i] == pytest.approx(want_scores[i], rel=1e-5, abs=1e-9)


def test_the_candidate_stage_in_sql_fuses_as_the_local_one(both: tuple[Stores, Stores]) -> None:
    stores = both[1]
    lexical = stores.lexical()
    hybrid = stores.hybrid(lexical)
    assert hybrid is not None and both[0].hybrid(both[0].lexical()) is None  # the embedded backend has none
    rng = np.random.default_rng(1)
    for text in QUERIES:
        vectors = _unit(rng, 2)  # a question and its translation
        here = local_candidates(stores.current_vectors, lexical, stores.sources, vectors, analyze(text))
        there = hybrid.candidates(vectors, analyze(text), FUSION, keep=10)
        assert [list(d) for d in there.dense] == [list(d) for d in here.dense]
        assert set(there.fused) == set(here.fused), text
        for i, score in here.fused.items():
            assert there.fused[i] == pytest.approx(score, rel=1e-9), (text, i)
        best = sorted(here.fused, key=here.fused.get, reverse=True)[:10]
        for i in best:
            np.testing.assert_allclose(there.stored[i], here.stored[i])


def test_migrations_are_applied_once_and_keep_the_data(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(store=pg_url)
    stores = open_stores(settings, lambda: "fake")
    stores.sources.set_meta(kept="yes")
    db = stores.sources.db
    files = pg_database.migrations()
    versions = [v for v, _, _ in files]
    assert db.schema() == versions[-1]
    extra = (versions[-1] + 1, "test_column", "ALTER TABLE meta ADD COLUMN noted text")
    monkeypatch.setattr(pg_database, "migrations", lambda: [*files, extra])
    db.migrate()
    db.migrate()  # nothing left to apply: the column is not added twice
    with db.cursor() as cur:
        rows = cur.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [*versions, extra[0]]
        assert cur.execute("SELECT value, noted FROM meta WHERE key = 'kept'").fetchone() == ("yes", None)


def test_an_unreachable_store_is_a_message(tmp_path) -> None:
    settings = Settings(index_dir=tmp_path, store="postgresql://briefing:secret@127.0.0.1:1/briefing")
    with pytest.raises(StoreUnavailable, match="cannot connect") as failed:
        open_stores(settings, lambda: "fake")
    assert "secret" not in str(failed.value) and "***" in str(failed.value)
    with pytest.raises(ValueError, match="postgresql://"):
        Settings(store="mysql://somewhere/db")


def test_the_store_is_named_by_a_plain_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://briefing@127.0.0.1:55432/briefing"
    assert Settings().store.backend == "chroma" and Settings().store.url is None
    monkeypatch.setenv("BRIEFING_STORE", url)  # not JSON: pydantic-settings must not decode it
    assert Settings().store.url == url and Settings().store.backend == "postgres"
    assert Settings(store="").store.backend == "chroma"  # an explicit empty one: the embedded store
    monkeypatch.delenv("BRIEFING_STORE")
    monkeypatch.setenv("BRIEFING_STORE__URL", "postgres://x@h/db")  # the section's field works too
    assert Settings().store.backend == "postgres"


def test_a_bad_store_url_is_a_one_line_cli_message(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    briefing = Path(sys.executable).parent / "briefing"
    done = subprocess.run(
        [briefing, "ask", "hello", "--store", "mysql://somewhere/db"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "postgresql://" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [briefing, "ask", "hello", "--store", "postgresql://briefing@127.0.0.1:1/briefing"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "cannot connect" in done.stderr and "Traceback" not in done.stderr
