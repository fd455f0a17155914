"""Scoring one answer: its text against the question's patterns, the contract (markers, abstention), and
every citation, `also_in` entry and short answer against its source's canonical text.

The canonical text is the one stored with the index (what the assistant read; nothing is extracted again),
else, for a source the index does not hold, the file read afresh the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from ..answer import Answer
from ..ingestion import formats
from ..stores.base import SourceReader
from ..text.markers import MARKER
from .loading import validation_summary
from .records import CitationCheck, Question, Record, SpanCheck, as_int, as_str, shorten


def score(
    question: Question,
    answer: Answer | dict[str, Any],
    corpus_dir: Path | Corpus,
    latency_ms: float | None = None,
) -> Record:
    """Score one answer and each of its citations against one question."""
    data = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer
    text = data.get("answer") if isinstance(data.get("answer"), str) else ""
    abstained = data.get("abstained") is True
    raw_citations = data.get("citations") if isinstance(data.get("citations"), list) else []
    texts: dict[str, tuple[str | None, str | None]] = {}
    checks = [_check_citation(raw, question, corpus_dir, abstained, texts) for raw in raw_citations]
    spans = _check_spans(data, raw_citations, corpus_dir, texts)
    wrong = _answer_problem(question, text, abstained)
    right_source = any(c.supporting and question.lists_source(c.source) for c in checks)
    reasons = [
        *([wrong] if wrong else []),
        *_contract_problems(data, text, abstained, checks),
        *_citation_problems(question, checks, abstained, right_source),
        *(f"{span.of} is invalid: {span.reason}" for span in spans if not span.valid),
    ]
    return Record(
        **_question_fields(question),
        answer=data,
        abstained=abstained,
        answer_correct=wrong is None,
        abstention_correct=abstained != question.answerable,
        right_source=right_source,
        citations=checks,
        spans=spans,
        reasons=reasons,
        latency_ms=latency_ms,
    )


def unanswered(question: Question, reason: str) -> Record:
    return Record(
        **_question_fields(question),
        answer=None,
        abstained=False,
        answer_correct=False,
        abstention_correct=question.answerable,
        right_source=False,
        reasons=[reason],
    )


def _question_fields(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "question": question.question,
        "lang": question.lang,
        "answerable": question.answerable,
    }


def _answer_problem(question: Question, text: str, abstained: bool) -> str | None:
    """Why the answer is wrong, or None when it is right."""
    pattern = question.matching_pattern(text)
    if question.answerable:
        if abstained:
            return "false abstention: the question is answerable"
        return None if pattern else "wrong answer: no answer pattern matches the answer text"
    if not abstained:
        return "answered an unanswerable question (should have abstained)"
    return f"abstained, but the answer text matches the pattern {pattern!r}" if pattern else None


def _contract_problems(
    data: dict[str, Any], text: str, abstained: bool, checks: list[CitationCheck]
) -> list[str]:
    problems = []
    try:
        Answer.model_validate(data)
    except ValidationError as exc:
        problems.append(f"answer does not follow the contract: {validation_summary(exc)}")
    numbers = [c.n for c in checks if c.n is not None]
    markers = {int(m) for m in MARKER.findall(text)}
    problems += [f"[{m}] in the answer has no citation numbered {m}" for m in sorted(markers - set(numbers))]
    problems += [f"citation [{n}] is never referred to in the answer" for n in sorted(set(numbers) - markers)]
    problems += [
        f"{numbers.count(n)} citations are numbered {n}" for n in sorted(set(numbers)) if numbers.count(n) > 1
    ]
    if abstained and checks:
        problems.append(f"abstained but carries {len(checks)} citation(s)")
    return problems


def _citation_problems(
    question: Question, checks: list[CitationCheck], abstained: bool, right_source: bool
) -> list[str]:
    problems = [
        f"citation {citation_label(c, i)} is invalid: {c.reason}" for i, c in enumerate(checks) if not c.valid
    ]
    if abstained or not question.answerable:
        return problems  # the answer-level reason already says what is wrong
    problems += [
        f"citation {citation_label(c, i)} {c.reason}"
        for i, c in enumerate(checks)
        if c.valid and not c.supporting
    ]
    if not any(c.supporting for c in checks):
        problems.append("no supporting citation")
    elif not right_source:
        problems.append(f"no supporting citation from a listed source ({', '.join(question.sources)})")
    return problems


def citation_label(check: CitationCheck, index: int) -> str:
    return f"[{check.n}]" if check.n is not None else f"#{index + 1}"


def _check_citation(
    raw: Any,
    question: Question,
    corpus_dir: Path | Corpus,
    abstained: bool,
    texts: dict[str, tuple[str | None, str | None]],
) -> CitationCheck:
    if not isinstance(raw, dict):
        return CitationCheck(reason="not a JSON object")
    check = CitationCheck(
        n=as_int(raw.get("n")),
        source=as_str(raw.get("source")),
        start=as_int(raw.get("start")),
        end=as_int(raw.get("end")),
        quote=as_str(raw.get("quote")),
    )
    problem = _invalid_reason(check, corpus_dir, texts)
    if problem:
        return check.model_copy(update={"reason": problem})
    unsupported = _unsupported_reason(check, question, abstained)
    return check.model_copy(update={"valid": True, "supporting": unsupported is None, "reason": unsupported})


def _invalid_reason(
    check: CitationCheck, corpus_dir: Path | Corpus, texts: dict[str, tuple[str | None, str | None]]
) -> str | None:
    source, start, end, quote = check.source, check.start, check.end, check.quote
    if source is None or start is None or end is None or quote is None:
        missing = [name for name in ("source", "start", "end", "quote") if getattr(check, name) is None]
        return f"missing or mistyped field(s): {', '.join(missing)}"
    if source not in texts:
        texts[source] = _read_source(corpus_dir, source)
    text, problem = texts[source]
    if text is None:
        return problem
    if not 0 <= start < end <= len(text):
        return f"bad offsets {start}:{end} (the file has {len(text)} characters)"
    actual = text[start:end]
    if actual == quote:
        return None
    found = text.find(quote) if quote else -1
    hint = f"; the quote is at {found}:{found + len(quote)}" if found >= 0 else ""
    return f"quote differs from text[{start}:{end}] = {shorten(actual)!r}{hint}"


def _check_spans(
    data: dict[str, Any],
    raw_citations: list[Any],
    corpus_dir: Path | Corpus,
    texts: dict[str, tuple[str | None, str | None]],
) -> list[SpanCheck]:
    """Every `also_in` entry of every citation, and the `short_answer`, checked like a citation against
    the same text (their quote, or the short answer's `text`, must be text[start:end]); a short answer
    must also lie inside the quote of the citation it names."""
    found = []
    for index, raw in enumerate(raw_citations):
        if not isinstance(raw, dict) or raw.get("also_in") is None:
            continue
        label = f"[{raw['n']}]" if isinstance(raw.get("n"), int) else f"#{index + 1}"
        entries = raw["also_in"] if isinstance(raw["also_in"], list) else [None]
        for k, entry in enumerate(entries, start=1):
            found.append(_check_span(entry, "quote", f"also_in #{k} of {label}", corpus_dir, texts))
    short = data.get("short_answer")
    if isinstance(short, dict) and short.get("kind") == "derived":  # computed: its cited facts are checked
        facts = short.get("rests_on") if isinstance(short.get("rests_on"), list) else [None]
        for k, fact in enumerate(facts or [None], start=1):
            found.append(
                _check_short(fact, f"fact #{k} of the derived short_answer", raw_citations, corpus_dir, texts)
            )
    elif short is not None:
        found.append(_check_short(short, "short_answer", raw_citations, corpus_dir, texts))
    return found


def _check_short(
    raw: Any,
    of: str,
    raw_citations: list[Any],
    corpus_dir: Path | Corpus,
    texts: dict[str, tuple[str | None, str | None]],
) -> SpanCheck:
    """A short answer (or a fact a derived one rests on): text[start:end], inside the quote it names."""
    check = _check_span(raw, "text", of, corpus_dir, texts)
    if check.valid and not _inside_citation(raw, raw_citations):
        check = check.model_copy(
            update={"valid": False, "reason": "it lies in no quote of the citation it names (n)"}
        )
    return check


def _check_span(
    raw: Any, field: str, of: str, corpus_dir: Path | Corpus, texts: dict[str, tuple[str | None, str | None]]
) -> SpanCheck:
    if not isinstance(raw, dict):
        return SpanCheck(of=of, reason="not a JSON object")
    check = SpanCheck(
        of=of,
        source=as_str(raw.get("source")),
        start=as_int(raw.get("start")),
        end=as_int(raw.get("end")),
        quote=as_str(raw.get(field)),
    )
    problem = _invalid_reason(check, corpus_dir, texts)
    return check.model_copy(update={"valid": problem is None, "reason": problem})


def _inside_citation(short: dict[str, Any], raw_citations: list[Any]) -> bool:
    for raw in raw_citations:
        if (
            isinstance(raw, dict)
            and raw.get("n") == short.get("n")
            and raw.get("source") == short.get("source")
        ):
            start, end = as_int(raw.get("start")), as_int(raw.get("end"))
            return start is not None and end is not None and start <= short["start"] and short["end"] <= end
    return False


@dataclass
class Corpus:
    """Where citations are checked: the corpus folder, and the source store of the index built from it
    (`sources`: made on first use; None where there is no index)."""

    dir: Path
    sources: Callable[[], SourceReader | None] | None = None

    @cached_property
    def index(self) -> SourceReader | None:
        return self.sources() if self.sources else None


def _read_source(corpus: Path | Corpus, source: str) -> tuple[str | None, str | None]:
    """(canonical text, None) or (None, why the source cannot be checked). Never reads outside the
    corpus folder."""
    corpus = corpus if isinstance(corpus, Corpus) else Corpus(Path(corpus))
    if not source or Path(source).is_absolute() or PurePosixPath(source).is_absolute():
        return None, f"source {source!r} is not a path relative to the corpus directory"
    try:
        root = corpus.dir.resolve()
        path = (root / source).resolve()
    except (OSError, ValueError) as exc:
        return None, f"source {source!r} is not a usable path ({exc})"
    if not path.is_relative_to(root):
        return None, f"source {source!r} escapes the corpus directory"
    stored = _indexed_text(corpus.index, root, source) if corpus.index is not None else None
    return (stored, None) if stored is not None else _extracted_text(root, source)


def _indexed_text(index: SourceReader, root: Path, source: str) -> str | None:
    """The canonical text the index holds for source, if it was read from the file now in the corpus
    folder (same checksum) or that file is gone; None otherwise (another corpus, a changed file)."""
    doc = index.document(source)
    if doc is None:
        return None
    try:
        data = (root / doc.path).read_bytes()
    except OSError:
        return doc.text  # the file was deleted since: its citations stay checkable
    return doc.text if hashlib.sha256(data).hexdigest() == doc.sha256 else None


def _extracted_text(root: Path, source: str) -> tuple[str | None, str | None]:
    """The canonical text of a source the index does not hold, read from its file as the indexer would:
    the file is the longest leading part of `source` that is a file ("mail.eml/report.pdf" is an
    attachment of mail.eml, "feed.xml#2" an entry of feed.xml)."""
    parts = PurePosixPath(source.split("#", 1)[0]).parts
    for n in range(len(parts), 0, -1):
        path = root.joinpath(*parts[:n])
        if path.is_file():
            break
    else:
        return None, f"source file {source!r} not found in the corpus directory"
    try:
        items = formats.extract(path.read_bytes(), path.relative_to(root).as_posix())
    except (OSError, formats.UnreadableFile) as exc:
        return None, f"source file {source!r} cannot be read ({exc})"
    text = next((item.text for item in items if item.source == source), None)
    return (text, None) if text is not None else (None, f"source {source!r} not found in its file")


def _unsupported_reason(check: CitationCheck, question: Question, abstained: bool) -> str | None:
    if abstained:
        return "does not support anything: the answer abstained"
    if question.lists_source(check.source) or question.matching_pattern(check.quote or ""):
        return None
    return "does not support the answer: its quote matches no answer pattern and its source is not listed"
