"""The vector store in PostgreSQL: one pgvector row per chunk in `passage_vectors`, searched by cosine
through an HNSW index. The column takes its dimension (and the index is made) from the first vectors
written; a reset drops both, as the next model may have another dimension."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..base import Chunk, slices
from .database import Database

WRITE_BATCH = 500  # rows per INSERT: well under the 65,535 parameters of one statement
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 128  # pgvector's m; ef_construction doubled for recall at k=50
_INDEX = "passage_vectors_hnsw"


class PgVectorStore:
    """Chunk vectors, tied to the identity of the model that made them (in `vector_meta`)."""

    kind = "postgres"

    def __init__(self, db: Database) -> None:
        self.db = db

    def model(self) -> str | None:
        with self.db.cursor() as cur:
            row = cur.execute("SELECT value FROM vector_meta WHERE key = 'embed_model'").fetchone()
        return row[0] if row else None

    def claim(self, identity: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO vector_meta VALUES ('embed_model', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (identity,),
            )

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Idempotent: a redone batch overwrites itself."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(chunks):
            return
        with self.db.transaction() as cur:
            self._fix_dimension(cur, vectors.shape[1])
            for part in slices(range(len(chunks)), WRITE_BATCH):
                cur.executemany(
                    "INSERT INTO passage_vectors VALUES (%s, %s, %s) "
                    "ON CONFLICT (id) DO UPDATE SET source = excluded.source, embedding = excluded.embedding",
                    [(chunks[i].id, chunks[i].source, vectors[i]) for i in part],
                )

    def _fix_dimension(self, cur, dimension: int) -> None:  # noqa: ANN001
        """Give the column its dimension and the HNSW index, once (the first write after a reset)."""
        if cur.execute("SELECT to_regclass(%s)", (_INDEX,)).fetchone()[0] is not None:
            return
        cur.execute("LOCK TABLE passage_vectors IN ACCESS EXCLUSIVE MODE")
        if cur.execute("SELECT to_regclass(%s)", (_INDEX,)).fetchone()[0] is not None:
            return  # another writer did it meanwhile
        cur.execute(f"ALTER TABLE passage_vectors ALTER COLUMN embedding TYPE vector({int(dimension)})")
        cur.execute(
            f"CREATE INDEX {_INDEX} ON passage_vectors USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with self.db.transaction() as cur:
                cur.execute("DELETE FROM passage_vectors WHERE id = ANY(%s)", (list(ids),))

    def ids(self) -> Iterator[str]:
        with self.db.cursor() as cur:
            rows = cur.execute("SELECT id FROM passage_vectors ORDER BY id").fetchall()
        yield from (r[0] for r in rows)

    def count(self) -> int:
        with self.db.cursor() as cur:
            return cur.execute("SELECT count(*) FROM passage_vectors").fetchone()[0]

    def search(self, vectors: np.ndarray, k: int) -> list[dict[str, float]]:
        """Cosine similarity of the k nearest chunks to each row, by id, nearest first."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if k <= 0 or not len(vectors):
            return [{} for _ in vectors]
        values = ", ".join(f"({i}, %(v{i})s::vector)" for i in range(len(vectors)))
        sql = (  # one round trip for every row: an HNSW search each
            f"SELECT v.i, d.id, 1 - d.distance FROM (VALUES {values}) AS v (i, vec) CROSS JOIN LATERAL ("
            "SELECT id, embedding <=> v.vec AS distance FROM passage_vectors "
            "ORDER BY embedding <=> v.vec LIMIT %(k)s) d ORDER BY v.i, d.distance"
        )
        found: list[dict[str, float]] = [{} for _ in vectors]
        with self.db.cursor() as cur:
            params = {"k": k, **{f"v{i}": v for i, v in enumerate(vectors)}}
            for i, chunk_id, cosine in cur.execute(sql, params):
                found[i][chunk_id] = float(cosine)
        return found

    def refresh(self) -> None:
        """Every query sees the last committed state: nothing to do."""

    def close(self) -> None:
        """Nothing is held in this process (the server holds the graph)."""

    def reset(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"DROP INDEX IF EXISTS {_INDEX}")
            cur.execute("DELETE FROM passage_vectors")
            cur.execute("ALTER TABLE passage_vectors ALTER COLUMN embedding TYPE vector")
            cur.execute("DELETE FROM vector_meta")
