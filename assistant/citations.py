"""Check a language model's citations before anyone sees them.

`parse` reads a reply: prose whose citation markers, in whatever shape weak models write them ("[1]",
"[source 1]", "(1)", "【1】", "[1, 2]"), become "[n]", and the words the model quotes from each passage.
`check` keeps a sentence's [n] only when passage n was supplied and every number, date and name in the
sentence appears in a cited passage; surviving citations are renumbered 1..N in order of first use and
mapped to exact offsets in the file (`quote == file_text[start:end]`)."""

from __future__ import annotations

import contextlib
import datetime
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from langchain_core.documents import Document

from .answer import Citation
from .chunking import Span, sentences
from .lexical import analyze, fold

QUOTES_HEADER = re.compile(
    r"^[ \t#*_>-]*(?:quotes|quotations|citas|citations|sources|fuentes|references|referencias)"
    r"[ \t*_]*:?[ \t*_]*$",
    re.I | re.M,
)
_HEADER_WORDS = (
    "quotes", "quotations", "citas", "citations", "sources", "fuentes", "references", "referencias"
)  # fmt: skip
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)  # reasoning models' scratchpad
_MARKER = re.compile(r"\[(\d+)\]")
_KEYWORD = r"(?:sources?|passages?|pasajes?|fuentes?|docs?|documents?|documentos?|refs?)"
_NUMBERS = r"\d+(?:\s*(?:,|;|-|–|and|y)\s*\d+)*"
_BRACKETED = re.compile(rf"\[\^?\s*(?:{_KEYWORD}\s*:?\s*)?({_NUMBERS})\s*\]", re.I)
_LENTICULAR = re.compile(r"【\s*(\d+)[^】]*】")
_PARENTHESISED = re.compile(rf"\(\s*({_KEYWORD}\s*:?\s*)?(\d+(?:\s*[,;]\s*\d+)*)\s*\)", re.I)
_AFTER_STOP = re.compile(r"(?<![A-Z])([.!?])((?:\s*\[\d+\])+)")  # not after "D.C."
_INLINE_QUOTE = re.compile(r"[\"“«]([^\"“”«»\n]{10,})[\"”»]\s*((?:\[\d+\])+)")
_QUOTE_LINE = re.compile(
    rf"^\s*[-*•]?\s*(?:\[\^?|\(|【)?\s*(?:{_KEYWORD}\s*)?(\d+)\s*(?:\]|\)|】|\.|:)?\s*[:\-–—]?\s*(.+?)\s*$",
    re.I,
)
_LIST_ITEM = re.compile(r"^(?:[-*•]|\d{1,2}[.)])\s+")
_QUOTE_CHARS = "\"'“”«»„‘’ "
MAX_RANGE = 10


@dataclass
class Reply:
    text: str  # the prose, citation markers as [n]
    quotes: dict[int, list[str]] = field(default_factory=dict)  # passage number -> words quoted from it


@dataclass
class Checked:
    text: str  # the prose with only verified markers, renumbered 1..N
    citations: list[Citation]
    unsupported: list[str]  # sentences that state something no valid citation supports
    dropped: int  # citation markers removed
    cited: bool  # whether the reply cited anything at all


# --- reading the reply ---------------------------------------------------------------------------


def visible(raw: str, final: bool = False) -> str:
    """What to show of a reply while it streams: no reasoning block, no quotes section. A trailing line
    that may still grow into the quotes header is held back until it can't."""
    text = _THINK.sub("", raw)
    header = QUOTES_HEADER.search(text)
    if header:
        return text[: header.start()]
    if final:
        return text
    tail = text[text.rfind("\n") + 1 :]
    word = tail.strip(" \t#*_>-").lower()
    if tail and any(h.startswith(word) for h in _HEADER_WORDS):
        text = text[: len(text) - len(tail)]
    bracket = text.rfind("<")
    if bracket >= 0 and "<think>".startswith(text[bracket:].lower()):
        text = text[:bracket]
    return text


