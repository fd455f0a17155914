"""`briefing serve`: one ASGI app (FastAPI) with the JSON API under /api and the Gradio chat mounted at /,
run by uvicorn on 127.0.0.1 unless told otherwise.

With `--workers N` (N > 1) uvicorn runs N processes from an app factory: each answers the API on the one
port. Gradio's queue keeps a page's events in the process that took them, and a browser's requests can
land on any worker, so there the chat is not mounted and `/` says where it is (one process per port:
`--workers 1`, the default; several such processes can share a PostgreSQL store, README "Scale-out")."""

from __future__ import annotations

import json
import logging
import os

import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.middleware import Middleware

from ..core import Assistant
from ..settings import Settings
from ..ui import IndexJob, build, launch_options
from ..ui.server import PageGuard
from . import api

log = logging.getLogger(__name__)

ENV = "BRIEFING_SERVE"  # the parent's settings and options, handed to uvicorn's worker processes (JSON)
NO_CHAT = """<!doctype html><title>Briefing assistant</title><p>This server runs {n} workers for the JSON
API (<a href="/api/openapi.json">/api/openapi.json</a>: <code>POST /api/ask</code>,
<code>GET /api/health</code>). The chat page needs one process: start <code>briefing serve</code> with
<code>--workers 1</code> (the default).</p>"""


def serving(settings: Settings) -> Settings:
    """The settings a server runs with: it answers concurrent requests, so CPU a question weighs more than
    a single question's milliseconds (no spinning threads unless asked for)."""
    if settings.embed_spinning is None:
        return settings.model_copy(update={"embed_spinning": False})
    return settings


def make_app(settings: Settings, index: bool = True, workers: int = 1) -> FastAPI:
    """The API and (one worker) the chat over one assistant. `index`: bring the index in line with the
    corpus folder in the background (the page is up meanwhile); else serve what the store holds."""
    assistant = Assistant(serving(settings))
    job = IndexJob(assistant, ready=not index, corpus=index or settings.store.url is None)
    app = FastAPI(
        title="Briefing assistant",
        description="Answers about a folder of news articles, each citing the exact passages.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive pages load scripts from a CDN: nothing leaves this machine
        redoc_url=None,
    )
    api.install(app)
    app.include_router(
        api.router(assistant, lambda: job.state, lambda: job.describe(0), settings.answer_workers)
    )
    if workers > 1:
        app.add_api_route("/", lambda: HTMLResponse(NO_CHAT.format(n=workers)), include_in_schema=False)
    else:
        import gradio as gr

        options = launch_options(settings)
        gr.mount_gradio_app(
            app,
            build(assistant, job),
            path="/",
            server_name=settings.host,
            server_port=settings.port,
            footer_links=options["footer_links"],
            show_error=options["show_error"],
            enable_monitoring=options["enable_monitoring"],
            max_file_size=options["max_file_size"],
            theme=options["theme"],
            css=options["css"],
            app_kwargs={"middleware": [Middleware(PageGuard)]},
        )
    if index:
        job.start()
    return app


def from_environment() -> FastAPI:
    """uvicorn's app factory in a worker process: the settings and options `serve` put in BRIEFING_SERVE."""
    given = json.loads(os.environ[ENV])
    return make_app(Settings(**given["settings"]), index=False, workers=given["workers"])


def serve(settings: Settings, index: bool = True, workers: int = 1) -> None:
    """Serve the API and the chat. Several workers share the port; the index is brought up to date once,
    here, before they start (they only read it)."""
    url = f"http://{settings.host}:{settings.port}"
    if workers <= 1:
        app = make_app(settings, index=index)
        print(
            f"Serving the chat on {url}/ and the API on {url}/api (schema: {url}/api/openapi.json)",
            flush=True,
        )
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
        return
    if index:
        report = Assistant(settings).index()
        print(f"index: {report.summary()}")
    print(f"Serving the API on {url}/api with {workers} workers (schema: {url}/api/openapi.json)", flush=True)
    os.environ[ENV] = json.dumps({"settings": settings.model_dump(mode="json"), "workers": workers})
    uvicorn.run(
        f"{__name__}:from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="warning",
    )
