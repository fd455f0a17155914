"""The chat API under load: N concurrent gradio_client clients against a running app, on loopback only.

    .venv/bin/python bench/load.py [--clients 1 5 20] [--requests 200 | --seconds S] [--endpoints ask chat]
                                   [--baseline REV] [--url http://127.0.0.1:PORT/] [--out PATH]

Without --url it starts the app itself (`assistant.ui.launch`, as `briefing serve` does) in a separate
process on a free 127.0.0.1 port, over the sample articles indexed into a temp index dir, and waits
until it answers. `--baseline REV` first runs the same load against the code of git revision REV
(`git archive` into a temp dir, started the same way), so that before and after are measured in one run
on the same machine. `--env NAME=VALUE` passes settings (e.g. BRIEFING_ANSWER_WORKERS=1) to the app(s)
this script starts.

For each endpoint and each N: N threads, each with its own `gradio_client.Client` (connected before the
clock starts), ask the answerable questions of data/dev_questions.jsonl in turn until --requests have
been made (or --seconds have passed). A reply counts as an error when the call raises or returns an
error message, and as wrong when it is not the answer to the question it was sent with (/ask: the
`question` field differs or no answer pattern matches; /chat: the last turn in the returned chat is not
that question and its answer). Reported: errors, wrong, p50/p95/max latency, requests/s, and the CPU the
server process used per request (`/proc`, Linux; the clients run in this process and use CPU too).

Prints a table and writes bench/results/load.json. Numbers only, no assertions."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import datetime
import html
import ipaddress
import json
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gradio_client import Client

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT / "bench" / "results" / "load.json"
QUESTIONS = PROJECT / "data" / "dev_questions.jsonl"
ARTICLES = PROJECT / "data" / "articles"
WARMUP = 10  # requests per endpoint before the first measured level
START_TIMEOUT_S = 600  # import, model load and indexing the sample articles, on a busy machine
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Level:
    label: str
    endpoint: str
    clients: int
    requests: int = 0
    errors: int = 0
    wrong: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    requests_per_s: float = 0.0
    server_cpu_ms_per_request: float | None = None
    client_cpu_ms_per_request: float = 0.0  # this process: the N gradio_client clients
    examples: list[str] = field(default_factory=list)  # first few errors / wrong replies


# ------------------------------------------------------------------------------------------ the app
class App:
    """The chat started from a code tree in its own process, over the sample articles."""

    def __init__(self, code: Path, workdir: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / "server.log"
        environ = {
            **os.environ,
            **env,
            "PYTHONPATH": str(code),
            "BRIEFING_CORPUS_DIR": str(ARTICLES),
            "BRIEFING_INDEX_DIR": str(workdir / "index"),
            "BRIEFING_HOST": "127.0.0.1",
            "BRIEFING_PORT": str(self.port),
        }
        environ.pop("GRADIO_TEMP_DIR", None)
        script = (
            "import assistant; print('code:', assistant.__file__, flush=True); "
            "from assistant.settings import Settings; from assistant.ui import launch; launch(Settings())"
        )
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", script], cwd=code, env=environ, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        question = _questions()[0]["question"]
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}); see {self.log}")
            try:
                answer = Client(self.url, verbose=False).predict(question, api_name="/ask")
                if "error" not in answer:
                    return
            except Exception:  # not listening yet
                pass
            time.sleep(1.0)
        raise TimeoutError(f"the app did not answer within {START_TIMEOUT_S} s; see {self.log}")

    def code(self) -> str:
        """Where the app's `assistant` package was imported from (the first line of its log)."""
        first = self.log.read_text(errors="replace").splitlines()[:1]
        return first[0].removeprefix("code: ") if first else "?"

    def cpu_seconds(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_only(url: str) -> str:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing to load {url}: this benchmark only runs against loopback addresses")
    return url if url.endswith("/") else url + "/"


def baseline_tree(rev: str, into: Path) -> Path:
    """The project at git revision `rev`, unpacked into `into`."""
    archive = subprocess.run(["git", "archive", rev], cwd=PROJECT, check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


# ---------------------------------------------------------------------------------------- the load
def _questions() -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["answerable"]]


def check(endpoint: str, row: dict, reply: object) -> tuple[bool, bool, str]:
    """(error, wrong, what was seen) for one reply."""
    if endpoint == "ask":
        if not isinstance(reply, dict) or "error" in reply:
            return True, False, str(reply)[:200]
        answer = reply.get("answer", "")
        same = reply.get("question") == row["question"].strip()
        right = same and any(re.search(p, answer, re.I) for p in row["answer_patterns"])
        return False, not right, f"{reply.get('question')!r} -> {answer[:160]!r}"
    chat = reply[1] if isinstance(reply, (list, tuple)) and len(reply) > 1 else None
    if not isinstance(chat, list) or len(chat) < 2:
        return True, False, str(reply)[:200]
    asked, said = (_text(m.get("content")) for m in chat[-2:])
    same = " ".join(asked.split()) == " ".join(row["question"].split())
    right = same and any(re.search(p, said, re.I) for p in row["answer_patterns"])
    return False, not right, f"{asked[:80]!r} -> {said[:160]!r}"


def _text(content: object) -> str:
    """A chat message's text: Gradio 6 sends content as a list of {"type": "text", "text": ...} parts."""
    if isinstance(content, list):
        content = " ".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
        )
    return html.unescape(_TAGS.sub(" ", str(content))).strip()


