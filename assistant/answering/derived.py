"""Answers derived from two cited facts: the days between two dated events, how long after one another
happened, which came first. Each event is asked about on its own ("When was A?"), answered and cited like
any question; the dates its quote gives are resolved against the article's date where they are relative
("el pasado domingo") or have no year; the result is computed and shown with its computation, as a
`short_answer` of kind "derived" that names the facts it rests on. Where either event is not answered,
or both quotes give the same date, there is no derived answer and the question is answered as usual."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..answer import Answer, Fact, ShortAnswer
from ..retrieval import Retrieval, ScoredSentence
from . import dates
from .abstention import decide
from .extractive import citation
from .short_answer import short_answer

_PART = r"(?:the\s+|el\s+|la\s+|los\s+|las\s+)?(.+?)"
# (operation, pattern with the two events as groups 1 and 2)
_QUESTIONS = (
    (
        "between",
        re.compile(
            rf"^\W*(?:how\s+many\s+days|how\s+long|how\s+much\s+time)\s+(?:passed|elapsed|went\s+by|were\s+there|are\s+there|was\s+it|is\s+it)?\s*"
            rf"between\s+{_PART}\s+and\s+{_PART}\W*$",
            re.I,
        ),
    ),
    (
        "between",
        re.compile(
            rf"^\W*(?:cu[aá]ntos\s+d[ií]as|cu[aá]nto\s+tiempo)\s+(?:pasaron|pas[oó]|transcurrieron|transcurri[oó]|median|medi[oó]|hubo|hay)?\s*"
            rf"entre\s+{_PART}\s+y\s+{_PART}\W*$",
            re.I,
        ),
    ),
    (
        "after",
        re.compile(
            rf"^\W*(?:how\s+many\s+days|how\s+long)\s+(?:after|before)\s+{_PART}\s+(?:was|were|did|came|happened)\s+{_PART}\W*$",
            re.I,
        ),
    ),
    (
        "after",
        re.compile(
            rf"^\W*(?:cu[aá]ntos\s+d[ií]as|cu[aá]nto\s+tiempo)\s+(?:despu[eé]s|antes)\s+de(?:l)?\s+{_PART}\s+(?:fue|ocurri[oó]|vino|se\s+celebr[oó]|tuvo\s+lugar)\s+{_PART}\W*$",
            re.I,
        ),
    ),
    (
        "first",
        re.compile(
            rf"^\W*(?:which|what)\s+(?:came|happened|was)\s+first[,:]?\s+{_PART}\s+or\s+{_PART}\W*$", re.I
        ),
    ),
    (
        "first",
        re.compile(
            rf"^\W*(?:qu[eé]|cu[aá]l)\s+(?:fue|ocurri[oó]|pas[oó]|vino)\s+primero[,:]?\s+{_PART}\s+o\s+{_PART}\W*$",
            re.I,
        ),
    ),
)
DAYS = {"en": ("day", "days"), "es": ("día", "días")}
EVENT_CANDIDATES = 5  # the reader's best candidates that may date an event


@dataclass(frozen=True)
class _Event:
    asked: str  # the event as the question words it
    retrieval: Retrieval
    lead: ScoredSentence  # the quote that dates it
    fact: Fact


_JOIN = re.compile(r"\s+(?:and|or|y|e|o|u)\s+(?=(?:the|a|an|la|el|los|las|un|una|su|sus)\s)", re.I)


def parse(question: str) -> tuple[str, str, str] | None:
    """(operation, event A, event B) of a question about two dated events, or None. Two events joined by
    "and"/"y" split where the second starts with an article ("la llamada de Trump y Sheinbaum y la
    llamada de Rubio"), else at the pattern's own conjunction."""
    for operation, pattern in _QUESTIONS:
        if m := pattern.match(question.strip()):
            first, second = m.group(1), m.group(2)
            whole = question.strip()[m.start(1) : m.end(2)]
            parts = _JOIN.split(whole, maxsplit=1) if operation != "after" else []
            if len(parts) == 2:
                first, second = parts
            return operation, first.strip(" ,"), second.strip(" ,")
    return None


def answer(
    question: str, language: str, search: Callable[[str], Retrieval]
) -> tuple[Answer, Retrieval] | None:
    parsed = parse(question)
    if parsed is None:
        return None
    operation, first, second = parsed
    events = [_event(part, language, search) for part in (first, second)]
    if any(e is None for e in events):
        return None
    a, b = events
    assert a is not None and b is not None
    day_a, day_b = (dates.parse_iso(e.fact.resolved) for e in (a, b))
    if day_a is None or day_b is None or day_a == day_b:
        return None
    citations = [citation(1, a.lead, a.retrieval.titles)]
    facts = [a.fact.model_copy(update={"n": 1})]
    if (b.lead.chunk.id, b.lead.span) == (a.lead.chunk.id, a.lead.span):
        facts.append(b.fact.model_copy(update={"n": 1}))
    else:
        citations.append(citation(2, b.lead, b.retrieval.titles))
        facts.append(b.fact.model_copy(update={"n": 2}))
    text, derivation = _result(operation, a, b, day_a, day_b, language)
    short = ShortAnswer(text=text, kind="derived", derivation=derivation, rests_on=facts)
    body = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    result = Answer(
        question=question,
        language=language,
        answer=body,
        abstained=False,
        citations=citations,
        short_answer=short,
    )
    return result, a.retrieval


def _event(part: str, language: str, search: Callable[[str], Retrieval]) -> _Event | None:
    """The event asked about on its own ("When was A?"): the reader's best candidate, among its first
    EVENT_CANDIDATES, that states a day its article's date pins down."""
    asked = f"When was {part}?" if language == "en" else f"¿Cuándo fue {part}?"
    retrieval = search(asked)
    verdict = decide(retrieval)
    if not verdict.answer:
        return None
    for lead, _ in verdict.ranked[:EVENT_CANDIDATES]:
        short = short_answer(retrieval, lead, 1)
        if short is None or short.source is None or short.start is None or short.end is None:
            continue
        day = dates.resolve(short.text, retrieval.titles.get(short.source, ("", None))[1])
        if day is not None:
            fact = Fact(
                text=short.text,
                source=short.source,
                start=short.start,
                end=short.end,
                n=1,
                resolved=day.isoformat(),
            )
            return _Event(part, retrieval, lead, fact)
    return None


def _result(operation: str, a: _Event, b: _Event, day_a, day_b, language: str) -> tuple[str, str]:
    one, many = DAYS.get(language, DAYS["en"])
    if operation == "first":
        earlier = a if day_a < day_b else b
        first_day, second_day = sorted((day_a, day_b))
        return (
            f"{earlier.asked} ({dates.english(first_day)})",
            f"{dates.english(first_day)} < {dates.english(second_day)}",
        )
    later, earlier = max(day_a, day_b), min(day_a, day_b)
    days = (later - earlier).days
    text = f"{days} {one if days == 1 else many}"
    return text, f"{dates.spoken(later, language)} − {dates.spoken(earlier, language)} = {text}"
