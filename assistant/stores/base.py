"""The storage contract: the records an index holds and the Protocols every backend implements.

No backend owns these types. An index is three stores (see `Stores`, made by `stores.factory`):
- a **source store**: each source's file state, metadata and canonical text, its chunks with their offsets,
  sentences, analysed terms and sentence vectors, and a journal of vectors whose fate is not yet known;
- a **vector store**: one vector per chunk, tied to the model that made it, searched by vector;
- a **lexical index**: BM25 (or a server's full text) over chunks and over their sentences.

Retrieval sees only the read side (`SourceReader`, `VectorSearch`, `LexicalIndex`); the indexer writes
through the rest. Every backend passes the same contract tests (tests/test_store_contract.py)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np

# --- records ---------------------------------------------------------------------------------------


class Span(NamedTuple):
    """A sentence's offsets (a tuple: made by the thousand for every question, from the stored JSON)."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    start: int
    end: int
    text: str  # == the source's canonical text[start:end]
    sentences: tuple[Span, ...]  # absolute offsets, inside [start, end)


@dataclass(frozen=True)
class Source:
    """A source as indexed: file state, metadata and canonical text (chunks refer to it by offsets)."""

    source: str  # path relative to the corpus folder, or a part of a file (an attachment, a feed entry)
    path: str  # the corpus file it comes from
    sha256: str
    size: int
    mtime_ns: int
    title: str
    date: str | None
    format: str = "text"
    extra: dict = field(default_factory=dict)  # format-specific metadata: pages, author, site, body span
    text: str = ""


@dataclass(frozen=True)
class Listed:
    """One line of the article list: no text is read for it."""

    source: str
    title: str
    date: str | None
    size: int
    chunks: int


@dataclass(frozen=True)
class FileState:
    """What a sync needs to know about an indexed file, without its text."""

    sha256: str
    size: int
    mtime_ns: int


Titles = dict[str, tuple[str, str | None]]  # (title, date) by source
# What the source store records per source: the source, its chunks, each chunk's encoded terms
# (`encode_terms`) and each chunk's sentence vectors (one row a sentence).
Entry = tuple[Source, Sequence[Chunk], Sequence[str], Sequence[np.ndarray]]


def encode_terms(sentence_terms: Sequence[Sequence[str]]) -> str:
    """The stored form of a chunk's analysed terms: space-separated, sentences separated by tabs (terms
    never contain blanks)."""
    return "\t".join(" ".join(terms) for terms in sentence_terms)


def decode_terms(stored: str) -> list[list[str]]:
    return [s.split() for s in stored.split("\t")]


# --- the read side -----------------------------------------------------------------------------------


class SourceReader(Protocol):
    """What answering a question reads of the source store."""

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The stored chunks among these ids (unknown ids are left out)."""

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Per chunk id: its sentences' vectors (float32, one row a sentence); unknown ids left out."""

    def titles_of(self, sources: Sequence[str]) -> Titles: ...

    def document(self, source: str, with_text: bool = True) -> Source | None: ...

    def text(self, source: str) -> str | None:
        """The canonical text: every citation's offsets refer to it."""

    def source_chunks(self, source: str) -> list[Chunk]: ...

    def listing(self) -> list[Listed]: ...

    def count(self) -> int:
        """Chunks stored."""

    def count_documents(self) -> int: ...


class VectorSearch(Protocol):
    def search(self, vectors: np.ndarray, k: int) -> list[dict[str, float]]:
        """Per row of `vectors`: the cosine similarity of its k nearest chunks, by chunk id (fewer when
        fewer are stored; empty when the store cannot be reached, and the caller carries on)."""


