"""The records of an evaluation: questions, citation and span checks, per-question records, totals and the report."""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

SHOWN_CHARS = 300  # of a quote or a span, in reasons and in the report
ANSWER_CHARS = 800
# Metrics for which lower is better: a --fail-under value is a ceiling for these.
LOWER_IS_BETTER = frozenset({"false_abstention_rate", "latency_p50_ms", "latency_p95_ms"})


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
                compile_pattern(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _answerable_has_patterns(self) -> Question:
        if self.answerable and not self.answer_patterns:
            raise ValueError("an answerable question needs at least one answer pattern")
        return self

    def matching_pattern(self, text: str) -> str | None:
        return next((p for p in self.answer_patterns if compile_pattern(p).search(text)), None)

    def lists_source(self, source: str | None) -> bool:
        return source is not None and norm_source(source) in {norm_source(s) for s in self.sources}


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


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def norm_source(source: str) -> str:
    return posixpath.normpath(source)


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt(value: float | None, spec: str = ".3f") -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else format(value, spec)
