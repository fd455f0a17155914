"""Corroboration: other articles that state the same fact as a quote (`also_in`), one sentence each."""

from __future__ import annotations

import numpy as np

from .. import cues
from ..answer import Corroboration
from ..retrieval import Retrieval, ScoredSentence
from ..stores.base import Chunk, Span, Titles
from ..text.analysis import analyze
from ..text.folding import folded_words

# Another article states the same fact (it is listed in `also_in`, never quoted twice) when its sentence
# gives the same value for a typed question and is close to the quote (cosine) or a near-copy (share of
# the smaller sentence's terms); otherwise when it is both close and shares half the terms. Set by eye on
# the sample articles' pairs: paraphrases of one wire text sit at cosine 0.90–0.97 with 0.5–0.9 of the
# terms shared, different facts of one story at 0.87–0.93 with under 0.45.
SAME_FACT = {"typed_cosine": 0.88, "near_copy": 0.6, "cosine": 0.90, "overlap": 0.5, "copy": 0.9}
MIN_TERMS = 5  # shorter sentences share terms by chance
MIN_VALUE_LETTERS = 3  # a value's word that must recur: shorter ones are particles
CANDIDATES = 30  # nearest sentences looked at per quote (see HybridRetriever.similar_sentences)


def same_fact(
    retrieval: Retrieval, quoted: ScoredSentence, text: str, similarity: float | None, value: str | None
) -> bool:
    """Whether `text` (another sentence, `similarity` its cosine to the quote) states what `quoted` states.
    Typed question: it gives the same value ("23 de enero") and is close in embedding space or a
    near-copy. Otherwise: close in embedding space *and* sharing half of its terms (on-topic sentences of
    one story are all close). Headlines and sentences of under five terms never count."""
    if cues.is_heading(text):
        return False
    ta, tb = set(analyze(quoted.text)), set(analyze(text))
    if min(len(ta), len(tb)) < MIN_TERMS:
        return False
    overlap, similarity = _overlap(ta, tb), similarity or 0.0
    if overlap >= SAME_FACT["copy"]:
        return True  # the same sentence (wire text): whatever the value looks like in it
    if retrieval.query.qtype is not None:
        if not value or not _value_words(value) <= folded_words(text):
            return False
        return similarity >= SAME_FACT["typed_cosine"] or overlap >= SAME_FACT["near_copy"]
    return similarity >= SAME_FACT["cosine"] and overlap >= SAME_FACT["overlap"]


def cosine(a: ScoredSentence, b: ScoredSentence) -> float | None:
    return float(a.vector @ b.vector) if a.vector is not None and b.vector is not None else None


def _overlap(ta: set[str], tb: set[str]) -> float:
    return len(ta & tb) / min(len(ta), len(tb)) if ta and tb else 0.0


def _value_words(text: str) -> set[str]:
    """What must recur for another sentence to give the same value: its digits and content words."""
    return {w for w in folded_words(text) if w.isdigit() or (len(w) >= MIN_VALUE_LETTERS and analyze(w))}


def corroborations(
    retrieval: Retrieval, chosen: list[ScoredSentence], value: str | None, titles: Titles
) -> list[list[Corroboration]]:
    """Per quoted sentence: the other articles stating the same fact, one sentence each, closest first."""
    found: list[list[Corroboration]] = [[] for _ in chosen]
    vectors = [s.vector for s in chosen]
    if retrieval.similar is None or any(v is None for v in vectors) or not chosen:
        return found
    quoted = {(s.chunk.source, s.span.start) for s in chosen}
    hits = retrieval.similar([s.text for s in chosen], np.stack(vectors), CANDIDATES)
    for i, (sentence, near) in enumerate(zip(chosen, hits, strict=True)):
        sources = {sentence.chunk.source}
        for chunk, span, similarity in sorted(near, key=lambda h: -h[2]):
            if chunk.source in sources or (chunk.source, span.start) in quoted:
                continue
            text = _text(chunk, span)
            if not same_fact(retrieval, sentence, text, similarity, value):
                continue
            title, date = titles.get(chunk.source) or retrieval.titles.get(chunk.source, (chunk.source, None))
            found[i].append(
                Corroboration(
                    source=chunk.source, title=title, date=date, quote=text, start=span.start, end=span.end
                )
            )
            sources.add(chunk.source)
    return found


def _text(chunk: Chunk, span: Span) -> str:
    return chunk.text[span.start - chunk.start : span.end - chunk.start]
