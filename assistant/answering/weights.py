"""The fitted weights of the answer decision: two small logistic models over the signals retrieval
already computes, fitted by `bench/abstention.py` and shipped in `abstention.json` with their provenance.

- **answer**: given the sentence that would be quoted first, is the question answered by the articles at
  all? Fitted on questions whose article is indexed (yes) or left out of the index (no), XQuAD in both
  languages plus the dev sets, cross-validated by article; its cut-off is the probability that keeps
  false refusals of answerable questions at the rate stated in the file.
- **join** (the sentence model): does this sentence, on its own, hold the answer? Fitted on the
  best-ranked sentences of answerable questions; a second or third sentence is quoted only above its
  cut-off, and where it picks the first quote more often right than the ranking does (`first_quote`), the
  first quote is the sentence it rates highest.

English and Spanish questions have their own weights: an English question's term coverage is measured
through a machine translation. A signal weighs only in its known direction (`DIRECTION` in
bench/abstention.py), or not at all. The signals depend on retrieval's hand-set weights
(`retrieval.retriever.HAND_SET`): the file records the values it was fitted with, and loading it with
others warns that it needs refitting. Where the weights are applied: `abstention.py`."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..retrieval import Retrieval, ScoredSentence
from ..retrieval.retriever import HAND_SET

log = logging.getLogger(__name__)

WEIGHTS = Path(__file__).with_name("abstention.json")
MAX_LOGIT = 60.0  # exp() overflows past ~709; at 60 the probability is already 0 or 1 to 26 digits
FEATURES = (
    "agreement",  # the passage's fused rank score over the most any passage can get (rankings agree)
    "passage_similarity",  # cosine of question and passage
    "sentence_similarity",  # cosine of question and sentence
    "coverage",  # idf-weighted share of the question's terms in the passage
    "sentence_coverage",  # … in the sentence
    "unknown_names",  # share of the names asked about that no article mentions
    "typed",  # the question asks for a kind of fact (and the sentence states one)
    "relative_score",  # the sentence's ranking score over the best-ranked sentence's
)


def signals(retrieval: Retrieval, sentence: ScoredSentence) -> dict[str, float]:
    """The features of quoting `sentence` for this question."""
    query = retrieval.query
    lead = retrieval.sentences[0] if retrieval.sentences else sentence
    return {
        "agreement": sentence.agreement,
        "passage_similarity": sentence.passage_similarity,
        "sentence_similarity": sentence.similarity,
        "coverage": sentence.coverage,
        "sentence_coverage": sentence.sentence_coverage,
        "unknown_names": query.unknown_share,
        "typed": 1.0 if query.qtype is not None and sentence.answer_spans else 0.0,
        "relative_score": sentence.score / lead.score if lead.score > 0 else 0.0,
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
    join: dict[str, Model]
    provenance: dict[str, Any]
    first_quote: dict[str, str] = field(default_factory=dict)  # by language: "rank" or "join"

    def model(self, which: str, language: str) -> Model:
        models = self.answer if which == "answer" else self.join
        return models.get(language) or models["es"]

    def holds_answer(self, retrieval: Retrieval, sentence: ScoredSentence) -> float:
        """The sentence model's probability that the sentence, on its own, holds the answer."""
        return self.model("join", retrieval.query.language).probability(signals(retrieval, sentence))

    def joins(self, retrieval: Retrieval, sentence: ScoredSentence) -> bool:
        """Whether a further sentence answers the question on its own."""
        return self.model("join", retrieval.query.language).accepts(signals(retrieval, sentence))

    def first_by_model(self, language: str) -> bool:
        """Whether the first quote is the sentence the sentence model rates highest (else the best-ranked)."""
        return self.first_quote.get(language, self.first_quote.get("es", "rank")) == "join"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Weights:
        models = data["models"]
        return cls(
            {lang: Model.from_json(m) for lang, m in models["answer"].items()},
            {lang: Model.from_json(m) for lang, m in models["join"].items()},
            data.get("provenance", {}),
            dict(data.get("first_quote", {})),
        )


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
