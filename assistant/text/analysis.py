"""The index terms of a text: folded words, stopwords dropped, Snowball-stemmed (Spanish). The lexical
index, the question's terms and the answerer's term overlaps all go through `analyze`."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SPANISH

from .folding import fold, remembered

_WORD = re.compile(r"\w+")
STEM_CACHE_SIZE = 65536  # distinct words stemmed once each; a news folder's vocabulary fits

# English stopwords too: English questions are searched with their original words as well (names and
# numbers survive translation), and quoted English passages appear inside Spanish articles.
# Question words too: they say what kind of answer is wanted (see assistant/cues), not what it is about.
_QUESTION_WORDS = (
    "qué cuál cuáles cuándo cuánto cuánta cuántos cuántas dónde adónde quién quiénes cómo por para "
    "what which when where who whom whose why how many much does did do is are was were"
).split()
_STOPWORDS = frozenset(fold(w) for w in (*STOPWORDS_SPANISH, *STOPWORDS_EN, *_QUESTION_WORDS))


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("spanish")


@lru_cache(maxsize=STEM_CACHE_SIZE)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def analyze(text: str) -> list[str]:
    """Index terms of text: folded words, stopwords dropped, stemmed. Digits are kept as terms."""
    return list(_terms(text))


@remembered
def _terms(text: str) -> tuple[str, ...]:  # a tuple: a remembered value must not be changed by a caller
    return tuple(
        _stem(w) for w in _WORD.findall(fold(text)) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())
    )
