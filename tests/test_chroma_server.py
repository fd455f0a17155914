"""Index and ask through a real `chroma run` server (BRIEFING_CHROMA_URL), not the embedded store."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_url(tmp_path: Path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(chroma).exists():
        pytest.skip("the `chroma` command (shipped with chromadb) is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_index_and_ask_through_a_chroma_server(chroma_url: str, corpus: Path, tmp_path: Path):
    # A write limit below the corpus size: the server's own limit applies, and ours too, in batches.
    settings = Settings(
        corpus_dir=corpus, chroma_url=chroma_url, index_dir=tmp_path / "local", chroma_max_batch=16
    )
    assistant = Assistant(settings)
    report = assistant.index()
    assert report.chunks_embedded > 0
    assert not (tmp_path / "local" / "chroma").exists()  # vectors went to the server
    server_side = Assistant(settings).store.vectors.count()
    assert server_side == report.chunks_embedded
    answer = assistant.ask("When is the next Security Implementation Group meeting?")
    assert "23 de enero" in answer.answer and answer.citations
    assert Assistant(settings).index().chunks_embedded == 0  # incremental against the server too
