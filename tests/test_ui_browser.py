"""The chat page end to end in headless Chromium: startup, answers with sources, article view, uploads.

The tests share one app and one page and run in file order (each step builds on the one before), like a
member of staff using the page. Screenshots of the main states go to tests/artifacts/ (not committed)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.llm import LLMAnswerer
from assistant.core import Assistant
from assistant.settings import Settings
from assistant.text import translate
from assistant.ui import IndexJob, build, launch_options
from assistant.ui.server import temp_dir
from tests.conftest import ARTICLES, MODELS_DIR, free_port
from tests.scripted import ScriptedChatModel, citing

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
WAIT_MS = 120_000  # the machine is shared: generous, and never asserted as a timing
QUESTION = "When is the next Security Implementation Group meeting?"
NEW_ARTICLE = (
    "date 2026-02-02 La Comisión Binacional de Aguas se reunirá el 14 de marzo en Ciudad Juárez.\n\n"
    "Los delegados de ambos países revisarán el reparto del agua del río Bravo y el calendario de entregas "
    "pactado en el tratado de 1944. La reunión de la Comisión Binacional de Aguas será el 14 de marzo, "
    "según informó la cancillería.\n"
)


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("playwright not installed: pip install playwright")
    return sync_playwright, expect


@pytest.fixture(scope="module")
def expect(playwright_api):
    expect = playwright_api[1]
    expect.set_options(timeout=WAIT_MS)
    return expect


@pytest.fixture(scope="module")
def app(playwright_api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The app over a private copy of the articles, not indexed yet: the first test starts indexing."""
    root = tmp_path_factory.mktemp("ui")
    corpus = root / "articles"
    shutil.copytree(ARTICLES, corpus)
    (corpus / "roto.pdf").write_bytes(b"%PDF-1.4 cut short")  # listed as not indexed, with the reason
    settings = Settings(
        corpus_dir=corpus, index_dir=root / "index", models_dir=MODELS_DIR, max_upload_bytes=2 * 1024 * 1024
    )
    assistant = Assistant(settings)
    job = IndexJob(assistant)
    demo = build(assistant, job)
    port = free_port()
    demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=port,
        quiet=True,
        **launch_options(settings),
    )
    yield SimpleNamespace(
        url=f"http://127.0.0.1:{port}/", assistant=assistant, job=job, corpus=corpus, external=[]
    )
    demo.close()


