"""Runners: token vectors pooled into unit vectors for a batch of texts, from a sentence-transformers folder.

- **OnnxRunner** (default where the folder has `onnx/model.onnx`, as the converted e5 does): the folder's
  own tokenizer (`tokenizer.json`, or sentencepiece where it can), mean pooling and normalisation, with the
  encoder in onnxruntime. torch and sentence-transformers are not even imported, which keeps an indexing
  process small (their libraries alone take ~450 MB of memory, the torch weights another 470 MB).
  Passages go through the folder's int8 graph (`onnx/model_qint8.onnx`), questions through the fp32 one.
- **TorchRunner**: `SentenceTransformer(folder)` itself, for any other model.

Texts are batched by token count (longest first, at most TOKEN_BUDGET tokens a pass), which bounds the
activations' memory whatever the text lengths and wastes little on padding."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import ModelUnavailable
from . import spm_tokenizer
from .layout import INT8_FILE, ONNX_FILE

log = logging.getLogger(__name__)

TOKEN_BUDGET = 1024  # tokens per forward pass: bounds activation memory whatever the text lengths
MAX_BATCH = 64  # texts per forward pass, however short
TORCH_BATCH = 32  # sentence-transformers' own default batch size


class Runner(Protocol):
    prompts: dict[str, str]
    passage_precision: str  # "int8" or "fp32": how passages are encoded (queries: always fp32)
    dimension: int

    def encode(self, texts: Sequence[str], prompt: str, kind: str) -> np.ndarray: ...


class OnnxRunner:
    """The folder's tokenizer and pooling with its encoder graph in onnxruntime: fp32 for questions, the
    int8 copy for passages where the folder has one (and `int8` is asked for). Each graph is loaded on
    first use: an indexer never loads the question graph (470 MB)."""

    def __init__(
        self, folder: Path, threads: int, passage_precision: str = "int8", spinning: bool = True
    ) -> None:
        config = _folder_config(folder)
        self.folder, self.threads, self.spinning = folder, threads, spinning
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
                    self._sessions[file] = _ort_session(self.folder / file, self.threads, self.spinning)
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


def _ort_session(path: Path, threads: int, spinning: bool = True) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    # No arena: it keeps the largest batch's activations for good (hundreds of MB); per-batch
    # allocations cost no measurable time at these sizes.
    options.enable_cpu_mem_arena = False
    # Spinning idle threads answer one question ~6 ms sooner (en p50 ~40 against ~47 ms) but cost about
    # twice a question's CPU (78 against 37 ms), which is what caps a server's requests per second.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
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
            batch_size=TORCH_BATCH,
            convert_to_numpy=True,
        )


@lru_cache(maxsize=4)
def load_runner(
    location: str, device: str, threads: int, backend: str, passage_precision: str, spinning: bool = True
) -> Runner:
    """Load once per process (the chat, the CLI's stdin mode and the tests share it)."""
    folder = Path(location)
    if backend == "onnx" and device == "cpu" and (folder / ONNX_FILE).is_file():
        try:
            return OnnxRunner(folder, threads, passage_precision, spinning)
        except Exception as exc:  # an unreadable or foreign graph: torch still works
            log.warning("not using %s (%s); encoding with torch", folder / ONNX_FILE, exc)
    return TorchRunner(location, device, threads)


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
