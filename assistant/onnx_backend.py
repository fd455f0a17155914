"""The transformer step of a sentence-transformers model run by onnxruntime.

sentence-transformers' own `backend="onnx"` needs optimum-onnx, whose only release pins
transformers<4.58; onnxruntime itself is already installed (chromadb depends on it). So the model
folder carries `onnx/model.onnx` (where sentence-transformers' ONNX backend looks for it) and we swap
it in for the torch BERT inside an otherwise unchanged SentenceTransformer: same tokenizer, prompts,
pooling and normalisation; only the 12 encoder layers run in onnxruntime, 2-3x faster on CPU for
short queries, cosine 1.0 against torch (tests/test_e5model.py)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

ONNX_FILE = "onnx/model.onnx"
OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
log = logging.getLogger(__name__)


class _LastHidden(torch.nn.Module):
    """BERT with plain tensor inputs and output, which is what the exporter traces."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export(model_dir: Path) -> Path:
    """Write `model_dir/onnx/model.onnx` from the folder's transformer weights (float32)."""
    import transformers
    from transformers import AutoModel

    transformers.logging.disable_progress_bar()
    out = Path(model_dir) / ONNX_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    # eager attention: plain matmul/softmax ops export cleanly and onnxruntime fuses them itself
    bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32).eval()
    dummy = (torch.tensor([[0, 6, 2]]), torch.ones(1, 3, dtype=torch.long))
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes on constant shape checks; parity is tested
        torch.onnx.export(
            _LastHidden(bert),
            dummy,
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            opset_version=OPSET,
            dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        )
    _fuse(out, bert.config)
    return out


def _fuse(path: Path, config: Any) -> None:
    """Rewrite the graph with onnxruntime's fused BERT operators (attention, skip-layernorm, bias-gelu):
    ~15% faster again on short inputs, outputs equal to 1e-6."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(path),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=0,  # graph fusions only; the session applies its own optimisations at load
    )
    fused.save_model_to_file(str(path))


class OnnxEncoder(torch.nn.Module):
    """Stands in for the Hugging Face model inside sentence-transformers' Transformer module."""

    def __init__(self, onnx_path: Path, config: Any, threads: int) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        # Graphs exported elsewhere (optimum) may also want token_type_ids; other inputs we cannot feed.
        self.inputs = [i.name for i in self.session.get_inputs()]
        unknown = set(self.inputs) - set(_INPUTS)
        if unknown:
            raise ValueError(f"{onnx_path} wants inputs we do not provide: {sorted(unknown)}")
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = "last_hidden_state" if "last_hidden_state" in outputs else outputs[0]
        self.config = config  # sentence-transformers reads the hidden size from it

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any
    ) -> dict[str, torch.Tensor]:
        feed = {
            "input_ids": input_ids.numpy().astype(np.int64, copy=False),
            "attention_mask": attention_mask.numpy().astype(np.int64, copy=False),
        }
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        (hidden,) = self.session.run([self.output], {name: feed[name] for name in self.inputs})
        return {"last_hidden_state": torch.from_numpy(hidden)}


def use_onnx(model: Any, model_dir: Path, threads: int) -> bool:
    """Run `model`'s transformer (a loaded SentenceTransformer) in onnxruntime if the folder has an
    exported graph; return whether it does."""
    onnx_path = Path(model_dir) / ONNX_FILE
    if not onnx_path.is_file():
        return False
    transformer = model[0]
    try:
        transformer.model = OnnxEncoder(onnx_path, transformer.model.config, threads)
    except Exception as exc:  # an unreadable or foreign graph: torch still works
        log.warning("not using %s (%s); encoding with torch", onnx_path, exc)
        return False
    return True
