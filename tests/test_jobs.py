"""Jobs on SQLite and PostgreSQL: the store's lifecycle, paging and restart rule; the runner
(progress, cancellation, concurrency, shutdown); JobService over a real channel.

Job work here is driven by the test through threading events (no sleeps): it reports
progress and waits until the test lets it go on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import grpc
import pytest

from serving.config import ServerConfig
from serving.jobs import JobContext, JobRunner
from serving.store import jobs as store
from serving.store.db import Database
from serving.store.jobs import JobKind, JobRecord, JobState
from tests.conftest import RunningServer
from turnwise.errors import FailedPrecondition, InvalidArgument, NotFound
from turnwise.v1 import jobs_pb2 as pb
from turnwise.v1 import jobs_pb2_grpc

T = TypeVar("T")
_WAIT = 30.0


def _wait(event: threading.Event) -> None:
    if not event.wait(_WAIT):
        raise TimeoutError("the test never let the job go on")


class Work:
    """A job's work: reports progress ``steps`` times, each time waiting for ``go[i]``;
    then waits for ``finish`` and returns ``result`` (or raises ``error``)."""

    def __init__(self, steps: int = 0, error: Exception | None = None) -> None:
        self.started = threading.Event()
        self.go = [threading.Event() for _ in range(steps)]
        self.finish = threading.Event()
        self.error = error

    def __call__(self, ctx: JobContext) -> bytes:
        self.started.set()
        n = len(self.go)
        for i, go in enumerate(self.go, 1):
            ctx.progress(i, n, f"item {i} of {n}")
            _wait(go)
            ctx.check_cancelled()
        _wait(self.finish)
        ctx.check_cancelled()
        if self.error is not None:
            raise self.error
        return f"result of {ctx.job_id}".encode()

    def release(self) -> None:
        for event in (*self.go, self.finish):
            event.set()


def _done_at_once(ctx: JobContext) -> bytes:
    return b""


# --- the store ---------------------------------------------------------------------


def test_lifecycle_allows_only_legal_transitions(db: Database) -> None:
    with db.write() as conn:
        job = store.create_job(conn, JobKind.FORECAST, total=4)
    assert (job.state, job.done, job.total, job.cancel_requested) == (
        JobState.QUEUED,
        0,
        4,
        False,
    )
    assert len(job.job_id) == 32 and job.created_at.tzinfo is not None
    with db.write() as conn, pytest.raises(FailedPrecondition) as err:
        store.set_state(conn, job.job_id, JobState.SUCCEEDED)
    assert "QUEUED" in str(err.value) and "SUCCEEDED" in str(err.value)
    with db.write() as conn, pytest.raises(FailedPrecondition):
        store.update_progress(conn, job.job_id, 1, 4)  # not running yet
    with db.write() as conn:
        store.set_state(conn, job.job_id, JobState.RUNNING)
        running = store.update_progress(conn, job.job_id, 4, 4, "all four")
        store.set_result(conn, job.job_id, b"\x00forecast")
        ended = store.set_state(conn, job.job_id, JobState.SUCCEEDED)
    assert (running.done, running.message) == (4, "all four")
    assert ended.state is JobState.SUCCEEDED and ended.updated_at >= job.updated_at
    for illegal in (JobState.RUNNING, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED):
        with db.write() as conn, pytest.raises(FailedPrecondition):
            store.set_state(conn, job.job_id, illegal)
    with db.read() as conn:
        assert store.get_result(conn, job.job_id) == b"\x00forecast"
        assert store.get_job(conn, job.job_id) == ended


def test_progress_is_validated_and_unknown_ids_are_not_found(db: Database) -> None:
    with db.write() as conn:
        job = store.create_job(conn, JobKind.SCENARIO)
        store.set_state(conn, job.job_id, JobState.RUNNING)
    for done, total, field in ((-1, 0, "done"), (0, -1, "total"), (5, 3, "done")):
        with db.write() as conn, pytest.raises(InvalidArgument) as err:
            store.update_progress(conn, job.job_id, done, total)
        assert err.value.field == field
    with db.write() as conn:
        assert store.update_progress(conn, job.job_id, 7, 0).done == 7  # total not yet known
    with db.read() as conn:
        for read in (store.get_job, store.get_result):
            with pytest.raises(NotFound) as missing:
                read(conn, "0" * 32)
            assert missing.value.field == "job_id"
        assert store.get_result(conn, job.job_id) is None


def test_request_cancel_by_state(db: Database) -> None:
    with db.write() as conn:
        queued = store.create_job(conn, JobKind.FORECAST)
        running = store.create_job(conn, JobKind.FORECAST)
        store.set_state(conn, running.job_id, JobState.RUNNING)
        ended = store.create_job(conn, JobKind.FORECAST)
        store.set_state(conn, ended.job_id, JobState.RUNNING)
        ended = store.set_state(conn, ended.job_id, JobState.FAILED, "boom")
    with db.write() as conn:
        q = store.request_cancel(conn, queued.job_id)
        r = store.request_cancel(conn, running.job_id)
        e = store.request_cancel(conn, ended.job_id)
        again = store.request_cancel(conn, running.job_id)
    assert q.state is JobState.CANCELLED and q.cancel_requested
    assert r.state is JobState.RUNNING and r.cancel_requested
    assert r.message == store.CANCEL_REQUESTED_MESSAGE and again == r
    assert e == ended  # an ended job is returned unchanged
    with db.write() as conn:
        assert store.set_state(conn, running.job_id, JobState.CANCELLED).state.ended


def test_list_jobs_newest_first_with_filters_and_stable_pages(db: Database) -> None:
    kinds = [JobKind.FORECAST, JobKind.SCENARIO, JobKind.FORECAST, JobKind.NIGHTLY_REBALANCE]
    created = []
    for kind in kinds:
        with db.write() as conn:
            created.append(store.create_job(conn, kind))
    with db.write() as conn:
        store.set_state(conn, created[0].job_id, JobState.RUNNING)
    newest_first = [j.job_id for j in reversed(created)]
    with db.read() as conn:
        first = store.list_jobs(conn, page_size=3)
    with db.write() as conn:  # a job started between two pages shifts nothing
        late = store.create_job(conn, JobKind.FORECAST)
    with db.read() as conn:
        second = store.list_jobs(conn, page_size=3, page_token=first.next_page_token)
        assert [j.job_id for j in first.jobs + second.jobs] == newest_first
        assert first.next_page_token and second.next_page_token == ""
        forecasts = store.list_jobs(conn, kind=JobKind.FORECAST)
        assert [j.job_id for j in forecasts.jobs] == [
            late.job_id,
            created[2].job_id,
            created[0].job_id,
        ]
        running = store.list_jobs(conn, state=JobState.RUNNING)
        assert [j.job_id for j in running.jobs] == [created[0].job_id]
        everything = store.list_jobs(conn, page_size=0)
        assert len(everything.jobs) == 5 and everything.next_page_token == ""
        for size, token, field in (
            (1001, "", "page_size"),
            (-1, "", "page_size"),
            (0, "7", "page_token"),
        ):
            with pytest.raises(InvalidArgument) as err:
                store.list_jobs(conn, page_size=size, page_token=token)
            assert err.value.field == field


def test_server_start_fails_jobs_a_stopped_server_left(
    db: Database, server_config: ServerConfig
) -> None:
    with db.write() as conn:
        queued = store.create_job(conn, JobKind.FORECAST)
        running = store.create_job(conn, JobKind.FORECAST)
        store.set_state(conn, running.job_id, JobState.RUNNING)
        done = store.create_job(conn, JobKind.FORECAST)
        store.set_state(conn, done.job_id, JobState.RUNNING)
        done = store.set_state(conn, done.job_id, JobState.SUCCEEDED)
    server = RunningServer(server_config, db)
    try:
        with db.read() as conn:
            for job in (queued, running):
                after = store.get_job(conn, job.job_id)
                assert after.state is JobState.FAILED
                assert after.message == store.INTERRUPTED_MESSAGE
            assert store.get_job(conn, done.job_id) == done
    finally:
        server.stop()


# --- the runner, on an event loop of the test's own ---------------------------------


async def _until(updates: AsyncIterator[JobRecord], wanted: Any) -> JobRecord:
    async for job in updates:
        if wanted(job):
            return job
    raise AssertionError("the job ended before the awaited update")


def test_progress_is_throttled_and_the_last_report_is_stored(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []
    update = store.update_progress

    def counting(conn: Any, job_id: str, done: int, total: int, message: str = "") -> Any:
        stored = update(conn, job_id, done, total, message)
        writes.append(done)  # only writes that took effect (a late one finds the job ended)
        return stored

    monkeypatch.setattr(store, "update_progress", counting)

    def work(ctx: JobContext) -> bytes:
        for i in range(1, 1001):
            ctx.progress(i, 1000, f"series {i}")
        return b"ok"

    async def main() -> JobRecord:
        runner = JobRunner(db, progress_seconds=3600)  # one write, then only the final one
        job = await runner.start(JobKind.FORECAST, work, total=1000)
        ended = await _until(runner.watch(job.job_id), lambda j: j.state.ended)
        await runner.close()
        return ended

    ended = asyncio.run(main())
    assert ended.state is JobState.SUCCEEDED
    assert (ended.done, ended.total, ended.message) == (1000, 1000, "series 1000")
    assert 1 <= len(writes) <= 2 and writes[-1] == 1000
    with db.read() as conn:
        assert store.get_job(conn, ended.job_id) == ended
        assert store.get_result(conn, ended.job_id) == b"ok"


def test_a_cancel_written_by_another_process_is_noticed_at_progress(db: Database) -> None:
    work = Work(steps=2)

    async def main() -> JobRecord:
        runner = JobRunner(db, progress_seconds=0)
        job = await runner.start(JobKind.FORECAST, work)
        updates = runner.watch(job.job_id)
        await _until(updates, lambda j: j.done == 1)
        with db.write() as conn:  # the store flag only: another server process's CancelJob
            store.request_cancel(conn, job.job_id)
        work.go[0].set()  # its next progress write reads the flag back
        noticed = await _until(updates, lambda j: j.cancel_requested)
        work.release()
        if not noticed.state.ended:
            noticed = await _until(updates, lambda j: j.state.ended)
        await runner.close()
        return noticed

    try:
        ended = asyncio.run(main())
    finally:
        work.release()
    assert ended.state is JobState.CANCELLED and ended.message == "cancelled by CancelJob"


def test_close_interrupts_running_and_queued_jobs(db: Database) -> None:
    polite, stuck, queued = Work(), Work(), Work()

    async def main() -> list[JobRecord]:
        runner = JobRunner(db, max_running=2, close_seconds=0.2)
        a = await runner.start(JobKind.FORECAST, polite)
        b = await runner.start(JobKind.FORECAST, stuck)  # never reaches a checkpoint in time
        c = await runner.start(JobKind.SCENARIO, queued)
        await asyncio.to_thread(_wait, polite.started)
        closing = asyncio.create_task(runner.close())
        await _until(runner.watch(c.job_id), lambda j: j.state.ended)
        polite.finish.set()  # its checkpoint now sees the stop
        await closing
        with pytest.raises(FailedPrecondition):
            await runner.start(JobKind.FORECAST, _done_at_once)
        return [await runner.get(j.job_id) for j in (a, b, c)]

    try:
        ended = asyncio.run(main())
    finally:
        for work in (polite, stuck, queued):
            work.release()
    assert [j.state for j in ended] == [JobState.FAILED] * 3
    assert {j.message for j in ended} == {store.INTERRUPTED_MESSAGE}
    assert not queued.started.is_set()


# --- JobService over a real channel ---------------------------------------------------


class Jobs:
    """Starts jobs on a RunningServer's runner, on the server's event loop."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.works: list[Work] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.server._loop).result(_WAIT)

    def start(self, work: Any, kind: JobKind = JobKind.FORECAST, total: int = 0) -> JobRecord:
        if isinstance(work, Work):
            self.works.append(work)
        return self.run(self.server.runtime.jobs.start(kind, work, total))


