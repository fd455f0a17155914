"""Where a sentence states the kind of fact a question asks for (`question.question_type`).

`answer_spans` finds the phrases of that kind in a
sentence (character offsets), leaving out what the question already names: an answer to "who" must name
someone the question does not. Kinds:

| kind | asked by | a sentence must hold |
|---|---|---|
| `date` | when, cuándo, what year/month, en qué año/mes | a date, month, weekday, year, century, time of day |
| `day` | what (exact) day/date, qué día/fecha | a day of the month or a weekday (not just a month) |
| `time` | what time, a qué hora | a time of day |
| `number` | how many, cuántos/as, what number | a count: not a date, a share or an amount of money; the unit asked ("how many pounds") when it is a unit of measure, else no unit of measure |
| `quantity` | how much (without money), cuánto | a count, a percentage or an amount of money |
| `money` | how much money, cost, budget, cuánto dinero, presupuesto | an amount in a currency |
| `percent` | what percentage/share, qué porcentaje | a percentage |
| `place` | where, dónde, in what city/country | a place after the preposition the question implies (en / desde / por / hacia) |
| `person` | who, quién | who is …: a person's name; who did …: a name, an acronym or people ("los republicanos") |
| `organisation` | which agency/department, qué dependencia/agencia | an organisation's name or acronym |

Yes/no questions and the rest ("what did X say") have no type. Question words count only where they ask:
"What will the group focus on when it next meets?" is not a date question."""

from __future__ import annotations

import re

from ..text.folding import fold, folded_words
from .question import QuestionType
from .vocabulary import (
    ACRONYM,
    ACTORS,
    CAP,
    DATE_PARTS,
    DATELINE,
    FOLLOWING_WORD,
    ORG_WORDS,
    PARTICLES,
    PATTERNS,
    PLACE_NOUNS,
    PROPER,
    ROMAN,
    SENTENCE_START,
    STOPWORDS,
    UNITS,
)


def _spans(name: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in PATTERNS[name].finditer(text)]


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def date_spans(text: str, kind: str = "date") -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for part in DATE_PARTS[kind]:
        for span in _spans(part, text):
            if part == "year" and _counted(text, span):
                continue  # "1029 libras" is a count, not the year 1029
            if not _overlaps(span, found):
                found.append(span)
    return sorted(found)


def _counted(text: str, span: tuple[int, int]) -> bool:
    """A four-digit number that counts or measures something ("1029 libras", "1500 soldados"), not a year:
    followed by a unit of measure or by a plural noun."""
    after = FOLLOWING_WORD.match(text, span[1])
    if not after or PATTERNS["era"].match(text, span[0]):
        return False
    word = after.group(1)
    plural = word.islower() and word.endswith("s") and fold(word) not in STOPWORDS
    return plural or bool(re.fullmatch(UNITS, word, re.I))


def number_spans(text: str, counted: str | None = None) -> list[tuple[int, int]]:
    """Counts: numbers that are not part of a date, a percentage, an amount of money or a time, with the
    noun they count. `counted`: the noun asked about ("how many pounds"); when it is a unit of measure only
    numbers of that unit count, otherwise numbers of a unit of measure do not."""
    taken = date_spans(text) + _spans("percent", text) + _spans("money", text)
    unit = counted if counted and re.fullmatch(UNITS, counted, re.I) else None
    found = []
    for start, end in _spans("number", text):
        if _overlaps((start, end), taken):
            continue
        after = FOLLOWING_WORD.match(text, end)
        noun = after.group(1) if after else ""
        is_unit = bool(noun) and bool(re.fullmatch(UNITS, noun, re.I))
        if unit and not is_unit:
            continue
        if not unit and is_unit:
            continue
        if after and noun and fold(noun) not in STOPWORDS:
            end = after.end()  # "1029 libras", "cinco días": the number with what it counts
        found.append((start, end))
    return found


def _proper_names(text: str, skip_start: bool = True) -> list[tuple[int, int]]:
    """Capitalised phrases ("Juan Ramón de la Fuente", "Oficina de Asuntos …", "CBP"); a single word
    starting the sentence is not taken for a name."""
    first = SENTENCE_START.match(text)
    start_at = first.end() if first else 0
    found = []
    for m in PROPER.finditer(text):
        start, end = m.span()
        words = m.group().split()
        while words and fold(words[0].rstrip(".")) in STOPWORDS:  # "El Secretario …", "La Oficina …"
            start += len(words[0]) + 1
            words = words[1:]
        while words and re.fullmatch(PARTICLES, fold(words[-1])):
            words = words[:-1]
        if not words:
            continue
        end = start + len(" ".join(words))
        end = start + len(text[start:end].rstrip(".")) if not ACRONYM.search(words[-1]) else end
        if skip_start and start == start_at and len(words) == 1 and not ACRONYM.fullmatch(words[0]):
            continue
        if len(words) == 1 and ROMAN.match(words[0]):
            continue
        found.append((start, end))
    return found


