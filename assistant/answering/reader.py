"""The reader: which retrieved sentence answers the question. A learning-to-rank model (LightGBM lambdarank,
fitted by `bench/reader.py` on XQuAD in both languages and the dev sets, cross-validated by article)
scores every candidate sentence of the retrieved passages from the features below; the best becomes the
lead quote. The model ships as `reader.txt` with its provenance in `reader.json`.

Features of a (question, sentence) pair, each a number a model can compare across questions:
- retrieval's own evidence: its sentence score and rank, its cosine to each query variant (for an English
  question, the question and its Spanish rendering apart), its passage's rank, cosine and agreement of the
  rankings, its BM25 score; the best cosine of the sentences next to it;
- lexical match: the idf-weighted share of the question's terms in the sentence and in its passage, the
  share of the question's word pairs it repeats, the terms it adds;
- the answer type: whether the question asks for one, which, whether the sentence states one and how
  near the question's words the nearest such phrase sits;
- agreement of names, numbers and dates: the share of the question's names and numbers the sentence
  (and its passage) repeats;
- shape: length, place in the passage, a headline."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import cues
from ..retrieval import Retrieval, ScoredSentence
from ..retrieval.sentences import LOOSE_PREFIX
from ..text.analysis import analyze
from ..text.folding import fold, folded_words

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).with_name("reader.txt")
PROVENANCE_FILE = Path(__file__).with_name("reader.json")
KINDS = ("date", "day", "time", "number", "quantity", "money", "percent", "place", "person", "organisation")
FAR = 50  # words: the distance given to a typed phrase with no question word in its sentence
_DIGITS = re.compile(r"\d+")
FEATURES = (
    "score",
    "score_gap",
    "score_rank",
    "similarity",
    "similarity_gap",
    "similarity_rank",
    "similarity_question",
    "similarity_translation",
    "context_similarity",
    "passage_similarity",
    "passage_rank",
    "agreement",
    "lexical",
    "coverage",
    "sentence_coverage",
    "coverage_gap",
    "coverage_rank",
    "loose_coverage",
    "loose_coverage_gap",
    "lexical_rank",
    "similarity_over_passage",
    "similarity_rank_in_passage",
    "matched_spread",
    "question_terms",
    "bigrams",
    "new_terms",
    "typed",
    *(f"kind_{k}" for k in KINDS),
    "cue",
    "cue_spans",
    "cue_distance",
    "names",
    "names_passage",
    "numbers",
    "length",
    "position",
    "heading",
    "english",
)


@dataclass(frozen=True)
class _Question:
    """What the features need of the question, read once per retrieval."""

    terms: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    names: tuple[str, ...]  # folded
    numbers: frozenset[str]


def _question(retrieval: Retrieval) -> _Question:
    query = retrieval.query
    terms = [analyze(v) for v in query.variants]
    bigrams = {pair for t in terms for pair in zip(t, t[1:])}
    numbers = {n for v in query.variants for n in _DIGITS.findall(v)}
    return _Question(
        frozenset(query.content_terms),
        frozenset(bigrams),
        tuple(fold(n) for n in query.names),
        frozenset(numbers),
    )


def features(retrieval: Retrieval) -> np.ndarray:
    """One row of FEATURES per candidate sentence, in the order of `retrieval.sentences`."""
    candidates = retrieval.sentences
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    question = _question(retrieval)
    query = retrieval.query
    best_score = max(s.score for s in candidates)
    best_sim = max(s.similarity for s in candidates)
    best_cov = max(s.sentence_coverage for s in candidates)
    sim_rank = _ranks([s.similarity for s in candidates])
    cov_rank = _ranks([s.sentence_coverage for s in candidates])
    lex_rank = _ranks([s.lexical for s in candidates])
    best_loose = max(s.loose_coverage for s in candidates)
    in_passage = _ranks_within(candidates)
    passages: dict[str, set[str]] = {}
    rows = []
    for rank, s in enumerate(candidates):
        text = s.text
        terms = analyze(text)
        if s.chunk.id not in passages:
            passages[s.chunk.id] = folded_words(s.chunk.text)
        row = {
            "score": s.score,
            "score_gap": best_score - s.score,
            "score_rank": rank,
            "similarity": s.similarity,
            "similarity_gap": best_sim - s.similarity,
            "similarity_rank": sim_rank[rank],
            "similarity_question": s.similarities[0] if s.similarities else s.similarity,
            "similarity_translation": s.similarities[-1] if s.similarities else s.similarity,
            "context_similarity": s.context_similarity,
            "passage_similarity": s.passage_similarity,
            "passage_rank": retrieval.passage_rank.get(s.chunk.id, len(retrieval.passage_rank)),
            "agreement": s.agreement,
            "lexical": s.lexical,
            "coverage": s.coverage,
            "sentence_coverage": s.sentence_coverage,
            "coverage_gap": best_cov - s.sentence_coverage,
            "coverage_rank": cov_rank[rank],
            "loose_coverage": s.loose_coverage,
            "loose_coverage_gap": best_loose - s.loose_coverage,
            "lexical_rank": lex_rank[rank],
            "similarity_over_passage": s.similarity - s.passage_similarity,
            "similarity_rank_in_passage": in_passage[rank],
            "matched_spread": _spread(terms, question.terms),
            "question_terms": len(question.terms),
            "bigrams": _share(question.bigrams, set(zip(terms, terms[1:]))),
            "new_terms": len(set(terms) - question.terms),
            "typed": float(query.qtype is not None),
            **{f"kind_{k}": float(query.kind == k) for k in KINDS},
            "cue": float(bool(s.answer_spans)),
            "cue_spans": len(s.answer_spans),
            "cue_distance": _cue_distance(text, s, query.asked),
            "names": share_of_names(question.names, folded_words(text)),
            "names_passage": share_of_names(question.names, passages[s.chunk.id]),
            "numbers": _share(question.numbers, set(_DIGITS.findall(text))),
            "length": len(terms),
            "position": s.position,
            "heading": float(cues.is_heading(text)),
            "english": float(query.language == "en"),
        }
        rows.append([row[f] for f in FEATURES])
    return np.asarray(rows, dtype=np.float32)


def _ranks(values: list[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0] * len(values)
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks


def _ranks_within(candidates: list[ScoredSentence]) -> list[int]:
    """Each candidate's rank by similarity among the candidates of its own passage."""
    by_passage: dict[str, list[int]] = {}
    for i, s in enumerate(candidates):
        by_passage.setdefault(s.chunk.id, []).append(i)
    ranks = [0] * len(candidates)
    for members in by_passage.values():
        for r, i in enumerate(sorted(members, key=lambda i: -candidates[i].similarity)):
            ranks[i] = r
    return ranks


