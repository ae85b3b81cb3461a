"""Opening the state store: an engine for a database URL, migrated to the latest schema.

SQLite (a local file) is the embedded default; PostgreSQL is the production store.
Writes run in ``Database.write()`` transactions, which on SQLite take the write lock up
front (BEGIN IMMEDIATE) so that read-check-write sequences are atomic, as they are under
PostgreSQL's row locks.

The async server runs store work with ``await db.run(fn)``: a small thread pool of the
database's own, so that database calls never run on the event loop and a burst of them
does not spread over many threads fighting for the GIL (SQLite does its work in-process;
PostgreSQL gets more threads because its threads mostly wait on the network).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["MIGRATIONS_DIR", "Database", "open_database"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_WRITE = "turnwise_write"
_SQLITE_THREADS = 2
_SERVER_THREADS = 8

R = TypeVar("R")


@dataclass(frozen=True)
class Database:
    """A migrated database. ``read()`` and ``write()`` yield a connection inside one
    transaction that commits on success and rolls back on any exception."""

    engine: Engine
    threads: int = _SQLITE_THREADS
    _executor: ThreadPoolExecutor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="turnwise-db")
        object.__setattr__(self, "_executor", pool)

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        """Run blocking store work ``fn(*args)`` on the database's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str) -> Database:
    """Engine for ``url`` (``sqlite:///path.db`` or ``postgresql+psycopg://...``), migrated."""
    if url.startswith("sqlite"):
        engine, threads = _sqlite_engine(url), _SQLITE_THREADS
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
        threads = _SERVER_THREADS
    migrate(engine)
    return Database(engine, threads)