@pytest.fixture(scope="module")
def page(playwright_api, app):
    sync_playwright = playwright_api[0]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 950})
        tab.set_default_timeout(WAIT_MS)
        tab.on("request", lambda r: None if r.url.startswith(app.url) else app.external.append(r.url))
        tab.goto(app.url)
        yield tab
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def ask(page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def last_bot(page):
    return page.locator("#chat [data-testid='bot']").last


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_startup_shows_indexing_then_ready(page, app, expect) -> None:
    status = page.locator("#status")
    expect(status).to_contain_text("Starting")
    expect(page.locator("#question textarea")).to_be_disabled()
    app.job.start()  # the first run: the page is already up while the index is built
    expect(status).to_contain_text("Indexing… 6 files")  # roto.pdf too: it is read, then skipped
    shot(page, "00-startup-indexing")
    expect(status).to_contain_text("Ready · 5 articles indexed")
    expect(page.locator("#question textarea")).to_be_enabled()
    expect(page.locator("#chat")).to_contain_text(QUESTION)  # an example question on the empty chat
    shot(page, "01-empty-chat")


def test_answer_shows_sources_with_highlighted_quote(page, expect) -> None:
    ask(page, QUESTION)
    expect(last_bot(page).locator(".answer a.cite").first).to_be_visible()
    expect(last_bot(page)).to_contain_text("23 de enero")
    # The short answer leads, highlighted; then (English question) the labelled English rendering; then
    # the verbatim quotes.
    expect(last_bot(page).locator(".short-answer mark.short")).to_have_text("23 de enero")
    if translate.available("spa-eng"):
        rendering = last_bot(page).locator(".answer-en")
        expect(rendering).to_contain_text("machine translation")
        expect(rendering).to_contain_text("January")
    expect(last_bot(page).locator(".answer mark.short").first).to_have_text("23 de enero")
    cards = page.locator("#sources-panel .source-card")
    card = cards.filter(has=page.locator("mark", has_text="23 de enero")).first
    expect(card).to_be_visible()
    expect(card.locator(".card-head")).to_contain_text("Juan Ramón de la Fuente")
    expect(card.locator(".meta").first).to_contain_text(".txt")
    # Three of the five articles give the date: the card says so and lists the others.
    expect(card.locator(".reported")).to_contain_text(re.compile(r"reported by [23] of 5 articles"))
    expect(card.locator(".also-in")).to_contain_text("also in")
    if translate.available("spa-eng"):
        expect(card.locator(".mt")).to_contain_text("machine translation")
        expect(card.locator(".mt")).to_contain_text("January")
    shot(page, "02-answered-with-sources")
    page.get_by_role("button", name="Copy answer as Markdown").click()
    markdown = page.locator(".cm-content")
    expect(markdown).to_contain_text("[^1]:")
    expect(markdown).to_contain_text("23 de enero")
    shot(page, "02b-answer-as-markdown")


def test_marker_brings_card_into_view_and_opens_article(page, expect) -> None:
    marker = last_bot(page).locator("a.cite").first
    n = marker.inner_text().strip("[]")
    marker.click()
    card = page.locator(f"#source-0-{n}")
    expect(card).to_have_class("source-card flash")
    expect(card).to_be_in_viewport()
    quote = card.locator("mark").inner_text()
    card.get_by_role("button", name="Show in article").click()
    focused = page.locator("#article-view mark.focus")
    expect(focused).to_be_visible()
    expect(focused).to_have_text(quote)
    expect(focused).to_be_in_viewport()
    expect(page.locator("#article-list button.article-row.open")).to_have_count(1)
    shot(page, "03-article-view-highlight")


def test_abstention_says_so_and_shows_no_sources(page, expect) -> None:
    tab(page, "Chat")
    ask(page, "¿Cuál es la capital de Francia?")
    expect(last_bot(page).locator(".answer.abstained")).to_have_text("No encontré esto en los artículos.")
    expect(page.locator("#sources-panel")).to_contain_text("No sources")
    expect(page.locator("#sources-panel .source-card")).to_have_count(0)
    # The earlier answer's markers still bring its sources back.
    page.locator("#chat [data-testid='bot'] a.cite").first.click()
    expect(page.locator("#source-0-1")).to_be_visible()


def test_uploaded_article_is_answerable(page, app, expect, tmp_path: Path) -> None:
    tab(page, "Articles")
    upload = tmp_path / "comisión aguas (borrador).txt"
    upload.write_text(NEW_ARTICLE, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    report = page.locator("#upload-report")
    expect(report).to_contain_text("saved as comision_aguas_borrador.txt and indexed")
    expect(page.locator("#article-list")).to_contain_text("Comisión Binacional de Aguas")
    assert (app.corpus / "comision_aguas_borrador.txt").read_text(encoding="utf-8") == NEW_ARTICLE
    shot(page, "04-upload-result")
    tab(page, "Chat")
    ask(page, "¿Cuándo se reúne la Comisión Binacional de Aguas?")
    expect(last_bot(page)).to_contain_text("14 de marzo")
    first_card = page.locator("#sources-panel .source-card").first
    # the card's own source line (the other articles it lists under also_in have theirs)
    expect(first_card.locator(":scope > .meta")).to_contain_text("comision_aguas_borrador.txt")
    # A marker of an earlier answer brings back that answer's sources.
    page.locator("#chat [data-testid='bot'] a.cite").first.click()
    expect(page.locator("#sources-panel")).to_contain_text("Sources of an earlier answer")
    expect(page.locator("#source-0-1")).to_be_in_viewport()


def test_files_that_could_not_be_read_are_listed_with_the_reason(page, app, expect) -> None:
    tab(page, "Articles")
    skipped = page.locator("#skipped-files")
    expect(skipped).to_contain_text("1 file not indexed")
    skipped.locator("summary").click()
    expect(skipped).to_contain_text("roto.pdf: not a readable PDF")


def test_bad_uploads_are_rejected_with_a_reason(page, app, expect, tmp_path: Path) -> None:
    tab(page, "Articles")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    big = tmp_path / "huge.md"
    big.write_text("date 2026-01-01 " + "palabra " * 300_000, encoding="utf-8")
    other = tmp_path / "notes.pdf"
    other.write_bytes(b"%PDF-1.4 not an article")
    before = sorted(p.name for p in app.corpus.iterdir())
    page.locator("#upload input[type=file]").set_input_files([str(binary), str(big), str(other)])
    report = page.locator("#upload-report")
    expect(report).to_contain_text("scan.txt: an image; text in images needs OCR, not added")
    expect(report).to_contain_text("huge.md: too large")
    expect(report).to_contain_text("notes.pdf: not a readable PDF")
    expect(report.locator(".upload-bad")).to_have_count(3)
    assert sorted(p.name for p in app.corpus.iterdir()) == before
    shot(page, "05-upload-errors")


def test_uploads_leave_no_temp_copies(app) -> None:
    """Gradio copies every upload into its temp dir; once handled (added or refused) the copy is gone."""
    cache = temp_dir()
    assert cache.name.startswith("briefing-gradio-")  # private to this process
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_answer_warnings_show_under_the_answer(page, app, expect) -> None:
    """A (scripted) language model that gets the month wrong: the answer streams, then the unsupported
    sentence is flagged under it and only the verified citation is shown."""
    reply = (
        "La reunión del grupo está programada para el 23 de enero [{a}]. "
        "La Reunión Ministerial será en Washington en marzo [{b}]."
    )
    model = ScriptedChatModel(replies=[citing(reply, a="programada para el 23 de enero", b="Washington")] * 3)
    app.assistant.answerer = LLMAnswerer(model, app.assistant.settings, name="scripted")
    try:
        tab(page, "Chat")
        page.get_by_role("button", name="New conversation").click()
        ask(page, "¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?")
        expect(last_bot(page).locator(".warnings")).to_contain_text("could not be verified")
        expect(last_bot(page)).to_contain_text("23 de enero")
        shot(page, "07-answer-with-warning")
    finally:
        app.assistant.answerer = ExtractiveAnswerer()


def test_bad_questions_become_messages(page, expect) -> None:
    tab(page, "Chat")
    answers = page.locator("#chat [data-testid='bot']").count()
    notice = page.locator("#ask-notice")
    ask(page, "")
    expect(notice).to_contain_text("Please type a question.")
    ask(page, "x" * 2001)
    expect(notice).to_contain_text("The question is too long (2,001 characters; the limit is 2,000)")
    expect(page.locator("#question textarea")).to_have_value("x" * 2001)  # kept, to be shortened
    shot(page, "06-error-message")
    ask(page, "   ")
    expect(notice).to_contain_text("Please type a question.")
    assert page.locator("#chat [data-testid='bot']").count() == answers  # the chat is left alone
    expect(page.locator("body")).not_to_contain_text("Traceback")


def test_page_fetches_nothing_from_other_hosts(page, app) -> None:
    assert app.external == []
