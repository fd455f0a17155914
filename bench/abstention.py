"""Fit the answer/abstain decision and the extra-quote decision (assistant/answering/abstention.json), and report.

    .venv/bin/python bench/abstention.py [--every N] [--folds F] [--rows FILE] [--reuse]
                                         [--false-refusals RATE] [--out assistant/answering/abstention.json]

Data (collected through the real retriever, then saved to --rows so that a refit needs no index):
- XQuAD leave-articles-out, Spanish and English questions: the 48 articles are split into F groups; for
  each group an index of the *other* articles is built and every N-th question asked: questions of the
  left-out articles must abstain (nothing else is about them), the others must not. Every question is
  thus asked once as unanswerable and F-1 times as answerable.
- The dev sets (data/dev_questions.jsonl, data/dev_questions_staff.jsonl) over data/articles, labelled by
  their `answerable` field and answer patterns (a sentence holds the answer when a pattern matches it and
  its source is listed).

A row holds, for the best-ranked sentences of a question, their features (assistant/answering/weights.py), whether
each holds the answer and whether each states the kind of fact asked for. The rules that refuse before any
model (no word the articles contain; a typed question with no sentence of its kind among the first
TYPE_WINDOW) count as refusals in every rate.

Models: scikit-learn logistic regression (standardised features, L2), one per language, fitted on all
rows; every rate reported is out of fold: GroupKFold by article (an XQuAD article, or the sample article
that answers a dev question) so that no article's questions are both fitted and scored. Dev questions
weigh DEV_WEIGHT each (they are what staff ask; XQuAD's are many). In order:
1. the sentence model ("join"): does this sentence hold the answer?
2. the first quote: the best-ranked sentence of the window, or the one the sentence model rates highest,
   whichever is right more often;
3. the answer model on the first quote's features; its cut-off is the highest probability whose false
   refusals of answerable XQuAD questions (rules included) stay at --false-refusals;
4. the join cut-off: the most answers right minus wrong quotes (JOIN_LOSS wrong quotes are worth one
   answer), on XQuAD and the dev sets.
Nothing is keyed to question ids.
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
from assistant.answering.abstention import TYPE_WINDOW  # noqa: E402
from assistant.answering.extractive import CANDIDATES, MAX_SENTENCES  # noqa: E402
from assistant.answering.weights import FEATURES, WEIGHTS, signals  # noqa: E402
from assistant.evaluation import load_questions as load_dev  # noqa: E402
from assistant.retrieval import Retrieval  # noqa: E402
from assistant.retrieval.retriever import HAND_SET  # noqa: E402
from assistant.settings import Settings  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
DEV_SETS = (PROJECT / "data" / "dev_questions.jsonl", PROJECT / "data" / "dev_questions_staff.jsonl")
DEV_CORPUS = PROJECT / "data" / "articles"
DEFAULT_ROWS = PROJECT / "bench" / "results" / "abstention_rows.jsonl"
RANKED = CANDIDATES  # best-ranked sentences kept per question (first quote and possible extra quotes)
DEV_WEIGHT = 10.0
CV_FOLDS = 5
C = 1.0  # inverse L2 strength (scikit-learn's default)
JOIN_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
JOIN_LOSS = 2.0


# --- collecting ---------------------------------------------------------------------------------------


def observe(retrieval: Retrieval, right) -> dict:
    """The row of one question: whether a content word is known, and the best-ranked sentences with their
    features, whether each holds the answer and whether each states the kind of fact asked for."""
    query = retrieval.query
    row: dict = {"kind": query.kind, "known_terms": query.known_terms}
    row["sentences"] = [
        {**signals(retrieval, s), "right": right(s), "cue": bool(s.cue), "rank": rank}
        for rank, s in enumerate(retrieval.sentences[:RANKED])
    ]
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
                for position, q in enumerate(questions[lang]):
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
                        "position": position * every,
                    }
                    out.write(json.dumps(row) + "\n")
            assistant.translator and assistant.translator.close()


def collect_dev(out) -> None:
    with tempfile.TemporaryDirectory(prefix="abstention_dev_") as tmp:
        settings = Settings(
            corpus_dir=DEV_CORPUS, index_dir=Path(tmp) / "index", llm="none", chroma={"url": None}
        )
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
    return np.array([[float(it[f]) for f in FEATURES] for it in items], dtype=float).reshape(
        -1, len(FEATURES)
    )


# The direction each signal may push "the articles answer this" (and "this sentence holds the answer"):
# more agreement, similarity or coverage never argues for refusing, a name no article mentions never for
# answering. A weight fitted against its direction is an artefact of correlated signals or of few rows
# (fitted on the dev sets alone, names the articles lack came out *for* answering); it would misfire on
# new questions, so that signal is left out and the model refitted (a monotone constraint).
DIRECTION = {
    "agreement": 1,
    "passage_similarity": 1,
    "sentence_similarity": 1,
    "coverage": 1,
    "sentence_coverage": 1,
    "unknown_names": -1,
    "typed": 0,  # either way: asking for a kind of fact makes a question neither easier nor harder
    "relative_score": 0,
}


class Fitted:
    """A standardised L2 logistic regression over the features it kept (the others weigh 0)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.kept = list(range(len(FEATURES)))
        while True:
            self.pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
            self.pipeline.fit(X[:, self.kept], y, logisticregression__sample_weight=w)
            coef = self.pipeline.named_steps["logisticregression"].coef_[0]
            wrong = [i for i, c in zip(self.kept, coef, strict=True) if DIRECTION[FEATURES[i]] * c < 0]
            if not wrong:
                break
            self.kept = [i for i in self.kept if i not in wrong]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.pipeline.predict_proba(X[:, self.kept])


