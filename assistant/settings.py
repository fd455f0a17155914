"""All defaults in one typed object; every field can be set with a `BRIEFING_` environment variable."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Converted models are built once per user and shared by every index (~700 MB, ~45 s to build).
USER_MODELS_DIR = platformdirs.user_cache_path("briefing-assistant") / "models"


class ChromaSettings(BaseModel):
    """Chroma, embedded in the index dir (the default) or a `chroma run` server."""

    url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded")
    collection: str = "briefing"
    max_batch: int | None = Field(
        None,
        description="Vectors per Chroma write; unset = the client's own limit (lower only, never higher)",
    )


POSTGRES_SCHEMES = ("postgresql", "postgres")


class StoreSettings(BaseModel):
    """Which backend holds the index (stores/factory.py): named by a URL, `BRIEFING_STORE` or `--store`."""

    url: str | None = Field(
        None,
        description="postgresql://user@host:port/db: PostgreSQL + pgvector; unset = embedded Chroma, SQLite "
        "and BM25 files in the index dir",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if not url or not url.strip():
            return None
        scheme = urlsplit(url.strip()).scheme
        if scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                f"a store URL starts with postgresql:// (got {scheme + '://' if scheme else repr(url)}); "
                "leave it unset for the embedded store in the index dir"
            )
        return url.strip()

    @property
    def backend(self) -> Literal["chroma", "postgres"]:
        return "postgres" if self.url else "chroma"


# Names from before the sections (BRIEFING_CHROMA_URL ...): still read, with a warning.
_LEGACY_ENV = {
    "BRIEFING_CHROMA_URL": ("chroma", "url"),
    "BRIEFING_COLLECTION": ("chroma", "collection"),
    "BRIEFING_CHROMA_MAX_BATCH": ("chroma", "max_batch"),
}


class Settings(BaseSettings):
    """Every field is a `BRIEFING_` environment variable; a section's fields are `BRIEFING_SECTION__FIELD`
    (e.g. `BRIEFING_CHROMA__URL`)."""

    model_config = SettingsConfigDict(env_prefix="BRIEFING_", env_nested_delimiter="__", extra="ignore")

    # Where things live
    corpus_dir: Path = Field(
        PROJECT_DIR / "data" / "articles", description="Folder of articles, read recursively"
    )
    index_dir: Path = Field(PROJECT_DIR / "index", description="Where the built index is kept")
    models_dir: Path = Field(USER_MODELS_DIR, description="Converted models, shared by every index")
    prompts_dir: Path = Field(PROJECT_DIR / "prompts", description="Prompt templates, loaded by name")

    # Embeddings
    embed_model: str = Field(
        "multilingual-e5-small",
        description="multilingual-e5-small, all-MiniLM-L6-v2, or any sentence-transformers path/name",
    )
    embed_device: str = "cpu"
    embed_threads: int = Field(2, description="CPU threads for encoding")
    embed_spinning: bool | None = Field(
        None,
        description="onnxruntime's idle threads spin: ~6 ms faster a question asked alone, about twice the CPU"
        " a question under concurrent requests. Unset: on for one question at a time (ask, eval), off in"
        " `briefing serve`",
    )
    embed_backend: Literal["onnx", "torch"] = Field(
        "onnx", description="onnx = onnxruntime where the model folder has onnx/model.onnx; torch otherwise"
    )
    passage_precision: Literal["int8", "fp32"] = Field(
        "int8",
        description="int8: passages through the model folder's int8 graph (faster on CPU; questions stay fp32)",
    )
    index_batch_chunks: int = Field(
        256, description="Passages embedded and committed together; a crash redoes at most one such batch"
    )

    # Storage: which backend holds the index, and each backend's own section
    # NoDecode: BRIEFING_STORE=postgresql://... is a URL, not JSON (BRIEFING_STORE__URL works too)
    store: Annotated[StoreSettings, NoDecode] = Field(default_factory=lambda: StoreSettings())
    chroma: ChromaSettings = Field(default_factory=lambda: ChromaSettings())

    max_file_bytes: int = Field(
        20 * 1024 * 1024, description="Larger corpus files are skipped, with a warning"
    )

    # Chunking and retrieval
    chunk_chars: int = Field(
        1200,
        description="Chunk size limit in characters; sentences are never split, paragraphs always end a chunk",
    )
    top_k: int = Field(5, description="Passages retrieved per question")
    translate: bool = Field(True, description="Also search English questions in Spanish (needs apertium)")
    translate_answers: bool = Field(
        True, description="English questions: a labelled machine translation of the quotes (apertium spa-eng)"
    )
    max_question_chars: int = 2000

    # Answers
    llm: str = Field("none", description="none = extractive; or an init_chat_model spec like openai:MODEL")
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0
    llm_max_tokens: int = 512
    history_turns: int = Field(3, description="Conversation turns kept for follow-up questions")

    # Chat server
    host: str = "127.0.0.1"
    port: int = 7860
    answer_workers: int = Field(
        4, description="Questions the chat answers at once; the rest wait in its queue"
    )
    max_upload_bytes: int = Field(20 * 1024 * 1024, description="Per-file upload limit in the chat")

    @field_validator("store", mode="before")
    @classmethod
    def _store_url(cls, value: object) -> object:
        """A plain string is the store's URL (empty or None: the embedded store)."""
        return {"url": value or None} if value is None or isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _legacy_names(cls, values: dict) -> dict:
        for name, (section, key) in _LEGACY_ENV.items():
            if name in os.environ:
                log.warning("%s is deprecated: use BRIEFING_%s__%s", name, section.upper(), key.upper())
                part = values.setdefault(section, {})
                if isinstance(part, dict):
                    part.setdefault(key, os.environ[name])
        return values
