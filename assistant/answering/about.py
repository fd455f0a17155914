"""Questions about the articles themselves: which outlet published a piece, who wrote it, when it was
published. The article is the one the rest of the question finds (its lead quote's source); the answer
comes from its header lines where the text states it, cited there (a dateline "Ciudad de México, 15 de
enero (SinEmbargo).-", a leading "date 2026-01-16", a byline "Por …"), else from the document's metadata
(HTML meta tags, a PDF's info, an e-mail's headers), said plainly to be metadata, with the article's lead
quote cited so that staff see which article it is."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..answer import Answer, Citation
from ..retrieval import Retrieval
from ..stores.base import Source
from . import dates
from .abstention import decide
from .extractive import abstain, citation

_PIECE = (
    r"(?:article|piece|story|report|note|news|item|art[ií]culo|nota|noticia|reportaje|informaci[oó]n|texto)"
)
_ASKS = (
    (
        "outlet",
        re.compile(
            r"\b(?:which|what)\s+(?:news\s+)?(?:outlet|newspaper|paper|site|website|media|medium|publication|news\s+agency)\b|"
            r"\bwho\s+(?:published|ran|carried)\b|\bpublished\s+by\s+(?:which|what)\b|"
            r"\bqu[eé]\s+(?:medio|peri[oó]dico|diario|sitio|portal|publicaci[oó]n|agencia\s+de\s+noticias)\b|"
            r"\bqui[eé]n\s+public[oó]\b",
            re.I,
        ),
    ),
    (
        "author",
        re.compile(
            r"\bwho\s+(?:wrote|is\s+the\s+author)\b|\bqui[eé]n\s+(?:escribi[oó]|firm[oó]|es\s+el\s+autor)\b|\bautor(?:a)?\s+de\b",
            re.I,
        ),
    ),
    (
        "published",
        re.compile(
            rf"\bwhen\s+was\s+(?:the|this|that)\s+{_PIECE}\s+(?:published|filed|written|posted)\b|"
            rf"\b(?:cu[aá]ndo|qu[eé]\s+d[ií]a|en\s+qu[eé]\s+fecha)\s+se\s+public[oó]\b|\bfecha\s+de\s+(?:publicaci[oó]n|la\s+{_PIECE})\b|"
            rf"\bwhat\s+(?:is\s+the\s+)?date\s+(?:of|on)\s+(?:the|this)\s+{_PIECE}\b",
            re.I,
        ),
    ),
)
_DATELINE = re.compile(
    r"^[^\n.]{0,80}?,\s*\d{1,2}\s+de\s+[a-záéíóú]+(?:\s+de\s+\d{4})?\s*\(([^()\n]{2,60})\)\s*\.?\s*[-–—]",
    re.I | re.M,
)
_DATE_TOKEN = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b")
_BYLINE = re.compile(r"^\s*(?:Por|By)\s+([A-ZÁÉÍÓÚÑ][^\n,]{2,60})$", re.M)
HEADER_CHARS = 600  # a byline or a dateline sits in the first lines of a piece
SAID = {
    "outlet": ("The article gives its outlet as", "El artículo da como medio"),
    "author": ("The article is signed by", "El artículo lo firma"),
    "published": ("The article is dated", "El artículo está fechado el"),
}
METADATA = {
    "en": "(from the document's metadata, field {field}: the text does not state it)",
    "es": "(según los metadatos del documento, campo {field}: el texto no lo dice)",
}


_NAMES_A_PIECE = re.compile(rf"\b{_PIECE}\b", re.I)


def asks(question: str) -> str | None:
    """What a question asks about its article: "outlet", "author" or "published"; None otherwise. The
    question must name the piece ("the article", "la nota"): "Which newspaper reported X?" asks the text."""
    if not _NAMES_A_PIECE.search(question):
        return None
    return next((what for what, pattern in _ASKS if pattern.search(question)), None)


_ABOUT = re.compile(rf"^.*?\b(?:{_PIECE})\s+(?:about|on|that|which|sobre|acerca\s+de|que|de|del)\s+", re.I)


def topic(question: str) -> str | None:
    """What a question about an article says the article is about ("… the article about the call" ->
    "the call"), to find the article by; None when it is not a question about an article."""
    if asks(question) is None:
        return None
    m = _ABOUT.match(question)
    return question[m.end() :].strip(" ?¿") if m and question[m.end() :].strip(" ?¿") else question


def answer(
    question: str, language: str, search: Callable[[str], Retrieval], document: Callable[[str], Source | None]
) -> tuple[Answer, Retrieval] | None:
    what = asks(question)
    about = topic(question)
    if what is None or about is None:
        return None
    retrieval = search(about)
    verdict = decide(retrieval)
    if not verdict.answer or verdict.lead is None:
        return abstain(question, language, verdict.reason), retrieval
    lead = verdict.lead
    source = document(lead.chunk.source)
    if source is None:
        return None
    stated = _in_text(what, source)
    english = language == "en"
    intro = SAID[what][0 if english else 1]
    if stated is not None:
        (start, end), value = stated
        fact = _citation(1, source, start, end, retrieval)
        body = f"{intro} {value} [1]."
        citations = [fact, citation(2, lead, retrieval.titles)]
        body += f" {lead.text} [2]"
    else:
        value, field = _in_metadata(what, source)
        if value is None:
            reason = f"neither the article's text nor its metadata gives its {what}"
            return abstain(question, language, reason), retrieval
        body = f"{intro} {value} {METADATA[language if language in METADATA else 'en'].format(field=field)}. {lead.text} [1]"
        citations = [citation(1, lead, retrieval.titles)]
    return Answer(
        question=question, language=language, answer=body, abstained=False, citations=citations
    ), retrieval


def _in_text(what: str, source: Source) -> tuple[tuple[int, int], str] | None:
    """Where the article's header lines state it: the span to cite and the value as said."""
    head = source.text[:HEADER_CHARS]
    if what == "outlet" and (m := _DATELINE.search(head)):
        return m.span(1), m.group(1).strip()
    if what == "author" and (m := _BYLINE.search(head)):
        return m.span(1), m.group(1).strip()
    if what == "published" and (m := _DATE_TOKEN.match(head)):
        day = dates.parse_iso(m.group(1))
        return m.span(1), dates.english(day) if day else m.group(1)
    return None


def _in_metadata(what: str, source: Source) -> tuple[str | None, str]:
    if what == "outlet":
        return source.extra.get("site"), "site"
    if what == "author":
        return source.extra.get("author"), "author"
    day = dates.parse_iso(source.date)
    return (dates.english(day) if day else source.date), "date"


def _citation(n: int, source: Source, start: int, end: int, retrieval: Retrieval) -> Citation:
    title, date = retrieval.titles.get(source.source, (source.title, source.date))
    return Citation(
        n=n,
        source=source.source,
        title=title,
        date=date,
        quote=source.text[start:end],
        start=start,
        end=end,
        chunk_id="",
        score=1.0,  # a header line: no passage
    )
