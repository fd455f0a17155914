"""Split a `briefing eval --out` report by language and by question type, with two stricter figures.

    .venv/bin/python bench/eval_breakdown.py REPORT.json [QUESTIONS.jsonl]

`briefing eval` counts a citation as supporting when its quote matches an answer pattern *or* its file
is one of the question's sources, so an unrelated sentence from a listed file still counts. Two stricter
figures are added, over the answerable questions that were answered:
  - quote precision: citations whose own quote matches an answer pattern / all their citations;
  - first quote right: the first (best-ranked) quote matches an answer pattern.
The question types come from the optional `type` field of the question file.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

from assistant.evaluation import Record, fractions


def _matches(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


def strict(records: list[Record], patterns: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    answered = [r for r in records if r.answerable and not r.abstained and r.answer]
    quotes = [(r.id, c.quote or "") for r in answered for c in r.citations]
    first = [(r.id, r.citations[0].quote or "") for r in answered if r.citations]
    return {
        "quote_precision": (sum(_matches(patterns[i], q) for i, q in quotes), len(quotes)),
        "first_quote_right": (sum(_matches(patterns[i], q) for i, q in first), len(first)),
    }


def table(groups: dict[str, list[Record]], patterns: dict[str, list[str]]) -> None:
    rows = {name: {**fractions(recs), **strict(recs, patterns)} for name, recs in groups.items()}
    metrics = list(next(iter(rows.values())))
    print(f"{'metric':24s}" + "".join(f"{name:>16s}" for name in rows))
    for metric in metrics:
        cells = []
        for name in rows:
            hits, total = rows[name][metric]
            cells.append(f"{hits / total:.3f} {hits:>3d}/{total:<3d}" if total else f"{'n/a':>12s}")
        print(f"{metric:24s}" + "".join(f"{c:>16s}" for c in cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("questions", nargs="?", default="data/dev_questions_staff.jsonl", type=Path)
    args = parser.parse_args(argv)

    records = [Record.model_validate(r) for r in json.loads(args.report.read_text())["records"]]
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = {q["id"]: q for q in map(json.loads, filter(str.strip, lines))}
    patterns = {i: q["answer_patterns"] for i, q in questions.items()}

    by_lang: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_lang[r.lang].append(r)
    table({"all": records, **dict(sorted(by_lang.items()))}, patterns)

    print(f"\n{'type':14s}{'answerable right':>18s}{'unanswerable right':>20s}{'missed (any)':>14s}")
    by_type: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_type[questions.get(r.id, {}).get("type", "?")].append(r)
    for kind, recs in sorted(by_type.items()):
        a = [r for r in recs if r.answerable]
        u = [r for r in recs if not r.answerable]
        right_a = f"{sum(r.answer_correct for r in a)}/{len(a)}"
        right_u = f"{sum(r.answer_correct for r in u)}/{len(u)}"
        print(f"{kind:14s}{right_a:>18s}{right_u:>20s}{f'{sum(r.missed for r in recs)}/{len(recs)}':>14s}")


if __name__ == "__main__":
    main()