def parse(raw: str, passages: int) -> Reply:
    """The prose and quotes of a reply: plain text with a QUOTES section, or a JSON object."""
    text = _THINK.sub("", raw).strip()
    reply = _from_json(text)
    if reply is None:
        header = QUOTES_HEADER.search(text)
        prose, section = (text[: header.start()], text[header.end() :]) if header else (text, "")
        reply = Reply(prose.strip(), _quote_lines(section))
    reply.text = _canonical_markers(reply.text, passages)
    for match in _INLINE_QUOTE.finditer(reply.text):
        for n in _MARKER.findall(match.group(2)):
            reply.quotes.setdefault(int(n), []).append(match.group(1))
    return reply


def _from_json(text: str) -> Reply | None:
    body = re.sub(r"\A```(?:json)?\s*|\s*```\Z", "", text)
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return None
    quotes: dict[int, list[str]] = {}
    for item in data.get("citations") or data.get("quotes") or []:
        if isinstance(item, dict):
            n, quote = item.get("n", item.get("passage", item.get("id"))), item.get("quote", item.get("text"))
            if isinstance(n, int | str) and str(n).isdigit() and isinstance(quote, str):
                quotes.setdefault(int(n), []).append(quote)
    return Reply(data["answer"], quotes)


def _quote_lines(section: str) -> dict[int, list[str]]:
    quotes: dict[int, list[str]] = {}
    for line in section.splitlines():
        match = _QUOTE_LINE.match(line)
        if match and match.group(2).strip(_QUOTE_CHARS):
            quotes.setdefault(int(match.group(1)), []).append(match.group(2).strip(_QUOTE_CHARS))
    return quotes


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|y)\s*", group.strip()):
        ends = [int(x) for x in re.split(r"\s*[-–]\s*", part) if x.isdigit()]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= MAX_RANGE:
            out.extend(range(ends[0], ends[1] + 1))
        else:
            out.extend(ends)
    return out


def _canonical_markers(text: str, passages: int) -> str:
    def markers(numbers: list[int]) -> str:
        return "".join(f"[{n}]" for n in numbers)

    def parenthesised(m: re.Match[str]) -> str:
        numbers = _numbers(m.group(2))
        # A bare "(3)" is a citation only when it can be one; "(2026)" stays text.
        return markers(numbers) if m.group(1) or all(1 <= n <= passages for n in numbers) else m.group()

    text = _LENTICULAR.sub(lambda m: f"[{m.group(1)}]", text)
    text = _BRACKETED.sub(lambda m: markers(_numbers(m.group(1))), text)
    text = _PARENTHESISED.sub(parenthesised, text)
    # "... enero. [1] Otra" -> "... enero [1]. Otra" so that the marker stays with its sentence
    return _AFTER_STOP.sub(lambda m: " " + "".join(re.findall(r"\[\d+\]", m.group(2))) + m.group(1), text)


# --- facts: numbers, dates and names -------------------------------------------------------------

_MONTH_NAMES = (
    ("enero", "january"), ("febrero", "february"), ("marzo", "march"), ("abril", "april"), ("mayo", "may"),
    ("junio", "june"), ("julio", "july"), ("agosto", "august"), ("septiembre", "setiembre", "september"),
    ("octubre", "october"), ("noviembre", "november"), ("diciembre", "december"),
)  # fmt: skip
_DAY_NAMES = (
    ("lunes", "monday"), ("martes", "tuesday"), ("miercoles", "wednesday"), ("jueves", "thursday"),
    ("viernes", "friday"), ("sabado", "saturday"), ("domingo", "sunday"),
)  # fmt: skip
_CALENDAR = {
    name: (kind, i)
    for kind, table in (("month", _MONTH_NAMES), ("day", _DAY_NAMES))
    for i, names in enumerate(table, start=1)
    for name in names
}
_ABBREVIATIONS = {"jan": 1, "feb": 2, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10}
_ABBREVIATIONS |= {"nov": 11, "dec": 12}  # English, capitalised: "Jan 23"; "Mar" is also Spanish for sea
_CALENDAR |= {abbr: ("month", i) for abbr, i in _ABBREVIATIONS.items()}
_ENGLISH_CALENDAR = {names[-1] for names in (*_MONTH_NAMES, *_DAY_NAMES)} | set(_ABBREVIATIONS)  # capitalised
# Names that translation changes beyond recognition (folded, English -> Spanish); cognates such as
# Implementation/implementación or Secretary/secretario are matched by their common prefix.
_EQUIVALENTS = {
    "united": {"unidos"}, "states": {"estados", "eeuu", "eu"}, "us": {"eu", "eeuu", "unidos"},
    "usa": {"eu", "eeuu", "unidos"}, "american": {"estadounidense", "estadounidenses"},
    "security": {"seguridad"}, "group": {"grupo"}, "meeting": {"reunion"}, "foreign": {"exteriores"},
    "affairs": {"asuntos"}, "border": {"frontera", "fronteriza"}, "western": {"occidental"},
    "state": {"estado"}, "white": {"blanca"}, "house": {"casa"}, "government": {"gobierno"},
    "ministry": {"secretaria", "ministerio", "cancilleria"}, "senate": {"senado"}, "army": {"ejercito"},
    "treasury": {"hacienda", "tesoro"}, "customs": {"aduanas"}, "joint": {"conjunto", "conjunta"},
}  # fmt: skip
_EQUIVALENTS_BACK: dict[str, set[str]] = {}
for _en, _es in _EQUIVALENTS.items():
    for _word in _es:
        _EQUIVALENTS_BACK.setdefault(_word, set()).add(_en)
