"""A question read for searching: its language, its Spanish rendering (English questions), the kind of
fact it asks for, its index terms and the names it asks about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import cues
from ..stores.base import LexicalIndex
from ..text.analysis import analyze
from ..text.language import detect
from ..text.translate import Translator

_NAME = re.compile(r"(?<=[^\s¿¡\"“(])\s+([A-ZÁÉÍÓÚÑ][\wáéíóúñü]+)")  # capitalised, not sentence-initial
MIN_LETTERS = 2  # a term with fewer letters ("1", "x2") says nothing about whether the articles know it


@dataclass
class Query:
    text: str
    language: str
    translation: str | None = None
    qtype: cues.QuestionType | None = None  # the kind of fact asked for (assistant/cues)
    terms: list[str] = field(default_factory=list)  # analyzed terms of text and translation
    content_terms: set[str] = field(default_factory=set)  # what an answer's passage should contain
    asked: set[str] = field(default_factory=set)  # folded words of text and translation (assistant/cues)
    names: list[str] = field(default_factory=list)  # capitalised words asked about
    unknown_names: list[str] = field(default_factory=list)  # of them, those no article mentions
    known_terms: bool = True  # some content word of the question occurs in the articles

    @property
    def variants(self) -> list[str]:
        return [self.text] + ([self.translation] if self.translation else [])

    @property
    def kind(self) -> str | None:
        return self.qtype.kind if self.qtype else None

    @property
    def unknown_share(self) -> float:
        return len(self.unknown_names) / len(self.names) if self.names else 0.0


class QueryReader:
    """Reads questions against one lexical index (which words the articles hold)."""

    def __init__(self, lexical: LexicalIndex, translator: Translator | None) -> None:
        self.lexical, self.translator = lexical, translator

    def read(self, question: str) -> Query:
        language = detect(question)
        translation = None
        if self.translator and language == "en":  # names the articles hold stay as written
            translation = self.translator(question, keep=self._in_articles)
        query = Query(question, language, translation, cues.question_type(question, translation))
        query.terms = [t for v in query.variants for t in analyze(v)]
        # An English question's own words rarely occur in Spanish text: of them keep only those the
        # articles contain (names, numbers, quoted English); its translation carries the rest.
        own = analyze(question)
        if translation:
            own = [t for t in own if self.lexical.contains(t)] + analyze(translation)
        query.content_terms = set(own)
        query.asked = cues.asked_words(question, translation)
        # "?", "null", "%s%s%n {0}": no word the articles contain, nothing to look for.
        query.known_terms = any(
            self.lexical.contains(t) for t in query.terms if sum(c.isalpha() for c in t) >= MIN_LETTERS
        )
        query.names = _NAME.findall(question)
        query.unknown_names = [n for n in query.names if not self._known_name(n, language)]
        return query

    def _known_name(self, name: str, language: str) -> bool:
        """A name asked about that an article mentions, as written or, for an English question, as
        Apertium renders it (Canada → Canadá). Evidence for the decision (answering/abstention.py), not a
        veto: one word of a machine translation is weak evidence."""
        if self._mentioned(name):
            return True
        if language == "es" or self.translator is None:
            return False
        spanish = self.translator(name)
        return bool(spanish) and self._mentioned(spanish)

    def _in_articles(self, word: str) -> bool:
        terms = analyze(word)
        return bool(terms) and all(self.lexical.contains(t) for t in terms)

    def _mentioned(self, words: str) -> bool:
        terms = analyze(words)
        return not terms or all(self.lexical.contains(t) for t in terms)
