"""The vector store: Chroma, embedded (PersistentClient in the index dir) or a server over HTTP.

Two collections: passage (chunk) vectors, and their sentences' vectors (to find the sentence that answers,
and passages by their best sentence). Only vectors and the ids that tie them to the chunk store live here;
texts and offsets are in the chunk store. Writes go in batches no larger than the client allows."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

from .chunking import Chunk
from .settings import Settings

log = logging.getLogger(__name__)


class IndexMismatch(RuntimeError):
    """The index was built with another embedding model."""


_SPACE = {"hnsw": {"space": "cosine"}}


def chroma_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorStore:
    """Chunk vectors and sentence vectors, tied to the embedding model that made them (its `identity`)."""

    def __init__(self, settings: Settings, identity: str) -> None:
        self.identity = identity
        self.names = (settings.collection, f"{settings.collection}_sentences")
        self.settings = settings
        self._lock = threading.Lock()
        self._opened = 0  # how many times the client was (re)made: a failed call retries on a newer one
        self._open()
        limit = self.client.get_max_batch_size()
        self.batch_size = min(limit, settings.chroma_max_batch or limit)

    def _open(self) -> None:
        self.client = chroma_client(self.settings)
        self.chunks, self.sentences = (
            self.client.get_or_create_collection(name, configuration=_SPACE, embedding_function=None)
            for name in self.names
        )
        self._opened += 1

    def reopen(self, seen: int | None = None) -> None:
        """Make the client again: an embedded Chroma only sees another process's writes (an indexer's)
        once reopened, and errors on them before. `seen`: skip if another thread reopened meanwhile."""
        with self._lock:
            if seen is not None and seen != self._opened:
                return
            if not self.settings.chroma_url:
                SharedSystemClient.clear_system_cache()
            self._open()

    # The model an index is tied to -------------------------------------------------------------------

    def model(self) -> str | None:
        return (self.chunks.metadata or {}).get("embed_model")

    def check_model(self) -> None:
        built_with = self.model()
        if built_with and built_with != self.identity:
            raise IndexMismatch(
                f"The index was built with {built_with.split(' ')[0]} but the assistant is set to "
                f"{self.identity.split(' ')[0]}. Rebuild it: `briefing index --rebuild` (or delete the "
                "index dir)."
            )

    def claim(self) -> None:
        """Record the embedding model on the collection (an empty or rebuilt one)."""
        if self.model() != self.identity:
            self.chunks.modify(metadata={"embed_model": self.identity})

    # Writing -----------------------------------------------------------------------------------------

    def add(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray]
    ) -> None:
        """Upsert chunks' vectors and their sentences' (idempotent: a redone batch overwrites itself)."""
        for part in _batches(range(len(chunks)), self.batch_size):
            self.chunks.upsert(
                ids=[chunks[i].id for i in part],
                embeddings=vectors[part],
                metadatas=[{"source": chunks[i].source} for i in part],
            )
        ids = [sentence_id(c.id, j) for c in chunks for j in range(len(c.sentences))]
        owners = [{"chunk_id": c.id} for c in chunks for _ in c.sentences]
        flat = np.concatenate(list(sentence_vectors)) if len(sentence_vectors) else np.zeros((0, 1))
        for part in _batches(range(len(ids)), self.batch_size):
            self.sentences.upsert(
                ids=[ids[i] for i in part], embeddings=flat[part], metadatas=[owners[i] for i in part]
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for part in _batches(list(chunk_ids), self.batch_size):
            self.chunks.delete(ids=part)
            self.sentences.delete(where={"chunk_id": {"$in": part}})

    def ids(self) -> Iterator[str]:
        """Every chunk id stored, page by page (to prune vectors that nothing refers to)."""
        offset = 0
        while page := self.chunks.get(include=[], limit=self.batch_size, offset=offset)["ids"]:
            yield from page
            offset += len(page)

    def reset(self) -> None:
        for name in self.names:
            try:
                self.client.delete_collection(name)
            except (NotFoundError, ValueError):
                pass
        self._open()

    # Reading -----------------------------------------------------------------------------------------

    def count(self) -> int:
        return self.chunks.count()

    def search(self, vectors: np.ndarray, k: int, sentences: bool = False) -> list[dict[str, float]]:
        """Cosine similarity of the k nearest chunks (or sentences) to each row of `vectors`, by id: one
        round trip for all of them (Chroma returns fewer when the collection holds fewer)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if k <= 0 or not len(vectors):
            return [{} for _ in vectors]
        result = self._query(vectors, k, sentences)
        if result is None:
            return [{} for _ in vectors]
        return [
            {i: 1.0 - dist for i, dist in zip(ids, dists, strict=True)}
            for ids, dists in zip(result["ids"], result["distances"], strict=True)
        ]

    def _query(self, vectors: np.ndarray, k: int, sentences: bool) -> dict | None:
        """Chroma's answer; on a failure (another process wrote or rebuilt the collections), once more on
        a reopened client; None if that fails too (the caller carries on without vectors)."""
        for attempt in range(2):
            seen = self._opened
            collection = self.sentences if sentences else self.chunks
            try:
                return collection.query(query_embeddings=vectors, n_results=k, include=["distances"])
            except ChromaError as exc:
                if attempt:
                    log.warning("vector search failed (%s); answering from the lexical index", exc)
                    return None
                self.reopen(seen)
        return None


def sentence_id(chunk_id: str, position: int) -> str:
    return f"{chunk_id}:{position}"


def chunk_of(sentence: str) -> str:
    """The chunk id inside a `sentence_id`."""
    return sentence.rpartition(":")[0]


def sentence_position(sentence: str) -> int:
    """The sentence's position in its chunk, from a `sentence_id` (-1 if malformed)."""
    tail = sentence.rpartition(":")[2]
    return int(tail) if tail.isdigit() else -1


def _batches(items: Sequence, size: int) -> Iterator[list]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]
