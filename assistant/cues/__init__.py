"""Answer cues: the kind of fact a question asks for (`question`) and where a sentence states one
(`spans`), from word lists and patterns in English and Spanish (`vocabulary`). Retrieval scores sentences
with them and answering picks the short answer with them, so they stand apart, before both."""

from .question import QuestionType, asked_words, question_type
from .spans import anchors, answer_spans, date_spans, distance, is_heading, is_person, number_spans

__all__ = [
    "QuestionType",
    "anchors",
    "answer_spans",
    "asked_words",
    "date_spans",
    "distance",
    "is_heading",
    "is_person",
    "number_spans",
    "question_type",
]
