"""PDF by PDFium (pypdfium2): the text layer page by page, visual lines re-flowed into paragraphs.

Canonical text: the pages' texts joined by PAGE_SEPARATOR (a blank line), one paragraph a line inside a
page; `pages` holds each page's (start, end) span (an empty span for a page without text). Lines are
joined into a paragraph unless layout says otherwise: a larger gap than the page's usual line pitch, a
change of font height, or a short line ending in a full stop. PDFium's own de-hyphenation (U+FFFE where
it dropped a line-end hyphen) is kept: the word is rejoined. Headers, footers and page numbers stay in
(as their own lines); columns come in PDFium's reading order; images carry no text (OCR is not done)."""

from __future__ import annotations

import re
import statistics
import threading
from dataclasses import dataclass
from datetime import date
from itertools import islice

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .base import Extracted, UnreadableFile, one_line, tidy

PAGE_SEPARATOR = "\n\n"
_SCANNED = "has no text layer (probably scanned; needs OCR)"
_DAMAGED = "is damaged and could not be read"
_MIN_PAGE_CHARS = 10  # fewer letters/digits than this: the page has no real text layer
_ALNUM = re.compile(r"[^\W_]")
_TERMINAL = tuple('.!?…:;»"”’)')
_BULLET = re.compile(r"[•·▪◦‣*–-]\s|\(?\d{1,3}[.)]\s")
_PDF_DATE = re.compile(r"(?:D:)?(\d{4})(\d{2})(\d{2})")
# PDFium is not thread-safe; the indexer may run in a background thread next to the chat's uploads.
_LOCK = threading.Lock()
# Paragraph geometry, in multiples of a line's height or of the page's line pitch (the usual gap between
# baselines), read off real reports: a gap between half a line and three lines is a line pitch; a gap of
# more than 1.4 pitches is a paragraph break; a height change of a quarter is a heading; a line ending
# 12% of the text width short of the margin ends its paragraph (when it ends a sentence); without geometry,
# a sentence-ending line under 80% of the longest line does.
PITCH_RANGE = (0.5, 3.0)
DEFAULT_PITCH = 1.2  # single line spacing, when no gap between lines is a pitch
PARAGRAPH_GAP = 1.4
HEADING_CHANGE = 0.25
SHORT_LINE = 0.12
SHORT_TEXT = 0.8


@dataclass(frozen=True)
class _Line:
    text: str
    left: float = 0.0
    bottom: float = 0.0
    right: float = 0.0
    height: float = 0.0


def extract(data: bytes, source: str) -> list[Extracted]:
    with _LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise UnreadableFile(source, _open_error(exc)) from None
        try:
            meta = pdf.get_metadata_dict(skip_empty=True)
            pages = [_page(pdf, i) for i in range(len(pdf))]
        finally:
            pdf.close()
    text, spans = _join(tuple(page_text for page_text, _ in pages))
    notes = [note for _, note in pages]
    if not text:
        why = "no text layer (a scanned PDF? it needs OCR)" if _SCANNED in notes else "no text"
        raise UnreadableFile(
            source, why if _DAMAGED not in notes else "no text on any readable page (damaged?)"
        )
    return [
        Extracted(
            source=source,
            text=text,
            format="pdf",
            title=one_line(meta.get("Title")),
            date=_date(meta.get("CreationDate")) or _date(meta.get("ModDate")),
            author=one_line(meta.get("Author")),
            pages=spans,
            warnings=tuple(f"page {n} {note}" for n, note in enumerate(notes, 1) if note),
        )
    ]


def _open_error(exc: pdfium.PdfiumError) -> str:
    code = getattr(exc, "err_code", None)
    if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
        return "the PDF is encrypted (password-protected); save an unprotected copy"
    return "not a readable PDF (corrupt or truncated)"


