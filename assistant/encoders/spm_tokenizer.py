"""The encoder's tokenizer through sentencepiece, where the folder's tokenizer.json is a sentencepiece
Unigram (XLM-R's, hence multilingual-e5's): the same ids in a fifth of the memory.

`tokenizers` keeps a Unigram vocabulary as a trie with a hash map per node: 290 MB resident for XLM-R's
250,002 pieces, in every process that encodes (indexer, chat, CLI). sentencepiece holds the same pieces
and its double-array trie in ~60 MB and is ~10x faster. The model file is written once from tokenizer.json
(`onnx/tokenizer.model`, beside the graphs that use it). Ids are equal to tokenizers' on real text
(tests/test_e5model.py); they differ only for text holding a special token's literal spelling ("<s>",
"<mask>": tokenizers maps it to the special id, sentencepiece spells it out) and for a combining mark with
no letter before it."""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

SPM_FILE = "onnx/tokenizer.model"
_SPACE_PIECE = "\u2581"


class SentencePieceTokenizer:
    """`<s> pieces </s>`, truncated to max_length ids, as the folder's tokenizer.json encodes."""

    def __init__(self, path: Path, max_length: int) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.bos, self.eos, self.max_pieces = self._sp.bos_id(), self._sp.eos_id(), max_length - 2
        if self.bos < 0 or self.eos < 0:
            raise ValueError(f"{path} does not name its <s> and </s> pieces")
        self._space = self._sp.piece_to_id(_SPACE_PIECE)
        self.pad_id = max(self._sp.pad_id(), 0)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # one text at a time: a list goes through sentencepiece's thread pool, whose start-up costs more
        # than a question's pieces (~2 ms against 0.01 ms on a busy machine)
        pieces = [self._sp.encode(t) for t in texts]
        return [
            [self.bos, *self._trailing_space(t, p)[: self.max_pieces], self.eos]
            for t, p in zip(texts, pieces)
        ]

    def _trailing_space(self, text: str, pieces: list[int]) -> list[int]:
        """tokenizers keeps a trailing space as a piece of its own; sentencepiece strips it."""
        if text and self._sp.normalize(text + ".").endswith(_SPACE_PIECE + "."):
            pieces.append(self._space)
        return pieces


def load(folder: Path, max_length: int) -> SentencePieceTokenizer | None:
    """The folder's tokenizer through sentencepiece, writing its model file on first use (tokenizer.json,
    17 MB of JSON for XLM-R, is read only then); None where tokenizer.json is not a sentencepiece Unigram
    or sentencepiece is missing (then use tokenizers)."""
    try:
        import sentencepiece  # noqa: F401
    except ImportError:
        return None
    path = folder / SPM_FILE
    try:
        if path.is_file():
            try:
                return SentencePieceTokenizer(path, max_length)
            except ValueError:  # written before the file named its specials: write it again
                pass
        return SentencePieceTokenizer(path, max_length) if write(folder) else None
    except (OSError, ValueError, RuntimeError) as exc:
        log.info("sentencepiece tokenizer unavailable (%s); using tokenizers", exc)
        return None


def write(folder: Path) -> Path | None:
    """Write `onnx/tokenizer.model` from tokenizer.json (atomically: other processes may be reading)."""
    spec = _spec(json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")))
    if spec is None:
        return None
    out = folder / SPM_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(_model_proto(spec))
    os.replace(tmp.name, out)
    return out


def _spec(config: dict) -> dict | None:
    """What the sentencepiece model needs, if tokenizer.json has the shape sentencepiece reproduces:
    Unigram; the engine's charsmap then runs of spaces collapsed; Metaspace prepending '▁'; <s> A </s>."""
    model, normalizer = config.get("model") or {}, config.get("normalizer") or {}
    steps = normalizer.get("normalizers", [])
    template = (config.get("post_processor") or {}).get("single", [])
    pre = config.get("pre_tokenizer") or {}
    shape_ok = (
        model.get("type") == "Unigram"
        and not model.get("byte_fallback")
        and [s.get("type") for s in steps] == ["Precompiled", "Replace"]
        and steps[1].get("pattern", {}).get("Regex") == " {2,}"
        and pre.get("type") == "Metaspace"
        and pre.get("replacement") == _SPACE_PIECE
        and pre.get("prepend_scheme") == "always"
        and len(template) == 3
        and "Sequence" in template[1]
    )
    if not shape_ok:
        return None
    ids = {piece: i for i, (piece, _) in enumerate(model["vocab"])}
    bos, eos = (ids[template[i]["SpecialToken"]["id"]] for i in (0, 2))
    return {
        "vocab": model["vocab"],
        "unk": model.get("unk_id"),
        "specials": {t["content"] for t in config.get("added_tokens", []) if t.get("special")},
        "charsmap": base64.b64decode(steps[0]["precompiled_charsmap"]),
        "bos": bos,
        "eos": eos,
        "pad": ids.get("<pad>", -1),
    }


def _model_proto(spec: dict) -> bytes:
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(spec["vocab"])
    proto.trainer_spec.unk_id = spec["unk"] if spec["unk"] is not None else -1
    # the special ids, so that loading the file needs nothing else (never added by sentencepiece itself)
    proto.trainer_spec.bos_id, proto.trainer_spec.eos_id = spec["bos"], spec["eos"]
    proto.trainer_spec.pad_id = spec["pad"]
    normalizer = proto.normalizer_spec
    normalizer.name = "tokenizer.json"
    normalizer.precompiled_charsmap = spec["charsmap"]
    # remove_extra_whitespaces collapses space runs as the Replace step does (and strips the ends:
    # SentencePieceTokenizer puts back the trailing space tokenizers keeps)
    normalizer.add_dummy_prefix = normalizer.remove_extra_whitespaces = normalizer.escape_whitespaces = True
    kind = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(spec["vocab"]):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, score
        entry.type = (
            kind.UNKNOWN if i == spec["unk"] else kind.CONTROL if piece in spec["specials"] else kind.NORMAL
        )
    return proto.SerializeToString()
