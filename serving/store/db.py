"""Opening the state store: an engine for a database URL, migrated to the latest schema.

SQLite (a local file) is the embedded default; PostgreSQL is the production store.
Writes run in ``Database.write()`` transactions, which on SQLite take the write lock up
front (BEGIN IMMEDIATE) so that read-check-write sequences are atomic, as they are under
PostgreSQL's row locks.

The async server runs store work with ``await db.run(fn)``: a small thread pool of the
database's own, so that long database calls never run on the event loop and a burst of
them does not spread over many threads fighting for the GIL (SQLite does its work
in-process; PostgreSQL gets more threads because its threads mostly wait on the network).
``await db.run_brief(fn)`` runs a short SQLite write transaction on the loop itself when
the write lock is free. This process's SQLite writers queue on one lock of the Database.

SQLite checkpoints its write-ahead log in a thread of its own (``_Checkpointer``), not in
the commit that happens to cross the log's size limit: that commit would wait for the copy
and its fsync (the 1 % of RouteLead calls that took 6-9 ms instead of 0.7).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

__all__ = ["MIGRATIONS_DIR", "Database", "open_database"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_WRITE = "turnwise_write"
_SQLITE_THREADS = 2
_SERVER_THREADS = 8
_CHECKPOINT_SECONDS = 0.5
_RESTART_FRAMES = 1000
_RESTART_WAIT_SECONDS = 0.1
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_NO_WAIT = contextvars.ContextVar("turnwise_sqlite_no_wait", default=False)
_BUSY_TIMEOUT_MS = 30_000
_WAL_LIMIT_BYTES = 16 * 1024 * 1024
log = logging.getLogger(__name__)


class _WriteLockBusy(Exception):
    """BEGIN IMMEDIATE found SQLite's write lock taken (``Database.run_brief``)."""


R = TypeVar("R")


@dataclass(frozen=True)
class Database:
    """A migrated database. ``read()`` and ``write()`` yield a connection inside one
    transaction that commits on success and rolls back on any exception."""

    engine: Engine
    threads: int = _SQLITE_THREADS
    sqlite_file: str | None = None
    """The SQLite database file, checkpointed by ``_Checkpointer``; None otherwise."""
    checkpointer: _Checkpointer | None = field(init=False, repr=False)
    _executor: ThreadPoolExecutor = field(init=False, repr=False)
    _write_lock: threading.RLock | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="turnwise-db")
        object.__setattr__(self, "_executor", pool)
        lock = threading.RLock() if self.engine.dialect.name == "sqlite" else None
        object.__setattr__(self, "_write_lock", lock)
        file = self.sqlite_file
        checkpointer = _Checkpointer(file, lock) if file and lock else None
        object.__setattr__(self, "checkpointer", checkpointer)

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        """Run blocking store work ``fn(*args)`` on the database's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run_brief(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(*args)``, one write transaction of a few indexed statements that it opens
        first thing (RouteLead's), on the event loop where that is the faster path.

        SQLite does its work in-process under the GIL, so a thread gives it no parallelism,
        and the hop there and back cost more than the 0.7 ms transaction: over gRPC at 100
        calls/s RouteLead's p99 went from 16 to 9 ms on the loop. The loop must never wait
        on the write lock, so that BEGIN IMMEDIATE does not wait: when another connection
        (a batch write, the sweeper, another process) holds the lock, ``fn`` runs on the
        threads like ``run``. PostgreSQL, which waits on the network, always uses ``run``."""
        if self._write_lock is not None:  # SQLite
            token = _NO_WAIT.set(True)
            try:
                return fn(*args)
            except _WriteLockBusy:
                pass  # BEGIN failed: nothing ran, nothing to undo
            finally:
                _NO_WAIT.reset(token)
        return await self.run(fn, *args)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        if self.checkpointer is not None:
            self.checkpointer.start()
        lock = self._write_lock
        if lock is None:
            with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
                yield conn
            return
        # SQLite: this process's writers queue on a lock that wakes the next one at once,
        # not in SQLite's busy handler, which polls with sleeps of 1 to 100 ms.
        if not lock.acquire(blocking=not _NO_WAIT.get()):
            raise _WriteLockBusy("another write transaction of this process is open")
        try:
            with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
                yield conn
        finally:
            lock.release()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


class _Checkpointer:
    """Copies a SQLite file's write-ahead log into the database every 0.5 s from a daemon
    thread of its own connection, while the store's connections run with
    ``wal_autocheckpoint`` off. A PASSIVE checkpoint takes no lock that a writer or reader
    waits on, but under a steady stream of writes it never catches up with the last frame,
    and only then does the next writer start the log again from the top: the log grew to
    1 GB in the RouteLead benchmark. So once the log holds more than 1,000 pages (SQLite's
    own limit), a RESTART follows the PASSIVE copy, holding the Database's write lock so
    that this process's writers wait for it on their threads (RouteLead's on the loop go
    there too) while it copies the few frames left and syncs: the next writer starts the
    log again. ``journal_size_limit`` (16 MiB) cuts the file after a restart. Started by
    the first write, stopped by ``close()`` after a last TRUNCATE, which empties the log."""

    def __init__(
        self, path: str, writers: threading.RLock, interval: float = _CHECKPOINT_SECONDS
    ) -> None:
        self.path, self.writers, self.interval = path, writers, interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                thread = threading.Thread(
                    target=self._loop, name="turnwise-sqlite-checkpoint", daemon=True
                )
                thread.start()
                self._thread = thread

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        # A RESTART waits for readers on an older snapshot while it holds the write lock:
        # give up after 0.1 s (the next round retries) rather than stall the writers.
        conn = sqlite3.connect(self.path, timeout=_RESTART_WAIT_SECONDS, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                if not Path(self.path).exists():  # deleted under an unclosed Database
                    return
                if self._checkpoint(conn, "PASSIVE") > _RESTART_FRAMES:
                    with self.writers:
                        self._checkpoint(conn, "RESTART")
            self._checkpoint(conn, "TRUNCATE")
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection, mode: str) -> int:
        """Frames in the log (0 when the checkpoint failed)."""
        try:
            _busy, frames, _copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            return int(frames)
        except sqlite3.Error as err:  # busy or the file is gone: the next round retries
            log.debug("sqlite checkpoint (%s) of %s skipped: %s", mode, self.path, err)
            return 0


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return str(Path(database).expanduser())


def _sqlite_engine(url: str, path: str | None) -> Engine:
    """The engine of a SQLite URL; ``path``, its file (None: in memory), is checkpointed by
    ``_Checkpointer``."""
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000}
    engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        if path is not None:
            cur.execute("PRAGMA wal_autocheckpoint=0")  # _Checkpointer does it
            cur.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT_BYTES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        if not (immediate and _NO_WAIT.get()):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            return
        conn.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as err:
            if getattr(err.orig, "sqlite_errorcode", None) not in _BUSY_CODES:
                raise
            raise _WriteLockBusy(str(err.orig)) from err
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")

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
        path = _sqlite_file(url)
        engine = _sqlite_engine(url, path)
        migrate(engine)
        return Database(engine, _SQLITE_THREADS, path)
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    migrate(engine)
    return Database(engine, _SERVER_THREADS)
