"""Whole runs: asking an assistant every question (or scoring answers made elsewhere), the totals and
rates (None, "n/a", where the denominator is empty), and the floors `--fail-under` sets."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .checks import Corpus, score, unanswered
from .records import LOWER_IS_BETTER, Question, Record, Report, Totals, fmt, shorten


def evaluate(
    assistant: Any, questions: Sequence[Question], corpus_dir: Path | Corpus | None = None
) -> Report:
    """Ask `assistant` every question (timing each `ask`) and score the answers."""
    stores = getattr(assistant, "stores", None)
    corpus = corpus_dir or Corpus(
        Path(assistant.settings.corpus_dir), (lambda: stores.sources) if stores else None
    )
    records = []
    for question in questions:
        started = time.perf_counter()
        try:
            answer = assistant.ask(question.question)
        except Exception as exc:
            records.append(unanswered(question, f"assistant.ask raised {type(exc).__name__}: {exc}"))
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
            else unanswered(question, "no answer given")
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
            warnings.append(f"answer #{number} matches no question: {shorten(str(key_id or key_text))!r}")
            continue
        if key in table:
            warnings.append(f"answer #{number}: another answer for {shorten(key)!r} came first and is scored")
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
            missed.append(f"{name} {fmt(value)} is above the ceiling {limit:g}")
        elif name not in LOWER_IS_BETTER and value < limit:
            missed.append(f"{name} {fmt(value)} is below the floor {limit:g}")
    return missed
