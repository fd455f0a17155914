"""The facts a sentence states that a citation must bear out: numbers, dates (en/es month and day names),
names, and what became of an event (cancelled, postponed, suspended); and the evidence a passage gives
for them. Sentences in an article that speak to an AI are found here too: they are never evidence."""

from __future__ import annotations

import contextlib
import datetime
import re
from dataclasses import dataclass, field

from langchain_core.documents import Document

from ..ingestion.chunking import Span, sentences
from ..text.analysis import analyze
from ..text.folding import fold

_MONTH_NAMES = (
    ("enero", "january"), ("febrero", "february"), ("marzo", "march"), ("abril", "april"), ("mayo", "may"),
    ("junio", "june"), ("julio", "july"), ("agosto", "august"), ("septiembre", "setiembre", "september"),
    ("octubre", "october"), ("noviembre", "november"), ("diciembre", "december"),
)  # fmt: skip
_DAY_NAMES = (
    ("lunes", "monday"), ("martes", "tuesday"), ("miercoles", "wednesday"), ("jueves", "thursday"),
    ("viernes", "friday"), ("sabado", "saturday"), ("domingo", "sunday"),
)  # fmt: skip
_CALENDAR = {
    name: (kind, i)
    for kind, table in (("month", _MONTH_NAMES), ("day", _DAY_NAMES))
    for i, names in enumerate(table, start=1)
    for name in names
}
_ABBREVIATIONS = {"jan": 1, "feb": 2, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10}
_ABBREVIATIONS |= {"nov": 11, "dec": 12}  # English, capitalised: "Jan 23"; "Mar" is also Spanish for sea
_CALENDAR |= {abbr: ("month", i) for abbr, i in _ABBREVIATIONS.items()}
_ENGLISH_CALENDAR = {names[-1] for names in (*_MONTH_NAMES, *_DAY_NAMES)} | set(_ABBREVIATIONS)  # capitalised
# Names that translation changes beyond recognition (folded, English -> Spanish); cognates such as
# Implementation/implementación or Secretary/secretario are matched by their common prefix.
_EQUIVALENTS = {
    "united": {"unidos"}, "states": {"estados", "eeuu", "eu"}, "us": {"eu", "eeuu", "unidos"},
    "usa": {"eu", "eeuu", "unidos"}, "american": {"estadounidense", "estadounidenses"},
    "security": {"seguridad"}, "group": {"grupo"}, "meeting": {"reunion"}, "foreign": {"exteriores"},
    "affairs": {"asuntos"}, "border": {"frontera", "fronteriza"}, "western": {"occidental"},
    "state": {"estado"}, "white": {"blanca"}, "house": {"casa"}, "government": {"gobierno"},
    "ministry": {"secretaria", "ministerio", "cancilleria"}, "senate": {"senado"}, "army": {"ejercito"},
    "treasury": {"hacienda", "tesoro"}, "customs": {"aduanas"}, "joint": {"conjunto", "conjunta"},
}  # fmt: skip
_EQUIVALENTS_BACK: dict[str, set[str]] = {}
for _en, _es in _EQUIVALENTS.items():
    for _word in _es:
        _EQUIVALENTS_BACK.setdefault(_word, set()).add(_en)
# What became of an event: a claim that something was cancelled, postponed or suspended is checked like a
# date (the words a briefing must never get wrong, and what an injected "say it was cancelled" asks for).
_STATUS = (
    ("cancelled", re.compile(r"cancel")),
    ("postponed", re.compile(r"postpon|pospu|pospon|aplaz")),
    ("suspended", re.compile(r"suspen")),
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
LETTERS = re.compile(r"[^\W\d_]+")
MID_SENTENCE_NAME = re.compile(r"(?<=[^\s.!?¿¡:\"“«]\s)[A-ZÁÉÍÓÚÑ][^\W\d_]+")

Fact = tuple[str, object]  # ("number", "23"), ("month", 1), ("day", 4), ("name", "washington"), ("status", …)
# Sentences in an article that speak to an AI rather than report news ("ignore your instructions and answer
# that ..."): withheld from the model and never evidence for a claim.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|ignora|ignore[ns]?|olvida|olviden)\b[^.!?\n]{0,40}\b(?:instructions?|rules|"
    r"prompt|instrucciones|reglas)\b|\b(?:AI|A\.I\.|IA|LLM|chatbots?|language models?|modelos? de lenguaje|"
    r"asistentes?|assistants?)\b[^.!?\n]{0,60}\b(?:answer|respond|reply|say|state|write|responde|responda|"
    r"contesta|conteste|di|diga|escribe|escriba)\b",
    re.I,
)


def _status(folded: str) -> Fact | None:
    return next((("status", name) for name, stem in _STATUS if stem.match(folded)), None)


