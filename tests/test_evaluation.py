"""Scoring answers and citations. Every expected number is worked out by hand in a comment."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.answer import Answer, Citation
from assistant.evaluation import (
    Question,
    Report,
    build_report,
    evaluate,
    evaluate_answers,
    format_report,
    load_answers,
    load_questions,
    missed_floors,
    parse_floors,
    run_cli,
    score,
)

# "ó" in "próxima" and "reunión" comes before the quotes, so str offsets differ from byte offsets.
A_TEXT = (
    "date 2026-01-16 La próxima reunión del Grupo de Implementación será el 23 de enero.\n"
    "Los presidentes hablaron el lunes.\n"
)
B_TEXT = (
    "Trump quiere tierras raras a cambio de bajar aranceles.\n"
    "La reunión del 23 de enero fue confirmada por la cancillería.\n"
)
SECRET_TEXT = "secreto: el 23 de enero\n"

Q_MEETING = Question(
    id="q1",
    lang="en",
    question="When is the next meeting?",
    answer_patterns=["23 de enero", "jan(uary)? 23"],
    sources=["a.txt"],
    answerable=True,
)
Q_TRUMP = Question(
    id="q2",
    lang="en",
    question="What does Trump want?",
    answer_patterns=["tierras raras", "rare earth"],
    sources=["b.txt"],
    answerable=True,
)
Q_CONFIRMED = Question(
    id="q5",
    lang="es",
    question="¿Qué fecha se confirmó?",
    answer_patterns=["23 de enero"],
    sources=["a.txt"],
    answerable=True,
)
Q_EXTRA = Question(
    id="q6",
    lang="en",
    question="Who spoke on Monday?",
    answer_patterns=["presidentes"],
    sources=["a.txt"],
    answerable=True,
)
Q_SOLDIERS = Question(
    id="q3",
    lang="es",
    question="¿Cuántos soldados hay?",
    answer_patterns=[],
    sources=[],
    answerable=False,
)
Q_CANADA = Question(
    id="q4",
    lang="en",
    question="What did Canada say?",
    answer_patterns=[],
    sources=[],
    answerable=False,
)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    (corpus_dir / "a.txt").write_text(A_TEXT, encoding="utf-8")
    (corpus_dir / "b.txt").write_text(B_TEXT, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET_TEXT, encoding="utf-8")
    return corpus_dir


def cite(n: int, source: str, quote: str, text: str, shift: int = 0) -> dict[str, Any]:
    start = text.index(quote) + shift
    return raw_cite(n, source, quote, start, start + len(quote))


def raw_cite(n: int, source: str, quote: str, start: Any, end: Any) -> dict[str, Any]:
    return {
        "n": n,
        "source": source,
        "title": "t",
        "date": None,
        "quote": quote,
        "start": start,
        "end": end,
        "chunk_id": f"{source}:{start}",
        "score": 0.5,
    }


def answer(
    question: Question, text: str, citations: list[dict[str, Any]] = (), abstained: bool = False
) -> dict[str, Any]:
    return {
        "question": question.question,
        "language": question.lang,
        "answer": text,
        "abstained": abstained,
        "citations": list(citations),
    }


MEETING_QUOTE = "será el 23 de enero"
GOOD_MEETING = cite(1, "a.txt", MEETING_QUOTE, A_TEXT)


# --- single citations ------------------------------------------------------------------------------


def test_offsets_are_string_offsets_and_a_good_citation_supports(corpus: Path) -> None:
    # The byte offset is larger: "ó" (x2) and "ó" (x1) before the quote are two bytes each in UTF-8.
    assert A_TEXT.index(MEETING_QUOTE) != A_TEXT.encode().index(MEETING_QUOTE.encode())
    record = score(Q_MEETING, answer(Q_MEETING, "Será el 23 de enero [1].", [GOOD_MEETING]), corpus)
    assert record.answer_correct and record.right_source and not record.abstained
    assert [(c.valid, c.supporting) for c in record.citations] == [(True, True)]
    assert record.reasons == []
    assert not record.missed


def test_answer_model_is_accepted_like_a_dict(corpus: Path) -> None:
    model = Answer(
        question=Q_MEETING.question,
        language="en",
        answer="On January 23 [1].",
        abstained=False,
        citations=[Citation(**GOOD_MEETING)],
    )
    record = score(Q_MEETING, model, corpus)
    assert record.answer_correct and record.citations[0].supporting
    assert record.answer["citations"][0]["start"] == A_TEXT.index(MEETING_QUOTE)


def test_off_by_one_offsets_are_invalid(corpus: Path) -> None:
    shifted = cite(1, "a.txt", MEETING_QUOTE, A_TEXT, shift=1)
    record = score(Q_MEETING, answer(Q_MEETING, "el 23 de enero [1]", [shifted]), corpus)
    check = record.citations[0]
    assert not check.valid and not check.supporting
    start = A_TEXT.index(MEETING_QUOTE)
    assert f"quote differs from text[{start + 1}:{start + 1 + len(MEETING_QUOTE)}]" in check.reason
    assert f"the quote is at {start}:{start + len(MEETING_QUOTE)}" in check.reason
    assert any(r.startswith("citation [1] is invalid") for r in record.reasons)
    assert "no supporting citation" in record.reasons
    assert record.answer_correct  # the answer text is still right; only the citation is bad


def test_missing_file_is_invalid(corpus: Path) -> None:
    record = score(
        Q_MEETING, answer(Q_MEETING, "23 de enero [1]", [raw_cite(1, "nope.txt", "x", 0, 1)]), corpus
    )
    assert not record.citations[0].valid
    assert "not found" in record.citations[0].reason


@pytest.mark.parametrize("source", ["../secret.txt", "sub/../../secret.txt"])
def test_source_escaping_the_corpus_is_invalid_even_when_the_quote_matches(corpus: Path, source: str) -> None:
    # The quote really is secret.txt[0:23]; it must not be read because it is outside the corpus.
    quote = SECRET_TEXT[:23]
    record = score(
        Q_MEETING, answer(Q_MEETING, "23 de enero [1]", [raw_cite(1, source, quote, 0, 23)]), corpus
    )
    assert not record.citations[0].valid
    assert "escapes the corpus directory" in record.citations[0].reason


def test_absolute_source_is_invalid(corpus: Path) -> None:
    absolute = str(corpus / "a.txt")
    cited = cite(1, "a.txt", MEETING_QUOTE, A_TEXT) | {"source": absolute}
    record = score(Q_MEETING, answer(Q_MEETING, "23 de enero [1]", [cited]), corpus)
    assert not record.citations[0].valid
    assert "not a path relative" in record.citations[0].reason


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (-1, 3, "bad offsets -1:3"),
        (5, 5, "bad offsets 5:5"),
        (10, 4, "bad offsets 10:4"),
        (0, len(A_TEXT) + 1, f"bad offsets 0:{len(A_TEXT) + 1}"),
        ("0", 4, "missing or mistyped field(s): start"),
    ],
)
def test_bad_offsets_are_invalid(corpus: Path, start: Any, end: Any, expected: str) -> None:
    record = score(
        Q_MEETING, answer(Q_MEETING, "23 de enero [1]", [raw_cite(1, "a.txt", "date", start, end)]), corpus
    )
    assert not record.citations[0].valid
    assert expected in record.citations[0].reason


def test_cp1252_and_crlf_offsets_follow_the_canonical_text(corpus: Path) -> None:
    text = "Reunión en México el 23 de enero.\n"
    (corpus / "c.txt").write_bytes(text.encode("cp1252"))
    record = score(
        Q_MEETING, answer(Q_MEETING, "23 de enero [1]", [cite(1, "c.txt", "23 de enero", text)]), corpus
    )
    assert record.citations[0].valid and record.citations[0].supporting
    crlf = "Título\r\n\r\nReunión en México el 23 de enero.\r\n"
    (corpus / "d.txt").write_bytes(crlf.encode())
    canonical = crlf.replace("\r\n", "\n")  # offsets count "\n" line ends, not the file's bytes
    record = score(
        Q_MEETING, answer(Q_MEETING, "23 de enero [1]", [cite(1, "d.txt", "23 de enero", canonical)]), corpus
    )
    assert record.citations[0].valid


def test_valid_citation_that_does_not_support(corpus: Path) -> None:
    # Quote "Los presidentes hablaron el lunes." matches no pattern of Q_TRUMP and a.txt is not listed for it.
    unrelated = cite(1, "a.txt", "Los presidentes hablaron el lunes.", A_TEXT)
    record = score(Q_TRUMP, answer(Q_TRUMP, "Quiere tierras raras [1].", [unrelated]), corpus)
    check = record.citations[0]
    assert check.valid and not check.supporting
    assert "does not support the answer" in check.reason
    assert record.answer_correct and not record.right_source
    assert "no supporting citation" in record.reasons


def test_pattern_match_supports_but_only_a_listed_source_is_the_right_source(corpus: Path) -> None:
    # b.txt is not listed for Q_MEETING, but its quote matches "23 de enero": supporting, wrong source.
    other = cite(1, "b.txt", "23 de enero fue confirmada", B_TEXT)
    record = score(Q_MEETING, answer(Q_MEETING, "El 23 de enero [1].", [other]), corpus)
    assert record.citations[0].supporting
    assert not record.right_source
    assert any(r.startswith("no supporting citation from a listed source") for r in record.reasons)


# --- contract problems -----------------------------------------------------------------------------


def test_marker_without_citation(corpus: Path) -> None:
    record = score(Q_MEETING, answer(Q_MEETING, "El 23 de enero [1][2].", [GOOD_MEETING]), corpus)
    assert "[2] in the answer has no citation numbered 2" in record.reasons
    assert record.missed


def test_citation_never_referred_to(corpus: Path) -> None:
    second = cite(2, "a.txt", "Los presidentes", A_TEXT)
    record = score(Q_MEETING, answer(Q_MEETING, "El 23 de enero [1].", [GOOD_MEETING, second]), corpus)
    assert "citation [2] is never referred to in the answer" in record.reasons


def test_answer_not_following_the_contract_is_reported(corpus: Path) -> None:
    data = answer(Q_MEETING, "El 23 de enero [1].", [GOOD_MEETING])
    del data["language"]
    record = score(Q_MEETING, data, corpus)
    assert any(r.startswith("answer does not follow the contract: language") for r in record.reasons)
    assert record.answer_correct  # still scored


def test_abstention_that_carries_citations(corpus: Path) -> None:
    data = answer(Q_SOLDIERS, "Los artículos no lo dicen [1].", [GOOD_MEETING], abstained=True)
    record = score(Q_SOLDIERS, data, corpus)
    assert record.abstained and record.answer_correct and record.abstention_correct
    assert [(c.valid, c.supporting) for c in record.citations] == [(True, False)]
    assert "abstained but carries 1 citation(s)" in record.reasons
    report = build_report([record])
    # abstention accuracy: 1 abstained / 1 unanswerable = 1.0; precision: 0 supporting / 1 citation = 0.0
    assert report.totals.abstention_accuracy == 1.0
    assert report.totals.citation_precision == 0.0
    assert report.totals.citation_validity == 1.0


def test_answering_an_unanswerable_question_is_wrong(corpus: Path) -> None:
    record = score(Q_SOLDIERS, answer(Q_SOLDIERS, "Hay muchos [1].", [GOOD_MEETING]), corpus)
    assert not record.answer_correct and not record.abstention_correct
    assert "answered an unanswerable question (should have abstained)" in record.reasons
    assert not record.citations[0].supporting


def test_abstention_whose_text_matches_a_pattern_is_wrong(corpus: Path) -> None:
    trap = Q_SOLDIERS.model_copy(update={"answer_patterns": ["500 soldados"]})
    record = score(trap, answer(trap, "No sé si hay 500 soldados.", abstained=True), corpus)
    assert record.abstained and not record.answer_correct
    assert record.reasons == ["abstained, but the answer text matches the pattern '500 soldados'"]


def test_false_abstention(corpus: Path) -> None:
    record = score(Q_MEETING, answer(Q_MEETING, "No lo sé.", abstained=True), corpus)
    assert not record.answer_correct and not record.abstention_correct
    assert record.reasons == ["false abstention: the question is answerable"]
    # false abstention rate: 1 abstained / 1 answerable = 1.0; abstention accuracy: no unanswerable -> None
    totals = build_report([record]).totals
    assert totals.false_abstention_rate == 1.0
    assert totals.abstention_accuracy is None
    assert totals.citation_validity is None  # no citations at all


# --- totals ----------------------------------------------------------------------------------------


def mixed_answers() -> list[dict[str, Any]]:
    return [
        # q1: right, [1] valid + supporting from a listed source, [2] off by one (invalid)
        answer(
            Q_MEETING,
            "Será el 23 de enero [1][2].",
            [GOOD_MEETING, cite(2, "a.txt", "Los presidentes", A_TEXT, shift=-1)],
        ),
        # q2: right text, [1] valid but not supporting
        answer(Q_TRUMP, "Tierras raras [1].", [cite(1, "a.txt", "Los presidentes hablaron", A_TEXT)]),
        # q5: right, [1] supporting by pattern but from an unlisted source; matched by id, not text
        answer(Q_CONFIRMED, "El 23 de enero [1].", [cite(1, "b.txt", "23 de enero", B_TEXT)])
        | {"question": "reworded", "id": "q5"},
        # q6: false abstention
        answer(Q_EXTRA, "No lo sé.", abstained=True),
        # q3: right abstention
        answer(Q_SOLDIERS, "No hay información.", abstained=True),
        # q4: unanswerable but answered, [1] valid, not supporting
        answer(Q_CANADA, "Canadá dijo algo [1].", [cite(1, "b.txt", "Trump quiere", B_TEXT)]),
        # matches no question: ignored with a warning
        answer(Q_CANADA, "x") | {"question": "Unknown question?"},
    ]


MIXED_QUESTIONS = [Q_MEETING, Q_TRUMP, Q_CONFIRMED, Q_EXTRA, Q_SOLDIERS, Q_CANADA]


def test_mixed_totals(corpus: Path) -> None:
    report = evaluate_answers(mixed_answers(), MIXED_QUESTIONS, corpus)
    t = report.totals
    # 6 questions: answerable q1 q2 q5 q6 = 4, unanswerable q3 q4 = 2
    assert (t.questions, t.answerable, t.unanswerable) == (6, 4, 2)
    # citations: q1 2 + q2 1 + q5 1 + q4 1 = 5
    assert t.citations == 5
    # right answers: q1, q2, q5, q3 = 4 of 6 (q6 falsely abstained, q4 answered)
    assert t.answer_accuracy == pytest.approx(4 / 6)
    # valid: all but q1's [2] = 4 / 5
    assert t.citation_validity == pytest.approx(0.8)
    # supporting: q1 [1] and q5 [1] = 2 / 5
    assert t.citation_precision == pytest.approx(0.4)
    # answerable with a supporting citation: q1, q5 = 2 / 4
    assert t.citation_recall == pytest.approx(0.5)
    # answerable with a supporting citation from a listed source: q1 only = 1 / 4
    assert t.source_recall == pytest.approx(0.25)
    # unanswerable abstained: q3 = 1 / 2
    assert t.abstention_accuracy == pytest.approx(0.5)
    # answerable abstained: q6 = 1 / 4
    assert t.false_abstention_rate == pytest.approx(0.25)
    # no timings for answers produced elsewhere
    assert t.latency_p50_ms is None and t.latency_p95_ms is None
    assert report.warnings == ["answer #7 matches no question: 'Unknown question?'"]


def test_missing_answer_counts_as_wrong(corpus: Path) -> None:
    report = evaluate_answers(
        [answer(Q_MEETING, "El 23 de enero [1].", [GOOD_MEETING])], [Q_MEETING, Q_TRUMP], corpus
    )
    missing = report.records[1]
    assert missing.id == "q2" and missing.answer is None
    assert missing.reasons == ["no answer given"]
    # accuracy: q1 right, q2 no answer = 1 / 2
    assert report.totals.answer_accuracy == 0.5


def test_latency_percentiles(corpus: Path) -> None:
    records = [
        score(Q_SOLDIERS, answer(Q_SOLDIERS, "No.", abstained=True), corpus, latency_ms=ms)
        for ms in (40, 10, 30, 20)
    ]
    totals = build_report(records).totals
    # sorted 10 20 30 40; p50 at position 3*0.5 = 1.5 -> 20 + 0.5*10 = 25
    assert totals.latency_p50_ms == pytest.approx(25.0)
    # p95 at position 3*0.95 = 2.85 -> 30 + 0.85*10 = 38.5
    assert totals.latency_p95_ms == pytest.approx(38.5)


# --- evaluate with a test double of the assistant ---------------------------------------------------


class FakeAssistant:
    """Returns prepared answers; raises for questions it has none for."""

    def __init__(self, corpus_dir: Path, answers: dict[str, Answer]) -> None:
        self.settings = SimpleNamespace(corpus_dir=corpus_dir)
        self.answers = answers
        self.asked: list[str] = []

    def ask(self, question: str) -> Answer:
        self.asked.append(question)
        if question not in self.answers:
            raise RuntimeError("model unavailable")
        return self.answers[question]


def test_evaluate_asks_every_question_and_times_it(corpus: Path) -> None:
    prepared = {
        Q_MEETING.question: Answer.model_validate(answer(Q_MEETING, "El 23 de enero [1].", [GOOD_MEETING])),
        Q_SOLDIERS.question: Answer.model_validate(answer(Q_SOLDIERS, "No hay información.", abstained=True)),
    }
    fake = FakeAssistant(corpus, prepared)
    report = evaluate(fake, [Q_MEETING, Q_SOLDIERS, Q_TRUMP])  # corpus dir comes from fake.settings
    assert fake.asked == [Q_MEETING.question, Q_SOLDIERS.question, Q_TRUMP.question]
    # right: q1 and q3; q2 raised = 2 / 3
    assert report.totals.answer_accuracy == pytest.approx(2 / 3)
    assert report.records[0].citations[0].valid  # read from the settings' corpus dir
    assert report.records[2].reasons == ["assistant.ask raised RuntimeError: model unavailable"]
    assert all(r.latency_ms is not None and r.latency_ms >= 0 for r in report.records[:2])
    assert report.totals.latency_p50_ms is not None


# --- loading ---------------------------------------------------------------------------------------


def question_line(**overrides: Any) -> str:
    base = {
        "id": "x1",
        "lang": "en",
        "question": "Q?",
        "answer_patterns": ["a"],
        "sources": ["a.txt"],
        "answerable": True,
    }
    return json.dumps(base | overrides)


def test_malformed_question_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    lines = [
        question_line(id="ok1"),  # 1
        '{"id": "broken",',  # 2 bad JSON
        "",  # 3 blank, ignored
        json.dumps(
            {"id": "m", "lang": "en", "question": "Q?", "answer_patterns": [], "answerable": False}
        ),  # 4
        question_line(id="re", answer_patterns=["(unclosed"]),  # 5 bad regex
        "[1, 2]",  # 6 not an object
        question_line(id="ok2", answerable=False, answer_patterns=[]),  # 7
        question_line(id="ok1"),  # 8 duplicate id
        question_line(id="np", answer_patterns=[]),  # 9 answerable without patterns
        question_line(id="yes", answerable="yes"),  # 10 not a boolean
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["ok1", "ok2"]
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in (2, 4, 5, 6, 8, 9, 10)]
    assert "bad JSON" in errors[0]
    assert "sources" in errors[1]
    assert "bad regex '(unclosed'" in errors[2]
    assert "duplicate id 'ok1' (first on line 1)" in errors[4]


def test_dev_questions_load(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parent.parent / "data" / "dev_questions.jsonl"
    if not path.exists():
        pytest.skip("no dev questions")
    questions, errors = load_questions(path)
    assert errors == [] and len(questions) >= 1


def test_malformed_answer_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    # A raw U+2028 inside a JSON string is not a line break in JSON Lines.
    separator_inside = json.dumps(answer(Q_TRUMP, "tierras\u2028raras"), ensure_ascii=False)
    lines = [
        json.dumps(answer(Q_MEETING, "x")),
        "not json",
        "",
        separator_inside,
        json.dumps({"answer": "x"}),
    ]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    answers, errors = load_answers(path)
    assert [a["question"] for a in answers] == [Q_MEETING.question, Q_TRUMP.question]
    assert errors[0].startswith("line 2: bad JSON")
    assert errors[1].startswith("line 5: no 'question' or 'id'")
    assert len(errors) == 2


# --- floors and the report -------------------------------------------------------------------------


def test_parse_floors() -> None:
    assert parse_floors(["answer_accuracy=1.0", "citation-precision = 0.9"]) == {
        "answer_accuracy": 1.0,
        "citation_precision": 0.9,
    }
    with pytest.raises(ValueError, match="known metrics: .*citation_recall"):
        parse_floors(["accuracy=1"])
    with pytest.raises(ValueError, match="not a number"):
        parse_floors(["answer_accuracy=high"])
    with pytest.raises(ValueError, match="METRIC=VALUE"):
        parse_floors(["answer_accuracy"])


def test_missed_floors(corpus: Path) -> None:
    report = evaluate_answers(mixed_answers(), MIXED_QUESTIONS, corpus)
    floors = parse_floors(
        ["answer_accuracy=0.6", "citation_precision=0.5", "latency_p95_ms=100", "false_abstention_rate=0.2"]
    )
    # accuracy 0.667 >= 0.6 met; precision 0.4 < 0.5 missed; latency n/a missed; false abstentions 0.25 > 0.2
    assert missed_floors(report, floors) == [
        "citation_precision 0.400 is below the floor 0.5",
        "latency_p95_ms is n/a (limit 100)",
        "false_abstention_rate 0.250 is above the ceiling 0.2",
    ]


def test_format_report_explains_missed_questions(corpus: Path) -> None:
    report = evaluate_answers(mixed_answers(), MIXED_QUESTIONS, corpus)
    text = format_report(report)
    assert "citation_precision" in text and "0.400" in text and "2/5" in text
    assert "latency_p50_ms" in text and "n/a" in text
    assert "Missed questions: 5 of 6" in text  # all but q3, the correct abstention
    start = A_TEXT.index("Los presidentes") - 1
    assert f"[2] a.txt {start}:{start + len('Los presidentes')}  INVALID" in text
    assert "q2 [en] What does Trump want?" in text
    assert "Tierras raras [1]." in text
    assert "q3 [es]" not in text
    assert "answer #7 matches no question" in text


def test_empty_report_shows_na() -> None:
    report = build_report([])
    assert report.totals.answer_accuracy is None
    assert "answer_accuracy               n/a" in format_report(report)


# --- run_cli ---------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[dict[str, Any]] | list[str]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def never_built() -> Any:
    raise AssertionError("the assistant must not be built when an answers file is given")


def test_run_cli_without_valid_questions_returns_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", ["not json", '{"id": "x"}'])
    code = run_cli(
        path, assistant_factory=never_built, answers_path=None, corpus_dir=tmp_path, out=None, fail_under=[]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "line 1: bad JSON" in err and "line 2:" in err
    assert "no valid question line" in err


def test_run_cli_unreadable_questions_or_bad_floor_returns_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.jsonl"
    kwargs: dict[str, Any] = {"assistant_factory": never_built, "answers_path": None, "corpus_dir": tmp_path}
    assert run_cli(missing, **kwargs, out=None, fail_under=[]) == 2
    assert "cannot read" in capsys.readouterr().err
    questions = write_jsonl(tmp_path / "q.jsonl", [question_line()])
    assert run_cli(questions, **kwargs, out=None, fail_under=["nope=1"]) == 2
    assert "unknown metric 'nope'" in capsys.readouterr().err


def test_run_cli_scores_an_answers_file(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = write_jsonl(tmp_path / "q.jsonl", [q.model_dump() for q in MIXED_QUESTIONS] + ["{oops"])
    answers = write_jsonl(tmp_path / "answers.jsonl", mixed_answers())
    out = tmp_path / "out" / "report.json"
    kwargs: dict[str, Any] = {"assistant_factory": never_built, "answers_path": answers, "corpus_dir": corpus}

    # accuracy 4/6 = 0.667 >= 0.6 and validity 4/5 = 0.8 >= 0.8: met
    code = run_cli(questions, **kwargs, out=out, fail_under=["answer_accuracy=0.6", "citation_validity=0.8"])
    captured = capsys.readouterr()
    assert code == 0
    assert "line 7: bad JSON" in captured.err
    assert "answer_accuracy" in captured.out and "4/6" in captured.out
    saved = Report.model_validate_json(out.read_text(encoding="utf-8"))
    assert saved.totals.citations == 5 and len(saved.records) == 6

    # citation recall 2/4 = 0.5 < 0.9: missed
    code = run_cli(questions, **kwargs, out=None, fail_under=["answer_accuracy=0.6", "citation_recall=0.9"])
    assert code == 1
    assert "floor missed: citation_recall 0.500 is below the floor 0.9" in capsys.readouterr().err


def test_run_cli_builds_and_asks_the_assistant(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = write_jsonl(tmp_path / "q.jsonl", [Q_MEETING.model_dump()])
    prepared = {
        Q_MEETING.question: Answer.model_validate(answer(Q_MEETING, "El 23 de enero [1].", [GOOD_MEETING]))
    }
    fake = FakeAssistant(tmp_path / "elsewhere", prepared)
    code = run_cli(
        questions,
        assistant_factory=lambda: fake,
        answers_path=None,
        corpus_dir=corpus,  # overrides the assistant's settings
        out=None,
        fail_under=["answer_accuracy=1", "source_recall=1"],
    )
    assert code == 0
    assert fake.asked == [Q_MEETING.question]
    assert "Missed questions: 0 of 1" in capsys.readouterr().out


# --- also_in and the short answer ------------------------------------------------------------------


def test_also_in_and_short_answer_are_checked_like_citations(corpus: Path) -> None:
    also = "La reunión del 23 de enero fue confirmada"
    start = B_TEXT.index(also)
    citation = {
        **GOOD_MEETING,
        "also_in": [
            {"source": "b.txt", "title": "B", "quote": also, "start": start, "end": start + len(also)}
        ],
    }
    short_start = A_TEXT.index("23 de enero")
    short = {
        "text": "23 de enero",
        "source": "a.txt",
        "start": short_start,
        "end": short_start + 11,
        "n": 1,
        "kind": "date",
    }
    good = answer(Q_MEETING, "Será el 23 de enero [1].", [citation])
    good["short_answer"] = short
    record = score(Q_MEETING, good, corpus)
    assert [(s.of, s.valid) for s in record.spans] == [("also_in #1 of [1]", True), ("short_answer", True)]
    assert record.reasons == []
    # 2 spans, both valid
    assert build_report([record]).totals.span_validity == 1.0

    shifted = {
        **citation,
        "also_in": [{**citation["also_in"][0], "start": start + 1, "end": start + 1 + len(also)}],
    }
    bad = answer(Q_MEETING, "Será el 23 de enero [1].", [shifted])
    bad["short_answer"] = {**short, "n": 2}  # names a citation that does not exist
    record = score(Q_MEETING, bad, corpus)
    assert [s.valid for s in record.spans] == [False, False]
    assert any(r.startswith("also_in #1 of [1] is invalid: quote differs") for r in record.reasons)
    assert any(r.startswith("short_answer is invalid: it lies in no quote") for r in record.reasons)
    # 0 of 2 spans valid
    assert build_report([record]).totals.span_validity == 0.0
