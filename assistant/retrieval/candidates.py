"""The candidate stage of hybrid retrieval: the rankings of passages and their fusion, before the
sentences are scored. Locally (this module) the rankings are built from the read side's Protocols and
fused in Python; a backend that can do it where the data is offers its own stage (stores/base.py:
`HybridSearch`; PostgreSQL: one SQL statement), handed the same constants (`FUSION`)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from ..stores.base import Candidates, Fusion, LexicalIndex, SourceReader, VectorSearch
from . import fusion
from .fusion import BM25_CANDIDATES, DENSE_CANDIDATES, PASSAGE_SHARE, SENTENCE_SHARE

FUSION = Fusion(fusion.RRF_K, DENSE_CANDIDATES, BM25_CANDIDATES, PASSAGE_SHARE, SENTENCE_SHARE)


def local_candidates(
    vector_search: VectorSearch,
    lexical: LexicalIndex,
    sources: SourceReader,
    vectors: np.ndarray,
    terms: Sequence[str],
) -> Candidates:
    """Dense rankings per query vector and BM25's passage ranking, each vote split with the passages'
    best-sentence rankings (BM25's, and the dense ones over the pool), weighted-RRF fused."""
    dense = vector_search.search(vectors, DENSE_CANDIDATES)
    passage_rankings = [fusion.by_score(d) for d in dense]
    passage_rankings.append([i for i, _ in lexical.search_passages(terms, DENSE_CANDIDATES)])
    by_sentence_bm25 = by_best_bm25_sentence(lexical, terms)
    pool = list(dict.fromkeys(chain(*passage_rankings, by_sentence_bm25)))
    stored = sources.sentence_vectors(pool)
    fused = fusion.fuse(
        [(ranking, PASSAGE_SHARE) for ranking in passage_rankings]
        + [(ranking, SENTENCE_SHARE) for ranking in fusion.by_best_sentence(vectors, pool, stored)]
        + [(by_sentence_bm25, SENTENCE_SHARE)]
    )
    return Candidates(dense, fused, stored)


def by_best_bm25_sentence(lexical: LexicalIndex, terms: Sequence[str]) -> list[str]:
    """Passages in the order of their best sentence's BM25 score."""
    return fusion.first_seen(i for i, _, _ in lexical.search_sentences(terms, BM25_CANDIDATES))
