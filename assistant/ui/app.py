"""The Gradio app: a chat whose answers link to checkable source cards, an articles view, and upload.

`briefing serve` (assistant/web) mounts `build(assistant, job)` next to the JSON API with the options of
`launch_options(settings)`; tests launch `build(assistant)` with them. HTML is built in `render`; the page's CSS and JS live in `static/`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ..answer import Answer
from ..core import Assistant
from ..errors import IndexBusy, InvalidQuestion, NoIndex
from ..ingestion.corpus import Article, UnreadableFile, human_size
from ..settings import Settings
from ..stores.base import Listed
from ..text import translate
from ..text.language import detect
from .corpus_tab import IndexJob, check_upload, save_upload
from .render import (
    ArticleRow,
    answer_html,
    answer_markdown,
    article_html,
    articles_html,
    empty_article_html,
    empty_sources_html,
    notice_html,
    sources_html,
    status_html,
    upload_report_html,
    user_html,
)
from .server import PageGuard, discarding_uploads, skip_monitoring_summaries, use_private_temp_dir

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
EXAMPLES = [
    "When is the next Security Implementation Group meeting?",
    "¿Qué grupo debe mantener acciones concretas para fortalecer la cooperación en seguridad?",
    "What did Sheinbaum say collaboration and cooperation always produce?",
    "¿Dónde será la Reunión Ministerial de Seguridad?",
]
PROGRESS = gr.Progress(track_tqdm=True)  # upload indexing shows the embedding batches
# System fonts: nothing fetched, and Gradio's bundled semibold face lacks some capitals in Chromium.
FONTS = ["system-ui", "Segoe UI", "Helvetica Neue", "Arial", "Liberation Sans", "sans-serif"]
PLACEHOLDER = "Type a question and press Enter"
SEARCHING = "Searching the articles…"
FAILED = "Something went wrong while answering; the error was logged. Please try again."
UPLOADS_OFF = (
    "This server answers from a shared store and has no corpus folder of its own: add articles with "
    "`briefing index --store URL --corpus FOLDER`, and every server on the store answers them."
)


def asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@dataclass
class Session:
    """Per-browser state: the answers so far, which one the sources panel shows, the open article."""

    answers: list[Answer] = field(default_factory=list)
    shown: int = -1
    article: str | None = None

    @property
    def current(self) -> Answer | None:
        return self.answers[self.shown] if 0 <= self.shown < len(self.answers) else None


def reply(assistant: Assistant, question: str) -> tuple[str, Answer | None]:
    """A single-turn answer for the API: (chat text, Answer), or (message, None) for bad input or failure."""
    *_, last = stream_reply(assistant, question, [])
    return (last.answer, last) if isinstance(last, Answer) else (last, None)


def stream_reply(assistant: Assistant, question: str, history: list[Answer]) -> Iterator[str | Answer]:
    """The answer as it is written (the text so far), then the verified Answer; bad input and failures
    become a message instead. `history`: this conversation's earlier answers, for follow-up questions."""
    text = ""
    try:
        for event in assistant.stream(question, history=history):
            if isinstance(event, Answer):
                yield event
                return
            text += event
            yield text
    except (InvalidQuestion, NoIndex) as exc:
        yield str(exc)
    except Exception:  # the chat must never show a traceback
        log.exception("answering failed")
        yield FAILED


# Event handlers -----------------------------------------------------------------------------------------


def _never_an_error(handler: Callable[..., Iterator[tuple]]) -> Callable[..., Iterator[tuple]]:
    """A chat turn that fails unexpectedly ends with the failure message under the box, not with a
    Gradio error (an empty `{"error": null}` for API clients, a red toast on the page)."""

    @functools.wraps(handler)
    def turn(*args: Any, **kwargs: Any) -> Iterator[tuple]:
        try:
            yield from handler(*args, **kwargs)
        except Exception:
            log.exception("the chat turn failed")
            skip = gr.skip()
            yield skip, skip, skip, skip, skip, skip, _notice(FAILED)

    return turn


