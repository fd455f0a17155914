"""Reading documents of every format we index into canonical text with metadata.

    extract(data, source) -> list[Extracted]   all articles in one file, or UnreadableFile
    sniff(data, name) -> str | None            the format by content, the name's suffix a hint

Source ids: an article in a file has the file's source; an e-mail attachment "MESSAGE/NAME" (NAME its
file name, made unique in the message) with parent MESSAGE; a feed entry "FEED#N", N from 1 in feed order.
Canonical text (what citation offsets index): NFC, "\n" line ends, no BOM. For .txt/.md it is the decoded
file itself; for the other formats the extracted text, one paragraph a line, and for PDFs the pages
joined by pdf.PAGE_SEPARATOR ("\n\n"). One module per format; registry.py chooses among them.
"""

from .base import Extracted, UnreadableFile
from .pdf import PAGE_SEPARATOR
from .registry import SUFFIXES, extract, sniff

__all__ = ["PAGE_SEPARATOR", "SUFFIXES", "Extracted", "UnreadableFile", "extract", "sniff"]
