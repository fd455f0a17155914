"""Which extractor reads a file: the format is sniffed from the content (magic bytes, leading markup),
the file name's suffix only breaks ties (fragments of HTML, .md vs .txt, e-mail headers)."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath

from . import docx, feed, html, mail, pdf, text
from .base import Extracted, UnreadableFile

log = logging.getLogger(__name__)

Extractor = Callable[[bytes, str], list[Extracted]]
EXTRACTORS: dict[str, Extractor] = {
    "text": text.extract,
    "markdown": text.extract_markdown,
    "html": html.extract,
    "pdf": pdf.extract,
    "docx": docx.extract,
    "eml": lambda data, source: mail.extract(data, source, read_attachment=extract),
    "feed": feed.extract,
}
LABELS = {
    "text": "text",
    "markdown": "Markdown",
    "html": "HTML",
    "pdf": "PDF",
    "docx": "Word document",
    "eml": "e-mail",
    "feed": "RSS/Atom feed",
}
SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".eml", ".xml", ".rss", ".atom"})
_TEXT_SUFFIXES = {".txt", ".md"}
_BINARY_SUFFIXES = {".pdf": "PDF", ".docx": "Word document"}
_FEED_SUFFIXES = {".xml", ".rss", ".atom"}
_HEAD = 64 * 1024  # how much of a file sniffing looks at
_PDF_HEADER_WITHIN = 1024  # readers accept junk before "%PDF-", so PDFium does too, within the first KB
_ATOM_WITHIN = 4096  # the Atom namespace is declared on the root element, near the start
_HEADER_LINES = 40  # an e-mail's header block is read this far (Received: chains can be long)
# What may precede the root element of an XML or HTML document.
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"\s*<([a-z][\w:.-]*)", re.IGNORECASE)
_ATOM = "http://www.w3.org/2005/atom"
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322: printable ASCII except the colon
_MAIL_HEADERS = {"from", "to", "cc", "subject", "date", "message-id", "mime-version", "received", "return-path"}  # fmt: skip
_MAGIC = {  # binary formats we do not read, for a better message
    b"\xd0\xcf\x11\xe0": "an old Office file (.doc/.xls/.ppt); save it as .docx or PDF",
    b"\x89PNG": "an image; text in images needs OCR",
    b"\xff\xd8\xff": "an image; text in images needs OCR",
    b"GIF8": "an image; text in images needs OCR",
    b"{\\rtf": "an RTF document; save it as .docx or PDF",
}


def sniff(data: bytes, name: str) -> str | None:
    """The format of the bytes ("pdf", "docx", "html", "feed", "eml", "markdown", "text"), or None when it is
    none we read (binary data, a ZIP that is not a Word document, XML that is not a feed...)."""
    suffix = PurePosixPath(name.lower()).suffix
    if b"%PDF-" in data[:_PDF_HEADER_WITHIN]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx" if _zip_holds(data, "word/document.xml") else None
    if data.startswith(tuple(_MAGIC)):
        return None
    head = _decode_head(data)
    if head is None:
        return None
    root, doctype = _root(head)
    if root in ("rss", "rdf:rdf") or (root == "feed" and _ATOM in head[:_ATOM_WITHIN].lower()):
        return "feed"
    if root == "html" or "html" in doctype:
        return "html"
    if suffix in _FEED_SUFFIXES and root:
        return None  # XML, but not a feed
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in _BINARY_SUFFIXES:  # named a PDF or a Word file, but not one by its content
        return None
    if suffix == ".eml" or (suffix not in _TEXT_SUFFIXES and _mail_headers(head)):
        return "eml"
    return "markdown" if suffix == ".md" else "text"


def extract(data: bytes, source: str) -> list[Extracted]:
    """Every article in one file: one for most formats, the message and its attachments for an e-mail,
    the entries of a feed. Raises UnreadableFile (message "SOURCE: reason") when there is none."""
    if not data.strip():
        raise UnreadableFile(source, "empty")
    fmt = sniff(data, source)
    if fmt is None:
        raise UnreadableFile(source, _not_readable(data, source))
    try:
        return EXTRACTORS[fmt](data, source)
    except UnreadableFile:
        raise
    except Exception as exc:  # a parser bug on odd input must cost one file, not the whole ingestion
        log.error("unexpected error reading %s as %s", source, fmt, exc_info=True)
        raise UnreadableFile(source, f"could not be read as {LABELS[fmt]} ({type(exc).__name__})") from exc


def _zip_holds(data: bytes, member: str) -> bool | None:
    """Does the ZIP archive hold member? None when it is damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _decode_head(data: bytes) -> str | None:
    """The first bytes as text, or None when the file looks binary (a NUL anywhere, or the head failing
    the text extractor's checks)."""
    if b"\x00" in data:
        return None
    head = data[:_HEAD]
    if len(data) > _HEAD:  # a UTF-8 character cut at the end of the head is no reason for cp1252
        end = len(head)
        while end > len(head) - 3 and head[end - 1] & 0xC0 == 0x80:
            end -= 1
        head = head[: end - 1] if head[end - 1] >= 0xC0 else head[:end]
    try:
        return text.decode(head, "")[0]
    except UnreadableFile:
        return None


def _root(head: str) -> tuple[str, str]:
    """(the root element's name, the doctype), lower-case; "" for either when there is none."""
    head = head.lstrip("\ufeff")
    pos, doctype = 0, ""
    while (match := _PROLOG.match(head, pos)) and match.end() > pos:
        if match.group().lstrip().lower().startswith("<!doctype"):
            doctype = match.group().lower()
        pos = match.end()
    match = _ROOT.match(head, pos)
    return (match.group(1).lower() if match else ""), doctype


def _mail_headers(head: str) -> bool:
    """Does the text start with a header block of an e-mail (From and at least one other known field)?"""
    names = set()
    for line in head.split("\n", _HEADER_LINES)[:_HEADER_LINES]:
        if not line.strip():
            break
        if line[0] in " \t":  # a folded header continues
            continue
        name, colon, _ = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            return False
        names.add(name.lower())
    return "from" in names and len(names & _MAIL_HEADERS) >= 2


def _not_readable(data: bytes, name: str = "") -> str:
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in _BINARY_SUFFIXES and not data.startswith(b"PK\x03\x04"):
        return f"named {suffix} but not a {_BINARY_SUFFIXES[suffix]} by its content (damaged or renamed?)"
    for magic, why in _MAGIC.items():
        if data.startswith(magic):
            return why
    if data.startswith(b"PK\x03\x04"):
        if _zip_holds(data, "word/document.xml") is None:
            return "a damaged or truncated ZIP archive (a .docx is one)"
        return "a ZIP archive, not a Word document (.docx)"
    return "binary data, not a document we read (text, Markdown, HTML, PDF, Word, e-mail or feed)"
