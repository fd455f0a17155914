"""Incremental indexing against a real embedded Chroma and the real embedding model."""

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.indexing import EmptyCorpus
from assistant.settings import Settings
from assistant.store import IndexMismatch

pytestmark = pytest.mark.slow


def _chunk_sources(assistant: Assistant) -> set[str]:
    metadatas = assistant.store.collection.get(include=["metadatas"])["metadatas"]
    return {m["source"] for m in metadatas}


def test_reindexing_embeds_only_what_changed(corpus: Path):
    assistant = Assistant(Settings(corpus_dir=corpus))
    first = assistant.index()
    assert len(first.added) == 5 and first.chunks_embedded > 0
    total = assistant.store.count()

    again = assistant.index()
    assert again.chunks_embedded == 0 and again.unchanged == 5

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
    assert assistant.store.count() == len(assistant.retriever.manifest.chunks)


def test_a_new_process_sees_the_same_index(corpus: Path):
    settings = Settings(corpus_dir=corpus)
    Assistant(settings).index()
    fresh = Assistant(settings)
    assert fresh.index().chunks_embedded == 0
    answer = fresh.ask("¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?")
    assert "23 de enero" in answer.answer


def test_querying_with_another_model_is_refused(corpus: Path):
    Assistant(Settings(corpus_dir=corpus)).index()
    other = Assistant(Settings(corpus_dir=corpus, embed_model="all-MiniLM-L6-v2"))
    with pytest.raises(IndexMismatch, match="Rebuild"):
        other.ask("When is the next meeting?")
    with pytest.raises(IndexMismatch):
        other.index()
    report = other.index(rebuild=True)
    assert report.chunks_embedded > 0
    assert other.ask("When is the next Security Implementation Group meeting?").citations


def test_empty_or_missing_corpus_is_an_error(tmp_path: Path):
    with pytest.raises(EmptyCorpus, match="not found"):
        Assistant(Settings(corpus_dir=tmp_path / "missing")).index()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("\n\n")
    with pytest.raises(EmptyCorpus, match="no readable"):
        Assistant(Settings(corpus_dir=tmp_path / "empty")).index()


def test_a_lost_manifest_reembeds_without_losing_the_collection(corpus: Path, tmp_path: Path):
    settings = Settings(corpus_dir=corpus)
    first = Assistant(settings)
    total = first.index().chunks_embedded
    (settings.index_dir / "manifest.json").unlink()
    (corpus / "004_97ec2d26d880d09f.txt").unlink()
    again = Assistant(settings)
    report = again.index()
    assert report.chunks_embedded < total and len(report.added) == 4
    assert again.store.count() == len(again.retriever.manifest.chunks)
    assert "004_97ec2d26d880d09f.txt" not in _chunk_sources(again)