@pytest.fixture
def jobs(server: RunningServer) -> Iterator[Jobs]:
    helper = Jobs(server)
    yield helper
    for work in helper.works:
        work.release()
    helper.run(server.runtime.jobs.close())


@pytest.fixture
def stub(channel: grpc.Channel) -> jobs_pb2_grpc.JobServiceStub:
    return jobs_pb2_grpc.JobServiceStub(channel)


def _watch_to_end(stub: jobs_pb2_grpc.JobServiceStub, job_id: str) -> list[pb.Job]:
    return [m.job for m in stub.WatchJob(pb.WatchJobRequest(job_id=job_id), timeout=_WAIT)]


def test_watch_streams_progress_to_succeeded(
    jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub, db: Database
) -> None:
    work = Work(steps=3)
    job = jobs.start(work, total=3)
    seen = []
    for message in stub.WatchJob(pb.WatchJobRequest(job_id=job.job_id), timeout=_WAIT):
        seen.append(message.job)
        if message.job.state == pb.JOB_STATE_RUNNING and message.job.done:
            work.go[message.job.done - 1].set()
            if message.job.done == 3:
                work.finish.set()
    states = [j.state for j in seen]
    assert states == sorted(states) and states[-1] == pb.JOB_STATE_SUCCEEDED
    assert [j.done for j in seen if j.state == pb.JOB_STATE_RUNNING and j.done] == [1, 2, 3]
    last = seen[-1]
    assert (last.done, last.total, last.message) == (3, 3, "item 3 of 3")
    assert last.kind == pb.JOB_KIND_FORECAST and last.job_id == job.job_id
    assert last.updated_at.ToDatetime() >= last.created_at.ToDatetime()
    assert _watch_to_end(stub, job.job_id) == [last]  # an ended job: exactly one message
    assert stub.GetJob(pb.GetJobRequest(job_id=job.job_id)).job == last
    with db.read() as conn:
        assert store.get_result(conn, job.job_id) == f"result of {job.job_id}".encode()