def _spread(terms: list[str], asked: frozenset[str]) -> float:
    """How tightly the question's terms cluster in the sentence: matched terms over the stretch of terms
    from the first match to the last (1: all together; 0: none matched)."""
    hits = [i for i, t in enumerate(terms) if t in asked]
    return len(hits) / (hits[-1] - hits[0] + 1) if hits else 0.0


def _share(asked: frozenset, present: set) -> float:
    """The share of what the question holds that the text repeats; 1 when the question holds none."""
    return len(asked & present) / len(asked) if asked else 1.0


def share_of_names(names: Sequence[str], words: set[str]) -> float:
    """The share of the question's (folded) names the text holds, by their first letters (Canadá/Canada);
    1 when the question names none."""
    if not names:
        return 1.0
    prefixes = {w[:LOOSE_PREFIX] for w in words}
    return sum(n[:LOOSE_PREFIX] in prefixes for n in names) / len(names)


def _cue_distance(text: str, sentence: ScoredSentence, asked: set[str]) -> float:
    if not sentence.answer_spans:
        return FAR
    positions = cues.anchors(text, asked)
    distances = [cues.distance(text, span, positions) for span in sentence.answer_spans]
    return float(min((d for d in distances if d is not None), default=FAR))


class Reader:
    """The fitted ranking model: a score per candidate, higher is more likely the answer."""

    def __init__(self, model_file: Path = MODEL_FILE, provenance_file: Path = PROVENANCE_FILE) -> None:
        import lightgbm

        self.booster = lightgbm.Booster(model_file=str(model_file))
        self.provenance = json.loads(provenance_file.read_text(encoding="utf-8"))
        if list(self.provenance.get("features", [])) != list(FEATURES):
            log.warning("%s was fitted on other features: refit it with bench/reader.py", model_file.name)

    def scores(self, retrieval: Retrieval) -> np.ndarray:
        rows = features(retrieval)
        if not len(rows):
            return np.zeros(0)
        return np.asarray(self.booster.predict(rows, num_threads=1), dtype=np.float64)

    def ranked(self, retrieval: Retrieval) -> list[tuple[ScoredSentence, float]]:
        """The candidates, best first, with their scores."""
        scores = self.scores(retrieval)
        order = np.argsort(-scores, kind="stable")
        return [(retrieval.sentences[i], float(scores[i])) for i in order]


@lru_cache(maxsize=1)
def load() -> Reader | None:
    """The shipped reader, or None when its files are missing (the answerer then keeps retrieval's order)."""
    if not MODEL_FILE.is_file() or not PROVENANCE_FILE.is_file():
        log.warning("no reader model in %s: quotes follow retrieval's order", MODEL_FILE.parent)
        return None
    return Reader()
