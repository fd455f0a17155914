"""BM25 (bm25s) with a Spanish-aware analyzer: accent folding, stopwords, Snowball stemming."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

_WORD = re.compile(r"\w+")
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


def fold(text: str) -> str:
    """Lowercase and strip accents, so 'reunión', 'Reunion' and 'REUNIÓN' meet ('ñ' becomes 'n')."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# English stopwords too: English questions are searched with their original words as well (names and
# numbers survive translation), and quoted English passages appear inside Spanish articles.
# Question words too: they say what kind of answer is wanted (see cues.py), not what it is about.
_QUESTION_WORDS = (
    "qué cuál cuáles cuándo cuánto cuánta cuántos cuántas dónde adónde quién quiénes cómo por para "
    "what which when where who whom whose why how many much does did do is are was were"
).split()
_STOPWORDS = frozenset(fold(w) for w in (*STOPWORDS_SPANISH, *STOPWORDS_EN, *_QUESTION_WORDS))


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("spanish")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def analyze(text: str) -> list[str]:
    """Index terms of text: folded words, stopwords dropped, stemmed. Digits are kept as terms."""
    return [
        _stem(w) for w in _WORD.findall(fold(text)) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


class BM25Index:
    """BM25 over a fixed list of texts; scores every text for a query at once (sparse, fast)."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        tokens = [analyze(t) or ["\0"] for t in texts]  # bm25s needs a token per document
        if texts:
            self._bm25.index(tokens, show_progress=False)
        self.terms = [frozenset(doc) for doc in tokens]  # each text's distinct terms
        self._df: dict[str, int] = {}
        for doc in self.terms:
            for term in doc:
                self._df[term] = self._df.get(term, 0) + 1

    def scores(self, terms: list[str]) -> np.ndarray:
        known = [t for t in terms if t in self._df]
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return self._bm25.get_scores(known)

    def idf(self, term: str) -> float:
        """BM25's idf; 0 for a term absent from every text."""
        df = self._df.get(term, 0)
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5))) if df else 0.0

    @property
    def max_idf(self) -> float:
        """The idf of a term found in a single text."""
        return float(np.log(1 + (self.size - 0.5) / 1.5)) if self.size else 1.0

    def contains(self, term: str) -> bool:
        return term in self._df
