"""Loading question and answer files (JSON Lines), with a line-numbered error for each bad line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from .records import Question


def load_questions(path: Path) -> tuple[list[Question], list[str]]:
    """Questions from a JSON Lines file, and a line-numbered error for each malformed line."""
    questions: list[Question] = []
    errors: list[str] = []
    first_line: dict[str, int] = {}
    for number, obj in _json_objects(path, errors):
        try:
            question = Question.model_validate(obj)
        except ValidationError as exc:
            errors.append(f"line {number}: {validation_summary(exc)}")
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


def validation_summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)
