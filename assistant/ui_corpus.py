"""The page's side of the corpus: indexing in the background at startup, and checking and saving
uploaded articles (type, size and encoding checks, a safe file name, never an overwrite)."""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from pathlib import Path

from .core import Assistant, EmptyCorpus, IndexBusy
from .corpus import SUFFIXES, UnreadableFile, article_paths, decode, parse
from .ui_render import human_size

log = logging.getLogger(__name__)


class IndexJob:
    """Indexes the corpus in a background thread, so the page is up while a first index is built."""

    def __init__(self, assistant: Assistant, ready: bool = False) -> None:
        self.assistant = assistant
        self.state = "ready" if ready else "waiting"  # waiting, indexing, ready, empty, failed
        self.detail = ""
        self.files = 0
        self._started = 0.0

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def start(self) -> None:
        threading.Thread(target=self.run, name="briefing-index", daemon=True).start()

    def run(self) -> None:
        corpus_dir = self.assistant.settings.corpus_dir
        self.files = len(article_paths(corpus_dir)) if corpus_dir.is_dir() else 0
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
            return f"No articles yet ({self.detail}). Add .txt or .md files in the Articles tab."
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


def check_upload(path: Path, name: str, limit: int) -> tuple[str, str | None]:
    """The text of an uploaded article and a note (e.g. re-encoded), or UnreadableFile with the reason."""
    if Path(name).suffix.lower() not in SUFFIXES:
        raise UnreadableFile(f"{name}: only .txt and .md articles can be added")
    size = path.stat().st_size
    if size > limit:
        too_large = f"too large ({human_size(size)}; the limit is {human_size(limit)} a file)"
        raise UnreadableFile(f"{name}: {too_large}")
    data = path.read_bytes()
    try:
        text, warning = decode(data, name)
        parse(name, text)  # raises when there is no text (after the date token)
    except UnreadableFile as exc:
        raise UnreadableFile(str(exc).replace(", skipped", ", not added")) from None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > len(text) // 100:
        raise UnreadableFile(f"{name}: looks binary, not added")
    return text, warning and "converted from cp1252 to UTF-8"


def save_upload(corpus_dir: Path, client_name: str, text: str) -> tuple[str, bool]:
    """Save as UTF-8 under a safe, unused name; (name, False) when an identical file is already there."""
    data = text.encode("utf-8")
    name = safe_name(client_name)
    stem, suffix = Path(name).stem, Path(name).suffix
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for i in range(1000):
        candidate = name if i == 0 else f"{stem}-{i}{suffix}"
        target = corpus_dir / candidate
        if target.exists() and target.read_bytes() == data:
            return candidate, False
        try:
            with open(target, "xb") as out:  # exclusive: never overwrite a different file
                out.write(data)
            return candidate, True
        except FileExistsError:
            continue
    raise UnreadableFile(f"{client_name}: too many files with this name")
