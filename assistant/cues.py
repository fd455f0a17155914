"""Question-type cues: what kind of words an answer to "when", "how many" or "who" must contain."""

from __future__ import annotations

import re

_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|"
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_WEEKDAYS = "lunes|martes|miércoles|jueves|viernes|sábado|domingo|monday|tuesday|wednesday|thursday|friday"
_NUMBER_WORDS = (
    "uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|veinte|treinta|cien|ciento|mil|"
    "millón|millones|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
    "million|millions"
)
_SIGNS = {
    "date": re.compile(
        rf"\b(?:\d{{1,4}}|{_MONTHS}|{_WEEKDAYS}|siglo|century|década|decade|año|year)\b", re.I
    ),
    "number": re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I),
}
# A capitalised word that does not start the sentence: a name, roughly (of a person or a place).
_NAME = re.compile(r"(?<=[^.!?¿¡\s]\s)[A-ZÁÉÍÓÚÑ][\wáéíóúñü]+")
_QUESTION_TYPES = (
    (
        "date",
        re.compile(
            r"\b(?:when|what (?:year|date|day|month)|cu[aá]ndo|en qu[eé] (?:a[nñ]o|fecha|d[ií]a|mes)|"
            r"qu[eé] (?:a[nñ]o|fecha|d[ií]a))\b",
            re.I,
        ),
    ),
    (
        "number",
        re.compile(
            r"\b(?:how (?:many|much)|cu[aá]nt[oa]s?|what (?:percentage|number)|"
            r"qu[eé] (?:porcentaje|n[uú]mero|cantidad))\b",
            re.I,
        ),
    ),
    ("person", re.compile(r"\b(?:who|whom|whose|qui[eé]n(?:es)?)\b", re.I)),
    (
        "place",
        re.compile(
            r"\b(?:where|d[oó]nde|ad[oó]nde|en qu[eé] (?:lugar|ciudad|pa[ií]s)|"
            r"in what (?:place|city|country))\b",
            re.I,
        ),
    ),
)


def question_type(question: str) -> str | None:
    """'date', 'number', 'person' or 'place' when the question asks for one; else None."""
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def matches(kind: str | None, sentence: str, question: str = "") -> bool:
    """Whether the sentence contains the kind of word the question asks for (True when it asks none).
    A person or a place must be a name the question does not already contain."""
    if kind is None:
        return True
    if kind in ("person", "place"):
        asked = {w.lower() for w in re.findall(r"\w+", question)}
        return any(name.lower() not in asked for name in _NAME.findall(sentence))
    return bool(_SIGNS[kind].search(sentence))


def is_heading(sentence: str) -> bool:
    """A line without final punctuation: a headline or subheading, which restates rather than answers."""
    return not re.search(r"[.!?…:;\"”»')\]]$", sentence)