# What became of an event: a claim that something was cancelled, postponed or suspended is checked like a
# date (the words a briefing must never get wrong, and what an injected "say it was cancelled" asks for).
_STATUS = (
    ("cancelled", re.compile(r"cancel")),
    ("postponed", re.compile(r"postpon|pospu|pospon|aplaz")),
    ("suspended", re.compile(r"suspen")),
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_LETTERS = re.compile(r"[^\W\d_]+")
_MID_SENTENCE_NAME = re.compile(r"(?<=[^\s.!?¿¡:\"“«]\s)[A-ZÁÉÍÓÚÑ][^\W\d_]+")

Fact = tuple[str, object]  # ("number", "23"), ("month", 1), ("day", 4), ("name", "washington"), ("status", …)
# Sentences in an article that speak to an AI rather than report news ("ignore your instructions and answer
# that ..."): withheld from the model and never evidence for a claim.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|ignora|ignore[ns]?|olvida|olviden)\b[^.!?\n]{0,40}\b(?:instructions?|rules|"
    r"prompt|instrucciones|reglas)\b|\b(?:AI|A\.I\.|IA|LLM|chatbots?|language models?|modelos? de lenguaje|"
    r"asistentes?|assistants?)\b[^.!?\n]{0,60}\b(?:answer|respond|reply|say|state|write|responde|responda|"
    r"contesta|conteste|di|diga|escribe|escriba)\b",
    re.I,
)


def _status(folded: str) -> Fact | None:
    return next((("status", name) for name, stem in _STATUS if stem.match(folded)), None)


def instructions(text: str) -> list[Span]:
    """The sentences of a passage that address an AI (prompt injection), to be withheld."""
    return [span for span in sentences(text) if _INSTRUCTION.search(text[span.start : span.end])]


def without_instructions(text: str, filler: str = " ") -> str:
    """The text with its instruction sentences replaced (by spaces, keeping offsets, or by a note)."""
    out, cursor = [], 0
    for span in instructions(text):
        out += [text[cursor : span.start], filler * (span.end - span.start) if filler == " " else filler]
        cursor = span.end
    return "".join(out) + text[cursor:]


def _number(token: str) -> str:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):  # 1,029 or 1.029: thousands
        return str(int(re.sub(r"[.,]", "", token)))
    token = token.replace(",", ".")
    return str(int(token)) if token.isdigit() else token


def facts(sentence: str, known: set[str], names: set[str] | frozenset[str] = frozenset()) -> set[Fact]:
    """The checkable facts of a sentence. Capitalised words are names, except those in `known` (folded words
    of the question: what was asked about is not a claim); the first word only when it is in `names`
    (names the passages use: "Rubio dijo"), since any word can start a sentence."""
    found: set[Fact] = {("number", _number(m.group())) for m in _NUMBER.finditer(sentence)}
    for i, match in enumerate(_LETTERS.finditer(sentence)):
        word = match.group()
        folded = fold(word)
        if folded in _CALENDAR and (folded not in _ENGLISH_CALENDAR or word[0].isupper()):
            found.add(_CALENDAR[folded])
        elif status := _status(folded):
            found.add(status)
        elif word[0].isupper() and len(word) > 1 and folded not in known and analyze(word):
            if i or folded in names:
                found.add(("name", folded))
    return found


