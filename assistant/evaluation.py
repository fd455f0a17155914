"""Scoring answers and their citations against a question set (the answer contract in DESIGN.md).

Every citation is checked against its source's canonical text (DESIGN.md): its quote must equal the text
at ``start:end``. The canonical text is the one stored with the index (what the assistant read; nothing
is extracted again), else, for a source the index does not hold, the file read afresh the same way.
Rates whose denominator is empty are ``None`` ("n/a").
"""

from __future__ import annotations

import hashlib
import json
import math
import posixpath
import re
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from assistant import formats
from assistant.answer import Answer
from assistant.chunkstore import FILE_NAME, ChunkStore

_MARKER = re.compile(r"\[(\d+)\]")
_SHOWN_CHARS = 300  # of a quote or a span, in reasons and in the report
_ANSWER_CHARS = 800
# Metrics for which lower is better: a --fail-under value is a ceiling for these.
LOWER_IS_BETTER = frozenset({"false_abstention_rate", "latency_p50_ms", "latency_p95_ms"})


# --- models -----------------------------------------------------------------------------------------


class Question(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    id: str = Field(min_length=1)
    lang: str
    question: str = Field(min_length=1)
    answer_patterns: list[str] = Field(description="Case-insensitive regexes; one match = right answer")
    sources: list[str] = Field(description="Files, relative to the corpus dir, that support the answer")
    answerable: bool

    @field_validator("answer_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                _compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _answerable_has_patterns(self) -> Question:
        if self.answerable and not self.answer_patterns:
            raise ValueError("an answerable question needs at least one answer pattern")
        return self

    def matching_pattern(self, text: str) -> str | None:
        return next((p for p in self.answer_patterns if _compile(p).search(text)), None)

    def lists_source(self, source: str | None) -> bool:
        return source is not None and _norm(source) in {_norm(s) for s in self.sources}


class CitationCheck(BaseModel):
    n: int | None = None
    source: str | None = None
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    valid: bool = False
    supporting: bool = False
    reason: str | None = Field(None, description="Why the citation is invalid or does not support")


class SpanCheck(CitationCheck):
    """A span an answer carries besides its citations: an `also_in` entry or the `short_answer`."""

    of: str = Field(description="'also_in #k of [n]' or 'short_answer'")


class Record(BaseModel):
    id: str
    question: str
    lang: str
    answerable: bool
    answer: dict[str, Any] | None = Field(description="The full answer JSON, None when none was given")
    abstained: bool
    answer_correct: bool
    abstention_correct: bool
    right_source: bool = Field(description="A supporting citation from a listed source")
    citations: list[CitationCheck] = Field(default_factory=list)
    spans: list[SpanCheck] = Field(default_factory=list, description="also_in entries and the short answer")
    reasons: list[str] = Field(default_factory=list)
    latency_ms: float | None = None

    @computed_field
    @property
    def missed(self) -> bool:
        return not self.answer_correct or bool(self.reasons)


class Totals(BaseModel):
    questions: int
    answerable: int
    unanswerable: int
    citations: int
    answer_accuracy: float | None
    citation_validity: float | None = Field(description="valid / all citations")
    citation_precision: float | None = Field(description="supporting / all citations")
    span_validity: float | None = Field(
        None,
        description="valid also_in entries and short answers / all of them (each quote == text[start:end])",
    )
    citation_recall: float | None = Field(description="answerable with a supporting citation / answerable")
    source_recall: float | None = Field(description="answerable with the right source / answerable")
    abstention_accuracy: float | None = Field(description="abstained / unanswerable")
    false_abstention_rate: float | None = Field(description="abstained / answerable")
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class Report(BaseModel):
    totals: Totals
    records: list[Record]
    warnings: list[str] = Field(default_factory=list)


class UsageError(Exception):
    """A problem with the CLI's inputs; run_cli turns it into exit code 2."""


# --- loading ----------------------------------------------------------------------------------------


def load_questions(path: Path) -> tuple[list[Question], list[str]]:
    """Questions from a JSON Lines file, and a line-numbered error for each malformed line."""
    questions: list[Question] = []
    errors: list[str] = []
    first_line: dict[str, int] = {}
    for number, obj in _json_objects(path, errors):
        try:
            question = Question.model_validate(obj)
        except ValidationError as exc:
            errors.append(f"line {number}: {_validation_summary(exc)}")
            continue
        if question.id in first_line:
            errors.append(
                f"line {number}: duplicate id {question.id!r} (first on line {first_line[question.id]})"
            )
            continue
        first_line[question.id] = number
        questions.append(question)
    return questions, errors


def load_answers(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Contract answers from a JSON Lines file, and a line-numbered error for each malformed line."""
    answers: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, obj in _json_objects(path, errors):
        if not isinstance(obj.get("question"), str) and not isinstance(obj.get("id"), str):
            errors.append(f"line {number}: no 'question' or 'id' to match it to a question")
            continue
        answers.append(obj)
    return answers, errors


def _json_objects(path: Path, errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSON object line; other non-blank lines add an error, in line order."""
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: bad JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {number}: not a JSON object")
            continue
        yield number, obj


def _validation_summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


# --- scoring one answer -----------------------------------------------------------------------------


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


def _unanswered(question: Question, reason: str) -> Record:
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
        problems.append(f"answer does not follow the contract: {_validation_summary(exc)}")
    numbers = [c.n for c in checks if c.n is not None]
    markers = {int(m) for m in _MARKER.findall(text)}
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
        f"citation {_label(c, i)} is invalid: {c.reason}" for i, c in enumerate(checks) if not c.valid
    ]
    if abstained or not question.answerable:
        return problems  # the answer-level reason already says what is wrong
    problems += [
        f"citation {_label(c, i)} {c.reason}" for i, c in enumerate(checks) if c.valid and not c.supporting
    ]
    if not any(c.supporting for c in checks):
        problems.append("no supporting citation")
    elif not right_source:
        problems.append(f"no supporting citation from a listed source ({', '.join(question.sources)})")
    return problems


def _label(check: CitationCheck, index: int) -> str:
    return f"[{check.n}]" if check.n is not None else f"#{index + 1}"


# --- checking one citation --------------------------------------------------------------------------


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
        n=_int(raw.get("n")),
        source=_str(raw.get("source")),
        start=_int(raw.get("start")),
        end=_int(raw.get("end")),
        quote=_str(raw.get("quote")),
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
    return f"quote differs from text[{start}:{end}] = {_short(actual)!r}{hint}"


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
    if short is not None:
        check = _check_span(short, "text", "short_answer", corpus_dir, texts)
        if check.valid and not _inside_citation(short, raw_citations):
            check = check.model_copy(
                update={"valid": False, "reason": "it lies in no quote of the citation it names (n)"}
            )
        found.append(check)
    return found


def _check_span(
    raw: Any, field: str, of: str, corpus_dir: Path | Corpus, texts: dict[str, tuple[str | None, str | None]]
) -> SpanCheck:
    if not isinstance(raw, dict):
        return SpanCheck(of=of, reason="not a JSON object")
    check = SpanCheck(
        of=of,
        source=_str(raw.get("source")),
        start=_int(raw.get("start")),
        end=_int(raw.get("end")),
        quote=_str(raw.get(field)),
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
            start, end = _int(raw.get("start")), _int(raw.get("end"))
            return start is not None and end is not None and start <= short["start"] and short["end"] <= end
    return False


@dataclass(frozen=True)
class Corpus:
    """Where citations are checked: the corpus folder, and the index holding its canonical texts."""

    dir: Path
    index_dir: Path | None = None


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
    stored = _indexed_text(corpus, root, source) if corpus.index_dir else None
    return (stored, None) if stored is not None else _extracted_text(root, source)


def _indexed_text(corpus: Corpus, root: Path, source: str) -> str | None:
    """The canonical text the index holds for source, if it was read from the file now in the corpus
    folder (same checksum) or that file is gone; None otherwise (another corpus, a changed file)."""
    if corpus.index_dir is None or not (corpus.index_dir / FILE_NAME).is_file():
        return None
    doc = _store(corpus.index_dir).document(source)
    if doc is None:
        return None
    try:
        data = (root / doc.path).read_bytes()
    except OSError:
        return doc.text  # the file was deleted since: its citations stay checkable
    return doc.text if hashlib.sha256(data).hexdigest() == doc.sha256 else None


@lru_cache(maxsize=4)
def _store(index_dir: Path) -> ChunkStore:
    return ChunkStore(index_dir)


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


# --- whole runs -------------------------------------------------------------------------------------


def evaluate(
    assistant: Any, questions: Sequence[Question], corpus_dir: Path | Corpus | None = None
) -> Report:
    """Ask `assistant` every question (timing each `ask`) and score the answers."""
    settings = assistant.settings
    index_dir = getattr(settings, "index_dir", None)
    corpus = corpus_dir or Corpus(Path(settings.corpus_dir), Path(index_dir) if index_dir else None)
    records = []
    for question in questions:
        started = time.perf_counter()
        try:
            answer = assistant.ask(question.question)
        except Exception as exc:
            records.append(_unanswered(question, f"assistant.ask raised {type(exc).__name__}: {exc}"))
            continue
        latency_ms = (time.perf_counter() - started) * 1000
        records.append(score(question, answer, corpus, latency_ms))
    return build_report(records)


def evaluate_answers(
    answers: list[dict[str, Any]], questions: Sequence[Question], corpus_dir: Path | Corpus
) -> Report:
    """Score answers produced elsewhere, matched to questions by `id` when present, else by question text."""
    by_id, by_text, warnings = _index_answers(answers, questions)
    records = []
    for question in questions:
        answer = by_id.get(question.id)
        answer = answer if answer is not None else by_text.get(question.question)
        records.append(
            score(question, answer, corpus_dir)
            if answer is not None
            else _unanswered(question, "no answer given")
        )
    return build_report(records, warnings)


def _index_answers(
    answers: list[dict[str, Any]], questions: Sequence[Question]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    ids = {q.id for q in questions}
    texts = {q.question for q in questions}
    by_id: dict[str, dict[str, Any]] = {}
    by_text: dict[str, dict[str, Any]] = {}
    warnings = []
    for number, answer in enumerate(answers, start=1):
        key_id, key_text = answer.get("id"), answer.get("question")
        if isinstance(key_id, str) and key_id in ids:
            table, key = by_id, key_id
        elif isinstance(key_text, str) and key_text in texts:
            table, key = by_text, key_text
        else:
            warnings.append(f"answer #{number} matches no question: {_short(str(key_id or key_text))!r}")
            continue
        if key in table:
            warnings.append(f"answer #{number}: another answer for {_short(key)!r} came first and is scored")
            continue
        table[key] = answer
    return by_id, by_text, warnings


def build_report(records: list[Record], warnings: list[str] | None = None) -> Report:
    return Report(totals=totals(records), records=records, warnings=list(warnings or []))


def totals(records: list[Record]) -> Totals:
    latencies = sorted(r.latency_ms for r in records if r.latency_ms is not None)
    rates = {name: (hits / total if total else None) for name, (hits, total) in fractions(records).items()}
    return Totals(
        questions=len(records),
        answerable=sum(r.answerable for r in records),
        unanswerable=sum(not r.answerable for r in records),
        citations=sum(len(r.citations) for r in records),
        **rates,
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
    )


def fractions(records: list[Record]) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of every rate in Totals."""
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    citations = [c for r in records for c in r.citations]
    spans = [c for r in records for c in r.spans]
    return {
        "answer_accuracy": (sum(r.answer_correct for r in records), len(records)),
        "citation_validity": (sum(c.valid for c in citations), len(citations)),
        "citation_precision": (sum(c.supporting for c in citations), len(citations)),
        "span_validity": (sum(c.valid for c in spans), len(spans)),
        "citation_recall": (sum(any(c.supporting for c in r.citations) for r in answerable), len(answerable)),
        "source_recall": (sum(r.right_source for r in answerable), len(answerable)),
        "abstention_accuracy": (sum(r.abstained for r in unanswerable), len(unanswerable)),
        "false_abstention_rate": (sum(r.abstained for r in answerable), len(answerable)),
    }


def _percentile(ordered: list[float], percent: float) -> float | None:
    """Linearly interpolated percentile of an ascending list (numpy's default method)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- floors -----------------------------------------------------------------------------------------


def metric_names() -> list[str]:
    return list(Totals.model_fields)


def parse_floors(specs: list[str]) -> dict[str, float]:
    """`METRIC=VALUE` specs as {metric: value}; ValueError names the known metrics on an unknown one."""
    floors = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise ValueError(f"{spec!r}: expected METRIC=VALUE")
        if name not in Totals.model_fields:
            raise ValueError(f"unknown metric {name!r}; known metrics: {', '.join(metric_names())}")
        try:
            floors[name] = float(value)
        except ValueError:
            raise ValueError(f"{spec!r}: {value.strip()!r} is not a number") from None
        if not math.isfinite(floors[name]):
            raise ValueError(f"{spec!r}: the value must be a finite number")
    return floors


def missed_floors(report: Report, floors: dict[str, float]) -> list[str]:
    """One line per missed floor; an n/a metric misses its floor. LOWER_IS_BETTER metrics are ceilings."""
    missed = []
    for name, limit in floors.items():
        value = getattr(report.totals, name)
        if value is None:
            missed.append(f"{name} is n/a (limit {limit:g})")
        elif name in LOWER_IS_BETTER and value > limit:
            missed.append(f"{name} {_fmt(value)} is above the ceiling {limit:g}")
        elif name not in LOWER_IS_BETTER and value < limit:
            missed.append(f"{name} {_fmt(value)} is below the floor {limit:g}")
    return missed


# --- text report ------------------------------------------------------------------------------------


def format_report(report: Report) -> str:
    """Totals as a table, then every missed question with why, its answer and its citations."""
    t = report.totals
    counts = f"{t.answerable} answerable, {t.unanswerable} unanswerable"
    lines = [
        f"{t.questions} questions ({counts}), {t.citations} citations",
        "",
        *_totals_table(report),
    ]
    missed = [r for r in report.records if r.missed]
    lines += ["", f"Missed questions: {len(missed)} of {t.questions}"]
    for record in missed:
        lines += ["", *_record_lines(record)]
    if report.warnings:
        lines += ["", "Warnings:", *(f"  - {w}" for w in report.warnings)]
    return "\n".join(lines)


def _totals_table(report: Report) -> list[str]:
    counts = fractions(report.records)
    lines = [f"{'metric':<24}{'value':>9}  count"]
    for name in metric_names():
        value = getattr(report.totals, name)
        if name in counts:
            hits, total = counts[name]
            note = f"{hits}/{total}" + ("  (lower is better)" if name in LOWER_IS_BETTER else "")
            lines.append(f"{name:<24}{_fmt(value):>9}  {note}")
        elif name.startswith("latency"):
            lines.append(f"{name:<24}{_fmt(value, '.1f'):>9}")
    return lines


def _record_lines(record: Record) -> list[str]:
    lines = [f"{record.id} [{record.lang}] {record.question}", "  why:"]
    lines += [f"    - {reason}" for reason in record.reasons or ["wrong answer"]]
    if record.answer is None:
        return lines + ["  answer: (none)"]
    text = record.answer.get("answer")
    state = "abstained" if record.abstained else "answered"
    lines.append(f"  answer ({state}):")
    lines.append(textwrap.indent(_short(str(text), _ANSWER_CHARS), "    "))
    if record.citations:
        lines.append("  citations:")
    for index, check in enumerate(record.citations):
        status = "supporting" if check.supporting else "valid, not supporting" if check.valid else "INVALID"
        lines.append(f"    {_label(check, index)} {check.source} {check.start}:{check.end}  {status}")
        if check.reason:
            lines.append(f"        {check.reason}")
        lines.append(f"        quote: {_short(str(check.quote))!r}")
    return lines


# --- CLI --------------------------------------------------------------------------------------------


def run_cli(
    questions_path: Path,
    *,
    assistant_factory: Callable[[], Any] | None,
    answers_path: Path | None,
    corpus_dir: Path | Corpus,
    out: Path | None,
    fail_under: list[str],
) -> int:
    """Evaluate, print the table, write JSON to `out`. Exit code: 2 bad input, 1 a floor missed, else 0."""
    try:
        floors = _cli_floors(fail_under)
        report = _cli_report(questions_path, assistant_factory, answers_path, corpus_dir)
        print(format_report(report))
        if out is not None:
            _write(out, report.model_dump_json(indent=2))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missed = missed_floors(report, floors)
    for line in missed:
        print(f"floor missed: {line}", file=sys.stderr)
    return 1 if missed else 0


def _cli_floors(specs: list[str]) -> dict[str, float]:
    try:
        return parse_floors(specs)
    except ValueError as exc:
        raise UsageError(f"--fail-under: {exc}") from None


def _cli_report(
    questions_path: Path,
    assistant_factory: Callable[[], Any] | None,
    answers_path: Path | None,
    corpus_dir: Path | Corpus,
) -> Report:
    questions = _load(load_questions, questions_path)
    if not questions:
        raise UsageError(f"{questions_path}: no valid question line")
    if answers_path is not None:
        return evaluate_answers(_load(load_answers, answers_path), questions, corpus_dir)
    if assistant_factory is None:
        raise UsageError("give an answers file or an assistant to ask")
    return evaluate(assistant_factory(), questions, corpus_dir)


def _load(loader: Callable[[Path], tuple[list[Any], list[str]]], path: Path) -> list[Any]:
    try:
        items, errors = loader(path)
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    return items


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- small helpers ----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _norm(source: str) -> str:
    return posixpath.normpath(source)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _short(text: str, limit: int = _SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: float | None, spec: str = ".3f") -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else format(value, spec)