def _new(text: str, span: tuple[int, int], asked: set[str]) -> bool:
    """The phrase holds a word the question does not (articles and particles aside)."""
    words = folded_words(text[span[0] : span[1]]) - STOPWORDS
    return bool(words - asked)


def person_spans(text: str, asked: set[str], identity: bool) -> list[tuple[int, int]]:
    """Who is …: a person's name (two capitalised words, or one after a title: "el portavoz Pigott") that
    is not an institution or a place. Who did …: also organisations, acronyms and people (actor nouns)."""
    found = []
    for span in _proper_names(text, skip_start=identity):
        if not _new(text, span, asked):
            continue
        words = [fold(w.rstrip(".")) for w in text[span[0] : span[1]].split()]
        capitals = [w for w in words if not re.fullmatch(PARTICLES, w)]
        institution = any(w in ORG_WORDS for w in capitals)
        if not identity:
            found.append(span)
        elif not institution:
            found.append(span)
    if not identity:
        for m in re.finditer(rf"\b(?:{ACTORS})\b", text, re.I):
            if fold(m.group()) not in asked and not _overlaps(m.span(), found):
                found.append(m.span())
    return sorted(found)


def organisation_spans(text: str, asked: set[str]) -> list[tuple[int, int]]:
    found = [s for s in _proper_names(text) if _new(text, s, asked)]
    for m in ACRONYM.finditer(text):
        if fold(m.group()) not in asked and not ROMAN.match(m.group()) and not _overlaps(m.span(), found):
            found.append(m.span())
    return sorted(found)


_PLACE_PREPOSITIONS = {
    "en": r"en|in|at|dentro\s+de|cerca\s+de|near|inside|desde|hacia|hasta|from|to|into|"
    r"a\s+trav[eé]s\s+de|through|across",
    "desde": r"desde|from",
    "de": r"desde|de|del|from",
    "por": r"a\s+trav[eé]s\s+de|por|v[ií]a|through|via|across",
    "hacia": r"hacia|a|al|hasta|to|towards?|into",
}
_AFTER_PREPOSITION = re.compile(
    r"(?i:\b(?:en|a|al|de|del|desde|hacia|hasta|con|entre|por|para|contra|sobre|in|at|to|from|with|"
    r"between|into|toward|towards|against|near|across)\s+(?:(?:el|la|los|las|the)\s+)?)$"
)
_DETERMINER = (
    r"(?:(?:el|la|los|las|un|una|su|sus|este|esta|estos|estas|otros|otras|algunos|algunas|varios|varias|"
    r"muchos|muchas|todo|toda|todos|todas|this|the|a|an|its|their|other|some|several|many)\s+)?"
)


def place_spans(text: str, asked: set[str], relation: str = "en") -> list[tuple[int, int]]:
    """A place introduced the way the question asks for it: "en Washington", "a través de los puertos de
    entrada", "en la frontera suroeste". A dateline is where the report was filed and does not count."""
    dateline = DATELINE.match(text)
    offset = dateline.end() if dateline else 0
    if relation == "name":
        return [
            span
            for span in _proper_names(text)
            if span[0] >= offset
            and _AFTER_PREPOSITION.search(text, 0, span[0])
            and _new(text, span, asked)
            and not folded_words(text[span[0] : span[1]]) & (ORG_WORDS - {"ciudad", "estados", "unidos"})
        ]
    prepositions = _PLACE_PREPOSITIONS.get(relation, _PLACE_PREPOSITIONS["en"])
    pattern = re.compile(  # case matters for names only
        rf"(?i:\b(?:{prepositions})\s+{_DETERMINER})"
        rf"((?:{CAP}(?:\s+(?:{PARTICLES}\s+)?{CAP})*)|"
        rf"(?i:(?:{PLACE_NOUNS})\b(?:\s+(?:de|del|of)\s+(?:la\s+|los\s+|las\s+|el\s+|the\s+)?)?[\wáéíóúñü.]*)(?:\s+{CAP})*)"
    )
    found = []
    for m in pattern.finditer(text, offset):
        start, end = m.span(1)
        phrase = m.group(1)
        first = phrase.split()[0] if phrase.split() else ""
        capitalised = first[:1].isupper()
        is_place_noun = bool(re.match(rf"(?:{PLACE_NOUNS})\b", phrase, re.I))
        if not capitalised and not is_place_noun:
            continue
        if capitalised and not is_place_noun and fold(first) in ORG_WORDS - {"ciudad", "estados", "unidos"}:
            continue  # "en la Oficina de …" is an institution, seldom the place asked for
        span = (start, start + len(phrase.rstrip(" .,")))
        if _new(text, span, asked):
            found.append(span)
    return found


