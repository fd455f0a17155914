"""The vector store in Chroma, embedded (PersistentClient in the index dir) or a server over HTTP.

One collection: passage (chunk) vectors, tied by id to the source store, which holds texts, offsets and the
sentences' vectors. Sentence vectors stay out of the ANN index: an embedded Chroma keeps its whole HNSW
graph in memory (~2.3 KB a vector), and a vector per sentence would be 4-5 times the passages' share.
Writes go in batches no larger than the client allows."""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.client import SharedSystemClient
from chromadb.config import Settings as ClientSettings
from chromadb.errors import ChromaError, NotFoundError

from ..settings import ChromaSettings
from .base import Chunk, slices

log = logging.getLogger(__name__)

_SPACE = {"hnsw": {"space": "cosine"}}
DEFAULT_PORT = 8000  # `chroma run`'s


def chroma_client(options: ChromaSettings, index_dir: Path) -> chromadb.ClientAPI:
    client_settings = ClientSettings(anonymized_telemetry=False)
    if options.url:
        url = urlparse(options.url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or DEFAULT_PORT,
            ssl=url.scheme == "https",
            settings=client_settings,
        )
    path = index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=client_settings)


class ChromaVectorStore:
    """Chunk vectors in one Chroma collection, which records the identity of the model that made them."""

    def __init__(self, options: ChromaSettings, index_dir: Path) -> None:
        self.options, self.index_dir = options, index_dir
        self.kind = "chroma-server" if options.url else "chroma"
        self.name = options.collection
        self.legacy = f"{options.collection}_sentences"  # sentence vectors of indexes built before
        self._lock = threading.Lock()
        self._opened = 0  # how many times the client was (re)made: a failed call retries on a newer one
        self._open()
        limit = self.client.get_max_batch_size()
        self.batch_size = min(limit, options.max_batch or limit)

    def _open(self) -> None:
        self.client = chroma_client(self.options, self.index_dir)
        self.collection = self.client.get_or_create_collection(
            self.name, configuration=_SPACE, embedding_function=None
        )
        self._opened += 1

    def refresh(self) -> None:
        """An embedded Chroma sees another process's writes (an indexer's) only once reopened."""
        if not self.options.url:
            self.reopen()

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
        return (self.collection.metadata or {}).get("embed_model")

    def claim(self, identity: str) -> None:
        """Record the embedding model on the collection (an empty or rebuilt one); drop the sentence
        collection an older index kept (its vectors are in the source store)."""
        if self.model() != identity:
            self.collection.modify(metadata={"embed_model": identity})
        self._drop(self.legacy)

    def _drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except (NotFoundError, ValueError):
            pass

    # Writing -----------------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Idempotent: a redone batch overwrites itself."""
        for part in slices(range(len(chunks)), self.batch_size):
            self.collection.upsert(
                ids=[chunks[i].id for i in part],
                embeddings=vectors[part],
                metadatas=[{"source": chunks[i].source} for i in part],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for part in slices(chunk_ids, self.batch_size):
            self.collection.delete(ids=part)

    def ids(self) -> Iterator[str]:
        """Every chunk id stored, page by page (to prune vectors that nothing refers to)."""
        offset = 0
        while page := self.collection.get(include=[], limit=self.batch_size, offset=offset)["ids"]:
            yield from page
            offset += len(page)

    def close(self) -> None:
        """Let an embedded Chroma go, and its HNSW graph with it (~2 KB a vector), before other work that
        needs the memory (the BM25 rebuild); the next use of the index opens it again."""
        if not self.options.url:
            SharedSystemClient.clear_system_cache()
            _return_freed_memory()

    def reset(self) -> None:
        for name in (self.name, self.legacy):
            self._drop(name)
        self._open()

    # Reading -----------------------------------------------------------------------------------------

    def count(self) -> int:
        return self.collection.count()

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
                return self.collection.query(query_embeddings=vectors, n_results=k, include=["distances"])
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
