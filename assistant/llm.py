"""Answerers: the extractive one (default, no LLM) or a LangChain chat model whose citations are checked.

`make_answerer(settings)` chooses from `settings.llm`: "none" -> extractive; "openai:MODEL", "ollama:MODEL"
or any other `init_chat_model` spec -> `LLMAnswerer`. Whatever goes wrong with the model at run time
(endpoint down, too slow, garbage, citations that don't hold), the user gets the extractive answer and a
one-line notice in `warnings`, never a traceback."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from . import citations, extractive
from .answer import Answer
from .language import detect
from .retrieval import Retrieval
from .settings import Settings

log = logging.getLogger(__name__)

Titles = dict[str, tuple[str, str | None]]
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
HISTORY_ANSWER_CHARS = 400  # of each earlier answer shown to the condense prompt
WITHHELD = "[a sentence addressed to AI assistants was removed]"  # prompt injection in an article
LOOP_WORDS = 12  # a run of this many words said twice in an answer: the model is looping
_WORD = re.compile(r"[^\W\d_]+")
_LABEL = re.compile(r"^[\s*#>-]*(?:standalone|rewritten|pregunta)[\w ]{0,20}:\s*", re.I)  # "Question:" labels


class LLMUnavailable(RuntimeError):
    """The configured model cannot be used at all (missing package, bad spec); the message says why."""


class LLMFailed(RuntimeError):
    """One call failed (down, timeout, error reply); the message is one line, meant for the user."""


class Answerer(Protocol):
    name: str

    def condense(self, question: str, history: Sequence[Answer]) -> str | None:
        """A standalone version of a follow-up question, or None to let the caller's heuristic decide."""

    def stream(
        self, retrieval: Retrieval, question: str, language: str, titles: Titles
    ) -> Generator[str, None, Answer]:
        """Yield text as it is generated; return the verified Answer."""


def make_answerer(settings: Settings) -> Answerer:
    """The answerer `settings.llm` asks for. Raises LLMUnavailable when the model cannot be set up."""
    if settings.llm.strip().lower() in ("", "none", "extractive"):
        return ExtractiveAnswerer()
    return LLMAnswerer(chat_model(settings), settings)


# --- the chat model ------------------------------------------------------------------------------


def _openai_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout": settings.llm_timeout, "max_retries": 1}
    options["max_tokens"] = settings.llm_max_tokens  # sent as max_completion_tokens
    if settings.llm_base_url:  # a self-hosted OpenAI-compatible server
        options |= {"base_url": settings.llm_base_url, "api_key": settings.llm_api_key or "not-needed"}
        # vLLM, llama.cpp and LM Studio builds that ignore max_completion_tokens still honour max_tokens.
        # Not sent to api.openai.com, which refuses both at once.
        options |= {"extra_body": {"max_tokens": settings.llm_max_tokens}, "temperature": 0.0}
    elif settings.llm_api_key:
        options["api_key"] = settings.llm_api_key
    return options


def _ollama_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"num_predict": settings.llm_max_tokens, "temperature": 0.0}
    options["client_kwargs"] = {"timeout": settings.llm_timeout}
    return options | ({"base_url": settings.llm_base_url} if settings.llm_base_url else {})


def _generic_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout": settings.llm_timeout, "max_tokens": settings.llm_max_tokens}
    extra = {"base_url": settings.llm_base_url, "api_key": settings.llm_api_key}
    return options | {k: v for k, v in extra.items() if v}


PROVIDER_OPTIONS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "openai": _openai_options,
    "ollama": _ollama_options,
}


def chat_model(settings: Settings) -> BaseChatModel:
    """The chat model for a spec like "openai:qwen2.5-7b-instruct" or "ollama:llama3.1:8b"."""
    provider, _, model = settings.llm.partition(":")
    if not model:
        raise LLMUnavailable(
            f"BRIEFING_LLM={settings.llm!r}: expected PROVIDER:MODEL, e.g. openai:qwen2.5-7b-instruct "
            "or ollama:llama3.1, or none for extractive answers"
        )
    options = PROVIDER_OPTIONS.get(provider, _generic_options)(settings)
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(model, model_provider=provider, **options)
    except ImportError as exc:
        raise LLMUnavailable(
            f"BRIEFING_LLM={settings.llm} needs the optional LLM packages: pip install -e '.[llm]' "
            f"(covers the openai and ollama providers; others need their langchain-<provider> package). "
            f"{exc}"
        ) from exc
    except Exception as exc:  # unknown provider, invalid options, missing API key
        raise LLMUnavailable(f"BRIEFING_LLM={settings.llm}: {_one_line(exc)}") from exc


