"""The encoder seam: what the indexer and the retriever need of an embedding model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

Spans = Sequence[tuple[int, int]]  # character spans of sentences inside one passage


class Encoder(Protocol):
    name: str  # the model's canonical name

    @property
    def identity(self) -> str:
        """Everything the vectors depend on (model, dimension, weights, prompts, precision): an index
        is tied to it."""

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row a question (a question and its translation go in one batch)."""

    def embed_passages(
        self, texts: Sequence[str], sentences: Sequence[Spans]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, per passage, its sentences' vectors (one row a sentence)."""

    def prepare_queries(self) -> None:
        """Load what encoding a question needs now, not on the first question."""
