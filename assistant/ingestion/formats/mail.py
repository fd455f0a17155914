"""E-mail messages (.eml) by the standard library (policy.default): the body, preferring text/plain over
text/html, with its transfer encoding and charset decoded; an HTML body goes through the HTML article
extractor, or is flattened to text when that finds no article. Subject, Date and From give title, date
and author. Each attachment in a format we read is extracted as an article of its own, with source
"MESSAGE/ATTACHMENT-NAME" and parent MESSAGE; others are named in a warning. Plain-text bodies are
re-flowed: format=flowed soft breaks are undone, and hard-wrapped lines inside a paragraph are joined."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import PurePath
from typing import cast

from . import html
from .base import Extracted, UnreadableFile, one_line, tidy

MAX_NESTING = 3  # attachments of messages attached to messages ... are read this deep
_depth: ContextVar[int] = ContextVar("mail_depth", default=0)
_LIST_ITEM = re.compile(r"\s*(?:[-*•>]|\d{1,3}[.)])\s")


ReadAny = Callable[[bytes, str], list[Extracted]]  # reads a file of any format (the registry's extract)


def extract(data: bytes, source: str, read_attachment: ReadAny) -> list[Extracted]:
    """The message and its attachments, each attachment read by `read_attachment` (the registry passes
    its own `extract`, so that this module needs no import of it)."""
    message = cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(data))  # policy.default's type
    body = message.get_body(preferencelist=("plain", "html"))
    text, warnings = _body_text(body) if body is not None else ("", [])
    parts = _attachments(message, body, source, warnings, read_attachment)
    items: list[Extracted] = []
    if text:
        items.append(
            Extracted(
                source=source,
                text=text,
                format="eml",
                title=_header(message, "subject"),
                date=_date(_header(message, "date")),
                author=_header(message, "from"),
                warnings=tuple(warnings),
            )
        )
    if not items and not parts:
        raise UnreadableFile(source, "no text in the message or its attachments")
    return items + parts


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
        return one_line(str(value)) if value is not None else None
    except (ValueError, IndexError, TypeError, AttributeError, LookupError):  # malformed header
        return None


def _date(value: str | None) -> str | None:
    """The message's own calendar date (in the sender's time zone, as the header gives it)."""
    try:
        return parsedate_to_datetime(value).date().isoformat() if value else None
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _body_text(part: MIMEPart) -> tuple[str, list[str]]:
    content, warnings = _decoded(part)
    if part.get_content_subtype() == "html":
        found = html.article(content)
        return (found.text if found else html.html_to_text(content)), warnings
    flowed = part.get_param("format", "").lower() == "flowed"
    delsp = part.get_param("delsp", "").lower() == "yes"
    return reflow(content, flowed, delsp), warnings


def _decoded(part: MIMEPart) -> tuple[str, list[str]]:
    """The part's text, transfer encoding and charset decoded; an unknown charset is read as UTF-8."""
    try:
        return str(part.get_content()), []
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        charset = part.get_content_charset() or "unknown"
        return raw.decode("utf-8", "replace"), [f"body charset {charset!r} not understood; read as UTF-8"]


# Hard-wrapped text: a line at least this share of the widest line was wrapped, and continues; mail
# narrower than WRAPPED_WIDTH characters was not wrapped at all (short notes, addresses).
WRAPPED_SHARE = 0.65
WRAPPED_WIDTH = 40


def reflow(text: str, flowed: bool = False, delsp: bool = False) -> str:
    """Plain e-mail text as one paragraph a line. format=flowed (RFC 3676): a line ending in a space
    continues. Otherwise (hard-wrapped text) a long line continues into the next line unless that is
    blank or starts a list item or quote; short lines (addresses, signatures) stay lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    width = max(len(line.rstrip()) for line in lines)
    pieces: list[str] = []  # each line with what joins it to the previous one (joined once: linear)
    joining = False
    for raw in lines:
        if flowed:
            soft = raw.endswith(" ") and raw != "-- "
            pieces.append(("" if joining and raw else "\n") + (raw[:-1] if soft and delsp else raw))
            joining = soft
            continue
        line = raw.rstrip()
        pieces.append((" " if joining and line and not _LIST_ITEM.match(line) else "\n") + line)
        joining = bool(line) and width >= WRAPPED_WIDTH and len(line) >= WRAPPED_SHARE * width
    return tidy("".join(pieces))


def _attachments(
    message: EmailMessage, body: MIMEPart | None, source: str, warnings: list[str], read_attachment: ReadAny
) -> list[Extracted]:
    items: list[Extracted] = []
    names: set[str] = set()
    for n, part in enumerate(message.iter_attachments(), 1):
        if part is body:
            continue
        name = _unique(_name(part, n), names)
        if _depth.get() >= MAX_NESTING:  # bounds the recursion of messages attached to messages
            warnings.append(f"attachment {name} skipped: attachments nested deeper than {MAX_NESTING}")
            continue
        token = _depth.set(_depth.get() + 1)
        try:
            found = read_attachment(_payload(part), f"{source}/{name}")
        except UnreadableFile as exc:
            warnings.append(f"attachment {name} skipped: {exc.reason}")
            continue
        finally:
            _depth.reset(token)
        items += [item if item.parent else replace(item, parent=source) for item in found]
    return items


def _payload(part: MIMEPart) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        return inner.as_bytes(policy=policy.default) if isinstance(inner, MIMEPart) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _name(part: MIMEPart, n: int) -> str:
    """The attachment's file name without any path, or one made from its type."""
    try:
        filename = part.get_filename()
    except (ValueError, IndexError, TypeError, AttributeError, LookupError):
        filename = None
    name = PurePath(re.split(r"[\\/]", filename or "")[-1]).name
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    if name:
        return name
    ctype = part.get_content_type()
    suffix = ".eml" if ctype == "message/rfc822" else mimetypes.guess_extension(ctype) or ""
    return f"attachment-{n}{suffix}"


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix = PurePath(name).stem, PurePath(name).suffix
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{stem}-{k}{suffix}"
    taken.add(candidate)
    return candidate
