"""What machine translation must not touch: names, acronyms, numbers, and the glossary's terms.

`protect(text, pair, keep)` returns the text with each such span replaced by a placeholder word that no
Apertium dictionary holds (Apertium passes unknown words through, in place), and a function that puts
the spans back into the translation: a name as written, a glossary term as the glossary renders it.

- Spanish text (answers rendered in English): capitalised phrases that name someone or something
  ("Marco Rubio", "Juan Ramón de la Fuente", "Washington") unless they hold an institution word, which
  translate well ("Estados Unidos", "Ciudad de México") or are in the glossary; a lone capitalised word
  starting a sentence only when the text also writes it capitalised mid-sentence.
- English text (questions searched in Spanish): capitalised words that the articles hold (`keep`), so
  "Trump" stays Trump and "Security Implementation Group" is still translated.
- Both: acronyms ("CBP"), numbers ("1.029", "85"), and the glossary (glossary.json, with its source)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .folding import fold

GLOSSARY_FILE = Path(__file__).with_name("glossary.json")
PLACEHOLDER = "Zxq"  # + letters: a capitalised word no dictionary holds, so Apertium treats it as a name
_PLACEHOLDER = re.compile(rf"\b{PLACEHOLDER}([a-z]+)\b", re.I)
_UPPER = "A-ZÁÉÍÓÚÑÜ"
_WORD = rf"[{_UPPER}][\wáéíóúñü'’-]*"
_PARTICLES = r"(?:de|del|de la|de las|de los|la)"  # "y" joins two names: "De la Fuente y Marco Rubio"
_CAPITALISED = re.compile(rf"{_WORD}(?:\s+(?:{_PARTICLES}\s+)?{_WORD})*")
_ACRONYM = re.compile(rf"\b[{_UPPER}]{{2,}}(?:\.[{_UPPER}]{{1,3}})*\.?(?![\w])")
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f]\d+)+")  # "1.029", "2,5": Apertium reads plain digits right
_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DATE = re.compile(rf"\b(?:(\d{{1,2}})\s+de\s+)?({'|'.join(_MONTHS)})(?:\s+(?:de|del)\s+(\d{{4}}))?\b", re.I)
_SENTENCE_START = re.compile(r"(?:^|[.!?¿¡:;\"“«(]\s*|\n)\s*$")
# Words that make a capitalised phrase an institution or a place that translates ("Estados Unidos" ->
# "United States"), folded. The rest of the capitalised phrases are names, kept.
_INSTITUTION_WORDS = frozenset(
    fold(w)
    for w in (
        "oficina departamento secretaría ministerio agencia gobierno comisión consejo congreso senado cámara "
        "tribunal corte banco universidad instituto partido grupo comité organización fundación asociación "
        "ejército fuerza fuerzas policía guardia embajada consulado reunión cumbre conferencia foro "
        "ministerial administración dirección servicio estados unidos naciones unidas república reino "
        "ciudad casa blanca frontera presidente presidenta secretario canciller"
    ).split()
)
_ARTICLES = frozenset(
    "el la los las un una lo".split()
)  # "La Oficina" starting a sentence: not part of a name
_ENGLISH_QUESTION_WORDS = frozenset(
    "what which when where who whom whose why how is are was were do does did will would can could has have "
    "had the a an in on at of for to by from with and or".split()
)


_ARTICLE_BEFORE = re.compile(rf"\b([Tt]he) ({PLACEHOLDER}([a-z]+))\b")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    out: str  # what the placeholder becomes in the translation


@lru_cache(maxsize=1)
def _glossary() -> dict[str, list[tuple[re.Pattern[str], str]]]:
    data = json.loads(GLOSSARY_FILE.read_text(encoding="utf-8"))
    found: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    for pair in ("spa-eng", "eng-spa"):
        entries = [(form, entry["render"]) for entry in data[pair] for form in entry["match"]]
        entries.sort(key=lambda e: -len(e[0]))  # longest first: "Cancillería mexicana" before "Cancillería"
        found[pair] = [(_term(form), render) for form, render in entries]
    return found


def _term(form: str) -> re.Pattern[str]:
    """A glossary form as a pattern: whole words, any case, accents optional (an acronym: its case)."""
    letters = [re.escape(c) if c.isascii() or not c.isalpha() else f"[{c}{fold(c)}]" for c in form]
    flags = 0 if form.isupper() else re.I
    return re.compile(r"(?<![\w])" + "".join(letters) + r"(?![\w])", flags)


def protect(
    text: str, pair: str, keep: Callable[[str], bool] | None = None
) -> tuple[str, Callable[[str], str]]:
    spans: list[_Span] = []
    for pattern, render in _glossary().get(pair, []):
        for m in pattern.finditer(text):
            _add(spans, _Span(m.start(), m.end(), render))
    if pair.startswith("spa"):
        for m in _DATE.finditer(text):  # "15 de enero de 2026" -> "15 January 2026", exactly
            if m.group(1) or m.group(3):
                _add(spans, _Span(m.start(), m.end(), _english_date(m)))
    names = _spanish_names(text) if pair.startswith("spa") else _english_names(text, keep)
    for start, end in names:
        _add(spans, _Span(start, end, text[start:end]))
    # Acronyms stay as written in Spanish text ("CBP"); in English, only those the articles hold (`keep`):
    # "US" or "EU" must still become "EE. UU." or "UE" to be found.
    for pattern in (_ACRONYM, _NUMBER) if pair.startswith("spa") else (_NUMBER,):
        for m in pattern.finditer(text):
            _add(spans, _Span(m.start(), m.end(), m.group()))
    spans.sort(key=lambda s: s.start)
    masked, outs, at = [], {}, 0
    for n, span in enumerate(spans):
        key = _key(n)
        masked += [text[at : span.start], PLACEHOLDER + key]
        outs[key] = span.out
        at = span.end
    masked.append(text[at:])

    def restore(translated: str) -> str:
        # "the Mexico's Foreign Ministry": a possessive rendering takes no article
        translated = _ARTICLE_BEFORE.sub(
            lambda m: m.group(2) if "'s " in outs.get(m.group(3).lower(), "") else m.group(), translated
        )
        translated = _PLACEHOLDER.sub(lambda m: outs.get(m.group(1).lower(), m.group()), translated)
        return re.sub(r"(?<=\S) {2,}", " ", translated)

    return "".join(masked), restore


def _add(spans: list[_Span], span: _Span) -> None:
    """Keep the first span claimed for any character (glossary terms come first)."""
    if not any(span.start < s.end and s.start < span.end for s in spans):
        spans.append(span)


def _key(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("a") + r) + letters
    return letters


def _english_date(m: re.Match[str]) -> str:
    day, month, year = m.group(1), _ENGLISH_MONTHS[_MONTHS.index(m.group(2).lower())], m.group(3)
    return " ".join(part for part in (day, month, year) if part)


def _spanish_names(text: str) -> list[tuple[int, int]]:
    found = []
    for m in _CAPITALISED.finditer(text):
        words = m.group().split()
        start = m.start()
        while words and fold(words[0]) in _ARTICLES:
            start += len(words[0]) + 1
            words = words[1:]
        if not words or any(fold(w) in _INSTITUTION_WORDS for w in words):
            continue
        end = start + len(" ".join(words))
        at_start = bool(_SENTENCE_START.search(text, 0, start))
        if at_start and len(words) == 1 and not _written_mid_sentence(text, words[0]):
            continue
        found.append((start, end))
    return found


def _written_mid_sentence(text: str, word: str) -> bool:
    return any(
        not _SENTENCE_START.search(text, 0, m.start())
        for m in re.finditer(rf"(?<![\w]){re.escape(word)}(?![\w])", text)
    )


def _english_names(text: str, keep: Callable[[str], bool] | None) -> list[tuple[int, int]]:
    if keep is None:
        return []
    return [
        m.span()
        for m in re.finditer(rf"(?<![\w]){_WORD}", text)
        if m.group().lower() not in _ENGLISH_QUESTION_WORDS and keep(m.group())
    ]
