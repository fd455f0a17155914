"""Calendar dates from the date phrases of a quote, resolved against the article's own date where the
phrase is relative ("el próximo jueves", "ayer") or has no year ("23 de enero")."""

from __future__ import annotations

import datetime as dt
import re

from ..text.folding import fold

MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
            1,
        )
    },
    "setiembre": 9,
    **{
        m: i
        for i, m in enumerate(
            "january february march april may june july august september october november december".split(), 1
        )
    },
}
WEEKDAYS = {
    **{d: i for i, d in enumerate("lunes martes miercoles jueves viernes sabado domingo".split())},
    **{d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())},
}
RELATIVE_DAYS = {
    "hoy": 0,
    "today": 0,
    "ayer": -1,
    "yesterday": -1,
    "anteayer": -2,
    "anoche": -1,
    "tonight": 0,
}
ENGLISH_MONTHS = (
    "January February March April May June July August September October November December".split()
)
_MONTH = "|".join(MONTHS)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:º|°|er)?\s+(?:de\s+)?({_MONTH})(?:,?\s+(?:de|del|of)?\s*(\d{{4}}))?\b", re.I
)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEKDAY = re.compile(
    r"\b(?:(?:el|the)\s+)?(?:(pasado|próximo|proximo|este|last|next|this)\s+)?"
    r"(lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)(?:\s+(pasado|próximo|proximo))?\b",
    re.I,
)
_RELATIVE = re.compile(r"\b(hoy|ayer|anteayer|anoche|today|yesterday|tonight)\b", re.I)


def resolve(phrase: str, article_date: str | None) -> dt.date | None:
    """The calendar date a phrase names, or None. An explicit day wins over a weekday ("el pasado domingo
    11 de enero"); a relative phrase needs the article's date."""
    base = parse_iso(article_date)
    if m := _ISO.search(phrase):
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _DAY_MONTH.search(phrase):
        return _with_year(int(m.group(1)), MONTHS[fold(m.group(2))], m.group(3), base)
    if m := _MONTH_DAY.search(phrase):
        return _with_year(int(m.group(2)), MONTHS[fold(m.group(1))], m.group(3), base)
    if base is None:
        return None
    if m := _RELATIVE.search(phrase):
        return base + dt.timedelta(days=RELATIVE_DAYS[fold(m.group(1))])
    if m := _WEEKDAY.search(phrase):
        return _weekday(WEEKDAYS[fold(m.group(2))], fold(m.group(1) or m.group(3) or ""), base)
    return None


def is_relative(phrase: str) -> bool:
    """The phrase names its day only through the article's date."""
    return not (_ISO.search(phrase) or _DAY_MONTH.search(phrase) or _MONTH_DAY.search(phrase)) and bool(
        _RELATIVE.search(phrase) or _WEEKDAY.search(phrase)
    )


SPANISH_MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
)


def english(day: dt.date) -> str:
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def spoken(day: dt.date, language: str) -> str:
    """The date as the question's language writes it."""
    return f"{day.day} de {SPANISH_MONTHS[day.month - 1]} de {day.year}" if language == "es" else english(day)


def _weekday(target: int, modifier: str, base: dt.date) -> dt.date:
    """News usage: "el próximo jueves"/"next Thursday" is the first after the article's date; "el pasado
    domingo"/"last Sunday" the last before it; a bare or "este" weekday the nearest one on or before it
    (reports tell what happened this week)."""
    ahead = (target - base.weekday()) % 7
    if modifier in ("proximo", "next"):
        return base + dt.timedelta(days=ahead or 7)
    behind = (base.weekday() - target) % 7
    if modifier in ("pasado", "last"):
        return base - dt.timedelta(days=behind or 7)
    return base - dt.timedelta(days=behind)


def _with_year(day: int, month: int, year: str | None, base: dt.date | None) -> dt.date | None:
    if year:
        return _date(int(year), month, day)
    if base is None:
        return None
    # No year: the one that puts the date nearest the article's date (a December report on "5 de enero")
    options = [d for y in (base.year - 1, base.year, base.year + 1) if (d := _date(y, month, day))]
    return min(options, key=lambda d: abs((d - base).days), default=None)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_iso(value: str | None) -> dt.date | None:
    if not value:
        return None
    m = _ISO.match(value)
    return _date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
