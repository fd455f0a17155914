"""Which language a question is in (English or Spanish), with py3langid restricted to the two."""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ("en", "es")


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(LANGUAGES))
    return identifier


# Capitalised words after the first: names, written the same in both languages ("Juan Ramón de la Fuente"
# in an English question), so they are no evidence of the language.
_NAMES = re.compile(r"(?<=\S)(\s+)[A-ZÁÉÍÓÚÑ][\wáéíóúñü'’.-]*")


def detect(text: str) -> str:
    """'en' or 'es'. Spanish punctuation (¿ ¡) settles it; so do accented letters outside names."""
    if "¿" in text or "¡" in text:
        return "es"
    bare = _NAMES.sub(r"\1", text)
    if any(c in bare for c in "ñÑáéíóúÁÉÍÓÚ"):
        return "es"
    return _identifier().classify(bare if bare.strip() else text)[0]