def fit_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> Fitted:
    return Fitted(X, y, w)


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


def raw_coefficients(model: Fitted) -> tuple[dict[str, float], float]:
    """The model's weights on raw (unscaled) features; a feature it left out weighs 0."""
    pipeline = model.pipeline
    scaler, lr = pipeline.named_steps["standardscaler"], pipeline.named_steps["logisticregression"]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    coef = dict(zip((FEATURES[i] for i in model.kept), lr.coef_[0] / scale, strict=True))
    intercept = float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scale))
    return {f: round(float(coef.get(f, 0.0)), 6) for f in FEATURES}, round(intercept, 6)


def answer_cutoff(p: np.ndarray, ruled_out: int, n_answerable: int, rate: float) -> float:
    """The highest cut-off whose false refusals (rules included) on answerable questions stay <= rate;
    `p`: out-of-fold probabilities of the answerable questions the rules let through."""
    allowed = int(np.floor(rate * n_answerable)) - ruled_out
    scores = np.sort(p)
    if not len(scores):
        return 0.5
    if allowed <= 0:
        return float(scores[0])  # the rules alone refuse that many: the model refuses none of these
    if allowed >= len(scores):
        return 1.0
    return float(scores[allowed])  # the `allowed` lowest answerable scores fall under it


def _window(row: dict) -> list[dict]:
    """The sentences a first quote may come from: of the first TYPE_WINDOW, those of the kind asked."""
    if not row["known_terms"]:
        return []
    return [x for x in row["sentences"] if x["rank"] < TYPE_WINDOW and x["cue"]]


def choose_join_cutoff(curve: list[tuple[float, dict]]) -> float:
    """The cut-off with the most answers right minus wrong quotes, JOIN_LOSS wrong quotes per answer (a
    quote that does not say what the answer claims is the worst failure, but a missed answer counts too);
    XQuAD and the dev sets together, each dev question weighing DEV_WEIGHT. Ties: the higher cut-off."""

    def value(stats: dict) -> float:
        total = 0.0
        for name, w in (("xquad", 1.0), ("dev", DEV_WEIGHT)):
            right, _, quotes_right, quotes = stats[name]
            total += w * (JOIN_LOSS * right - (quotes - quotes_right))
        return total

    return max(curve, key=lambda c: (value(c[1]), c[0]))[0]


