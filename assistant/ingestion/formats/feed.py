"""RSS and Atom feeds by feedparser: every entry is an article, source "FEED#N" (N = 1, 2, ... in the
feed's order, so ids shift when a refreshed feed gains entries on top). Text: the headline, then the
entry's content (else its summary) flattened to one paragraph a line. feedparser is handed a stream of
the bytes, never a string, which it could take for a URL or a path and fetch."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from .base import Extracted, UnreadableFile, iso_date, one_line, tidy, with_headline
from .html import html_to_text

_RSS_AUTHOR = re.compile(r"\s*[^\s@]+@[^\s@]+\s+\((.+)\)\s*")


def extract(data: bytes, source: str) -> list[Extracted]:
    try:
        parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=True)
    except UnicodeDecodeError:  # feedparser reads a non-UTF-8 encoding declaration strictly
        raise UnreadableFile(source, "not a readable feed (garbled encoding declaration)") from None
    site = one_line(_plain(parsed.feed.get("title_detail"))) if "feed" in parsed else None
    items = []
    for n, entry in enumerate(parsed.get("entries", []), 1):
        title = one_line(_plain(entry.get("title_detail")))
        text = with_headline(title, _body(entry))
        if not text:
            continue
        items.append(
            Extracted(
                source=f"{source}#{n}",
                text=text,
                format="feed",
                title=title,
                date=_date(entry),
                author=_author(entry.get("author")),
                site=site,
                link=one_line(entry.get("link")),
            )
        )
    if not items:
        problem = parsed.get("bozo_exception")
        raise UnreadableFile(
            source, f"not a readable feed ({problem})" if problem else "a feed with no entries"
        )
    return items


def _author(value: str | None) -> str | None:
    """The name in RSS's "email (Name)" form (feedparser's own split garbles domains like .example)."""
    match = _RSS_AUTHOR.fullmatch(value or "")
    return one_line(match.group(1) if match else value)


def _plain(detail: dict[str, Any] | None) -> str:
    """A feedparser text construct as plain text (titles and summaries may be HTML)."""
    if not detail or not detail.get("value"):
        return ""
    value = str(detail["value"])
    return html_to_text(value) if "html" in str(detail.get("type", "")) else tidy(value)


def _body(entry: dict[str, Any]) -> str:
    """The longest of the entry's contents, else its summary."""
    texts = [_plain(content) for content in entry.get("content", [])]
    texts.append(_plain(entry.get("summary_detail")))
    return max(texts, key=len)


def _date(entry: dict[str, Any]) -> str | None:
    """Published, else updated, as the calendar date written in the feed (feedparser's *_parsed would
    move it to UTC: a late-evening American date would become the next day)."""
    for key in ("published", "updated", "created"):
        value = entry.get(key)
        if not value:
            continue
        found = iso_date(value) or _rfc822_date(value)
        if found:
            return found
        parsed = entry.get(f"{key}_parsed")
        if isinstance(parsed, time.struct_time):
            return time.strftime("%Y-%m-%d", parsed)
    return None


def _rfc822_date(value: str) -> str | None:
    try:
        moment: datetime = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return moment.date().isoformat()
