"""The Apertium pipeline stays in step with its input: each text gets its own translation."""

import pytest

from assistant.text import translate

pytestmark = pytest.mark.skipif(not translate.available(), reason="apertium eng-spa not installed")

QUESTION = "Whose communities does the United States say it wants to protect?"


@pytest.mark.parametrize(
    "odd", ["a\x00", "x \x00 y", "\x00\x01\x1b[31m", "\x00", "line\nbreak", "[x]^y$ \\ @"]
)
def test_odd_text_does_not_shift_later_translations(odd: str) -> None:
    translator = translate.Translator()
    try:
        expected = translator(QUESTION)
        assert expected and "Estados Unidos" in expected
        translator(odd)
        assert translator(QUESTION) == expected
        assert translator("Where will the meeting be?") == translator("Where will the meeting be?")
    finally:
        translator.close()
