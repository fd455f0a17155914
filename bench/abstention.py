"""Fit the answer/abstain decision and the extra-quote decision (assistant/abstention.json), and report.

    .venv/bin/python bench/abstention.py [--every N] [--folds F] [--rows FILE] [--reuse]
                                         [--false-refusals RATE] [--out assistant/abstention.json]

Data (collected through the real retriever, then saved to --rows so that a refit needs no index):
- XQuAD leave-articles-out, Spanish and English questions: the 48 articles are split into F groups; for
  each group an index of the *other* articles is built and every N-th question asked: questions of the
  left-out articles must abstain (nothing else is about them), the others must not. Every question is
  thus asked once as unanswerable and F-1 times as answerable.
- The dev sets (data/dev_questions.jsonl, data/dev_questions_staff.jsonl) over data/articles, labelled by
  their `answerable` field and answer patterns.

For each question the row holds the features (assistant/decision.py) of the sentence that would be
quoted first, and of the next-ranked sentences with whether each holds the answer. Questions the rules
refuse before any model (no word the articles contain; a typed question with no sentence of its kind)
count as refusals in every rate and are not fitted.

Models: scikit-learn logistic regression (standardised features, L2), one per language, fitted on all
rows; reported rates are out-of-fold: GroupKFold by article (an XQuAD article, or the dev corpus's
source of a question) so that no article's questions are both fitted and scored. Dev rows weigh DEV_WEIGHT
each (their questions are what staff ask; XQuAD's are many). The answer cut-off is the highest
probability whose out-of-fold false-refusal rate on answerable XQuAD questions (rules included) stays
at --false-refusals; the join cut-off is the lowest probability at which out-of-fold joined sentences
are right at least JOIN_PRECISION of the time. Nothing is keyed to question ids.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xquad import LANGUAGES, contains_answer, load_questions, load_squad, make_settings, write_corpus  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant.decision import FEATURES, WEIGHTS, signals  # noqa: E402
from assistant.evaluation import load_questions as load_dev  # noqa: E402
from assistant.extractive import first_sentence  # noqa: E402
from assistant.retrieval import Retrieval  # noqa: E402
from assistant.settings import Settings  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
DEV_SETS = (PROJECT / "data" / "dev_questions.jsonl", PROJECT / "data" / "dev_questions_staff.jsonl")
DEV_CORPUS = PROJECT / "data" / "articles"
DEFAULT_ROWS = PROJECT / "bench" / "results" / "abstention_rows.jsonl"
CANDIDATES = 6  # ranked sentences looked at as possible extra quotes
DEV_WEIGHT = 10.0
JOIN_PRECISION = 0.7
CV_FOLDS = 5
C = 1.0  # inverse L2 strength (scikit-learn's default)


# --- collecting ---------------------------------------------------------------------------------------


def observe(retrieval: Retrieval, right) -> dict:
    """The row of one question: rule outcome, features of the first sentence, candidates for joining."""
    query = retrieval.query
    row: dict = {"kind": query.kind, "known_terms": query.known_terms}
    first = first_sentence(retrieval) if query.known_terms else None
    row["rule"] = (
        "no terms" if not query.known_terms else "no sentence of the kind" if first is None else None
    )
    if first is None:
        return row
    row["first"] = {**signals(retrieval, first), "right": right(first)}
    row["candidates"] = [
        {**signals(retrieval, s), "right": right(s), "cue": s.cue}
        for s in retrieval.sentences[: CANDIDATES + 1]
        if s is not first
    ][:CANDIDATES]
    return row


def collect_xquad(every: int, folds: int, out) -> None:
    spanish = load_squad("es")
    with tempfile.TemporaryDirectory(prefix="abstention_") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        golds = write_corpus(spanish, corpus)
        names = sorted(p.name for p in corpus.glob("*.txt"))
        questions = {lang: load_questions(lang, golds, None)[::every] for lang in LANGUAGES}
        for fold in range(folds):
            held = {n for i, n in enumerate(names) if i % folds == fold}
            fold_corpus = Path(tmp) / f"corpus{fold}"
            fold_corpus.mkdir()
            for name in names:
                if name not in held:
                    (fold_corpus / name).write_bytes((corpus / name).read_bytes())
            settings = make_settings(fold_corpus, Path(tmp) / f"index{fold}", None)
            assistant = Assistant(settings)
            started = time.perf_counter()
            assistant.index()
            print(
                f"fold {fold + 1}/{folds}: {len(held)} articles left out, index "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            for lang in LANGUAGES:
                for q in questions[lang]:
                    gold = q.gold

                    def right(s, gold=gold) -> bool:
                        overlaps = s.chunk.source == gold.source and s.span.start <= gold.start < s.span.end
                        return overlaps or (len(gold.text) >= 4 and contains_answer(s.text, gold.text))

                    retrieval = assistant.retriever.search(q.text)
                    row = observe(retrieval, right)
                    row |= {
                        "set": "xquad",
                        "lang": lang,
                        "id": q.id,
                        "group": gold.source,
                        "answerable": gold.source not in held,
                        "fold": fold,
                    }
                    out.write(json.dumps(row) + "\n")
            assistant.translator and assistant.translator.close()


def collect_dev(out) -> None:
    with tempfile.TemporaryDirectory(prefix="abstention_dev_") as tmp:
        settings = Settings(corpus_dir=DEV_CORPUS, index_dir=Path(tmp) / "index", llm="none", chroma_url=None)
        assistant = Assistant(settings)
        assistant.index()
        for path in DEV_SETS:
            questions, _ = load_dev(path)
            for q in questions:

                def right(s, q=q) -> bool:
                    return q.lists_source(s.chunk.source) and q.matching_pattern(s.text) is not None

                row = observe(assistant.retriever.search(q.question), right)
                # Dev questions share one corpus: grouped by the article that answers them (the first
                # listed), unanswerable ones by their own id.
                group = f"dev:{q.sources[0]}" if q.sources else f"dev:{q.id}"
                row |= {
                    "set": path.stem,
                    "lang": q.lang,
                    "id": q.id,
                    "group": group,
                    "answerable": q.answerable,
                }
                out.write(json.dumps(row) + "\n")


# --- fitting ------------------------------------------------------------------------------------------


def _matrix(items: list[dict]) -> np.ndarray:
    return np.array([[float(it[f]) for f in FEATURES] for it in items], dtype=float)


def fit_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    model.fit(X, y, logisticregression__sample_weight=w)
    return model


def out_of_fold(X: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    p = np.zeros(len(y))
    splits = min(CV_FOLDS, len(set(groups)))
    if splits < 2:
        return np.full(len(y), y.mean() if len(y) else 0.0)
    for train, test in GroupKFold(n_splits=splits).split(X, y, groups):
        if len(set(y[train])) < 2:
            p[test] = y[train].mean()
            continue
        p[test] = fit_logistic(X[train], y[train], w[train]).predict_proba(X[test])[:, 1]
    return p


def raw_coefficients(model) -> tuple[dict[str, float], float]:
    """The pipeline's weights on raw (unscaled) features."""
    scaler, lr = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    coef = lr.coef_[0] / scale
    intercept = float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scale))
    return {f: round(float(c), 6) for f, c in zip(FEATURES, coef, strict=True)}, round(intercept, 6)