def fit(rows: list[dict], false_refusals: float) -> tuple[dict, list[str]]:
    models: dict = {"answer": {}, "join": {}}
    choice: dict[str, str] = {}
    report: list[str] = []
    evaluation: dict = {}
    for lang in LANGUAGES:
        mine = [r for r in rows if r["lang"] == lang]
        weight = {id(r): (1.0 if r["set"] == "xquad" else DEV_WEIGHT) for r in mine}
        basis = "xquad" if any(r["set"] == "xquad" for r in mine) else None  # None: dev sets only

        def on_basis(r: dict, basis: str | None = basis) -> bool:
            return basis is None or r["set"] == basis

        # 1. The sentence model ("join"): does this sentence hold the answer? Sentences of the kind asked,
        #    of answerable questions.
        items = [
            (r, x) for r in mine if r["answerable"] and r["known_terms"] for x in r["sentences"] if x["cue"]
        ]
        Xs = _matrix([x for _, x in items])
        ys = np.array([x["right"] for _, x in items], dtype=int)
        ws = np.array([weight[id(r)] for r, _ in items])
        gs = np.array([r["group"] for r, _ in items])
        ps = out_of_fold(Xs, ys, ws, gs)
        sentence_p = {(id(r), x["rank"]): pi for (r, x), pi in zip(items, ps, strict=True)}
        join = fit_logistic(Xs, ys, ws)
        jcoef, jintercept = raw_coefficients(join)

        def p_of(r: dict, x: dict, join=join, sentence_p=sentence_p) -> float:
            key = (id(r), x["rank"])
            if key in sentence_p:
                return sentence_p[key]
            return float(join.predict_proba(_matrix([x]))[0, 1])  # unanswerable: never in its training

        # 2. The first quote: by rank, or by the sentence model; whichever is right more often.
        def first_of(r: dict, how: str, p_of=p_of) -> dict | None:
            window = _window(r)
            if not window:
                return None
            return window[0] if how == "rank" else max(window, key=lambda cand, r=r: p_of(r, cand))

        right_first = {}
        for how in ("rank", "join"):
            firsts = [first_of(r, how) for r in mine if r["answerable"] and on_basis(r)]
            right_first[how] = sum(bool(f and f["right"]) for f in firsts)
        how = "join" if right_first["join"] > right_first["rank"] else "rank"
        choice[lang] = how
        n_basis = sum(1 for r in mine if r["answerable"] and on_basis(r))
        report.append(
            f"{lang} first quote holds the answer (answerable {basis or 'dev'} questions, out of fold): "
            f"best-ranked {right_first['rank']}/{n_basis}, best by the sentence model "
            f"{right_first['join']}/{n_basis} -> {how}"
        )

        # 3. The answer model on the first quote's features.
        fitted = [(r, first_of(r, how)) for r in mine]
        fitted = [(r, f) for r, f in fitted if f is not None]
        X = _matrix([f for _, f in fitted])
        y = np.array([r["answerable"] for r, _ in fitted], dtype=int)
        w = np.array([weight[id(r)] for r, _ in fitted])
        g = np.array([r["group"] for r, _ in fitted])
        p = out_of_fold(X, y, w, g)
        through = [pi for (r, _), pi in zip(fitted, p, strict=True) if r["answerable"] and on_basis(r)]
        cut = answer_cutoff(np.array(through), n_basis - len(through), n_basis, false_refusals)
        answer = fit_logistic(X, y, w)
        coef, intercept = raw_coefficients(answer)
        models["answer"][lang] = {"coefficients": coef, "intercept": intercept, "cutoff": round(cut, 6)}
        answered = {id(r): f for (r, f), pi in zip(fitted, p, strict=True) if pi >= cut}

        # 4. The join cut-off: further sentences of the kind, rated by the sentence model (out of fold).
        def quotes(r: dict, jcut: float, answered=answered, p_of=p_of) -> list[dict]:
            f = answered.get(id(r))
            if f is None:
                return []
            extra = [x for x in r["sentences"] if x is not f and x["cue"] and p_of(r, x) >= jcut]
            return [f, *extra][:MAX_SENTENCES]

        curve = []
        for jcut in JOIN_GRID:
            stats = {}
            for name in ("xquad", "dev"):
                sub = [r for r in mine if (r["set"] == "xquad") == (name == "xquad") and r["answerable"]]
                quoted = [quotes(r, jcut) for r in sub]
                stats[name] = (
                    sum(any(x["right"] for x in q) for q in quoted),
                    len(sub),
                    sum(x["right"] for q in quoted for x in q),
                    sum(len(q) for q in quoted),
                )
            curve.append((jcut, stats))
        jcut = choose_join_cutoff(curve)
        models["join"][lang] = {"coefficients": jcoef, "intercept": jintercept, "cutoff": round(jcut, 6)}
        report.append(
            f"{lang} extra quotes by cut-off: answerable questions answered right (any quote), quotes right"
        )
        for c, st in curve:
            cells = "   ".join(
                f"{n} {st[n][0]}/{st[n][1]}, quotes {st[n][2]}/{st[n][3]}"
                for n in ("xquad", "dev")
                if st[n][1]
            )
            report.append(f"   {c:.2f}  {cells}{'  <- chosen' if c == jcut else ''}")

        evaluation[lang] = {"first_quote": how, "join_curve": {f"{c:.2f}": st for c, st in curve}}
        for name in ("xquad", "dev_questions", "dev_questions_staff"):
            sub = [r for r in mine if r["set"] == name]
            fr, ab = _refusals(sub, answered)
            evaluation[lang][name] = {"false_refusals": fr, "abstentions": ab}
            report.append(
                f"{lang} {name:<20} false refusals {_pct(fr)}   abstentions when unanswerable {_pct(ab)}"
            )
        # The configuration of the earlier rule's measurement (every 4th article left out, starting with
        # the fourth; every 2nd question), for a like-for-like comparison.
        old = [
            r for r in mine if r["set"] == "xquad" and r.get("fold") == 3 and r.get("position", 1) % 2 == 0
        ]
        if old:
            fr, ab = _refusals(old, answered)
            evaluation[lang]["xquad_hold_every_4_every_2"] = {"false_refusals": fr, "abstentions": ab}
            report.append(
                f"{lang} {'(every 2nd q., 4th group out)':<20} false refusals {_pct(fr)}   abstentions when unanswerable {_pct(ab)}"
            )
        ruled = Counter(
            "no terms" if not r["known_terms"] else "no sentence of the kind"
            for r in mine
            if r["set"] == "xquad" and r["answerable"] and not _window(r)
        )
        report.append(f"{lang} rules refusing answerable XQuAD questions: {dict(ruled) or 'none'}")
    return {"models": models, "first_quote": choice, "evaluation": evaluation}, report


