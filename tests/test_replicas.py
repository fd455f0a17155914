"""Beyond one process and one server, on real PostgreSQL servers and real processes:

- two `briefing serve --store URL` processes on two ports share one store, and what `briefing index
  --store URL` adds is answered by both without a restart;
- a streaming standby (pg_basebackup, hot standby) of the store's server answers questions while the
  primary takes writes, then answers from what the primary wrote; it refuses writes with a message."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from assistant.stores.postgres.server import LocalServer, wait_until
from tests.conftest import MODELS_DIR, free_port

pytestmark = pytest.mark.slow

BRIEFING = str(Path(sys.executable).parent / "briefing")
QUESTION = "When is the next Security Implementation Group meeting?"
NEW_FILE = "agua.txt"
NEW_ARTICLE = (
    "date 2026-02-02 La Comisión Binacional de Aguas se reunirá el 14 de marzo en Ciudad Juárez.\n\n"
    "La Comisión Binacional de Aguas revisará el tratado de 1944 sobre el río Bravo.\n"
)
NEW_QUESTION = "¿Cuándo se reunirá la Comisión Binacional de Aguas?"
START_TIMEOUT_S = 300  # a process loads the model and opens the store; this machine is shared


def briefing(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([BRIEFING, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class Serving:
    """One `briefing serve --store URL` process on its own port."""

    def __init__(self, store: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [BRIEFING, "serve", "--store", store, "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> bool:
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        try:
            health = httpx.get(f"{self.url}/api/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return False
        return health.get("index") == "ready"

    def ask(self, question: str) -> dict:
        reply = httpx.post(f"{self.url}/api/ask", json={"question": question}, timeout=120)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def servers(pg_url: str, tmp_path: Path) -> Iterator[list[Serving]]:
    started = [Serving(pg_url, tmp_path / f"serve{i}.log") for i in range(2)]
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def test_two_servers_share_one_store_and_both_answer_what_is_added(
    pg_url: str, corpus: Path, servers: list[Serving]
) -> None:
    briefing("index", "--store", pg_url, "--corpus", str(corpus))
    for server in servers:
        wait_until(server.ready, START_TIMEOUT_S, f"{server.url} to answer")
    for server in servers:
        assert "23 de enero" in server.ask(QUESTION)["answer"]
        assert "14 de marzo" not in server.ask(NEW_QUESTION)["answer"]
    (corpus / NEW_FILE).write_text(NEW_ARTICLE, encoding="utf-8")
    assert "1 added" in briefing("index", "--store", pg_url, "--corpus", str(corpus)).stdout
    for server in servers:  # the same processes, not restarted
        answer = server.ask(NEW_QUESTION)
        assert "14 de marzo" in answer["answer"] and answer["citations"][0]["source"] == NEW_FILE
        assert server.proc.poll() is None
    health = [httpx.get(f"{s.url}/api/health", timeout=30).json() for s in servers]
    assert [h["articles"] for h in health] == [6, 6] and {h["store"] for h in health} == {"postgres"}


@pytest.fixture
def standby(pg_server: LocalServer) -> Iterator[LocalServer]:
    root = Path(tempfile.mkdtemp(prefix="briefing-standby-"))
    os.chmod(root, 0o755)  # the server user makes its data folder inside
    replica = pg_server.standby(root / "node", free_port())
    try:
        yield replica
    finally:
        replica.remove()
        root.rmdir()


def _settings(url: str, corpus: Path, tmp: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp / "index", models_dir=MODELS_DIR, store=url)


def test_a_streaming_standby_answers_while_the_primary_takes_writes(
    pg_server: LocalServer, pg_url: str, corpus: Path, tmp_path: Path, standby: LocalServer
) -> None:
    primary = Assistant(_settings(pg_url, corpus, tmp_path))
    primary.index()
    database = pg_url.rsplit("/", 1)[1]
    reader = Assistant(_settings(standby.url(database), corpus, tmp_path), encoder=primary.encoder)
    assert standby.sql("SELECT pg_is_in_recovery()") == "t"
    wait_until(lambda: reader.stores.sources.count_documents() == 5, 60, "the standby to replay the index")
    assert "23 de enero" in reader.ask(QUESTION).answer

    (corpus / NEW_FILE).write_text(NEW_ARTICLE, encoding="utf-8")
    writing = threading.Thread(target=primary.index)
    writing.start()
    answered = []
    while writing.is_alive() or not answered:  # questions to the standby while the primary writes
        answered.append(reader.ask(QUESTION).answer)
    writing.join()
    assert all("23 de enero" in a for a in answered)

    wait_until(
        lambda: "14 de marzo" in reader.ask(NEW_QUESTION).answer, 60, "the standby to answer the new article"
    )
    with pytest.raises(RuntimeError, match="read-only"):
        reader.index()
