"""Answer types (assistant/cues): what kind of fact a question asks for, and where a sentence states one."""

from __future__ import annotations

import pytest

from assistant import cues
from assistant.cues import QuestionType


@pytest.mark.parametrize(
    ("question", "kind", "detail"),
    [
        ("When is the next Security Implementation Group meeting?", "date", None),
        ("¿Cuándo vuelve a reunirse el grupo?", "date", None),
        ("In what month is the Washington security ministerial?", "date", None),
        ("What exact day in February is the ministerial?", "day", None),
        ("¿Qué día de la semana hablaron?", "day", None),
        ("¿A qué hora fue la llamada?", "time", None),
        ("What time does the meeting start?", "time", None),
        ("How many pounds of fentanyl did CBP seize?", "number", "pounds"),
        ("¿Cuántos migrantes fueron detenidos?", "number", "migrantes"),
        ("How much did meth seizures go up that month?", "quantity", None),
        ("¿Cuánto dinero destina México al combate al fentanilo?", "money", None),
        ("What is the group's budget?", "money", None),
        ("How much did the wall cost?", "money", None),
        ("By what percentage did arrests drop?", "percent", None),
        ("¿Qué porcentaje de los vehículos revisa la CBP?", "percent", None),
        ("Where will the ministerial take place?", "place", "en"),
        ("¿Desde dónde hizo Rubio la llamada?", "place", "desde"),
        ("¿Por dónde pasa la droga?", "place", "por"),
        ("¿En qué ciudad será la reunión?", "place", "name"),
        ("Who is the State Dept spokesman?", "person", "identity"),
        ("¿Quién exigió resultados?", "person", "agent"),
        ("Who has been calling for strikes inside Mexico?", "person", "agent"),
        ("Which agency reported the drop?", "organisation", None),
        ("¿Qué dependencia mexicana confirmó la llamada?", "organisation", None),
    ],
)
def test_question_types(question: str, kind: str, detail: str | None) -> None:
    assert cues.question_type(question) == QuestionType(kind, detail)


@pytest.mark.parametrize(
    "question",
    [
        "What will the SIG focus on when it next meets?",  # "when" joins a clause here: no date asked
        "Is Sheinbaum open to US military action in Mexico?",  # yes/no
        "Did Rubio and De la Fuente agree to convene a ministerial meeting?",
        "¿Acordaron dar seguimiento al intercambio de información?",
        "What does Trump want in exchange for lowering tariffs?",
        "¿Qué subsiste pese a los resultados, cuando todo parece resuelto?",  # "cuando" without accent
    ],
)
def test_questions_without_a_type(question: str) -> None:
    assert cues.question_type(question) is None


def spans(question: str, sentence: str) -> list[str]:
    qtype = cues.question_type(question)
    return [sentence[a:b] for a, b in cues.answer_spans(qtype, sentence, cues.asked_words(question))]


def test_dates_and_days() -> None:
    s = "La próxima reunión de este grupo está programada para el 23 de enero y se enfocará en los cárteles."
    assert spans("¿Cuándo es la próxima reunión del grupo?", s) == ["23 de enero"]
    assert spans("¿Qué día es la próxima reunión del grupo?", s) == ["23 de enero"]
    month_only = "Acordaron una reunión ministerial en Washington para el mes de febrero."
    assert spans("¿Cuándo será la reunión ministerial?", month_only) == ["febrero"]
    assert spans("¿Qué día exacto de febrero será la reunión ministerial?", month_only) == []
    assert spans("¿A qué hora será la reunión ministerial?", month_only) == []
    assert spans("¿A qué hora fue la reunión?", "La reunión empezó a las 10:30 horas.") == ["10:30 horas"]


def test_a_count_is_not_a_date_a_share_or_a_measure() -> None:
    s = "La CBP incautó 1029 libras de fentanilo y las incautaciones de metanfetamina aumentaron un 15 %."
    assert spans("¿Cuántas libras de fentanilo incautó la CBP?", s) == ["1029 libras"]
    assert spans("¿Cuántos migrantes incautó la CBP?", s) == []
    assert spans("¿Cuántas armas se decomisaron?", "Se decomisaron 1.234 armas.") == [
        "1.234 armas"
    ]  # no 1.23 h  # pounds of fentanyl count no migrants
    assert spans("¿Qué porcentaje aumentaron las incautaciones de metanfetamina?", s) == ["15 %"]
    assert spans("¿Cuánto dinero incautó la CBP?", s) == []
    assert spans("¿Cuántas llamadas hubo?", "Hubo dos llamadas en los últimos cinco días.") == [
        "dos llamadas",
        "cinco días",
    ]


def test_money() -> None:
    s = "El gobierno destinará 2.500 millones de dólares al programa contra el fentanilo."
    assert spans("¿Cuánto dinero destinará el gobierno al programa?", s) == ["2.500 millones de dólares"]
    assert spans("How much money will the government give?", "The government pledged $3 million in aid.") == [
        "$3 million"
    ]


def test_a_place_where_the_question_puts_it() -> None:
    s = "Ambos secretarios convinieron en convocar una Reunión Ministerial de Seguridad en Washington, en febrero."
    assert spans("¿Dónde será la Reunión Ministerial?", s) == ["Washington"]
    far = (
        "Acordaron que el grupo, cuya próxima reunión está prevista para el día 23 de enero, debe seguir "
        "generando acciones para fortalecer la cooperación y detener el tráfico de armas en la frontera compartida."
    )
    assert spans("¿Dónde se reunirá el grupo?", far) == []  # the border is where the traffic is
    dateline = "Ciudad de México, 15 de enero (SinEmbargo).- El secretario Rubio exigió resultados."
    assert spans("¿Desde dónde hizo Rubio la llamada?", dateline) == []  # where the report was filed
    route = "Los cárteles transportan la mayor parte a través de los puertos de entrada."
    assert spans("¿Por dónde transportan los cárteles la mayor parte?", route) == ["puertos de entrada"]


def test_people_and_organisations() -> None:
    s = "El portavoz del Departamento de Estado, Tommy Pigott, describió esa conversación."
    assert spans("¿Quién es el portavoz del Departamento de Estado?", s) == ["Tommy Pigott"]
    institution = "La Oficina de Asuntos del Hemisferio Occidental informó que el progreso es inaceptable."
    assert spans("¿Quién es el subsecretario para el Hemisferio Occidental?", institution) == []
    assert spans("¿Quién dijo que el progreso es inaceptable?", institution) == [
        "Oficina de Asuntos del Hemisferio Occidental"
    ]
    group = "Los republicanos han pedido cada vez más que se lleven a cabo ataques dentro de México."
    assert spans("¿Quién ha pedido ataques dentro de México?", group) == ["republicanos"]
    agency = "En febrero, la Oficina de Aduanas y Protección Fronteriza (CBP) informó de una caída del 85 %."
    assert "CBP" in spans("¿Qué agencia informó de la caída?", agency)
