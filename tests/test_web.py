"""The JSON API next to the chat (assistant/web), over real HTTP: /api/ask returns exactly what
`briefing ask --json` prints, /api/health says what the store holds, the schema is served, and bad input
of every shape gets a 4xx with a message (never a 500). The chat is mounted beside it, still guarded."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.settings import Settings
from assistant.web import make_app
from tests.conftest import free_port

pytestmark = pytest.mark.slow

QUESTION = "When is the next Security Implementation Group meeting?"


@pytest.fixture(scope="module")
def url(indexed_settings: Settings) -> Iterator[str]:
    """`briefing serve`'s app over the session's index, served by uvicorn on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(
        make_app(indexed_settings, index=False), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        pytest.fail("the app did not start")
    yield base
    server.should_exit = True
    thread.join(timeout=30)


def ask(url: str, body: object = None, content: bytes | None = None, **headers: str) -> httpx.Response:
    if content is not None:
        return httpx.post(f"{url}/api/ask", content=content, headers=headers, timeout=60)
    return httpx.post(f"{url}/api/ask", json=body, timeout=60)


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_ask_returns_the_cli_json_object(url: str, indexed_settings: Settings) -> None:
    reply = ask(url, {"question": QUESTION, "history": []})
    assert reply.status_code == 200, reply.text
    got = reply.json()
    assert "23 de enero" in got["answer"] and got["citations"][0]["quote"] in got["answer"]
    cli = subprocess.run(
        [
            Path(sys.executable).parent / "briefing",
            "ask",
            "--json",
            QUESTION,
            "--index",
            str(indexed_settings.index_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    printed = json.loads(cli.stdout)
    assert _without_timings(got) == _without_timings(printed)
    assert set(got["timings_ms"]) == set(printed["timings_ms"])


def test_a_follow_up_uses_the_history(url: str) -> None:
    first = ask(url, {"question": QUESTION}).json()
    follow = ask(url, {"question": "¿Y dónde?", "history": [first]})
    assert follow.status_code == 200, follow.text
    assert follow.json()["standalone_question"]  # completed from the earlier turn
    minimal = ask(url, {"question": "¿Y dónde?", "history": [{"question": QUESTION, "answer": "..."}]})
    assert minimal.status_code == 200 and minimal.json()["standalone_question"]


def test_health_and_the_schema(url: str) -> None:
    health = httpx.get(f"{url}/api/health", timeout=30).json()
    assert health["status"] == "ok" and health["store"] == "chroma" and health["index"] == "ready"
    assert health["articles"] == 5 and health["passages"] > 5
    schema = httpx.get(f"{url}/api/openapi.json", timeout=30).json()
    assert {"/api/ask", "/api/health"} <= set(schema["paths"])
    assert "AskRequest" in schema["components"]["schemas"]
    assert httpx.get(f"{url}/docs", timeout=30).status_code == 404  # no CDN-loaded pages


BAD_BODIES = {
    "empty question": {"question": ""},
    "blank question": {"question": " \n\t "},
    "too long a question": {"question": "a" * 3000},
    "a number": {"question": 5},
    "null": {"question": None},
    "a list": {"question": ["When?"]},
    "an object": {"question": {"text": "When?"}},
    "no question": {"history": []},
    "an unknown field": {"question": QUESTION, "language": "en"},
    "history not a list": {"question": QUESTION, "history": "earlier"},
    "history of strings": {"question": QUESTION, "history": ["earlier"]},
    "a turn without its question": {"question": QUESTION, "history": [{"answer": "x"}]},
    "a turn's question a number": {"question": QUESTION, "history": [{"question": 1}]},
    "too many turns": {"question": QUESTION, "history": [{"question": "q"}] * 50},
    "a bare string": "When?",
    "a bare list": [QUESTION],
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_input_gets_a_4xx_with_a_message(url: str, case: str) -> None:
    reply = ask(url, BAD_BODIES[case])
    assert 400 <= reply.status_code < 500, (case, reply.status_code, reply.text)
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and detail and "Traceback" not in detail


@pytest.mark.parametrize(
    "content",
    [b"{bad json", b"", b"\xff\xfe\x00", b'{"question": "When?"', b"null", b"42"],
    ids=["broken", "empty", "not utf-8", "unterminated", "null", "number"],
)
def test_bad_json_gets_a_4xx(url: str, content: bytes) -> None:
    reply = ask(url, content=content, **{"content-type": "application/json"})
    assert 400 <= reply.status_code < 500, (content, reply.status_code, reply.text)
    assert reply.json()["detail"]


def test_a_huge_body_is_refused_before_it_is_read(url: str) -> None:
    reply = ask(
        url,
        content=json.dumps({"question": "a" * 2_000_000}).encode(),
        **{"content-type": "application/json"},
    )
    assert reply.status_code == 413 and "KB" in reply.json()["detail"]


def test_odd_text_is_answered_or_refused_never_a_500(url: str) -> None:
    for question in ["\ud800 cuándo", "\x00\x00?", "%s%n {0}", "../../etc/passwd", "💥" * 50]:
        reply = ask(
            url, content=json.dumps({"question": question}).encode(), **{"content-type": "application/json"}
        )
        assert reply.status_code in (200, 422), (question, reply.status_code, reply.text)
        if reply.status_code == 200:
            assert reply.json()["abstained"] in (True, False)


def test_the_chat_is_mounted_beside_and_still_guarded(url: str) -> None:
    page = httpx.get(f"{url}/", timeout=30)
    assert page.status_code == 200 and any(name.startswith("briefing_page") for name in page.cookies)
    config = httpx.get(f"{url}/config", timeout=30).json()
    private = next(d["id"] for d in config["dependencies"] if d.get("api_visibility") == "private")
    body = {"data": [None], "fn_index": private, "session_hash": "x", "event_data": None}
    refused = httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=30)
    assert refused.status_code == 403 and "Only /chat and /ask" in refused.json()["detail"]


def test_a_server_on_a_shared_store_without_a_corpus_refuses_uploads(assistant, tmp_path: Path) -> None:
    """Syncing its default folder would replace what was indexed into the store from another folder."""
    from assistant.ui import IndexJob
    from assistant.ui.app import UPLOADS_OFF, Page

    article = tmp_path / "nota.txt"
    article.write_text("La reunión será el 3 de mayo.\n", encoding="utf-8")
    before = assistant.stores.sources.count_documents()
    report, *_ = Page(assistant, IndexJob(assistant, ready=True, corpus=False)).on_upload(
        [str(article)], None
    )
    assert "briefing index --store" in report and UPLOADS_OFF.split(":")[0] in report
    assert assistant.stores.sources.count_documents() == before


@pytest.mark.parametrize(
    ("given", "serving", "alone"), [(None, False, True), (True, True, True), (False, False, False)]
)
def test_a_server_does_not_spin_encoder_threads_unless_asked(given, serving, alone) -> None:
    """Spinning idle threads halve what a server answers a second; a single question keeps them."""
    from assistant.encoders.local import LocalEncoder
    from assistant.web.app import serving as server_settings

    settings = Settings(embed_spinning=given)
    assert LocalEncoder(server_settings(settings)).spinning is serving
    assert LocalEncoder(settings).spinning is alone
