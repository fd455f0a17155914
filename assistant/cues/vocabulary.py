"""The words and patterns of answer types, in English and Spanish: months, weekdays, numbers,
currencies, units, place nouns, institution words, people, and the regular expressions built from them."""

from __future__ import annotations

import re

from ..text.folding import fold

MONTHS_ES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre"
)
MONTHS_EN = "january|february|march|april|may|june|july|august|september|october|november|december"
MONTHS = f"{MONTHS_ES}|{MONTHS_EN}"
MONTH_ABBR = r"(?:ene|feb|mar|abr|jun|jul|ago|sep|sept|oct|nov|dic|jan|apr|aug|dec)\.?"
WEEKDAYS = (
    "lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
NUMBER_WORDS = (
    "dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|dieciséis|"
    "diecisiete|dieciocho|diecinueve|veinte|veintiuno|veintidós|veintitrés|veinticuatro|veinticinco|"
    "treinta|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa|cien|ciento|cientos|doscientos|"
    "trescientos|quinientos|mil|miles|millón|millones|billón|billones|docena|decenas|centenares|"
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fifteen|twenty|thirty|"
    "forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|"
    "billion|billions|dozen|dozens|ninguno|ninguna|ningún|cero|none|zero|no one|nadie"
)
NUMERAL = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])|\d[\d.,]*\d|\d)(?:\s*(?:millones|millón|million|billones|billion|thousand|mil)\b)?"
NUMBER = rf"(?:{NUMERAL}|\b(?:{NUMBER_WORDS})\b(?:\s+(?:millones|million|thousand|mil)\b)?)"
CURRENCY_WORDS = (
    "dólares|dólar|dolares|pesos|euros|euro|yenes|yuanes|libras esterlinas|reales|bolívares|soles|"
    "dollars|dollar|euros|yen|yuan|pounds sterling|rupees|rublos|rubles"
)
# Units of measure: a number followed by one measures, it does not count ("1029 libras" of fentanyl is
# no answer to "how many migrants").
UNITS = (
    "(?:kilo|mega|giga|tera|mili|micro|centi|nano)?(?:toneladas|tonelada|gramos|gramo|metros|metro|litros|litro|"
    "vatios|watts|tons|tonnes|grams|meters|metres|liters|litres)|"
    "libras|libra|kilos|kilo|kilogramos|kilogramo|kg|toneladas|tonelada|gramos|gramo|g|mg|litros|litro|"
    "galones|galón|barriles|barril|metros|metro|m|km|kilómetros|kilómetro|millas|milla|pies|pie|"
    "hectáreas|hectárea|acres|acre|grados|grado|pulgadas|pulgada|voltios|vatios|megavatios|"
    "pounds|pound|lb|lbs|kilograms|kilogram|tons|tonnes|ton|grams|gram|liters|litres|liter|litre|"
    "gallons|gallon|barrels|barrel|meters|metres|meter|metre|kilometers|kilometres|miles|mile|feet|foot|"
    "hectares|hectare|degrees|degree|inches|inch|watts|megawatts"
)
PLACE_NOUNS = (
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
ORG_WORDS = frozenset(
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
ACTORS = (
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
PARTICLES = r"(?:de|del|de la|de las|de los|la|las|los|y|of|the|and|van|von|da|do|dos|di|le|al|bin|ibn)"
CAP = r"(?:[A-ZÁÉÍÓÚÑÜ][\wáéíóúñüÁÉÍÓÚÑÜ'’-]*\.?|[A-ZÁÉÍÓÚÑÜ]{2,}(?:\.[A-Z]{1,3})*\.?)"
PROPER = re.compile(rf"{CAP}(?:\s+(?:{PARTICLES}\s+)?{CAP})*")
ACRONYM = re.compile(r"\b[A-ZÁÉÍÓÚÑ]{2,6}\b")
ROMAN = re.compile(r"^[IVXLCDM]+$")
SENTENCE_START = re.compile(r"^[\s\"“«'(¿¡—–-]*")
# "Ciudad de México, 15 de enero (SinEmbargo).-": where the report was filed, not where anything happened.
DATELINE = re.compile(
    rf"^[^.\n]{{0,60}}?,\s*\d{{1,2}}\s+de\s+(?:{MONTHS_ES})\b[^.\n]{{0,40}}?\)?\s*\.?[-–—]+\s*", re.I
)
STOPWORD_TEXT = (
    "el la los las un una unos unas lo al del de en y o a e u que con por para sin sobre entre "
    "este esta estos estas ese esa esos esas aquel aquella su sus mi mis tu tus nuestro nuestra "
    "además asimismo así también pero sin embargo no ni ya cuando donde como según tras durante "
    "the a an and or of in on at to for by with from this that these those its his her their our "
    "it he she they we i you but also however as incluso luego entonces finalmente mientras aunque "
    "dicho dicha dichos dichas esto ello hoy ayer allí aquí ahí todo todos toda todas cada otro otra "
    "ambos ambas then still yet meanwhile moreover furthermore there here"
)


TIME = (
    r"\b\d{1,2}[:.]\d{2}(?!\d)\s*(?:h\b|hrs?\b|horas\b|a\.\s?m\.|p\.\s?m\.|am\b|pm\b)?|"
    r"\b\d{1,2}\s*(?:a\.\s?m\.|p\.\s?m\.|am\b|pm\b|horas\b|hrs\b|h\b|o['’]clock\b)|"
    r"\b(?:mediodía|medianoche|noon|midnight)\b|"
    rf"\b(?:\d{{1,2}}|{NUMBER_WORDS})\s+de\s+la\s+(?:mañana|tarde|noche|madrugada)\b"
)
DAY_OF_MONTH = (
    rf"\b(?:(?:{WEEKDAYS}),?\s+)?\d{{1,2}}(?:º|°|er)?\s+de\s+(?:{MONTHS})(?:\s+(?:de|del)\s+\d{{4}})?\b|"
    rf"\b(?:{MONTHS}|{MONTH_ABBR})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})\b(?:,?\s+\d{{4}})?|"
    r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
)
WEEKDAY = rf"\b(?:(?:el|the)\s+)?(?:(?:pasado|próximo|proximo|este|last|next|this)\s+)?(?:{WEEKDAYS})\b"
RELATIVE_DAY = r"\b(?:ayer|anteayer|anoche|hoy|yesterday|today|tonight)\b"
MONTH_YEAR = rf"\b(?:{MONTHS})(?:\s+(?:de|del|of)\s+\d{{4}}|\s+\d{{4}})?\b"
YEAR = r"\b(?:1\d{3}|20\d{2})s?\b(?!\s*(?:%|por\s*ciento))"
ERA = (
    r"\bsiglo\s+(?:[IVXLC]+|\w+)\b|\b\d{1,2}(?:st|nd|rd|th)\s+century\b|\bcentury\b|"
    r"\bdécadas?\s+de\s+(?:\d{2,4}|los\s+\w+)\b|\b(?:años|the)\s+(?:\d0|\d{4})s?\b|"
    r"\b(?:a\s+)?(?:principios|mediados|finales|fines)\s+de(?:l)?\s+(?:esta|este|la|el|los|\d{4}|[a-z]+)(?:\s+(?:semana|mes|año|siglo|década))?\b|"
    r"\b(?:early|mid|late)[- ](?:\d{4}s?|this\s+\w+|the\s+\w+)\b|"
    r"\b(?:esta|la\s+próxima|la\s+pasada|la\s+semana\s+pasada)\s+semana\b|\b(?:this|last|next)\s+(?:week|month|year)\b|"
    r"\bhace\s+(?:\S+\s+){1,3}?(?:años|siglos|décadas|meses|semanas|días|milenios)\b|"
    r"\b\d[\d \u00a0\u202f.,]*\s*(?:BP|a\.\s?C\.|d\.\s?C\.|a\.C|d\.C|AC|DC|BC|AD|BCE|CE)\b|"
    r"\b(?:years?|centuries|decades)\s+ago\b"
)
PERCENT = rf"(?:{NUMBER})\s*(?:%|por\s*ciento\b|percent\b|per\s+cent\b|puntos\s+porcentuales\b|percentage\s+points\b)"
MONEY = (
    rf"(?:US\$|USD|MXN|EUR|\$|€|£|¥)\s*(?:{NUMBER})(?:\s+(?:de\s+)?(?:{CURRENCY_WORDS}))?|"
    rf"(?:{NUMBER})\s*(?:de\s+)?(?:{CURRENCY_WORDS})\b|(?:{NUMBER})\s*(?:USD|MXN|EUR)\b"
)

PATTERNS = {
    name: re.compile(pattern, re.I)
    for name, pattern in {
        "time": TIME,
        "day_of_month": DAY_OF_MONTH,
        "weekday": WEEKDAY,
        "relative_day": RELATIVE_DAY,
        "month_year": MONTH_YEAR,
        "year": YEAR,
        "era": ERA,
        "percent": PERCENT,
        "money": MONEY,
        "number": NUMBER,
    }.items()
}
DATE_PARTS = {
    "date": ("day_of_month", "weekday", "relative_day", "month_year", "year", "era", "time"),
    "day": ("day_of_month", "weekday", "relative_day"),
    "time": ("time",),
}
FOLLOWING_WORD = re.compile(r"\s*(?:de\s+|of\s+)?([^\W\d_]+)")
STOPWORDS = frozenset(fold(w) for w in STOPWORD_TEXT.split())