class Page:
    """The handlers behind the page; `build` wires them to components."""

    def __init__(self, assistant: Assistant, job: IndexJob) -> None:
        self.assistant, self.job, self.settings = assistant, job, assistant.settings
        use_mt = self.settings.translate and translate.available("spa-eng")
        self.translator = translate.Translator(pair="spa-eng") if use_mt else None
        self._translations: dict[str, str | None] = {}

    # Reading what is indexed

    def indexed(self) -> dict[str, Listed]:
        """What is indexed, by source; empty until the index is ready (so a poll never races the indexer)."""
        if not self.job.ready:
            return {}
        try:
            return {a.source: a for a in self.assistant.articles()}
        except Exception:  # e.g. a broken index dir: nothing to list
            log.exception("listing the articles failed")
            return {}

    def article(self, source: str) -> Article | None:
        """An indexed article (its canonical text); a source not indexed (e.g. sent by a client) is None."""
        if not self.job.ready:
            return None
        return self.assistant.article(source)

    def rows(self) -> list[ArticleRow]:
        return [ArticleRow(a.source, a.title, a.date, a.size) for a in self.indexed().values()]

    def translate(self, quote: str) -> str | None:
        """An English machine translation of a Spanish quote (cached), or None."""
        if self.translator is None or detect(quote) != "es":
            return None
        if quote not in self._translations:
            self._translations[quote] = self.translator(quote)
        return self._translations[quote]

    # Rendering for a session

    def status(self) -> str:
        return status_html(self.job.state, self.job.describe(len(self.indexed())))

    def sources(self, session: Session) -> str:
        result = session.current
        english = result is not None and result.language == "en"
        latest = session.shown == len(session.answers) - 1
        translate = self.translate if english else _none
        return sources_html(result, session.shown, self.article, translate, latest, len(self.indexed()))

    def article_view(self, session: Session, focus: int | None = None) -> str:
        if session.article is None:
            return empty_article_html()
        article = self.article(session.article)
        if article is None:
            return "<p class='notice'>This article is no longer in the index.</p>"
        result = session.current
        cites = [c for c in result.citations if c.source == article.source] if result else []
        focus = focus if focus is not None else (cites[0].n if cites else None)
        listed = self.indexed().get(article.source)
        size = listed.size if listed else len(article.text.encode())
        return article_html(article, size, cites, focus, result.question if result else None)

    # Events

    @_never_an_error
    def respond(self, question: str, history: list[dict], session: Session) -> Iterator[tuple]:
        """A chat turn: (box, chat, session, sources, article view, markdown box, input notice).

        A generator, so that a streaming answerer can yield partial text later; for now it shows a
        pending line, then the answer. Bad input is explained under the box and the chat is left alone."""
        skip, clear = gr.skip(), _notice(None)
        try:
            question = self.assistant.check_question(as_text(question))
        except InvalidQuestion as exc:
            yield skip, skip, skip, skip, skip, skip, _notice(str(exc))
            return
        history = [*(history or []), {"role": "user", "content": user_html(question)}]
        if not self.job.ready:
            yield "", [*history, _bot(notice_html(self.job.describe(0)))], skip, skip, skip, skip, clear
            return
        yield "", [*history, _bot(notice_html(SEARCHING))], skip, skip, skip, skip, clear
        result: Answer | str = FAILED
        for event in stream_reply(self.assistant, question, session.answers):
            if isinstance(event, Answer):
                result = event
            else:  # streamed text (or a failure message): shown as it comes; sources wait for the check
                result = event
                yield "", [*history, _bot(notice_html(event))], skip, skip, skip, skip, clear
        if not isinstance(result, Answer):
            return
        session.answers.append(result)
        session.shown = len(session.answers) - 1
        history.append(_bot(answer_html(result, session.shown)))
        view, hidden = self.article_view(session), gr.Code(visible=False)
        yield "", history, session, self.sources(session), view, hidden, clear

    def on_example(self, history: list[dict], session: Session, event: gr.SelectData) -> Iterator[tuple]:
        yield from self.respond(event.value["text"], history, session)

    def on_sources(self, session: Session, event: gr.EventData) -> tuple:
        """A marker of an earlier answer ("show") or a card's "Show in article" ("open")."""
        data = getattr(event, "_data", None) or {}
        if data.get("action") == "show" and isinstance(data.get("turn"), int):
            if 0 <= data["turn"] < len(session.answers):
                session.shown = data["turn"]
            return session, self.sources(session), self.article_view(session), gr.skip(), gr.skip()
        if data.get("action") == "open" and self.article(str(data.get("source"))) is not None:
            session.article = str(data["source"])
            focus = data.get("n") if isinstance(data.get("n"), int) else None
            view, rows = self.article_view(session, focus), self.article_list(session.article)
            return session, gr.skip(), view, rows, gr.Tabs(selected="articles")
        return session, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def on_article(self, session: Session, event: gr.EventData) -> tuple:
        source = str((getattr(event, "_data", None) or {}).get("source"))
        if self.article(source) is None:
            return session, gr.skip(), gr.skip()
        session.article = source
        return session, self.article_view(session), self.article_list(source)

    @discarding_uploads  # Gradio's temp copies are deleted once handled, added or refused
    def on_upload(self, files: list[str] | None, session: Session, progress: gr.Progress = PROGRESS) -> tuple:
        """Check, save and index uploaded articles: (report, article list, file box, status)."""
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if not self.job.corpus:
            return upload_report_html([(False, UPLOADS_OFF)]), gr.skip(), None, gr.skip()
        progress(0, desc="Checking files…")
        lines: list[tuple[bool, str]] = []
        saved: dict[str, str] = {}  # saved file -> what to say about it once indexed
        for file in files:
            name = Path(file).name  # Gradio keeps the client's file name as the temp file's basename
            try:
                data, suffix, note = check_upload(Path(file), name, self.settings.max_upload_bytes)
                target, new = save_upload(self.settings.corpus_dir, name, data, suffix)
            except (UnreadableFile, OSError) as exc:
                lines.append((False, str(exc)))
                continue
            if new:
                saved[target] = f"{name}: saved as {target}" + (f", {note}" if note else "")
            else:
                lines.append((True, f"{name}: already in the corpus as {target}"))
        if saved:
            progress(0.1, desc=f"Indexing {len(saved)} new article{'s' if len(saved) > 1 else ''}…")
            lines = self._index_uploads(saved) + lines
        rows = self.article_list(session.article)
        return upload_report_html(lines), rows, None, self.status()

    def _index_uploads(self, saved: dict[str, str]) -> list[tuple[bool, str]]:
        try:
            report = self.assistant.index()
        except IndexBusy as exc:
            return [(False, f"{said}; not indexed yet: {exc}") for said in saved.values()]
        except Exception:
            log.exception("indexing uploads failed")
            return [(False, f"{said}; indexing failed (see the server log)") for said in saved.values()]
        self.job.state, self.job.skipped = "ready", report.warnings
        indexed = self.indexed()
        return [
            (True, f"{said} and indexed ({indexed[s].chunks} passages): ask about it now")
            if s in indexed
            else (False, f"{said} but not indexed (see the server log)")
            for s, said in saved.items()
        ]

    def on_tick(self, session: Session) -> tuple:
        """Startup polling: (status, question box, timer, article list); stops once the index is ready."""
        stop = self.job.state in ("ready", "empty", "failed")
        hint = PLACEHOLDER if self.job.ready else "Asking opens once the articles are indexed"
        box = gr.Textbox(interactive=self.job.ready, placeholder=hint)
        return self.status(), box, gr.Timer(active=not stop), self.articles(session)

    def on_clear(self) -> tuple:
        return [], Session(), empty_sources_html(), gr.Code(visible=False), _notice(None)

    def articles(self, session: Session | None = None) -> str:
        return self.article_list(session.article if session else None)

    def article_list(self, open_source: str | None) -> str:
        """The indexed articles, then the files of the corpus folder that could not be read, and why."""
        return articles_html(self.rows(), open_source, self.job.skipped)

    def markdown(self, session: Session) -> gr.Code:
        result = session.current
        if result is None:
            return gr.Code(value="Ask a question first.", visible=True)
        return gr.Code(value=answer_markdown(result), visible=True)

    def ask_json(self, question: str) -> dict:
        """The answer contract's JSON, or {"question", "error"} with a message; never an exception."""
        question = as_text(question)
        if not self.job.ready:
            return {"question": question, "error": self.job.describe(0)}
        try:
            text, result = reply(self.assistant, question)
            return result.model_dump() if result else {"question": question, "error": text}
        except Exception:
            log.exception("answering through /ask failed")
            return {"question": question, "error": FAILED}


