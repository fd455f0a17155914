"""The evaluation as a text table and as `briefing eval`: print, write JSON, exit 1 when a floor is missed
(2 on bad input)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .checks import Corpus, citation_label
from .loading import load_answers, load_questions
from .records import ANSWER_CHARS, LOWER_IS_BETTER, Record, Report, UsageError, fmt, shorten
from .runs import evaluate, evaluate_answers, fractions, metric_names, missed_floors, parse_floors


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
            lines.append(f"{name:<24}{fmt(value):>9}  {note}")
        elif name.startswith("latency"):
            lines.append(f"{name:<24}{fmt(value, '.1f'):>9}")
    return lines


def _record_lines(record: Record) -> list[str]:
    lines = [f"{record.id} [{record.lang}] {record.question}", "  why:"]
    lines += [f"    - {reason}" for reason in record.reasons or ["wrong answer"]]
    if record.answer is None:
        return lines + ["  answer: (none)"]
    text = record.answer.get("answer")
    state = "abstained" if record.abstained else "answered"
    lines.append(f"  answer ({state}):")
    lines.append(textwrap.indent(shorten(str(text), ANSWER_CHARS), "    "))
    if record.citations:
        lines.append("  citations:")
    for index, check in enumerate(record.citations):
        status = "supporting" if check.supporting else "valid, not supporting" if check.valid else "INVALID"
        lines.append(f"    {citation_label(check, index)} {check.source} {check.start}:{check.end}  {status}")
        if check.reason:
            lines.append(f"        {check.reason}")
        lines.append(f"        quote: {shorten(str(check.quote))!r}")
    return lines


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