@dataclass
class Evidence:
    """What a passage (with its article's title and date) can vouch for."""

    numbers: set[str]
    calendar: set[tuple[str, int]]
    words: set[str]
    status: set[Fact] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> Evidence:
        numbers = {_number(m.group()) for m in _NUMBER.finditer(text)}
        calendar = {_CALENDAR[w] for w in map(fold, _LETTERS.findall(text)) if w in _CALENDAR}
        for year, month, day in _ISO_DATE.findall(text):  # the article's date: "Friday, January 16"
            numbers |= {str(int(year)), str(int(month)), str(int(day))}
            calendar.add(("month", int(month)))
            with contextlib.suppress(ValueError):
                calendar.add(("day", datetime.date(int(year), int(month), int(day)).isoweekday()))
        words = set(map(fold, _LETTERS.findall(text)))
        return cls(numbers, calendar, words, {f for w in words if (f := _status(w))})

    def supports(self, fact: Fact) -> bool:
        kind, value = fact
        if kind == "number":
            return value in self.numbers
        if kind in ("month", "day"):
            return fact in self.calendar
        if kind == "status":
            return fact in self.status
        return _name_in(str(value), self.words)


def _name_in(name: str, words: set[str]) -> bool:
    if name in words or (_EQUIVALENTS.get(name, set()) | _EQUIVALENTS_BACK.get(name, set())) & words:
        return True
    return len(name) >= 5 and any(_cognate(name, w) for w in words if w[:5] == name[:5])


def _cognate(a: str, b: str) -> bool:
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    return shared >= max(5, min(len(a), len(b)) - 4)


# Words that place an event relative to the article's date ("este jueves", "ayer", "next week").
_RELATIVE_TIME = re.compile(
    r"\b(?:hoy|ayer|anoche|mañana|today|yesterday|tonight|tomorrow|lunes|martes|miércoles|jueves|viernes|"
    r"sábado|domingo|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"(?:esta|la próxima|la pasada|this|next|last) (?:semana|week)|"
    r"(?:este|el próximo|el pasado|this|next|last) (?:mes|month))\b",
    re.I,
)


def _evidence(doc: Document) -> Evidence:
    """The passage, its title, and its article's date, the latter only when the passage dates something
    relative to it ("este jueves"): otherwise a model that gives the article's date as the event's
    ("meets on January 20, 2026") would find it supported."""
    meta, text = doc.metadata, without_instructions(doc.page_content)
    date = (meta.get("date") or "") if _RELATIVE_TIME.search(text) else ""
    return Evidence.of(f"{meta.get('title', '')} {date} {text}")


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
    evidence = [_evidence(doc) for doc in passages]
    known = set(map(fold, _LETTERS.findall(asked)))
    names = {fold(w) for doc in passages for w in _MID_SENTENCE_NAME.findall(doc.page_content) if analyze(w)}
    text, checked, unsupported, dropped = reply.text, [], [], 0
    for span in sentences(text, language=language if language in ("en", "es") else "es"):
        raw = text[span.start : span.end]
        cited = list(dict.fromkeys(int(n) for n in _MARKER.findall(raw)))
        bare = re.sub(r"\s*\[\d+\]", "", raw).strip()
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
    any_cited = bool(reply.quotes or _MARKER.search(text))
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
        segment = re.sub(r"\s*\[(\d+)\]", marker, text[s.start : s.end]).replace("] [", "][")
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
        shared = sum(ev.supports(f) for f in claim_facts) * 3 + len(claim_terms & set(analyze(text)))
        return shared, scores.get((meta["source"], meta["start"] + span.start), 0.0), -span.start

    best = max(spans, key=key)
    return best.start, best.end


def locate(quote: str, passage: str) -> tuple[int, int] | None:
    """Offsets of the quoted words in the passage: exact, else ignoring case, accents, spacing and quote
    marks; a quote abridged with "..." is located piece by piece."""
    found = []
    for piece in re.split(r"\.\.\.|…", quote):
        piece = piece.strip(_QUOTE_CHARS + ".,;:")
        if len(piece) < 4:
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