# --- prompts -------------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[(system|user)\]\s*$", re.M)


@lru_cache(maxsize=16)
def load_prompt(name: str, prompts_dir: Path) -> ChatPromptTemplate:
    """prompts_dir/NAME.md: sections introduced by a line "[system]" or "[user]"."""
    path = prompts_dir / f"{name}.md"
    try:
        parts = _SECTION.split(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LLMUnavailable(f"prompt {name!r} not found: {path} (BRIEFING_PROMPTS_DIR)") from exc
    roles = {"system": "system", "user": "human"}
    messages = [(roles[role], body.strip()) for role, body in zip(parts[1::2], parts[2::2])]
    if not messages:
        raise LLMUnavailable(f"prompt {path} has no [system] or [user] section")
    return ChatPromptTemplate.from_messages(messages)


def format_passages(retrieval: Retrieval) -> str:
    blocks = []
    for n, doc in enumerate(retrieval.documents, start=1):
        meta = doc.metadata
        heading = f"[{n}] {meta.get('date') or 'undated'} · {meta.get('title', '')} ({meta['source']})"
        blocks.append(f"{heading}\n{citations.without_instructions(doc.page_content, WITHHELD)}")
    return "\n\n".join(blocks)


def format_history(history: Sequence[Answer]) -> str:
    lines = []
    for turn in history:
        said = re.sub(r"\s*\[\d+\]", "", turn.answer)
        lines += [f"User: {turn.question}", f"Assistant: {said[:HISTORY_ANSWER_CHARS]}"]
    return "\n".join(lines)


# --- calling the model ---------------------------------------------------------------------------

_END = object()


def generate(runnable: Runnable, inputs: dict[str, Any], timeout: float) -> Iterator[str]:
    """Stream a runnable's text. Raises LLMFailed when it fails or sends nothing for `timeout` seconds
    (the first token or the next one): the work runs in a thread, so no client can hang the answer."""
    events: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for chunk in runnable.stream(inputs):
                if stop.is_set():
                    return
                events.put(str(getattr(chunk, "text", chunk)))
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            events.put(exc)
        else:
            events.put(_END)

    threading.Thread(target=work, name="llm-stream", daemon=True).start()
    try:
        while True:
            try:
                item = events.get(timeout=timeout)
            except queue.Empty:
                raise LLMFailed(f"no reply within {timeout:g} s") from None
            if item is _END:
                return
            if isinstance(item, Exception):
                raise LLMFailed(_one_line(item)) from item
            yield str(item)
    finally:
        stop.set()


def _one_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0][:160]}" if message else type(exc).__name__


# --- answerers -----------------------------------------------------------------------------------


def extractive_answer(retrieval: Retrieval, question: str, language: str, titles: Titles) -> Answer:
    """The extractive answer, reported against the user's question and in its language."""
    result = extractive.answer(retrieval, titles)
    if result.abstained:
        return extractive.abstain(question, language)
    return result.model_copy(update={"question": question, "language": language})


class ExtractiveAnswerer:
    name = "extractive"

    def condense(self, question: str, history: Sequence[Answer]) -> str | None:
        return None

    def stream(
        self, retrieval: Retrieval, question: str, language: str, titles: Titles
    ) -> Generator[str, None, Answer]:
        result = extractive_answer(retrieval, question, language, titles)
        yield result.answer
        return result


