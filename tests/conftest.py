"""Shared fixtures: databases (SQLite file and PostgreSQL) and a real gRPC server on
127.0.0.1 running in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
import sqlalchemy

from serving.config import ServerConfig
from serving.server import create_server, mark_serving
from serving.store.db import Database, open_database

T = TypeVar("T")

PG_URL = os.environ.get("TURNWISE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("TURNWISE_REQUIRE_PG", "") == "1"


def _pg_reason() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # any connection failure means: no server to test against
        return f"PostgreSQL not reachable at {PG_URL}: {type(err).__name__}"


_PG_REASON = _pg_reason()


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """A CLI test's ``main()`` points the root logger at that test's captured stderr,
    which pytest closes afterwards: put the handlers back so that later tests (and their
    server threads) do not log into a closed stream."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    if _PG_REASON is not None:
        if REQUIRE_PG:
            pytest.fail(f"TURNWISE_REQUIRE_PG=1 but {_PG_REASON}")
        pytest.skip(_PG_REASON)
    schema = f"tw_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'turnwise.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


class RunningServer:
    """A real Turnwise gRPC server on 127.0.0.1:<free port>, in a background thread."""

    def __init__(
        self, config: ServerConfig, db: Database, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._clock = clock
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._config = config
        self._db = db
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("server did not start within 60 s")
        if self._error is not None:
            raise self._error
        self.address = f"127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as err:  # surfaced to the test thread
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        if self._clock is None:
            made = create_server(self._config, self._db)
        else:
            made = create_server(self._config, self._db, clock=self._clock)
        self.server, self.port, self.runtime = made
        await self.server.start()
        await mark_serving(self.runtime)

    def stop(self) -> None:
        async def _stop() -> None:
            await self.server.stop(1)
            if self.runtime.sweeper is not None:
                self.runtime.sweeper.cancel()
            self.runtime.cpu.shutdown()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's event loop (e.g. ``runtime.leads.sweep()``)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(60)


@pytest.fixture
def server_config() -> ServerConfig:
    return ServerConfig(host="127.0.0.1", port=0, metrics_port=-1, load_demo=False, cpu_workers=1)


@pytest.fixture
def server(server_config: ServerConfig, db: Database) -> Iterator[RunningServer]:
    running = RunningServer(server_config, db)
    yield running
    running.stop()


@pytest.fixture
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch


def start_serve_process(
    tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str, list[str]]:
    """`turnwise serve` in a child process on a free port; returns the process, the address
    it printed, and the lines it printed up to then. The caller stops the process."""
    cmd = [sys.executable, "-m", "serving.cli", "serve", "--port", "0", "--metrics-port", "-1"]
    cmd += ["--database-url", f"sqlite:///{tmp_path / 'tw.db'}", *extra]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # blocks until the server prints; a dead server ends the loop
        lines.append(line)
        if line.startswith("Turnwise is listening on "):
            return proc, line.split()[4], lines
    proc.wait(10)
    stderr = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"server exited {proc.returncode}: {''.join(lines)} {stderr}")
