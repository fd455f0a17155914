"""Bad input, tried through the real CLI of a checkout: what went wrong before, what goes wrong now.

    .venv/bin/python bench/hardening.py [--tree DIR] [--models DIR] [--label NAME]

Each probe builds a small corpus (the five sample articles plus one bad thing), runs `briefing index` /
`briefing ask` of the checkout in DIR (default: this one) as a user would, and says "ok" or what failed
(a traceback, a wrong count, a file quoted that should not be...). Run it on an older checkout
(`git worktree add /tmp/base <commit>`, its model folder in --models) to get the before column.
Prints one line per probe and writes bench/results/hardening_<label>.json. No assertions."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ARTICLES = PROJECT / "data" / "articles"
MEETING = "When is the next Security Implementation Group meeting?"


class Probe:
    def __init__(self, tree: Path, models: Path | None, root: Path) -> None:
        self.tree, self.root = tree, root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
        self.env["PYTHONPATH"] = str(tree)
        if models:
            self.env["BRIEFING_MODELS_DIR"] = str(models)

    def corpus(self, name: str) -> Path:
        corpus = self.root / name / "corpus"
        shutil.copytree(ARTICLES, corpus)
        return corpus

    def run(
        self, *args: str, stdin: bytes | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "assistant.cli", *args]
        return subprocess.run(
            command, input=stdin, capture_output=True, env=self.env, cwd=self.tree, timeout=timeout
        )

    def index(self, corpus: Path, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.run(
            "index", "--corpus", str(corpus), "--index", str(corpus.parent / "index"), timeout=timeout
        )

    def ask(self, corpus: Path, question: str | bytes) -> tuple[subprocess.CompletedProcess, dict | None]:
        index = str(corpus.parent / "index")
        if isinstance(question, bytes):
            out = self.run("ask", "--index", index, stdin=question + b"\n")
        else:
            out = self.run("ask", "--json", "--index", index, question)
        try:
            return out, json.loads(out.stdout.decode("utf-8", "replace").splitlines()[0])
        except (ValueError, IndexError):
            return out, None


def traceback(out: subprocess.CompletedProcess) -> bool:
    return b"Traceback" in out.stderr


def p1_invalid_utf8_question(p: Probe) -> str:
    corpus = p.corpus("p1")
    p.index(corpus)
    out, answer = p.ask(corpus, b"When is the meeting? \xff")
    if traceback(out) or answer is None:
        return "traceback" if traceback(out) else f"no JSON (exit {out.returncode})"
    return "ok"


def p2_blank_lines_on_stdin(p: Probe) -> str:
    corpus = p.corpus("p2")
    p.index(corpus)
    out = p.run("ask", "--index", str(corpus.parent / "index"), stdin=f"\n  \n\u00a0\n{MEETING}\n".encode())
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    return "ok" if len(lines) == 4 else f"{len(lines)} output lines for 4 input lines"


def p3_file_name_not_utf8(p: Probe) -> str:
    corpus = p.corpus("p3")
    with open(os.fsencode(corpus) + b"/caf\xe9.txt", "wb") as f:
        f.write("La reunión sobre aduanas será en Laredo.\n".encode())
    out = p.index(corpus)
    if traceback(out):
        return "traceback"
    if out.returncode != 0:
        return f"exit {out.returncode}"
    # Indexed under a safe id (answerable), or skipped with a warning naming it: either is fine.
    _, answer = p.ask(corpus, "¿Dónde será la reunión sobre aduanas?")
    quoted = bool(answer) and any("Laredo" in c["quote"] for c in answer.get("citations", []))
    return "ok" if quoted or b"caf" in out.stderr else "neither indexed nor named"


def p4_one_huge_line(p: Probe) -> str:
    corpus = p.corpus("p4")
    (corpus / "linea.txt").write_text("palabra " * 100_000 + "fin.", encoding="utf-8")
    try:
        out = p.index(corpus, timeout=240)
    except subprocess.TimeoutExpired:
        return "still indexing after 240 s"
    return "traceback" if traceback(out) else "ok"


def p5_file_over_20_mb(p: Probe) -> str:
    corpus = p.corpus("p5")
    (corpus / "enorme.txt").write_text("Una frase corta de relleno. " * 800_000, encoding="utf-8")  # 22 MB
    try:
        out = p.index(corpus, timeout=240)
    except subprocess.TimeoutExpired:
        return "taken whole, silently (still embedding after 240 s)"
    if b"enorme.txt" in out.stderr:
        return "ok"
    return "taken whole, silently"


def p6_link_out_of_the_corpus(p: Probe) -> str:
    corpus = p.corpus("p6")
    secret = corpus.parent / "secreto.txt"
    secret.write_text("La contraseña del servidor es pez espada.", encoding="utf-8")
    (corpus / "fuera.txt").symlink_to(secret)
    (corpus / "bucle.txt").symlink_to(corpus / "bucle.txt")
    out = p.index(corpus)
    if traceback(out):
        return "traceback"
    _, answer = p.ask(corpus, "¿Cuál es la contraseña del servidor?")
    quoted = answer and any("pez espada" in c["quote"] for c in answer.get("citations", []))
    problems = (["the linked file is quoted"] if quoted else []) + (
        ["the loop is not named"] if b"bucle.txt" not in out.stderr else []
    )
    return "; ".join(problems) or "ok"


def p7_bom_and_front_matter(p: Probe) -> str:
    corpus = p.corpus("p7")
    (corpus / "bom.txt").write_bytes("\ufeffdate 2026-01-16\nTítulo\n\nLa cumbre será en Lima.\n".encode())
    (corpus / "nota.md").write_text(
        "---\ntitle: Nota de prensa\n---\n\nEl foro será en Quito.\n", encoding="utf-8"
    )
    (corpus / "ruido.txt").write_bytes(bytes(range(1, 256)) * 40)
    p.index(corpus)
    problems = []
    _, lima = p.ask(corpus, "¿Dónde será la cumbre?")
    cited = [c for c in (lima or {}).get("citations", []) if c["source"] == "bom.txt"]
    if not cited or cited[0]["date"] != "2026-01-16":
        problems.append("BOM hides the date")
    _, quito = p.ask(corpus, "¿Dónde será el foro?")
    cited = [c for c in (quito or {}).get("citations", []) if c["source"] == "nota.md"]
    if not cited or cited[0]["title"] != "Nota de prensa":
        problems.append("front matter ignored")
    _, noise = p.ask(corpus, "¿Qué dice el archivo de ruido?")
    if any(c["source"] == "ruido.txt" for c in (noise or {}).get("citations", [])):
        problems.append("binary indexed as text")
    return "; ".join(problems) or "ok"


def p8_crlf_offsets(p: Probe) -> str:
    corpus = p.corpus("p8")
    (corpus / "crlf.txt").write_bytes("Encabezado\r\n\r\nLa reunión técnica será en Monterrey.\r\n".encode())
    p.index(corpus)
    _, answer = p.ask(corpus, "¿Dónde será la reunión técnica?")
    cited = [c for c in (answer or {}).get("citations", []) if c["source"] == "crlf.txt"]
    if not cited:
        return "not answered"
    text = (corpus / "crlf.txt").read_text(encoding="utf-8")  # the README's recipe: newlines translated
    c = cited[0]
    return "ok" if text[c["start"] : c["end"]] == c["quote"] else "the README's check fails"


def p9_nonsense_caps_nfd(p: Probe) -> str:
    corpus = p.corpus("p9")
    p.index(corpus)
    problems = []
    for nonsense in ("?", "null", "../../../../etc/passwd", "%s%s%s%n {0}"):
        _, answer = p.ask(corpus, nonsense)
        if answer and answer.get("citations"):
            problems.append(f"{nonsense!r} gets citations")
    _, caps = p.ask(corpus, MEETING.upper())
    if not caps or caps.get("abstained", True):
        problems.append("ALL CAPS refused")
    nfd = unicodedata.normalize(
        "NFD", "¿Cuándo es la próxima reunión del Grupo de Implementación de Seguridad?"
    )
    _, answer = p.ask(corpus, nfd)
    if not answer or answer.get("abstained", True):
        problems.append("NFD refused")
    return "; ".join(problems) or "ok"


def p10_rebuild_racing_refresh(p: Probe) -> str:
    corpus = p.corpus("p10")
    p.index(corpus)
    index = str(corpus.parent / "index")
    command = [
        sys.executable,
        "-m",
        "assistant.cli",
        "index",
        "--rebuild",
        "--corpus",
        str(corpus),
        "--index",
        index,
    ]
    rebuild = subprocess.Popen(command, env=p.env, cwd=p.tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    refreshes = [p.run("ask", "--json", "--corpus", str(corpus), "--index", index, MEETING) for _ in range(3)]
    _, err = rebuild.communicate(timeout=300)
    if b"Traceback" in err or any(traceback(r) for r in refreshes):
        return "traceback"
    return "ok"


PROBES: list[Callable[[Probe], str]] = [
    p1_invalid_utf8_question,
    p2_blank_lines_on_stdin,
    p3_file_name_not_utf8,
    p4_one_huge_line,
    p5_file_over_20_mb,
    p6_link_out_of_the_corpus,
    p7_bom_and_front_matter,
    p8_crlf_offsets,
    p9_nonsense_caps_nfd,
    p10_rebuild_racing_refresh,
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=PROJECT)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--label", default="now")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="hardening_") as tmp:
        probe = Probe(args.tree.resolve(), args.models, Path(tmp))
        for check in PROBES:
            try:
                results[check.__name__] = check(probe)
            except Exception as exc:  # the probe itself broke: say so, go on
                results[check.__name__] = f"probe failed: {type(exc).__name__}: {exc}"[:200]
            print(f"{check.__name__:32} {results[check.__name__]}", flush=True)
    out = PROJECT / "bench" / "results" / f"hardening_{args.label}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
