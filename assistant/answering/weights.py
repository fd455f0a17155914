"""The fitted weights of the answer decision: a small logistic model per language over the signals of
the lead quote (the sentence the reader puts first), fitted by `bench/abstention.py` and shipped in
`abstention.json` with its provenance.

Given the lead, are the articles answering the question at all? Fitted on answerable questions (yes) and
on three kinds of unanswerable ones (no): XQuAD questions whose article is left out of the index (off
topic), XQuAD questions whose asked name, number or date was swapped for one found elsewhere in the corpus
(on topic, but nothing states it), and the dev sets' unanswerable questions; cross-validated by article.
Its cut-off is the probability that keeps false refusals of answerable questions at the rate stated in
the file. English and Spanish questions have their own weights: an English question's term coverage is
measured through a machine translation. A signal weighs only in its known direction (`DIRECTION` in
bench/abstention.py), or not at all. The signals depend on retrieval's hand-set weights
(`retrieval.retriever.HAND_SET`): the file records the values it was fitted with, and loading it with
others warns that it needs refitting. Where the weights are applied: `abstention.py`."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..retrieval import Retrieval, ScoredSentence
from ..retrieval.retriever import HAND_SET
from ..text.folding import fold, folded_words
from .reader import share_of_names

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).with_name("abstention.json")
_DIGITS = re.compile(r"\d+")
MAX_LOGIT = 60.0  # exp() overflows past ~709; at 60 the probability is already 0 or 1 to 26 digits
FEATURES = (
    "agreement",  # the lead's passage: its fused rank score over the most any passage can get
    "passage_similarity",  # cosine of question and the lead's passage
    "sentence_similarity",  # cosine of question and lead
    "coverage",  # idf-weighted share of the question's terms in the lead's passage
    "sentence_coverage",  # … in the lead
    "unknown_names",  # share of the names asked about that no article mentions
    "typed",  # the question asks for a kind of fact and the lead states one
    "relative_score",  # the lead's retrieval score over the best-ranked sentence's
    "reader",  # the reader's score of the lead
    "reader_margin",  # … over the next candidate's
    "lead_names",  # share of the names asked about that the lead repeats
    "passage_names",  # … that the lead's passage repeats
    "lead_numbers",  # share of the question's numbers and years that the lead repeats
)


def signals(
    retrieval: Retrieval, lead: ScoredSentence, reader_scores: tuple[float, float] = (0.0, 0.0)
) -> dict[str, float]:
    """The features of answering with `lead`; `reader_scores`: the reader's score of the lead and of the
    next candidate."""
    query = retrieval.query
    first = retrieval.sentences[0] if retrieval.sentences else lead
    names = [fold(n) for n in query.names]
    numbers = {n for v in query.variants for n in _DIGITS.findall(v)}
    return {
        "agreement": lead.agreement,
        "passage_similarity": lead.passage_similarity,
        "sentence_similarity": lead.similarity,
        "coverage": lead.coverage,
        "sentence_coverage": lead.sentence_coverage,
        "unknown_names": query.unknown_share,
        "typed": 1.0 if query.qtype is not None and lead.answer_spans else 0.0,
        "relative_score": lead.score / first.score if first.score > 0 else 0.0,
        "reader": reader_scores[0],
        "reader_margin": reader_scores[0] - reader_scores[1],
        "lead_names": share_of_names(names, folded_words(lead.text)),
        "passage_names": share_of_names(names, folded_words(lead.chunk.text)),
        "lead_numbers": len(numbers & set(_DIGITS.findall(lead.text))) / len(numbers) if numbers else 1.0,
    }


@dataclass(frozen=True)
class Model:
    """Logistic regression on raw feature values: p = 1 / (1 + exp(-(intercept + Σ w·x)))."""

    coefficients: dict[str, float]
    intercept: float
    cutoff: float

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.coefficients.items())
        return 1.0 / (1.0 + math.exp(-max(-MAX_LOGIT, min(MAX_LOGIT, z))))

    def accepts(self, features: dict[str, float]) -> bool:
        return self.probability(features) >= self.cutoff

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        return cls(dict(data["coefficients"]), float(data["intercept"]), float(data["cutoff"]))


@dataclass(frozen=True)
class Weights:
    answer: dict[str, Model]  # by question language
    provenance: dict[str, Any]

    def model(self, language: str) -> Model:
        return self.answer.get(language) or self.answer["es"]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Weights:
        answer = {lang: Model.from_json(m) for lang, m in data["models"]["answer"].items()}
        return cls(answer, data.get("provenance", {}))


@lru_cache(maxsize=4)
def load(path: Path = WEIGHTS) -> Weights:
    """The shipped weights (read once); a warning when retrieval's hand-set weights have changed since
    they were fitted."""
    weights = Weights.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    changed = stale(weights)
    if changed:
        log.warning(
            "%s was fitted with other retrieval weights (%s): its signals have moved; refit it with "
            "bench/abstention.py",
            Path(path).name,
            ", ".join(changed),
        )
    return weights


def stale(weights: Weights) -> list[str]:
    """The hand-set retrieval weights whose value differs from the one the weights were fitted with
    ("NAME fitted=A now=B"); a file that records none is taken as fitted with today's."""
    fitted = weights.provenance.get("hand_set") or {}
    return [
        f"{name} fitted={fitted[name]} now={value}"
        for name, value in HAND_SET.items()
        if name in fitted and fitted[name] != value
    ] + [f"{name} not recorded" for name in HAND_SET if fitted and name not in fitted]
