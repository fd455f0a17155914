"""Check a question file against the articles before using it to measure anything.

    .venv/bin/python bench/check_questions.py [QUESTIONS.jsonl] [--corpus DIR] [--quiet]

For every answerable question, each listed source must hold at least one indexed sentence (split the
way the index splits them) that an answer pattern matches; the sentences are printed. Matching sentences
in files that are *not* listed are flagged too: either a source is missing from the list, or a pattern
is loose enough to accept a wrong sentence. Unanswerable questions must have no patterns and no
sources. Ends with counts per language, answerability and `type`. Exit code 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from assistant.evaluation import load_questions
from assistant.ingestion.chunking import sentences
from assistant.ingestion.corpus import Article, UnreadableFile, article_paths, load_article


def matching_sentences(article: Article, patterns: list[str]) -> list[str]:
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    found = []
    for span in sentences(article.text, article.body_start, article.body_end):
        sentence = article.text[span.start : span.end]
        if any(p.search(sentence) for p in compiled):
            found.append(sentence)
    return found


def _load(folder: Path) -> list[Article]:
    found = []
    for path in article_paths(folder):
        try:
            found.append(load_article(path.relative_to(folder).as_posix(), path.read_bytes())[0])
        except UnreadableFile:
            continue
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("questions", nargs="?", default="data/dev_questions_staff.jsonl", type=Path)
    parser.add_argument("--corpus", default="data/articles", type=Path)
    parser.add_argument("--quiet", action="store_true", help="print problems and counts only")
    args = parser.parse_args(argv)

    questions, errors = load_questions(args.questions)
    articles = {a.source: a for a in _load(args.corpus)}
    raw = {
        obj["id"]: obj
        for obj in map(json.loads, args.questions.read_text(encoding="utf-8").splitlines())
        if isinstance(obj, dict) and "id" in obj
    }
    problems = list(errors)
    for q in questions:
        if not q.answerable:
            if q.answer_patterns or q.sources:
                problems.append(f"{q.id}: unanswerable but has patterns or sources")
            continue
        if not args.quiet:
            print(f"{q.id} [{q.lang}] {q.question}")
        for source in sorted(articles):
            found = matching_sentences(articles[source], q.answer_patterns)
            listed = source in q.sources
            if listed and not found:
                problems.append(f"{q.id}: no sentence of listed source {source} matches a pattern")
            elif found and not listed:
                problems.append(f"{q.id}: {source} is not listed but has {len(found)} matching sentence(s)")
            if not args.quiet:
                mark = "listed" if listed else "NOT LISTED"
                for sentence in found:
                    print(f"    {source} ({mark}): {sentence[:160]}")
        for source in q.sources:
            if source not in articles:
                problems.append(f"{q.id}: listed source {source} is not in {args.corpus}")

    answerable = Counter((q.lang, q.answerable) for q in questions)
    kinds = Counter((raw.get(q.id, {}).get("type", "?"), q.answerable) for q in questions)
    print(f"\n{len(questions)} questions")
    for lang in sorted({q.lang for q in questions}):
        print(f"  {lang}: {answerable[lang, True]} answerable, {answerable[lang, False]} unanswerable")
    for kind in sorted({k for k, _ in kinds}):
        print(f"  {kind}: {kinds[kind, True]} answerable, {kinds[kind, False]} unanswerable")
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
