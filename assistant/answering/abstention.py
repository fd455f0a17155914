"""The one place that decides whether the articles answer a question, and says why.

Three steps, in order; the first that fails refuses:
1. a question with no word the articles contain is refused in any corpus, however small;
2. a question asking for a kind of fact (assistant/cues) is answered only from a sentence that states one,
   among the TYPE_WINDOW best-ranked sentences;
3. the fitted answer model (weights.py), judged on the sentence that would be quoted first (the lead),
   must reach its cut-off.
Every answerer (extractive or LLM) asks `decide` first and abstains when it says so."""

from __future__ import annotations

from dataclasses import dataclass

from ..retrieval import Retrieval, ScoredSentence
from .weights import Weights, load, signals

TYPE_WINDOW = 5  # best-ranked sentences that may give a typed question's lead quote


@dataclass(frozen=True)
class Verdict:
    answer: bool
    reason: str  # one line, for logs and the answer's `reason` field
    lead: ScoredSentence | None = None  # the sentence to quote first
    probability: float | None = None  # the answer model's, when it was asked


def decide(retrieval: Retrieval, weights: Weights | None = None) -> Verdict:
    weights = weights or load()
    query = retrieval.query
    if not query.known_terms:
        return Verdict(False, "no word of the question occurs in the articles")
    lead = lead_sentence(retrieval, weights)
    if lead is None:
        if not retrieval.sentences:
            return Verdict(False, "nothing was retrieved")
        return Verdict(
            False, f"no sentence among the best {TYPE_WINDOW} states a {query.kind} near its words"
        )
    model = weights.model("answer", query.language)
    probability = model.probability(signals(retrieval, lead))
    if probability < model.cutoff:
        return Verdict(
            False,
            f"the answer model gives {probability:.2f}, under its cut-off {model.cutoff:.2f}",
            lead,
            probability,
        )
    return Verdict(
        True, f"the answer model gives {probability:.2f} (cut-off {model.cutoff:.2f})", lead, probability
    )


def lead_sentence(retrieval: Retrieval, weights: Weights | None = None) -> ScoredSentence | None:
    """The sentence to quote first, among the first TYPE_WINDOW ranked that state the kind of fact asked
    for (all of them, for an untyped question): the best-ranked, or the one the sentence model rates
    highest where the fitted weights say that is more often right."""
    window = [s for s in retrieval.sentences[:TYPE_WINDOW] if s.cue]
    if not window:
        return None
    weights = weights or load()
    if weights.first_by_model(retrieval.query.language):
        return max(window, key=lambda s: weights.holds_answer(retrieval, s))
    return window[0]
