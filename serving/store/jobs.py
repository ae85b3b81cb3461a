"""Stored jobs: state, progress, cancellation requests and the result a finished job keeps.

Lifecycle: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED, and QUEUED -> CANCELLED
(cancelled before it started) or QUEUED -> FAILED (the server stopped before it started).
``set_state`` refuses any other transition, atomically (a conditional UPDATE).

Jobs do not survive a restart in this version: the work of a job lives in the server
process that started it, so ``fail_interrupted_jobs`` (called at server start) marks the
jobs a previous process left QUEUED or RUNNING as FAILED with ``INTERRUPTED_MESSAGE``.
This assumes one server process per database.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from serving.store import tables as t
from turnwise.errors import FailedPrecondition, InvalidArgument, NotFound

__all__ = [
    "CANCEL_REQUESTED_MESSAGE",
    "INTERRUPTED_MESSAGE",
    "JobKind",
    "JobPage",
    "JobRecord",
    "JobState",
    "check_progress",
    "create_job",
    "fail_interrupted_jobs",
    "get_job",
    "get_result",
    "list_jobs",
    "request_cancel",
    "set_result",
    "set_state",
    "update_progress",
]

INTERRUPTED_MESSAGE = "interrupted: the server stopped before the job finished; start it again"
CANCEL_REQUESTED_MESSAGE = "cancel requested; the job stops at its next checkpoint"
_CANCELLED_QUEUED = "cancelled before it started"
_MAX_PAGE = 1000
_TOKEN = re.compile(r"^(\d{1,20})-([0-9a-f]{32})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JobState(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def ended(self) -> bool:
        """A terminal state: the job will not change again."""
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobKind(enum.Enum):
    FORECAST = "FORECAST"
    SCENARIO = "SCENARIO"
    NIGHTLY_REBALANCE = "NIGHTLY_REBALANCE"


# target state -> the states it may be reached from
_FROM: dict[JobState, tuple[JobState, ...]] = {
    JobState.QUEUED: (),
    JobState.RUNNING: (JobState.QUEUED,),
    JobState.SUCCEEDED: (JobState.RUNNING,),
    JobState.FAILED: (JobState.QUEUED, JobState.RUNNING),
    JobState.CANCELLED: (JobState.QUEUED, JobState.RUNNING),
}


@dataclass(frozen=True)
class JobRecord:
    """One job as stored (without its result, which ``get_result`` reads)."""

    job_id: str
    kind: JobKind
    state: JobState
    created_at: datetime
    updated_at: datetime
    done: int
    total: int
    message: str
    cancel_requested: bool


@dataclass(frozen=True)
class JobPage:
    """One page of ``list_jobs``; ``next_page_token`` is empty on the last page."""

    jobs: tuple[JobRecord, ...]
    next_page_token: str


_COLUMNS = (
    t.jobs.c.job_id,
    t.jobs.c.kind,
    t.jobs.c.state,
    t.jobs.c.created_at,
    t.jobs.c.updated_at,
    t.jobs.c.done,
    t.jobs.c.total,
    t.jobs.c.message,
    t.jobs.c.cancel_requested,
)


def _record(row: Any) -> JobRecord:
    return JobRecord(
        job_id=row.job_id,
        kind=JobKind(row.kind),
        state=JobState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        done=int(row.done),
        total=int(row.total),
        message=row.message,
        cancel_requested=bool(row.cancel_requested),
    )


def check_progress(done: int, total: int) -> None:
    """``done`` and ``total`` are >= 0 and ``done <= total`` once total is known (> 0)."""
    if done < 0:
        raise InvalidArgument("done", f"must be >= 0, got {done}")
    if total < 0:
        raise InvalidArgument("total", f"must be >= 0 (0 = not yet known), got {total}")
    if total and done > total:
        raise InvalidArgument("done", f"{done} exceeds total {total}; raise total first")


def create_job(conn: Connection, kind: JobKind, total: int = 0) -> JobRecord:
    """A new QUEUED job with a server-assigned id (32 hex digits)."""
    check_progress(0, total)
    now, job_id = datetime.now(UTC), uuid.uuid4().hex
    row = {
        "job_id": job_id,
        "kind": kind.value,
        "state": JobState.QUEUED.value,
        "created_at": now,
        "updated_at": now,
        "done": 0,
        "total": total,
        "message": "",
        "cancel_requested": False,
        "result": None,
    }
    conn.execute(insert(t.jobs), [row])
    return get_job(conn, job_id)


def get_job(conn: Connection, job_id: str) -> JobRecord:
    row = conn.execute(select(*_COLUMNS).where(t.jobs.c.job_id == job_id)).first()
    if row is None:
        raise NotFound("job_id", f"no job {job_id!r}; ListJobs shows the stored jobs")
    return _record(row)


def _token(job: JobRecord) -> str:
    micros = (job.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{job.job_id}"


def _after_token(token: str) -> Any:
    """The WHERE clause selecting the jobs listed after the token's job (keyset paging:
    jobs started meanwhile neither repeat nor shift a page)."""
    match = _TOKEN.match(token)
    if match is None:
        raise InvalidArgument("page_token", "is not a next_page_token returned by ListJobs")
    created = _EPOCH + timedelta(microseconds=int(match.group(1)))
    return or_(
        t.jobs.c.created_at < created,
        and_(t.jobs.c.created_at == created, t.jobs.c.job_id < match.group(2)),
    )


def list_jobs(
    conn: Connection,
    kind: JobKind | None = None,
    state: JobState | None = None,
    page_size: int = 100,
    page_token: str = "",
) -> JobPage:
    """Jobs newest first (created_at descending, then job_id descending), optionally of
    one kind and in one state. ``page_size`` 0 means 100; at most 1000."""
    if not 0 <= page_size <= _MAX_PAGE:
        raise InvalidArgument("page_size", f"must be within [0, {_MAX_PAGE}], got {page_size}")
    size = page_size or 100
    q = select(*_COLUMNS)
    if kind is not None:
        q = q.where(t.jobs.c.kind == kind.value)
    if state is not None:
        q = q.where(t.jobs.c.state == state.value)
    if page_token:
        q = q.where(_after_token(page_token))
    q = q.order_by(t.jobs.c.created_at.desc(), t.jobs.c.job_id.desc()).limit(size + 1)
    found = [_record(r) for r in conn.execute(q)]
    token = _token(found[size - 1]) if len(found) > size else ""
    return JobPage(tuple(found[:size]), token)


def update_progress(
    conn: Connection, job_id: str, done: int, total: int, message: str = ""
) -> JobRecord:
    """Record the progress of a RUNNING job (FailedPrecondition in any other state)."""
    check_progress(done, total)
    result = conn.execute(
        update(t.jobs)
        .where(t.jobs.c.job_id == job_id, t.jobs.c.state == JobState.RUNNING.value)
        .values(done=done, total=total, message=message, updated_at=datetime.now(UTC))
    )
    job = get_job(conn, job_id)
    if result.rowcount == 0:
        raise FailedPrecondition(
            "job_id", f"job {job_id!r} is {job.state.value}; only a RUNNING job reports progress"
        )
    return job


def set_state(
    conn: Connection, job_id: str, state: JobState, message: str | None = None
) -> JobRecord:
    """Move a job to ``state`` (and set its message, when given) if the lifecycle allows
    it; FailedPrecondition naming both states otherwise."""
    values: dict[str, Any] = {"state": state.value, "updated_at": datetime.now(UTC)}
    if message is not None:
        values["message"] = message
    sources = [s.value for s in _FROM[state]]
    result = conn.execute(
        update(t.jobs)
        .where(t.jobs.c.job_id == job_id, t.jobs.c.state.in_(sources))
        .values(**values)
    )
    job = get_job(conn, job_id)
    if result.rowcount == 0:
        raise FailedPrecondition(
            "state",
            f"job {job_id!r} is {job.state.value} and cannot become {state.value}; a job goes "
            "QUEUED -> RUNNING -> SUCCEEDED, FAILED or CANCELLED",
        )
    return job


def request_cancel(conn: Connection, job_id: str) -> JobRecord:
    """Ask a job to stop. A QUEUED job ends CANCELLED at once; a RUNNING one is flagged
    (its runner stops it at the next checkpoint); an ended job is returned unchanged."""
    now = datetime.now(UTC)
    for state, values in (
        (JobState.QUEUED, {"state": JobState.CANCELLED.value, "message": _CANCELLED_QUEUED}),
        (JobState.RUNNING, {"message": CANCEL_REQUESTED_MESSAGE}),
    ):
        result = conn.execute(
            update(t.jobs)
            .where(
                t.jobs.c.job_id == job_id,
                t.jobs.c.state == state.value,
                t.jobs.c.cancel_requested.is_(False),
            )
            .values(cancel_requested=True, updated_at=now, **values)
        )
        if result.rowcount:
            break
    return get_job(conn, job_id)


def set_result(conn: Connection, job_id: str, result: bytes) -> None:
    """Keep the serialized result of a job (before it is marked SUCCEEDED)."""
    written = conn.execute(
        update(t.jobs).where(t.jobs.c.job_id == job_id).values(result=result)
    ).rowcount
    if written == 0:
        raise NotFound("job_id", f"no job {job_id!r} to store a result for")


def get_result(conn: Connection, job_id: str) -> bytes | None:
    """The stored result of a job; None while it has none (not SUCCEEDED)."""
    row = conn.execute(select(t.jobs.c.result).where(t.jobs.c.job_id == job_id)).first()
    if row is None:
        raise NotFound("job_id", f"no job {job_id!r}; ListJobs shows the stored jobs")
    return None if row.result is None else bytes(row.result)


def fail_interrupted_jobs(conn: Connection) -> int:
    """Mark every QUEUED or RUNNING job FAILED with ``INTERRUPTED_MESSAGE`` (at server
    start: their process is gone). Returns how many were marked."""
    active = [JobState.QUEUED.value, JobState.RUNNING.value]
    result = conn.execute(
        update(t.jobs)
        .where(t.jobs.c.state.in_(active))
        .values(
            state=JobState.FAILED.value,
            message=INTERRUPTED_MESSAGE,
            updated_at=datetime.now(UTC),
        )
    )
    return int(result.rowcount)