def test_cancel_ends_a_running_job_cancelled_and_replays_by_key(
    jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub
) -> None:
    work = Work(steps=1)
    job = jobs.start(work)
    _wait(work.started)
    request = pb.CancelJobRequest(job_id=job.job_id, idempotency_key="cancel-1")
    first = stub.CancelJob(request)
    assert first.job.state == pb.JOB_STATE_RUNNING
    assert first.job.message == store.CANCEL_REQUESTED_MESSAGE
    work.go[0].set()  # the next checkpoint sees the cancel
    ended = _watch_to_end(stub, job.job_id)[-1]
    assert ended.state == pb.JOB_STATE_CANCELLED and ended.done == 1
    assert stub.CancelJob(request) == first  # replayed by its key
    assert stub.CancelJob(pb.CancelJobRequest(job_id=job.job_id)).job == ended  # unchanged
    with pytest.raises(grpc.RpcError) as err:
        stub.CancelJob(pb.CancelJobRequest(job_id="f" * 32, idempotency_key="cancel-1"))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_failures_end_failed_with_their_message(
    jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub
) -> None:
    named = Work(error=InvalidArgument("horizon", "must be >= 1, got 0"))
    crash = Work(error=ZeroDivisionError("division by zero"))

    def bad_progress(ctx: JobContext) -> bytes:
        ctx.progress(5, 3)
        return b""

    ids = [jobs.start(named).job_id, jobs.start(crash).job_id, jobs.start(bad_progress).job_id]
    named.release()
    crash.release()
    ended = [_watch_to_end(stub, job_id)[-1] for job_id in ids]
    assert [j.state for j in ended] == [pb.JOB_STATE_FAILED] * 3
    assert ended[0].message == "horizon: must be >= 1, got 0"
    assert ended[1].message.startswith("internal error (error_id=")
    assert "division" not in ended[1].message
    assert ended[2].message == "done: 5 exceeds total 3; raise total first"


