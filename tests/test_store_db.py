"""The SQLite store's own mechanics: the write-ahead log checkpointed off the request path,
and ``Database.run_brief`` (on the event loop unless the write lock is taken)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from serving.store.db import open_database


def _wal_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def test_commits_leave_the_log_to_the_checkpointer_which_empties_it(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    db = open_database(f"sqlite:///{path}")
    try:
        with db.write() as conn:
            conn.execute(text("CREATE TABLE blob (k INTEGER PRIMARY KEY, v BLOB)"))
        with db.write() as conn:  # about 1,500 pages: over the default limit of 1,000
            for k in range(1500):
                conn.execute(text("INSERT INTO blob VALUES (:k, :v)"), {"k": k, "v": b"x" * 4000})
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        checkpointer = db.checkpointer
        assert checkpointer is not None and checkpointer._thread is not None
        assert checkpointer._thread.is_alive()
    finally:
        db.close()
    assert not checkpointer._thread.is_alive()
    assert _wal_pages(path) == 0  # the last TRUNCATE at close
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM blob").fetchone() == (1500,)


@pytest.mark.parametrize("holder", ["another connection", "a thread of this process"])
def test_run_brief_runs_on_the_loop_or_on_a_thread_while_the_lock_is_taken(
    tmp_path: Path, holder: str
) -> None:
    path = tmp_path / "t.db"
    db = open_database(f"sqlite:///{path}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE n (k INTEGER PRIMARY KEY)"))

    def insert(k: int) -> str:
        with db.write() as conn:
            conn.execute(text("INSERT INTO n VALUES (:k)"), {"k": k})
        return threading.current_thread().name

    async def main() -> None:
        loop_thread = threading.current_thread().name
        assert await db.run_brief(insert, 1) == loop_thread
        release = threading.Event()
        if holder == "another connection":  # another process, as SQLite sees it
            raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            raw.execute("BEGIN IMMEDIATE")
            threading.Timer(0.3, lambda: (raw.commit(), raw.close())).start()
        else:
            held = threading.Event()

            def hold() -> None:
                with db.write():
                    held.set()
                    release.wait()

            threading.Thread(target=hold).start()
            held.wait()
            threading.Timer(0.3, release.set).start()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        where = await db.run_brief(insert, 2)
        ticker.cancel()
        assert where.startswith("turnwise-db")  # waited on a thread ...
        assert time.monotonic() - started >= 0.25
        assert ticks >= 10  # ... while the loop kept running

    try:
        asyncio.run(main())
        with db.read() as conn:
            assert conn.execute(text("SELECT k FROM n ORDER BY k")).scalars().all() == [1, 2]
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        db.close()
