"""Fit the reader (assistant/answering/reader.txt, reader.json) and report what it picks, out of fold.

    .venv/bin/python bench/reader.py [--rows FILE] [--reuse] [--folds F] [--no-write]

Data, collected through the real retriever and saved to --rows (a refit needs no index):
- XQuAD: the 48 Spanish articles indexed, every question asked in Spanish and in English; each candidate
  sentence (the sentences of the passages retrieval keeps for the answerer) is labelled right when it
  holds the gold answer span (or, for a gold answer of 4+ characters, its text).
- The dev sets over data/articles: a candidate is right when an answer pattern matches it and its source
  is listed; unanswerable questions have no right candidate and add nothing to the ranking.

Model: LightGBM lambdarank, one ranking per question. Every figure is out of fold: GroupKFold by article
(an XQuAD article, or the sample article that answers a dev question), so no article's questions are both
fitted and scored; the shipped model is then fitted on all rows. The fold models are saved beside the rows
(bench/results/reader_folds/) so that bench/abstention.py scores each question with a reader that never
saw its article. Reported per set and language: passage recall@1, the lead quote right (first-sentence
accuracy) for retrieval's order and for the reader, and the gap between recall@1 and the reader's lead.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "bench"))
sys.path.insert(0, str(PROJECT))

from xquad import LANGUAGES, contains_answer, load_questions, load_squad, make_settings, write_corpus  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant.answering import reader  # noqa: E402
from assistant.evaluation import load_questions as load_dev  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEV_SETS = [PROJECT / "data" / "dev_questions.jsonl", PROJECT / "data" / "dev_questions_staff.jsonl"]
DEV_CORPUS = PROJECT / "data" / "articles"
RESULTS = PROJECT / "bench" / "results"
DEFAULT_ROWS = RESULTS / "reader_rows.npz"
FOLDS_DIR = RESULTS / "reader_folds"
FOLDS = 5
DEV_WEIGHT = 5.0  # a dev question counts this many XQuAD ones: they are what staff ask
PARAMS = {  # small trees, many of them (7 leaves, 500 trees: the best of the grid in the README); ~100,000 candidates
    "objective": "lambdarank",
    "n_estimators": 500,
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "lambdarank_truncation_level": 10,
    "verbose": -1,
    "n_jobs": 2,
    "random_state": 7,
}


# --- collecting ------------------------------------------------------------------------------------


class Rows:
    """Candidates of every question: features, labels, and per question its set, language, group."""

    def __init__(self) -> None:
        self.X: list[np.ndarray] = []
        self.y: list[np.ndarray] = []
        self.meta: list[dict] = []

    def add(self, retrieval, right, **meta) -> None:
        labels = np.array([right(s) for s in retrieval.sentences], dtype=np.int8)
        top = retrieval.documents[0].metadata if retrieval.documents else None
        self.X.append(reader.features(retrieval))
        self.y.append(labels)
        self.meta.append(
            {**meta, "recall1": bool(top and meta.get("gold_in")(top)) if "gold_in" in meta else None}
        )
        self.meta[-1].pop("gold_in", None)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        sizes = np.array([len(y) for y in self.y])
        np.savez_compressed(
            path,
            X=np.concatenate(self.X) if self.X else np.zeros((0, len(reader.FEATURES))),
            y=np.concatenate(self.y) if self.y else np.zeros(0),
            sizes=sizes,
            meta=np.array(json.dumps(self.meta)),
            features=np.array(json.dumps(list(reader.FEATURES))),
        )


def collect_xquad(rows: Rows) -> None:
    spanish = load_squad("es")
    with tempfile.TemporaryDirectory(prefix="reader_") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        golds = write_corpus(spanish, corpus)
        assistant = Assistant(make_settings(corpus, Path(tmp) / "index", None))
        assistant.index()
        for lang in LANGUAGES:
            started = time.perf_counter()
            for q in load_questions(lang, golds, None):
                gold = q.gold

                def right(s, gold=gold) -> bool:
                    overlaps = s.chunk.source == gold.source and s.span.start <= gold.start < s.span.end
                    return overlaps or (len(gold.text) >= 4 and contains_answer(s.text, gold.text))

                def gold_in(meta, gold=gold) -> bool:
                    return (
                        meta["source"] == gold.source
                        and meta["start"] <= gold.start
                        and gold.end <= meta["end"]
                    )

                retrieval = assistant.retriever.search(q.text)
                rows.add(
                    retrieval, right, set="xquad", lang=lang, id=q.id, group=gold.source, gold_in=gold_in
                )
            print(f"xquad {lang}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        assistant.translator and assistant.translator.close()


def dev_questions() -> Iterator[tuple[Path, Any, str, Assistant]]:
    """(set file, question, group, assistant) for every dev question, over the sample articles indexed
    into a throwaway index dir; the group (its article, else its id) keeps a fold's articles together."""
    with tempfile.TemporaryDirectory(prefix="bench_dev_") as tmp:
        settings = Settings(
            corpus_dir=DEV_CORPUS, index_dir=Path(tmp) / "index", llm="none", chroma={"url": None}
        )
        assistant = Assistant(settings)
        assistant.index()
        for path in DEV_SETS:
            questions, _ = load_dev(path)
            for q in questions:
                yield path, q, f"dev:{q.sources[0]}" if q.sources else f"dev:{q.id}", assistant