def answer_cutoff(
    p: np.ndarray, answerable: np.ndarray, ruled_out: int, n_answerable: int, rate: float
) -> float:
    """The highest cut-off whose false refusals (rules included) on answerable questions stay ≤ rate."""
    allowed = int(np.floor(rate * n_answerable)) - ruled_out
    scores = np.sort(p[answerable])
    if allowed < 0:
        return float(scores[0])  # the rules alone refuse more: refuse nothing more
    if allowed >= len(scores):
        return 1.0
    return float(scores[allowed])  # the allowed lowest answerable scores fall under it


def join_cutoff(p: np.ndarray, y: np.ndarray, precision: float) -> float:
    order = np.argsort(-p)
    right = np.cumsum(y[order])
    share = right / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(share >= precision)
    return float(p[order][ok[-1]]) if len(ok) else 1.0


def rates(rows: list[dict], accepted: dict[int, bool]) -> dict[str, tuple[int, int]]:
    """(refused, total) of answerable and of unanswerable rows; `accepted` by row index."""
    out = {"false_refusals": [0, 0], "abstentions": [0, 0]}
    for i, r in enumerate(rows):
        key = "false_refusals" if r["answerable"] else "abstentions"
        out[key][1] += 1
        out[key][0] += not accepted.get(i, False)
    return {k: (v[0], v[1]) for k, v in out.items()}