def call(client: Client, endpoint: str, question: str) -> object:
    if endpoint == "ask":
        return client.predict(question, api_name="/ask")
    return client.predict(question, [], api_name="/chat")


def run_level(
    url: str, label: str, endpoint: str, n: int, requests: int, seconds: float | None, app: App | None
) -> Level:
    rows = _questions()
    clients = [Client(url, verbose=False) for _ in range(n)]
    level = Level(label, endpoint, n)
    latencies: list[float] = []
    lock = threading.Lock()
    issued = 0
    deadline = time.monotonic() + seconds if seconds else None

    def worker(client: Client) -> None:
        nonlocal issued
        while True:
            with lock:
                if (deadline is None and issued >= requests) or (deadline and time.monotonic() >= deadline):
                    return
                row = rows[issued % len(rows)]
                issued += 1
            started = time.perf_counter()
            try:
                reply = call(client, endpoint, row["question"])
                error, wrong, seen = check(endpoint, row, reply)
            except Exception as exc:
                error, wrong, seen = True, False, f"{type(exc).__name__}: {exc}"[:200]
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                level.errors += error
                level.wrong += wrong
                if (error or wrong) and len(level.examples) < 3:
                    level.examples.append(seen)

    cpu_before = app.cpu_seconds() if app else None
    client_cpu = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.seconds = round(time.perf_counter() - started, 2)
    cpu_after = app.cpu_seconds() if app else None
    client_cpu = time.process_time() - client_cpu
    for client in clients:
        client.close()
    level.requests = len(latencies)
    ordered = sorted(latencies)
    if ordered:
        level.p50_ms = round(statistics.median(ordered) * 1000, 1)
        level.p95_ms = round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1)
        level.max_ms = round(ordered[-1] * 1000, 1)
        level.requests_per_s = round(len(ordered) / level.seconds, 1)
        level.client_cpu_ms_per_request = round(client_cpu * 1000 / len(ordered), 1)
    if cpu_before is not None and cpu_after is not None and ordered:
        level.server_cpu_ms_per_request = round((cpu_after - cpu_before) * 1000 / len(ordered), 1)
    return level


def measure(url: str, label: str, args: argparse.Namespace, app: App | None) -> list[Level]:
    levels = []
    for endpoint in args.endpoints:
        warm = Client(url, verbose=False)
        for row in (_questions() * WARMUP)[:WARMUP]:
            call(warm, endpoint, row["question"])
        warm.close()
        for n in args.clients:
            level = run_level(url, label, endpoint, n, args.requests, args.seconds, app)
            print(format_row(level), flush=True)
            levels.append(level)
    return levels


def format_row(level: Level) -> str:
    server = "" if level.server_cpu_ms_per_request is None else f"{level.server_cpu_ms_per_request:.0f}"
    return (
        f"{level.label:<28} /{level.endpoint:<5}{level.clients:>4}{level.requests:>6}{level.errors:>5}"
        f"{level.wrong:>6}{level.p50_ms:>9.0f}{level.p95_ms:>9.0f}{level.max_ms:>9.0f}"
        f"{level.requests_per_s:>8.1f}{server:>9}{level.client_cpu_ms_per_request:>9.0f}"
    )


HEADER = (
    f"{'run':<28} {'api':<6}{'N':>3}{'reqs':>6}{'err':>5}{'wrong':>6}{'p50 ms':>9}{'p95 ms':>9}"
    f"{'max ms':>9}{'req/s':>8}{'cpu ms/req: server':>19}{'clients':>9}"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--requests", type=int, default=200, help="per endpoint and client count")
    parser.add_argument("--seconds", type=float, default=None, help="run each level this long instead")
    parser.add_argument("--endpoints", nargs="+", choices=["ask", "chat"], default=["ask", "chat"])
    parser.add_argument("--url", help="attach to a running app (loopback only) instead of starting one")
    parser.add_argument("--baseline", metavar="REV", help="also measure the code at this git revision, first")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="for started apps")
    parser.add_argument("--label", default="after (this tree)", help="name of the run of this tree")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)

    runs: list[tuple[str, Path | None]] = []
    if args.url:
        runs.append((f"attached {args.url}", None))
    else:
        if args.baseline:
            runs.append((f"before ({args.baseline})", Path("baseline")))
        runs.append((args.label, PROJECT))

    levels: list[Level] = []
    codes: dict[str, str] = {}  # run label -> where its app imported `assistant` from
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="briefing-load-") as tmp:
        for i, (label, code) in enumerate(runs):
            if code is None:
                levels += measure(loopback_only(args.url), label, args, None)
                continue
            if code == Path("baseline"):
                code = baseline_tree(args.baseline, Path(tmp) / "baseline")
            workdir = Path(tmp) / f"run{i}"
            workdir.mkdir()
            app = App(code, workdir, env)
            try:
                app.wait_ready()
                codes[label] = app.code()
                print(f"{label}: {codes[label]}", flush=True)
                levels += measure(app.url, label, args, app)
            except BaseException:
                print(f"--- the app's log ({label}):", *app.log.read_text().splitlines()[-30:], sep="\n")
                raise
            finally:
                app.stop()

    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "gradio": _version("gradio"),
        "gradio_client": _version("gradio_client"),
        "requests_per_level": None if args.seconds else args.requests,
        "seconds_per_level": args.seconds,
        "env": env,
        "code": codes,
        "levels": [asdict(level) for level in levels],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
