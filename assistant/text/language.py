"""Which language a question is in (English or Spanish), with py3langid restricted to the two."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ("en", "es")


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str) -> str:
    """'en' or 'es'. Spanish punctuation (¿ ¡) and accented letters settle short questions."""
    if any(c in text for c in "¿¡ñÑáéíóúÁÉÍÓÚ"):
        return "es"
    return _identifier().classify(text)[0]
