"""The JSON API under load: N concurrent light clients on `POST /api/ask`, against `briefing serve` over
embedded Chroma and over PostgreSQL, in one run, on loopback only.

    .venv/bin/python bench/load.py [--clients 1 5 20] [--requests 300] [--stores chroma postgres]
                                   [--workers 1 2] [--store URL] [--gradio] [--out PATH]

For each store and worker count it starts `briefing serve` in its own process over the sample articles
(Chroma: indexed into a temp index dir; PostgreSQL: a throwaway local server, or --store URL, whose index
is replaced, indexed with `briefing index --store`), waits until it answers, warms it up, then for each N:
N threads, each with one keep-alive HTTP connection (http.client: no client library's event loop), ask
the answerable questions of data/dev_questions.jsonl in turn until --requests have been made. A reply is
an error when it is not a 200 with the answer contract, and wrong when it is not the answer to the
question it was sent with (`question` differs, or no answer pattern matches). Reported: errors, wrong,
p50/p95/max latency, requests/s, and CPU per request of the server's processes (uvicorn and its workers),
of PostgreSQL's (postmaster and backends), and of the clients (this process). --gradio also measures
the chat's Gradio `/ask` through gradio_client (one worker), the issue's starting point.

Prints a table and writes bench/results/load_api.json. Numbers only, no assertions."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import datetime
import http.client
import ipaddress
import json
import platform
import re
import shutil
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

import psutil

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
DEFAULT_OUT = PROJECT / "bench" / "results" / "load_api.json"
QUESTIONS = PROJECT / "data" / "dev_questions.jsonl"
ARTICLES = PROJECT / "data" / "articles"
BRIEFING = str(Path(sys.executable).parent / "briefing")
WARMUP = 20  # requests before the first measured level: models, caches, the pool's connections
START_TIMEOUT_S = 600  # import, model load and indexing the sample articles, on a busy machine
REQUEST_TIMEOUT_S = 120


@dataclass
class Level:
    store: str
    workers: int
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
    server_cpu_ms_per_request: float = 0.0  # briefing serve and its workers
    db_cpu_ms_per_request: float | None = None  # PostgreSQL's processes (postgres runs only)
    client_cpu_ms_per_request: float = 0.0  # this process: the N clients
    examples: list[str] = field(default_factory=list)  # first few errors / wrong replies


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
    return url


def cpu_seconds(process: psutil.Process | None) -> float:
    """User + system CPU of a process and its live descendants."""
    if process is None:
        return 0.0
    total = 0.0
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in family:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


# ------------------------------------------------------------------------------------------ the app
class App:
    """`briefing serve` in its own process, over the sample articles."""

    def __init__(self, workdir: Path, store: str | None, workers: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"serve-{workers}.log"
        args = [BRIEFING, "serve", "--port", str(self.port), "--workers", str(workers)]
        args += (
            ["--store", store] if store else ["--corpus", str(ARTICLES), "--index", str(workdir / "index")]
        )
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT)
        self.process = psutil.Process(self.proc.pid)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        client = Client(self.url)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}); see {self.log}")
            try:
                status, _ = client.ask(_questions()[0]["question"])
                if status == 200:
                    return
            except OSError:  # not listening yet
                client = Client(self.url)
            time.sleep(1.0)
        raise TimeoutError(f"the app did not answer within {START_TIMEOUT_S} s; see {self.log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Client:
    """One keep-alive connection to the API."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)

    def ask(self, question: str) -> tuple[int, dict | None]:
        body = json.dumps({"question": question, "history": []})
        try:
            self.conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnect on the next request
            raise
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, None

    def close(self) -> None:
        self.conn.close()


