"""Answer types: what kind of fact a question asks for, and where a sentence states one.

`question_type` reads the question (English or Spanish); `answer_spans` finds the phrases of that kind in a
sentence (character offsets), leaving out what the question already names: an answer to "who" must name
someone the question does not. Kinds:

| kind | asked by | a sentence must hold |
|---|---|---|
| `date` | when, cuándo, what year/month, en qué año/mes | a date, month, weekday, year, century, time of day |
| `day` | what (exact) day/date, qué día/fecha | a day of the month or a weekday (not just a month) |
| `time` | what time, a qué hora | a time of day |
| `number` | how many, cuántos/as, what number | a count: not a date, a share or an amount of money; the unit asked ("how many pounds") when it is a unit of measure, else no unit of measure |
| `quantity` | how much (without money), cuánto | a count, a percentage or an amount of money |
| `money` | how much money, cost, budget, cuánto dinero, presupuesto | an amount in a currency |
| `percent` | what percentage/share, qué porcentaje | a percentage |
| `place` | where, dónde, in what city/country | a place after the preposition the question implies (en / desde / por / hacia) |
| `person` | who, quién | who is …: a person's name; who did …: a name, an acronym or people ("los republicanos") |
| `organisation` | which agency/department, qué dependencia/agencia | an organisation's name or acronym |

Yes/no questions and the rest ("what did X say") have no type. Question words count only where they ask:
"What will the group focus on when it next meets?" is not a date question."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- vocabulary -----------------------------------------------------------------------------------

_MONTHS_ES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre"
)
_MONTHS_EN = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTHS = f"{_MONTHS_ES}|{_MONTHS_EN}"
_MONTH_ABBR = r"(?:ene|feb|mar|abr|jun|jul|ago|sep|sept|oct|nov|dic|jan|apr|aug|dec)\.?"
_WEEKDAYS = (
    "lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_NUMBER_WORDS = (
    "dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|dieciséis|"
    "diecisiete|dieciocho|diecinueve|veinte|veintiuno|veintidós|veintitrés|veinticuatro|veinticinco|"
    "treinta|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa|cien|ciento|cientos|doscientos|"
    "trescientos|quinientos|mil|miles|millón|millones|billón|billones|docena|decenas|centenares|"
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fifteen|twenty|thirty|"
    "forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|"
    "billion|billions|dozen|dozens|ninguno|ninguna|ningún|cero|none|zero|no one|nadie"
)
_NUMERAL = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])|\d[\d.,]*\d|\d)(?:\s*(?:millones|millón|million|billones|billion|thousand|mil)\b)?"
_NUMBER = rf"(?:{_NUMERAL}|\b(?:{_NUMBER_WORDS})\b(?:\s+(?:millones|million|thousand|mil)\b)?)"
_CURRENCY_WORDS = (
    "dólares|dólar|dolares|pesos|euros|euro|yenes|yuanes|libras esterlinas|reales|bolívares|soles|"
    "dollars|dollar|euros|yen|yuan|pounds sterling|rupees|rublos|rubles"
)
# Units of measure: a number followed by one measures, it does not count ("1029 libras" of fentanyl is
# no answer to "how many migrants").
_UNITS = (
    "(?:kilo|mega|giga|tera|mili|micro|centi|nano)?(?:toneladas|tonelada|gramos|gramo|metros|metro|litros|litro|"
    "vatios|watts|tons|tonnes|grams|meters|metres|liters|litres)|"
    "libras|libra|kilos|kilo|kilogramos|kilogramo|kg|toneladas|tonelada|gramos|gramo|g|mg|litros|litro|"
    "galones|galón|barriles|barril|metros|metro|m|km|kilómetros|kilómetro|millas|milla|pies|pie|"
    "hectáreas|hectárea|acres|acre|grados|grado|pulgadas|pulgada|voltios|vatios|megavatios|"
    "pounds|pound|lb|lbs|kilograms|kilogram|tons|tonnes|ton|grams|gram|liters|litres|liter|litre|"
    "gallons|gallon|barrels|barrel|meters|metres|meter|metre|kilometers|kilometres|miles|mile|feet|foot|"
    "hectares|hectare|degrees|degree|inches|inch|watts|megawatts"
)
_PLACE_NOUNS = (
    "ciudad|ciudades|país|países|pais|estado|estados|región|regiones|provincia|provincias|capital|frontera|"
    "fronteras|puerto|puertos|costa|costas|isla|islas|río|ríos|valle|zona|zonas|territorio|municipio|"
    "condado|distrito|barrio|calle|avenida|plaza|parque|edificio|sede|palacio|casa|hospital|escuela|"
    "universidad|campus|aeropuerto|estación|base|cárcel|prisión|norte|sur|este|oeste|centro|noroeste|"
    "noreste|suroeste|sureste|sudoeste|sudeste|continente|océano|mar|lago|montaña|montañas|desierto|"
    "bosque|pueblo|aldea|localidad|lugar|sitio|cruce|cruces|embajada|museo|iglesia|catedral|templo|"
    "city|cities|country|countries|state|states|region|province|capital|border|borders|port|ports|coast|"
    "island|islands|river|valley|area|zone|territory|county|district|street|avenue|square|park|building|"
    "headquarters|palace|house|school|university|airport|station|prison|north|south|east|west|center|"
    "centre|continent|ocean|sea|lake|mountain|mountains|desert|forest|town|village|place|site|crossing|"
    "embassy|museum|church|cathedral|temple"
)
# Institution words: a capitalised phrase holding one names an organisation, not a person.
_ORG_WORDS = frozenset(
    (
        "oficina departamento secretaría secretaria ministerio agencia gobierno comisión consejo congreso "
        "senado cámara tribunal corte banco universidad instituto partido grupo comité organización "
        "fundación asociación sindicato ejército fuerza fuerzas policía guardia cancillería embajada "
        "consulado reunión cumbre conferencia foro ministerial administración dirección servicio "
        "protección aduanas relaciones exteriores asuntos seguridad implementación estado estados unidos "
        "unidas naciones república reino ciudad casa blanca office department ministry agency government "
        "commission council congress senate house court bank university institute party group committee "
        "organization organisation foundation association union army force forces police guard embassy "
        "bureau administration service affairs security united states nations republic kingdom city white "
        "central inteligencia intelligence nacional national federal"
    ).split()
)
# People a "who did …" question may be answered with, when no name is given.
_ACTORS = (
    "republicanos|demócratas|democratas|analistas|funcionarios|funcionaria|funcionario|autoridades|"
    "legisladores|legisladoras|senadores|diputados|expertos|especialistas|críticos|manifestantes|"
    "residentes|ciudadanos|periodistas|investigadores|militares|soldados|policías|agentes|fiscales|"
    "jueces|vecinos|trabajadores|empresarios|activistas|portavoz|vocero|vocera|secretario|secretaria|"
    "presidente|presidenta|ministro|ministra|canciller|gobernador|gobernadora|alcalde|alcaldesa|"
    "embajador|embajadora|director|directora|jefe|jefa|"
    "republicans|democrats|analysts|officials|official|authorities|lawmakers|legislators|senators|"
    "experts|critics|protesters|residents|citizens|journalists|researchers|soldiers|police|agents|"
    "prosecutors|judges|workers|activists|spokesman|spokeswoman|spokesperson|secretary|president|"
    "minister|governor|mayor|ambassador|director|chief"
)
_PARTICLES = r"(?:de|del|de la|de las|de los|la|las|los|y|of|the|and|van|von|da|do|dos|di|le|al|bin|ibn)"
_CAP = r"(?:[A-ZÁÉÍÓÚÑÜ][\wáéíóúñüÁÉÍÓÚÑÜ'’-]*\.?|[A-ZÁÉÍÓÚÑÜ]{2,}(?:\.[A-Z]{1,3})*\.?)"
_PROPER = re.compile(rf"{_CAP}(?:\s+(?:{_PARTICLES}\s+)?{_CAP})*")
_ACRONYM = re.compile(r"\b[A-ZÁÉÍÓÚÑ]{2,6}\b")
_ROMAN = re.compile(r"^[IVXLCDM]+$")
_SENTENCE_START = re.compile(r"^[\s\"“«'(¿¡—–-]*")
# "Ciudad de México, 15 de enero (SinEmbargo).-": where the report was filed, not where anything happened.
_DATELINE = re.compile(
    rf"^[^.\n]{{0,60}}?,\s*\d{{1,2}}\s+de\s+(?:{_MONTHS_ES})\b[^.\n]{{0,40}}?\)?\s*\.?[-–—]+\s*", re.I
)
_STOPWORD_TEXT = (
    "el la los las un una unos unas lo al del de en y o a e u que con por para sin sobre entre "
    "este esta estos estas ese esa esos esas aquel aquella su sus mi mis tu tus nuestro nuestra "
    "además asimismo así también pero sin embargo no ni ya cuando donde como según tras durante "
    "the a an and or of in on at to for by with from this that these those its his her their our "
    "it he she they we i you but also however as incluso luego entonces finalmente mientras aunque "
    "dicho dicha dichos dichas esto ello hoy ayer allí aquí ahí todo todos toda todas cada otro otra "
    "ambos ambas then still yet meanwhile moreover furthermore there here"
)

# --- spans in a sentence ------------------------------------------------------------------------------

_TIME = (
    r"\b\d{1,2}[:.]\d{2}(?!\d)\s*(?:h\b|hrs?\b|horas\b|a\.\s?m\.|p\.\s?m\.|am\b|pm\b)?|"
    r"\b\d{1,2}\s*(?:a\.\s?m\.|p\.\s?m\.|am\b|pm\b|horas\b|hrs\b|h\b|o['’]clock\b)|"
    r"\b(?:mediodía|medianoche|noon|midnight)\b|"
    rf"\b(?:\d{{1,2}}|{_NUMBER_WORDS})\s+de\s+la\s+(?:mañana|tarde|noche|madrugada)\b"
)
_DAY_OF_MONTH = (
    rf"\b(?:(?:{_WEEKDAYS}),?\s+)?\d{{1,2}}(?:º|°|er)?\s+de\s+(?:{_MONTHS})(?:\s+(?:de|del)\s+\d{{4}})?\b|"
    rf"\b(?:{_MONTHS}|{_MONTH_ABBR})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b(?:,?\s+\d{{4}})?|"
    r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
)
_WEEKDAY = rf"\b(?:(?:el|the)\s+)?(?:(?:pasado|próximo|proximo|este|last|next|this)\s+)?(?:{_WEEKDAYS})\b"
_RELATIVE_DAY = r"\b(?:ayer|anteayer|anoche|hoy|yesterday|today|tonight)\b"
_MONTH_YEAR = rf"\b(?:{_MONTHS})(?:\s+(?:de|del|of)\s+\d{{4}}|\s+\d{{4}})?\b"
_YEAR = r"\b(?:1\d{3}|20\d{2})s?\b(?!\s*(?:%|por\s*ciento))"
_ERA = (
    r"\bsiglo\s+(?:[IVXLC]+|\w+)\b|\b\d{1,2}(?:st|nd|rd|th)\s+century\b|\bcentury\b|"
    r"\bdécadas?\s+de\s+(?:\d{2,4}|los\s+\w+)\b|\b(?:años|the)\s+(?:\d0|\d{4})s?\b|"
    r"\b(?:a\s+)?(?:principios|mediados|finales|fines)\s+de(?:l)?\s+(?:esta|este|la|el|los|\d{4}|[a-z]+)(?:\s+(?:semana|mes|año|siglo|década))?\b|"
    r"\b(?:early|mid|late)[- ](?:\d{4}s?|this\s+\w+|the\s+\w+)\b|"
    r"\b(?:esta|la\s+próxima|la\s+pasada|la\s+semana\s+pasada)\s+semana\b|\b(?:this|last|next)\s+(?:week|month|year)\b|"
    r"\bhace\s+(?:\S+\s+){1,3}?(?:años|siglos|décadas|meses|semanas|días|milenios)\b|"
    r"\b\d[\d \u00a0\u202f.,]*\s*(?:BP|a\.\s?C\.|d\.\s?C\.|a\.C|d\.C|AC|DC|BC|AD|BCE|CE)\b|"
    r"\b(?:years?|centuries|decades)\s+ago\b"
)
_PERCENT = rf"(?:{_NUMBER})\s*(?:%|por\s*ciento\b|percent\b|per\s+cent\b|puntos\s+porcentuales\b|percentage\s+points\b)"
_MONEY = (
    rf"(?:US\$|USD|MXN|EUR|\$|€|£|¥)\s*(?:{_NUMBER})(?:\s+(?:de\s+)?(?:{_CURRENCY_WORDS}))?|"
    rf"(?:{_NUMBER})\s*(?:de\s+)?(?:{_CURRENCY_WORDS})\b|(?:{_NUMBER})\s*(?:USD|MXN|EUR)\b"
)

_RE = {
    name: re.compile(pattern, re.I)
    for name, pattern in {
        "time": _TIME,
        "day_of_month": _DAY_OF_MONTH,
        "weekday": _WEEKDAY,
        "relative_day": _RELATIVE_DAY,
        "month_year": _MONTH_YEAR,
        "year": _YEAR,
        "era": _ERA,
        "percent": _PERCENT,
        "money": _MONEY,
        "number": _NUMBER,
    }.items()
}
_DATE_PARTS = {
    "date": ("day_of_month", "weekday", "relative_day", "month_year", "year", "era", "time"),
    "day": ("day_of_month", "weekday", "relative_day"),
    "time": ("time",),
}
_FOLLOWING_WORD = re.compile(r"\s*(?:de\s+|of\s+)?([^\W\d_]+)")


@dataclass(frozen=True)
class QuestionType:
    kind: str
    detail: str | None = None  # number: the noun counted; place: en|desde|por|hacia; person: identity|agent


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_STOPWORDS = frozenset(fold(w) for w in _STOPWORD_TEXT.split())


def _words(text: str) -> set[str]:
    return {fold(w) for w in re.findall(r"[^\W_]+", text)}


def _spans(name: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _RE[name].finditer(text)]


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


def date_spans(text: str, kind: str = "date") -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for part in _DATE_PARTS[kind]:
        for span in _spans(part, text):
            if part == "year" and _counted(text, span):
                continue  # "1029 libras" is a count, not the year 1029
            if not _overlaps(span, found):
                found.append(span)
    return sorted(found)


def _counted(text: str, span: tuple[int, int]) -> bool:
    """A four-digit number that counts or measures something ("1029 libras", "1500 soldados"), not a year:
    followed by a unit of measure or by a plural noun."""
    after = _FOLLOWING_WORD.match(text, span[1])
    if not after or _RE["era"].match(text, span[0]):
        return False
    word = after.group(1)
    plural = word.islower() and word.endswith("s") and fold(word) not in _STOPWORDS
    return plural or bool(re.fullmatch(_UNITS, word, re.I))


def number_spans(text: str, counted: str | None = None) -> list[tuple[int, int]]:
    """Counts: numbers that are not part of a date, a percentage, an amount of money or a time, with the
    noun they count. `counted`: the noun asked about ("how many pounds"); when it is a unit of measure only
    numbers of that unit count, otherwise numbers of a unit of measure do not."""
    taken = date_spans(text) + _spans("percent", text) + _spans("money", text)
    unit = counted if counted and re.fullmatch(_UNITS, counted, re.I) else None
    found = []
    for start, end in _spans("number", text):
        if _overlaps((start, end), taken):
            continue
        after = _FOLLOWING_WORD.match(text, end)
        noun = after.group(1) if after else ""
        is_unit = bool(noun) and bool(re.fullmatch(_UNITS, noun, re.I))
        if unit and not is_unit:
            continue
        if not unit and is_unit:
            continue
        if after and noun and fold(noun) not in _STOPWORDS:
            end = after.end()  # "1029 libras", "cinco días": the number with what it counts
        found.append((start, end))
    return found


def _same_word(a: str, b: str) -> bool:
    a, b = fold(a), fold(b)
    return a == b or a.rstrip("s") == b.rstrip("s") or a[:4] == b[:4]


def _proper_names(text: str, skip_start: bool = True) -> list[tuple[int, int]]:
    """Capitalised phrases ("Juan Ramón de la Fuente", "Oficina de Asuntos …", "CBP"); a single word
    starting the sentence is not taken for a name."""
    first = _SENTENCE_START.match(text)
    start_at = first.end() if first else 0
    found = []
    for m in _PROPER.finditer(text):
        start, end = m.span()
        words = m.group().split()
        while words and fold(words[0].rstrip(".")) in _STOPWORDS:  # "El Secretario …", "La Oficina …"
            start += len(words[0]) + 1
            words = words[1:]
        while words and re.fullmatch(_PARTICLES, fold(words[-1])):
            words = words[:-1]
        if not words:
            continue
        end = start + len(" ".join(words))
        end = start + len(text[start:end].rstrip(".")) if not _ACRONYM.search(words[-1]) else end
        if skip_start and start == start_at and len(words) == 1 and not _ACRONYM.fullmatch(words[0]):
            continue
        if len(words) == 1 and _ROMAN.match(words[0]):
            continue
        found.append((start, end))
    return found


def _new(text: str, span: tuple[int, int], asked: set[str]) -> bool:
    """The phrase holds a word the question does not (articles and particles aside)."""
    words = _words(text[span[0] : span[1]]) - _STOPWORDS
    return bool(words - asked)


def person_spans(text: str, asked: set[str], identity: bool) -> list[tuple[int, int]]:
    """Who is …: a person's name (two capitalised words, or one after a title: "el portavoz Pigott") that
    is not an institution or a place. Who did …: also organisations, acronyms and people (actor nouns)."""
    found = []
    for span in _proper_names(text, skip_start=identity):
        if not _new(text, span, asked):
            continue
        words = [fold(w.rstrip(".")) for w in text[span[0] : span[1]].split()]
        capitals = [w for w in words if not re.fullmatch(_PARTICLES, w)]
        institution = any(w in _ORG_WORDS for w in capitals)
        if not identity:
            found.append(span)
        elif not institution:
            found.append(span)
    if not identity:
        for m in re.finditer(rf"\b(?:{_ACTORS})\b", text, re.I):
            if fold(m.group()) not in asked and not _overlaps(m.span(), found):
                found.append(m.span())
    return sorted(found)


def _after_title(text: str, start: int) -> bool:
    before = text[max(0, start - 30) : start].rstrip(" ,")
    return bool(re.search(rf"\b(?:{_ACTORS}|sr|sra|dr|dra|mr|mrs|ms|señor|señora)\.?$", before, re.I))


def organisation_spans(text: str, asked: set[str]) -> list[tuple[int, int]]:
    found = [s for s in _proper_names(text) if _new(text, s, asked)]
    for m in _ACRONYM.finditer(text):
        if fold(m.group()) not in asked and not _ROMAN.match(m.group()) and not _overlaps(m.span(), found):
            found.append(m.span())
    return sorted(found)


_PLACE_PREPOSITIONS = {
    "en": r"en|in|at|dentro\s+de|cerca\s+de|near|inside|desde|hacia|hasta|from|to|into|"
    r"a\s+trav[eé]s\s+de|through|across",
    "desde": r"desde|from",
    "de": r"desde|de|del|from",
    "por": r"a\s+trav[eé]s\s+de|por|v[ií]a|through|via|across",
    "hacia": r"hacia|a|al|hasta|to|towards?|into",
}
_AFTER_PREPOSITION = re.compile(
    r"(?i:\b(?:en|a|al|de|del|desde|hacia|hasta|con|entre|por|para|contra|sobre|in|at|to|from|with|"
    r"between|into|toward|towards|against|near|across)\s+(?:(?:el|la|los|las|the)\s+)?)$"
)
_DETERMINER = (
    r"(?:(?:el|la|los|las|un|una|su|sus|este|esta|estos|estas|otros|otras|algunos|algunas|varios|varias|"
    r"muchos|muchas|todo|toda|todos|todas|this|the|a|an|its|their|other|some|several|many)\s+)?"
)


def place_spans(text: str, asked: set[str], relation: str = "en") -> list[tuple[int, int]]:
    """A place introduced the way the question asks for it: "en Washington", "a través de los puertos de
    entrada", "en la frontera suroeste". A dateline is where the report was filed and does not count."""
    dateline = _DATELINE.match(text)
    offset = dateline.end() if dateline else 0
    if relation == "name":
        return [
            span
            for span in _proper_names(text)
            if span[0] >= offset
            and _AFTER_PREPOSITION.search(text, 0, span[0])
            and _new(text, span, asked)
            and not _words(text[span[0] : span[1]]) & (_ORG_WORDS - {"ciudad", "estados", "unidos"})
        ]
    prepositions = _PLACE_PREPOSITIONS.get(relation, _PLACE_PREPOSITIONS["en"])
    pattern = re.compile(  # case matters for names only
        rf"(?i:\b(?:{prepositions})\s+{_DETERMINER})"
        rf"((?:{_CAP}(?:\s+(?:{_PARTICLES}\s+)?{_CAP})*)|"
        rf"(?i:(?:{_PLACE_NOUNS})\b(?:\s+(?:de|del|of)\s+(?:la\s+|los\s+|las\s+|el\s+|the\s+)?)?[\wáéíóúñü.]*)(?:\s+{_CAP})*)"
    )
    found = []
    for m in pattern.finditer(text, offset):
        start, end = m.span(1)
        phrase = m.group(1)
        first = phrase.split()[0] if phrase.split() else ""
        capitalised = first[:1].isupper()
        is_place_noun = bool(re.match(rf"(?:{_PLACE_NOUNS})\b", phrase, re.I))
        if not capitalised and not is_place_noun:
            continue
        if capitalised and not is_place_noun and fold(first) in _ORG_WORDS - {"ciudad", "estados", "unidos"}:
            continue  # "en la Oficina de …" is an institution, seldom the place asked for
        span = (start, start + len(phrase.rstrip(" .,")))
        if _new(text, span, asked):
            found.append(span)
    return found


