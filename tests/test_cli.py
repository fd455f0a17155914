"""The `briefing` command: output formats and bad input (clear message, exit code 2, no traceback)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def _run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_ask_json_follows_the_contract(indexed_settings):
    result = _run(
        "ask",
        "--json",
        "--index",
        str(indexed_settings.index_dir),
        "When is the next Security Implementation Group meeting?",
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["language"] == "en" and not answer["abstained"]
    assert "23 de enero" in answer["answer"]
    fields = {"n", "source", "title", "date", "quote", "start", "end", "chunk_id", "score"}
    assert all(fields <= set(c) for c in answer["citations"])


def test_ask_text_lists_sources(indexed_settings):
    result = _run(
        "ask", "--index", str(indexed_settings.index_dir), "¿Dónde será la Reunión Ministerial de Seguridad?"
    )
    assert result.exit_code == 0, result.output
    assert "Washington" in result.stdout and "Sources:" in result.stdout and "[1]" in result.stdout


def test_stdin_gives_json_lines_one_per_question(indexed_settings):
    questions = (
        "When is the next Security Implementation Group meeting?\n\n" + "x" * 2500 + "\n¿Qué dijo Canadá?\n"
    )
    result = _run("ask", "--index", str(indexed_settings.index_dir), stdin=questions)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4  # one per input line, the blank one included
    assert "23 de enero" in lines[0]["answer"]
    assert "Please type a question" in lines[1]["error"]
    assert "too long" in lines[2]["error"]
    assert lines[3]["abstained"] is True and lines[3]["answer"] == "No encontré esto en los artículos."


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question_is_a_clear_message(indexed_settings, question):
    result = _run("ask", "--index", str(indexed_settings.index_dir), question)
    assert result.exit_code == 2
    assert "Please type a question" in result.stderr
    assert "Traceback" not in result.output


def test_huge_question_is_refused(indexed_settings):
    result = _run("ask", "--index", str(indexed_settings.index_dir), "why " * 600)
    assert result.exit_code == 2
    assert "too long" in result.stderr and "2,000" in result.stderr


def test_missing_corpus_is_one_line_and_exit_2(tmp_path: Path):
    result = _run("ask", "--corpus", str(tmp_path / "nowhere"), "When?")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "not found" in result.stderr


def test_empty_corpus_is_one_line_and_exit_2(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = _run("index", "--corpus", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert "no readable" in result.stderr and result.stderr.strip().count("\n") == 0


def test_asking_before_indexing_says_how_to_index(tmp_path: Path):
    result = _run("ask", "--index", str(tmp_path / "fresh"), "When?")
    assert result.exit_code == 2
    assert "briefing index" in result.stderr


def test_index_command_reports_skipped_files(tmp_path: Path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("La reunión será el 3 de marzo en Ottawa.", encoding="utf-8")
    (corpus / "b.txt").write_bytes(b"\x00\x01binary")
    result = _run("index", "--corpus", str(corpus), "--index", str(tmp_path / "i"))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.stdout and "b.txt" in result.stderr


def test_index_progress_is_one_bar_of_files_and_passages(monkeypatch):
    import io

    from assistant.cli import _progress_bar
    from assistant.ingestion.sync import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    update = _progress_bar()
    update(Progress(files_total=2, chars_total=1000))
    update(Progress(files_done=1, files_total=2, chars_done=400, chars_total=1000, passages=4))
    update(Progress(files_done=2, files_total=2, chars_done=1000, chars_total=1000, passages=10))
    shown = terminal.getvalue()
    assert "Indexing 100%" in shown and "2/2 files, 10 passages" in shown and shown.endswith("\n")
    assert shown.count("\n") == 1  # one bar, closed once
