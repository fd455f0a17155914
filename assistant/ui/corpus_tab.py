"""The page's side of the corpus: indexing in the background at startup, and checking and saving
uploaded articles (type sniffed from the content, size, readable text, a safe file name, never an
overwrite)."""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from pathlib import Path

from ..core import Assistant
from ..errors import EmptyCorpus, IndexBusy
from ..ingestion import formats
from ..ingestion.corpus import UnreadableFile, human_size, read_articles, scan

# The suffix an upload is saved with, by the format sniffed from its content (its own suffix if it fits).
SAVED_SUFFIX = {"text": ".txt", "markdown": ".md", "html": ".html", "pdf": ".pdf", "docx": ".docx",
                "eml": ".eml", "feed": ".xml"}  # fmt: skip
FITTING = {
    "text": {".txt"},
    "markdown": {".md"},
    "html": {".html", ".htm"},
    "feed": {".xml", ".rss", ".atom"},
}

log = logging.getLogger(__name__)


class IndexJob:
    """Indexes the corpus in a background thread, so the page is up while a first index is built."""

    def __init__(self, assistant: Assistant, ready: bool = False, corpus: bool = True) -> None:
        self.assistant = assistant
        # False: the server answers from a store that some corpus folder was indexed into elsewhere
        # (`serve --store` without --corpus). A sync from the default folder here would replace that
        # index with this folder's contents, so uploads are refused.
        self.corpus = corpus
        self.state = "ready" if ready else "waiting"  # waiting, indexing, ready, empty, failed
        self.detail = ""
        self.files = 0
        self.skipped: list[str] = []  # the last sync's warnings: files left out, each with its reason
        self._started = 0.0

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def start(self) -> None:
        threading.Thread(target=self.run, name="briefing-index", daemon=True).start()

    def run(self) -> None:
        corpus_dir = self.assistant.settings.corpus_dir
        limit = self.assistant.settings.max_file_bytes
        self.files = len(scan(corpus_dir, limit).files) if corpus_dir.is_dir() else 0
        self.state, self._started = "indexing", time.monotonic()
        try:
            report = self.assistant.index()
        except EmptyCorpus as exc:
            self.state, self.detail = "empty", str(exc)
            return
        except IndexBusy as exc:  # another process is indexing: answer from what is there, if anything
            log.warning("%s", exc)
            self.state = "ready" if self._has_index() else "failed"
            return
        except Exception:
            log.exception("indexing failed")
            self.state = "failed"
            return
        print(f"index: {report.summary()}")
        self.skipped = report.warnings
        self.state = "ready"

    def _has_index(self) -> bool:
        try:
            self.assistant.retriever  # noqa: B018
        except Exception:
            return False
        return True

    def describe(self, articles: int) -> str:
        """One line for the status bar."""
        if self.state == "indexing":
            seconds = int(time.monotonic() - self._started)
            return f"Indexing… {self.files} files ({seconds} s). Asking opens when it is done."
        if self.state == "ready":
            return f"Ready · {articles} article{'' if articles == 1 else 's'} indexed"
        if self.state == "empty":
            return f"No articles yet ({self.detail}). Add articles in the Articles tab."
        if self.state == "failed":
            return "Indexing failed; see the server log. You can still add articles in the Articles tab."
        return "Starting: the articles will be indexed in a moment…"


def safe_name(client_name: str) -> str:
    """A file name that is safe in the corpus folder: basename only, [A-Za-z0-9._-], a lower-case suffix."""
    base = re.split(r"[\\/]", client_name)[-1]
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()  # "acción" -> "accion"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:100] or "article"
    return stem + suffix


def check_upload(path: Path, name: str, limit: int) -> tuple[bytes, str, str | None]:
    """(the bytes, the suffix to save them with, a note) of an uploaded article, or UnreadableFile with
    the reason. The format is sniffed from the content; the file must give at least one article."""
    size = path.stat().st_size
    if size > limit:
        raise UnreadableFile(name, f"too large ({human_size(size)}; the limit is {human_size(limit)} a file)")
    data = path.read_bytes()
    try:
        articles, warnings = read_articles(name, data)
    except UnreadableFile as exc:
        raise UnreadableFile(name, f"{exc.reason}, not added") from None
    fmt = formats.sniff(data, name) or "text"  # it was read, so it has a format
    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix in FITTING.get(fmt, {SAVED_SUFFIX[fmt]}) else SAVED_SUFFIX[fmt]
    notes = [f"{len(articles)} articles"] if len(articles) > 1 else []
    notes += [w.removeprefix(f"{name}: ") for w in warnings]
    return data, suffix, "; ".join(notes) or None


def save_upload(corpus_dir: Path, client_name: str, data: bytes, suffix: str) -> tuple[str, bool]:
    """Save the bytes under a safe, unused name with the given suffix; (name, False) when an identical
    file is already there."""
    stem = Path(safe_name(client_name)).stem
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for i in range(1000):
        candidate = f"{stem}{suffix}" if i == 0 else f"{stem}-{i}{suffix}"
        target = corpus_dir / candidate
        if target.exists() and target.read_bytes() == data:
            return candidate, False
        try:
            with open(target, "xb") as out:  # exclusive: never overwrite a different file
                out.write(data)
            return candidate, True
        except FileExistsError:
            continue
    raise UnreadableFile(client_name, "too many files with this name")
