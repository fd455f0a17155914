"""Fit the answer decision (assistant/answering/abstention.json) and report its refusals, out of fold.

    .venv/bin/python bench/abstention.py [--every N] [--folds F] [--rows FILE] [--reuse]
                                         [--false-refusals RATE] [--out assistant/answering/abstention.json]

Run bench/reader.py first: each question's lead quote is chosen by a reader fold model that never saw the
question's article (bench/results/reader_folds/), so that no signal here is fitted on its own question.

Data (collected through the real retriever, then saved to --rows so that a refit needs no index):
- XQuAD leave-articles-out, Spanish and English questions: the 48 articles are split into F groups; for
  each group an index of the *other* articles is built and every N-th question asked: questions of the
  left-out articles must abstain (nothing else is about them: *off topic*), the others must not.
- XQuAD swapped-entity questions (*on topic*), the way SQuAD 2.0's unanswerable questions were written: an
  answerable question whose asked name or number (a capitalised name, a year, a count) is swapped for one
  of the same kind found in another article, asked of the whole corpus. A swap is kept only when no
  sentence of the corpus holds the new name together with most of the question's other terms, so the
  articles do not answer it; the same swap is made in the English question where the name is written the
  same.
- The dev sets over data/articles, labelled by their `answerable` field.

The rules that refuse before the model (no word the articles contain; a typed question with no sentence
of its kind) count as refusals in every rate. Model: scikit-learn logistic regression (standardised
features, L2), one per language; a signal whose weight comes out against its direction (DIRECTION) is
left out and the model refitted. Rates are out of fold: GroupKFold by article. Dev questions weigh
DEV_WEIGHT each. The cut-off is the highest probability whose false refusals of answerable XQuAD
questions (rules included) stay at --false-refusals. Nothing is keyed to question ids.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "bench"))
sys.path.insert(0, str(PROJECT))

from reader import DEV_CORPUS, DEV_SETS, FOLDS_DIR, dev_questions  # noqa: E402
from xquad import LANGUAGES, contains_answer, load_questions, load_squad, make_settings, write_corpus  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant.answering import abstention, reader  # noqa: E402
from assistant.answering.weights import FEATURES, WEIGHTS, signals  # noqa: E402
from assistant.retrieval.retriever import HAND_SET  # noqa: E402
from assistant.text.analysis import analyze  # noqa: E402

DEFAULT_ROWS = PROJECT / "bench" / "results" / "abstention_rows.jsonl"
DEV_WEIGHT = 10.0
CV_FOLDS = 5
C = 1.0  # inverse L2 strength (scikit-learn's default)
SEED = 2026
SWAP_OVERLAP = 0.5  # a sentence with the new name and this share of the question's other terms may answer it

# The direction each signal may push "the articles answer this": more agreement, similarity, coverage,
# reader confidence or names repeated never argues for refusing, a name no article mentions never for
# answering. A weight fitted against its direction is an artefact of correlated signals or of few rows.
DIRECTION = {
    "agreement": 1,
    "passage_similarity": 1,
    "sentence_similarity": 1,
    "coverage": 1,
    "sentence_coverage": 1,
    "unknown_names": -1,
    "typed": 0,
    "relative_score": 0,
    "reader": 1,
    "reader_margin": 1,
    "lead_names": 1,
    "passage_names": 1,
    "lead_numbers": 1,
}


# --- collecting ---------------------------------------------------------------------------------------


class FoldReaders:
    """The reader that never saw a given article: bench/reader.py's fold models."""

    def __init__(self) -> None:
        mapping = FOLDS_DIR / "folds.json"
        if not mapping.is_file():
            raise SystemExit("run bench/reader.py first: it writes the reader's fold models")
        self.fold_of = json.loads(mapping.read_text(encoding="utf-8"))
        self.models: dict[int, reader.Reader] = {}

    def __call__(self, group: str) -> reader.Reader:
        fold = self.fold_of.get(group, 0)
        if fold not in self.models:
            self.models[fold] = reader.Reader(FOLDS_DIR / f"fold{fold}.txt", reader.PROVENANCE_FILE)
        return self.models[fold]


def observe(retrieval, right, fold_reader: reader.Reader) -> dict:
    """The row of one question: which rule refused it, else the lead's signals and whether it is right."""
    verdict = abstention.decide(retrieval, reader=fold_reader)
    if verdict.lead is None:
        return {"ruled": verdict.reason}
    ranked = verdict.ranked
    after = ranked[1][1] if len(ranked) > 1 else ranked[0][1]
    features = signals(retrieval, verdict.lead, (ranked[0][1], after))
    return {"ruled": None, "features": features, "right": bool(right(verdict.lead))}


