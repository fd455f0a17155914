"""Indexing at scale: synthetic corpora of growing size, indexed and queried through the real CLI.

    .venv/bin/python bench/scale.py [--sizes 250 2500 20000] [--random 200000] [--out PATH]

The corpora are SYNTHETIC, built from the public Spanish text the project ships (XQuAD's 240 paragraphs
and the five sample articles): each synthetic paragraph is a source paragraph with its sentences shuffled
(and sometimes one dropped), so every paragraph is distinct while the language stays real; 3-9 of them
make an article with a `date` line and a title. Sizes are counted in paragraphs.

For each size, in separate processes (so that each peak RSS is its own):
- `briefing index` on a new index dir: wall time, characters/s, peak RSS (wait4), index size on disk;
- the same command again on the unchanged corpus: wall time and chunks embedded (must be 0);
- open and first answer: import + model load (reported apart), opening the index, the first question;
- warm latency: p50/p95 over 200 XQuAD questions (es and en), after the first;
- raw encoding in the same run: `encode` of a sample of the same paragraph texts with the same model
  (fp32 graph, and the int8 graph the indexer uses for passages), to give the ratio of the pipeline's
  throughput to the encoder's alone.
`--baseline TREE --baseline-models DIR` also indexes each size up to BASELINE_MAX paragraphs with another
checkout of the project (e.g. `git worktree add /tmp/base <commit>`; its model folder in DIR), for the
speed-up against it measured in the same run.
`--random N` indexes N paragraphs (~5 sentences each) with random unit vectors instead of the model
(labelled so): it pushes the chunk store, BM25 and Chroma to a million sentences, which 2 cores cannot
embed in a working day, to show open time and query latency there.

Prints a table and writes bench/results/scale.json. Numbers only, no assertions."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import datetime
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

DEFAULT_OUT = PROJECT / "bench" / "results" / "scale.json"
SIZES = (250, 2500, 20000)
RAW_SAMPLE = 400  # paragraphs encoded raw, for the ratio
WARM_QUESTIONS = 200
BASELINE_MAX = 1000  # the layout before the chunk store wrote ~5 sentences a paragraph in one Chroma call
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZÁÉÍÓÚÑ¿¡\"«])")


# ----------------------------------------------------------------------------------------- corpus
def source_paragraphs() -> list[list[str]]:
    """Sentences of every shipped Spanish paragraph (XQuAD es, the sample articles)."""
    data = json.loads((PROJECT / "bench" / "xquad" / "xquad.es.json").read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for a in data for p in a["paragraphs"]]
    for f in sorted((PROJECT / "data" / "articles").glob("*.txt")):
        paragraphs += [line for line in f.read_text(encoding="utf-8").splitlines() if len(line) > 200]
    return [_SPLIT.split(p) for p in paragraphs]


def make_corpus(paragraphs: int, out: Path, seed: int = 0, news: bool = False) -> dict:
    """Write `paragraphs` distinct synthetic paragraphs as articles under out; return counts. `news`:
    paragraphs of 1-3 sentences, as news articles have them, instead of whole encyclopedia paragraphs."""
    rng, pool = random.Random(seed), source_paragraphs()
    if news:
        pool = [[s] for p in pool for s in p]
    out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    made = articles = chars = 0
    while made < paragraphs:
        group: list[str] = []
        while len(group) < min(rng.randint(3, 9), paragraphs - made):
            if news:
                sentences = [rng.choice(pool)[0] for _ in range(rng.choice((1, 1, 2, 2, 3)))]
            else:
                sentences = list(rng.choice(pool))
                rng.shuffle(sentences)
                if len(sentences) >= 4 and rng.random() < 0.5:
                    sentences.pop(rng.randrange(len(sentences)))
            text = " ".join(sentences)
            if text not in seen:
                seen.add(text)
                group.append(text)
        title = group[0].split(". ")[0][:90]
        body = f"date 2026-01-{1 + articles % 28:02d}\n{title}\n\n" + "\n\n".join(group) + "\n"
        (out / f"synthetic_{articles:06d}.txt").write_text(body, encoding="utf-8")
        made, articles, chars = made + len(group), articles + 1, chars + len(body)
    return {"articles": articles, "paragraphs": made, "chars": chars}


def questions(n: int) -> list[str]:
    out = []
    for lang in ("es", "en"):
        data = json.loads((PROJECT / "bench" / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        out.append([q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]])
    mixed = [q for pair in zip(*out, strict=False) for q in pair]
    return random.Random(1).sample(mixed, n)


# ------------------------------------------------------------------------------------ child tasks
class RandomEmbeddings:
    """Random unit vectors in the model's place (the --random mode): the store, not the model, is tested."""

    name, dimension, passage_precision = "random-unit-vectors", 384, "fp32"
    identity = "random-unit-vectors dim=384"

    def __init__(self) -> None:
        import numpy as np

        self._np, self._rng = np, np.random.default_rng(0)

    def _unit(self, n: int):
        v = self._rng.standard_normal((n, self.dimension)).astype("float32")
        return v / self._np.linalg.norm(v, axis=1, keepdims=True)

    def embed_passages(self, texts, sentences):
        return self._unit(len(texts)), [self._unit(len(s)) for s in sentences]

    def embed_queries(self, texts):
        return self._unit(len(texts))

    def prepare_queries(self) -> None:
        pass