# How far (in words) a date, number or place may sit from the nearest word of the question: "en la
# frontera" thirty words after "reunión" says where the traffic is, not where the meeting will be.
NEAR_WORDS: dict[str, int] = {}
NEAR_WORDS_DEFAULT = 16
_UNANCHORED = frozenset({"person", "organisation"})  # "X, who …, said": names sit far from the verb
_QUESTION_WORDS = frozenset(
    fold(w)
    for w in (
        "what which when where who whom whose why how many much does did is are was were will would "
        "qué cuál cuáles cuándo cuánto cuánta cuántos cuántas dónde adónde quién quiénes cómo"
    ).split()
)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), fold(m.group())) for m in re.finditer(r"[^\W_]+", text)]


def _prefix(word: str) -> str:
    return word if word.isdigit() else word[:5]


def anchors(text: str, asked: set[str]) -> list[int]:
    """Positions (word indices) of the sentence's words that the question also uses (same first five
    letters: "reunión"/"reunirá"), question words and stopwords aside."""
    keys = {_prefix(w) for w in asked if _content(w) and w not in _QUESTION_WORDS}
    return [i for i, (_, _, w) in enumerate(_tokens(text)) if _content(w) and _prefix(w) in keys]


def _content(word: str) -> bool:
    return word.isdigit() or (len(word) >= 3 and word not in _STOPWORDS)


