"""Plain text and Markdown. The canonical text is the decoded file itself (BOM dropped, CRLF/CR as "\n",
NFC), so in the usual UTF-8/LF case a citation can be checked against the file as it is on disk.
YAML front matter stays in the text; `body_start` says where the body begins and its title/date/author
fill the metadata. The older convention of a leading `date YYYY-MM-DD` line is left to corpus.parse."""

from __future__ import annotations

import re

from .base import Extracted, UnreadableFile, canonical_file_text, iso_date, one_line

try:  # PyYAML is a declared dependency; without it front matter is simply not read
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

# C0 controls other than tab, LF, FF and CR, DEL, and the C1 range (which only UTF-8 can produce here).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_MAX = 64 * 1024  # only look this far for the closing fence


def looks_binary(text: str) -> bool:
    """More than 1 % control characters (any at all in texts under 100 characters)."""
    controls = sum(1 for _ in _CONTROL.finditer(text))
    return controls > len(text) // 100


def decode(data: bytes, source: str) -> tuple[str, tuple[str, ...]]:
    """The bytes as text: UTF-8, else cp1252 with a warning. Binary content raises UnreadableFile."""
    if b"\x00" in data:
        raise UnreadableFile(source, "binary data, not text")
    warnings: tuple[str, ...] = ()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise UnreadableFile(
                source, "binary data or an unknown encoding (neither UTF-8 nor cp1252)"
            ) from None
        warnings = ("not UTF-8, read as cp1252",)
    if looks_binary(text):
        raise UnreadableFile(source, "binary data, not text")
    return text, warnings


def extract(data: bytes, source: str, fmt: str = "text") -> list[Extracted]:
    text, warnings = decode(data, source)
    text = canonical_file_text(text)
    if not text.strip():
        raise UnreadableFile(source, "empty")
    meta, body_start, problem = _front_matter(text)
    if problem:
        warnings += (problem,)
    if not text[body_start:].strip():
        raise UnreadableFile(source, "no text after the front matter")
    return [
        Extracted(
            source=source,
            text=text,
            format=fmt,
            title=one_line(_scalar(meta.get("title"))),
            date=iso_date(meta.get("date")),
            author=_author(meta.get("author")),
            body_start=body_start,
            warnings=warnings,
        )
    ]


def extract_markdown(data: bytes, source: str) -> list[Extracted]:
    return extract(data, source, "markdown")


def _front_matter(text: str) -> tuple[dict, int, str | None]:
    """(fields, where the body starts, warning) of a leading "---" YAML block; ({}, 0, None) if none."""
    match = _FRONT_MATTER.match(text[:_FRONT_MATTER_MAX])
    if not match or yaml is None:
        return {}, 0, None
    try:
        fields = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return {}, 0, "front matter is not valid YAML; read as text"
    if not isinstance(fields, dict):  # e.g. a "---" rule above a paragraph: not front matter
        return {}, 0, None
    return fields, match.end(), None


def _scalar(value: object) -> str | None:
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None


def _author(value: object) -> str | None:
    if isinstance(value, list):
        return one_line(", ".join(name for v in value if (name := _scalar(v))))
    return one_line(_scalar(value))