def test_concurrency_limit_keeps_the_third_job_queued(
    jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub
) -> None:
    works = [Work(), Work(), Work(), Work()]
    ids = [jobs.start(w).job_id for w in works]
    for w in works[:2]:
        _wait(w.started)
    third = stub.WatchJob(pb.WatchJobRequest(job_id=ids[2]), timeout=_WAIT)
    assert next(third).job.state == pb.JOB_STATE_QUEUED
    assert stub.GetJob(pb.GetJobRequest(job_id=ids[3])).job.state == pb.JOB_STATE_QUEUED
    assert not works[2].started.is_set()
    works[1].finish.set()
    assert next(third).job.state == pb.JOB_STATE_RUNNING  # first in, first out
    assert _watch_to_end(stub, ids[1])[-1].state == pb.JOB_STATE_SUCCEEDED
    assert stub.GetJob(pb.GetJobRequest(job_id=ids[3])).job.state == pb.JOB_STATE_QUEUED
    cancelled = stub.CancelJob(pb.CancelJobRequest(job_id=ids[3])).job
    assert cancelled.state == pb.JOB_STATE_CANCELLED  # a queued job ends at once
    assert _watch_to_end(stub, ids[3]) == [cancelled]
    for w in works:
        w.release()
    assert [m.job.state for m in third][-1] == pb.JOB_STATE_SUCCEEDED
    assert not works[3].started.is_set()


