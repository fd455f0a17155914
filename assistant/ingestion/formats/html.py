"""HTML pages: the main article only, by trafilatura in precision mode (navigation, cookie banners,
comments and related-link blocks are left out), one paragraph a line, the headline first. Title, author,
site, date and canonical URL come from the page's metadata (meta tags, JSON-LD). Offline: trafilatura
is given the bytes, never a URL, and htmldate reads markup only (no free-text date search)."""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml import etree

from .base import Extracted, UnreadableFile, iso_date, one_line, strip_controls, tidy, with_headline

# Markup only (meta, JSON-LD, <time>, URL): fast, and no guessing from dates mentioned in the text.
# A fixed upper bound instead of htmldate's default "today" keeps the result independent of the clock.
_DATE_PARAMS = {"extensive_search": False, "original_date": True, "max_date": "2099-12-31"}
# Elements whose end is a line break when HTML is flattened to text without trafilatura.
_BLOCKS = (
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tr", "ul",
)  # fmt: skip
_INVISIBLE = ("script", "style", "head", "template", "noscript", "iframe", "object", "svg")


@dataclass(frozen=True)
class Article:
    text: str  # canonical: one paragraph a line (the headline only if the page has it in the article)
    title: str | None
    author: str | None
    site: str | None
    date: str | None
    url: str | None


def article(markup: bytes | str) -> Article | None:
    """The page's main article as trafilatura finds it in precision mode; None when there is none."""
    try:
        doc = trafilatura.bare_extraction(
            markup,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=True,
            date_extraction_params=dict(_DATE_PARAMS),
        )
    except (ValueError, TypeError, etree.LxmlError):  # markup lxml cannot make a tree of
        return None
    if doc is None or not (text := tidy(doc.text or "")):
        return None
    return Article(
        text=text,
        title=one_line(doc.title),
        author=one_line(doc.author),
        site=one_line(doc.sitename),
        date=iso_date(doc.date),
        url=one_line(doc.url),
    )


def extract(data: bytes, source: str) -> list[Extracted]:
    found = article(data)
    if found is None:
        raise UnreadableFile(source, "no article text found in the page (navigation, forms or scripts only?)")
    return [
        Extracted(
            source=source,
            text=with_headline(found.title, found.text),
            format="html",
            title=found.title,
            date=found.date,
            author=found.author,
            site=found.site,
            link=found.url,
        )
    ]


def html_to_text(markup: str) -> str:
    """All visible text of an HTML fragment, one block a line: for feed entries and e-mail bodies, whose
    HTML is the article itself and needs no boilerplate removal."""
    if not markup.strip():
        return ""
    try:
        # lxml refuses to set text holding controls, so they go first
        data = strip_controls(markup).encode("utf-8")
        root = lxml.html.fromstring(data, parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.LxmlError, ValueError):  # "Document is empty" and the like
        return ""
    if root.tag in _INVISIBLE:
        return ""
    for element in list(root.iter(*_INVISIBLE)):
        element.drop_tree()
    for element in root.iter(*_BLOCKS):  # a block starts and ends a line
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    for cell in root.iter("td", "th"):
        cell.tail = " " + (cell.tail or "")
    return tidy(root.text_content())