def _page(pdf: pdfium.PdfDocument, index: int) -> tuple[str, str | None]:
    """The canonical text of a page ("" when it has almost none) and a note on why it has none."""
    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        return "", _DAMAGED
    try:
        textpage = page.get_textpage()
        try:
            text = tidy("\n".join(_paragraphs(_lines(textpage))))
        finally:
            textpage.close()
        if len(list(islice(_ALNUM.finditer(text), _MIN_PAGE_CHARS))) == _MIN_PAGE_CHARS:
            return text, None
        images = page.get_objects([pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)
        return "", _SCANNED if any(True for _ in images) else None  # else a blank page: nothing to say
    except pdfium.PdfiumError:
        return "", _DAMAGED
    finally:
        page.close()


def _lines(textpage: pdfium.PdfTextPage) -> list[_Line | None]:
    """The page's visual lines with their geometry, None for a blank line. Without geometry (when the
    string's indices are not PDFium's character indices, e.g. astral characters) a line has only text."""
    raw = textpage.get_text_range()
    geometry = len(raw) == textpage.count_chars()
    lines: list[_Line | None] = []
    for match in re.finditer(r"([^\r\n]*)(?:\r\n|\r|\n)", raw + "\n"):
        segment = match.group(1)
        stripped = segment.strip()
        if not stripped:
            lines.append(None)
        elif not geometry:
            lines.append(_Line(stripped))
        else:
            first = match.start() + len(segment) - len(segment.lstrip())
            last = match.start() + len(segment.rstrip()) - 1
            left, bottom, _, top = textpage.get_charbox(first, loose=True)
            right = textpage.get_charbox(last, loose=True)[2]
            lines.append(_Line(stripped, left, bottom, right, top - bottom))
    return lines


@dataclass(frozen=True)
class _Layout:
    """What is usual on a page: line pitch, right edge, text width, longest line."""

    pitch: float
    right: float
    width: float
    longest: int

    @classmethod
    def of(cls, lines: list[_Line]) -> _Layout:
        gaps = [a.bottom - b.bottom for a, b in zip(lines, lines[1:])]
        heights = [line.height for line in lines]
        height = statistics.median(heights)
        pitches = [g for g in gaps if PITCH_RANGE[0] * height < g < PITCH_RANGE[1] * height]
        right, left = max(line.right for line in lines), min(line.left for line in lines)
        pitch = statistics.median(pitches) if pitches else DEFAULT_PITCH * height
        return cls(pitch, right, right - left, max(len(line.text) for line in lines))


def _paragraphs(lines: list[_Line | None]) -> list[str]:
    """Visual lines joined into paragraphs; a blank line always ends one."""
    real = [line for line in lines if line is not None]
    if not real:
        return []
    layout = _Layout.of(real)
    paragraphs: list[list[str]] = []
    previous: _Line | None = None
    for line in lines:
        if line is not None:
            if previous is None or _breaks(previous, line, layout):
                paragraphs.append([])
            paragraphs[-1].append(line.text)
        previous = line
    return [" ".join(words) for words in paragraphs]


def _breaks(a: _Line, b: _Line, layout: _Layout) -> bool:
    """Does a paragraph end between line a and the next line b?"""
    ends_sentence = a.text.endswith(_TERMINAL)
    if _BULLET.match(b.text):
        return True
    if a.height <= 0:  # no geometry: a short line ending a sentence ends the paragraph
        return ends_sentence and len(a.text) < SHORT_TEXT * layout.longest
    gap = a.bottom - b.bottom
    if abs(gap) < PITCH_RANGE[0] * a.height:  # the same visual line, split by PDFium
        return False
    if gap < 0 or gap > PARAGRAPH_GAP * layout.pitch:  # a column or text block starts, or a paragraph gap
        return True
    if abs(a.height - b.height) > HEADING_CHANGE * max(a.height, b.height):  # font size changes: a heading
        return True
    short = a.right < layout.right - SHORT_LINE * layout.width
    indented = b.left > a.left + a.height
    return ends_sentence and (short or indented)


def _join(texts: tuple[str, ...]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The pages' texts joined by PAGE_SEPARATOR (pages without text add none) and each page's span."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    for text in texts:
        if text:
            if parts:
                parts.append(PAGE_SEPARATOR)
                length += len(PAGE_SEPARATOR)
            parts.append(text)
        spans.append((length, length + len(text)))
        length += len(text)
    return "".join(parts), tuple(spans)


def _date(value: str | None) -> str | None:
    """YYYY-MM-DD of a PDF date ("D:20260116093000+01'00'")."""
    match = _PDF_DATE.match(value.strip()) if value else None
    if not match:
        return None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None