# How far (in words) a date, number or place may sit from the nearest word of the question: "en la
# frontera" thirty words after "reunión" says where the traffic is, not where the meeting will be.
NEAR_WORDS = 16
_UNANCHORED = frozenset({"person", "organisation"})  # "X, who …, said": names sit far from the verb
_QUESTION_WORDS = frozenset(
    fold(w)
    for w in (
        "what which when where who whom whose why how many much does did is are was were will would "
        "qué cuál cuáles cuándo cuánto cuánta cuántos cuántas dónde adónde quién quiénes cómo"
    ).split()
)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), fold(m.group())) for m in re.finditer(r"[^\W_]+", text)]


STEM_PREFIX = 5  # letters two forms of a word share: "reunión"/"reunirá", "anunció"/"anuncio"
MIN_CONTENT_LETTERS = 3  # shorter words are particles ("de", "la", "el")


def _prefix(word: str) -> str:
    return word if word.isdigit() else word[:STEM_PREFIX]


def anchors(text: str, asked: set[str]) -> list[int]:
    """Positions (word indices) of the sentence's words that the question also uses (same first five
    letters: "reunión"/"reunirá"), question words and stopwords aside."""
    keys = {_prefix(w) for w in asked if _content(w) and w not in _QUESTION_WORDS}
    return [i for i, (_, _, w) in enumerate(_tokens(text)) if _content(w) and _prefix(w) in keys]


def _content(word: str) -> bool:
    return word.isdigit() or (len(word) >= MIN_CONTENT_LETTERS and word not in STOPWORDS)


def distance(text: str, span: tuple[int, int], positions: list[int]) -> int | None:
    """Words between the span and the nearest anchor (0 inside it; None without anchors)."""
    tokens = _tokens(text)
    inside = [i for i, (s, e, _) in enumerate(tokens) if s < span[1] and span[0] < e]
    if not inside or not positions:
        return None
    return min(
        0 if inside[0] <= p <= inside[-1] else min(abs(p - inside[0]), abs(p - inside[-1])) for p in positions
    )


def answer_spans(
    qtype: QuestionType | None, sentence: str, asked: set[str] = frozenset(), near: bool = True
) -> list[tuple[int, int]]:
    """Where the sentence states the kind of fact asked for, near the words the question uses (`near`);
    `asked`: the question's words, folded (see `asked_words`)."""
    spans = _typed_spans(qtype, sentence, asked)
    if not spans or not near or not asked or qtype is None or qtype.kind in _UNANCHORED:
        return spans
    positions = anchors(sentence, asked)
    if not positions:
        return spans  # the sentence shares no word with the question: nearness cannot be judged
    kept = []
    for span in spans:
        d = distance(sentence, span, positions)
        if d is not None and d <= NEAR_WORDS:
            kept.append(span)
    return kept


def _typed_spans(qtype: QuestionType | None, sentence: str, asked: set[str]) -> list[tuple[int, int]]:
    if qtype is None:
        return []
    kind = qtype.kind
    if kind in DATE_PARTS:
        return date_spans(sentence, kind)
    if kind == "percent":
        return _spans("percent", sentence)
    if kind == "money":
        return _spans("money", sentence)
    if kind == "number":
        return number_spans(sentence, qtype.detail)
    if kind == "quantity":  # how much: a share, an amount, a count or a measure
        spans = _spans("percent", sentence) + _spans("money", sentence)
        counts = number_spans(sentence) + number_spans(sentence, "metros")
        return sorted(spans + [s for s in counts if not _overlaps(s, spans)])
    if kind == "place":
        return place_spans(sentence, asked, qtype.detail or "en")
    if kind == "person":
        return person_spans(sentence, asked, qtype.detail == "identity")
    if kind == "organisation":
        return organisation_spans(sentence, asked)
    return []


def is_heading(sentence: str) -> bool:
    """A line without final punctuation: a headline or subheading, which restates rather than answers."""
    return not re.search(r"[.!?…:;\"”»')\]]$", sentence)


def is_person(phrase: str) -> bool:
    """A phrase that names a person: capitalised words holding no institution word ("Marco Rubio", "Juan
    Ramón de la Fuente"; not "Cancillería", "CBP" or "los republicanos")."""
    words = [fold(w.rstrip(".,")) for w in phrase.split()]
    capitalised = [w for w in phrase.split() if w[:1].isupper()]
    if not capitalised or ACRONYM.fullmatch(phrase.strip()):
        return False
    return not any(w in _ORG_FOLDED for w in words) and len(capitalised) >= min(2, len(words))


_ORG_FOLDED = frozenset(fold(w) for w in ORG_WORDS)
