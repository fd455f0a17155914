"""Reading a language model's reply: prose whose citation markers, in whatever shape weak models write
them ("[1]", "[source 1]", "(1)", "【1】", "[1, 2]"), become "[n]", and the words the model quotes from each
passage (a "Quotes:" section, or JSON)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..text.markers import MARKER

QUOTES_HEADER = re.compile(
    r"^[ \t#*_>-]*(?:quotes|quotations|citas|citations|sources|fuentes|references|referencias)"
    r"[ \t*_]*:?[ \t*_]*$",
    re.I | re.M,
)
_HEADER_WORDS = (
    "quotes", "quotations", "citas", "citations", "sources", "fuentes", "references", "referencias"
)  # fmt: skip
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)  # reasoning models' scratchpad
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
QUOTE_CHARS = "\"'“”«»„‘’ "
MAX_RANGE = 10


@dataclass
class Reply:
    text: str  # the prose, citation markers as [n]
    quotes: dict[int, list[str]] = field(default_factory=dict)  # passage number -> words quoted from it


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
        for n in MARKER.findall(match.group(2)):
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
        if match and match.group(2).strip(QUOTE_CHARS):
            quotes.setdefault(int(match.group(1)), []).append(match.group(2).strip(QUOTE_CHARS))
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
    return _AFTER_STOP.sub(
        lambda m: " " + "".join(f"[{n}]" for n in MARKER.findall(m.group(2))) + m.group(1), text
    )
