"""What programs can do with the running chat: only /chat and /ask, whatever the route; uploads leave no
temp copies; bad questions are messages; concurrent answers each match their question.

One app over a private copy of the articles, launched as `briefing serve` launches it (`launch_options`)."""

from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client

from assistant.core import Assistant
from assistant.settings import Settings
from assistant.ui import build, launch_options
from assistant.ui.server import temp_dir
from tests.conftest import ARTICLES, DEV_QUESTIONS, MODELS_DIR, free_port

pytestmark = pytest.mark.slow

QUESTION = "When is the next Security Implementation Group meeting?"
ARTICLE = "date 2026-02-02 La Comisión Binacional de Aguas se reunirá el 14 de marzo en Ciudad Juárez.\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    root = tmp_path_factory.mktemp("api")
    corpus = root / "articles"
    shutil.copytree(ARTICLES, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", models_dir=MODELS_DIR)
    assistant = Assistant(settings)
    assistant.index()
    demo = build(assistant)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(settings),
    )
    fns = {fn.api_name: fn._id for fn in demo.fns.values()}
    private = {name: i for name, i in fns.items() if demo.fns[i].api_visibility != "public"}
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", demo=demo, fns=fns, private=private, corpus=corpus)
    demo.close()


def join(url: str, fn_index: int, data: list, cookies: httpx.Cookies | None = None) -> httpx.Response:
    body = {"data": data, "fn_index": fn_index, "session_hash": "test-session", "event_data": None}
    return httpx.post(f"{url}/gradio_api/queue/join", json=body, cookies=cookies, timeout=30)


