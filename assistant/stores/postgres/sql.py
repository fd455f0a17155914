"""BM25 in SQL over the `sentences` table, as common table expressions that the lexical index's queries
and the candidate statement (hybrid.py) share. Parameters: %(terms)s, %(mult)s (how often the question
holds each), %(idf_s)s / %(idf_p)s (per term, over sentences / passages), %(g)s (the generation),
%(k1)s, %(b)s, %(avg_s)s / %(avg_p)s (mean BM25 length of a sentence / passage)."""

VISIBLE = "s.born <= %(g)s AND (s.died IS NULL OR s.died > %(g)s)"

# The question's terms with their weight (how often the question holds them) and idf at each level.
_TERMS = """
q AS (
    SELECT term, mult, idf_s, idf_p, array_to_tsvector(ARRAY[term])::text::tsquery AS query
    FROM unnest(%(terms)s::text[], %(mult)s::float8[], %(idf_s)s::float8[], %(idf_p)s::float8[])
        AS q(term, mult, idf_s, idf_p)
)"""
# (sentence, term) pairs of the sentences holding a term, found through the GIN index.
_HITS = """
hits AS (
    SELECT s.chunk_id, s.seq, s.n, greatest(cardinality(s.terms), 1) AS len,
           greatest(s.chunk_terms, 1) AS chunk_len, q.term, q.mult, q.idf_s, q.idf_p,
           (SELECT count(*) FROM unnest(s.terms) x WHERE x = q.term) AS tf
    FROM q JOIN sentences s ON s.tsv @@ q.query
    WHERE {visible} {where}
)"""
SENTENCE_SCORES = """
sentence_scores AS (
    SELECT chunk_id, seq, n,
           sum(mult * idf_s * tf / (tf + %(k1)s * (1 - %(b)s + %(b)s * len / %(avg_s)s))) AS score
    FROM hits GROUP BY chunk_id, seq, n
)"""
PASSAGE_SCORES = """
passage_tf AS (
    SELECT chunk_id, seq, chunk_len, mult, idf_p, sum(tf) AS tf
    FROM hits GROUP BY chunk_id, seq, chunk_len, term, mult, idf_p
),
passage_scores AS (
    SELECT chunk_id, seq,
           sum(mult * idf_p * tf / (tf + %(k1)s * (1 - %(b)s + %(b)s * chunk_len / %(avg_p)s))) AS score
    FROM passage_tf GROUP BY chunk_id, seq
)"""


def bm25_ctes(where: str = "") -> str:
    return _TERMS + "," + _HITS.format(visible=VISIBLE, where=where)
