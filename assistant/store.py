"""The vector store: Chroma, embedded (PersistentClient in the index dir) or a server over HTTP.

One collection: passage (chunk) vectors, tied by id to the chunk store, which holds texts, offsets and the
sentences' vectors. Sentence vectors stay out of the ANN index: an embedded Chroma keeps its whole HNSW
graph in memory (~2.3 KB a vector), and a vector per sentence would be 4-5 times the passages' share.
Writes go in batches no larger than the client allows."""

from __future__ import annotations

import ctypes
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
    """Chunk vectors, tied to the embedding model that made them (its `identity`)."""

    def __init__(self, settings: Settings, identity: str) -> None:
        self.identity = identity
        self.name = settings.collection
        self.legacy = f"{settings.collection}_sentences"  # sentence vectors of indexes built before
        self.settings = settings
        self._lock = threading.Lock()
        self._opened = 0  # how many times the client was (re)made: a failed call retries on a newer one
        self._open()
        limit = self.client.get_max_batch_size()
        self.batch_size = min(limit, settings.chroma_max_batch or limit)

    def _open(self) -> None:
        self.client = chroma_client(self.settings)
        self.chunks = self.client.get_or_create_collection(
            self.name, configuration=_SPACE, embedding_function=None
        )
        self._opened += 1

    def reopen(self, seen: int | None = None) -> None:
        """Make the client again: an embedded Chroma only sees another process's writes (an indexer's)
        once reopened, and errors on them before. `seen`: skip if another thread reopened meanwhile."""
        with self._lock:
            if seen is not None and seen != self._opened:
                return
            self.close()
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
        """Record the embedding model on the collection (an empty or rebuilt one); drop the sentence
        collection an older index kept (its vectors are in the chunk store)."""
        if self.model() != self.identity:
            self.chunks.modify(metadata={"embed_model": self.identity})
        self._drop(self.legacy)

    def _drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except (NotFoundError, ValueError):
            pass

    # Writing -----------------------------------------------------------------------------------------

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Upsert chunks' vectors (idempotent: a redone batch overwrites itself)."""
        for part in _batches(range(len(chunks)), self.batch_size):
            self.chunks.upsert(
                ids=[chunks[i].id for i in part],
                embeddings=vectors[part],
                metadatas=[{"source": chunks[i].source} for i in part],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for part in _batches(list(chunk_ids), self.batch_size):
            self.chunks.delete(ids=part)

    def ids(self) -> Iterator[str]:
        """Every chunk id stored, page by page (to prune vectors that nothing refers to)."""
        offset = 0
        while page := self.chunks.get(include=[], limit=self.batch_size, offset=offset)["ids"]:
            yield from page
            offset += len(page)

    def close(self) -> None:
        """Let an embedded Chroma go, and its HNSW graph with it (~2 KB a vector), before other work that
        needs the memory (the BM25 rebuild); the next use of the index opens it again."""
        if not self.settings.chroma_url:
            SharedSystemClient.clear_system_cache()
            _return_freed_memory()

    def reset(self) -> None:
        for name in (self.name, self.legacy):
            self._drop(name)
        self._open()

    # Reading -----------------------------------------------------------------------------------------

    def count(self) -> int:
        return self.chunks.count()

    def search(self, vectors: np.ndarray, k: int) -> list[dict[str, float]]:
        """Cosine similarity of the k nearest chunks to each row of `vectors`, by id: one round trip for
        all of them (Chroma returns fewer when the collection holds fewer)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if k <= 0 or not len(vectors):
            return [{} for _ in vectors]
        result = self._query(vectors, k)
        if result is None:
            return [{} for _ in vectors]
        return [
            {i: 1.0 - dist for i, dist in zip(ids, dists, strict=True)}
            for ids, dists in zip(result["ids"], result["distances"], strict=True)
        ]

    def _query(self, vectors: np.ndarray, k: int) -> dict | None:
        """Chroma's answer; on a failure (another process wrote or rebuilt the collections), once more on
        a reopened client; None if that fails too (the caller carries on without vectors)."""
        for attempt in range(2):
            seen = self._opened
            try:
                return self.chunks.query(query_embeddings=vectors, n_results=k, include=["distances"])
            except ChromaError as exc:
                if attempt:
                    log.warning("vector search failed (%s); answering from the lexical index", exc)
                    return None
                self.reopen(seen)
        return None


def _return_freed_memory() -> None:
    """glibc keeps freed heap pages for reuse; give them back so that the next phase starts lean."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _batches(items: Sequence, size: int) -> Iterator[list]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]