def as_text(value: object) -> str:
    """A question as it came through the API, as text that can be sent back: None is empty, other values
    are their str(), and lone surrogates (which JSON allows and UTF-8 doesn't) become U+FFFD, or Gradio
    could not send the reply and the client would get an empty error."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _bot(content: str) -> dict:
    return {"role": "assistant", "content": content}


def _notice(text: str | None) -> gr.HTML:
    """The line under the question box that explains bad input; hidden when there is none."""
    return gr.HTML(notice_html(text, "ask-notice") if text else "", visible=bool(text))


def _none(_: str) -> None:
    return None


# Layout -------------------------------------------------------------------------------------------------


def build(assistant: Assistant, job: IndexJob | None = None) -> gr.Blocks:
    """The page, queued. Without a job the assistant is taken as indexed (tests, callers that indexed
    first). Launch it with `launch_options`, which keeps the page's own events to the page."""
    use_private_temp_dir()  # before any component: Gradio reads GRADIO_TEMP_DIR when they are made
    page = Page(assistant, job or IndexJob(assistant, ready=True))
    limit = human_size(assistant.settings.max_upload_bytes)
    # delete_cache: an upload whose event never ran (a closed tab) is deleted after 10 minutes.
    with gr.Blocks(title="Briefing assistant", analytics_enabled=False, delete_cache=(600, 600)) as demo:
        session = gr.State(Session())
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown(
                    "## Briefing assistant\nAsk about the articles in English or Spanish. Every answer "
                    "quotes its sources: click a **[n]** to check it."
                )
            with gr.Column(scale=2):
                status = gr.HTML(page.status(), elem_id="status")
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            label="Chat",
                            height=520,
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="**Ask a question about the articles**, or try an example:",
                            render_markdown=False,  # messages are HTML built (and escaped) in render.py
                            latex_delimiters=[],
                            buttons=[],
                            elem_id="chat",
                        )
                        box = gr.Textbox(
                            placeholder=PLACEHOLDER,
                            show_label=False,
                            submit_btn=True,
                            interactive=False,
                            max_lines=6,
                            elem_id="question",
                        )
                        ask_notice = gr.HTML("", elem_id="ask-notice", visible=False)
                        with gr.Row():
                            copy_md = gr.Button("Copy answer as Markdown", size="sm", elem_id="copy-md")
                            clear = gr.Button("New conversation", size="sm")
                        md = gr.Code(
                            language="markdown", label="Answer as Markdown", visible=False, wrap_lines=True
                        )
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(
                            empty_sources_html(), elem_id="sources-panel", js_on_load=asset("sources.js")
                        )
            with gr.Tab("Articles", id="articles"):
                with gr.Row():
                    with gr.Column(scale=2):
                        gr.Markdown("### Indexed articles")
                        articles = gr.HTML(
                            page.articles(), elem_id="article-list", js_on_load=asset("articles.js")
                        )
                        gr.Markdown(
                            f"### Add articles\nText, Markdown, saved web pages, PDF, Word (.docx), e-mail "
                            f"(.eml) or RSS/Atom feeds, up to {limit} each."
                        )
                        files = gr.File(
                            file_count="multiple",
                            type="filepath",
                            label="Upload articles",
                            elem_id="upload",
                            height=150,
                        )
                        report = gr.HTML("", elem_id="upload-report")
                    with gr.Column(scale=3):
                        view = gr.HTML(
                            empty_article_html(), elem_id="article-view", js_on_load=asset("article_view.js")
                        )
        timer = gr.Timer(1.0)

        # Only `chat` and `ask` are API endpoints; the other events serve the page alone (PageGuard refuses
        # them to other clients). Answers share a pool of workers: retrieval is thread-safe.
        private: dict[str, Any] = {"api_visibility": "private"}
        answering: dict[str, Any] = {
            "concurrency_id": "answer",
            "concurrency_limit": assistant.settings.answer_workers,
        }
        chat_out = [box, chat, session, sources, view, md, ask_notice]
        box.submit(
            page.respond,
            [box, chat, session],
            chat_out,
            api_name="chat",
            show_progress="minimal",
            **answering,
        )
        chat.example_select(
            page.on_example, [chat, session], chat_out, show_progress="minimal", **private, **answering
        )
        sources.click(page.on_sources, [session], [session, sources, view, articles, tabs], **private)
        articles.click(page.on_article, [session], [session, view, articles], **private)
        files.upload(page.on_upload, [files, session], [report, articles, files, status], **private)
        copy_md.click(page.markdown, [session], [md], **private)
        clear.click(page.on_clear, None, [chat, session, sources, md, ask_notice], **private)
        startup = [status, box, timer, articles]
        timer.tick(page.on_tick, [session], startup, show_progress="hidden", **private)
        demo.load(page.on_tick, [session], startup, show_progress="hidden", **private)
        gr.Button(visible=False).click(
            page.ask_json, gr.Textbox(visible=False), gr.JSON(visible=False), api_name="ask", **answering
        )
    # api_open=False: the REST routes (/run/NAME) don't skip the queue and its limits.
    skip_monitoring_summaries()
    return demo.queue(api_open=False)


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch` (Gradio 6 takes CSS there): private, no share link, and the
    page's own events kept to the page (`server.PageGuard`)."""
    return {
        "app_kwargs": {"middleware": [Middleware(PageGuard)]},
        "css": asset("ui.css"),
        "theme": gr.themes.Default(font=FONTS),
        "footer_links": [],
        "show_error": False,
        "enable_monitoring": False,  # else /monitoring/summary tells anyone which events ran, how often
        "share": False,
        # Oversized files get a clear message from on_upload; this only stops absurd uploads early.
        "max_file_size": 5 * settings.max_upload_bytes,
    }