def fit(rows: list[dict], false_refusals: float) -> tuple[dict, list[str]]:
    models: dict = {"answer": {}, "join": {}}
    report: list[str] = []
    evaluation: dict = {}
    for lang in LANGUAGES:
        mine = [r for r in rows if r["lang"] == lang]
        fitted = [i for i, r in enumerate(mine) if r.get("first")]
        X = _matrix([mine[i]["first"] for i in fitted])
        y = np.array([mine[i]["answerable"] for i in fitted], dtype=int)
        w = np.array([1.0 if mine[i]["set"] == "xquad" else DEV_WEIGHT for i in fitted])
        groups = np.array([mine[i]["group"] for i in fitted])
        p = out_of_fold(X, y, w, groups)
        basis = "xquad" if any(r["set"] == "xquad" for r in mine) else None  # None: the dev sets (--dev-only)
        xq = np.array([basis is None or mine[i]["set"] == basis for i in fitted])
        on_basis = [r for r in mine if basis is None or r["set"] == basis]
        n_answerable = sum(1 for r in on_basis if r["answerable"])
        ruled = sum(1 for r in on_basis if r["answerable"] and not r.get("first"))
        cut = answer_cutoff(p[xq], y[xq].astype(bool), ruled, n_answerable, false_refusals)
        model = fit_logistic(X, y, w)
        coef, intercept = raw_coefficients(model)
        models["answer"][lang] = {"coefficients": coef, "intercept": intercept, "cutoff": round(cut, 6)}
        accepted = {i: bool(pi >= cut) for i, pi in zip(fitted, p, strict=True)}
        evaluation[lang] = {}
        for name in ("xquad", "dev_questions", "dev_questions_staff"):
            idx = [i for i, r in enumerate(mine) if r["set"] == name]
            sub = rates([mine[i] for i in idx], {k: accepted.get(i, False) for k, i in enumerate(idx)})
            evaluation[lang][name] = sub
            fr, ab = sub["false_refusals"], sub["abstentions"]
            report.append(
                f"{lang} {name:<20} false refusals {_pct(fr)}   abstentions when unanswerable {_pct(ab)}"
            )
        rules = Counter(r["rule"] for r in mine if r["set"] == "xquad" and r["answerable"] and r["rule"])
        report.append(f"{lang} rules refusing answerable XQuAD questions: {dict(rules) or 'none'}")

        # join: next-ranked sentences of answerable, answered questions
        cands = [
            (r, c) for r in mine if r.get("first") and r["answerable"] for c in r["candidates"] if c["cue"]
        ]
        Xj = _matrix([c for _, c in cands])
        yj = np.array([c["right"] for _, c in cands], dtype=int)
        wj = np.array([1.0 if r["set"] == "xquad" else DEV_WEIGHT for r, _ in cands])
        gj = np.array([r["group"] for r, _ in cands])
        pj = out_of_fold(Xj, yj, wj, gj)
        jcut = join_cutoff(pj, yj, JOIN_PRECISION)
        jmodel = fit_logistic(Xj, yj, wj)
        jcoef, jintercept = raw_coefficients(jmodel)
        models["join"][lang] = {"coefficients": jcoef, "intercept": jintercept, "cutoff": round(jcut, 6)}
        joined = pj >= jcut
        report.append(
            f"{lang} join: {int(joined.sum())} of {len(yj)} candidate sentences would join out of fold, "
            f"{int(yj[joined].sum())} of them right ({_share(yj[joined].sum(), joined.sum())}); "
            f"cut-off {jcut:.3f}"
        )
        evaluation[lang]["join"] = {
            "joined": int(joined.sum()),
            "right": int(yj[joined].sum()),
            "candidates": len(yj),
        }
    return {"models": models, "evaluation": evaluation}, report


def _pct(pair: tuple[int, int]) -> str:
    hits, total = pair
    return f"{hits}/{total} = {100 * hits / total:.1f}%" if total else "n/a"


def _share(a, b) -> str:
    return f"{100 * a / b:.1f}%" if b else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=1, help="ask every N-th XQuAD question")
    parser.add_argument("--folds", type=int, default=4, help="groups of XQuAD articles left out in turn")
    parser.add_argument("--rows", type=Path, default=DEFAULT_ROWS, help="where the collected rows are saved")
    parser.add_argument("--reuse", action="store_true", help="refit from --rows without asking again")
    parser.add_argument("--dev-only", action="store_true", help="collect the dev sets only (a quick check)")
    parser.add_argument("--false-refusals", type=float, default=0.025, help="stated false-refusal rate")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    started = time.perf_counter()
    if not args.reuse:
        args.rows.parent.mkdir(parents=True, exist_ok=True)
        with args.rows.open("w", encoding="utf-8") as out:
            collect_dev(out)
            if not args.dev_only:
                collect_xquad(args.every, args.folds, out)
    rows = [json.loads(line) for line in args.rows.read_text(encoding="utf-8").splitlines() if line.strip()]
    fitted, report = fit(rows, args.false_refusals)
    counts = Counter((r["set"], r["lang"], r["answerable"]) for r in rows)
    provenance = {
        "fitted": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "by": "bench/abstention.py",
        "model": f"scikit-learn LogisticRegression(C={C}) on standardised features, one per language",
        "data": {
            "xquad": f"XQuAD (CC BY-SA 4.0) leave-articles-out, {args.folds} groups of articles left out in "
            f"turn, every {args.every}. question, Spanish and English",
            "dev": [str(p.relative_to(PROJECT)) for p in DEV_SETS] + [str(DEV_CORPUS.relative_to(PROJECT))],
            "rows": {
                f"{s}/{lang}/{'answerable' if a else 'unanswerable'}": n
                for (s, lang, a), n in sorted(counts.items())
            },
            "dev_weight": DEV_WEIGHT,
        },
        "cv": f"GroupKFold({CV_FOLDS}) by article; rates below are out-of-fold",
        "answer_cutoff": f"highest probability with XQuAD false refusals (rules included) <= {args.false_refusals}",
        "join_cutoff": f"lowest probability with out-of-fold joined sentences right >= {JOIN_PRECISION}",
        "evaluation": fitted["evaluation"],
    }
    weights = {"features": list(FEATURES), "models": fitted["models"], "provenance": provenance}
    args.out.write_text(json.dumps(weights, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(report))
    print(f"\nwrote {args.out} ({len(rows)} rows, {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