def test_list_jobs_newest_first(jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub) -> None:
    kinds = (JobKind.FORECAST, JobKind.SCENARIO, JobKind.FORECAST)
    ids = [jobs.start(_done_at_once, kind).job_id for kind in kinds]
    for job_id in ids:
        _watch_to_end(stub, job_id)
    page = stub.ListJobs(pb.ListJobsRequest(page_size=2))
    rest = stub.ListJobs(pb.ListJobsRequest(page_size=2, page_token=page.next_page_token))
    assert [j.job_id for j in (*page.jobs, *rest.jobs)] == ids[::-1]
    assert rest.next_page_token == ""
    forecasts = stub.ListJobs(pb.ListJobsRequest(kind=pb.JOB_KIND_FORECAST))
    assert [j.job_id for j in forecasts.jobs] == [ids[2], ids[0]]
    assert len(stub.ListJobs(pb.ListJobsRequest(state=pb.JOB_STATE_SUCCEEDED)).jobs) == 3
    assert not stub.ListJobs(pb.ListJobsRequest(state=pb.JOB_STATE_FAILED)).jobs


def test_bad_requests_name_the_field(jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub) -> None:
    unknown = "0" * 32
    calls = [
        (lambda: stub.GetJob(pb.GetJobRequest()), grpc.StatusCode.INVALID_ARGUMENT, "job_id"),
        (
            lambda: stub.GetJob(pb.GetJobRequest(job_id=unknown)),
            grpc.StatusCode.NOT_FOUND,
            unknown,
        ),
        (lambda: _watch_to_end(stub, unknown), grpc.StatusCode.NOT_FOUND, unknown),
        (lambda: _watch_to_end(stub, ""), grpc.StatusCode.INVALID_ARGUMENT, "job_id"),
        (
            lambda: stub.CancelJob(pb.CancelJobRequest(job_id=unknown)),
            grpc.StatusCode.NOT_FOUND,
            unknown,
        ),
        (
            lambda: stub.ListJobs(pb.ListJobsRequest(page_token="3")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_token",
        ),
        (
            lambda: stub.ListJobs(pb.ListJobsRequest(page_size=5000)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_size",
        ),
        (
            lambda: stub.ListJobs(pb.ListJobsRequest(kind=99)),  # type: ignore[arg-type]
            grpc.StatusCode.INVALID_ARGUMENT,
            "kind",
        ),
    ]
    for call, code, named in calls:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == code
        assert named in err.value.details()


def test_watch_ends_with_the_callers_deadline_or_cancel(
    jobs: Jobs, stub: jobs_pb2_grpc.JobServiceStub
) -> None:
    work = Work()
    job = jobs.start(work)
    _wait(work.started)
    request = pb.WatchJobRequest(job_id=job.job_id)
    with pytest.raises(grpc.RpcError) as err:
        list(stub.WatchJob(request, timeout=0.5))
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    call = stub.WatchJob(request, timeout=_WAIT)
    assert next(call).job.state == pb.JOB_STATE_RUNNING
    call.cancel()
    with pytest.raises(grpc.RpcError) as err:
        next(call)
    assert err.value.code() == grpc.StatusCode.CANCELLED
    work.release()
    assert _watch_to_end(stub, job.job_id)[-1].state == pb.JOB_STATE_SUCCEEDED
