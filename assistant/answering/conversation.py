"""Follow-up questions: the latest turns of a conversation, and the standalone question they imply.

A conversation is simply the list of earlier `Answer`s (each holds the user's question). A follow-up that
leans on it ("¿Y dónde?", "Who said that?") is completed for retrieval: by the answerer's condense-question
prompt when there is an LLM, else by carrying the previous question's key words into it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..answer import Answer
from ..text.analysis import analyze
from ..text.language import detect

Condense = Callable[[str, Sequence[Answer]], str | None]

# Pronouns and pointers that refer back ("that", "eso", "ella", "allí"). Demonstrative determiners such as
# "esa semana" are left out: standalone questions use them too.
_ANAPHORA = re.compile(
    r"\b(?:that|it|he|she|him|her|they|them|there|eso|esto|aquello|ella|ellas|ellos|él|allí|allá|ahí|"
    r"dicho|dicha)\b",
    re.I,
)
# Question and function words that don't name a topic; bm25s's English stopword list is short.
_FUNCTION_WORDS = (
    "what which who whom whose when where why how did do does done say says said tell told about he she "
    "him her his its them those here also else more much many can could would should were been has have "
    "had me us we you i qué cuál cuáles quién quiénes dónde cuándo cómo cuánto cuántos cuántas dijo dice "
    "dicen dijeron decir hizo hace pasa pasó ocurre ocurrió más también sobre"
)
_FUNCTION_TERMS = frozenset(t for w in _FUNCTION_WORDS.split() for t in analyze(w))
MAX_CARRIED_WORDS = 8
# Of a model's rewrite, the share of topic words that must come from the conversation: a small model asked
# to rewrite often answers instead, or invents ("El titular de la SRE ... llamaron a los 2 personas").
MIN_RECOGNISED = 0.5


def window(history: Sequence[Answer] | None, turns: int) -> list[Answer]:
    """The latest `turns` turns (not the first ones)."""
    return list(history or [])[-turns:] if turns > 0 else []


def content_terms(text: str) -> list[str]:
    return [t for t in dict.fromkeys(analyze(text)) if t not in _FUNCTION_TERMS]


def is_follow_up(question: str) -> bool:
    """Too few topic words to search on (≤ 1), or a pointer back ("that", "eso", "allí") with ≤ 2."""
    n = len(content_terms(question))
    return n <= 1 or (bool(_ANAPHORA.search(question)) and n <= 2)


def carry_terms(question: str, previous: Answer) -> str:
    """The follow-up with the previous question's topic words appended (surface forms, so that retrieval
    analyses and translates them as usual). A Spanish follow-up to a translated English question carries
    the Spanish words."""
    source = previous.standalone_question or previous.question
    if detect(question) == "es" and previous.translations.get("question_es"):
        source = previous.translations["question_es"]
    have = set(content_terms(question))
    carried = []
    for word in re.findall(r"[^\W_]+", source):
        terms = content_terms(word)
        if terms and terms[0] not in have:
            have.add(terms[0])
            carried.append(word)
    return f"{question.strip()} {' '.join(carried[:MAX_CARRIED_WORDS])}".strip()


def standalone_question(
    question: str, history: Sequence[Answer], condense: Condense | None = None
) -> str | None:
    """What to search for a follow-up question; None when the question stands on its own."""
    if not history or not is_follow_up(question):
        return None
    if condense is not None:
        rewritten = condense(question, history)
        if rewritten and rewritten.strip().casefold() != question.strip().casefold():
            if plausible_rewrite(rewritten, question, history):
                return rewritten
    return carry_terms(question, history[-1])


def plausible_rewrite(rewritten: str, question: str, history: Sequence[Answer]) -> bool:
    """Whether a model's rewrite can be searched on: still a question (when the follow-up was one), no
    longer a follow-up itself, and made mostly of words the conversation used."""
    if "?" in question and "?" not in rewritten:
        return False
    if is_follow_up(rewritten):
        return False
    said = [question]
    for turn in history:
        said += [turn.question, turn.standalone_question or "", turn.answer, *turn.translations.values()]
    known = set(content_terms(" ".join(said)))
    terms = content_terms(rewritten)
    return sum(t in known for t in terms) >= MIN_RECOGNISED * len(terms)
