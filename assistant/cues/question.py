"""What kind of fact a question asks for (English or Spanish), and the words it asks with.

Yes/no questions and the rest ("what did X say") have no type. Question words count only where they ask:
"What will the group focus on when it next meets?" is not a date question. The kinds and what answers
them: `assistant/cues/spans.py`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.folding import folded_words


@dataclass(frozen=True)
class QuestionType:
    kind: str
    detail: str | None = None  # number: the noun counted; place: en|desde|por|hacia; person: identity|agent


_AUX_START = re.compile(
    r"^[\s¿¡\"“]*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|"
    r"must|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|hasn't|haven't)\b",
    re.I,
)
# Words that also join clauses ("when it next meets", "cuando", "donde", "quien") ask only where a clause
# starts; accented Spanish forms and "how many"/"what year"-style phrases ask wherever they are.
_CLAUSE = r"(?:^|[,;:¿¡(]\s*|^\s*(?:and|but|so|then|y|e|pero|entonces)\s+|^\s*(?:in|on|at|by|for|from|to|since|until|during|of|with|en|a|de|desde|por|para|hasta|con|durante|según)\s+)"
_PERCENT_Q = r"percentage|percent|porcentaje|por\s*ciento|what\s+(?:share|proportion|fraction|rate)|qu[eé]\s+(?:proporci[oó]n|tasa)"
_MONEY_Q = (
    r"how\s+much\s+money|cu[aá]nto\s+dinero|how\s+much\b.*\b(?:cost|costs|pay|paid|spend|spent|pledge|pledged|invest|"
    r"invested|fund|funded|worth|raise|raised|earn|earned|sell|sold|charge|charged)\b|"
    r"cu[aá]nto\s+(?:cuesta|cuestan|cost[oó]|costaron|costar[aá]|vale|valen|vali[oó]|pag[oó]|pagaron|pagar[aá]|gast[oó]|gastaron|"
    r"invirti[oó]|invierte|destina|destin[oó]|aport[oó]|aporta|recaud[oó]|gana|gan[oó])\b|"
    r"qu[eé]\s+(?:monto|importe|suma|precio|presupuesto|costo|coste|salario|sueldo)|"
    r"what\s+(?:amount|sum|price)|how\s+much\s+(?:funding|aid)"
)
_MONEY_WORDS = r"\b(?:budget|cost|costs|price|prices|salary|funding|presupuesto|costo|coste|precio|salario|sueldo|financiaci[oó]n|financiamiento)\b"

_QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        ("time", r"\bwhat\s+time\b|\bat\s+what\s+hour\b|\bqu[eé]\s+hora\b"),
        (
            "day",
            r"\bwhat\s+(?:exact\s+|specific\s+)?(?:day|date)\b|\bwhich\s+(?:day|date)\b|\bqu[eé]\s+(?:d[ií]a|fecha)\b",
        ),
        ("percent", rf"\b(?:{_PERCENT_Q})\b"),
        ("money", rf"\b(?:{_MONEY_Q})"),
        (
            "date",
            r"\bcu[aá]ndo\b(?<!cuando)|\bwhat\s+(?:year|month|century|decade|period)\b|"
            r"\bwhich\s+(?:year|month|century|decade)\b|\b(?:en\s+)?qu[eé]\s+(?:a[nñ]o|mes|siglo|d[eé]cada|[eé]poca)\b|"
            r"\bhow\s+long\s+ago\b|\bsince\s+when\b|\bdesde\s+cu[aá]ndo\b",
        ),
        (
            "duration",
            r"\bhow\s+long\b|\bcu[aá]nto\s+(?:tiempo|dur[oó]|duraron|durar[aá]n?|dura|duran|tard[oó]|tarda)\b",
        ),
        ("number", r"\bhow\s+many\b|\bcu[aá]nt[oa]s\b|\bwhat\s+number\b|\bqu[eé]\s+(?:n[uú]mero|cantidad)\b"),
        ("quantity", r"\bhow\s+much\b|\bcu[aá]nt[oa]\b"),
        (
            "place",
            r"\bd[oó]nde\b(?<!donde)|\bad[oó]nde\b(?<!adonde)|\b(?:in|to|from)\s+(?:what|which)\s+(?:place|city|country|state|region|province|town|continent)\b|"
            r"\b(?:what|which)\s+(?:city|country|state|region|province|town|continent)\b|\bqu[eé]\s+(?:lugar|ciudad|pa[ií]s|estado|regi[oó]n|provincia|continente|localidad)\b",
        ),
        (
            "organisation",
            r"\b(?:what|which)\s+(?:agency|organi[sz]ation|department|ministry|company|firm|institution|office|bureau|party|body|authority|newspaper|network|team|club|group)\b|"
            r"\bqu[eé]\s+(?:agencia|organismo|organizaci[oó]n|dependencia|instituci[oó]n|empresa|compa[nñ][ií]a|secretar[ií]a|ministerio|oficina|partido|entidad|grupo|peri[oó]dico|equipo|club)\b",
        ),
        (
            "person",
            r"\bqui[eé]n(?:es)?\b(?<!quien)(?<!quienes)|\b(?:which|what)\s+(?:person|official|man|woman|leader|politician|officer)\b|\bqu[eé]\s+(?:persona|funcionari[oa]|l[ií]der)\b",
        ),
    )
)
# The same words without accents ask only where a clause starts (English) or the question does (Spanish,
# where "cuando" is a conjunction and the interrogative is written "cuándo").
_ES_START = r"(?:¿\s*|^(?![^¿]*¿)\s*)(?:(?:y|e|pero|entonces|a|de|desde|por|para|hasta|en)\s+)?"
_CLAUSE_WORDS = (
    ("date", re.compile(rf"{_CLAUSE}when\b|{_ES_START}cuando\b", re.I)),
    ("place", re.compile(rf"{_CLAUSE}where\b|{_ES_START}(?:donde|adonde)\b", re.I)),
    ("person", re.compile(rf"{_CLAUSE}(?:who|whom)\b|{_ES_START}(?:quien|quienes)\b", re.I)),
)
_IDENTITY = re.compile(  # "who is the spokesman", not "who was hired"
    r"(?i:\b(?:who|whom)\s+(?:is|was|are|were|will\s+be)\s+)(?:(?i:the|a|an|his|her|their|its|this|that)\b|[A-Z])|"
    r"(?i:\bqui[eé]n(?:es)?\s+(?:es|era|fue|son|eran|fueron|ser[aá]n?)\s+)"
    r"(?:(?i:el|la|los|las|un|una|su|sus|este|esta|ese|esa)\b|[A-ZÁÉÍÓÚ])",
)
_PLACE_RELATION = (
    (
        "desde",
        re.compile(
            r"\bdesde\s+d[oó]nde\b|\bfrom\s+where\b|\bwhere\b.*\bfrom\s*\??$|\bfrom\s+(?:what|which)\b", re.I
        ),
    ),
    ("de", re.compile(r"\bde\s+d[oó]nde\b", re.I)),
    (
        "por",
        re.compile(
            r"\bpor\s+d[oó]nde\b|\bthrough\s+(?:where|what|which)\b|\bwhich\s+way\b|\bwhere\b.*\bthrough\b",
            re.I,
        ),
    ),
    (
        "hacia",
        re.compile(
            r"\b(?:a|hacia|hasta)\s+d[oó]nde\b|\bad[oó]nde\b|\bwhere\b.*\bto\s*\??$|\bto\s+(?:what|which)\s+(?:place|city|country)\b",
            re.I,
        ),
    ),
)
_PLACE_NAMED = re.compile(
    r"\b(?:what|which)\s+(?:city|country|state|region|province|town|continent)\b|"
    r"\bqu[eé]\s+(?:ciudad|pa[ií]s|estado|regi[oó]n|provincia|continente|localidad)\b",
    re.I,
)
_COUNTED = re.compile(r"\b(?:how\s+many|cu[aá]nt[oa]s)\s+(?:of\s+(?:the\s+)?)?([^\W\d_]+)", re.I)


def question_type(question: str, translation: str | None = None) -> QuestionType | None:
    """The kind of fact the question asks for, or None (yes/no questions, "what did X say"). An English
    question's Spanish translation, when given, supplies the noun counted by "how many"."""
    if _AUX_START.search(question):
        return None
    kind = None
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            kind = name
            break
    if kind is None:
        kind = next((name for name, pattern in _CLAUSE_WORDS if pattern.search(question)), None)
    if kind is None and re.search(_MONEY_WORDS, question, re.I):
        kind = "money"
    if kind is None or kind == "duration":  # durations come in too many shapes ("hasta el siglo XIX")
        return None
    detail = None
    if kind == "number":
        counted = [m.group(1) for text in (translation, question) if text for m in _COUNTED.finditer(text)]
        detail = counted[0] if counted else None
    elif kind == "place":
        detail = next((rel for rel, pattern in _PLACE_RELATION if pattern.search(question)), None)
        if detail is None:  # "¿Con qué país …?": a place's name, whatever the preposition
            detail = "name" if _PLACE_NAMED.search(question) else "en"
    elif kind == "person":
        detail = "identity" if _IDENTITY.search(question) else "agent"
    return QuestionType(kind, detail)


def asked_words(*texts: str | None) -> set[str]:
    """The folded words of a question (and its translation): what an answer must add to."""
    words: set[str] = set()
    for text in texts:
        if text:
            words |= folded_words(text)
    return words