class LexicalIndex(Protocol):
    """A lexical index as of one generation: it never changes under a reader."""

    generation: str

    def search_passages(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]:
        """(chunk id, score) of the best-scoring chunks for these analysed terms, best first, positive
        scores only; ties in index order."""

    def search_sentences(self, terms: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        """(chunk id, sentence number in the chunk, score) of the best-scoring sentences, best first."""

    def sentence_scores(self, terms: Sequence[str], chunk_ids: Collection[str]) -> dict[str, list[float]]:
        """Per chunk id: the score of each of its sentences, zeros included (unknown ids left out)."""

    def contains(self, term: str) -> bool:
        """Some sentence holds the term."""

    def idf(self, term: str) -> float:
        """The term's inverse document frequency over sentences; 0 when no sentence holds it."""

    @property
    def max_idf(self) -> float:
        """The idf of a term found in a single sentence."""


class HybridSearch(Protocol):
    """A backend's own candidate stage (retrieval/candidates.py has the local one): the dense rankings
    (one per query vector), BM25's passage ranking and its best-sentence ranking, the dense best-sentence
    rankings over the pool they make, fused by weighted reciprocal rank, in one round trip."""

    def candidates(self, vectors: np.ndarray, terms: Sequence[str], fusion: Fusion, keep: int) -> Candidates:
        """`keep`: the best-fused passages whose sentence vectors come back in `stored`."""


@dataclass(frozen=True)
class Fusion:
    """How candidate rankings are made and fused: retrieval's constants (retrieval/fusion.py), handed to
    a backend that fuses them itself."""

    rrf_k: int
    dense_candidates: int  # length of each ranking
    bm25_candidates: int  # sentences by BM25 score considered for the best-sentence ranking
    passage_share: float  # of each vote: the passage as a whole
    sentence_share: float  # and its best sentence


@dataclass
class Candidates:
    """What the candidate stage hands on: per query vector the cosine of its nearest passages, the fused
    score of every candidate passage, and sentence vectors (float32, a row a sentence) of at least the
    best-fused passages."""

    dense: list[dict[str, float]]
    fused: dict[str, float]
    stored: dict[str, np.ndarray]


# --- the write side ----------------------------------------------------------------------------------


class SourceStore(SourceReader, Protocol):
    """Sources and their chunks. Each write is one transaction: a reader sees a file's chunks whole or not
    at all, and a crash loses at most the batch under way."""

    schema_version: int  # of what it holds: an index recorded with another is rebuilt

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, **values: str | int | None) -> None: ...

    def states(self) -> dict[str, FileState]:
        """Per corpus file indexed: its checksum, size and mtime."""

    def skipped(self) -> dict[str, tuple[FileState, str]]:
        """Per unreadable file: its size and mtime when it was tried, and why it was skipped."""

    def changes(self) -> int:
        """A counter bumped by every write that adds or removes chunks (the lexical index follows it)."""

    def iter_terms(self) -> Iterator[tuple[str, list[list[str]]]]:
        """(chunk id, analysed terms of each sentence) of every chunk, in a stable order."""

    def pending(self) -> list[str]: ...

    def mark_pending(self, ids: Iterable[str]) -> None: ...

    def clear_pending(self, ids: Iterable[str] | None = None) -> None: ...

    def add(self, entries: Sequence[Entry]) -> None:
        """Record sources with their chunks, terms and sentence vectors; their chunk ids leave the
        journal (their vectors are stored)."""

    def remove(self, paths: Sequence[str]) -> list[str]:
        """Forget what these corpus files gave; their chunk ids go to the journal and are returned."""

    def skip(self, path: str, size: int, mtime_ns: int, reason: str) -> None: ...

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """A file whose bytes are unchanged but whose size/mtime record is stale (touched, copied)."""

    def reset(self) -> None: ...

    def close(self) -> None: ...


class VectorStore(VectorSearch, Protocol):
    """Chunk vectors, tied to the identity of the model that made them."""

    kind: str  # what it is, for messages and health checks: "chroma", "chroma-server", ...

    def model(self) -> str | None:
        """The identity of the model the stored vectors were made with (None: not recorded yet)."""

    def claim(self, identity: str) -> None:
        """Record the model identity (an empty or rebuilt store)."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Idempotent: a redone batch overwrites itself."""

    def delete(self, ids: Sequence[str]) -> None: ...

    def ids(self) -> Iterator[str]: ...

    def count(self) -> int: ...

    def refresh(self) -> None:
        """See what another process wrote since this one opened the store."""

    def close(self) -> None:
        """Let go of what the store holds in memory; the next use opens it again."""

    def reset(self) -> None:
        """Delete every vector and the recorded model."""


class LexicalStore(Protocol):
    """Builds and opens generations of the lexical index."""

    def generation(self) -> str | None:
        """The current generation; None when none was built."""

    def open(self) -> LexicalIndex | None: ...

    def rebuild(self, chunks: Iterable[tuple[str, list[list[str]]]]) -> None:
        """A new generation from (chunk id, terms per sentence), made current at once."""


def slices(items: Sequence, size: int) -> Iterator[list]:
    """Consecutive pieces of at most `size` items: writes and `IN (...)` lists stay within a backend's
    limits."""
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]
