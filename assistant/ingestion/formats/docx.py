"""Word documents (.docx) by python-docx: the body's paragraphs and tables in document order, one
paragraph a line, a table one row a line with its cells joined by " | " (content controls are read
through). A table's first row reads as its header: every later row names its cells by it ("Estado:
Sonora | Armas: 1.234"), so that a row, which is indexed and quoted on its own, still says what it holds. Title, author and creation date from the core properties. Headers, footers, footnotes,
comments, text boxes and tracked deletions are not read."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from .base import Extracted, UnreadableFile, iso_date, one_line, tidy

CELL_SEPARATOR = " | "


def extract(data: bytes, source: str) -> list[Extracted]:
    try:
        document = docx.Document(io.BytesIO(data))
    # a damaged archive fails in zipfile or zlib, a foreign one in python-docx, bad XML in lxml
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        KeyError,
        ValueError,
        PackageNotFoundError,
        etree.LxmlError,
    ) as exc:
        raise UnreadableFile(source, f"not a readable Word document ({_why(exc)})") from None
    text = tidy("\n".join(_blocks(document.element.body, document)))
    if not text:
        raise UnreadableFile(source, "no text in the document")
    props = document.core_properties
    return [
        Extracted(
            source=source,
            text=text,
            format="docx",
            title=one_line(props.title),
            date=iso_date(props.created),
            author=one_line(props.author),
        )
    ]


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError | PackageNotFoundError):
        return "a ZIP archive without a Word document inside"
    if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
        return "damaged or truncated"
    return "its content is not valid Word XML"


def _blocks(container: etree._Element, parent: object) -> Iterator[str]:
    """Lines of the paragraphs and tables directly in container (a body or a cell), in order."""
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent).text
        elif child.tag == qn("w:tbl"):
            yield from _rows(Table(child, parent))
        elif child.tag == qn("w:sdt"):  # a content control wraps ordinary blocks
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, parent)


def _rows(table: Table) -> Iterator[str]:
    header: list[str] | None = None
    for row in table.rows:
        cells: list[_Cell] = []
        for cell in row.cells:  # a merged cell is repeated once per grid column it spans
            if not cells or cell._tc is not cells[-1]._tc:
                cells.append(cell)
        texts = [" ".join(_blocks(cell._tc, cell)).strip().replace("\n", " ") for cell in cells]
        if header is None:
            header = texts
        elif len(texts) == len(header) and any(header):
            texts = [f"{name}: {text}" if name and text else text for name, text in zip(header, texts)]
        yield CELL_SEPARATOR.join(texts)
