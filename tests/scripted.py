"""A scripted chat model that behaves like a weak real one: the test double for the one thing that cannot
run here (a hosted LLM). Shared by the LLM tests and the browser tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

Reply = str | Callable[[str], str]


class ScriptedChatModel(BaseChatModel):
    """Replies from a script, one entry per call; an entry may be a function of the prompt text (so that it
    can cite whichever passage number holds a phrase). Streams word by word, sleeping before each piece."""

    replies: list[Any]
    sleep: float = 0.0
    _calls: list[str] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def prompts(self) -> list[str]:
        return self._calls

    def _reply(self, messages: list[BaseMessage]) -> str:
        prompt = "\n".join(str(m.content) for m in messages)
        self._calls.append(prompt)
        reply = self.replies[len(self._calls) - 1]
        return reply(prompt) if callable(reply) else reply

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:  # noqa: ANN001
        time.sleep(self.sleep)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:  # noqa: ANN001
        text = self._reply(messages)
        for piece in re.findall(r"\s*\S+", text) or [text]:
            time.sleep(self.sleep)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def passages_in(prompt: str) -> dict[int, str]:
    """The numbered passages of an answer prompt."""
    blocks = re.split(r"^\[(\d+)\] ", prompt.split("Passages:", 1)[-1], flags=re.M)
    return {int(n): text for n, text in zip(blocks[1::2], blocks[2::2])}


def number_of(prompt: str, phrase: str) -> int:
    return next(n for n, text in passages_in(prompt).items() if phrase.lower() in text.lower())


def citing(template: str, **phrases: str) -> Callable[[str], str]:
    """A reply whose {name} fields become the number of the passage holding the given phrase."""
    return lambda prompt: template.format(**{k: number_of(prompt, v) for k, v in phrases.items()})
