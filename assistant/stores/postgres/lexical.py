"""The lexical index in PostgreSQL: BM25 over the `sentences` table's tsvectors (GIN), at one generation.

The terms are the project's own analysis (text/analysis.py: folded, stopwords dropped, Spanish Snowball
stems), the same that the BM25 files hold and that retrieval and answering look up, so both backends
score the same words; `tsv` holds them as lexemes for the GIN index, `terms` in order for term
frequencies. Scores are BM25 as the files compute them (Lucene's variant, k1 1.2, b 0.75, an empty
sentence counted as one term), in SQL.

Generations: every write of the source store that adds or removes chunks makes a new one in its own
transaction (`new_generation` ... `commit_generation`), with the collection statistics at it. Rows are
retired (`died`), not deleted, so a reader opened at an older generation keeps its view; a rebuild drops
rows that died before the previous rebuild (as the BM25 files keep the current and previous generation)."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg

from ..base import Candidates, Fusion
from ..bm25 import K1, B
from . import hybrid
from .database import Database
from .sql import PASSAGE_SCORES, SENTENCE_SCORES, VISIBLE, bm25_ctes

MAX_LEXEME_BYTES = 2046  # PostgreSQL's limit for a lexeme: longer "words" are kept in `terms`, not indexed
DF_CACHE_SIZE = 65536  # terms whose document frequencies a reader keeps (a generation never changes)
# Writing generations (called inside the source store's transactions) ---------------------------------


def new_generation(cur: psycopg.Cursor) -> int:
    return cur.execute("SELECT nextval('generation_ids')").fetchone()[0]


def commit_generation(
    cur: psycopg.Cursor,
    g: int,
    sentences: int = 0,
    sentence_terms: int = 0,
    passages: int = 0,
    passage_terms: int = 0,
) -> None:
    """Record generation `g` as the current one's statistics plus these changes, and make it current."""
    cur.execute(
        "INSERT INTO generations (id, token, sentences, sentence_terms, passages, passage_terms) "
        "SELECT %s, %s, coalesce(c.sentences, 0) + %s, coalesce(c.sentence_terms, 0) + %s, "
        "coalesce(c.passages, 0) + %s, coalesce(c.passage_terms, 0) + %s "
        "FROM lexical_state st LEFT JOIN generations c ON c.id = st.current",
        (g, f"{g}-{uuid.uuid4().hex[:8]}", sentences, sentence_terms, passages, passage_terms),
    )
    cur.execute("UPDATE lexical_state SET current = %s", (g,))


def retire(cur: psycopg.Cursor, chunk_ids: Sequence[str], g: int) -> tuple[int, int]:
    """Mark the live sentences of these chunks dead at generation `g`: (sentences, their BM25 length)."""
    rows = cur.execute(
        "UPDATE sentences SET died = %s WHERE chunk_id = ANY(%s) AND died IS NULL "
        "RETURNING greatest(cardinality(terms), 1)",
        (g, list(chunk_ids)),
    ).fetchall()
    return len(rows), sum(r[0] for r in rows)


def indexed(terms: Iterable[str]) -> list[str]:
    """The terms a tsvector can hold (PostgreSQL refuses empty and over-long lexemes)."""
    return [t for t in terms if t and len(t.encode()) <= MAX_LEXEME_BYTES]


# Reading one generation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statistics:
    sentences: int
    sentence_terms: int
    passages: int
    passage_terms: int