def distance(text: str, span: tuple[int, int], positions: list[int]) -> int | None:
    """Words between the span and the nearest anchor (0 inside it; None without anchors)."""
    tokens = _tokens(text)
    inside = [i for i, (s, e, _) in enumerate(tokens) if s < span[1] and span[0] < e]
    if not inside or not positions:
        return None
    return min(
        0 if inside[0] <= p <= inside[-1] else min(abs(p - inside[0]), abs(p - inside[-1])) for p in positions
    )


def answer_spans(
    qtype: QuestionType | None, sentence: str, asked: set[str] = frozenset(), near: bool = True
) -> list[tuple[int, int]]:
    """Where the sentence states the kind of fact asked for, near the words the question uses (`near`);
    `asked`: the question's words, folded (see `asked_words`)."""
    spans = _typed_spans(qtype, sentence, asked)
    if not spans or not near or not asked or qtype is None or qtype.kind in _UNANCHORED:
        return spans
    positions = anchors(sentence, asked)
    if not positions:
        return spans  # the sentence shares no word with the question: nearness cannot be judged
    limit = NEAR_WORDS.get(qtype.kind, NEAR_WORDS_DEFAULT)
    kept = []
    for span in spans:
        d = distance(sentence, span, positions)
        if d is not None and d <= limit:
            kept.append(span)
    return kept