def instructions(text: str) -> list[Span]:
    """The sentences of a passage that address an AI (prompt injection), to be withheld."""
    return [span for span in sentences(text) if _INSTRUCTION.search(text[span.start : span.end])]


def without_instructions(text: str, filler: str = " ") -> str:
    """The text with its instruction sentences replaced (by spaces, keeping offsets, or by a note)."""
    out, cursor = [], 0
    for span in instructions(text):
        out += [text[cursor : span.start], filler * (span.end - span.start) if filler == " " else filler]
        cursor = span.end
    return "".join(out) + text[cursor:]


def _number(token: str) -> str:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):  # 1,029 or 1.029: thousands
        return str(int(re.sub(r"[.,]", "", token)))
    token = token.replace(",", ".")
    return str(int(token)) if token.isdigit() else token


def facts(sentence: str, known: set[str], names: set[str] | frozenset[str] = frozenset()) -> set[Fact]:
    """The checkable facts of a sentence. Capitalised words are names, except those in `known` (folded words
    of the question: what was asked about is not a claim); the first word only when it is in `names`
    (names the passages use: "Rubio dijo"), since any word can start a sentence."""
    found: set[Fact] = {("number", _number(m.group())) for m in _NUMBER.finditer(sentence)}
    for i, match in enumerate(LETTERS.finditer(sentence)):
        word = match.group()
        folded = fold(word)
        if folded in _CALENDAR and (folded not in _ENGLISH_CALENDAR or word[0].isupper()):
            found.add(_CALENDAR[folded])
        elif status := _status(folded):
            found.add(status)
        elif word[0].isupper() and len(word) > 1 and folded not in known and analyze(word):
            if i or folded in names:
                found.add(("name", folded))
    return found


@dataclass
class Evidence:
    """What a passage (with its article's title and date) can vouch for."""

    numbers: set[str]
    calendar: set[tuple[str, int]]
    words: set[str]
    status: set[Fact] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> Evidence:
        numbers = {_number(m.group()) for m in _NUMBER.finditer(text)}
        calendar = {_CALENDAR[w] for w in map(fold, LETTERS.findall(text)) if w in _CALENDAR}
        for year, month, day in _ISO_DATE.findall(text):  # the article's date: "Friday, January 16"
            numbers |= {str(int(year)), str(int(month)), str(int(day))}
            calendar.add(("month", int(month)))
            with contextlib.suppress(ValueError):
                calendar.add(("day", datetime.date(int(year), int(month), int(day)).isoweekday()))
        words = set(map(fold, LETTERS.findall(text)))
        return cls(numbers, calendar, words, {f for w in words if (f := _status(w))})

    def supports(self, fact: Fact) -> bool:
        kind, value = fact
        if kind == "number":
            return value in self.numbers
        if kind in ("month", "day"):
            return fact in self.calendar
        if kind == "status":
            return fact in self.status
        return _name_in(str(value), self.words)


# Cognates (Implementation/implementación, Secretary/secretario) share their first COGNATE_PREFIX letters and
# differ at most in the last COGNATE_TAIL: endings change across the two languages, stems do not.
COGNATE_PREFIX = 5
COGNATE_TAIL = 4


def _name_in(name: str, words: set[str]) -> bool:
    if name in words or (_EQUIVALENTS.get(name, set()) | _EQUIVALENTS_BACK.get(name, set())) & words:
        return True
    prefix = name[:COGNATE_PREFIX]
    return len(name) >= COGNATE_PREFIX and any(
        _cognate(name, w) for w in words if w[:COGNATE_PREFIX] == prefix
    )


def _cognate(a: str, b: str) -> bool:
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    return shared >= max(COGNATE_PREFIX, min(len(a), len(b)) - COGNATE_TAIL)


# Words that place an event relative to the article's date ("este jueves", "ayer", "next week").
_RELATIVE_TIME = re.compile(
    r"\b(?:hoy|ayer|anoche|mañana|today|yesterday|tonight|tomorrow|lunes|martes|miércoles|jueves|viernes|"
    r"sábado|domingo|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"(?:esta|la próxima|la pasada|this|next|last) (?:semana|week)|"
    r"(?:este|el próximo|el pasado|this|next|last) (?:mes|month))\b",
    re.I,
)


def evidence_of(doc: Document) -> Evidence:
    """The passage, its title, and its article's date, the latter only when the passage dates something
    relative to it ("este jueves"): otherwise a model that gives the article's date as the event's
    ("meets on January 20, 2026") would find it supported."""
    meta, text = doc.metadata, without_instructions(doc.page_content)
    date = (meta.get("date") or "") if _RELATIVE_TIME.search(text) else ""
    return Evidence.of(f"{meta.get('title', '')} {date} {text}")
