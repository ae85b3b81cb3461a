"""The job runner: long-running work off the event loop, with progress, cancellation and
watchers.

A service starts a job with ``await runner.start(kind, work, total)`` (or creates the job in
its own idempotent transaction with ``serving.store.jobs.create_job`` and hands it over with
``await runner.enqueue(record, work)``). ``work(ctx)`` runs in a worker thread and returns
the serialized result (bytes), which the store keeps for the job. The work reports
``ctx.progress(done, total, message)`` and checks ``ctx.cancelled()`` at its checkpoints,
raising ``JobCancelled`` (or returning) once it is true.

At most ``max_running`` jobs run at once; the others wait QUEUED, first in first out.
Progress reaches watchers at once (in memory) and the store at most every
``progress_seconds`` (the last report is always written, at the latest with the job's end).

Jobs do not survive a restart in this version: the work lives in this process. At server
start ``fail_interrupted()`` marks the jobs a previous process left unfinished FAILED
("interrupted: ..."), and ``close()`` stops the jobs of this process at their next
checkpoint and marks them the same way. One server process per database is assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from serving.store import jobs as store
from serving.store.db import Database
from serving.store.jobs import JobKind, JobRecord, JobState
from turnwise.errors import FailedPrecondition, TurnwiseError

__all__ = ["JobCancelled", "JobContext", "JobRunner", "JobWork"]

log = logging.getLogger("turnwise.jobs")

R = TypeVar("R")
_CANCELLED = "cancelled by CancelJob"


class JobCancelled(Exception):
    """Raised by a job's work at a checkpoint once ``JobContext.cancelled()`` is true."""


class _LiveJob:
    """A job of this process: its latest snapshot and the watchers' wake-up event (both
    touched on the event loop only), and what the worker thread shares with the loop."""

    def __init__(self, record: JobRecord, work: JobWork) -> None:
        self.record = record
        self.work = work
        self.changed = asyncio.Event()
        self.stop = threading.Event()  # the work should stop at its next checkpoint
        self.by_user = False  # the stop came from CancelJob (not from shutdown)
        self.lock = threading.Lock()
        self.pending: tuple[int, int, str] | None = None  # reported, not yet applied
        self.dirty = False  # the snapshot's progress is not yet in the store
        self.persister: asyncio.Task[None] | None = None
        self.task: asyncio.Task[None] | None = None

    def publish(self, record: JobRecord) -> None:
        """Take a new snapshot and wake every watcher."""
        self.record = record
        self.changed.set()
        self.changed = asyncio.Event()


class JobContext:
    """What a job's work is given. Every method is safe to call from any thread."""

    def __init__(
        self, live: _LiveJob, loop: asyncio.AbstractEventLoop, apply: Callable[[_LiveJob], None]
    ) -> None:
        self._live, self._loop, self._apply = live, loop, apply
        self._job_id = live.record.job_id

    @property
    def job_id(self) -> str:
        return self._job_id

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report ``done`` of ``total`` work items (total 0 = not yet known). Watchers see
        it at once; the store gets it throttled, and always the last report."""
        store.check_progress(done, total)
        with self._live.lock:
            schedule = self._live.pending is None
            self._live.pending = (done, total, message)
        if schedule:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the server stopped
                self._loop.call_soon_threadsafe(self._apply, self._live)

    def cancelled(self) -> bool:
        """True once the job was cancelled (CancelJob) or the server is stopping; the work
        should then raise ``JobCancelled`` (or return) at its next checkpoint."""
        return self._live.stop.is_set()

    def check_cancelled(self) -> None:
        """A checkpoint: raise ``JobCancelled`` if ``cancelled()``."""
        if self.cancelled():
            raise JobCancelled(f"job {self.job_id} was cancelled")


JobWork = Callable[[JobContext], bytes]
"""A job's work: runs in a worker thread, returns the serialized result."""


@dataclass(frozen=True)
class _Outcome:
    state: JobState
    message: str
    result: bytes | None = None


def _in_write(db: Database, fn: Callable[..., R], *args: Any) -> R:
    with db.write() as conn:
        return fn(conn, *args)


def _in_read(db: Database, fn: Callable[..., R], *args: Any) -> R:
    with db.read() as conn:
        return fn(conn, *args)


