"""The source store in PostgreSQL: per source its file state, metadata and canonical text; per chunk its
offsets and sentences; per sentence its analysed terms and vector (the `sentences` table, which is also
the lexical index: lexical.py); the journal of vectors whose fate is not yet known.

Each write is one transaction, and one that adds or removes chunks also makes the lexical index's next
generation: a reader in any process sees a file's chunks whole, in both, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from pgvector import HalfVector
from psycopg.types.json import Jsonb

from ..base import Chunk, Entry, FileState, Listed, Source, Span, decode_terms
from .database import Database
from .lexical import commit_generation, indexed, new_generation, retire

SCHEMA_VERSION = 1  # of what the rows mean (a change forces a rebuild); the tables' shape migrates
ITER_BATCH = 2000  # chunks read at a time by iter_terms (a server-side cursor: memory stays flat)

_CHUNK = 'id, source, start, "end", text, sentence_starts, sentence_ends'


class PgSourceStore:
    """Sources and their chunks in one PostgreSQL database. Thread-safe (a connection pool)."""

    schema_version = SCHEMA_VERSION

    def __init__(self, db: Database) -> None:
        self.db = db

    def close(self) -> None:
        """The pool is the process's, shared with the other stores (database.database)."""

    # Metadata ----------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self.db.cursor() as cur:
            row = cur.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, **values: str | int | None) -> None:
        with self.db.transaction() as cur:
            for key, value in values.items():
                if value is None:
                    cur.execute("DELETE FROM meta WHERE key = %s", (key,))
                else:
                    cur.execute(
                        "INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, str(value)),
                    )

    # Reading -----------------------------------------------------------------------------------------

    def _all(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        with self.db.cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def states(self) -> dict[str, FileState]:
        rows = self._all("SELECT path, sha256, size, mtime_ns FROM documents")
        return {path: FileState(sha, size, mtime) for path, sha, size, mtime in rows}

    def skipped(self) -> dict[str, tuple[FileState, str]]:
        rows = self._all("SELECT path, size, mtime_ns, reason FROM skipped")
        return {path: (FileState("", size, mtime), reason) for path, size, mtime, reason in rows}

    def changes(self) -> int:
        return int(self.meta("changes") or 0)

    def listing(self) -> list[Listed]:
        rows = self._all(
            "SELECT d.source, d.title, d.date, d.size, count(c.id) FROM documents d "
            "LEFT JOIN chunks c ON c.source = d.source GROUP BY d.source ORDER BY d.source"
        )
        return [Listed(*row) for row in rows]

    def titles_of(self, sources: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        rows = self._all("SELECT source, title, date FROM documents WHERE source = ANY(%s)", (list(sources),))
        return {s: (t, d) for s, t, d in rows}

    def document(self, source: str, with_text: bool = True) -> Source | None:
        text = "text" if with_text else "''"
        rows = self._all(
            f"SELECT source, path, sha256, size, mtime_ns, title, date, format, extra, {text} "
            "FROM documents WHERE source = %s",
            (source,),
        )
        if not rows:
            return None
        *head, extra, body = rows[0]
        return Source(*head, extra=extra, text=body)

    def text(self, source: str) -> str | None:
        rows = self._all("SELECT text FROM documents WHERE source = %s", (source,))
        return rows[0][0] if rows else None

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        rows = self._all(f"SELECT {_CHUNK} FROM chunks WHERE id = ANY(%s)", (list(dict.fromkeys(ids)),))
        return {row[0]: _chunk(row) for row in rows}

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        rows: dict[str, list[np.ndarray]] = {}
        with self.db.cursor(binary=True) as cur:
            found = cur.execute(
                "SELECT chunk_id, embedding FROM sentences WHERE chunk_id = ANY(%s) AND died IS NULL "
                "AND embedding IS NOT NULL ORDER BY chunk_id, n",
                (list(dict.fromkeys(ids)),),
            )
            for chunk_id, vector in found:
                rows.setdefault(chunk_id, []).append(vector.to_numpy())
        return {i: np.stack(v).astype(np.float32) for i, v in rows.items()}

    def source_chunks(self, source: str) -> list[Chunk]:
        rows = self._all(f"SELECT {_CHUNK} FROM chunks WHERE source = %s ORDER BY start", (source,))
        return [_chunk(r) for r in rows]

    def iter_terms(self) -> Iterator[tuple[str, list[list[str]]]]:
        """(chunk id, analysed terms of each sentence) of every chunk, in insertion order."""
        with self.db._connection() as conn, conn.transaction(), conn.cursor(name="terms") as cur:
            cur.itersize = ITER_BATCH
            cur.execute(
                "SELECT c.id, coalesce(array_agg(array_to_string(s.terms, ' ') ORDER BY s.n) "
                "FILTER (WHERE s.n IS NOT NULL), '{}') FROM chunks c "
                "LEFT JOIN sentences s ON s.chunk_id = c.id AND s.died IS NULL GROUP BY c.id, c.seq ORDER BY c.seq"
            )
            for chunk_id, sentences in cur:
                yield chunk_id, [s.split() for s in sentences]

    def count(self) -> int:
        return self._all("SELECT count(*) FROM chunks")[0][0]

    def count_documents(self) -> int:
        return self._all("SELECT count(*) FROM documents")[0][0]

    # Writing -----------------------------------------------------------------------------------------

    def pending(self) -> list[str]:
        return [r[0] for r in self._all("SELECT id FROM pending")]

    def mark_pending(self, ids: Iterable[str]) -> None:
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO pending SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (list(ids),))

    def clear_pending(self, ids: Iterable[str] | None = None) -> None:
        with self.db.transaction() as cur:
            if ids is None:
                cur.execute("DELETE FROM pending")
            else:
                cur.execute("DELETE FROM pending WHERE id = ANY(%s)", (list(ids),))

    def remove(self, paths: Sequence[str]) -> list[str]:
        """Forget what these corpus files gave; their chunk ids go to the journal and are returned."""
        with self.db.transaction() as cur:
            rows = cur.execute(
                "SELECT c.id, greatest(c.terms, 1) FROM chunks c JOIN documents d ON c.source = d.source "
                "WHERE d.path = ANY(%s)",
                (list(paths),),
            ).fetchall()
            ids = [r[0] for r in rows]
            if ids:
                self._retire(cur, ids, passage_terms=sum(r[1] for r in rows))
            cur.execute("DELETE FROM documents WHERE path = ANY(%s)", (list(paths),))
            cur.execute("DELETE FROM skipped WHERE path = ANY(%s)", (list(paths),))
            cur.execute("INSERT INTO pending SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (ids,))
            _bump(cur)
        return ids

    @staticmethod
    def _retire(cur, ids: list[str], passage_terms: int) -> None:  # noqa: ANN001
        g = new_generation(cur)
        sentences, sentence_terms = retire(cur, ids, g)
        commit_generation(cur, g, -sentences, -sentence_terms, -len(ids), -passage_terms)

    def skip(self, path: str, size: int, mtime_ns: int, reason: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO skipped VALUES (%s, %s, %s, %s) ON CONFLICT (path) DO UPDATE SET "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, reason = excluded.reason",
                (path, size, mtime_ns, reason),
            )

    def add(self, entries: Sequence[Entry]) -> None:
        """Record sources with their chunks, terms and sentence vectors, take the chunks off the journal,
        and make the lexical index's next generation: one transaction."""
        with self.db.transaction() as cur:
            sources = [doc.source for doc, *_ in entries]
            replaced = cur.execute(
                "SELECT id, greatest(terms, 1) FROM chunks WHERE source = ANY(%s)", (sources,)
            ).fetchall()
            if replaced:  # a source recorded again without being removed first: its old chunks retire
                self._retire(cur, [r[0] for r in replaced], passage_terms=sum(r[1] for r in replaced))
            cur.execute("DELETE FROM documents WHERE source = ANY(%s)", (sources,))
            g = new_generation(cur)
            totals = [0, 0, 0, 0]  # sentences, their BM25 length, passages, theirs
            for doc, chunks, terms, vectors in entries:
                self._add_source(cur, doc, chunks, terms, vectors, g, totals)
            commit_generation(cur, g, *totals)
            _bump(cur)

    def _add_source(self, cur, doc: Source, chunks, terms, vectors, g: int, totals: list[int]) -> None:  # noqa: ANN001
        cur.execute(
            "INSERT INTO documents VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (doc.source, doc.path, doc.sha256, doc.size, doc.mtime_ns, doc.title, doc.date, doc.format,
             Jsonb(doc.extra), doc.text),
        )  # fmt: skip
        sentence_rows = []
        for chunk, encoded, rows in zip(chunks, terms, vectors, strict=True):
            per_sentence = decode_terms(encoded) if chunk.sentences else []
            length = sum(len(t) for t in per_sentence)
            cur.execute(
                'INSERT INTO chunks (id, source, start, "end", text, sentence_starts, sentence_ends, terms) '
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (chunk.id, chunk.source, chunk.start, chunk.end, chunk.text,
                 [s.start for s in chunk.sentences], [s.end for s in chunk.sentences], length),
            )  # fmt: skip
            rows = np.asarray(rows, dtype=np.float32)
            for n, words in enumerate(per_sentence):
                vector = HalfVector(rows[n]) if n < len(rows) else None
                sentence_rows.append((chunk.id, n, words, indexed(words), length, vector, g, chunk.id))
                totals[0] += 1
                totals[1] += max(len(words), 1)
            totals[2] += 1
            totals[3] += max(length, 1)
        cur.executemany(
            "INSERT INTO sentences (chunk_id, n, seq, terms, tsv, chunk_terms, embedding, born) "
            "SELECT %s, %s, c.seq, %s, array_to_tsvector(%s::text[]), %s, %s, %s FROM chunks c WHERE c.id = %s",
            sentence_rows,
        )
        cur.execute("DELETE FROM pending WHERE id = ANY(%s)", ([c.id for c in chunks],))
        cur.execute("DELETE FROM skipped WHERE path = %s", (doc.path,))

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE documents SET size = %s, mtime_ns = %s WHERE path = %s", (size, mtime_ns, path)
            )

    def reset(self) -> None:
        """Forget everything; the lexical index moves to a new, empty generation."""
        with self.db.transaction() as cur:
            for table in ("sentences", "chunks", "documents", "pending", "skipped", "meta"):
                cur.execute(f"DELETE FROM {table}")
            g = new_generation(cur)
            cur.execute(
                "INSERT INTO generations (id, token, sentences, sentence_terms, passages, passage_terms) "
                "VALUES (%s, %s, 0, 0, 0, 0)",
                (g, f"{g}-{uuid.uuid4().hex[:8]}"),
            )
            cur.execute("UPDATE lexical_state SET current = %s, built = NULL", (g,))
            cur.execute("DELETE FROM generations WHERE id <> %s", (g,))


def _bump(cur) -> None:  # noqa: ANN001
    cur.execute(
        "INSERT INTO meta VALUES ('changes', '1') "
        "ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text"
    )


def _chunk(row: tuple) -> Chunk:
    chunk_id, source, start, end, text, starts, ends = row
    return Chunk(chunk_id, source, start, end, text, tuple(Span(s, e) for s, e in zip(starts, ends)))