def _typed_spans(qtype: QuestionType | None, sentence: str, asked: set[str]) -> list[tuple[int, int]]:
    if qtype is None:
        return []
    kind = qtype.kind
    if kind in _DATE_PARTS:
        return date_spans(sentence, kind)
    if kind == "percent":
        return _spans("percent", sentence)
    if kind == "money":
        return _spans("money", sentence)
    if kind == "number":
        return number_spans(sentence, qtype.detail)
    if kind == "quantity":  # how much: a share, an amount, a count or a measure
        spans = _spans("percent", sentence) + _spans("money", sentence)
        counts = number_spans(sentence) + number_spans(sentence, "metros")
        return sorted(spans + [s for s in counts if not _overlaps(s, spans)])
    if kind == "place":
        return place_spans(sentence, asked, qtype.detail or "en")
    if kind == "person":
        return person_spans(sentence, asked, qtype.detail == "identity")
    if kind == "organisation":
        return organisation_spans(sentence, asked)
    return []


def matches(qtype: QuestionType | str | None, sentence: str, question: str = "") -> bool:
    """Whether the sentence states the kind of fact the question asks for (True when it asks none)."""
    if isinstance(qtype, str):
        qtype = QuestionType(qtype)
    if qtype is None:
        return True
    return bool(answer_spans(qtype, sentence, _words(question)))


# --- the question ---------------------------------------------------------------------------------

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
            words |= _words(text)
    return words


def is_heading(sentence: str) -> bool:
    """A line without final punctuation: a headline or subheading, which restates rather than answers."""
    return not re.search(r"[.!?…:;\"”»')\]]$", sentence)