class PgLexical:
    """The lexical index as of one generation (a `LexicalIndex`), and the server-side candidate stage
    (`candidates`, a `HybridSearch`) at the same generation."""

    def __init__(self, db: Database, g: int, token: str, stats: Statistics) -> None:
        self.db, self.g, self.generation, self.stats = db, g, token, stats
        self._df: dict[str, tuple[int, int]] = {}

    # BM25's statistics

    def frequencies(self, terms: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(sentences, passages) holding each term, at this generation; cached."""
        wanted = list(dict.fromkeys(terms))
        missing = [t for t in wanted if t not in self._df]
        if missing:
            if len(self._df) > DF_CACHE_SIZE:
                self._df.clear()
            self._df.update({t: (0, 0) for t in missing})
            searchable = indexed(missing)
            if searchable:
                with self.db.cursor() as cur:
                    rows = cur.execute(
                        "SELECT t, count(s.chunk_id), count(DISTINCT s.chunk_id) FROM unnest(%(terms)s::text[]) t "
                        "JOIN sentences s ON s.tsv @@ array_to_tsvector(ARRAY[t])::text::tsquery "
                        f"WHERE {VISIBLE} GROUP BY t",
                        {"terms": searchable, "g": self.g},
                    ).fetchall()
                self._df.update({t: (s, p) for t, s, p in rows})
        return {t: self._df[t] for t in wanted}

    def contains(self, term: str) -> bool:
        return self.frequencies([term])[term][0] > 0

    def idf(self, term: str) -> float:
        """BM25's idf over sentences; 0 for a term absent from every sentence."""
        df = self.frequencies([term])[term][0]
        return _idf(self.stats.sentences, df) if df else 0.0

    @property
    def max_idf(self) -> float:
        n = self.stats.sentences
        return float(np.log(1 + (n - 0.5) / 1.5)) if n else 1.0

    def parameters(self, terms: Sequence[str]) -> dict:
        """The SQL parameters of a BM25 query for these terms (those no sentence holds are left out, as
        the BM25 files leave out terms they do not know)."""
        counts = Counter(terms)
        found = {t: df for t, df in self.frequencies(counts).items() if df[0]}
        st = self.stats
        return {
            "terms": list(found),
            "mult": [float(counts[t]) for t in found],
            "idf_s": [_idf(st.sentences, s) for s, _ in found.values()],
            "idf_p": [_idf(st.passages, p) for _, p in found.values()],
            "g": self.g,
            "k1": K1,
            "b": B,
            "avg_s": st.sentence_terms / st.sentences if st.sentences else 1.0,
            "avg_p": st.passage_terms / st.passages if st.passages else 1.0,
        }

    # Searching

    def search_passages(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]:
        params = self.parameters(terms)
        if not params["terms"] or limit <= 0:
            return []
        sql = (
            f"WITH {bm25_ctes()}, {PASSAGE_SCORES} SELECT chunk_id, score FROM passage_scores "
            "WHERE score > 0 ORDER BY score DESC, seq LIMIT %(limit)s"
        )
        with self.db.cursor() as cur:
            return [(i, float(s)) for i, s in cur.execute(sql, {**params, "limit": limit})]

    def search_sentences(self, terms: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        params = self.parameters(terms)
        if not params["terms"] or limit <= 0:
            return []
        sql = (
            f"WITH {bm25_ctes()}, {SENTENCE_SCORES} SELECT chunk_id, n, score FROM sentence_scores "
            "WHERE score > 0 ORDER BY score DESC, seq, n LIMIT %(limit)s"
        )
        with self.db.cursor() as cur:
            return [(i, n, float(s)) for i, n, s in cur.execute(sql, {**params, "limit": limit})]

    def sentence_scores(self, terms: Sequence[str], chunk_ids: Collection[str]) -> dict[str, list[float]]:
        params = {**self.parameters(terms), "ids": list(chunk_ids)}
        sql = (
            f"WITH {bm25_ctes('AND s.chunk_id = ANY(%(ids)s)')}, {SENTENCE_SCORES} "
            "SELECT s.chunk_id, coalesce(x.score, 0) FROM sentences s "
            "LEFT JOIN sentence_scores x ON x.chunk_id = s.chunk_id AND x.n = s.n "
            f"WHERE s.chunk_id = ANY(%(ids)s) AND {VISIBLE} ORDER BY s.chunk_id, s.n"
        )
        found: dict[str, list[float]] = {}
        with self.db.cursor() as cur:
            for chunk_id, score in cur.execute(sql, params):
                found.setdefault(chunk_id, []).append(float(score))
        return found

    def candidates(self, vectors: np.ndarray, terms: Sequence[str], fusion: Fusion, keep: int) -> Candidates:
        return hybrid.candidates(self.db, self.g, self.parameters(terms), vectors, fusion, keep)


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class PgLexicalStore:
    """The generations of the lexical index in one database (a `LexicalStore`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _current(self) -> tuple | None:
        with self.db.cursor() as cur:
            return cur.execute(
                "SELECT g.id, g.token, g.sentences, g.sentence_terms, g.passages, g.passage_terms "
                "FROM lexical_state st JOIN generations g ON g.id = st.current"
            ).fetchone()

    def generation(self) -> str | None:
        with self.db.cursor() as cur:
            row = cur.execute(
                "SELECT g.token FROM lexical_state st JOIN generations g ON g.id = st.current"
            ).fetchone()
        return row[0] if row else None

    def open(self) -> PgLexical | None:
        row = self._current()
        if row is None:
            return None
        g, token, *stats = row
        return PgLexical(self.db, g, token, Statistics(*stats))

    def rebuild(self, chunks: Iterable[tuple[str, list[list[str]]]]) -> None:
        """Every write already updated the index in its own transaction (`chunks`, the same rows, is not
        read): drop what died before the previous rebuild, which no reader opened since can see."""
        with self.db.transaction() as cur:
            (built,) = cur.execute("SELECT built FROM lexical_state FOR UPDATE").fetchone()
            if built is not None:
                cur.execute("DELETE FROM sentences WHERE died <= %s", (built,))
                cur.execute(
                    "DELETE FROM generations WHERE id < %s AND id <> (SELECT current FROM lexical_state)",
                    (built,),
                )
            cur.execute("UPDATE lexical_state SET built = current")