def _xquad_right(gold):
    def right(s) -> bool:
        overlaps = s.chunk.source == gold.source and s.span.start <= gold.start < s.span.end
        return overlaps or (len(gold.text) >= 4 and contains_answer(s.text, gold.text))

    return right


def collect_xquad(every: int, folds: int, out, readers: FoldReaders) -> None:
    spanish = load_squad("es")
    with tempfile.TemporaryDirectory(prefix="abstention_") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        golds = write_corpus(spanish, corpus)
        names = sorted(p.name for p in corpus.glob("*.txt"))
        questions = {lang: load_questions(lang, golds, None)[::every] for lang in LANGUAGES}
        whole = Assistant(make_settings(corpus, Path(tmp) / "index", None))
        whole.index()
        _collect_swapped(whole, corpus, questions, out, readers)
        whole.translator and whole.translator.close()
        for fold in range(folds):
            held = {n for i, n in enumerate(names) if i % folds == fold}
            fold_corpus = Path(tmp) / f"corpus{fold}"
            fold_corpus.mkdir()
            for name in names:
                if name not in held:
                    (fold_corpus / name).write_bytes((corpus / name).read_bytes())
            assistant = Assistant(make_settings(fold_corpus, Path(tmp) / f"index{fold}", None))
            started = time.perf_counter()
            assistant.index()
            for lang in LANGUAGES:
                for q in questions[lang]:
                    row = observe(
                        assistant.retriever.search(q.text), _xquad_right(q.gold), readers(q.gold.source)
                    )
                    answerable = q.gold.source not in held
                    row |= {"set": "xquad", "kind": "answerable" if answerable else "off topic"}
                    row |= {"lang": lang, "id": q.id, "group": q.gold.source, "answerable": answerable}
                    out.write(json.dumps(row) + "\n")
            print(f"fold {fold + 1}/{folds}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
            assistant.translator and assistant.translator.close()


# --- swapped-entity questions ---------------------------------------------------------------------------

_NAME = re.compile(r"(?<=[^\s¿¡\"“(])\s+([A-ZÁÉÍÓÚÑ][\wáéíóúñü]+(?:\s+[A-ZÁÉÍÓÚÑ][\wáéíóúñü]+)*)")
_NUMBER = re.compile(r"\b\d{1,4}\b")


def _asked(question: str) -> list[tuple[str, str]]:
    """(kind, surface) of what a question asks about that can be swapped: names, then numbers."""
    found = [("name", m.group(1)) for m in _NAME.finditer(question)]
    found += [("year" if len(m.group()) == 4 else "number", m.group()) for m in _NUMBER.finditer(question)]
    return found


def _pools(assistant: Assistant) -> tuple[dict[str, dict[str, set[str]]], list[tuple[str, set[str]]]]:
    """By kind, the names and numbers each article writes; and every sentence's folded terms with its
    source, to check that a swapped question stays unanswered."""
    pools: dict[str, dict[str, set[str]]] = {"name": {}, "year": {}, "number": {}}
    sentences = []
    sources = assistant.stores.sources
    for listed in sources.listing():
        for chunk in sources.source_chunks(listed.source):
            for span in chunk.sentences:
                text = chunk.text[span.start - chunk.start : span.end - chunk.start]
                sentences.append((listed.source, set(analyze(text))))
                for kind, surface in _asked(text):
                    pools[kind].setdefault(listed.source, set()).add(surface)
    return pools, sentences


def _answered_by_corpus(swapped_terms: set[str], other: set[str], sentences) -> bool:
    for _, terms in sentences:
        if swapped_terms <= terms and (not other or len(other & terms) >= SWAP_OVERLAP * len(other)):
            return True
    return False


def _collect_swapped(assistant: Assistant, corpus: Path, questions: dict, out, readers: FoldReaders) -> None:
    pools, sentences = _pools(assistant)
    rng = random.Random(SEED)
    english = {q.id: q for q in questions.get("en", [])}
    made = Counter()
    for q in questions["es"]:
        options = _asked(q.text)
        rng.shuffle(options)
        for kind, surface in options:
            candidates = sorted(
                {v for src, vs in pools[kind].items() if src != q.gold.source for v in vs} - {surface}
            )
            rng.shuffle(candidates)
            other = set(analyze(q.text.replace(surface, " ")))
            chosen = next(
                (c for c in candidates[:50] if not _answered_by_corpus(set(analyze(c)), other, sentences)),
                None,
            )
            if chosen is None:
                continue
            variants = [("es", q.text.replace(surface, chosen, 1))]
            en = english.get(q.id)
            if en is not None and surface in en.text:
                variants.append(("en", en.text.replace(surface, chosen, 1)))
            for lang, text in variants:
                row = observe(assistant.retriever.search(text), lambda s: False, readers(q.gold.source))
                row |= {"set": "xquad", "kind": "swapped", "lang": lang, "id": q.id, "question": text}
                row |= {"group": q.gold.source, "answerable": False, "swapped": f"{surface} -> {chosen}"}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                made[lang] += 1
            break
    print(f"swapped-entity questions: {dict(made)}", file=sys.stderr)


def collect_dev(out, readers: FoldReaders) -> None:
    for path, q, group, assistant in dev_questions():

        def right(s, q=q) -> bool:
            return q.lists_source(s.chunk.source) and q.matching_pattern(s.text) is not None

        row = observe(assistant.retriever.search(q.question), right, readers(group))
        row |= {"set": path.stem, "kind": "answerable" if q.answerable else "unanswerable"}
        row |= {"lang": q.lang, "id": q.id, "group": group, "answerable": q.answerable}
        out.write(json.dumps(row) + "\n")


# --- fitting ------------------------------------------------------------------------------------------


def _matrix(rows: list[dict]) -> np.ndarray:
    return np.array([[float(r["features"][f]) for f in FEATURES] for r in rows], dtype=float).reshape(
        -1, len(FEATURES)
    )


class Fitted:
    """A standardised L2 logistic regression over the features it kept (the others weigh 0)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.kept = list(range(len(FEATURES)))
        while True:
            self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
            self.pipeline.fit(X[:, self.kept], y, logisticregression__sample_weight=w)
            coef = self.pipeline.named_steps["logisticregression"].coef_[0]
            wrong = [i for i, c in zip(self.kept, coef, strict=True) if DIRECTION[FEATURES[i]] * c < 0]
            if not wrong:
                break
            self.kept = [i for i in self.kept if i not in wrong]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.pipeline.predict_proba(X[:, self.kept])

    def raw(self) -> tuple[dict[str, float], float]:
        """The weights on raw (unscaled) features; a feature left out weighs 0."""
        scaler, lr = (
            self.pipeline.named_steps["standardscaler"],
            self.pipeline.named_steps["logisticregression"],
        )
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        coef = dict(zip((FEATURES[i] for i in self.kept), lr.coef_[0] / scale, strict=True))
        intercept = float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scale))
        return {f: round(float(coef.get(f, 0.0)), 6) for f in FEATURES}, round(intercept, 6)


def out_of_fold(X: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    p = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=min(CV_FOLDS, len(set(groups)))).split(X, y, groups):
        p[test] = Fitted(X[train], y[train], w[train]).predict_proba(X[test])[:, 1]
    return p


def answer_cutoff(p: np.ndarray, ruled_out: int, n_answerable: int, rate: float) -> float:
    """The highest cut-off whose false refusals (rules included) on answerable questions stay <= rate;
    `p`: out-of-fold probabilities of the answerable questions the rules let through."""
    allowed = int(np.floor(rate * n_answerable)) - ruled_out
    scores = np.sort(p)
    if not len(scores) or allowed <= 0:
        return float(scores[0]) if len(scores) else 0.5
    return 1.0 if allowed >= len(scores) else float(scores[allowed])


def fit(rows: list[dict], false_refusals: float) -> tuple[dict, dict, list[str]]:
    models, evaluation, report = {}, {}, []
    for lang in LANGUAGES:
        mine = [r for r in rows if r["lang"] == lang]
        through = [r for r in mine if r["ruled"] is None]
        X = _matrix(through)
        y = np.array([r["answerable"] for r in through], dtype=int)
        w = np.array([1.0 if r["set"] == "xquad" else DEV_WEIGHT for r in through])
        g = np.array([r["group"] for r in through])
        p = out_of_fold(X, y, w, g)
        xquad = [r for r in mine if r["set"] == "xquad" and r["answerable"]]
        passed = [pi for r, pi in zip(through, p, strict=True) if r["set"] == "xquad" and r["answerable"]]
        cut = answer_cutoff(np.array(passed), len(xquad) - len(passed), len(xquad), false_refusals)
        coef, intercept = Fitted(X, y, w).raw()
        models[lang] = {"coefficients": coef, "intercept": intercept, "cutoff": round(cut, 6)}
        answered = {id(r) for r, pi in zip(through, p, strict=True) if pi >= cut}
        evaluation[lang] = {}
        for name, keep in (
            ("xquad answerable: false refusals", lambda r: r["set"] == "xquad" and r["kind"] == "answerable"),
            ("xquad off topic (article left out): refused", lambda r: r["kind"] == "off topic"),
            ("xquad swapped entity (on topic): refused", lambda r: r["kind"] == "swapped"),
            ("dev answerable: false refusals", lambda r: r["set"] != "xquad" and r["answerable"]),
            ("dev unanswerable: refused", lambda r: r["set"] != "xquad" and not r["answerable"]),
        ):
            sub = [r for r in mine if keep(r)]
            refused = sum(id(r) not in answered for r in sub)
            evaluation[lang][name] = [refused, len(sub)]
            report.append(f"{lang} {name:<46} {_pct(refused, len(sub))}")
        lead_right = [r for r in xquad if id(r) in answered and r["right"]]
        evaluation[lang]["xquad answerable: answered with the lead right"] = [len(lead_right), len(xquad)]
        report.append(
            f"{lang} {'xquad answerable: answered, lead right':<46} {_pct(len(lead_right), len(xquad))}"
        )
        ruled = Counter(r["ruled"].split(" ")[0] for r in xquad if r["ruled"])
        report.append(f"{lang} rules refusing answerable XQuAD questions: {dict(ruled) or 'none'}")
    return models, evaluation, report


def _pct(hits: int, total: int) -> str:
    return f"{hits}/{total} = {100 * hits / total:.1f}%" if total else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=1, help="ask every N-th XQuAD question")
    parser.add_argument("--folds", type=int, default=4, help="groups of XQuAD articles left out in turn")
    parser.add_argument("--rows", type=Path, default=DEFAULT_ROWS, help="where the collected rows are saved")
    parser.add_argument("--reuse", action="store_true", help="refit from --rows without asking again")
    parser.add_argument("--false-refusals", type=float, default=0.03, help="stated false-refusal rate")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    started = time.perf_counter()
    if not args.reuse:
        readers = FoldReaders()
        args.rows.parent.mkdir(parents=True, exist_ok=True)
        with args.rows.open("w", encoding="utf-8") as out:
            collect_dev(out, readers)
            collect_xquad(args.every, args.folds, out, readers)
    rows = [json.loads(line) for line in args.rows.read_text(encoding="utf-8").splitlines() if line.strip()]
    models, evaluation, report = fit(rows, args.false_refusals)
    counts = Counter((r["set"], r["lang"], r["kind"]) for r in rows)
    provenance = {
        "fitted": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "by": "bench/abstention.py",
        "model": f"scikit-learn LogisticRegression(C={C}) on standardised features, one per language; "
        "a signal whose weight comes out against its direction (DIRECTION) is left out and the model refitted",
        "lead": "the reader's first candidate (assistant/answering/reader.txt), scored here by the reader's "
        "fold model that never saw the question's article",
        "data": {
            "xquad": f"XQuAD (CC BY-SA 4.0): leave-articles-out ({args.folds} groups left out in turn) and "
            f"swapped-entity questions over the whole corpus; every {args.every}. question, Spanish and English",
            "dev": [str(p.relative_to(PROJECT)) for p in DEV_SETS] + [str(DEV_CORPUS.relative_to(PROJECT))],
            "rows": {f"{s}/{lang}/{k}": n for (s, lang, k), n in sorted(counts.items())},
            "dev_weight": DEV_WEIGHT,
        },
        "cv": f"GroupKFold({CV_FOLDS}) by article; rates below are out-of-fold",
        "answer_cutoff": f"highest probability with XQuAD false refusals (rules included) <= {args.false_refusals}",
        "hand_set": HAND_SET,  # retrieval's weights the signals depend on: a change warns at load
        "evaluation": evaluation,
    }
    weights = {"features": list(FEATURES), "models": {"answer": models}, "provenance": provenance}
    args.out.write_text(json.dumps(weights, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(report))
    print(f"\nwrote {args.out} ({len(rows)} rows, {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
