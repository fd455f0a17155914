"""The source store in SQLite: what is indexed. Per source its checksum, metadata and canonical text; per
chunk its text, offsets, sentences and analysed terms; a journal of vectors whose fate is not yet known.

One file (`INDEX_DIR/chunks.sqlite`, WAL mode), readable with any SQLite tool. Writes happen in one
transaction per batch, so a crash loses at most the batch under way; readers (the chat, other processes)
see the last committed state. Opening it reads no chunk text."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .base import Chunk, Entry, FileState, Listed, Source, Span, decode_terms, slices

FILE_NAME = "chunks.sqlite"
VECTOR_DTYPE = np.float16  # sentence vectors: half the disk; XQuAD recall moved by one question of 2,380
BUSY_TIMEOUT_S = 60  # a reader waits this long for an indexer's write transaction (one batch)
IN_LIST = 500  # ids per `IN (...)` query: well under SQLite's limit on bound parameters (32,766)
SCHEMA_VERSION = 3  # bump when the tables or what they hold change: older indexes are rebuilt

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY,   -- path relative to the corpus folder, or a part of a file (an attachment)
    path TEXT NOT NULL,        -- the corpus file it comes from
    sha256 TEXT NOT NULL,      -- of the file's bytes
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, -- size + mtime unchanged: the file is not read again
    title TEXT NOT NULL,
    date TEXT,
    format TEXT NOT NULL,
    extra TEXT NOT NULL,       -- JSON: format-specific metadata (pages, author, ...)
    text TEXT NOT NULL         -- the canonical text; every offset refers to it
);
CREATE TABLE IF NOT EXISTS chunks (
    seq INTEGER PRIMARY KEY,   -- insertion order
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL REFERENCES documents(source) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    sentences TEXT NOT NULL,   -- JSON [[start, end], ...], absolute offsets
    terms TEXT NOT NULL,       -- analysed terms, space-separated, sentences separated by tabs
    vectors BLOB NOT NULL      -- the sentences' embedding vectors, float16, one row per sentence
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY);  -- chunk ids whose vectors may be half-written
CREATE TABLE IF NOT EXISTS skipped (   -- files that could not be read: not read again until they change
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL
);
"""