class ModelAlongsideEmbeddings(RandomEmbeddings):
    """Random vectors as above, with the real model loaded and run on the first passages of every batch
    (a full token-budget forward pass): its memory counts in the peak, its time mostly does not."""

    SAMPLE = 16

    def __init__(self, model) -> None:
        super().__init__()
        self._model = model

    def embed_passages(self, texts, sentences):
        self._model.embed_passages(texts[: self.SAMPLE], sentences[: self.SAMPLE])
        return super().embed_passages(texts, sentences)


def _settings(corpus: str, index: str):
    from assistant.settings import Settings

    return Settings(corpus_dir=Path(corpus), index_dir=Path(index), llm="none", chroma={"url": None})


def child_index_random(corpus: str, index: str, with_model: bool = False) -> dict:
    from assistant.core import Assistant
    from assistant.encoders.local import LocalEncoder

    settings = _settings(corpus, index)
    embeddings = ModelAlongsideEmbeddings(LocalEncoder(settings)) if with_model else RandomEmbeddings()
    assistant = Assistant(settings, encoder=embeddings)
    started = time.perf_counter()
    report = assistant.index()
    return {"wall_s": time.perf_counter() - started, "chunks": report.chunks_embedded}


def child_query(corpus: str, index: str, random_vectors: bool = False) -> dict:
    """Open the index and answer: first question cold, then WARM_QUESTIONS warm."""
    t0 = time.perf_counter()
    from assistant.core import Assistant

    embeddings = RandomEmbeddings() if random_vectors else None
    assistant = Assistant(_settings(corpus, index), encoder=embeddings)
    if not random_vectors:
        assistant.encoder.embed_queries(["warm"])  # model load, reported apart
    t1 = time.perf_counter()
    assistant.retriever  # noqa: B018 - opens the chunk store, BM25 and Chroma
    t2 = time.perf_counter()
    asked = questions(WARM_QUESTIONS + 1)
    assistant.ask(asked[0])
    t3 = time.perf_counter()
    latencies = []
    for q in asked[1:]:
        started = time.perf_counter()
        assistant.ask(q)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "import_and_model_load_s": t1 - t0,
        "open_s": t2 - t1,
        "first_answer_s": t3 - t2,
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
    }


def child_raw(corpus: str, _index: str) -> dict:
    """chars/s of the encoder alone on a sample of the corpus's paragraphs, fp32 and int8 graphs."""
    from assistant.encoders.local import LocalEncoder

    paragraphs = [
        p for f in sorted(Path(corpus).glob("*.txt")) for p in f.read_text(encoding="utf-8").split("\n\n")[1:]
    ]
    sample = random.Random(2).sample(paragraphs, min(RAW_SAMPLE, len(paragraphs)))
    chars = sum(len(p) for p in sample)
    out = {}
    for precision in ("fp32", "int8"):
        embedder = LocalEncoder(_settings(corpus, "-").model_copy(update={"passage_precision": precision}))
        embedder.embed_documents(sample[:8])  # load
        started = time.perf_counter()
        embedder.embed_documents(sample)
        out[f"raw_{precision}_chars_per_s"] = chars / (time.perf_counter() - started)
    return out


CHILDREN = {"index-random": child_index_random, "query": child_query, "raw": child_raw}