class GradioClient:
    """The chat's `/ask` event through gradio_client, for comparison."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client as Gradio

        self.client = Gradio(url + "/", verbose=False)

    def ask(self, question: str) -> tuple[int, dict | None]:
        reply = self.client.predict(question, api_name="/ask")
        return (200 if isinstance(reply, dict) and "error" not in reply else 500), reply

    def close(self) -> None:
        self.client.close()


# ---------------------------------------------------------------------------------------- the load
def _questions() -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["answerable"]]


def check(row: dict, status: int, reply: dict | None) -> tuple[bool, bool, str]:
    """(error, wrong, what was seen) for one reply."""
    if status != 200 or not isinstance(reply, dict) or "answer" not in reply:
        return True, False, f"{status} {str(reply)[:200]}"
    answer = reply.get("answer", "")
    same = reply.get("question") == row["question"].strip()
    right = same and any(re.search(p, answer, re.I) for p in row["answer_patterns"])
    return False, not right, f"{reply.get('question')!r} -> {answer[:160]!r}"


def run_level(app: App, level: Level, requests: int, db: psutil.Process | None) -> Level:
    rows = _questions()
    make = GradioClient if level.endpoint == "gradio" else Client
    clients = [make(app.url) for _ in range(level.clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    issued = 0

    def worker(client: Client) -> None:
        nonlocal issued
        while True:
            with lock:
                if issued >= requests:
                    return
                row = rows[issued % len(rows)]
                issued += 1
            started = time.perf_counter()
            try:
                error, wrong, seen = check(row, *client.ask(row["question"]))
            except Exception as exc:
                error, wrong, seen = True, False, f"{type(exc).__name__}: {exc}"[:200]
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                level.errors += error
                level.wrong += wrong
                if (error or wrong) and len(level.examples) < 3:
                    level.examples.append(seen)

    server_cpu, db_cpu, client_cpu = cpu_seconds(app.process), cpu_seconds(db), time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.seconds = round(time.perf_counter() - started, 2)
    server_cpu = cpu_seconds(app.process) - server_cpu
    db_cpu = cpu_seconds(db) - db_cpu
    client_cpu = time.process_time() - client_cpu
    for client in clients:
        client.close()
    n = len(latencies)
    ordered = sorted(latencies)
    if n:
        level.requests = n
        level.p50_ms = round(statistics.median(ordered) * 1000, 1)
        level.p95_ms = round(ordered[min(n - 1, int(0.95 * n))] * 1000, 1)
        level.max_ms = round(ordered[-1] * 1000, 1)
        level.requests_per_s = round(n / level.seconds, 1)
        level.server_cpu_ms_per_request = round(server_cpu * 1000 / n, 1)
        level.client_cpu_ms_per_request = round(client_cpu * 1000 / n, 1)
        if db is not None:
            level.db_cpu_ms_per_request = round(db_cpu * 1000 / n, 1)
    return level


def format_row(level: Level) -> str:
    db = "" if level.db_cpu_ms_per_request is None else f"{level.db_cpu_ms_per_request:.1f}"
    return (
        f"{level.store:<9}{level.workers:>3} {level.endpoint:<7}{level.clients:>4}{level.requests:>6}"
        f"{level.errors:>5}{level.wrong:>6}{level.p50_ms:>8.0f}{level.p95_ms:>8.0f}{level.max_ms:>8.0f}"
        f"{level.requests_per_s:>8.1f}{level.server_cpu_ms_per_request:>8.1f}{db:>7}"
        f"{level.client_cpu_ms_per_request:>8.1f}"
    )


HEADER = (
    f"{'store':<9}{'wk':>3} {'api':<7}{'N':>4}{'reqs':>6}{'err':>5}{'wrong':>6}{'p50 ms':>8}{'p95 ms':>8}"
    f"{'max ms':>8}{'req/s':>8}{'cpu ms/req: serve':>18}{'db':>7}{'client':>8}"
)


def postgres_store(tmp: Path, url: str | None) -> tuple[str, psutil.Process | None, object | None]:
    """(URL, the server's postmaster to measure, the server to remove) with the sample articles indexed."""
    server = None
    if url is None:
        from assistant.stores.postgres.server import LocalServer

        root = tmp / "pg"
        for folder in (tmp.parent, tmp):  # as root the server runs as `postgres`: it must reach its folder
            os.chmod(folder, 0o755)
        server = LocalServer(root, _free_port(), durable=False)
        url = server.up()
    subprocess.run(
        [BRIEFING, "index", "--rebuild", "--store", url, "--corpus", str(ARTICLES)], check=True, cwd=PROJECT
    )
    postmaster = None
    if server is not None:
        postmaster = psutil.Process(int((server.data / "postmaster.pid").read_text().split()[0]))
    return url, postmaster, server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--requests", type=int, default=300, help="per level")
    parser.add_argument("--stores", nargs="+", choices=["chroma", "postgres"], default=["chroma", "postgres"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--store", metavar="URL", help="PostgreSQL database to use (its index is replaced)")
    parser.add_argument("--gradio", action="store_true", help="also the chat's Gradio /ask (one worker)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.store:
        loopback_only(args.store.replace("postgresql://", "http://", 1))

    levels: list[Level] = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="briefing-load-") as tmp:
        for store in args.stores:
            workdir = Path(tmp) / store
            workdir.mkdir()
            url, db, server = (
                postgres_store(workdir, args.store) if store == "postgres" else (None, None, None)
            )
            try:
                for workers in args.workers:
                    endpoints = ["api"] + (["gradio"] if args.gradio and workers == 1 else [])
                    levels += measure(workdir, store, url, workers, endpoints, args, db)
            finally:
                if server is not None:
                    server.remove()
                shutil.rmtree(workdir, ignore_errors=True)

    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "requests_per_level": args.requests,
        "levels": [asdict(level) for level in levels],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def measure(
    workdir: Path,
    store: str,
    url: str | None,
    workers: int,
    endpoints: list[str],
    args,
    db,  # noqa: ANN001
) -> list[Level]:
    app = App(workdir, url, workers)
    levels = []
    try:
        app.wait_ready()
        for row in (_questions() * WARMUP * workers)[: WARMUP * workers]:
            warm = Client(app.url)  # a new connection each: every worker gets some (keep-alive sticks)
            warm.ask(row["question"])
            warm.close()
        for endpoint in endpoints:
            for n in args.clients:
                level = run_level(app, Level(store, workers, endpoint, n), args.requests, db)
                print(format_row(level), flush=True)
                for example in level.examples:
                    print(f"    e.g. {example}", flush=True)
                levels.append(level)
    except BaseException:
        print(
            f"--- the app's log ({store}, {workers} workers):",
            *app.log.read_text().splitlines()[-30:],
            sep="\n",
        )
        raise
    finally:
        app.stop()
    return levels


if __name__ == "__main__":
    main()
