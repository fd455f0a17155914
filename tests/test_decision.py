"""The answer/abstain decision (answering/abstention.py, answering/weights.py, abstention.json) and what an answer carries besides quotes:
the short answer, other articles stating the same fact (also_in), an English rendering."""

from __future__ import annotations

import json
import logging

import pytest

from assistant import Assistant
from assistant.answering.abstention import decide
from assistant.answering.weights import FEATURES, WEIGHTS, Model, load, stale
from assistant.retrieval.retriever import HAND_SET
from assistant.settings import Settings
from assistant.text import translate
from tests.conftest import MODELS_DIR

pytestmark = pytest.mark.slow

NONSENSE = ["?", "null", "../../../../etc/passwd", "%s%s%s%n {0}", "¿?", "1234"]
TINY = "date 2026-02-02 La Comisión de Aguas se reunirá el 14 de marzo en Ciudad Juárez.\n\nRevisará el reparto del agua del río Bravo.\n"


def test_weights_ship_with_their_provenance() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    for lang in ("es", "en"):
        model = data["models"]["answer"][lang]
        assert set(model["coefficients"]) == set(FEATURES)
        assert 0 < model["cutoff"] < 1
    provenance = data["provenance"]
    assert {"fitted", "data", "cv", "evaluation", "lead"} <= set(provenance)
    # the negatives include on-topic ones: questions with a swapped name or number
    assert any("swapped" in key for key in provenance["data"]["rows"])
    assert load().model("fr") is load().answer["es"]  # other languages: the Spanish weights


def test_weights_record_the_hand_set_retrieval_weights_and_warn_when_they_change(tmp_path, caplog) -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["provenance"]["hand_set"] == HAND_SET and stale(load()) == []
    data["provenance"]["hand_set"]["RRF_K"] = HAND_SET["RRF_K"] + 1
    moved = tmp_path / "abstention.json"
    moved.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="assistant.answering.weights"):
        load(moved)
    assert f"RRF_K fitted={HAND_SET['RRF_K'] + 1} now={HAND_SET['RRF_K']}" in caplog.text
    assert "refit" in caplog.text


def test_the_decision_says_why_it_abstains(assistant, tiny) -> None:
    nonsense = assistant.retriever.search("?")
    assert not decide(nonsense).answer and "no word" in decide(nonsense).reason
    verdict = decide(tiny.retriever.search("¿Cuándo se reunirá la Comisión de Aguas?"))
    assert verdict.answer and verdict.lead is not None and "14 de marzo" in verdict.lead.text
    assert 0 <= verdict.probability <= 1
    answer = assistant.ask("?")
    assert answer.abstained and answer.reason == decide(nonsense).reason


def test_model_is_a_logistic_regression_on_raw_features() -> None:
    model = Model({"coverage": 2.0}, -1.0, 0.5)
    assert model.probability({"coverage": 0.5}) == pytest.approx(0.5)
    assert model.accepts({"coverage": 0.6}) and not model.accepts({"coverage": 0.4})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    corpus = tmp_path_factory.mktemp("tiny")
    (corpus / "aguas.txt").write_text(TINY, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"), models_dir=MODELS_DIR)
    assistant = Assistant(settings)
    assistant.index()
    return assistant


@pytest.mark.parametrize("question", NONSENSE)
def test_nonsense_gets_no_citations_in_any_corpus_however_small(assistant, tiny, question: str) -> None:
    """Hardening item 9: a question without content words, or whose words no article contains, is refused
    in every corpus: the five sample articles, and a corpus of one short article (where every passage
    ranks first in every ranking)."""
    for a in (assistant, tiny):
        answer = a.ask(question)
        assert answer.abstained and answer.citations == [] and answer.short_answer is None, (
            question,
            answer.answer,
        )


def test_the_one_article_still_answers_what_it_says(tiny) -> None:
    answer = tiny.ask("¿Cuándo se reunirá la Comisión de Aguas?")
    assert not answer.abstained and "14 de marzo" in answer.answer
    assert answer.short_answer is not None and answer.short_answer.text == "14 de marzo"


def test_short_answer_and_also_in_are_exact_spans(assistant) -> None:
    answer = assistant.ask("¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?")
    assert not answer.abstained
    short = answer.short_answer
    assert short is not None and short.text == "23 de enero" and short.kind == "date"
    assert assistant.text(short.source)[short.start : short.end] == short.text
    cited = next(c for c in answer.citations if c.n == short.n)
    assert cited.source == short.source and cited.start <= short.start and short.end <= cited.end
    others = [a for c in answer.citations for a in c.also_in]
    assert others, "three articles give the date: the others are listed, not dropped"
    for c in answer.citations:
        assert c.source not in {a.source for a in c.also_in}
        for a in c.also_in:
            assert assistant.text(a.source)[a.start : a.end] == a.quote
            assert "23 de enero" in a.quote  # the same fact: the same date
    quoted = {(c.source, c.start) for c in answer.citations}
    assert not quoted & {(a.source, a.start) for a in others}  # never both quoted and listed


def test_every_quote_of_a_typed_answer_states_the_kind_asked(assistant) -> None:
    for question in (
        "¿Qué porcentaje de los vehículos revisa la CBP?",
        "Where will the security ministerial take place?",
    ):
        answer = assistant.ask(question)
        assert not answer.abstained and 1 <= len(answer.citations) <= 3
        assert answer.short_answer is not None


@pytest.mark.skipif(not translate.available("spa-eng"), reason="apertium spa-eng not installed")
def test_an_english_question_gets_a_labelled_english_rendering(assistant) -> None:
    answer = assistant.ask("When is the next Security Implementation Group meeting?")
    assert "January" in answer.translations["answer_en"]
    assert answer.translations["short_answer_en"] == "23 January"
    assert all(c.quote in answer.answer for c in answer.citations)  # the quotes themselves stay verbatim
    spanish = assistant.ask("¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?")
    assert "answer_en" not in spanish.translations


def test_abstentions_carry_nothing(assistant) -> None:
    answer = assistant.ask("What is the SIG's budget?")
    assert answer.abstained and answer.citations == [] and answer.short_answer is None
    assert "answer_en" not in answer.translations
