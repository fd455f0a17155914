"""The answerer seam: what turns a retrieval into a verified `Answer`, and the choice of one from settings
(`settings.llm`: "none" -> extractive; "openai:MODEL", "ollama:MODEL" or any other `init_chat_model` spec
-> the generative answerer over that model)."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Protocol

from ..answer import Answer
from ..retrieval import Retrieval
from ..settings import Settings
from ..stores.base import Titles
from .chat_model import chat_model
from .extractive import ExtractiveAnswerer
from .llm import LLMAnswerer


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
