"""The vector store: Chroma, embedded (PersistentClient in the index dir) or a server over HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from .chunking import Chunk
from .corpus import Article
from .embeddings import SentenceTransformerEmbeddings
from .settings import Settings


class IndexMismatch(RuntimeError):
    """The index was built with another embedding model."""


SENTENCE_CACHE_SIZE = 100_000  # vectors kept in memory (~150 MB at 384 dimensions)


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
    """Chunk vectors in one Chroma collection and their sentences' vectors in a second one (to pick the
    sentence that answers within a passage), tied to the embedding model that made them."""

    def __init__(self, settings: Settings, embeddings: SentenceTransformerEmbeddings) -> None:
        self.embeddings = embeddings
        client = chroma_client(settings)
        self.chroma, self.sentence_chroma = (
            Chroma(
                collection_name=name,
                embedding_function=embeddings,
                client=client,
                collection_configuration={"hnsw": {"space": "cosine"}},
            )
            for name in (settings.collection, f"{settings.collection}_sentences")
        )
        self.collection = self.chroma._collection
        self.sentence_collection = self.sentence_chroma._collection
        # Sentence vectors already read, by id. Ids hash the chunk's content, so an entry never goes
        # stale; it saves a Chroma round trip for the passages that keep coming back.
        self._sentence_cache: dict[str, np.ndarray] = {}

    def count(self) -> int:
        return self.collection.count()

    def model(self) -> str | None:
        return (self.collection.metadata or {}).get("embed_model")

    def check_model(self) -> None:
        built_with = self.model()
        if built_with and built_with != self.embeddings.identity:
            raise IndexMismatch(
                f"The index was built with {built_with.split(' ')[0]} but the assistant is set to "
                f"{self.embeddings.name}. Rebuild it: `briefing index --rebuild` (or delete the index dir)."
            )

    def claim(self) -> None:
        """Record the embedding model on the collection (an empty or rebuilt one)."""
        self.collection.modify(metadata={"embed_model": self.embeddings.identity})

    def add(self, chunks: Sequence[Chunk], articles: dict[str, Article]) -> None:
        if not chunks:
            return
        metadatas = [_metadata(c, articles[c.source]) for c in chunks]
        self.chroma.add_texts([c.text for c in chunks], metadatas=metadatas, ids=[c.id for c in chunks])
        ids, texts, meta = [], [], []
        for c in chunks:
            for j, span in enumerate(c.sentences):
                ids.append(sentence_id(c.id, j))
                texts.append(c.text[span.start - c.start : span.end - c.start])
                meta.append({"chunk_id": c.id, "source": c.source, "start": span.start, "end": span.end})
        self.sentence_chroma.add_texts(texts, metadatas=meta, ids=ids)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.collection.delete(ids=list(ids))
            self.sentence_collection.delete(where={"chunk_id": {"$in": list(ids)}})
            self._sentence_cache.clear()

    def keep_only(self, chunk_ids: set[str]) -> None:
        """Drop vectors of chunks that are no longer indexed (the collection mirrors one corpus)."""
        stale = [i for i in self.collection.get(include=[])["ids"] if i not in chunk_ids]
        self.delete(stale)

    def reset(self) -> None:
        self.chroma.reset_collection()
        self.sentence_chroma.reset_collection()
        self.collection = self.chroma._collection
        self.sentence_collection = self.sentence_chroma._collection
        self._sentence_cache.clear()

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given sentences (ids from `sentence_id`)."""
        cache = self._sentence_cache
        missing = [i for i in ids if i not in cache]
        if missing:
            if len(cache) + len(missing) > SENTENCE_CACHE_SIZE:
                cache.clear()
            got = self.sentence_collection.get(ids=missing, include=["embeddings"])
            for i, v in zip(got["ids"], got["embeddings"], strict=True):
                cache[i] = np.asarray(v, dtype=np.float32)
        return {i: cache[i] for i in ids if i in cache}

    def search(self, vectors: np.ndarray, k: int, sentences: bool = False) -> list[dict[str, float]]:
        """Cosine similarity of the k nearest chunks (or sentences) to each row of `vectors`, by id: one
        round trip for all of them (Chroma returns fewer when the collection holds fewer)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if k <= 0 or not len(vectors):
            return [{} for _ in vectors]
        collection = self.sentence_collection if sentences else self.collection
        result = collection.query(query_embeddings=vectors, n_results=k, include=["distances"])
        return [
            {i: 1.0 - dist for i, dist in zip(ids, dists, strict=True)}
            for ids, dists in zip(result["ids"], result["distances"], strict=True)
        ]


def sentence_id(chunk_id: str, position: int) -> str:
    return f"{chunk_id}:{position}"


def chunk_of(sentence: str) -> str:
    """The chunk id inside a `sentence_id`."""
    return sentence.rpartition(":")[0]


def _metadata(chunk: Chunk, article: Article) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "source": chunk.source,
        "start": chunk.start,
        "end": chunk.end,
        "title": article.title,
    }
    if article.date:
        meta["date"] = article.date
    return meta
