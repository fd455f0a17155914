"""Exporting a model folder's encoder to ONNX (at model build time; needs torch).

sentence-transformers' own `backend="onnx"` needs optimum-onnx, whose only release pins
transformers<4.58; onnxruntime itself is already installed (chromadb depends on it). So the model
folder carries `onnx/model.onnx` (where sentence-transformers' ONNX backend looks for it), which
`encoders.runners.OnnxRunner` runs with the folder's own tokenizer and pooling: 2-3x faster on CPU for short
queries than torch, cosine 1.0 against it (tests/test_e5model.py), and no torch in memory."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import torch

from .layout import INT8_FILE, ONNX_FILE

OPSET = 17


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
    quantize(out, out.parent / Path(INT8_FILE).name)
    return out


def quantize(path: Path, out: Path) -> Path:
    """An int8 copy of the graph (onnxruntime dynamic quantization, per channel, embeddings included):
    118 MB instead of 470, faster on CPU (README, Models). Judged by retrieval, not cosine (0.9945 against fp32):
    passages encoded with it and questions with the fp32 graph keep XQuAD recall@1 and accuracy
    (README, "Indexing at scale"); questions stay fp32, where a user waits for one short text."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger("root").setLevel(logging.ERROR)  # "consider pre-processing" advice
    quantize_dynamic(
        str(path),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Gather", "Attention", "EmbedLayerNormalization"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
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
