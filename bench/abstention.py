"""Leave-articles-out: how often the assistant abstains when it should, and when it should not.

    .venv/bin/python bench/abstention.py [--every N] [--hold-every M]

Every M-th XQuAD article is left out of the index; its questions become unanswerable (the articles are
about unrelated topics, so nothing else answers them), the others stay answerable. Both languages are
asked (every N-th question, to keep the run short). Prints, per language, the false-abstention rate on
answerable questions and the abstention rate on unanswerable ones, for the shipped rule and for a grid
of coverage/dense thresholds, so the thresholds in assistant/extractive.py can be re-derived. XQuAD's
questions and texts were written by others; nothing here is keyed to question ids.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xquad import LANGUAGES, load_questions, load_squad, make_settings, write_corpus  # noqa: E402

from assistant import Assistant, extractive  # noqa: E402
from assistant.retrieval import Retrieval  # noqa: E402

COVERAGE_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
DENSE_GRID = (0.82, 0.83, 0.84, 0.85, 0.86)


@dataclass
class Row:
    lang: str
    held_out: bool
    abstained: bool
    hard_no: bool  # an unknown name, or a missing date/number: abstains whatever the thresholds
    coverage: float
    dense: float


def observe(retrieval: Retrieval, abstained: bool, lang: str, held_out: bool) -> Row:
    top = retrieval.sentences[0] if retrieval.sentences else None
    query = retrieval.query
    hard_no = top is None or bool(query.unknown_entity) or (query.kind in ("date", "number") and not top.cue)
    return Row(lang, held_out, abstained, hard_no, top.coverage if top else 0.0, retrieval.dense_best)


def rates(rows: list[Row], abstains) -> tuple[float, float]:
    answerable = [abstains(r) for r in rows if not r.held_out]
    unanswerable = [abstains(r) for r in rows if r.held_out]
    return sum(answerable) / max(len(answerable), 1), sum(unanswerable) / max(len(unanswerable), 1)


def report(rows: list[Row]) -> None:
    for lang in LANGUAGES:
        mine = [r for r in rows if r.lang == lang]
        n_ans = sum(not r.held_out for r in mine)
        fa, ta = rates(mine, lambda r: r.abstained)
        print(f"\n{lang}: {n_ans} answerable, {len(mine) - n_ans} unanswerable questions")
        print(f"  shipped rule: false abstentions {fa:.3f}, abstentions when unanswerable {ta:.3f}")
        print("  coverage ≥ c or dense ≥ d answers (plus the name and date/number checks):")
        print("   c \\ d " + " ".join(f"{d:>13.3f}" for d in DENSE_GRID))
        for c in COVERAGE_GRID:
            cells = []
            for d in DENSE_GRID:
                fa, ta = rates(mine, lambda r, c=c, d=d: r.hard_no or (r.coverage < c and r.dense < d))
                cells.append(f"{fa:.3f}/{ta:.3f}")
            print(f"   {c:.1f}   " + " ".join(f"{x:>13}" for x in cells))
    print("\ncells: false-abstention rate / abstention rate on unanswerable questions")
    print(f"shipped: MIN_COVERAGE={extractive.MIN_COVERAGE}, MIN_DENSE={extractive.MIN_DENSE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=2, help="ask every N-th question")
    parser.add_argument("--hold-every", type=int, default=4, help="leave out every M-th article")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        corpus.mkdir()
        golds = write_corpus(load_squad("es"), corpus)
        held = {p.name for i, p in enumerate(sorted(corpus.glob("*.txt"))) if i % args.hold_every == 3}
        for name in held:
            (corpus / name).unlink()
        assistant = Assistant(make_settings(corpus, index, None))
        print(f"index: {assistant.index().summary()}; {len(held)} articles left out", file=sys.stderr)
        rows = []
        for lang in LANGUAGES:
            for q in load_questions(lang, golds, None)[:: args.every]:
                answer, retrieval = assistant.ask_with_retrieval(q.text)
                rows.append(observe(retrieval, answer.abstained, lang, q.gold.source in held))
        report(rows)


if __name__ == "__main__":
    main()
