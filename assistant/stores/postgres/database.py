"""One PostgreSQL database as the stores see it: a pool of connections (psycopg 3), its schema brought up to
date by numbered SQL files (`migrations/NNNN_name.sql`, each applied once, in order, in a transaction),
and a session-level advisory lock that keeps to one indexer per database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool, PoolTimeout

from ...errors import IndexBusy, StoreUnavailable

log = logging.getLogger(__name__)

SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 10  # a store that does not answer in this long is reported down, not waited on
POOL_SIZE = 8  # the chat's answer workers (4), the API's threads and an indexer, with room to spare
HNSW_EF_SEARCH = 100  # candidates an HNSW search keeps; ≥ the 50 nearest passages a question asks for
_MIGRATION_LOCK = 0x62726566  # advisory lock ids ("bref"): one migrator, one indexer per database
_INDEX_LOCK = 0x62726567


def redacted(url: str) -> str:
    """The URL without its password, for messages and health checks."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, SQL) of every migration file, in order."""
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            version, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append((int(version), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """A connection pool to one database whose schema has been migrated. Thread-safe."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url, self.where = url, redacted(url)
        self.migrate()
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            configure=_configure,
            open=False,
            name="briefing",
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout as exc:
            raise StoreUnavailable(f"cannot connect to the store at {self.where}") from exc

    def connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise StoreUnavailable(f"cannot connect to the store at {self.where}: {reason}") from exc

    def migrate(self) -> None:
        """Apply the migration files not applied yet, each in its own transaction, under a lock. A
        read-only standby is only checked: its primary migrates it."""
        with self.connect() as conn:
            if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                self._check_standby(conn)
                return
        with self.connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())"
            )
            applied = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in migrations():
                if version in applied:
                    continue
                try:
                    with conn.transaction():
                        conn.execute(sql)
                except psycopg.errors.InsufficientPrivilege as exc:
                    raise StoreUnavailable(
                        f"cannot set up the store at {self.where} ({exc.diag.message_primary}); pgvector "
                        "must be installed in it by a superuser: CREATE EXTENSION vector"
                    ) from exc
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
                log.info("store %s: applied migration %04d %s", self.where, version, name)

    def _check_standby(self, conn: psycopg.Connection) -> None:
        latest = migrations()[-1][0]
        found = conn.execute(
            "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 "
            "ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END"
        ).fetchone()[0]
        if found < latest:
            raise StoreUnavailable(
                f"the store at {self.where} is a read-only standby at schema {found} (this version needs "
                f"{latest}): open its primary once to migrate it"
            )

    def schema(self) -> int:
        with self.cursor() as cur:
            return cur.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0

    @contextmanager
    def cursor(self, binary: bool = False) -> Iterator[psycopg.Cursor]:
        """A cursor outside any transaction (each statement sees the last committed state)."""
        with self._connection() as conn, conn.cursor(binary=binary) as cur:
            yield cur

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor]:
        """One transaction: all of it is committed, or none of it."""
        try:
            with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.errors.ReadOnlySqlTransaction:
            raise StoreUnavailable(
                f"the store at {self.where} is read-only (a standby): index through its primary"
            ) from None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self.pool.connection(timeout=CONNECT_TIMEOUT_S) as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreUnavailable(f"the store at {self.where} does not answer ({exc})") from exc

    @contextmanager
    def index_lock(self) -> Iterator[None]:
        """One indexer per database, whichever machine it runs on (a session advisory lock: a crashed
        indexer's is released with its connection). Raises IndexBusy when another holds it."""
        with self.connect() as conn:
            (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (_INDEX_LOCK,)).fetchone()
            if not got:
                raise IndexBusy(
                    f"another `briefing index` is updating the store at {self.where}; answers use the last "
                    "complete state. Try again when it has finished."
                )
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_INDEX_LOCK,))

    def close(self) -> None:
        self.pool.close()


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    conn.execute(f"SET hnsw.ef_search = {HNSW_EF_SEARCH}")


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def database(url: str) -> Database:
    """The process's one Database for a URL (the three stores of an index share its pool)."""
    with _open_lock:
        if url not in _open:
            _open[url] = Database(url)
        return _open[url]


def exists(url: str) -> bool:
    """Whether the database at `url` holds a migrated store (nothing is created to find out)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            found = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    except psycopg.OperationalError:
        return False
    return bool(found)