def completed(url: str, session_hash: str, cookies: httpx.Cookies | None = None) -> dict:
    """Read the session's event stream until an event completes; its message."""
    params = {"session_hash": session_hash}
    with httpx.stream(
        "GET", f"{url}/gradio_api/queue/data", params=params, cookies=cookies, timeout=120
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event stream ended without a result")


def page_cookies(url: str) -> httpx.Cookies:
    """What a browser has after loading the page."""
    response = httpx.get(url + "/", timeout=30)
    response.raise_for_status()
    assert any(name.startswith("briefing_page") for name in response.cookies)
    return response.cookies


# Only /chat and /ask ------------------------------------------------------------------------------------


def test_only_chat_and_ask_are_public(app) -> None:
    assert {name for name in app.fns if name not in app.private} == {"chat", "ask"}
    assert {"on_upload", "on_tick", "on_sources", "markdown"} <= set(app.private)


def test_chat_and_ask_work_through_gradio_client(app) -> None:
    client = Client(app.url, verbose=False)
    answer = client.predict(QUESTION, api_name="/ask")
    assert "23 de enero" in answer["answer"] and answer["question"] == QUESTION
    outputs = client.predict(QUESTION, [], api_name="/chat")
    assert "23 de enero" in json.dumps(outputs[1], ensure_ascii=False)  # the chat history, last answer


def test_chat_and_ask_work_through_the_raw_queue(app) -> None:
    response = join(app.url, app.fns["ask"], [QUESTION])
    assert response.status_code == 200, response.text
    message = completed(app.url, "test-session")
    assert message["success"] and "23 de enero" in message["output"]["data"][0]["answer"]
    response = httpx.post(f"{app.url}/gradio_api/call/ask", json={"data": [QUESTION]}, timeout=30)
    assert response.status_code == 200 and "event_id" in response.json()


def test_private_events_are_refused_by_function_index(app) -> None:
    for name, index in app.private.items():
        inputs = len(app.demo.fns[index].inputs)
        response = join(app.url, index, [None] * inputs)
        assert response.status_code == 403, (name, response.status_code, response.text)
        assert "Only /chat and /ask" in response.json()["detail"]
    wrong = httpx.Cookies({name: "guessed" for name in page_cookies(app.url)})
    assert join(app.url, app.private["on_tick"], [None], cookies=wrong).status_code == 403


@pytest.mark.parametrize("route", ["call", "call/v2", "run", "api"])
def test_private_events_are_refused_by_name(app, route: str) -> None:
    for name in app.private:
        response = httpx.post(f"{app.url}/gradio_api/{route}/{name}", json={"data": [None]}, timeout=30)
        assert response.status_code == 403, (route, name, response.status_code, response.text)
    # Gradio takes a body's fn_index over the route's name: a public name does not smuggle a private event.
    body = {"data": [None], "fn_index": app.private["on_upload"]}
    assert httpx.post(f"{app.url}/gradio_api/{route}/ask", json=body, timeout=30).status_code == 403


def test_gradio_client_cannot_call_private_events(app) -> None:
    client = Client(app.url, verbose=False)
    with pytest.raises(ValueError):  # the client's own check
        client.predict(None, fn_index=app.private["on_tick"])
    for index in app.private.values():  # and with that check switched off, the server's
        client.endpoints[index].is_valid = True
        with pytest.raises(Exception, match="403"):
            client.submit(*([None] * len(app.demo.fns[index].inputs)), fn_index=index).result(timeout=60)


def test_uploads_are_refused_to_programs(app, tmp_path: Path) -> None:
    before = sorted(p.name for p in app.corpus.iterdir())
    files = {"files": ("new.txt", ARTICLE.encode())}
    assert httpx.post(f"{app.url}/gradio_api/upload", files=files, timeout=30).status_code == 403
    # A path the client names (e.g. a file it put there some other way) is not indexed either.
    planted = tmp_path / "planted.txt"
    planted.write_text(ARTICLE, encoding="utf-8")
    file = {"path": str(planted), "orig_name": "planted.txt", "meta": {"_type": "gradio.FileData"}}
    assert join(app.url, app.private["on_upload"], [[file], None]).status_code == 403
    assert sorted(p.name for p in app.corpus.iterdir()) == before
    assert planted.exists()


def test_no_monitoring_pages(app) -> None:
    for path in ("/monitoring", "/monitoring/summary"):
        assert httpx.get(app.url + path, timeout=30).status_code == 403


def test_the_page_can_call_its_own_events(app) -> None:
    cookies = page_cookies(app.url)
    response = join(app.url, app.private["on_tick"], [None], cookies=cookies)
    assert response.status_code == 200, response.text
    message = completed(app.url, "test-session", cookies)
    assert message["success"] and "Ready" in message["output"]["data"][0]


# Temp copies of uploads ---------------------------------------------------------------------------------


def test_upload_temp_copies_are_deleted_once_handled(app) -> None:
    """As the page does it: upload to Gradio's cache, then the upload event; accepted and refused files."""
    cache = temp_dir()
    assert cache.name.startswith("briefing-gradio-") and stat.S_IMODE(cache.stat().st_mode) == 0o700
    cookies = page_cookies(app.url)
    files = [
        ("files", ("water.txt", ARTICLE.encode())),
        ("files", ("scan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)),
        ("files", ("notes.exe", b"MZ not an article")),
    ]
    response = httpx.post(f"{app.url}/gradio_api/upload", files=files, cookies=cookies, timeout=30)
    assert response.status_code == 200, response.text
    paths = response.json()
    assert len(paths) == 3 and all(Path(p).is_file() and cache in Path(p).parents for p in paths)
    payload = [{"path": p, "orig_name": Path(p).name, "meta": {"_type": "gradio.FileData"}} for p in paths]
    assert join(app.url, app.private["on_upload"], [payload, None], cookies=cookies).status_code == 200
    report = completed(app.url, "test-session", cookies)["output"]["data"][0]
    assert "water.txt: saved as water.txt and indexed" in report
    # The type comes from the content: an image is refused, text under an odd name is saved as text.
    assert "scan.txt: an image; text in images needs OCR, not added" in report
    assert "notes.exe: saved as notes.txt" in report
    assert (app.corpus / "water.txt").is_file()
    assert not any(Path(p).exists() or Path(p).parent.exists() for p in paths)
    leftovers = [p for p in cache.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


# Bad questions ------------------------------------------------------------------------------------------

BAD = {
    "lone surrogate": "\ud800",
    "surrogate in a question": "When is the meeting? \udcff",
    "empty": "",
    "blank": "  \n\t ",
    "control characters": "\x00\x01\x1b[31m",
    "a NUL in a question": "What did the ministers agree?\x00 And then?",
    "too long": "x" * 2001,
    "huge": "palabra " * 100_000,
    "not text": 12345,
    "null": None,
}


def call(url: str, name: str, data: list) -> tuple[str, object]:
    """Gradio's plain HTTP API (POST /call/NAME, then read the result): (event, data), where event is
    "complete" or "error". The JSON is ASCII-escaped, as JSON allows lone surrogates to be sent."""
    body = json.dumps({"data": data}).encode()
    headers = {"content-type": "application/json"}
    posted = httpx.post(f"{url}/gradio_api/call/{name}", content=body, headers=headers, timeout=30)
    assert posted.status_code == 200, posted.text
    event = None
    with httpx.stream("GET", f"{url}/gradio_api/call/{name}/{posted.json()['event_id']}", timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line.removeprefix("data:"))
    raise AssertionError("no result")


@pytest.mark.parametrize("name", BAD)
def test_bad_questions_through_ask_are_messages(app, name: str) -> None:
    event, data = call(app.url, "ask", [BAD[name]])
    assert event == "complete", (name, event, data)  # not Gradio's {"error": null}
    (result,) = data
    if "error" in result:
        assert isinstance(result["error"], str) and result["error"], result
    else:  # a fine question after all (e.g. once the surrogate is replaced): then a proper answer
        assert isinstance(result["answer"], str) and result["answer"], result


@pytest.mark.parametrize("name", BAD)
def test_bad_questions_through_chat_are_messages(app, name: str) -> None:
    event, data = call(app.url, "chat", [BAD[name], []])
    assert event == "complete", (name, event, data)
    _box, history, *_, notice = data
    assert "Traceback" not in json.dumps(data)
    said = notice.get("value") if isinstance(notice, dict) else notice
    assert said or history, (name, data)  # a notice under the box, or a chat turn


# Concurrency --------------------------------------------------------------------------------------------


def dev_questions() -> list[dict]:
    rows = [json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if r["answerable"]]


def test_concurrent_answers_each_match_their_question(app) -> None:
    """Answers in parallel, with odd questions among them (a NUL once put the translator a reply behind,
    so that later questions were searched with the one before's translation)."""
    odd = [q for q in BAD.values() if isinstance(q, str) and len(q) < 100]
    questions = [*dev_questions(), *odd] * 3
    alone = {row["id"]: call(app.url, "ask", [row["question"]])[1][0] for row in dev_questions()}

    def ask(question: dict | str) -> tuple[dict | str, dict]:
        text = question["question"] if isinstance(question, dict) else question
        return question, call(app.url, "ask", [text])[1][0]

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(ask, questions))
    for row, answer in results:
        if isinstance(row, str):
            continue
        assert answer["question"] == row["question"].strip()
        assert answer.get("translations") == alone[row["id"]].get("translations"), row["id"]
        right = any(re.search(p, answer["answer"], re.I) for p in row["answer_patterns"])
        assert right, (row["id"], answer["answer"], answer.get("translations"), answer.get("timings_ms"))
