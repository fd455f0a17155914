"""`Assistant`: wires the stages from one `Settings`; the CLI, the chat and the tests all go through it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path

from .answer import Answer
from .answering import conversation
from .answering.about import answer as about_article
from .answering.answerer import Answerer, make_answerer
from .answering.derived import answer as derived_answer
from .encoders.base import Encoder
from .encoders.local import LocalEncoder
from .errors import EmptyCorpus, IndexBusy, InvalidQuestion, LLMUnavailable, NoIndex
from .ingestion.corpus import Article
from .ingestion.formats.base import page_of
from .ingestion.sync import Progress, SyncReport, sync
from .retrieval import HybridRetriever, Retrieval
from .settings import Settings
from .stores.base import Listed
from .stores.factory import open_stores
from .text import translate
from .text.language import detect
from .text.question import clean as clean_question
from .text.question import unshout

log = logging.getLogger(__name__)


NO_RENDERING = (
    "No English rendering of the quotes: Apertium's Spanish-to-English pair is not installed "
    "(apt install apertium apertium-en-es), or BRIEFING_TRANSLATE_ANSWERS is off."
)


class Assistant:
    def __init__(
        self,
        settings: Settings | None = None,
        answerer: Answerer | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._answerer = answerer  # made from settings.llm on first use
        self.encoder = encoder or LocalEncoder(self.settings)
        self.stores = open_stores(self.settings, lambda: self.encoder.identity)
        use_apertium = self.settings.translate and translate.available()
        self.translator = translate.Translator() if use_apertium else None
        back = self.settings.translate_answers and translate.available("spa-eng")
        self.answer_translator = translate.Translator("spa-eng") if back else None
        self._retriever: HybridRetriever | None = None
        self._index_lock = threading.Lock()  # one sync at a time in this process (the file lock: others)
        self._synced: str | None = None  # the generation this process's last sync wrote

    def index(
        self,
        corpus_dir: Path | None = None,
        rebuild: bool = False,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> SyncReport:
        """Bring the index in line with the corpus folder (only new or changed files are embedded).
        Questions asked meanwhile are answered from the last complete state. Raises IndexBusy when
        another process is indexing the same index dir."""
        corpus_dir = corpus_dir or self.settings.corpus_dir
        with self._index_lock:
            report = sync(self.stores, self.encoder, self.settings, corpus_dir, rebuild, on_progress)
            self._synced = self.stores.generation()
        log.info("index: %s", report.summary())
        return report

    @property
    def retriever(self) -> HybridRetriever:
        """A retriever over the latest complete index; a new one once a sync (here or in another process)
        has finished."""
        stores = self.stores
        generation = stores.generation()
        current = self._retriever
        if current is not None and current.generation == generation:
            return current
        lexical = stores.lexical()
        if lexical is None or stores.sources.count() == 0:
            raise NoIndex("Nothing is indexed yet: run `briefing index` (or `make run`).")
        if current is not None and generation != self._synced:
            stores.refresh()  # another process synced
        stores.check_model()
        self.encoder.prepare_queries()
        self._retriever = HybridRetriever(
            encoder=self.encoder,
            vectors=stores.current_vectors,
            lexical=lexical,
            sources=stores.sources,
            hybrid=stores.hybrid(lexical),
            translator=self.translator,
            k=self.settings.top_k,
        )
        return self._retriever

    @property
    def answerer(self) -> Answerer:
        """Extractive, or the configured LLM. Raises LLMUnavailable (a RuntimeError) if it can't be set up."""
        if self._answerer is None:
            self._answerer = make_answerer(self.settings)
        return self._answerer

    @answerer.setter
    def answerer(self, answerer: Answerer) -> None:
        self._answerer = answerer

    def articles(self) -> list[Listed]:
        """Every indexed source: title, date, size, passages."""
        return self.stores.sources.listing()

    def article(self, source: str) -> Article | None:
        """An indexed source with its canonical text (what citations' offsets refer to), or None."""
        doc = self.stores.sources.document(source)
        if doc is None:
            return None
        start, end = doc.extra.get("body", (0, len(doc.text)))
        return Article(doc.source, doc.text, doc.title, doc.date, start, end)

    def text(self, source: str) -> str | None:
        """The canonical text of an indexed source: `quote == text(source)[start:end]` for its citations."""
        return self.stores.sources.text(source)

    def check_question(self, question: str) -> str:
        """The question cleaned (see question.clean); raises InvalidQuestion when empty or too long."""
        question = clean_question(question)
        if not question:
            raise InvalidQuestion("Please type a question.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InvalidQuestion(
                f"The question is too long ({len(question):,} characters; the limit is "
                f"{limit:,}). Please shorten it."
            )
        return question

    def ask(self, question: str, history: Sequence[Answer] | None = None) -> Answer:
        """Answer a question with cited passages (or abstain). `history`: the conversation's earlier answers,
        oldest first (only the latest `settings.history_turns` are used). Raises InvalidQuestion."""
        return self.ask_with_retrieval(question, history)[0]

    def ask_with_retrieval(
        self, question: str, history: Sequence[Answer] | None = None
    ) -> tuple[Answer, Retrieval]:
        """The answer and the evidence it was chosen from (ranked passages and sentences)."""
        events = self._answer(question, history)
        while True:
            try:
                next(events)
            except StopIteration as done:
                return done.value

    def stream(self, question: str, history: Sequence[Answer] | None = None) -> Iterator[str | Answer]:
        """Text deltas as the answer is written (LLM; the extractive answer comes in one piece), then the
        verified `Answer`, whose `answer` text replaces the deltas: citations may have been renumbered or
        dropped, or the extractive fallback used. Raises InvalidQuestion before yielding anything."""
        events = self._answer(question, history)
        while True:
            try:
                yield next(events)
            except StopIteration as done:
                yield done.value[0]
                return

    def _answer(
        self, question: str, history: Sequence[Answer] | None
    ) -> Generator[str, None, tuple[Answer, Retrieval]]:
        question = self.check_question(question)
        started = time.perf_counter()
        turns = conversation.window(history, self.settings.history_turns)
        standalone = conversation.standalone_question(question, turns, self.answerer.condense)
        condensed = time.perf_counter()
        searched = unshout(standalone or question)
        search, asked_in = self.retriever.search, detect(searched)
        # Two dated facts computed, or an article's outlet, author or date: no answerer writes these.
        special = derived_answer(searched, asked_in, search) or about_article(
            searched, asked_in, search, self.stores.sources.document
        )
        if special is not None:
            result, retrieval = special
            retrieved = time.perf_counter()
            language = detect(question)
            yield result.answer
        else:
            retrieval = search(searched)
            retrieved = time.perf_counter()
            # The search query's language is the question's, unless a follow-up was rewritten.
            language = detect(question) if standalone else retrieval.query.language
            result = yield from self.answerer.stream(retrieval, question, language, retrieval.titles)
        result.question, result.standalone_question = question, standalone
        self._describe_sources(result)
        finished = time.perf_counter()
        result.timings_ms = {
            "retrieval": _ms(condensed, retrieved),
            "answer": _ms(retrieved, finished),
            "total": _ms(started, finished),
        }
        if turns:
            result.timings_ms["condense"] = _ms(started, condensed)
        if retrieval.query.translation:
            result.translations = {"question_es": retrieval.query.translation}
        if language == "en":
            result.translations |= self._english(result)
        return result, retrieval

    def _english(self, result: Answer) -> dict[str, str]:
        """A machine translation of the quoted (Spanish) answer for an English question: `answer_en`, and
        `short_answer_en`. Labelled as such wherever shown; the quotes themselves stay verbatim. Where
        there is none, a warning says why."""
        if result.abstained or result.answerer != "extractive":
            return {}  # already in the question's language
        if self.answer_translator is None:
            result.warnings.append(NO_RENDERING)
            return {}
        found = {}
        english = result.answer  # each quote rendered in place; words of our own are English already
        for c in result.citations:
            rendered = self.answer_translator(c.quote)
            if rendered is None:
                result.warnings.append("No English rendering of the quotes: the machine translation failed.")
                return {}
            english = english.replace(c.quote, rendered, 1)
        found["answer_en"] = english
        # a name is not translated (Apertium would only garble it); a derived result is English already
        if result.short_answer is not None and result.short_answer.kind not in (
            "derived",
            "person",
            "organisation",
        ):
            short = self.answer_translator(result.short_answer.text)
            if short:
                found["short_answer_en"] = short
        return found

    def _describe_sources(self, result: Answer) -> None:
        """Each citation's format, PDF page and parent message, from the chunk store."""
        documents = {}
        for c in result.citations:
            if c.source not in documents:
                documents[c.source] = self.stores.sources.document(c.source, with_text=False)
            doc = documents[c.source]
            if doc is not None:
                c.format, c.parent = doc.format, doc.extra.get("parent")
                c.page = page_of(doc.extra.get("pages") or [], c.start)


def _ms(a: float, b: float) -> float:
    return round((b - a) * 1000, 2)


__all__ = ["Assistant", "EmptyCorpus", "IndexBusy", "InvalidQuestion", "LLMUnavailable", "NoIndex"]
