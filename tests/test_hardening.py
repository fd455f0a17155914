"""Any input, no traceback: one test per finding of the hardening probe (issue 12), named for it, and
property tests over arbitrary questions and corpus files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.settings import Settings
from tests.conftest import ARTICLES, PROJECT

pytestmark = pytest.mark.slow
MEETING = "When is the next Security Implementation Group meeting?"
runner = CliRunner()


def _stdin(indexed_settings: Settings, data: bytes) -> list[dict]:
    """`briefing ask` in stdin mode in a real process (bytes in, JSON lines out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env.update(BRIEFING_MODELS_DIR=os.environ["BRIEFING_MODELS_DIR"], PYTHONPATH=str(PROJECT))
    command = [sys.executable, "-m", "assistant.cli", "ask", "--index", str(indexed_settings.index_dir)]
    out = subprocess.run(command, input=data, capture_output=True, env=env, timeout=600)
    assert out.returncode == 0 and b"Traceback" not in out.stderr, out.stderr.decode()[-2000:]
    return [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]


# 1. Invalid UTF-8 in a question -------------------------------------------------------------------------


def test_1_invalid_utf8_in_a_question_is_answered_not_a_traceback(indexed_settings, assistant) -> None:
    lines = _stdin(indexed_settings, b"When is the meeting? \xff\n" + MEETING.encode() + b"\n")
    assert len(lines) == 2 and "error" not in lines[0] and "\ufffd" in lines[0]["question"]
    assert "23 de enero" in lines[1]["answer"]
    answer = assistant.ask("When is the next \ud800 Security Implementation Group meeting?")  # lone surrogate
    assert "\ud800" not in answer.question and answer.model_dump_json()
    argv = runner.invoke(
        app, ["ask", "--json", "--index", str(indexed_settings.index_dir), "meeting \udcff?"]
    )
    assert argv.exit_code == 0 and json.loads(argv.stdout)["question"] == "meeting \ufffd?"


# 2. Stdin mode drops blank lines --------------------------------------------------------------------------


def test_2_stdin_gives_one_line_per_input_line_blank_ones_included(indexed_settings) -> None:
    data = f"\n   \n\u00a0\n{MEETING}\n\t\n".encode()
    lines = _stdin(indexed_settings, data)
    assert len(lines) == 5
    assert [("error" in line) for line in lines] == [True, True, True, False, True]
    assert all(line["error"] == "Please type a question." for line in lines if "error" in line)


# 3. A file name that is not valid UTF-8 ----------------------------------------------------------------


def test_3_a_file_name_that_is_not_utf8_is_indexed_under_a_safe_id(corpus: Path) -> None:
    raw = os.fsencode(corpus) + b"/informe_caf\xe9.txt"
    with open(raw, "wb") as out:
        out.write("La reunión sobre aduanas será en Laredo el 12 de febrero.\n".encode())
    assistant = Assistant(Settings(corpus_dir=corpus))
    report = assistant.index()
    source = next(s for s in report.added if s.startswith("informe_caf"))
    assert "\ufffd~" in source and source.endswith(".txt") and source.encode("utf-8")
    answer = assistant.ask("¿Dónde será la reunión sobre aduanas?")
    assert answer.citations[0].source == source and "Laredo" in answer.citations[0].quote
    assert assistant.index().chunks_embedded == 0  # the id is stable: nothing embedded again


# 4. One very long line -----------------------------------------------------------------------------------


def test_4_one_huge_line_is_indexed_without_stalling(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "linea.txt").write_text("palabra " * 100_000 + "fin.", encoding="utf-8")  # 800 KB, one line
    assistant = Assistant(Settings(corpus_dir=corpus))
    assert assistant.index().chunks_embedded > 0
    chunks = assistant.stores.sources.source_chunks("linea.txt")
    assert all(s.end - s.start <= 1000 for c in chunks for s in c.sentences)


# 5. No size limit ----------------------------------------------------------------------------------------


def test_5_a_file_over_the_size_limit_is_skipped_with_a_warning(corpus: Path) -> None:
    (corpus / "enorme.txt").write_text("Una frase. " * 2000, encoding="utf-8")  # 22 KB
    report = Assistant(Settings(corpus_dir=corpus, max_file_bytes=10_000)).index()
    assert "enorme.txt" not in report.added and len(report.added) == 5
    assert [w for w in report.warnings if w.startswith("enorme.txt")] == [
        "enorme.txt: 21.5 KB, over the 9.8 KB limit (BRIEFING_MAX_FILE_BYTES), skipped"
    ]


# 6. Symlinks leave the corpus ----------------------------------------------------------------------------


def test_6_links_out_loops_and_special_files_are_skipped_and_named_once(corpus: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secreto.txt"
    secret.write_text("La contraseña del servidor es pez espada.", encoding="utf-8")
    (corpus / "fuera.txt").symlink_to(secret)
    (corpus / "bucle.txt").symlink_to(corpus / "bucle.txt")
    (corpus / "dentro.txt").symlink_to(corpus / "000_1b7a05e447bd300f.txt")
    os.mkfifo(corpus / "tuberia.txt")
    assistant = Assistant(Settings(corpus_dir=corpus))
    report = assistant.index()
    assert "dentro.txt" in report.added and "fuera.txt" not in report.added
    expected = {
        "fuera.txt": "a link to outside the corpus folder",
        "bucle.txt": "a symbolic link loop",
        "tuberia.txt": "not a regular file",
    }
    for name, why in expected.items():
        named = [w for w in report.warnings if w.startswith(f"{name}:")]
        assert len(named) == 1 and why in named[0], report.warnings
    answer = assistant.ask("¿Cuál es la contraseña del servidor?")
    assert all("pez espada" not in c.quote for c in answer.citations)


# 7. Metadata mistakes ------------------------------------------------------------------------------------


def test_7_bom_front_matter_and_binary_content(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "bom.txt").write_bytes(
        "\ufeffdate 2026-01-16\nTítulo con BOM\n\nLa cumbre será en Lima.\n".encode()
    )
    (corpus / "nota.md").write_text(
        "---\ntitle: Nota de prensa\ndate: 2026-01-18\n---\n\n# Encabezado\n\nEl foro será en Quito.\n",
        encoding="utf-8",
    )
    noise = bytes(range(1, 256)) * 40  # binary without a NUL byte
    (corpus / "ruido.txt").write_bytes(noise)
    (corpus / "nul_tarde.txt").write_bytes(b"Texto normal. " * 1000 + b"\x00" + b"mas texto")
    assistant = Assistant(Settings(corpus_dir=corpus))
    report = assistant.index()
    assert sorted(report.added) == ["bom.txt", "nota.md"]
    assert any(w.startswith("ruido.txt: binary") for w in report.warnings)
    assert any(w.startswith("nul_tarde.txt: binary") for w in report.warnings)
    listed = {a.source: a for a in assistant.articles()}
    assert (listed["bom.txt"].title, listed["bom.txt"].date) == ("Título con BOM", "2026-01-16")
    assert (listed["nota.md"].title, listed["nota.md"].date) == ("Nota de prensa", "2026-01-18")
    assert "title:" not in assistant.article("nota.md").body


# 8. Offsets for CRLF and cp1252 files --------------------------------------------------------------------


def test_8_crlf_and_cp1252_citations_check_against_the_canonical_text(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "crlf.txt").write_bytes("Encabezado\r\n\r\nLa reunión técnica será en Monterrey.\r\n".encode())
    (corpus / "latin.txt").write_bytes("Título\n\nEl acuerdo se firmó en Mérida.\n".encode("cp1252"))
    assistant = Assistant(Settings(corpus_dir=corpus))
    assistant.index()
    for question, word in (
        ("¿Dónde será la reunión técnica?", "Monterrey"),
        ("¿Dónde se firmó el acuerdo?", "Mérida"),
    ):
        answer = assistant.ask(question)
        cited = answer.citations[0]
        text = runner.invoke(app, ["text", cited.source, "--index", str(assistant.settings.index_dir)]).stdout
        assert text[cited.start : cited.end] == cited.quote and word in cited.quote
        assert "\r" not in text


# 9. ALL CAPS and decomposed accents (the nonsense half is the abstention model's: test_abstention) ------


def test_9_a_question_in_capitals_or_with_decomposed_accents_is_answered(assistant) -> None:
    shouted = assistant.ask(MEETING.upper())
    assert not shouted.abstained and "23 de enero" in shouted.answer and shouted.question == MEETING.upper()
    nfd = unicodedata.normalize(
        "NFD", "¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?"
    )
    answer = assistant.ask(nfd)
    assert not answer.abstained and "23 de enero" in answer.answer


# 10. A rebuild racing a refresh ---------------------------------------------------------------------------


def test_10_a_rebuild_racing_a_refresh_never_shows_a_traceback(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "race"
    Assistant(Settings(corpus_dir=corpus, index_dir=index)).index()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env.update(BRIEFING_MODELS_DIR=os.environ["BRIEFING_MODELS_DIR"], PYTHONPATH=str(PROJECT))
    base = [sys.executable, "-m", "assistant.cli"]
    rebuild = subprocess.Popen(
        [*base, "index", "--rebuild", "--corpus", str(corpus), "--index", str(index)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    refreshes = [
        subprocess.run(
            [*base, "ask", "--json", "--corpus", str(corpus), "--index", str(index), MEETING],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        for _ in range(3)
    ]
    out, err = rebuild.communicate(timeout=600)
    assert rebuild.returncode in (0, 75) and "Traceback" not in err, err
    for done in refreshes:
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0 or "Nothing is indexed yet" in done.stderr  # mid-rebuild: empty
    final = subprocess.run(
        [*base, "ask", "--json", "--index", str(index), MEETING], env=env, capture_output=True, text=True
    )
    assert "23 de enero" in json.loads(final.stdout)["answer"]


# Properties ------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=300))
def test_any_text_through_the_api_gives_an_answer_or_a_message(assistant, text: str) -> None:
    from assistant import InvalidQuestion

    try:
        answer = assistant.ask(text)
    except InvalidQuestion as exc:
        assert str(exc)
        return
    answer.model_dump_json()  # serialisable: no lone surrogate left
    for c in answer.citations:
        assert assistant.text(c.source)[c.start : c.end] == c.quote


def test_any_bytes_through_stdin_give_one_json_line_per_line(indexed_settings) -> None:
    import random

    rng = random.Random(7)
    lines = [
        bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80))).replace(b"\n", b" ") for _ in range(40)
    ]
    lines += [b"", b"\x00", "¿Dónde?".encode("utf-16"), "\u00a0".encode(), b"\xff\xfe", b"x" * 3000]
    out = _stdin(indexed_settings, b"\n".join(lines) + b"\n")
    assert len(out) == len(lines)
    assert all(("error" in o) or ("answer" in o) for o in out)


_NAMES = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=20)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(
            _NAMES,
            st.sampled_from([".txt", ".md", ".html", ".eml"]),
            st.binary(max_size=2000) | st.text(max_size=600),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_corpus_files_index_and_every_citation_checks(tmp_path_factory, files) -> None:
    corpus = tmp_path_factory.mktemp("random")
    for stem, suffix, content in files:
        name = stem.strip().lstrip(".") or "x"
        data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        (corpus / f"{name[:40]}{suffix}").write_bytes(data)
    (corpus / "ancla.txt").write_bytes((ARTICLES / "001_5310fd264e07dab3.txt").read_bytes())
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("idx")))
    report = assistant.index()
    assert "ancla.txt" in report.added
    for question in ("¿Cuándo es la próxima reunión?", "What was agreed?", files[0][0] or "?"):
        try:
            answer = assistant.ask(question)
        except Exception as exc:  # only a clear InvalidQuestion is allowed
            assert type(exc).__name__ == "InvalidQuestion"
            continue
        for c in answer.citations:
            assert assistant.text(c.source)[c.start : c.end] == c.quote
