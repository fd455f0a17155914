-- The index in PostgreSQL: the source store (documents, chunks, sentences, journal), the lexical index
-- (a tsvector per sentence with its generations) and the vector store (passage vectors, HNSW).
-- pgvector must be installed in the database (a superuser: CREATE EXTENSION vector; `make pg-up` does).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE documents (
    source text PRIMARY KEY,     -- path relative to the corpus folder, or a part of a file (an attachment)
    path text NOT NULL,          -- the corpus file it comes from
    sha256 text NOT NULL,
    size bigint NOT NULL,
    mtime_ns bigint NOT NULL,
    title text NOT NULL,
    date text,
    format text NOT NULL,
    extra jsonb NOT NULL,        -- format-specific metadata (pages, author, body span, ...)
    text text NOT NULL           -- the canonical text; every offset refers to it
);
CREATE INDEX documents_path ON documents (path);

CREATE TABLE chunks (
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- insertion order: ties are broken in index order
    id text PRIMARY KEY,
    source text NOT NULL REFERENCES documents (source) ON DELETE CASCADE,
    start integer NOT NULL,
    "end" integer NOT NULL,
    text text NOT NULL,
    sentence_starts integer[] NOT NULL,  -- absolute offsets of the chunk's sentences
    sentence_ends integer[] NOT NULL,
    terms integer NOT NULL               -- analysed terms in the chunk (its BM25 length)
);
CREATE INDEX chunks_source ON chunks (source, start);

-- One row per sentence of a chunk, for as long as some generation of the lexical index holds it: `born`
-- is the generation that added it, `died` the one that removed it (NULL: still there). A reader at
-- generation g sees born <= g AND (died IS NULL OR died > g), so an open reader never sees a change.
CREATE TABLE sentences (
    chunk_id text NOT NULL,
    n integer NOT NULL,          -- sentence number in the chunk
    seq bigint NOT NULL,         -- the chunk's
    terms text[] NOT NULL,       -- analysed terms in order (text/analysis.py: Spanish Snowball, folded)
    tsv tsvector NOT NULL,       -- the same terms as lexemes, for the GIN index
    chunk_terms integer NOT NULL,
    embedding halfvec,           -- the sentence's vector (half precision, as the SQLite store keeps it)
    born bigint NOT NULL,
    died bigint,
    PRIMARY KEY (chunk_id, n, born)
);
CREATE INDEX sentences_tsv ON sentences USING gin (tsv);
CREATE INDEX sentences_died ON sentences (died) WHERE died IS NOT NULL;

-- Each generation of the lexical index with the collection statistics BM25 needs at it.
CREATE SEQUENCE generation_ids;
CREATE TABLE generations (
    id bigint PRIMARY KEY,
    token text NOT NULL UNIQUE,       -- what readers compare: never reused, even after a reset
    sentences bigint NOT NULL,
    sentence_terms bigint NOT NULL,   -- sum over sentences of max(terms, 1), as BM25 files count them
    passages bigint NOT NULL,
    passage_terms bigint NOT NULL,
    made timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE lexical_state (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    current bigint REFERENCES generations (id),
    built bigint                      -- current at the last rebuild: rows dead before it are dropped
);
INSERT INTO lexical_state DEFAULT VALUES;

CREATE TABLE pending (id text PRIMARY KEY);  -- chunk ids whose vectors may be half-written
CREATE TABLE skipped (
    path text PRIMARY KEY, size bigint NOT NULL, mtime_ns bigint NOT NULL, reason text NOT NULL
);

-- The vector store: one vector per chunk; the column gets its dimension (and the HNSW index) from the
-- first vectors written.
CREATE TABLE passage_vectors (id text PRIMARY KEY, source text NOT NULL, embedding vector NOT NULL);
CREATE TABLE vector_meta (key text PRIMARY KEY, value text NOT NULL);