# ------------------------------------------------------------------------------------ measuring
def run_measured(
    command: list[str], env: dict | None = None, cwd: Path | None = None
) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of a command, peak from the kernel's accounting (wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=cwd
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command[:4])} exited with {proc.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out


def child(
    task: str, corpus: Path, index: Path, random_vectors: bool = False, with_model: bool = False
) -> dict:
    """A task of this script in its own process: its JSON result, wall time and peak RSS."""
    command = [sys.executable, __file__, "--child", task, str(corpus), str(index)]
    flags = (["--random-vectors"] if random_vectors else []) + (["--with-model"] if with_model else [])
    wall, peak, out = run_measured(command + flags)
    return {**json.loads(out.strip().splitlines()[-1]), "child_wall_s": wall, "peak_rss_mb": peak}


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def briefing_index(corpus: Path, index: Path) -> tuple[float, float, str]:
    briefing = str(Path(sys.executable).parent / "briefing")
    return run_measured([briefing, "index", "--corpus", str(corpus), "--index", str(index)])


def sentence_count(index: Path) -> int:
    from assistant.stores.sqlite import SqliteSourceStore

    rows = SqliteSourceStore(index)._db.execute("SELECT sentences FROM chunks")
    return sum(len(json.loads(spans)) for (spans,) in rows)


# ----------------------------------------------------------------------------------------- sizes
def baseline_index(tree: Path, models: Path, corpus: Path, index: Path) -> tuple[float, float]:
    """Wall time and peak RSS of another checkout's `briefing index` on the same corpus."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env.update(PYTHONPATH=str(tree), BRIEFING_MODELS_DIR=str(models))
    command = [sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus), "--index", str(index)]
    wall, peak, _ = run_measured(command, env=env, cwd=tree)
    return wall, peak


def measure_size(
    paragraphs: int, root: Path, baseline: tuple[Path, Path] | None = None, news: bool = False
) -> dict:
    name = f"{paragraphs}{'_news' if news else ''}"
    corpus, index = root / f"corpus_{name}", root / f"index_{name}"
    row: dict = {
        "paragraphs_asked": paragraphs,
        **make_corpus(paragraphs, corpus, news=news),
        "synthetic": True,
    }
    row["shape"] = "news: 1-3 sentences a paragraph" if news else "encyclopedia paragraphs"
    print(
        f"[{paragraphs}] corpus: {row['articles']} articles, {row['chars'] / 1e6:.1f} M chars",
        file=sys.stderr,
    )
    wall, peak, out = briefing_index(corpus, index)
    row.update(index_wall_s=wall, index_peak_rss_mb=peak, index_chars_per_s=row["chars"] / wall)
    row["index_summary"] = out.strip().splitlines()[-1]
    row["index_disk_mb"], row["sentences"] = disk_mb(index), sentence_count(index)
    print(f"[{paragraphs}] indexed in {wall:.0f} s, peak {peak:.0f} MB", file=sys.stderr)
    wall, _, out = briefing_index(corpus, index)
    row.update(rerun_wall_s=wall, rerun_summary=out.strip().splitlines()[-1])
    row.update(child("query", corpus, index))
    row.pop("peak_rss_mb", None)
    raw = child("raw", corpus, index)
    row.update({k: v for k, v in raw.items() if k.startswith("raw_")})
    if baseline and paragraphs <= BASELINE_MAX:
        wall, peak = baseline_index(*baseline, corpus, root / f"baseline_{paragraphs}")
        row.update(baseline_wall_s=wall, baseline_peak_rss_mb=peak, baseline_chars_per_s=row["chars"] / wall)
        row["speedup_vs_baseline"] = row["index_chars_per_s"] / row["baseline_chars_per_s"]
    row["ratio_to_raw_fp32"] = row["index_chars_per_s"] / row["raw_fp32_chars_per_s"]
    row["ratio_to_raw_int8"] = row["index_chars_per_s"] / row["raw_int8_chars_per_s"]
    return row


def measure_random(paragraphs: int, root: Path, with_model: bool = False) -> dict:
    corpus, index = root / f"corpus_random_{paragraphs}", root / f"index_random_{paragraphs}"
    index = index.with_name(index.name + "_with_model") if with_model else index
    row: dict = {"paragraphs_asked": paragraphs, **make_corpus(paragraphs, corpus, seed=7), "synthetic": True}
    row["vectors"] = "RANDOM unit vectors" + (
        f" with the model loaded and run on {ModelAlongsideEmbeddings.SAMPLE} passages a batch"
        if with_model
        else " (no model)"
    )
    result = child("index-random", corpus, index, random_vectors=True, with_model=with_model)
    row.update(
        index_wall_s=result["wall_s"], index_peak_rss_mb=result["peak_rss_mb"], chunks=result["chunks"]
    )
    row["index_chars_per_s"] = row["chars"] / result["wall_s"]
    row["index_disk_mb"], row["sentences"] = disk_mb(index), sentence_count(index)
    row.update(child("query", corpus, index, random_vectors=True))
    row.pop("peak_rss_mb", None)
    return row


# ---------------------------------------------------------------------------------------- report
def print_table(rows: list[dict]) -> None:
    cols = [
        ("paragraphs", "paragraphs", "{:,}"),
        ("sentences", "sentences", "{:,}"),
        ("chars", "M chars", lambda v: f"{v / 1e6:.1f}"),
        ("index_wall_s", "index s", "{:.0f}"),
        ("index_chars_per_s", "chars/s", "{:,.0f}"),
        ("ratio_to_raw_fp32", "÷raw fp32", "{:.2f}"),
        ("ratio_to_raw_int8", "÷raw int8", "{:.2f}"),
        ("index_peak_rss_mb", "peak MB", "{:,.0f}"),
        ("index_disk_mb", "disk MB", "{:,.0f}"),
        ("import_and_model_load_s", "load s", "{:.2f}"),
        ("open_s", "open s", "{:.2f}"),
        ("first_answer_s", "1st s", "{:.2f}"),
        ("p50_ms", "p50 ms", "{:.1f}"),
        ("p95_ms", "p95 ms", "{:.1f}"),
        ("rerun_wall_s", "rerun s", "{:.1f}"),
        ("speedup_vs_baseline", "×before", "{:.2f}"),
        ("baseline_peak_rss_mb", "MB before", "{:,.0f}"),
    ]
    print("| " + " | ".join(h for _, h, _ in cols) + " | vectors; paragraphs |")
    print("|" + "---|" * (len(cols) + 1))
    for row in rows:
        cells = []
        for key, _, fmt in cols:
            value = row.get(key)
            cells.append("–" if value is None else (fmt(value) if callable(fmt) else fmt.format(value)))
        vectors = row.get("vectors", "e5 (int8 passages)")
        print("| " + " | ".join(cells) + f" | {vectors}; {row.get('shape', 'encyclopedia paragraphs')} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--random", type=int, nargs="*", default=[200_000], help="paragraphs, random vectors")
    ap.add_argument(
        "--with-model", action="store_true", help="--random runs load and run the model alongside (memory)"
    )
    ap.add_argument(
        "--news", type=int, nargs="*", default=[2500], help="news-shaped paragraphs (1-3 sentences)"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--keep", type=Path, default=None, help="build in this dir and keep it")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout to compare with")
    ap.add_argument("--baseline-models", type=Path, default=None, help="its BRIEFING_MODELS_DIR")
    args = ap.parse_args()
    from bench.xquad import machine

    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine()}
    rows = []
    root = args.keep or Path(tempfile.mkdtemp(prefix="scale_"))
    try:
        baseline = (
            (args.baseline, args.baseline_models or args.baseline / "index" / "models")
            if args.baseline
            else None
        )
        for size in args.sizes:
            rows.append(measure_size(size, root, baseline))
            print(json.dumps(rows[-1]), file=sys.stderr)
        for size in args.news:
            rows.append(measure_size(size, root, baseline, news=True))
            print(json.dumps(rows[-1]), file=sys.stderr)
        for size in args.random:
            rows.append(measure_random(size, root, args.with_model))
            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"machine: {info['machine']['cpu']}; nproc={info['machine']['nproc']}; {info['date']}")
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**info, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def run_child(argv: list[str]) -> None:
    task, corpus, index, *flags = argv
    kwargs = {"random_vectors": True} if "--random-vectors" in flags and task == "query" else {}
    kwargs |= {"with_model": True} if "--with-model" in flags else {}
    print(json.dumps(CHILDREN[task](corpus, index, **kwargs)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        run_child(sys.argv[2:])
    else:
        main()
