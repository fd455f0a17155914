"""How the chat is served: which events programs may call, and what Gradio keeps of uploads.

**API surface.** Gradio's `api_visibility="private"` only hides an event from the API docs and from
`gradio_client`; the server still runs any event whose function index (`/gradio_api/queue/join`) or name
(`/gradio_api/call/NAME`, `/gradio_api/run/NAME`) a request gives, and its `/gradio_api/upload` takes
files from anyone. `PageGuard` (an ASGI middleware) closes that: public events (`/chat`, `/ask`) are open
to programs; every other event, and file uploads, need the page cookie, which the server sets (HttpOnly,
SameSite=Strict, a random value per process) on the page it serves. A browser on the page sends it with
every request; `gradio_client` and raw HTTP clients don't have it and get 403. A program that loads the
page and keeps its cookie is acting as the page, as a scripted browser would: this decides what the *API*
offers, it is not authentication (keep the default 127.0.0.1 binding, or put a login in front).

**Temp copies.** Gradio writes every upload to `GRADIO_TEMP_DIR` (default `/tmp/gradio`, shared by every
app and user on the machine) and keeps it. `use_private_temp_dir` points it at a folder only this process
can read, removed at exit; `discard_uploads` deletes an upload's copy once it has been handled."""

from __future__ import annotations

import atexit
import functools
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

COOKIE = "briefing_page"
REFUSED = (
    "Only /chat and /ask can be called through the API; the page's other events are for the page itself."
)
# Routes (after Gradio's /gradio_api prefix) that run an event or store files.
_QUEUE = re.compile(r"/gradio_api/queue/join/?")
_NAMED = re.compile(r"/gradio_api/(?:call/v2|call|run|api)/([^/]+)/?")
_UPLOAD = re.compile(r"/gradio_api/upload/?")
_MAX_BODY = 64 * 1024 * 1024  # an event's JSON body; a question is at most a few KB

F = TypeVar("F", bound=Callable[..., Any])
_private_dir: Path | None = None  # the temp dir use_private_temp_dir made, if it did


class PageGuard:
    """ASGI middleware: events that are not public, and uploads, need the page cookie (see the module
    docstring). Public events are looked up on the running Blocks at each request, so the rule follows
    `api_visibility` as `build` sets it."""

    def __init__(self, app: Any, token: str | None = None) -> None:
        self.app = app
        self.token = token or secrets.token_urlsafe(32)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if method == "GET" and path == "/":
            await self.app(scope, receive, self._setting_cookie(scope, send))
            return
        if method != "POST" or self._from_page(scope):
            await self.app(scope, receive, send)
            return
        if _UPLOAD.fullmatch(path):
            await _refuse(send, "Files can only be added from the page.")
            return
        named = _NAMED.fullmatch(path)
        if not (named or _QUEUE.fullmatch(path)):
            await self.app(scope, receive, send)
            return
        body, receive = await _read_body(receive)
        blocks = scope["app"].get_blocks()
        if not _public(blocks, named.group(1) if named else None, _fn_index(body)):
            await _refuse(send, REFUSED)
            return
        await self.app(scope, receive, send)

    def cookie_name(self, scope: dict) -> str:
        """Per port: browsers share cookies between the ports of a host, and each app has its own token."""
        server = scope.get("server") or ("", 0)
        return f"{COOKIE}_{server[1]}"

    def _from_page(self, scope: dict) -> bool:
        name = self.cookie_name(scope).encode()
        for key, value in scope.get("headers", []):
            if key == b"cookie":
                for part in value.split(b";"):
                    k, _, v = part.strip().partition(b"=")
                    if k == name and hmac.compare_digest(v, self.token.encode()):
                        return True
        return False

    def _setting_cookie(self, scope: dict, send: Callable) -> Callable:
        cookie = f"{self.cookie_name(scope)}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        return sending


def _public(blocks: Any, api_name: str | None, fn_index: int | None) -> bool:
    """Whether the event a request names (Gradio prefers the body's fn_index to the route's name) is
    public. An unknown event is not."""
    fns = blocks.fns
    if fn_index is not None:
        fn = fns.get(fn_index)
    else:
        fn = next((f for f in fns.values() if api_name is not None and f.api_name == api_name), None)
    return fn is not None and fn.fn is not None and fn.api_visibility == "public"


def _fn_index(body: bytes) -> int | None:
    try:
        value = json.loads(body).get("fn_index")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


async def _read_body(receive: Callable) -> tuple[bytes, Callable]:
    """The request body, and a `receive` that hands it on to the app unchanged."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False) and size <= _MAX_BODY
    body, sent = b"".join(chunks), False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _refuse(send: Callable, detail: str) -> None:
    payload = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def skip_monitoring_summaries() -> None:
    """After every event Gradio's queue recomputes a pandas summary of up to 10,000 past events for its
    monitoring page (5-25 ms of CPU an event on this machine, measured: more than a question's retrieval);
    the page is off here (`enable_monitoring=False`), so never recompute it. An explicit
    GRADIO_ANALYTICS_CACHE_FREQUENCY is kept. Call before `Blocks.queue` (the queue reads it then)."""
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))


# Temp copies of uploads -----------------------------------------------------------------------------------


def use_private_temp_dir() -> Path:
    """Point GRADIO_TEMP_DIR at a folder only this process can read (mkdtemp: mode 0700), removed at
    exit; an explicit GRADIO_TEMP_DIR is kept. Call before the Blocks is built (Gradio reads it then)."""
    global _private_dir
    current = os.environ.get("GRADIO_TEMP_DIR")
    if current:
        return Path(current)
    folder = tempfile.mkdtemp(prefix="briefing-gradio-")
    os.environ["GRADIO_TEMP_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    _private_dir = Path(folder).resolve()
    return _private_dir


def temp_dir() -> Path:
    """Where Gradio keeps uploads (as `gradio.utils.get_upload_folder` says)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def discard_uploads(files: list[str] | None) -> None:
    """Delete Gradio's copies of uploaded files (`<temp>/<content hash>/<name>`, and the folder once
    empty); paths outside Gradio's temp dir are left alone. In our private temp dir, also the empty
    placeholder files that gr.File's preprocessing leaves at its top."""
    root = temp_dir()
    for file in files or []:
        path = Path(file).resolve()
        if root not in path.parents:
            continue
        try:
            path.unlink(missing_ok=True)
            if path.parent != root:
                path.parent.rmdir()  # fails (and is left) while another upload of the same bytes is there
        except OSError:
            pass
    if root != _private_dir:
        return  # a shared temp dir: its other empty files are not ours to judge
    # gradio/components/file.py makes a NamedTemporaryFile(delete=False) per file and never uses it.
    for leftover in root.glob("tmp*"):
        try:
            if leftover.is_file() and not leftover.is_symlink() and leftover.stat().st_size == 0:
                leftover.unlink()
        except OSError:
            pass


def discarding_uploads(handler: F) -> F:
    """Decorate an upload handler `(self, files, ...)` so that its files' temp copies are deleted once it
    has run, whatever the outcome."""

    @functools.wraps(handler)
    def wrapper(self: Any, files: list[str] | None, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, files, *args, **kwargs)
        finally:
            discard_uploads(files)

    return wrapper  # type: ignore[return-value]
