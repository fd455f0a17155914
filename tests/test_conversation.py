"""Follow-up questions: completed from the conversation for retrieval, with and without an LLM."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from test_llm import assert_contract, citing, use

from assistant import Assistant, Settings
from assistant.answer import Answer
from assistant.answering.conversation import carry_terms, is_follow_up, standalone_question, window
from assistant.answering.extractive import ExtractiveAnswerer

WHEN_MINISTERIAL = "¿Cuándo será la Reunión Ministerial de Seguridad?"


@pytest.fixture(scope="module")
def chat(indexed_settings: Settings) -> Assistant:
    """An assistant of its own (the session one must not change); tests set its answerer."""
    return Assistant(indexed_settings)


def turn(question: str, answer: str = "…", **fields: object) -> Answer:
    return Answer(question=question, language="es", answer=answer, abstained=False, **fields)


# --- recognising and completing follow-ups -------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("¿Y dónde?", True),
        ("Who said that?", True),
        ("¿Quién lo dijo?", True),
        ("¿Y quién la convocó?", True),
        ("What did she say about tariffs?", True),
        ("¿y dónde será la reunión ministerial?", False),  # names its topic: stands on its own
        (WHEN_MINISTERIAL, False),
        ("What does Trump want in exchange for lowering tariffs?", False),
        ("¿Qué presidentes hablaron a principios de esa semana?", False),
    ],
)
def test_follow_ups_are_recognised(question: str, follow_up: bool) -> None:
    assert is_follow_up(question) is follow_up


def test_the_previous_questions_topic_is_carried_into_a_follow_up() -> None:
    assert carry_terms("¿Y dónde?", turn(WHEN_MINISTERIAL)) == "¿Y dónde? Reunión Ministerial Seguridad"
    # a Spanish follow-up to an English question carries the Spanish translation's words
    english = turn(
        "When is the Ministerial Meeting?", translations={"question_es": "¿Cuándo es la Reunión Ministerial?"}
    )
    assert carry_terms("¿Y dónde?", english) == "¿Y dónde? Reunión Ministerial"
    # chains of follow-ups build on the previous completed question
    previous = turn("¿Y dónde?", standalone_question="¿Y dónde? Reunión Ministerial Seguridad")
    assert carry_terms("¿Quién la convocó?", previous) == "¿Quién la convocó? Reunión Ministerial Seguridad"


def test_the_latest_turns_are_kept_not_the_first() -> None:
    history = [turn(f"q{i}") for i in range(5)]
    assert [t.question for t in window(history, 2)] == ["q3", "q4"]
    assert window(history, 0) == [] and window(None, 3) == []


def test_a_condensed_question_is_preferred_and_the_heuristic_is_the_fallback() -> None:
    history = [turn(WHEN_MINISTERIAL)]

    def condense(question: str, turns: Sequence[Answer]) -> str | None:
        return "¿Dónde será la Reunión Ministerial de Seguridad?"

    assert (
        standalone_question("¿Y dónde?", history, condense)
        == "¿Dónde será la Reunión Ministerial de Seguridad?"
    )
    assert (
        standalone_question("¿Y dónde?", history, lambda q, h: None)
        == "¿Y dónde? Reunión Ministerial Seguridad"
    )
    assert standalone_question("¿Y dónde?", [], condense) is None
    assert standalone_question(WHEN_MINISTERIAL, history, condense) is None  # not a follow-up: no LLM call


# --- two-turn conversations ----------------------------------------------------------------------


def test_a_conversation_without_an_llm(chat: Assistant) -> None:
    chat.answerer = ExtractiveAnswerer()
    first = chat.ask(WHEN_MINISTERIAL)
    assert "febrero" in first.answer
    second = chat.ask("¿Y dónde?", history=[first])
    assert second.question == "¿Y dónde?" and second.language == "es"
    assert second.standalone_question == "¿Y dónde? Reunión Ministerial Seguridad"
    assert "Washington" in second.citations[0].quote
    assert all("ministerial" in c.quote.lower() for c in second.citations)
    assert_contract(second)
    assert chat.ask("¿Y dónde?").standalone_question is None  # no conversation, nothing to complete


def test_a_follow_up_asking_for_more_without_an_llm(chat: Assistant) -> None:
    chat.answerer = ExtractiveAnswerer()
    first = chat.ask(WHEN_MINISTERIAL)
    second = chat.ask("¿Y con qué motivo?", history=[first])
    assert second.standalone_question == "¿Y con qué motivo? Reunión Ministerial Seguridad"
    assert any("Washington" in c.quote and "aniversario" in c.quote for c in second.citations)
    assert_contract(second)


def test_a_conversation_with_an_llm(chat: Assistant) -> None:
    model = use(
        chat,
        citing("La Reunión Ministerial de Seguridad será en febrero [{n}].", n="en febrero"),
        "Pregunta independiente: ¿Dónde será la Reunión Ministerial de Seguridad?",
        citing(
            'Se celebrará en Washington, D.C. [{n}].\nQUOTES:\n[{n}] "Washington, D.C., en febrero"',
            n="Washington, D.C., en febrero",
        ),
    )
    first = chat.ask(WHEN_MINISTERIAL)
    events = list(chat.stream("¿Y dónde?", history=[first]))
    second = events[-1]
    assert isinstance(second, Answer) and second.answerer == "scripted"
    assert second.question == "¿Y dónde?"
    assert second.standalone_question == "¿Dónde será la Reunión Ministerial de Seguridad?"
    condense_prompt, answer_prompt = model.prompts[1], model.prompts[2]
    assert WHEN_MINISTERIAL in condense_prompt and "febrero" in condense_prompt  # the earlier turn
    assert "Question: ¿Dónde será la Reunión Ministerial de Seguridad?" in answer_prompt
    assert second.answer == "Se celebrará en Washington, D.C. [1]."
    assert "Washington, D.C., en febrero" in second.citations[0].quote
    assert_contract(second)


def test_a_follow_up_that_names_its_topic_is_not_condensed(chat: Assistant) -> None:
    model = use(
        chat,
        citing("It is scheduled for January 23 [{n}].", n="programada para el 23 de enero"),
        citing("La reunión ministerial será en Washington [{n}].", n="Washington"),
    )
    first = chat.ask("When is the next Security Implementation Group meeting?")
    second = chat.ask("¿y dónde será la reunión ministerial?", history=[first])
    assert len(model.prompts) == 2 and second.standalone_question is None
    assert "Washington" in second.citations[0].quote or "Washington" in second.answer
    assert_contract(second)


def test_only_the_latest_turns_reach_the_condense_prompt(indexed_settings: Settings) -> None:
    assistant = Assistant(indexed_settings.model_copy(update={"history_turns": 2}))
    model = use(assistant, "¿Dónde será la Reunión Ministerial de Seguridad?", "No lo sé.")
    assistant.ask("¿Y dónde?", history=[turn(f"Pregunta número {i}") for i in range(4)])
    assert "número 3" in model.prompts[0] and "número 2" in model.prompts[0]
    assert "número 1" not in model.prompts[0]


def test_when_condensing_fails_the_heuristic_completes_the_question(chat: Assistant) -> None:
    use(chat, "", citing("Será en Washington [{n}].", n="Washington"))
    result = chat.ask("¿Y dónde?", history=[turn(WHEN_MINISTERIAL)])
    assert result.standalone_question == "¿Y dónde? Reunión Ministerial Seguridad"
    assert result.citations and "Washington" in result.citations[0].quote


def test_the_extractive_answer_streams_in_one_piece(chat: Assistant) -> None:
    chat.answerer = ExtractiveAnswerer()
    events = list(chat.stream(WHEN_MINISTERIAL))
    assert len(events) == 2 and isinstance(events[1], Answer) and events[0] == events[1].answer


@pytest.mark.parametrize(
    "rewrite",
    [
        # what SmolLM2-135M wrote for "¿Y dónde?": an invented statement, not a question
        "El titular de la SRE y el secretario de Estado de EU llamaron a los 2 personas.",
        "¿Dónde?",  # still a follow-up
        "¿Dónde será el partido de fútbol del domingo?",  # a topic the conversation never mentioned
    ],
)
def test_an_implausible_rewrite_gives_way_to_the_heuristic(rewrite: str) -> None:
    history = [turn(WHEN_MINISTERIAL, "La Reunión Ministerial de Seguridad será en febrero [1].")]
    assert standalone_question("¿Y dónde?", history, lambda q, h: rewrite) == (
        "¿Y dónde? Reunión Ministerial Seguridad"
    )
