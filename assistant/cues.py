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
    # A capitalised word that does not start the sentence: a name, roughly.
    "person": re.compile(r"(?<=[^.!?¿¡\s]\s)[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+"),
}
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
)


def question_type(question: str) -> str | None:
    """'date', 'number' or 'person' when the question asks for one; else None."""
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def matches(kind: str | None, sentence: str) -> bool:
    """Whether the sentence contains the kind of word the question asks for (True when it asks none)."""
    return kind is None or bool(_SIGNS[kind].search(sentence))
