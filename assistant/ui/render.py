"""HTML and Markdown for the chat page: answers with [n] links, source cards, the article view.

Pure functions of their inputs (no Gradio, no I/O), so they are easy to read and to test."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..answer import Answer, Citation
from ..ingestion.corpus import Article, human_size
from ..text.markers import MARKER

CONTEXT_CHARS = 360  # paragraph text kept on each side of a quote in a source card


@dataclass(frozen=True)
class ArticleRow:
    source: str
    title: str
    date: str | None
    size: int  # bytes on disk


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def meta_line(date: str | None, source: str, extra: str = "") -> str:
    parts = [date or "undated", source] + ([extra] if extra else [])
    return f"<div class='meta'>{' · '.join(esc(p) for p in parts)}</div>"


# Chat messages ------------------------------------------------------------------------------------------


def cite_links(text: str, turn: int, numbers: set[int]) -> str:
    """Escaped text whose [n] markers link to the source cards (the sanitizer keeps class and href)."""

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f"<a class='cite' href='#source-{turn}-{n}' title='Show source {n}'>[{n}]</a>"

    return MARKER.sub(link, esc(text))


def _short_numbers(short) -> list[int]:
    """The citation that holds a short answer; each citation a derived one rests on."""
    if short.kind == "derived":
        return list(dict.fromkeys(f.n for f in short.rests_on))
    return [short.n]


def _how(short) -> str:
    """How a short answer was read: the computation of a derived one, the date a relative one names."""
    if short.derivation:
        return short.derivation
    return f"({short.resolved})" if short.resolved else ""


def answer_html(result: Answer, turn: int) -> str:
    """The chat message for an answer: the short answer first (highlighted), for an English question the
    labelled English rendering, then the verbatim quotes with linked markers, then any warnings."""
    if result.abstained:
        return f"<div class='answer abstained'>{esc(result.answer)}</div>" + warnings_html(result.warnings)
    numbers = {c.n for c in result.citations}
    english = result.language == "en"
    parts = []
    short = result.short_answer
    if short is not None:
        short_en = result.translations.get("short_answer_en") if english else None
        rendering = (
            f" <span class='mt-label'>machine translation</span><span class='short-en'>{esc(short_en)}</span>"
            if short_en and short_en != short.text
            else ""
        )
        link = cite_links(" ".join(f"[{n}]" for n in _short_numbers(short)), turn, numbers)
        how = _how(short)
        how = f" <span class='derivation'>{esc(how)}</span>" if how else ""
        parts.append(
            f"<div class='short-answer'><mark class='short'>{esc(short.text)}</mark> {link}{how}{rendering}</div>"
        )
    answer_en = result.translations.get("answer_en") if english else None
    if answer_en:
        parts.append(
            "<div class='answer-en mt'><span class='mt-label'>machine translation</span> "
            f"{cite_links(answer_en, turn, numbers)}</div>"
        )
    parts.append(f"<div class='answer'>{_quotes_html(result, turn, numbers)}</div>")
    return "".join(parts) + warnings_html(result.warnings)


def _quotes_html(result: Answer, turn: int, numbers: set[int]) -> str:
    """The answer text with linked markers; the short answer, when the first quote holds it, in <mark>."""
    text, short = result.answer, result.short_answer
    first = next((c for c in result.citations if short is not None and c.n == short.n), None)
    if short is None or first is None or not text.startswith(first.quote):
        return cite_links(text, turn, numbers)
    a, b = short.start - first.start, short.end - first.start
    if not (0 <= a < b <= len(first.quote)) or first.quote[a:b] != short.text:
        return cite_links(text, turn, numbers)
    return (
        cite_links(text[:a], turn, numbers)
        + f"<mark class='short'>{esc(text[a:b])}</mark>"
        + cite_links(text[b:], turn, numbers)
    )


def warnings_html(warnings: list[str]) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return f"<div class='warnings'><b>⚠ Check before use:</b><ul>{items}</ul></div>"


def notice_html(text: str, cls: str = "notice-msg") -> str:
    """A message that is not an answer (bad input, a failure, still indexing)."""
    return f"<div class='{cls}'>{esc(text)}</div>"


def user_html(question: str, limit: int = 400) -> str:
    shown = question if len(question) <= limit else question[:limit] + "…"
    return esc(shown)


# Sources panel ------------------------------------------------------------------------------------------


def empty_sources_html() -> str:
    return "<p class='notice'>Sources for the answer appear here: click a [n] marker to jump to one.</p>"


def paragraph_html(article: Article, start: int, end: int) -> str:
    """The paragraph around text[start:end] with that span in <mark> (long paragraphs are trimmed)."""
    text = article.text
    p_start = text.rfind("\n", 0, start) + 1
    if p_start < article.body_start <= start:  # not the date token before the first paragraph
        p_start = article.body_start
    p_end = text.find("\n", end)
    p_end = len(text) if p_end == -1 else p_end
    before, after = text[p_start:start], text[end:p_end]
    if len(before) > CONTEXT_CHARS:
        before = "…" + before[-CONTEXT_CHARS:].split(" ", 1)[-1]
    if len(after) > CONTEXT_CHARS:
        after = after[:CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    return f"{esc(before.lstrip())}<mark>{esc(text[start:end])}</mark>{esc(after.rstrip())}"


def reported_html(c: Citation, total: int | None) -> str:
    """ "Reported by N of M articles", and the other articles that state the same fact."""
    if not total or total < 2:
        return ""
    n = 1 + len({a.source for a in c.also_in})
    head = f"<div class='reported'>reported by {n} of {total} articles</div>"
    if not c.also_in:
        return head
    items = "".join(
        f"<li><b>{esc(a.title)}</b> {meta_line(a.date, f'{a.source}:{a.start}-{a.end}')}"
        f"<span class='also-quote'>“{esc(a.quote)}”</span></li>"
        for a in c.also_in
    )
    return f"{head}<details class='also-in'><summary>also in {len(c.also_in)} other article{'s' * (len(c.also_in) > 1)}</summary><ul>{items}</ul></details>"


def source_card(
    c: Citation, turn: int, article: Article | None, translation: str | None, total: int | None = None
) -> str:
    if article is not None and article.text[c.start : c.end] == c.quote:
        passage = paragraph_html(article, c.start, c.end)
    else:  # the file changed or vanished since it was indexed: show the quote alone
        passage = f"<mark>{esc(c.quote)}</mark> <i>(the article has changed since it was indexed)</i>"
    mt = (
        f"<div class='mt'><span class='mt-label'>machine translation</span> {esc(translation)}</div>"
        if translation
        else ""
    )
    return (
        f"<div class='source-card' id='source-{turn}-{c.n}'>"
        f"<div class='card-head'><span class='badge'>[{c.n}]</span> <b>{esc(c.title)}</b></div>"
        f"{meta_line(c.date, c.source, f'page {c.page}' if c.page else '')}{reported_html(c, total)}"
        f"<blockquote class='passage'>{passage}</blockquote>{mt}"
        f"<button class='open-article' data-source='{esc(c.source)}' data-n='{c.n}'>"
        "Show in article ›</button></div>"
    )


def sources_html(
    result: Answer | None,
    turn: int,
    article: Callable[[str], Article | None],
    translate: Callable[[str], str | None] = lambda _: None,
    latest: bool = True,
    total: int | None = None,
) -> str:
    """The cards for an answer's citations; `article` reads a source, `translate` renders a quote, `total`:
    how many articles are indexed ("reported by 2 of 5 articles")."""
    if result is None:
        return empty_sources_html()
    head = "" if latest else f"<p class='notice'>Sources of an earlier answer: “{esc(result.question)}”</p>"
    if result.abstained or not result.citations:
        return head + "<p class='notice'>No sources: the articles do not answer this question.</p>"
    cards = [source_card(c, turn, article(c.source), translate(c.quote), total) for c in result.citations]
    return head + "\n".join(cards)


# Articles view ------------------------------------------------------------------------------------------


def articles_html(rows: list[ArticleRow], open_source: str | None = None, skipped: Sequence[str] = ()) -> str:
    """The article list (buttons that open an article), then the files left out, each with its reason."""
    if not rows:
        return "<p class='notice'>No articles indexed yet.</p>" + _skipped_html(skipped)
    items = []
    for row in rows:
        cls = "article-row open" if row.source == open_source else "article-row"
        items.append(
            f"<button class='{cls}' data-source='{esc(row.source)}'>"
            f"<span class='title'>{esc(row.title)}</span>"
            f"{meta_line(row.date, row.source, human_size(row.size))}</button>"
        )
    return f"<div class='article-list'>{''.join(items)}</div>" + _skipped_html(skipped)


def _skipped_html(skipped: Sequence[str]) -> str:
    if not skipped:
        return ""
    items = "".join(f"<li>{esc(line)}</li>" for line in skipped)
    label = f"{len(skipped)} file{'s' if len(skipped) > 1 else ''} not indexed"
    return f"<details class='skipped' id='skipped-files'><summary>{label}</summary><ul>{items}</ul></details>"


def article_html(
    article: Article, size: int, citations: list[Citation], focus: int | None, question: str | None
) -> str:
    """The full article text with the given citations in <mark>; the focused one is scrolled to."""
    text, pos, parts = article.text, article.body_start, []
    for c in sorted(citations, key=lambda c: c.start):
        if c.start < pos or c.end > article.body_end or text[c.start : c.end] != c.quote:
            continue  # overlapping, outside the body or stale: not highlighted
        cls = "cited focus" if c.n == focus else "cited"
        parts.append(esc(text[pos : c.start]))
        quote = esc(c.quote).replace("\n", " ")  # a mark must not straddle a paragraph break
        parts.append(f"<mark class='{cls}' id='cited-{c.n}'>{quote}</mark><sup>[{c.n}]</sup>")
        pos = c.end
    parts.append(esc(text[pos : article.body_end]))
    body = "".join(f"<p>{line}</p>" for line in "".join(parts).split("\n") if line.strip())
    note = ""
    if question and citations:
        note = f"<p class='notice'>Highlighted: the sentences cited for “{esc(question)}”.</p>"
    return (
        f"<div class='article-view'><h3>{esc(article.title)}</h3>"
        f"{meta_line(article.date, article.source, _size_and_page(size, citations, focus))}{note}"
        f"<div class='article-body'>{body}</div></div>"
    )


def _size_and_page(size: int, citations: list[Citation], focus: int | None) -> str:
    """The file's size, and for a PDF the page of the citation in focus."""
    page = next((c.page for c in citations if c.n == focus and c.page), None)
    return human_size(size) + (f" · cited on page {page}" if page else "")


