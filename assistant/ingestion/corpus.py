"""The corpus folder: which files are articles (confined to the folder, within the size limit), and the
articles in a file's bytes (every format, via `formats`), each with its canonical text, date, title and
the span worth indexing."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import formats
from .formats import UnreadableFile

SUFFIXES = formats.SUFFIXES
_DATE = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
# Comment-counter junk left by news sites at the end of a scraped page.
_TRAILING_JUNK = re.compile(
    r"(?:\s*\b(?:comentarios|comments)\b\s*\d*\s*(?:comentarios?|comments?)?)+\s*\Z", re.IGNORECASE
)
_TITLE_CHARS = 120


@dataclass(frozen=True)
class Article:
    source: str  # path relative to the corpus directory, with forward slashes (or a part of a file)
    text: str  # the canonical text: every offset refers to it
    title: str
    date: str | None
    body_start: int  # the indexable span: after front matter and the date token, before trailing junk
    body_end: int
    format: str = "text"
    extra: dict = field(default_factory=dict)  # pages (PDF), author, site, link, parent (attachment)

    @property
    def body(self) -> str:
        return self.text[self.body_start : self.body_end]


# Reading a file's articles -------------------------------------------------------------------------------


def read_articles(source: str, data: bytes) -> tuple[list[Article], list[str]]:
    """The articles in one file's bytes, and warnings naming them (re-encoded, a page without text...).
    Raises UnreadableFile when there is none."""
    articles, warnings = [], []
    for item in formats.extract(data, source):
        warnings += [f"{item.source}: {w}" for w in item.warnings]
        try:
            articles.append(_article(item))
        except UnreadableFile as exc:
            warnings.append(str(exc))
    if not articles:
        raise UnreadableFile(source, warnings.pop() if warnings else "no text to index")
    return articles, warnings


def _article(item: formats.Extracted) -> Article:
    extra = {k: v for k in ("author", "site", "link", "parent") if (v := getattr(item, k))}
    if item.pages:
        extra["pages"] = [list(p) for p in item.pages]
    if item.format in ("text", "markdown"):
        parsed = parse(item.source, item.text, item.body_start)
        return Article(
            item.source,
            item.text,
            _short_title(item.title) if item.title else parsed.title,
            item.date or parsed.date,
            parsed.body_start,
            parsed.body_end,
            item.format,
            extra,
        )
    end = len(item.text.rstrip())
    if end == 0:
        raise UnreadableFile(item.source, "no text to index")
    title = item.title or item.text.lstrip().split("\n", 1)[0]
    return Article(item.source, item.text, _short_title(title), item.date, 0, end, item.format, extra)


def parse(source: str, text: str, start: int = 0) -> Article:
    """Find the date token, the title and the indexable span of a text file's canonical text (from
    `start`, after any front matter)."""
    match = _DATE.match(text, start)
    date = match.group(1) if match else None
    start = match.end() if match else start + len(text[start:]) - len(text[start:].lstrip())
    junk = _TRAILING_JUNK.search(text, start)
    end = junk.start() if junk else len(text.rstrip())
    end = start + len(text[start:end].rstrip())
    if end <= start:
        raise UnreadableFile(source, "empty")
    first_line = text[start:end].split("\n", 1)[0].strip()
    return Article(source, text, _short_title(first_line), date, start, end)


def _short_title(line: str) -> str:
    if len(line) <= _TITLE_CHARS:
        return line
    return line[:_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


# Which files are articles -----------------------------------------------------------------------------


@dataclass
class Scan:
    """The article files under a corpus folder, by source id, and one line for each thing left out."""

    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    other_types: Counter = field(default_factory=Counter)  # suffix -> files of types we do not read

    @property
    def notice(self) -> str | None:
        if not self.other_types:
            return None
        kinds = ", ".join(f"{n} {suffix or '(no suffix)'}" for suffix, n in self.other_types.most_common())
        return f"ignored {sum(self.other_types.values())} file(s) of types not read ({kinds})"


def scan(corpus_dir: Path, max_bytes: int) -> Scan:
    """Walk the corpus folder: regular files with a suffix we read, up to max_bytes each. Links are
    followed only to files inside the folder; hidden files (".name") are not articles; loops, links
    out, special files, unreadable folders and oversized files are each named once."""
    result, root = Scan(), corpus_dir.resolve()
    _walk(root, root, max_bytes, result)
    result.files = dict(sorted(result.files.items()))
    return result


def _walk(folder: Path, root: Path, max_bytes: int, result: Scan) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        result.warnings.append(f"{_source(folder, root)}/: folder cannot be read ({exc.strerror}), skipped")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        source = _source(path, root)
        if entry.is_symlink():
            why = _link_problem(path, root)
            if why:
                result.warnings.append(f"{source}: {why}, skipped")
                continue
        try:
            info = path.stat()
        except OSError as exc:
            result.warnings.append(f"{source}: cannot be read ({exc.strerror}), skipped")
            continue
        if stat.S_ISDIR(info.st_mode):
            if not entry.is_symlink():  # a linked folder inside the corpus is indexed at its own place
                _walk(path, root, max_bytes, result)
            continue
        suffix = PurePosixPath(entry.name).suffix.lower()
        if suffix not in SUFFIXES:
            result.other_types[suffix] += 1
        elif not stat.S_ISREG(info.st_mode):
            result.warnings.append(f"{source}: not a regular file (a pipe or a device), skipped")
        elif info.st_size > max_bytes:
            result.warnings.append(
                f"{source}: {human_size(info.st_size)}, over the {human_size(max_bytes)} limit "
                "(BRIEFING_MAX_FILE_BYTES), skipped"
            )
        else:
            result.files[source] = path


def _link_problem(path: Path, root: Path) -> str | None:
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return "a symbolic link loop"
    except OSError:
        return "a broken symbolic link"
    if not target.is_relative_to(root):
        return "a link to outside the corpus folder"
    return None


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KB" if size < 1024**2 else f"{size / 1024**2:.1f} MB"


def _source(path: Path, root: Path) -> str:
    """The source id of a path: relative to the corpus, forward slashes. A name that is not valid UTF-8
    gets a stable, safe id: its bytes decoded with replacement marks plus a hash of the raw bytes."""
    raw = os.fsencode(path.relative_to(root).as_posix()) if path != root else b"."
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = PurePosixPath(raw.decode("utf-8", "replace"))
        digest = hashlib.sha1(raw).hexdigest()[:8]
        return str(shown.with_name(f"{shown.stem}~{digest}{shown.suffix}"))
