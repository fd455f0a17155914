"""Keeping the index in step with the corpus: only new or changed files are embedded."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .chunking import Chunk, Span, chunk_article
from .corpus import Article, load_corpus
from .store import VectorStore

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_VERSION = 2  # bump when chunking or the stored vectors change, so old indexes are rebuilt


class EmptyCorpus(ValueError):
    """No readable article in the corpus folder (or no such folder)."""


@dataclass
class FileEntry:
    sha256: str
    title: str
    date: str | None
    chunks: list[Chunk]


@dataclass
class Manifest:
    """What is indexed: per source file its checksum, title, date and chunks (with their text)."""

    files: dict[str, FileEntry] = field(default_factory=dict)
    embed_model: str | None = None
    chunk_chars: int | None = None

    @property
    def chunks(self) -> list[Chunk]:
        return [c for entry in self.files.values() for c in entry.chunks]

    @classmethod
    def load(cls, index_dir: Path) -> Manifest:
        path = index_dir / MANIFEST
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != _VERSION:
            return cls()
        files = {src: _entry_from_json(e) for src, e in raw["files"].items()}
        return cls(files, raw.get("embed_model"), raw.get("chunk_chars"))

    def save(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "version": _VERSION,
            "embed_model": self.embed_model,
            "chunk_chars": self.chunk_chars,
            "files": {src: asdict(e) for src, e in self.files.items()},
        }
        tmp = index_dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, index_dir / MANIFEST)  # atomic: a crash never leaves half a manifest


def _entry_from_json(e: dict) -> FileEntry:
    chunks = [
        Chunk(c["id"], c["source"], c["start"], c["end"], c["text"], tuple(Span(**s) for s in c["sentences"]))
        for c in e["chunks"]
    ]
    return FileEntry(e["sha256"], e["title"], e["date"], chunks)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; {self.chunks_embedded} chunks embedded"
        )


def sync(
    corpus_dir: Path, index_dir: Path, store: VectorStore, chunk_chars: int, rebuild: bool = False
) -> tuple[Manifest, SyncReport]:
    """Bring the index in line with corpus_dir: embed new and changed files, drop deleted ones."""
    if not corpus_dir.is_dir():
        raise EmptyCorpus(f"corpus folder not found: {corpus_dir}")
    articles, warnings = load_corpus(corpus_dir)
    if not articles:
        raise EmptyCorpus(f"no readable .txt or .md article in {corpus_dir}")
    manifest = _starting_manifest(index_dir, store, chunk_chars, rebuild)
    manifest.embed_model, manifest.chunk_chars = store.embeddings.identity, chunk_chars
    report = SyncReport(warnings=warnings)
    _apply_changes(articles, manifest, store, chunk_chars, report)
    store.keep_only({c.id for c in manifest.chunks})
    store.claim()
    manifest.save(index_dir)
    return manifest, report


def _starting_manifest(index_dir: Path, store: VectorStore, chunk_chars: int, rebuild: bool) -> Manifest:
    """What is already indexed. The collection is emptied only on request or when its vectors cannot be
    reused (another model, other chunks); a missing manifest (a new machine in front of a Chroma server)
    re-embeds the corpus over the existing vectors instead of wiping them first."""
    manifest = Manifest.load(index_dir)
    other_chunks = manifest.files and manifest.chunk_chars != chunk_chars
    other_model = store.model() not in (None, store.embeddings.identity)
    if rebuild or other_chunks or (other_model and not manifest.files):
        store.reset()
        return Manifest()
    store.check_model()
    return manifest if store.count() else Manifest()


def _apply_changes(
    articles: list[Article], manifest: Manifest, store: VectorStore, chunk_chars: int, report: SyncReport
) -> None:
    by_source = {a.source: a for a in articles}
    for source in sorted(set(manifest.files) - set(by_source)):
        store.delete([c.id for c in manifest.files.pop(source).chunks])
        report.removed.append(source)
    new_chunks: list[Chunk] = []
    for article in articles:
        digest = hashlib.sha256(article.text.encode("utf-8")).hexdigest()
        old = manifest.files.get(article.source)
        if old and old.sha256 == digest:
            report.unchanged += 1
            continue
        if old:
            store.delete([c.id for c in old.chunks])
        (report.updated if old else report.added).append(article.source)
        chunks = chunk_article(article, chunk_chars)
        manifest.files[article.source] = FileEntry(digest, article.title, article.date, chunks)
        new_chunks.extend(chunks)
    store.embeddings.show_progress = True
    try:
        store.add(new_chunks, by_source)
    finally:
        store.embeddings.show_progress = False
    report.chunks_embedded = len(new_chunks)
