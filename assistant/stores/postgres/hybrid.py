"""Hybrid retrieval's candidate stage in one SQL statement: the rankings the local stage builds in Python
(retrieval/candidates.py), fused by weighted reciprocal rank where the data is.

- dense: per query vector, the nearest passages by cosine (pgvector's HNSW index on passage_vectors);
- BM25 passages: chunks by BM25 over their terms (the sentences' tsvectors, GIN);
- BM25 best sentence: chunks in the order of their best sentence among the best-scoring sentences;
- dense best sentence: per query vector, the pooled chunks in the order of their best sentence's cosine
  (sentence vectors are read, not searched: an ANN index over sentences would hold 4-5 times the
  passages' share, for passages the other rankings find anyway);
- fused: each ranking's vote weight / (RRF_K + rank), passage rankings at the passage share, sentence
  rankings at the sentence share.

A second, small query reads the sentence vectors of the best-fused passages for the sentence ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import Candidates, Fusion
from .database import Database
from .sql import PASSAGE_SCORES, SENTENCE_SCORES, VISIBLE, bm25_ctes

_RANKINGS = f"""
dense AS (
    SELECT v.variant, d.id AS chunk_id, 1 - d.distance AS cosine,
           row_number() OVER (PARTITION BY v.variant ORDER BY d.distance, d.id) AS rank
    FROM v CROSS JOIN LATERAL (
        SELECT p.id, p.embedding <=> v.vec AS distance FROM passage_vectors p
        ORDER BY p.embedding <=> v.vec LIMIT %(dense_k)s
    ) d
),
bm25_passages AS (
    SELECT chunk_id, row_number() OVER (ORDER BY score DESC, seq) AS rank
    FROM passage_scores WHERE score > 0 ORDER BY score DESC, seq LIMIT %(dense_k)s
),
top_sentences AS (
    SELECT chunk_id, seq, score FROM sentence_scores WHERE score > 0
    ORDER BY score DESC, seq, n LIMIT %(bm25_k)s
),
bm25_by_sentence AS (
    SELECT chunk_id, row_number() OVER (ORDER BY max(score) DESC, seq) AS rank
    FROM top_sentences GROUP BY chunk_id, seq ORDER BY max(score) DESC, seq LIMIT %(dense_k)s
),
pool AS (
    SELECT chunk_id FROM dense UNION SELECT chunk_id FROM bm25_passages
    UNION SELECT chunk_id FROM bm25_by_sentence
),
best AS (
    SELECT v.variant, s.chunk_id, max(inner_product(s.embedding::vector, v.vec)) AS best
    FROM pool JOIN sentences s ON s.chunk_id = pool.chunk_id CROSS JOIN v
    WHERE {VISIBLE} AND s.embedding IS NOT NULL
    GROUP BY v.variant, s.chunk_id
),
dense_by_sentence AS (
    SELECT chunk_id, rank FROM (
        SELECT chunk_id, row_number() OVER (PARTITION BY variant ORDER BY best DESC, chunk_id) AS rank
        FROM best
    ) ranked WHERE rank <= %(dense_k)s
),
votes AS (
    SELECT chunk_id, %(passage_share)s / (%(rrf_k)s + rank) AS w FROM dense
    UNION ALL SELECT chunk_id, %(passage_share)s / (%(rrf_k)s + rank) FROM bm25_passages
    UNION ALL SELECT chunk_id, %(sentence_share)s / (%(rrf_k)s + rank) FROM dense_by_sentence
    UNION ALL SELECT chunk_id, %(sentence_share)s / (%(rrf_k)s + rank) FROM bm25_by_sentence
)
SELECT 0 AS kind, chunk_id, 0 AS variant, sum(w) AS value FROM votes GROUP BY chunk_id
UNION ALL
SELECT 1, chunk_id, variant, cosine FROM dense"""


def candidate_sql(variants: int) -> str:
    values = ", ".join(f"({i}, %(v{i})s::vector)" for i in range(variants))
    return f"WITH v (variant, vec) AS (VALUES {values}), {bm25_ctes()}, {SENTENCE_SCORES}, {PASSAGE_SCORES}, {_RANKINGS}"


def candidates(
    db: Database, g: int, bm25: dict, vectors: np.ndarray, fusion: Fusion, keep: int
) -> Candidates:
    """The candidates at generation `g`; `bm25`: the question's BM25 parameters (PgLexical.parameters)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not len(vectors):
        return Candidates([], {}, {})
    params = {
        **bm25,
        **{f"v{i}": v for i, v in enumerate(vectors)},
        "dense_k": fusion.dense_candidates,
        "bm25_k": fusion.bm25_candidates,
        "rrf_k": fusion.rrf_k,
        "passage_share": float(fusion.passage_share),
        "sentence_share": float(fusion.sentence_share),
    }
    dense: list[list[tuple[str, float]]] = [[] for _ in vectors]
    fused: list[tuple[str, float]] = []
    with db.cursor() as cur:
        for kind, chunk_id, variant, value in cur.execute(candidate_sql(len(vectors)), params):
            if kind:
                dense[variant].append((chunk_id, float(value)))
            else:
                fused.append((chunk_id, float(value)))
    fused.sort(key=lambda x: (-x[1], x[0]))
    # Nearest first, as the vector store returns them (the statement's rows come in no set order).
    nearest = [dict(sorted(d, key=lambda x: (-x[1], x[0]))) for d in dense]
    best = [i for i, _ in fused[:keep]]
    return Candidates(nearest, dict(fused), sentence_vectors(db, g, best))


def sentence_vectors(db: Database, g: int, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Per chunk id: its sentences' vectors at the reader's generation (float32, a row a sentence)."""
    rows: dict[str, list[np.ndarray]] = {}
    with db.cursor(binary=True) as cur:
        found = cur.execute(
            f"SELECT s.chunk_id, s.embedding FROM sentences s WHERE s.chunk_id = ANY(%(ids)s) AND {VISIBLE} "
            "AND s.embedding IS NOT NULL ORDER BY s.chunk_id, s.n",
            {"ids": list(ids), "g": g},
        )
        for chunk_id, vector in found:
            rows.setdefault(chunk_id, []).append(vector.to_numpy())
    return {i: np.stack(v).astype(np.float32) for i, v in rows.items()}