def _refusals(rows: list[dict], answered: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """(false refusals, answerable) and (abstentions, unanswerable) among rows."""
    refused = [r for r in rows if id(r) not in answered]
    return (
        (sum(r["answerable"] for r in refused), sum(r["answerable"] for r in rows)),
        (sum(not r["answerable"] for r in refused), sum(not r["answerable"] for r in rows)),
    )


def _pct(pair: tuple[int, int]) -> str:
    hits, total = pair
    return f"{hits}/{total} = {100 * hits / total:.1f}%" if total else "n/a"


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
        "model": f"scikit-learn LogisticRegression(C={C}) on standardised features, one per language; "
        "a signal whose weight comes out against its direction (DIRECTION) is left out and the model refitted",
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
        "join_cutoff": f"most answers right minus wrong quotes, {JOIN_LOSS} wrong quotes per answer, out of fold",
        "hand_set": HAND_SET,  # retrieval's weights the signals depend on: a change warns at load
        "evaluation": fitted["evaluation"],
    }
    weights = {
        "features": list(FEATURES),
        "first_quote": fitted["first_quote"],
        "models": fitted["models"],
        "provenance": provenance,
    }
    args.out.write_text(json.dumps(weights, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n".join(report))
    print(f"\nwrote {args.out} ({len(rows)} rows, {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