class SqliteSourceStore:
    """Sources and their chunks in one SQLite file. Thread-safe: one connection per thread."""

    schema_version = SCHEMA_VERSION

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db.executescript(_SCHEMA)

    # Connections -------------------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is committed, or none of it."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # Metadata ----------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, **values: str | int | None) -> None:
        with self._write() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    # Reading -----------------------------------------------------------------------------------------

    def states(self) -> dict[str, FileState]:
        """Per corpus file (path) indexed: its checksum, size and mtime."""
        rows = self._db.execute("SELECT path, sha256, size, mtime_ns FROM documents")
        return {path: FileState(sha, size, mtime) for path, sha, size, mtime in rows}

    def skipped(self) -> dict[str, tuple[FileState, str]]:
        """Per unreadable file: its size and mtime when it was tried, and why it was skipped."""
        rows = self._db.execute("SELECT path, size, mtime_ns, reason FROM skipped")
        return {path: (FileState("", size, mtime), reason) for path, size, mtime, reason in rows}

    def changes(self) -> int:
        """A counter bumped by every write that adds or removes chunks (the lexical index follows it)."""
        return int(self.meta("changes") or 0)

    def listing(self) -> list[Listed]:
        """Every source with its title, date, file size and number of chunks (no text is read)."""
        rows = self._db.execute(
            "SELECT d.source, d.title, d.date, d.size, count(c.id) FROM documents d "
            "LEFT JOIN chunks c ON c.source = d.source GROUP BY d.source ORDER BY d.source"
        )
        return [Listed(*row) for row in rows]

    def titles_of(self, sources: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        found = {}
        for part in slices(list(sources), IN_LIST):
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT source, title, date FROM documents WHERE source IN ({marks})", part
            )
            found.update({s: (t, d) for s, t, d in rows})
        return found

    def document(self, source: str, with_text: bool = True) -> Source | None:
        text = "text" if with_text else "''"
        row = self._db.execute(
            f"SELECT source, path, sha256, size, mtime_ns, title, date, format, extra, {text} "
            "FROM documents WHERE source = ?",
            (source,),
        ).fetchone()
        if row is None:
            return None
        *head, extra, body = row
        return Source(*head, extra=json.loads(extra), text=body)

    def text(self, source: str) -> str | None:
        row = self._db.execute("SELECT text FROM documents WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids that are stored (unknown ids are left out)."""
        found: dict[str, Chunk] = {}
        for part in slices(list(dict.fromkeys(ids)), IN_LIST):
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT id, source, start, end, text, sentences FROM chunks WHERE id IN ({marks})", part
            )
            for row in rows:
                found[row[0]] = _chunk(row)
        return found

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Per chunk id: its sentences' vectors (float32, one row per sentence); unknown ids left out."""
        found: dict[str, np.ndarray] = {}
        for part in slices(list(dict.fromkeys(ids)), IN_LIST):
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT id, vectors FROM chunks WHERE id IN ({marks})", part)
            for chunk_id, blob in rows:
                found[chunk_id] = np.frombuffer(blob, dtype=VECTOR_DTYPE).reshape(-1, self.dimension)
        return {i: v.astype(np.float32) for i, v in found.items()}

    @property
    def dimension(self) -> int:
        return int(self.meta("dimension") or 0)

    def chunk_ids(self, source: str) -> list[str]:
        rows = self._db.execute("SELECT id FROM chunks WHERE source = ? ORDER BY start", (source,))
        return [r[0] for r in rows]

    def source_chunks(self, source: str) -> list[Chunk]:
        rows = self._db.execute(
            "SELECT id, source, start, end, text, sentences FROM chunks WHERE source = ? ORDER BY start",
            (source,),
        )
        return [_chunk(r) for r in rows]

    def iter_terms(self) -> Iterator[tuple[str, list[list[str]]]]:
        """(chunk id, analysed terms of each of its sentences) of every chunk, in a stable order."""
        for chunk_id, terms in self._db.execute("SELECT id, terms FROM chunks ORDER BY seq"):
            yield chunk_id, decode_terms(terms)

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def count_documents(self) -> int:
        return self._db.execute("SELECT count(*) FROM documents").fetchone()[0]

    # Writing -----------------------------------------------------------------------------------------

    def pending(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM pending")]

    def mark_pending(self, ids: Iterable[str]) -> None:
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((i,) for i in ids))

    def clear_pending(self, ids: Iterable[str] | None = None) -> None:
        with self._write() as db:
            if ids is None:
                db.execute("DELETE FROM pending")
            else:
                db.executemany("DELETE FROM pending WHERE id = ?", ((i,) for i in ids))

    def remove(self, paths: Sequence[str]) -> list[str]:
        """Forget what these corpus files gave; their chunk ids go to the journal (their vectors are to be
        deleted) and are returned."""
        with self._write() as db:
            ids: list[str] = []
            for path in paths:
                ids += [
                    r[0]
                    for r in db.execute(
                        "SELECT c.id FROM chunks c JOIN documents d ON c.source = d.source WHERE d.path = ?",
                        (path,),
                    )
                ]
                db.execute("DELETE FROM documents WHERE path = ?", (path,))
                db.execute("DELETE FROM skipped WHERE path = ?", (path,))
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((i,) for i in ids))
            _bump(db)
        return ids

    def skip(self, path: str, size: int, mtime_ns: int, reason: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)", (path, size, mtime_ns, reason))

    def add(self, entries: Sequence[Entry]) -> None:
        """Record sources with their chunks, each chunk's terms (as `encode_terms` gives) and sentence
        vectors, and take the chunks off the journal: their vectors are stored. One transaction."""
        with self._write() as db:
            for doc, chunks, terms, vectors in entries:
                if vectors:  # the rows' width, for reading them back (set once, by the first batch)
                    db.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('dimension', ?)", (str(vectors[0].shape[1]),)
                    )
                db.execute("DELETE FROM documents WHERE source = ?", (doc.source,))
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc.source,
                        doc.path,
                        doc.sha256,
                        doc.size,
                        doc.mtime_ns,
                        doc.title,
                        doc.date,
                        doc.format,
                        json.dumps(doc.extra, ensure_ascii=False),
                        doc.text,
                    ),
                )
                db.executemany(
                    "INSERT INTO chunks (id, source, start, end, text, sentences, terms, vectors) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        (c.id, c.source, c.start, c.end, c.text, _spans_json(c.sentences), t, _blob(v))
                        for c, t, v in zip(chunks, terms, vectors, strict=True)
                    ),
                )
                db.executemany("DELETE FROM pending WHERE id = ?", ((c.id,) for c in chunks))
                db.execute("DELETE FROM skipped WHERE path = ?", (doc.path,))
            _bump(db)

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """A file whose bytes are unchanged but whose size/mtime record is stale (e.g. touched, copied)."""
        with self._write() as db:
            db.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path))

    def reset(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM documents")
            db.execute("DELETE FROM pending")
            db.execute("DELETE FROM skipped")
            db.execute("DELETE FROM meta")


def _bump(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO meta VALUES ('changes', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def _blob(vectors: np.ndarray) -> bytes:
    return np.ascontiguousarray(vectors, dtype=VECTOR_DTYPE).tobytes()


def _spans_json(spans: Sequence[Span]) -> str:
    return json.dumps([[s.start, s.end] for s in spans], separators=(",", ":"))


def _chunk(row: tuple) -> Chunk:
    chunk_id, source, start, end, text, sentences = row
    return Chunk(chunk_id, source, start, end, text, tuple(Span(s, e) for s, e in json.loads(sentences)))
