"""Indexing against a real embedded Chroma, SQLite chunk store and the real embedding model: incremental
syncs, batches, crash safety, the lock, old layouts, readers during a sync."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from assistant import Assistant
from assistant.errors import EmptyCorpus, IndexMismatch
from assistant.settings import Settings
from assistant.stores.index import LOCK_FILE
from assistant.stores.sqlite import FILE_NAME
from tests.conftest import ARTICLES, PROJECT

pytestmark = pytest.mark.slow
MEETING = "¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?"


def _chunk_sources(assistant: Assistant) -> set[str]:
    return {m["source"] for m in assistant.stores.vectors.collection.get(include=["metadatas"])["metadatas"]}


def assert_vectors_match_chunks(assistant: Assistant) -> None:
    """The vectors stored are exactly those of the chunks recorded: one in Chroma per chunk, one in the
    chunk store per sentence."""
    store = assistant.stores
    recorded = {cid: len(chunk.sentences) for cid, chunk in store.sources.chunks(_chunk_ids(store)).items()}
    assert set(store.vectors.ids()) == set(recorded)
    sentences = store.sources.sentence_vectors(list(recorded))
    assert {cid: len(v) for cid, v in sentences.items()} == recorded


def _chunk_ids(store) -> list[str]:
    return [chunk_id for chunk_id, _ in store.sources.iter_terms()]


def _big_corpus(root: Path, copies: int) -> Path:
    """The sample articles several times over, under other names (distinct chunks)."""
    corpus = root / "big"
    corpus.mkdir()
    for k in range(copies):
        for path in sorted(ARTICLES.glob("*.txt")):
            shutil.copy(path, corpus / f"{k:02d}_{path.name}")
    return corpus


def test_reindexing_embeds_only_what_changed(corpus: Path):
    assistant = Assistant(Settings(corpus_dir=corpus))
    first = assistant.index()
    assert len(first.added) == 5 and first.chunks_embedded > 0
    total = assistant.stores.vectors.count()

    again = assistant.index()
    assert again.chunks_embedded == 0 and again.unchanged == 5

    os.utime(corpus / "001_5310fd264e07dab3.txt")  # touched, same bytes: read, not embedded
    assert assistant.index().chunks_embedded == 0

    changed = corpus / "002_4e793aa9c7a99475.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nNueva frase sobre Canadá.\n", encoding="utf-8"
    )
    (corpus / "000_1b7a05e447bd300f.txt").unlink()
    report = assistant.index()
    assert report.updated == ["002_4e793aa9c7a99475.txt"]
    assert report.removed == ["000_1b7a05e447bd300f.txt"]
    assert 0 < report.chunks_embedded < total
    assert "000_1b7a05e447bd300f.txt" not in _chunk_sources(assistant)
    assert_vectors_match_chunks(assistant)
    assert "Canadá" in assistant.ask("¿Qué nueva frase habla de Canadá?").answer


def test_a_new_process_sees_the_same_index(corpus: Path):
    settings = Settings(corpus_dir=corpus)
    Assistant(settings).index()
    fresh = Assistant(settings)
    assert fresh.index().chunks_embedded == 0
    assert "23 de enero" in fresh.ask(MEETING).answer


def test_querying_with_another_model_is_refused(corpus: Path):
    Assistant(Settings(corpus_dir=corpus)).index()
    other = Assistant(Settings(corpus_dir=corpus, embed_model="all-MiniLM-L6-v2"))
    with pytest.raises(IndexMismatch, match="Rebuild"):
        other.ask("When is the next meeting?")
    with pytest.raises(IndexMismatch):
        other.index()
    report = other.index(rebuild=True)
    assert report.chunks_embedded > 0
    # The rebuilt index retrieves with the other model (the answer/abstain weights are fitted for the
    # default model: with another one, bench/abstention.py refits them).
    found = other.retriever.search("When is the next Security Implementation Group meeting?").documents
    assert any("23 de enero" in d.page_content for d in found)


def test_empty_or_missing_corpus_is_an_error(tmp_path: Path):
    with pytest.raises(EmptyCorpus, match="not found"):
        Assistant(Settings(corpus_dir=tmp_path / "missing")).index()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("\n\n")
    with pytest.raises(EmptyCorpus, match="no readable"):
        Assistant(Settings(corpus_dir=tmp_path / "empty")).index()


def test_a_lost_chunk_store_reembeds_and_drops_orphan_vectors(corpus: Path):
    settings = Settings(corpus_dir=corpus)
    first = Assistant(settings)
    total = first.index().chunks_embedded
    first.stores.sources.close()
    (settings.index_dir / FILE_NAME).unlink()
    (corpus / "004_97ec2d26d880d09f.txt").unlink()
    again = Assistant(settings)
    report = again.index()
    assert report.chunks_embedded < total and len(report.added) == 4
    assert "004_97ec2d26d880d09f.txt" not in _chunk_sources(again)
    assert_vectors_match_chunks(again)


def test_a_corpus_larger_than_the_store_batch_limit(tmp_path: Path):
    corpus = _big_corpus(tmp_path, copies=2)
    settings = Settings(corpus_dir=corpus, chroma={"max_batch": 7}, index_batch_chunks=10)
    assistant = Assistant(settings)
    assert assistant.stores.vectors.batch_size == 7
    seen = []
    report = assistant.index(on_progress=lambda p: seen.append((p.files_done, p.passages)))
    assert report.chunks_embedded > 7 * 10
    commits = sorted({passages for _, passages in seen})
    assert len(commits) > 5 and commits[-1] == report.chunks_embedded  # committed batch by batch
    assert seen[-1] == (10, report.chunks_embedded)
    assert_vectors_match_chunks(assistant)
    assert "23 de enero" in assistant.ask(MEETING).answer


def _index_command(corpus: Path, index_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "assistant.cli",
        "index",
        "--corpus",
        str(corpus),
        "--index",
        str(index_dir),
    ]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env.update(BRIEFING_MODELS_DIR=os.environ["BRIEFING_MODELS_DIR"], PYTHONPATH=str(PROJECT), **extra)
    return env


def _committed(index_dir: Path) -> int:
    path = index_dir / FILE_NAME
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are not created yet
        return 0


def test_killed_indexer_resumes_and_vectors_match_chunks(tmp_path: Path):
    corpus, index_dir = _big_corpus(tmp_path, copies=4), tmp_path / "index"
    proc = subprocess.Popen(
        _index_command(corpus, index_dir),
        env=_env(BRIEFING_INDEX_BATCH_CHUNKS="8"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    while _committed(index_dir) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _committed(index_dir)
    assert done_before > 0, proc.stderr.read().decode()[-2000:]

    settings = Settings(corpus_dir=corpus, index_dir=index_dir)
    assistant = Assistant(settings)
    report = assistant.index()
    total = assistant.stores.sources.count()
    assert done_before < total, "the indexer finished before it could be killed; use a bigger corpus"
    assert report.chunks_embedded == total - done_before  # nothing committed is embedded again
    assert assistant.stores.sources.pending() == []
    assert_vectors_match_chunks(assistant)
    assert "23 de enero" in assistant.ask(MEETING).answer


def test_a_second_indexer_gets_a_one_line_message(corpus: Path, tmp_path: Path):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with FileLock(index_dir / LOCK_FILE):  # as a running `briefing index` holds it
        out = subprocess.run(
            _index_command(corpus, index_dir), env=_env(), capture_output=True, text=True, timeout=300
        )
    assert out.returncode == 75, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "another `briefing index` is updating" in lines[0]
    assert "Traceback" not in out.stderr


def test_readers_keep_answering_while_another_process_indexes(tmp_path: Path):
    corpus, index_dir = _big_corpus(tmp_path, copies=1), tmp_path / "index"
    settings = Settings(corpus_dir=corpus, index_dir=index_dir)
    reader = Assistant(settings)
    reader.index()
    before = reader.retriever.generation
    extra = corpus / "zz_nueva.txt"
    extra.write_text("La cumbre sobre el agua se celebrará en Monterrey el 9 de marzo.\n", encoding="utf-8")
    for k in range(2, 4):  # more to embed, so the sync lasts a while
        for path in sorted(ARTICLES.glob("*.txt")):
            shutil.copy(path, corpus / f"{k:02d}_{path.name}")
    proc = subprocess.Popen(
        _index_command(corpus, index_dir), env=_env(BRIEFING_INDEX_BATCH_CHUNKS="8"), stderr=subprocess.PIPE
    )
    answered = 0
    while proc.poll() is None:
        assert "23 de enero" in reader.ask(MEETING).answer  # the last complete state, never an error
        answered += 1
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    assert answered > 0
    answer = reader.ask("¿Dónde se celebrará la cumbre sobre el agua?")
    assert reader.retriever.generation != before  # the finished sync is picked up
    assert "Monterrey" in answer.answer


def test_an_index_in_the_old_layout_is_rebuilt_with_a_notice(corpus: Path, tmp_path: Path):
    index_dir = tmp_path / "index"
    (index_dir / "chroma").mkdir(parents=True)
    (index_dir / "manifest.json").write_text(json.dumps({"version": 2, "files": {}}), encoding="utf-8")
    out = subprocess.run(
        _index_command(corpus, index_dir), env=_env(), capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert "older layout: rebuilding" in out.stderr and "Traceback" not in out.stderr
    assert "5 added" in out.stdout and not (index_dir / "manifest.json").exists()


def test_the_sentence_collection_of_an_older_index_is_dropped(corpus: Path) -> None:
    """Indexes built before kept a Chroma collection of sentence vectors (now in the chunk store only):
    the next sync deletes it, embeds nothing, and answers as before."""
    assistant = Assistant(Settings(corpus_dir=corpus))
    assistant.index()
    vectors = assistant.stores.vectors
    legacy = vectors.client.get_or_create_collection(vectors.legacy, embedding_function=None)
    legacy.add(ids=["x:0"], embeddings=[[0.1] * 384])
    assert assistant.index().chunks_embedded == 0
    names = {getattr(c, "name", c) for c in vectors.client.list_collections()}
    assert vectors.legacy not in names and vectors.name in names
    assert "Grupo de Implementación" in assistant.ask(MEETING).answer
