"""The generative answerer: a LangChain chat model answers in the question's language from the numbered
passages, and only citations that hold are kept (citations.py). Whatever goes wrong with the model at
run time (endpoint down, too slow, garbage, citations that don't hold), the user gets the extractive answer
and a one-line notice in `warnings`, never a traceback. It answers only where the one decision
(abstention.decide) says the articles do."""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Sequence

from langchain_core.language_models import BaseChatModel

from ..answer import Answer
from ..retrieval import Retrieval
from ..settings import Settings
from ..stores.base import Titles
from ..text import markers
from ..text.language import detect
from . import citations
from .abstention import Verdict, decide
from .chat_model import LLMFailed, generate, load_prompt
from .extractive import abstain, extractive_answer
from .facts import without_instructions
from .reply import parse, visible

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
HISTORY_ANSWER_CHARS = 400  # of each earlier answer shown to the condense prompt
WITHHELD = "[a sentence addressed to AI assistants was removed]"  # prompt injection in an article
LOOP_WORDS = 12  # a run of this many words said twice in an answer: the model is looping
MIN_LANGUAGE_WORDS = 4  # fewer of the answer's own words tell nothing of its language
SHOWN_UNSUPPORTED = 120  # characters of the first unverified sentence quoted in the warning
CONDENSED_CHARS = (3, 1000)  # a rewritten question shorter or longer than this is no question
_WORD = re.compile(r"[^\W\d_]+")
_LABEL = re.compile(r"^[\s*#>-]*(?:standalone|rewritten|pregunta)[\w ]{0,20}:\s*", re.I)  # "Question:" labels


def format_passages(retrieval: Retrieval) -> str:
    blocks = []
    for n, doc in enumerate(retrieval.documents, start=1):
        meta = doc.metadata
        heading = f"[{n}] {meta.get('date') or 'undated'} · {meta.get('title', '')} ({meta['source']})"
        blocks.append(f"{heading}\n{without_instructions(doc.page_content, WITHHELD)}")
    return "\n\n".join(blocks)


def format_history(history: Sequence[Answer]) -> str:
    lines = []
    for turn in history:
        said = markers.SPACED_MARKER.sub("", turn.answer)
        lines += [f"User: {turn.question}", f"Assistant: {said[:HISTORY_ANSWER_CHARS]}"]
    return "\n".join(lines)


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
        lines = [ln for ln in visible(reply, final=True).splitlines() if ln.strip()]
        text = _LABEL.sub("", lines[0]).strip().strip("\"'“”«»*").strip() if lines else ""
        return text if CONDENSED_CHARS[0] <= len(text) <= CONDENSED_CHARS[1] else None

    def stream(
        self, retrieval: Retrieval, question: str, language: str, titles: Titles
    ) -> Generator[str, None, Answer]:
        passages = retrieval.documents
        verdict = decide(retrieval)
        if not verdict.answer:  # the articles do not answer it: no model is asked to
            result = abstain(question, language, verdict.reason)
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
                text = visible(raw)
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
            return self._fallback(retrieval, verdict, question, language, titles, f"was unavailable ({exc})")
        log.debug("%s replied: %r", self.name, raw)
        reply = parse(raw, len(passages))
        scores = {(s.chunk.source, s.span.start): s.score for s in retrieval.sentences}
        asked = f"{question} {retrieval.query.text}"
        checked = citations.check(reply, passages, asked, language, scores)
        if not checked.citations:
            reason = "cited passages that do not support it" if checked.cited else "cited no passages"
            return self._fallback(
                retrieval, verdict, question, language, titles, f"gave an answer that {reason}"
            )
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
                f"passages (listed under `unsupported`): “{checked.unsupported[0][:SHOWN_UNSUPPORTED]}”"
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
        self,
        retrieval: Retrieval,
        verdict: Verdict,
        question: str,
        language: str,
        titles: Titles,
        reason: str,
    ) -> Answer:
        result = extractive_answer(retrieval, question, language, titles, verdict)
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
    return detect(" ".join(words)) if len(words) >= MIN_LANGUAGE_WORDS else None
