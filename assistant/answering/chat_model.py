"""The chat model behind the generative answerer: made from a `BRIEFING_LLM` spec through LangChain's
`init_chat_model`, prompted from plain files in `prompts/`, and streamed with a timeout so that no server
can hang an answer."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from ..errors import LLMUnavailable
from ..settings import Settings

ERROR_CHARS = 160  # of an exception's first line in a one-line notice
MAX_RETRIES = 1  # a second try for a dropped connection; more would only multiply the timeout


class LLMFailed(RuntimeError):
    """One call failed (down, timeout, error reply); the message is one line, meant for the user."""


def _openai_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout": settings.llm_timeout, "max_retries": MAX_RETRIES}
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
    return f"{type(exc).__name__}: {message[0][:ERROR_CHARS]}" if message else type(exc).__name__