class JobRunner:
    """Runs jobs of this server process; see the module docstring."""

    def __init__(
        self,
        db: Database,
        max_running: int = 2,
        close_seconds: float = 10.0,
        progress_seconds: float = 0.2,
        poll_seconds: float = 1.0,
    ) -> None:
        if max_running < 1:
            raise ValueError(f"max_running must be >= 1, got {max_running}")
        self.db = db
        self.max_running = max_running
        self._close_seconds = close_seconds
        self._progress_seconds = progress_seconds
        self._poll_seconds = poll_seconds
        self._live: dict[str, _LiveJob] = {}
        self._queue: deque[_LiveJob] = deque()
        self._running: set[_LiveJob] = set()
        self._threads = ThreadPoolExecutor(max_running, thread_name_prefix="turnwise-job")
        self._closed = False

    # --- starting -------------------------------------------------------------------

    def fail_interrupted(self) -> int:
        """At server start: mark the jobs a previous process left QUEUED or RUNNING as
        FAILED ("interrupted: ..."). Blocking; returns how many."""
        count = _in_write(self.db, store.fail_interrupted_jobs)
        if count:
            log.warning("marked %d unfinished jobs of a previous run FAILED", count)
        return count

    async def start(self, kind: JobKind, work: JobWork, total: int = 0) -> JobRecord:
        """Create a QUEUED job and run ``work`` when a slot is free."""
        self._check_open()
        record = await self.db.run(_in_write, self.db, store.create_job, kind, total)
        return await self.enqueue(record, work)

    async def enqueue(self, record: JobRecord, work: JobWork) -> JobRecord:
        """Run ``work`` for a QUEUED job created by the caller (``store.create_job`` in the
        caller's own transaction, e.g. with an idempotency key)."""
        self._check_open()
        if record.state is not JobState.QUEUED or record.job_id in self._live:
            raise FailedPrecondition(
                "job_id", f"job {record.job_id!r} is {record.state.value} or already running"
            )
        live = _LiveJob(record, work)
        self._live[record.job_id] = live
        self._queue.append(live)
        self._pump()
        return record

    def _check_open(self) -> None:
        if self._closed:
            raise FailedPrecondition("", "the server is shutting down; start the job again later")

    def _pump(self) -> None:
        while self._queue and len(self._running) < self.max_running:
            live = self._queue.popleft()
            self._running.add(live)
            live.task = asyncio.get_running_loop().create_task(self._run(live))

    # --- running --------------------------------------------------------------------

    async def _run(self, live: _LiveJob) -> None:
        job_id = live.record.job_id
        try:
            try:
                record = await self._write(store.set_state, job_id, JobState.RUNNING)
            except FailedPrecondition:  # cancelled while it waited
                live.publish(await self._read(store.get_job, job_id))
                return
            live.publish(record)
            await self._finish(live, await self._execute(live))
        finally:
            self._running.discard(live)
            self._live.pop(job_id, None)
            if not self._closed:
                self._pump()

    async def _execute(self, live: _LiveJob) -> _Outcome:
        loop = asyncio.get_running_loop()
        ctx = JobContext(live, loop, self._apply_progress)
        try:
            result = await loop.run_in_executor(self._threads, live.work, ctx)
        except JobCancelled:
            return self._stopped(live)
        except TurnwiseError as err:
            return _Outcome(JobState.FAILED, str(err))
        except Exception:
            return _Outcome(JobState.FAILED, _internal_error(live.record.job_id))
        if live.stop.is_set():
            return self._stopped(live)
        if not isinstance(result, bytes):
            log.error("job %s: its work returned %s, not bytes", live.record.job_id, type(result))
            return _Outcome(JobState.FAILED, _internal_error(live.record.job_id, log_trace=False))
        return _Outcome(JobState.SUCCEEDED, live.record.message, result)

    def _stopped(self, live: _LiveJob) -> _Outcome:
        if live.by_user:
            return _Outcome(JobState.CANCELLED, _CANCELLED)
        return _Outcome(JobState.FAILED, store.INTERRUPTED_MESSAGE)

    async def _finish(self, live: _LiveJob, outcome: _Outcome) -> None:
        """Write the last progress, the result and the terminal state in one transaction,
        then tell the watchers."""
        if live.persister is not None:
            live.persister.cancel()  # its writes only apply while the job is RUNNING
        snap = live.record

        def write(conn: Any) -> JobRecord:
            store.update_progress(conn, snap.job_id, snap.done, snap.total, snap.message)
            if outcome.result is not None:
                store.set_result(conn, snap.job_id, outcome.result)
            return store.set_state(conn, snap.job_id, outcome.state, outcome.message)

        try:
            record = await self.db.run(_in_write, self.db, write)
        except FailedPrecondition:  # close() gave up waiting and marked it already
            record = await self._read(store.get_job, snap.job_id)
        live.publish(record)

    # --- progress -------------------------------------------------------------------

    def _apply_progress(self, live: _LiveJob) -> None:
        """On the loop: take the latest report into the snapshot; persist it throttled."""
        with live.lock:
            pending, live.pending = live.pending, None
        if pending is None or live.record.state is not JobState.RUNNING:
            return
        done, total, message = pending
        now = datetime.now(UTC)
        live.publish(
            dataclasses.replace(
                live.record, done=done, total=total, message=message, updated_at=now
            )
        )
        live.dirty = True
        if live.persister is None:
            live.persister = asyncio.get_running_loop().create_task(self._persist(live))

    async def _persist(self, live: _LiveJob) -> None:
        """Write the snapshot's progress, then at most one write per ``progress_seconds``
        while more progress comes. A cancel requested through the store (by another
        process) is noticed here."""
        try:
            while live.dirty:
                live.dirty = False
                snap = live.record
                try:
                    stored = await self._write(
                        store.update_progress, snap.job_id, snap.done, snap.total, snap.message
                    )
                except TurnwiseError:  # the job ended meanwhile
                    return
                except Exception:
                    log.exception("job %s: progress not stored; retrying", snap.job_id)
                    live.dirty = True
                else:
                    if stored.cancel_requested and not live.stop.is_set():
                        self._note_cancel(live)
                await asyncio.sleep(self._progress_seconds)
        finally:
            live.persister = None

    # --- cancelling and watching ----------------------------------------------------

    async def cancel_requested(self, job_id: str) -> None:
        """Act on a cancel request already written to the store (``store.request_cancel``,
        by CancelJob): a job queued here ends CANCELLED now, a running one at its next
        checkpoint. Jobs of other processes are left to the store flag."""
        live = self._live.get(job_id)
        if live is None or live.stop.is_set():
            return
        if live in self._queue:
            self._queue.remove(live)
            self._live.pop(job_id, None)
            live.publish(await self._read(store.get_job, job_id))
            return
        self._note_cancel(live)

    def _note_cancel(self, live: _LiveJob) -> None:
        live.by_user = True
        live.stop.set()
        if live.record.state is JobState.RUNNING:
            live.publish(
                dataclasses.replace(
                    live.record,
                    cancel_requested=True,
                    message=store.CANCEL_REQUESTED_MESSAGE,
                    updated_at=datetime.now(UTC),
                )
            )

    async def get(self, job_id: str) -> JobRecord:
        """The latest snapshot: in memory for a job of this process (fresher progress than
        the store), else from the store (NotFound for an unknown id)."""
        live = self._live.get(job_id)
        if live is not None:
            return live.record
        return await self._read(store.get_job, job_id)

    async def watch(self, job_id: str) -> AsyncGenerator[JobRecord, None]:
        """The job now, then each change until (and including) its terminal state. Changes
        that come faster than the consumer reads are merged into the latest snapshot.
        Jobs of this process wake the watcher at once; others are read every
        ``poll_seconds``. NotFound for an unknown id, before anything is yielded."""
        last: JobRecord | None = None
        while True:
            live = self._live.get(job_id)
            if live is not None:
                async for record in self._follow(live, last):
                    yield record
                return
            record = await self._read(store.get_job, job_id)
            if record != last:
                yield record
                last = record
            if record.state.ended:
                return
            if job_id not in self._live:
                await asyncio.sleep(self._poll_seconds)

    async def _follow(
        self, live: _LiveJob, last: JobRecord | None
    ) -> AsyncGenerator[JobRecord, None]:
        while True:
            record, changed = live.record, live.changed
            if record != last:
                yield record
                last = record
            if record.state.ended:
                return
            await changed.wait()

    # --- stopping -------------------------------------------------------------------

    async def close(self) -> None:
        """Stop: queued jobs and running ones (at their next checkpoint, waiting at most
        ``close_seconds``) end FAILED "interrupted: ...". Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for live in self._running:
            live.stop.set()
        while self._queue:
            live = self._queue.popleft()
            self._live.pop(live.record.job_id, None)
            await self._interrupt(live)
        tasks = [live.task for live in self._running if live.task is not None]
        if tasks:
            _done, stuck = await asyncio.wait(tasks, timeout=self._close_seconds)
            for live in [lv for lv in self._running if lv.task in stuck]:
                log.warning("job %s ignored its checkpoints; left running", live.record.job_id)
                await self._interrupt(live)
                if live.task is not None:
                    live.task.cancel()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _interrupt(self, live: _LiveJob) -> None:
        job_id = live.record.job_id
        try:
            record = await self._write(
                store.set_state, job_id, JobState.FAILED, store.INTERRUPTED_MESSAGE
            )
        except FailedPrecondition:
            record = await self._read(store.get_job, job_id)
        live.publish(record)

    # --- store access ---------------------------------------------------------------

    async def _write(self, fn: Callable[..., R], *args: Any) -> R:
        return await self.db.run(_in_write, self.db, fn, *args)

    async def _read(self, fn: Callable[..., R], *args: Any) -> R:
        return await self.db.run(_in_read, self.db, fn, *args)


def _internal_error(job_id: str, log_trace: bool = True) -> str:
    """Log the current exception under a new error id; the message a FAILED job shows."""
    error_id = uuid.uuid4().hex[:12]
    if log_trace:
        log.exception("job %s failed (error_id=%s)", job_id, error_id)
    return f"internal error (error_id={error_id}); see server logs"
