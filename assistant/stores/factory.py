"""The one place that makes an index's stores: the backend `settings.store` names (its URL's scheme;
none: the embedded backend in the index dir).

A backend makes `Stores` from settings (and the encoder's identity), and opens the source store of an
index that exists; adding one is one entry in `BACKENDS` and one module behind the Protocols of
`stores/base.py`, tested by the contract tests (tests/test_store_contract.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..settings import Settings
from .base import SourceReader
from .index import Stores
from .postgres import PostgresBackend


class Backend(Protocol):
    def stores(self, settings: Settings, identity: Callable[[], str]) -> Stores: ...

    def existing_sources(self, settings: Settings) -> SourceReader | None:
        """The source store of the index `settings` names, or None when there is none (nothing made)."""


class ChromaBackend:
    """SQLite source store, Chroma vectors (embedded in the index dir, or a `chroma run` server), BM25
    files: everything but a Chroma server lives in the index dir."""

    def stores(self, settings: Settings, identity: Callable[[], str]) -> Stores:
        from .bm25 import Bm25Store
        from .chroma import ChromaVectorStore
        from .sqlite import SqliteSourceStore

        index_dir = settings.index_dir
        return Stores(
            index_dir,
            identity,
            SqliteSourceStore(index_dir),
            lambda: ChromaVectorStore(settings.chroma, index_dir),
            Bm25Store(index_dir),
            kind="chroma-server" if settings.chroma.url else "chroma",
        )

    def existing_sources(self, settings: Settings) -> SourceReader | None:
        from .sqlite import FILE_NAME, SqliteSourceStore

        exists = (settings.index_dir / FILE_NAME).is_file()
        return SqliteSourceStore(settings.index_dir) if exists else None


# PostgreSQL's module imports psycopg only when a store is made from it.
BACKENDS: dict[str, Backend] = {"chroma": ChromaBackend(), "postgres": PostgresBackend()}


def open_stores(settings: Settings, identity: Callable[[], str]) -> Stores:
    """The stores of the index that `settings` names. `identity`: the encoder's, asked for only when
    needed (it may load the model)."""
    return BACKENDS[settings.store.backend].stores(settings, identity)


def existing_sources(settings: Settings) -> SourceReader | None:
    """The source store of the index that `settings` names, without making one where there is none."""
    return BACKENDS[settings.store.backend].existing_sources(settings)
