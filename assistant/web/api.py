"""The JSON API: `POST /api/ask` returns the answer contract (exactly `briefing ask --json`'s object),
`GET /api/health` says whether the store answers and what it holds; the schema is at /api/openapi.json.

Requests are validated by pydantic (strict types: a number is not a question); bad input gets a 4xx with
a one-line `detail`, never a 500 or a traceback. Answers run in a bounded pool of threads (the answer
workers): the rest wait their turn instead of crowding two cores."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from ..answer import Answer
from ..core import Assistant
from ..errors import InvalidQuestion, NoIndex, StoreUnavailable
from ..text.language import detect

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # a question is at most a few KB, a history of 20 answers well under this
MAX_HISTORY = 20  # turns accepted; only the latest settings.history_turns are used
MAX_TEXT = 100_000  # characters in any one text field of a turn (answers are a few sentences)
RETRY_AFTER_S = "5"  # while the index is being built
FAILED = "Something went wrong while answering; the error was logged. Please try again."


def _text(value: str) -> str:
    """Lone surrogates (which JSON allows and UTF-8 doesn't) become U+FFFD, or the reply could not be sent."""
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Turn(BaseModel):
    """An earlier turn of the conversation: a previous /api/ask reply (fields not listed are ignored), or
    just its question and answer."""

    model_config = ConfigDict(extra="ignore")

    question: StrictStr = Field(max_length=MAX_TEXT)
    answer: StrictStr = Field("", max_length=MAX_TEXT)
    language: StrictStr | None = Field(None, max_length=8)
    abstained: StrictBool = False
    standalone_question: StrictStr | None = Field(None, max_length=MAX_TEXT)
    translations: dict[StrictStr, StrictStr] = Field(default_factory=dict)

    _clean = field_validator("question", "answer", "standalone_question")(
        lambda v: _text(v) if isinstance(v, str) else v
    )

    def as_answer(self) -> Answer:
        return Answer(
            question=self.question,
            language=self.language or detect(self.question),
            answer=self.answer,
            abstained=self.abstained,
            standalone_question=self.standalone_question,
            translations=self.translations,
        )


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(
        description="In English or Spanish", examples=["¿Cuándo es la próxima reunión?"]
    )
    history: list[Turn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="Earlier turns, oldest first: previous /api/ask replies, for follow-up questions",
    )

    _clean = field_validator("question")(lambda v: _text(v) if isinstance(v, str) else v)


class Health(BaseModel):
    status: str = Field(description="ok, or unavailable when the store does not answer")
    store: str = Field(description="chroma, chroma-server or postgres")
    where: str = Field(description="The index dir or the store's URL (no password)")
    index: str = Field(description="waiting, indexing, ready, empty or failed")
    articles: int | None = None
    passages: int | None = None


class Problem(BaseModel):
    detail: str


def router(
    assistant: Assistant, state: Callable[[], str], describe: Callable[[], str], workers: int
) -> APIRouter:
    """The API over one assistant. `state`/`describe`: the index job's state and its one-line status."""
    api = APIRouter(prefix="/api")
    limiter = anyio.CapacityLimiter(workers)
    problems: dict[int | str, dict[str, Any]] = {
        413: {"model": Problem},
        422: {"model": Problem},
        503: {"model": Problem},
    }

    @api.post("/ask", response_model=Answer, responses=problems, summary="Answer a question with citations")
    async def ask(request: AskRequest) -> Any:
        if state() != "ready":
            return _problem(503, describe(), {"Retry-After": RETRY_AFTER_S})
        history = [turn.as_answer() for turn in request.history]
        try:
            result = await anyio.to_thread.run_sync(assistant.ask, request.question, history, limiter=limiter)
        except InvalidQuestion as exc:
            return _problem(422, str(exc))
        except (NoIndex, StoreUnavailable) as exc:
            return _problem(503, str(exc), {"Retry-After": RETRY_AFTER_S})
        except Exception:
            log.exception("answering through /api/ask failed")
            return _problem(500, FAILED)
        return JSONResponse(result.model_dump(mode="json"))

    @api.get("/health", response_model=Health, responses={503: {"model": Health}}, summary="Is the store up?")
    async def health() -> Any:
        stores = assistant.stores
        found = Health(status="ok", store=stores.kind, where=stores.where, index=state())
        try:
            found.articles, found.passages = await anyio.to_thread.run_sync(_counts, assistant)
        except Exception as exc:  # the store is down, or its folder unreadable
            log.warning("health check: %s", exc)
            found.status = "unavailable"
            return JSONResponse(found.model_dump(), status_code=503)
        return found

    return api


def _counts(assistant: Assistant) -> tuple[int, int]:
    sources = assistant.stores.sources
    return sources.count_documents(), sources.count()


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Validation errors as one readable line (what was wrong, where), and the body size limit."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lines = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            lines.append(f"{where}: {error.get('msg', 'invalid')}")
        return _problem(422, "; ".join(lines[:5]) or "invalid request")

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, prefix="/api/")


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes under `prefix` gets 413 before it is parsed."""

    def __init__(self, app: Any, limit: int, prefix: str) -> None:
        self.app, self.limit, self.prefix = app, limit, prefix

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _send_problem(send, 413, f"the request body is over {self.limit // 1024} KB")
            return
        received = 0

        async def limited() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _send_problem(send, 413, f"the request body is over {self.limit // 1024} KB")


class _TooLarge(Exception):
    pass


async def _send_problem(send: Callable, status: int, detail: str) -> None:
    response = _problem(status, detail)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
