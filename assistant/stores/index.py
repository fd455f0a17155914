"""`Stores`: the three stores of one index, as one backend made them (`stores.factory`), with what the
indexer and the assistant do to them as a whole: lock, generation, model check, lexical update."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ..errors import IndexBusy, IndexMismatch
from .base import HybridSearch, LexicalIndex, LexicalStore, SourceStore, VectorSearch, VectorStore

LOCK_FILE = "index.lock"


class Stores:
    """Source store, vector store (opened on first use: a Chroma client is not made for a `briefing text`)
    and lexical store of one index, tied to the identity of the encoder that fills it."""

    def __init__(
        self,
        index_dir: Path,
        identity: Callable[[], str],
        sources: SourceStore,
        vectors: Callable[[], VectorStore],
        lexical: LexicalStore,
        kind: str,
        where: str | None = None,
        lock: Callable[[], AbstractContextManager] | None = None,
        hybrid: Callable[[LexicalIndex], HybridSearch | None] | None = None,
    ) -> None:
        self.dir = Path(index_dir)
        self.kind = kind  # the backend's name, for messages and health checks
        self.where = where or str(self.dir)  # what holds the index, for messages (no password)
        self._lock = lock or self._file_lock
        self._hybrid = hybrid
        self._identity = identity  # the encoder's: loading it may mean loading the model
        self.sources = sources
        self.lexical_store = lexical
        self._open_vectors = vectors
        self._vectors: VectorStore | None = None

    @property
    def identity(self) -> str:
        return self._identity()

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = self._open_vectors()
        return self._vectors

    @property
    def current_vectors(self) -> VectorSearch:
        """The read side of whichever vector store is open when a question is asked (a sync lets the
        store go and the next use opens it again): what a retriever holds."""
        return _CurrentVectors(self)

    def release_vectors(self) -> None:
        """Let the vector store go (an embedded HNSW graph and the BM25 rebuild need not be in memory
        together); the next use opens it again."""
        if self._vectors is not None:
            self._vectors.close()
            self._vectors = None

    def refresh(self) -> None:
        """See what another process wrote (an indexer's sync)."""
        self.vectors.refresh()

    def generation(self) -> str | None:
        """Changes whenever the index does: a reader opened on an older one is made again."""
        return self.lexical_store.generation()

    def lexical(self) -> LexicalIndex | None:
        return self.lexical_store.open()

    def update_lexical(self) -> None:
        """Rebuild the lexical index when chunks were added or removed since it was built."""
        changes = str(self.sources.changes())
        if self.generation() and self.sources.meta("lexical_changes") == changes:
            return
        self.lexical_store.rebuild(self.sources.iter_terms())
        self.sources.set_meta(lexical_changes=changes)

    def check_model(self) -> None:
        """Refuse vectors made by another model: their similarities mean nothing to this one's."""
        built_with, identity = self.vectors.model(), self.identity
        if built_with and built_with != identity:
            raise IndexMismatch(
                f"The index was built with {built_with.split(' ')[0]} but the assistant is set to "
                f"{identity.split(' ')[0]}. Rebuild it: `briefing index --rebuild` (or delete the "
                "index dir)."
            )

    def hybrid(self, lexical: LexicalIndex) -> HybridSearch | None:
        """The backend's own candidate stage at the lexical index's generation, if it has one (a server
        that fuses the rankings where the data is); None: retrieval builds them (retrieval/candidates.py)."""
        return self._hybrid(lexical) if self._hybrid else None

    def lock(self) -> AbstractContextManager:
        """One indexer per index at a time (readers are never blocked); IndexBusy when another holds it."""
        return self._lock()

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(self.dir / LOCK_FILE, timeout=0):
                yield
        except Timeout:
            raise IndexBusy(
                f"another `briefing index` is updating {self.where}; answers use the last complete state. "
                "Try again when it has finished."
            ) from None


class _CurrentVectors:
    def __init__(self, stores: Stores) -> None:
        self._stores = stores

    def search(self, vectors: np.ndarray, k: int) -> list[dict[str, float]]:
        return self._stores.vectors.search(vectors, k)