class LLMAnswerer:
    """Answers in the question's language from the numbered passages; keeps only verified citations."""

    def __init__(self, model: BaseChatModel, settings: Settings, name: str | None = None) -> None:
        self.model = model
        self.name = name or settings.llm
        self.timeout = settings.llm_timeout
        self.answer_chain = load_prompt("answer", settings.prompts_dir) | model
        self.condense_chain = load_prompt("condense", settings.prompts_dir) | model

    def condense(self, question: str, history: Sequence[Answer]) -> str | None:
        inputs = {"history": format_history(history), "question": question}
        try:
            reply = "".join(generate(self.condense_chain, inputs, self.timeout))
        except LLMFailed as exc:
            log.warning("condense-question failed: %s", exc)
            return None
        lines = [ln for ln in citations.visible(reply, final=True).splitlines() if ln.strip()]
        text = _LABEL.sub("", lines[0]).strip().strip("\"'“”«»*").strip() if lines else ""
        return text if 3 <= len(text) <= 1000 else None

    def stream(
        self, retrieval: Retrieval, question: str, language: str, titles: Titles
    ) -> Generator[str, None, Answer]:
        passages = retrieval.documents
        if not passages:
            result = extractive_answer(retrieval, question, language, titles)
            yield result.answer
            return result
        inputs = {
            "language": LANGUAGE_NAMES.get(language, "English"),
            "passages": format_passages(retrieval),
            "question": retrieval.query.text,
        }
        raw = shown = ""
        try:
            for piece in generate(self.answer_chain, inputs, self.timeout):
                raw += piece
                text = citations.visible(raw)
                loop = _loop_start(text)
                if loop is not None:  # stop paying for tokens that only repeat; keep what came before
                    log.info("%s repeated itself; answer cut at %d characters", self.name, loop)
                    raw = text[:loop].rstrip()
                    break
                if len(text) > len(shown) and text.startswith(shown):
                    yield text[len(shown) :]
                    shown = text
        except LLMFailed as exc:
            log.warning("%s failed: %s", self.name, exc)
            return self._fallback(retrieval, question, language, titles, f"was unavailable ({exc})")
        log.debug("%s replied: %r", self.name, raw)
        reply = citations.parse(raw, len(passages))
        scores = {(s.chunk.source, s.span.start): s.score for s in retrieval.sentences}
        asked = f"{question} {retrieval.query.text}"
        checked = citations.check(reply, passages, asked, language, scores)
        if not checked.citations:
            reason = "cited passages that do not support it" if checked.cited else "cited no passages"
            return self._fallback(retrieval, question, language, titles, f"gave an answer that {reason}")
        return Answer(
            question=question,
            language=language,
            answer=checked.text,
            abstained=False,
            citations=checked.citations,
            warnings=self._warnings(checked, language),
            unsupported=checked.unsupported,
            answerer=self.name,
        )

    def _warnings(self, checked: citations.Checked, language: str) -> list[str]:
        warnings = []
        if checked.unsupported:
            n = len(checked.unsupported)
            warnings.append(
                f"{n} sentence{'s' * (n > 1)} of the generated answer could not be verified against the "
                f"passages (listed under `unsupported`): “{checked.unsupported[0][:120]}”"
            )
        if checked.dropped:
            warnings.append(f"Dropped {checked.dropped} citation(s) that did not match the cited passages.")
        # An answer in the wrong language is kept, with a warning: its citations are verified, and the
        # extractive fallback would quote the (Spanish) articles whatever the question's language.
        answered_in = _language_of(checked.text)
        if answered_in and answered_in != language:
            warnings.append(
                f"The model answered in {LANGUAGE_NAMES[answered_in]}, not in the question's "
                f"{LANGUAGE_NAMES.get(language, language)}."
            )
        return warnings

    def _fallback(
        self, retrieval: Retrieval, question: str, language: str, titles: Titles, reason: str
    ) -> Answer:
        result = extractive_answer(retrieval, question, language, titles)
        instead = "no supported answer was found" if result.abstained else "showing quoted sentences instead"
        result.warnings.append(f"The language model ({self.name}) {reason}; {instead}.")
        return result


def _loop_start(text: str) -> int | None:
    """Where a model started repeating itself: the start of the latest LOOP_WORDS words when they were
    already said, in order, earlier in the text (numbers aside: small models loop on "El 2026-01-16, está
    presionando ..." with only the date changing); None while it is not looping."""
    words = list(_WORD.finditer(text))
    if len(words) < 2 * LOOP_WORDS:
        return None
    tail = [w.group().lower() for w in words[-LOOP_WORDS:]]
    said = [w.group().lower() for w in words[:-LOOP_WORDS]]
    for i in range(len(said) - LOOP_WORDS + 1):
        if said[i : i + LOOP_WORDS] == tail:
            return words[-LOOP_WORDS].start()
    return None


def _language_of(text: str) -> str | None:
    """The language of an answer's own words (not quotes, markers or names); None when too short."""
    bare = re.sub(r"\[\d+\]|[\"“«][^\"“”«»]*[\"”»]", " ", text)
    words = [w for w in re.findall(r"[^\W\d_]+", bare) if not w[0].isupper()]
    return detect(" ".join(words)) if len(words) >= 4 else None
