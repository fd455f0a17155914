"""Check a language model's citations before anyone sees them.

`check` keeps a sentence's [n] only when passage n was supplied and every number, date and name in the
sentence appears in a cited passage (facts.py); surviving citations are renumbered 1..N in order of first
use and mapped to exact offsets in the file (`quote == file_text[start:end]`). The reply is read first by
reply.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from langchain_core.documents import Document

from ..answer import Citation
from ..ingestion.chunking import Span, sentences
from ..text import markers
from ..text.analysis import analyze
from ..text.folding import fold
from ..text.markers import MARKER, SPACED_MARKER
from .facts import LETTERS, MID_SENTENCE_NAME, Evidence, Fact, evidence_of, facts
from .reply import QUOTE_CHARS, Reply

FACT_WEIGHT = 3  # a shared number, date or name says more about where a quote is than a shared word
MIN_QUOTED_CHARS = 4  # a shorter quoted piece ("el", "23") would be found anywhere
_LIST_ITEM = re.compile(r"^(?:[-*•]|\d{1,2}[.)])\s+")


@dataclass
class Checked:
    text: str  # the prose with only verified markers, renumbered 1..N
    citations: list[Citation]
    unsupported: list[str]  # sentences that state something no valid citation supports
    dropped: int  # citation markers removed
    cited: bool  # whether the reply cited anything at all


# --- checking ------------------------------------------------------------------------------------


@dataclass
class _Sentence:
    start: int
    end: int
    bare: str  # without markers
    facts: set[Fact]
    valid: list[int]  # passage numbers that survived
    attributed: bool = False  # copied from a passage without a marker: the marker is added


def check(
    reply: Reply,
    passages: list[Document],
    asked: str,
    language: str,
    sentence_scores: dict[tuple[str, int], float] | None = None,
) -> Checked:
    """Verify every sentence's citations against the passages (numbered from 1, as in the prompt)."""
    evidence = [evidence_of(doc) for doc in passages]
    known = set(map(fold, LETTERS.findall(asked)))
    names = {fold(w) for doc in passages for w in MID_SENTENCE_NAME.findall(doc.page_content) if analyze(w)}
    text, checked, unsupported, dropped = reply.text, [], [], 0
    for span in sentences(text, language=language if language in ("en", "es") else "es"):
        raw = text[span.start : span.end]
        cited = list(dict.fromkeys(int(n) for n in MARKER.findall(raw)))
        bare = markers.strip(raw)
        claim = _LIST_ITEM.sub("", bare)  # "1. El 23 de enero ..." claims 23, not 1
        sentence = _Sentence(span.start, span.end, bare, facts(claim, known, names), [])
        copied = None if cited else copied_from(claim, passages)
        supplied = [copied] if copied else [n for n in cited if 1 <= n <= len(passages)]
        covered = all(any(evidence[n - 1].supports(f) for n in supplied) for f in sentence.facts)
        if covered:  # and each citation kept vouches for at least one of the facts
            vouch = [n for n in supplied if any(map(evidence[n - 1].supports, sentence.facts))]
            sentence.valid = vouch if sentence.facts else supplied
        sentence.attributed = bool(copied and sentence.valid)
        dropped += max(0, len(cited) - len(sentence.valid))
        if (cited or sentence.facts) and not sentence.valid:
            unsupported.append(bare)
        checked.append(sentence)
    order = list(dict.fromkeys(n for s in checked for n in s.valid))
    renumber = {old: new for new, old in enumerate(order, start=1)}
    citations = []
    for n in order:
        claims = [s for s in checked if n in s.valid]
        quotes = reply.quotes.get(n, [])
        citations.append(_citation(renumber[n], passages[n - 1], quotes, claims, sentence_scores or {}))
    any_cited = bool(reply.quotes or MARKER.search(text))
    return Checked(_rewrite(text, checked, renumber), citations, unsupported, dropped, any_cited)


COPY_MIN_WORDS = 6
# Of a sentence's words, the share found in one passage sentence for it to count as copied from there.
# 0.8 let through a copy with an invented tail ("... del que debemos ajustar las políutas de fentanilo").
COPY_SHARE = 0.9


def copied_from(claim: str, passages: list[Document]) -> int | None:
    """The passage an uncited sentence was copied from, nearly word for word (small models copy a passage
    sentence and forget its marker); None for anything else, paraphrases and translations included."""
    words = [fold(w) for w in re.findall(r"[^\W_]+", claim)]
    if len(words) < COPY_MIN_WORDS:
        return None
    best, best_share = None, COPY_SHARE
    for n, doc in enumerate(passages, start=1):
        for have in _sentence_words(doc.page_content):
            share = sum(w in have for w in words) / len(words)
            if share >= best_share and (best is None or share > best_share):
                best, best_share = n, share
    return best


