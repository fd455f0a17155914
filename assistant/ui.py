"""The Gradio chat: answers with [n] markers beside the passages they cite. `app.py` launches it."""

from __future__ import annotations

import html
import logging

import gradio as gr

from .answer import Answer
from .core import Assistant, InvalidQuestion
from .settings import Settings

log = logging.getLogger(__name__)

EXAMPLES = [
    "When is the next Security Implementation Group meeting?",
    "¿Qué grupo debe mantener acciones concretas para fortalecer la cooperación en seguridad?",
    "What did Sheinbaum say collaboration and cooperation always produce?",
    "¿Dónde será la Reunión Ministerial de Seguridad?",
]
CSS = """
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
               margin-bottom: 10px; background: var(--background-fill-secondary); }
.source-card .meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
.source-card blockquote { margin: 6px 0 0 0; padding-left: 10px; border-left: 3px solid #d97706; }
.notice { color: var(--body-text-color-subdued); }
"""


def sources_html(result: Answer | None) -> str:
    if result is None:
        return "<p class='notice'>Sources for the answer appear here.</p>"
    if result.abstained or not result.citations:
        return "<p class='notice'>No sources: the articles do not answer this.</p>"
    cards = []
    for c in result.citations:
        cards.append(
            f"<div class='source-card' id='source-{c.n}'><b>[{c.n}] {html.escape(c.title)}</b>"
            f"<div class='meta'>{html.escape(c.date or 'undated')} · {html.escape(c.source)} · "
            f"chars {c.start}–{c.end}</div><blockquote>{html.escape(c.quote)}</blockquote></div>"
        )
    return "\n".join(cards)


def reply(assistant: Assistant, question: str) -> tuple[str, Answer | None]:
    """The chat text for a question, never an exception: bad input and failures become a message."""
    try:
        result = assistant.ask(question)
    except InvalidQuestion as exc:
        return str(exc), None
    except Exception:  # the chat must never show a traceback
        log.exception("answering failed")
        return "Something went wrong while answering; the error was logged. Please try again.", None
    return result.answer, result


def build(assistant: Assistant) -> gr.Blocks:
    with gr.Blocks(title="Briefing assistant") as demo:
        gr.Markdown(
            "## Briefing assistant\nAsk about the articles in English or Spanish. Every answer "
            "quotes its sources; check them on the right."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat",
                    height=480,
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder="Ask a question about the articles.",
                )
                box = gr.Textbox(
                    placeholder="Type a question and press Enter", show_label=False, submit_btn=True
                )
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None))

        def respond(question: str, history: list[dict]):
            text, result = reply(assistant, question)
            history = [
                *history,
                {"role": "user", "content": question},
                {"role": "assistant", "content": text},
            ]
            return "", history, sources_html(result)

        def on_example(history: list[dict], event: gr.SelectData):
            return respond(event.value["text"], history)

        def ask_json(question: str) -> dict:
            text, result = reply(assistant, question)
            return result.model_dump() if result else {"question": question, "error": text}

        box.submit(respond, [box, chat], [box, chat, sources], api_name="chat")
        chat.example_select(on_example, [chat], [box, chat, sources])
        gr.Button(visible=False).click(
            ask_json, gr.Textbox(visible=False), gr.JSON(visible=False), api_name="ask"
        )
    return demo


def launch(settings: Settings) -> None:
    assistant = Assistant(settings)
    report = assistant.index()
    print(f"index: {report.summary()}")
    demo = build(assistant)
    demo.queue().launch(
        server_name=settings.host, server_port=settings.port, css=CSS, footer_links=[], show_error=False
    )