def empty_article_html() -> str:
    return "<p class='notice'>Choose an article on the left, or click “Show in article” on a source card.</p>"


# Markdown export ----------------------------------------------------------------------------------------


def answer_markdown(result: Answer) -> str:
    """The answer as Markdown, its [n] markers as footnotes that quote the source."""
    numbers = {c.n for c in result.citations}

    def footnote(match: re.Match[str]) -> str:
        return f"[^{match.group(1)}]" if int(match.group(1)) in numbers else match.group(0)

    text = MARKER.sub(footnote, result.answer)
    lines = [f"**Question:** {result.question}", ""]
    if result.short_answer is not None:
        short = result.short_answer
        notes = " ".join(f"[^{n}]" for n in _short_numbers(short))
        detail = short.derivation or short.resolved
        how = f" ({detail})" if detail else ""
        lines += [f"**Answer:** {short.text}{how} {notes}", ""]
    answer_en = result.translations.get("answer_en") if result.language == "en" else None
    if answer_en:
        lines += [f"*Machine translation:* {MARKER.sub(footnote, answer_en)}", ""]
    lines.append(text)
    for warning in result.warnings:
        lines += ["", f"> ⚠ {warning}"]
    if result.citations:
        lines.append("")
    for c in result.citations:
        where = f"{c.date or 'undated'}, `{c.source}`, characters {c.start}–{c.end}"
        also = "".join(f"; also in *{a.title}* (`{a.source}`, {a.start}–{a.end})" for a in c.also_in)
        lines.append(f"[^{c.n}]: “{c.quote}” — *{c.title}* ({where}){also}")
    return "\n".join(lines)


def status_html(state: str, text: str) -> str:
    return f"<div class='status status-{esc(state)}'>{esc(text)}</div>"


def upload_report_html(lines: list[tuple[bool, str]]) -> str:
    """One line per uploaded file: ✓ saved/indexed, or ✗ and why it was rejected."""
    items = "".join(
        f"<li class='{'upload-ok' if ok else 'upload-bad'}'>{'✓' if ok else '✗'} {esc(text)}</li>"
        for ok, text in lines
    )
    return f"<ul class='upload-lines'>{items}</ul>"
