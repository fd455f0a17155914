"""Keeping the index in step with the corpus folder, in committed batches.

A sync reads the folder, skips files whose size and mtime are as recorded, and streams the rest through
chunking and embedding in batches of `index_batch_chunks` passages. Each batch is written in this order:
its chunk ids into the source store's journal, the vectors into the vector store, then the sources and
chunks (one transaction that also clears the journal). A crash at any point leaves a journal whose
vectors the next sync deletes first: the vectors stored always match the chunks recorded, and at most one
batch is embedded again. One indexer per index at a time (a lock file); readers are never blocked."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..encoders.base import Encoder
from ..errors import EmptyCorpus
from ..settings import Settings
from ..stores.base import Chunk, FileState, Source, SourceStore, encode_terms
from ..stores.index import Stores
from ..text.analysis import analyze
from .chunking import chunk_article
from .corpus import SUFFIXES, Article, UnreadableFile, read_articles, scan

log = logging.getLogger(__name__)

OLD_MANIFEST = "manifest.json"  # the layout before the source store: rebuilt on sight


@dataclass
class Progress:
    """Where a sync stands, for a progress bar: files and characters of the files to read."""

    files_done: int = 0
    files_total: int = 0
    chars_done: int = 0
    chars_total: int = 0
    passages: int = 0


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; {self.chunks_embedded} chunks embedded"
        )


# Syncing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """What one sync works with."""

    stores: Stores
    encoder: Encoder
    settings: Settings

    @property
    def sources(self) -> SourceStore:
        return self.stores.sources


def sync(
    stores: Stores,
    encoder: Encoder,
    settings: Settings,
    corpus_dir: Path,
    rebuild: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> SyncReport:
    """Bring the index in line with corpus_dir: embed new and changed files, drop deleted ones."""
    if not corpus_dir.is_dir():
        raise EmptyCorpus(f"corpus folder not found: {corpus_dir}")
    with stores.lock():  # IndexBusy when another indexer holds it
        run = _Run(stores, encoder, settings)
        return _sync(run, corpus_dir, rebuild, on_progress or (lambda p: None))


def _sync(run: _Run, corpus_dir: Path, rebuild: bool, on_progress: Callable[[Progress], None]) -> SyncReport:
    report = SyncReport()
    _prepare(run, rebuild, report)
    store = run.sources
    _recover(run)
    found = scan(corpus_dir, run.settings.max_file_bytes)
    report.warnings += found.warnings
    report.notices += [found.notice] if found.notice else []
    paths = found.files
    states, skipped = store.states(), store.skipped()
    todo, progress = _plan(paths, states, skipped, report)
    on_progress(progress)
    batch = _Batch(run)
    for source in todo:
        path = paths[source]
        progress.files_done += 1
        progress.chars_done += _size(path)
        batch.add_file(source, path, states.get(source), report)
        if batch.full:
            progress.passages += batch.flush(report)
            on_progress(progress)
    progress.passages += batch.flush(report)
    on_progress(progress)
    removed = sorted(set(states) - set(paths))
    if removed:
        _forget(run, removed)
        report.removed.extend(removed)
    run.stores.release_vectors()  # an embedded HNSW and the BM25 rebuild need not be in memory together
    run.stores.update_lexical()
    if store.count_documents() == 0:
        raise EmptyCorpus(f"no readable article in {corpus_dir} ({', '.join(sorted(SUFFIXES))})")
    return report


def _prepare(run: _Run, rebuild: bool, report: SyncReport) -> None:
    """Start over when asked, when the index is in an older layout, or when its vectors cannot be reused
    (another model, other chunks); refuse a model mismatch otherwise."""
    store, stores, settings = run.sources, run.stores, run.settings
    old_layout = (stores.dir / OLD_MANIFEST).exists() or store.meta("schema") not in (
        None,
        str(store.schema_version),
    )
    if old_layout:
        report.notices.append(f"{stores.dir} holds an index in an older layout: rebuilding it")
    other_chunks = store.meta("chunk_chars") not in (None, str(settings.chunk_chars))
    other_model = stores.vectors.model() not in (None, stores.identity)
    nothing_local = store.count_documents() == 0
    if rebuild or old_layout or other_chunks or (other_model and nothing_local):
        _wipe(run)
    else:
        stores.check_model()
    stores.vectors.claim(stores.identity)
    store.set_meta(
        schema=store.schema_version,
        chunk_chars=settings.chunk_chars,
        embed_model=stores.identity,
        dimension=run.encoder.dimension,
    )


def _wipe(run: _Run) -> None:
    run.sources.reset()
    run.stores.vectors.reset()
    (run.stores.dir / OLD_MANIFEST).unlink(missing_ok=True)


def _recover(run: _Run) -> None:
    """Delete the vectors of a batch that a crash cut short (their chunks were never recorded), and, when
    the chunk store was lost or wiped but the vector store was not (a new machine in front of a Chroma
    server), the vectors nothing refers to."""
    store, vectors = run.sources, run.stores.vectors
    pending = store.pending()
    if pending:
        vectors.delete(pending)
        store.clear_pending(pending)
    if store.count() != vectors.count():
        known = set(_all_chunk_ids(store))
        vectors.delete([i for i in vectors.ids() if i not in known])


def _all_chunk_ids(store: SourceStore) -> Iterator[str]:
    for chunk_id, _ in store.iter_terms():
        yield chunk_id


def _plan(
    paths: dict[str, Path],
    states: dict[str, FileState],
    skipped: dict[str, tuple[FileState, str]],
    report: SyncReport,
) -> tuple[list[str], Progress]:
    """The files to read (new, or size/mtime changed), and the warnings for files still unreadable."""
    todo: list[str] = []
    for source, path in paths.items():
        stat = _stat(path)
        if stat is None:
            report.warnings.append(f"{source}: cannot be read, skipped")
            continue
        recorded = states.get(source) or (skipped[source][0] if source in skipped else None)
        if recorded and (recorded.size, recorded.mtime_ns) == stat:
            if source in skipped:
                report.warnings.append(skipped[source][1])
            else:
                report.unchanged += 1
            continue
        todo.append(source)
    progress = Progress(files_total=len(todo), chars_total=sum(_size(paths[s]) for s in todo))
    return todo, progress


class _Batch:
    """Documents read and chunked, waiting to be embedded and committed together."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.documents: list[tuple[Source, list[Chunk]]] = []
        self.outcomes: list[tuple[str, bool]] = []  # (source, was it indexed before)
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= self.run.settings.index_batch_chunks

    def add_file(self, source: str, path: Path, before: FileState | None, report: SyncReport) -> None:
        store = self.run.sources
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.warnings.append(f"{source}: cannot be read ({exc.strerror}), skipped")
            return
        stat = _stat(path) or (len(data), 0)
        digest = hashlib.sha256(data).hexdigest()
        if before and before.sha256 == digest:  # touched or copied, same bytes
            store.touch(source, *stat)
            report.unchanged += 1
            return
        if before:  # the file changed: its old chunks go first, whatever the new bytes give
            _forget(self.run, [source])
        try:
            articles, warnings = read_articles(source, data)
        except UnreadableFile as exc:
            store.skip(source, *stat, str(exc))
            report.warnings.append(str(exc))
            if before:
                report.removed.append(source)
            return
        report.warnings += warnings
        for article in articles:
            chunks = chunk_article(article, self.run.settings.chunk_chars)
            self.documents.append((_document(article, source, digest, stat), chunks))
            self.size += len(chunks)
        self.outcomes.append((source, before is not None))

    def flush(self, report: SyncReport) -> int:
        """Embed, store and record the batch; returns the passages embedded."""
        if not self.documents:
            return 0
        chunks = [c for _, cs in self.documents for c in cs]
        spans = [[(s.start - c.start, s.end - c.start) for s in c.sentences] for c in chunks]
        vectors, sentence_vectors = self.run.encoder.embed_passages([c.text for c in chunks], spans)
        store = self.run.sources
        store.mark_pending(c.id for c in chunks)
        self.run.stores.vectors.upsert(chunks, vectors)
        per_chunk = iter(sentence_vectors)
        store.add(
            [(doc, cs, [_terms(c) for c in cs], [next(per_chunk) for _ in cs]) for doc, cs in self.documents]
        )
        for source, existed in self.outcomes:
            (report.updated if existed else report.added).append(source)
        report.chunks_embedded += len(chunks)
        self.documents, self.outcomes, self.size = [], [], 0
        return len(chunks)


def _forget(run: _Run, paths: list[str]) -> None:
    ids = run.sources.remove(paths)
    run.stores.vectors.delete(ids)
    run.sources.clear_pending(ids)


def _terms(chunk: Chunk) -> str:
    return encode_terms(
        [analyze(chunk.text[s.start - chunk.start : s.end - chunk.start]) for s in chunk.sentences]
    )


def _document(article: Article, source: str, digest: str, stat: tuple[int, int]) -> Source:
    return Source(
        source=article.source,
        path=source,
        sha256=digest,
        size=stat[0],
        mtime_ns=stat[1],
        title=article.title,
        date=article.date,
        format=article.format,
        extra={**article.extra, "body": [article.body_start, article.body_end]},
        text=article.text,
    )


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _size(path: Path) -> int:
    stat = _stat(path)
    return stat[0] if stat else 0
