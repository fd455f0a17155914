"""Evaluation: answers scored against a question set, every citation checked against its source's
canonical text (`briefing eval`)."""

from .checks import Corpus, score
from .loading import load_answers, load_questions
from .records import Question, Record, Report, Totals, UsageError
from .report import format_report, run_cli
from .runs import (
    build_report,
    evaluate,
    evaluate_answers,
    fractions,
    metric_names,
    missed_floors,
    parse_floors,
    totals,
)

__all__ = [
    "Corpus",
    "Question",
    "Record",
    "Report",
    "Totals",
    "UsageError",
    "build_report",
    "evaluate",
    "evaluate_answers",
    "format_report",
    "fractions",
    "load_answers",
    "load_questions",
    "metric_names",
    "missed_floors",
    "parse_floors",
    "run_cli",
    "score",
    "totals",
]
