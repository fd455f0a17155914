"""Every format end to end: a folder of a saved web page, a PDF, a Word file and an e-mail with a PDF
attachment (built here), indexed and asked; each answer's quote is its source's canonical text at
start:end, with the page and date the document gives, and `briefing eval` validates the citations.
Bad files are each named in a warning while the rest is indexed."""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.settings import Settings
from tests.documents import BOILERPLATE, META_TAGS, make_docx, make_pdf, news_page

pytestmark = pytest.mark.slow

PAGE_TWO = "El nuevo puesto fronterizo de inspección abrirá en Nogales durante el mes de abril."
ATTACHED = "El decomiso de cuarenta toneladas de precursores químicos se realizó en el puerto de Manzanillo."
MAIL_BODY = (
    "Estimados colegas:\n\n"
    "La embajada organizará un foro sobre migración y desarrollo el 4 de marzo en Tijuana, con la "
    "participación de autoridades de ambos países.\n\nSaludos cordiales.\n"
)


def mail_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "Oficina de Prensa <prensa@embajada.example>"
    message["To"] = "equipo@embajada.example"
    message["Subject"] = "Foro sobre migración y desarrollo"
    message["Date"] = "Tue, 20 Jan 2026 08:15:00 -0600"
    message.set_content(MAIL_BODY, charset="utf-8", cte="quoted-printable")
    message.add_attachment(
        make_pdf([[ATTACHED]]), maintype="application", subtype="pdf", filename="decomiso.pdf"
    )
    return message.as_bytes(policy=policy.SMTP)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, Path]:
    corpus = tmp_path_factory.mktemp("mixed")
    (corpus / "noticia.html").write_bytes(news_page(META_TAGS))
    pdf = make_pdf(
        [["Resumen ejecutivo del informe trimestral de seguridad."], [PAGE_TWO], []], image_pages=(3,)
    )
    (corpus / "informe.pdf").write_bytes(pdf)
    (corpus / "decomisos.docx").write_bytes(make_docx())
    (corpus / "foro.eml").write_bytes(mail_with_attachment())
    # Bad files: each must be named, none may stop the rest.
    (corpus / "cortado.pdf").write_bytes(pdf[: len(pdf) // 2])
    (corpus / "cerrado.pdf").write_bytes(make_pdf([[PAGE_TWO]], password="secreto"))
    (corpus / "falso.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (corpus / "acceso.html").write_text(
        "<html><body><form><input name='user'><input type='password'><button>Entrar</button></form>"
        "</body></html>",
        encoding="utf-8",
    )
    (corpus / "vacio.eml").write_bytes(b"")
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index")))
    report = assistant.index()
    assistant.report = report  # type: ignore[attr-defined]
    return assistant, corpus


def _check(assistant: Assistant, answer) -> None:
    assert answer.citations, answer.answer
    for c in answer.citations:
        assert assistant.text(c.source)[c.start : c.end] == c.quote


def test_bad_files_are_named_and_the_rest_is_indexed(mixed) -> None:
    assistant, _ = mixed
    report = assistant.report
    assert sorted(report.added) == ["decomisos.docx", "foro.eml", "informe.pdf", "noticia.html"]
    for bad in ("cortado.pdf", "cerrado.pdf", "falso.docx", "acceso.html", "vacio.eml"):
        assert sum(w.startswith(f"{bad}:") for w in report.warnings) == 1, (bad, report.warnings)
    assert any(w.startswith("informe.pdf:") and "OCR" in w for w in report.warnings)


def test_web_page_answers_from_the_article_not_its_boilerplate(mixed) -> None:
    assistant, _ = mixed
    answer = assistant.ask("¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?")
    _check(assistant, answer)
    assert "23 de enero" in answer.answer
    cited = answer.citations[0]
    assert (cited.source, cited.format, cited.date) == ("noticia.html", "html", "2026-01-15")
    text = assistant.text("noticia.html")
    assert all(phrase not in text for phrase in BOILERPLATE.values())
    comments = assistant.ask("¿Qué opinan los lectores en los comentarios sobre las promesas?")
    assert all(BOILERPLATE["comment"] not in c.quote for c in comments.citations)


def test_pdf_answer_on_page_two_with_its_page_and_date(mixed) -> None:
    assistant, _ = mixed
    answer = assistant.ask("¿Dónde abrirá el nuevo puesto fronterizo de inspección?")
    _check(assistant, answer)
    cited = next(c for c in answer.citations if c.source == "informe.pdf")
    assert "Nogales" in cited.quote and (cited.page, cited.format, cited.date) == (2, "pdf", "2026-01-16")


def test_word_table_answers(mixed) -> None:
    assistant, _ = mixed
    answer = assistant.ask("¿Cuántas armas se decomisaron en Sonora?")
    _check(assistant, answer)
    cited = next(c for c in answer.citations if c.source == "decomisos.docx")
    assert "1.234" in cited.quote and cited.date == "2026-01-14" and cited.page is None


def test_mail_body_and_attachment_answer(mixed) -> None:
    assistant, _ = mixed
    body = assistant.ask("¿Cuándo será el foro sobre migración y desarrollo?")
    _check(assistant, body)
    cited = body.citations[0]
    assert (cited.source, cited.date, cited.format) == ("foro.eml", "2026-01-20", "eml")
    assert "4 de marzo" in cited.quote and "=C3" not in assistant.text("foro.eml")
    attached = assistant.ask("¿En qué puerto se realizó el decomiso de precursores químicos?")
    _check(assistant, attached)
    cited = attached.citations[0]
    assert (cited.source, cited.parent, cited.page) == ("foro.eml/decomiso.pdf", "foro.eml", 1)


def test_briefing_text_and_eval_check_every_format(mixed, tmp_path: Path) -> None:
    assistant, corpus = mixed
    index = str(assistant.settings.index_dir)
    runner = CliRunner()
    printed = runner.invoke(app, ["text", "informe.pdf", "--index", index])
    assert printed.exit_code == 0 and printed.stdout == assistant.text("informe.pdf")
    missing = runner.invoke(app, ["text", "nada.pdf", "--index", index])
    assert missing.exit_code == 2 and "not in the index" in missing.stderr
    questions = [
        ("¿Dónde abrirá el nuevo puesto fronterizo de inspección?", "Nogales", "informe.pdf"),
        ("¿Cuántas armas se decomisaron en Sonora?", r"1\.234", "decomisos.docx"),
        ("¿Cuándo será el foro sobre migración y desarrollo?", "4 de marzo", "foro.eml"),
        ("¿En qué puerto se realizó el decomiso de precursores?", "Manzanillo", "foro.eml/decomiso.pdf"),
    ]
    path = tmp_path / "questions.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"f{i}",
                    "lang": "es",
                    "question": q,
                    "answer_patterns": [p],
                    "sources": [s],
                    "answerable": True,
                },
                ensure_ascii=False,
            )
            for i, (q, p, s) in enumerate(questions)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["eval", str(path), "--corpus", str(corpus), "--index", index, "--out", str(out),
              "--fail-under", "citation_validity=1.0", "--fail-under", "answer_accuracy=1.0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["totals"]["citations"] >= 4
