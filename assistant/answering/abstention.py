"""The one place that decides whether the articles answer a question, and says why.

Three steps, in order; the first that fails refuses:
1. a question with no word the articles contain is refused in any corpus, however small;
2. a question asking for a kind of fact (assistant/cues) is refused when no retrieved sentence states one;
3. the fitted answer model (weights.py), judged on the lead quote (the reader's first candidate,
   reader.py), must reach its cut-off.
Every answerer (extractive or LLM) asks `decide` first and abstains when it says so."""

from __future__ import annotations

from dataclasses import dataclass

from ..retrieval import Retrieval, ScoredSentence
from . import reader as reading
from .weights import Weights, load, signals


@dataclass(frozen=True)
class Verdict:
    answer: bool
    reason: str  # one line, for logs and the answer's `reason` field
    lead: ScoredSentence | None = None  # the sentence to quote first
    probability: float | None = None  # the answer model's, when it was asked
    ranked: tuple[tuple[ScoredSentence, float], ...] = ()  # the reader's candidates, best first


def decide(
    retrieval: Retrieval, weights: Weights | None = None, reader: reading.Reader | None = None
) -> Verdict:
    weights = weights or load()
    query = retrieval.query
    if not query.known_terms:
        return Verdict(False, "no word of the question occurs in the articles")
    if not retrieval.sentences:
        return Verdict(False, "nothing was retrieved")
    if query.qtype is not None and not any(s.answer_spans for s in retrieval.sentences):
        return Verdict(False, f"no retrieved sentence states a {query.kind} near the question's words")
    ranked = rank(retrieval, reader)
    lead, score = ranked[0]
    after = ranked[1][1] if len(ranked) > 1 else score
    model = weights.model(query.language)
    probability = model.probability(signals(retrieval, lead, (score, after)))
    if probability < model.cutoff:
        reason = f"the answer model gives {probability:.2f}, under its cut-off {model.cutoff:.2f}"
        return Verdict(False, reason, lead, probability, tuple(ranked))
    reason = f"the answer model gives {probability:.2f} (cut-off {model.cutoff:.2f})"
    return Verdict(True, reason, lead, probability, tuple(ranked))


def rank(retrieval: Retrieval, reader: reading.Reader | None = None) -> list[tuple[ScoredSentence, float]]:
    """The candidates in the reader's order (retrieval's, scored by rank, where no reader ships)."""
    reader = reader or reading.load()
    if reader is None:
        n = len(retrieval.sentences)
        return [(s, float(n - i)) for i, s in enumerate(retrieval.sentences)]
    return reader.ranked(retrieval)