def collect_dev(rows: Rows) -> None:
    for path, q, group, assistant in dev_questions():

        def right(s, q=q) -> bool:
            return q.answerable and q.lists_source(s.chunk.source) and q.matching_pattern(s.text) is not None

        def gold_in(meta, q=q) -> bool:
            return q.lists_source(meta["source"])

        retrieval = assistant.retriever.search(q.question)
        rows.add(retrieval, right, set=path.stem, lang=q.lang, id=q.id, group=group, gold_in=gold_in)


# --- fitting ---------------------------------------------------------------------------------------


def load_rows(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    data = np.load(path, allow_pickle=False)
    if json.loads(str(data["features"])) != list(reader.FEATURES):
        raise SystemExit(f"{path} holds other features than assistant/answering/reader.py: collect again")
    return data["X"], data["y"], data["sizes"], json.loads(str(data["meta"]))


def _fit(X, y, sizes, meta, questions: np.ndarray):
    """A ranker on the given questions (those with a right candidate: the others rank nothing)."""
    import lightgbm

    starts = np.concatenate([[0], np.cumsum(sizes)])
    keep = [q for q in questions if y[starts[q] : starts[q + 1]].any()]
    rows = np.concatenate([np.arange(starts[q], starts[q + 1]) for q in keep])
    group_weights = np.array([DEV_WEIGHT if meta[q]["set"] != "xquad" else 1.0 for q in keep])
    model = lightgbm.LGBMRanker(**PARAMS)
    # LightGBM weighs a query by the mean of its rows' weights
    model.fit(X[rows], y[rows], group=sizes[keep], sample_weight=np.repeat(group_weights, sizes[keep]))
    return model


def cross_validate(X, y, sizes, meta, folds: int) -> tuple[np.ndarray, dict[str, int], list]:
    """Out-of-fold scores of every candidate, the fold of every group, and the fold models."""
    from sklearn.model_selection import GroupKFold

    groups = np.array([m["group"] for m in meta])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    oof = np.zeros(len(y))
    fold_of: dict[str, int] = {}
    models = []
    for fold, (train, test) in enumerate(GroupKFold(folds).split(np.zeros(len(meta)), groups=groups)):
        model = _fit(X, y, sizes, meta, train)
        models.append(model)
        for q in test:
            a, b = starts[q], starts[q + 1]
            if b > a:
                oof[a:b] = model.predict(X[a:b])
            fold_of[meta[q]["group"]] = fold
    return oof, fold_of, models


def report(y, sizes, meta, scores: np.ndarray, title: str) -> dict:
    starts = np.concatenate([[0], np.cumsum(sizes)])
    table: dict = {}
    for key in sorted({(m["set"], m["lang"]) for m in meta}):
        qs = [
            q
            for q, m in enumerate(meta)
            if (m["set"], m["lang"]) == key and (m["set"] == "xquad" or m["answerable_hint"])
        ]
        n = len(qs)
        if not n:
            continue

        def right(q, pick) -> bool:
            a, b = starts[q], starts[q + 1]
            return b > a and bool(y[a + pick(a, b)])

        retrieval_first = sum(right(q, lambda a, b: 0) for q in qs)
        reader_first = sum(right(q, lambda a, b: int(np.argmax(scores[a:b]))) for q in qs)
        any_right = sum(bool(y[starts[q] : starts[q + 1]].any()) for q in qs)
        recall1 = sum(bool(meta[q]["recall1"]) for q in qs)
        table["/".join(key)] = {
            "questions": n,
            "recall@1": round(recall1 / n, 4),
            "any candidate right": round(any_right / n, 4),
            "lead right, retrieval order": round(retrieval_first / n, 4),
            "lead right, reader": round(reader_first / n, 4),
            "gap recall@1 - reader lead": round((recall1 - reader_first) / n, 4),
        }
    print(f"\n{title}")
    print(f"{'set/lang':<26}{'n':>6}{'R@1':>8}{'any':>8}{'order':>8}{'reader':>8}{'gap':>8}")
    for key, row in table.items():
        print(
            f"{key:<26}{row['questions']:>6}{row['recall@1']:>8.3f}{row['any candidate right']:>8.3f}"
            f"{row['lead right, retrieval order']:>8.3f}{row['lead right, reader']:>8.3f}{row['gap recall@1 - reader lead']:>8.3f}"
        )
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=Path, default=DEFAULT_ROWS)
    ap.add_argument("--reuse", action="store_true", help="fit on the rows already collected")
    ap.add_argument("--folds", type=int, default=FOLDS)
    ap.add_argument("--no-write", action="store_true", help="report only; leave the shipped model alone")
    args = ap.parse_args()
    started = time.perf_counter()
    if not args.reuse:
        rows = Rows()
        collect_dev(rows)
        collect_xquad(rows)
        rows.save(args.rows)
    X, y, sizes, meta = load_rows(args.rows)
    answerable = _answerable_ids()
    for m in meta:
        m["answerable_hint"] = m["set"] == "xquad" or m["id"] in answerable
    oof, fold_of, models = cross_validate(X, y, sizes, meta, args.folds)
    table = report(y, sizes, meta, oof, f"out of fold, GroupKFold({args.folds}) by article")
    if args.no_write:
        return
    FOLDS_DIR.mkdir(parents=True, exist_ok=True)
    for fold, model in enumerate(models):
        model.booster_.save_model(str(FOLDS_DIR / f"fold{fold}.txt"))
    (FOLDS_DIR / "folds.json").write_text(json.dumps(fold_of, indent=1) + "\n", encoding="utf-8")
    final = _fit(X, y, sizes, meta, np.arange(len(meta)))
    final.booster_.save_model(str(reader.MODEL_FILE))
    provenance = {
        "fitted": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "by": "bench/reader.py",
        "model": {"lightgbm": __import__("lightgbm").__version__, **PARAMS},
        "features": list(reader.FEATURES),
        "data": {
            "xquad": "XQuAD (CC BY-SA 4.0): 48 Spanish articles indexed, 1,190 questions in Spanish and in English",
            "dev": [str(p.relative_to(PROJECT)) for p in DEV_SETS],
            "questions": len(meta),
            "candidates": int(len(y)),
            "dev_weight": DEV_WEIGHT,
        },
        "label": "a candidate sentence holds the gold answer span (XQuAD) or matches an answer pattern in a listed source (dev)",
        "cv": f"GroupKFold({args.folds}) by article; figures out of fold",
        "evaluation": table,
    }
    reader.PROVENANCE_FILE.write_text(
        json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"\nwrote {reader.MODEL_FILE.relative_to(PROJECT)} ({time.perf_counter() - started:.0f} s)")


def _answerable_ids() -> set[str]:
    ids = set()
    for path in DEV_SETS:
        questions, _ = load_dev(path)
        ids |= {q.id for q in questions if q.answerable}
    return ids


if __name__ == "__main__":
    main()
