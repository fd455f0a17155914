"""Extraction speed of each document format: documents of about SIZE MB are generated with the same
libraries the tests use (fpdf2, python-docx, the email package), then assistant.formats.extract() is
timed on them (median of a few runs; one process, this machine's load included).

    .venv/bin/python bench/formats.py [--sizes 1] [--runs 3] [--json bench/results/formats.json]

Several sizes (e.g. --sizes 0.5 1 2) show whether time grows linearly. No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from assistant.ingestion.formats import extract  # noqa: E402

MB = 1_000_000
WORDS = (
    "el la de que y en los se del las un por con no una su para es al lo como más pero sus le ya o "
    "secretario reunión seguridad frontera cooperación cárteles armas fentanilo acuerdo gobierno "
    "cancillería informe decomisos trimestre delegación grupo implementación próxima enero México "
    "Estados Unidos acciones tangibles tráfico combate comunidades resultados verificables"
).split()


def paragraphs(chars: int, seed: int = 13) -> list[str]:
    """Spanish-looking paragraphs of 3-6 sentences, about `chars` characters in all."""
    rng, out, total = random.Random(seed), [], 0
    while total < chars:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(WORDS, k=rng.randint(8, 25))
            sentences.append(" ".join(words).capitalize() + f" {rng.randint(1, 2026)}.")
        out.append(" ".join(sentences))
        total += len(out[-1]) + 1
    return out


def text_doc(size: float) -> bytes:
    return "\n\n".join(paragraphs(int(size * MB))).encode()


def html_doc(size: float) -> bytes:
    nav = "".join(f'<li><a href="/s{i}">Sección {i}</a></li>' for i in range(30))
    body = "".join(f"<p>{p}</p>" for p in paragraphs(int(size * MB * 0.97)))
    return (
        '<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Nota larga</title>'
        '<meta property="article:published_time" content="2026-01-16"></head><body>'
        f"<nav><ul>{nav}</ul></nav><main><article><h1>Nota larga</h1>{body}</article>"
        '<section class="comments"><p>Un comentario.</p></section></main></body></html>'
    ).encode()


def pdf_doc(size: float) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 16, tzinfo=UTC))
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    # content streams are compressed (~2x), so a 1 MB file holds ~2 MB of text
    for paragraph in paragraphs(int(size * MB * 2.0)):
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    return bytes(pdf.output())


def docx_doc(size: float) -> bytes:
    import docx

    document = docx.Document()
    # the XML is zipped (~4x); a table every 20 paragraphs
    for i, paragraph in enumerate(paragraphs(int(size * MB * 4.0)), 1):
        document.add_paragraph(paragraph)
        if i % 20 == 0:
            table = document.add_table(rows=3, cols=3)
            for cell in table._cells:
                cell.text = paragraph[:40]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def eml_doc(size: float) -> bytes:
    message = EmailMessage()
    message["From"], message["Subject"] = "Ana <ana@example.org>", "Informe"
    message["Date"] = "Fri, 16 Jan 2026 10:00:00 -0600"
    body = "\n\n".join(paragraphs(int(size * MB * 0.85)))  # quoted-printable grows accented text
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


def feed_doc(size: float) -> bytes:
    items = "".join(
        f"<item><title>Nota {i}</title><link>https://example.org/{i}</link>"
        f"<pubDate>Fri, 16 Jan 2026 10:00:00 -0600</pubDate><description>&lt;p&gt;{p}&lt;/p&gt;</description></item>"
        for i, p in enumerate(paragraphs(int(size * MB * 0.75)))
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()


MAKERS: dict[str, tuple[str, Callable[[float], bytes]]] = {
    "text": ("doc.txt", text_doc),
    "markdown": ("doc.md", lambda size: b"---\ntitle: Nota\ndate: 2026-01-16\n---\n" + text_doc(size)),
    "html": ("doc.html", html_doc),
    "pdf": ("doc.pdf", pdf_doc),
    "docx": ("doc.docx", docx_doc),
    "eml": ("doc.eml", eml_doc),
    "feed": ("doc.xml", feed_doc),
}


def measure(name: str, data: bytes, runs: int) -> tuple[float, int, int]:
    """(median seconds, characters of text out, articles out)."""
    times, items = [], []
    for _ in range(runs):
        start = time.perf_counter()
        items = extract(data, name)
        times.append(time.perf_counter() - start)
    return statistics.median(times), sum(len(item.text) for item in items), len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1.0], help="document sizes in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=list(MAKERS), choices=list(MAKERS))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # trafilatura's notes on long documents are not the point here
    rows = []
    print(f"{'format':<9} {'file MB':>8} {'text MB':>8} {'items':>6} {'seconds':>8} {'s per file MB':>14}")
    for fmt in args.formats:
        name, make = MAKERS[fmt]
        for size in args.sizes:
            data = make(size)
            seconds, chars, count = measure(name, data, args.runs)
            row = {
                "format": fmt,
                "file_mb": len(data) / MB,
                "text_mb": chars / MB,
                "items": count,
                "seconds": seconds,
            }
            rows.append(row)
            print(
                f"{fmt:<9} {row['file_mb']:>8.2f} {row['text_mb']:>8.2f} {count:>6} {seconds:>8.3f}"
                f" {seconds / row['file_mb']:>14.3f}",
                flush=True,
            )
    if args.json:
        meta = {
            "date": datetime.now(UTC).date().isoformat(),
            "machine": platform.platform(),
            "runs": args.runs,
        }
        args.json.write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
