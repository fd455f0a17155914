"""The reader and what the answer carries because of it: the lead quote, short answers that fit the
question, answers derived from two dated facts, questions about the articles, English that keeps names.
Fixture corpora of our own, written for these tests (not the sample articles)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.answering import dates, reader
from assistant.answering.derived import parse
from assistant.evaluation import Question, score
from assistant.settings import Settings
from assistant.text import translate
from assistant.text.language import detect
from assistant.text.names import protect
from tests.conftest import MODELS_DIR

PEOPLE = (
    "date 2026-03-10 Chile y Perú firman un acuerdo de pesca.\n\n"
    "Lima, 10 de marzo (Diario Andino).- El canciller peruano Luis Herrera se reunió el pasado lunes con la "
    "Cancillería de Chile y con la ministra chilena Ana Gómez para cerrar el acuerdo de pesca.\n\n"
    "Ambos gobiernos firmaron el acuerdo en Lima, donde la próxima reunión será el 20 de marzo.\n\n"
    "El acuerdo fija una cuota de 4.500 toneladas de anchoveta al año.\n"
)
SECOND = (
    "date 2026-03-21 La comisión de pesca se reúne en Santiago.\n\n"
    "La segunda reunión de la comisión de pesca se celebró ayer en Santiago, con las delegaciones de ambos "
    "países.\n\n"
    "La comisión revisó las cuotas de anchoveta y la vigilancia de la frontera marítima.\n"
)


@pytest.fixture(scope="module")
def fishing(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    corpus = tmp_path_factory.mktemp("fishing")
    (corpus / "acuerdo.txt").write_text(PEOPLE, encoding="utf-8")
    (corpus / "comision.txt").write_text(SECOND, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"), models_dir=MODELS_DIR)
    assistant = Assistant(settings)
    assistant.index()
    return assistant


def _checked(assistant: Assistant, question: str, answer) -> None:
    """Every citation, also_in entry and short-answer span holds against the canonical text."""
    q = Question(
        id="t", lang=answer.language, question=question, answer_patterns=[".+"], sources=[], answerable=True
    )
    record = score(q, answer, assistant.settings.corpus_dir)
    assert all(c.valid for c in record.citations), record
    assert all(s.valid for s in record.spans), record.spans


# --- the reader ---------------------------------------------------------------------------------------


def test_the_reader_ships_with_its_provenance_and_scores_every_candidate(fishing: Assistant) -> None:
    loaded = reader.load()
    assert loaded is not None and loaded.provenance["features"] == list(reader.FEATURES)
    assert {"fitted", "data", "cv", "evaluation"} <= set(loaded.provenance)
    retrieval = fishing.retriever.search("¿Cuántas toneladas de anchoveta fija el acuerdo?")
    rows = reader.features(retrieval)
    assert rows.shape == (len(retrieval.sentences), len(reader.FEATURES)) and np.isfinite(rows).all()
    ranked = loaded.ranked(retrieval)
    assert {id(s) for s, _ in ranked} == {id(s) for s in retrieval.sentences}
    assert [x for _, x in ranked] == sorted((x for _, x in ranked), reverse=True)
    answer = fishing.ask("¿Cuántas toneladas de anchoveta fija el acuerdo?")
    assert "4.500 toneladas" in answer.citations[0].quote
    assert answer.short_answer is not None and answer.short_answer.text == "4.500 toneladas"


# --- short answers that fit the question ----------------------------------------------------------------


def test_who_gets_a_person_not_an_institution(fishing: Assistant) -> None:
    answer = fishing.ask("¿Con quién se reunió Luis Herrera?")
    assert not answer.abstained and answer.short_answer is not None
    assert answer.short_answer.kind == "person" and answer.short_answer.text == "Ana Gómez"
    _checked(fishing, "¿Con quién se reunió Luis Herrera?", answer)


def test_where_gets_a_place_and_a_relative_date_is_resolved(fishing: Assistant) -> None:
    where = fishing.ask("¿Dónde firmaron el acuerdo?")
    assert (
        where.short_answer is not None
        and where.short_answer.kind == "place"
        and where.short_answer.text == "Lima"
    )
    when = fishing.ask("¿Qué día se reunió el canciller peruano con la ministra chilena?")
    short = when.short_answer
    assert short is not None and short.text == "el pasado lunes" and short.resolved == "2026-03-09"


# --- answers derived from two cited facts ------------------------------------------------------------------


def test_days_between_two_dated_events_are_computed_and_cited(fishing: Assistant) -> None:
    question = "¿Cuántos días pasaron entre la reunión del canciller con la ministra y la segunda reunión de la comisión de pesca?"
    answer = fishing.ask(question)
    short = answer.short_answer
    assert short is not None and short.kind == "derived", answer
    assert (
        short.text == "11 días" and short.derivation == "20 de marzo de 2026 − 9 de marzo de 2026 = 11 días"
    )
    assert [f.resolved for f in short.rests_on] == ["2026-03-09", "2026-03-20"]
    assert {f.n for f in short.rests_on} == {c.n for c in answer.citations} == {1, 2}
    _checked(fishing, question, answer)


def test_which_came_first() -> None:
    assert parse("Which came first, the fishing deal or the second meeting?") == (
        "first",
        "fishing deal",
        "the second meeting",
    )
    assert parse("¿Cuántos días pasaron entre la llamada de A y B y la llamada de C?") == (
        "between",
        "llamada de A y B",
        "la llamada de C",
    )
    assert parse("¿Cuándo fue la reunión?") is None


@pytest.mark.parametrize(
    ("phrase", "article", "day"),
    [
        ("el próximo jueves", "2026-01-15", "2026-01-22"),
        ("este jueves", "2026-01-15", "2026-01-15"),
        ("el pasado domingo 11 de enero", "2026-01-15", "2026-01-11"),
        ("el lunes", "2026-01-16", "2026-01-12"),
        ("ayer", "2026-03-21", "2026-03-20"),
        ("5 de enero", "2025-12-30", "2026-01-05"),  # no year: the one nearest the article's date
        ("January 16, 2026", None, "2026-01-16"),
        ("el jueves", None, None),  # relative, and no article date: unknown
    ],
)
def test_dates_are_resolved_against_the_article(phrase: str, article: str | None, day: str | None) -> None:
    found = dates.resolve(phrase, article)
    assert (found.isoformat() if found else None) == day
    assert dates.spoken(dt.date(2026, 3, 9), "es") == "9 de marzo de 2026"


# --- questions about the articles ---------------------------------------------------------------------------


def test_the_outlet_and_the_date_of_an_article_come_from_its_header(fishing: Assistant) -> None:
    question = "Which outlet published the article about the fishing agreement?"
    answer = fishing.ask(question)
    assert not answer.abstained and "Diario Andino" in answer.answer
    assert answer.citations[0].quote == "Diario Andino"
    _checked(fishing, question, answer)
    dated = fishing.ask("¿Cuándo se publicó la nota sobre el acuerdo de pesca?")
    assert "10 March 2026" in dated.answer or "2026-03-10" in dated.citations[0].quote


# --- English that keeps names ---------------------------------------------------------------------------


def test_names_numbers_and_glossary_terms_are_protected_and_put_back() -> None:
    masked, restore = protect(
        "El secretario Marco Rubio habló con la Cancillería sobre 1.029 libras de fentanilo.", "spa-eng"
    )
    assert (
        "Marco" not in masked
        and "Rubio" not in masked
        and "1.029" not in masked
        and "fentanilo" not in masked
    )
    back = restore(masked)
    assert (
        "Marco Rubio" in back
        and "1.029" in back
        and "fentanyl" in back
        and "Mexico's Foreign Ministry" in back
    )
    masked, restore = protect(
        "When did Trump and Sheinbaum speak about the cartels?",
        "eng-spa",
        keep=lambda w: w in ("Trump", "Sheinbaum"),
    )
    assert "Trump" not in masked and restore(masked).count("Trump") == 1 and "cárteles" in restore(masked)


@pytest.mark.skipif(not translate.available("spa-eng"), reason="Apertium spa-eng is not installed")
def test_apertium_renderings_keep_names() -> None:
    english = translate.Translator("spa-eng")(
        "El secretario de Estado, Marco Rubio, exigió resultados contra los cárteles y el fentanilo."
    )
    assert english is not None
    assert (
        "Marco Rubio" in english and "cartels" in english and "fentanyl" in english and "Blond" not in english
    )


def test_an_english_question_with_spanish_names_is_english_and_gets_a_rendering(fishing: Assistant) -> None:
    question = "Who did Luis Herrera meet with on Monday?"
    assert detect("Who did Juan Ramón de la Fuente speak with?") == "en" and detect(question) == "en"
    answer = fishing.ask(question)
    assert answer.language == "en"
    assert answer.abstained or "answer_en" in answer.translations or answer.warnings


def test_without_apertium_an_english_answer_says_why_it_has_no_rendering(
    fishing: Assistant, monkeypatch
) -> None:
    monkeypatch.setattr(fishing, "answer_translator", None)
    answer = fishing.ask("How many tonnes of anchoveta does the agreement set?")
    assert answer.abstained or (
        "answer_en" not in answer.translations and any("English rendering" in w for w in answer.warnings)
    )


def test_derived_answers_need_both_facts(tmp_path: Path, fishing: Assistant) -> None:
    answer = fishing.ask(
        "¿Cuántos días pasaron entre la reunión del canciller con la ministra y la boda del rey de Noruega?"
    )
    assert answer.short_answer is None or answer.short_answer.kind != "derived"
