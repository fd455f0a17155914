"""Index and ask through a real `chroma run` server (BRIEFING_CHROMA_URL), not the embedded store."""

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.settings import Settings

pytestmark = pytest.mark.slow


def test_index_and_ask_through_a_chroma_server(chroma_server: str, corpus: Path, tmp_path: Path):
    # A write limit below the corpus size: the server's own limit applies, and ours too, in batches.
    settings = Settings(
        corpus_dir=corpus,
        chroma={"url": chroma_server, "collection": "ask_test", "max_batch": 16},
        index_dir=tmp_path / "local",
    )
    assistant = Assistant(settings)
    report = assistant.index()
    assert report.chunks_embedded > 0
    assert not (tmp_path / "local" / "chroma").exists()  # vectors went to the server
    server_side = Assistant(settings).stores.vectors.count()
    assert server_side == report.chunks_embedded
    answer = assistant.ask("When is the next Security Implementation Group meeting?")
    assert "23 de enero" in answer.answer and answer.citations
    assert Assistant(settings).index().chunks_embedded == 0  # incremental against the server too