@lru_cache(maxsize=64)
def _sentence_words(passage: str) -> list[frozenset[str]]:
    spans = sentences(passage)
    return [frozenset(fold(w) for w in re.findall(r"[^\W_]+", passage[s.start : s.end])) for s in spans]


def _rewrite(text: str, checked: list[_Sentence], renumber: dict[int, int]) -> str:
    out, cursor = [], 0
    for s in checked:
        seen: set[int] = set()

        def marker(m: re.Match[str], valid: list[int] = s.valid, seen: set[int] = seen) -> str:
            n = int(m.group(1))
            if n not in valid or n in seen:
                return ""
            seen.add(n)
            return f" [{renumber[n]}]"

        out.append(text[cursor : s.start])
        segment = SPACED_MARKER.sub(marker, text[s.start : s.end]).replace("] [", "][")
        if s.attributed:  # "... seguridad." -> "... seguridad [1]."
            stop = re.search(r"[.!?…]*$", segment).start()
            segment = f"{segment[:stop]} [{renumber[s.valid[0]]}]{segment[stop:]}"
        out.append(segment)
        cursor = s.end
    out.append(text[cursor:])
    return "".join(out).strip()


# --- quotes -> exact offsets ---------------------------------------------------------------------


def _citation(
    n: int, doc: Document, quotes: list[str], claims: list[_Sentence], scores: dict[tuple[str, int], float]
) -> Citation:
    meta, passage = doc.metadata, doc.page_content
    spans = sentences(passage)
    located = [span for q in quotes for span in [locate(q, passage)] if span]
    if located:
        start, end = min(a for a, _ in located), max(b for _, b in located)
        # widen a short quote to the sentences around it, so the source reads as a whole
        start = min([s.start for s in spans if s.start <= start < s.end] + [start])
        end = max([s.end for s in spans if s.start < end <= s.end] + [end])
    else:
        start, end = _best_sentence(passage, spans, claims, meta, scores)
    return Citation(
        n=n,
        source=meta["source"],
        title=meta.get("title", ""),
        date=meta.get("date"),
        quote=passage[start:end],
        start=meta["start"] + start,
        end=meta["start"] + end,
        chunk_id=meta.get("chunk_id", doc.id or ""),
        score=float(meta.get("score", 0.0)),
    )


def _best_sentence(
    passage: str, spans: list[Span], claims: list[_Sentence], meta: dict, scores: dict[tuple[str, int], float]
) -> tuple[int, int]:
    """The passage sentence sharing most facts, then terms, with the claims; ties: retrieval's choice."""
    if not spans:
        return 0, len(passage)
    claim_facts = set().union(*(c.facts for c in claims)) if claims else set()
    claim_terms = {t for c in claims for t in analyze(c.bare)}

    def key(span: Span) -> tuple[float, float, int]:
        text = passage[span.start : span.end]
        ev = Evidence.of(text)
        shared = sum(ev.supports(f) for f in claim_facts) * FACT_WEIGHT + len(
            claim_terms & set(analyze(text))
        )
        return shared, scores.get((meta["source"], meta["start"] + span.start), 0.0), -span.start

    best = max(spans, key=key)
    return best.start, best.end


def locate(quote: str, passage: str) -> tuple[int, int] | None:
    """Offsets of the quoted words in the passage: exact, else ignoring case, accents, spacing and quote
    marks; a quote abridged with "..." is located piece by piece."""
    found = []
    for piece in re.split(r"\.\.\.|…", quote):
        piece = piece.strip(QUOTE_CHARS + ".,;:")
        if len(piece) < MIN_QUOTED_CHARS:
            continue
        i = passage.find(piece)
        span = (i, i + len(piece)) if i >= 0 else _locate_folded(piece, passage)
        if span:
            found.append(span)
    return (min(a for a, _ in found), max(b for _, b in found)) if found else None


def _folded(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        out = " " if ch.isspace() else '"' if ch in '"“”«»„' else "'" if ch in "‘’" else fold(ch)
        if out == " " and chars and chars[-1] == " ":
            continue
        chars.extend(out)
        index.extend([i] * len(out))
    return "".join(chars), index


def _locate_folded(piece: str, passage: str) -> tuple[int, int] | None:
    haystack, index = _folded(passage)
    needle = _folded(piece)[0].strip()
    i = haystack.find(needle) if needle else -1
    return (index[i], index[i + len(needle) - 1] + 1) if i >= 0 else None
