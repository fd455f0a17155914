"""Rankings of passages and their weighted reciprocal-rank fusion.

Each vote in the fusion (an embedding ranking per query variant; the BM25 ranking) is split between two
granularities: the passage as a whole, and the passage's best sentence, whose match a long passage
dilutes (a one-sentence answer among unrelated sentences)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the head without ignoring the tail
DENSE_CANDIDATES = 50  # nearest chunks asked of the vector store per query variant; length of each ranking
BM25_CANDIDATES = 2000  # sentences by BM25 score considered for a ranking of 50 passages
PASSAGE_SHARE, SENTENCE_SHARE = 0.6, 0.4
RERANK_SHARE = 0.5  # of a passage's final rank: its best sentence's score (the rest: fused passage score)

Ranking = list[str]  # chunk ids, best first


def fuse(rankings: Sequence[tuple[Ranking, float]]) -> dict[str, float]:
    """Weighted reciprocal rank fusion of (ranking, weight) pairs."""
    fused: dict[str, float] = {}
    for ranking, weight in rankings:
        for rank, i in enumerate(ranking):
            fused[i] = fused.get(i, 0.0) + weight / (RRF_K + rank + 1)
    return fused


def most_fused(variants: int) -> float:
    """The fused score of a passage first in every ranking: each query variant's dense passage and
    sentence votes, and BM25's."""
    votes = (variants + 1) * (PASSAGE_SHARE + SENTENCE_SHARE)
    return votes / (RRF_K + 1)


def by_score(scores: dict[str, float]) -> Ranking:
    return sorted(scores, key=scores.get, reverse=True)


def first_seen(ids: Iterable[str]) -> Ranking:
    """A ranking of passages from a ranking of their parts: each passage where it first appears."""
    return list(dict.fromkeys(ids))[:DENSE_CANDIDATES]


def by_best_sentence(vectors: np.ndarray, pool: list[str], stored: dict[str, np.ndarray]) -> list[Ranking]:
    """Per query vector: the pooled passages in the order of their best sentence's cosine. Sentence
    vectors are read from the source store, not searched in the ANN index: one vector per sentence there
    would hold 4-5 times the passages' memory, for passages that the other rankings find anyway."""
    ids = [i for i in pool if i in stored and len(stored[i])]
    if not ids:
        return [[] for _ in vectors]
    owner = np.repeat(np.arange(len(ids)), [len(stored[i]) for i in ids])
    similarity = vectors @ np.concatenate([stored[i] for i in ids]).T  # (query vectors, sentences)
    rankings = []
    for row in similarity:
        best = np.full(len(ids), -np.inf, dtype=np.float32)
        np.maximum.at(best, owner, row)
        rankings.append([ids[j] for j in np.argsort(-best, kind="stable")[:DENSE_CANDIDATES]])
    return rankings


def rerank(order: Ranking, fused: dict[str, float], best_sentence: dict[str, float], top: int) -> Ranking:
    """Reorder the first `top` passages by their fused score and their best sentence's score, each scaled
    to the best: a passage whose one sentence answers beats one that merely shares the question's words."""
    head = order[:top]
    top_sentence = max(best_sentence.values(), default=0.0) or 1.0

    def score(i: str) -> float:
        sentence = best_sentence.get(i, 0.0) / top_sentence
        return (1 - RERANK_SHARE) * fused[i] / fused[head[0]] + RERANK_SHARE * sentence

    return sorted(head, key=score, reverse=True) + order[len(head) :]
