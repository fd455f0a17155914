"""PostgreSQL + pgvector as the index's one shared store: sources, chunks and sentences (`sources`), the
lexical index over the sentences' tsvectors (`lexical`), passage vectors in an HNSW index (`vectors`),
the candidate stage in one SQL statement (`hybrid`), the schema's migrations (`database`), and a local
server for development and tests (`server`). Every process that names the same URL shares the index."""

from __future__ import annotations

from collections.abc import Callable

from ...settings import Settings
from ..base import SourceReader
from ..index import Stores

KIND = "postgres"


class PostgresBackend:
    """Everything in one database; the index dir holds nothing of it."""

    def stores(self, settings: Settings, identity: Callable[[], str]) -> Stores:
        from .database import database
        from .lexical import PgLexicalStore
        from .sources import PgSourceStore
        from .vectors import PgVectorStore

        db = database(settings.store.url)
        vectors = PgVectorStore(db)
        return Stores(
            settings.index_dir,
            identity,
            PgSourceStore(db),
            lambda: vectors,
            PgLexicalStore(db),
            kind=KIND,
            where=db.where,
            lock=db.index_lock,
            hybrid=lambda lexical: lexical,  # PgLexical runs the candidate stage itself
        )

    def existing_sources(self, settings: Settings) -> SourceReader | None:
        from .database import database, exists
        from .sources import PgSourceStore

        return PgSourceStore(database(settings.store.url)) if exists(settings.store.url) else None
