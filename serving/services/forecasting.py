"""ForecastService: inline forecasts within the caller's deadline, forecast jobs with
progress and cancellation through JobService, and the results of finished jobs.

Where the work runs: the forecaster is CPU-bound, so every forecast (inline or job) runs in
a worker process of the server's ``CpuPool``, never on the event loop. A job's work (a
``JobRunner`` thread) submits ``run_query`` to the pool and relays between the two: the
worker's progress reports come back over a queue and become ``JobContext.progress``; a
cancel sets an event that the worker's ``should_stop`` polls at the forecaster's
checkpoints (between chunks of series). The queue and the event live in a
``multiprocessing`` manager process, started with the first job.

Backend of the per-series work: sequential inside the worker process, unless the server
has a Ray address (``RAY_ADDRESS`` / ``ServerConfig.ray_address``): then forecast jobs fan
the series out to that Ray cluster (``forecasting.backend.make_backend``). Inline forecasts
are small and always sequential.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import queue
import threading
import time
from multiprocessing import get_context
from multiprocessing.managers import SyncManager

import grpc
import pandas as pd
from sqlalchemy import Connection

from forecasting.backend import Backend, RunCancelled, SequentialBackend, make_backend
from forecasting.panel import Panel
from serving.budget import time_budget
from serving.convert import forecasting as convert
from serving.convert.common import check_idempotency_key
from serving.convert.jobs import job_id_from_pb
from serving.errors import grpc_errors
from serving.jobs import JobCancelled, JobContext, JobRunner, JobWork
from serving.services.writes import idempotent_write
from serving.store import jobs as jobs_store
from serving.store.db import Database
from serving.store.idempotency import find_response
from serving.store.jobs import JobKind, JobRecord, JobState
from serving.store.sales import weekly_sales_frame, weekly_sales_series_count
from serving.workers import CpuPool
from turnwise.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    TurnwiseError,
)
from turnwise.v1 import forecasting_pb2 as pb
from turnwise.v1 import forecasting_pb2_grpc

__all__ = [
    "INLINE_SECONDS_FACTOR",
    "MAX_INLINE_SERIES",
    "MAX_JOB_SERIES",
    "ForecastServicer",
    "run_query",
]

MAX_INLINE_SERIES = 1000
"""Most series one Forecast call takes; more go through StartForecastJob."""
MAX_JOB_SERIES = 100_000
"""Most inline series one StartForecastJob takes (stored sales are not limited)."""
INLINE_SECONDS_FACTOR = 30
"""A Forecast call without a deadline may take this many times the default solve time."""

_FORECAST = "ForecastService.Forecast"
_START = "ForecastService.StartForecastJob"
_RELAY_SECONDS = 0.1


def run_query(
    query: convert.ForecastQuery,
    source: Panel | pd.DataFrame,
    deadline: float | None = None,
    ray_address: str = "",
    updates: queue.Queue[tuple[int, int, str]] | None = None,
    stop: threading.Event | None = None,
) -> bytes:
    """Forecast a validated query in a worker process and return the serialized
    ForecastResponse. ``source`` is the panel of inline series, or the long frame of stored
    sales (built into a panel here). ``deadline`` is a ``time.time()`` instant; past it, or
    once ``stop`` is set, the run ends at its next checkpoint with ``RunCancelled``.
    Progress goes to ``updates`` as (done, total, message)."""
    # Imported here, in the worker: the models (scipy, statsmodels...) stay out of the
    # server process, which only validates requests.
    from forecasting.forecaster import ForecastConfig, forecast

    panel = source if isinstance(source, Panel) else convert.query_to_panel(query, source)

    def should_stop() -> bool:
        if deadline is not None and time.time() > deadline:
            return True
        return stop is not None and stop.is_set()

    def progress(done: int, total: int, message: str) -> None:
        if updates is not None:
            updates.put((done, total, message))

    backend: Backend = make_backend(1, ray_address) if ray_address else SequentialBackend()
    result = forecast(
        panel, query.levels, ForecastConfig(model=query.model), backend, progress, should_stop
    )
    return convert.result_to_response(result, query.order).SerializeToString()


def _too_slow(series: int | None, seconds: float) -> DeadlineExceeded:
    what = f"the forecast of {series} series" if series is not None else "the forecast"
    return DeadlineExceeded(
        "deadline",
        f"{what} did not finish within the {seconds:.2f} s the caller's deadline left; "
        "allow more time, or run it as a job with StartForecastJob and follow it with "
        "JobService.WatchJob",
    )


def _prefixed(prefix: str, err: TurnwiseError) -> TurnwiseError:
    """The same error with ``prefix`` before its field (nested request messages)."""
    field = f"{prefix}.{err.field}" if err.field else prefix
    return type(err)(field, err.hint)


class ForecastServicer(forecasting_pb2_grpc.ForecastServiceServicer):
    """See the module docstring. ``close()`` stops the manager process, if started."""

    def __init__(
        self,
        db: Database,
        cpu: CpuPool,
        jobs: JobRunner,
        default_seconds: float,
        ray_address: str = "",
    ) -> None:
        self.db, self.cpu, self.jobs = db, cpu, jobs
        self.default_seconds, self.ray_address = default_seconds, ray_address
        self._manager: SyncManager | None = None
        self._manager_lock = threading.Lock()

    def close(self) -> None:
        with self._manager_lock:
            if self._manager is not None:
                self._manager.shutdown()
                self._manager = None

    # --- helpers ----------------------------------------------------------------------

    async def _query(
        self, request: pb.ForecastRequest, max_series: int
    ) -> tuple[convert.ForecastQuery, Panel | None]:
        """The validated query and, for inline series, its panel (built off the loop)."""

        def build() -> tuple[convert.ForecastQuery, Panel | None]:
            query = convert.request_to_query(request, max_series)
            if query.history is None:
                return query, None
            panel = convert.query_to_panel(query, query.history, query.future)
            # The frames are in the panel now; the worker needs only the settings.
            return dataclasses.replace(query, history=None, future=None), panel

        return await asyncio.to_thread(build)

    async def _count_sales(self, selector: convert.SalesSelector) -> int:
        def read() -> int:
            with self.db.read() as conn:
                return weekly_sales_series_count(
                    conn,
                    selector.store_ids,
                    selector.trim_ids,
                    selector.region_ids,
                    selector.brand_ids,
                )

        count = await self.db.run(read)
        if count == 0:
            raise InvalidArgument(
                "store_sales", "selects no stored weekly sales; widen it or record sales first"
            )
        return count

    def _read_sales(self, selector: convert.SalesSelector) -> pd.DataFrame:
        """Blocking: the selected stored sales."""
        with self.db.read() as conn:
            return weekly_sales_frame(
                conn, selector.store_ids, selector.trim_ids, selector.region_ids, selector.brand_ids
            )

    def _channel(self) -> tuple[queue.Queue[tuple[int, int, str]], threading.Event]:
        """A progress queue and a stop event a worker process can use (blocking)."""
        with self._manager_lock:
            if self._manager is None:
                self._manager = get_context("spawn").Manager()
            manager = self._manager
        return manager.Queue(), manager.Event()

    # --- Forecast ---------------------------------------------------------------------

    @grpc_errors
    async def Forecast(
        self, request: pb.ForecastRequest, context: grpc.aio.ServicerContext
    ) -> pb.ForecastResponse:
        started = time.monotonic()
        check_idempotency_key(request.idempotency_key)
        try:
            budget = time_budget(
                context.time_remaining(), 0.0, INLINE_SECONDS_FACTOR * self.default_seconds
            )
        except DeadlineExceeded:
            raise _too_slow(None, max(0.0, context.time_remaining() or 0.0)) from None
        query, panel = await self._query(request, MAX_INLINE_SERIES)
        key = request.idempotency_key
        body = request.SerializeToString(deterministic=True)
        if key:
            digest = hashlib.sha256(body).hexdigest()

            def replay() -> bytes | None:
                with self.db.read() as conn:
                    return find_response(conn, key, _FORECAST, digest)

            stored = await self.db.run(replay)
            if stored is not None:
                return pb.ForecastResponse.FromString(stored)
        source: Panel | pd.DataFrame
        if panel is not None:
            source, series = panel, len(panel)
        else:
            assert query.selector is not None
            series = await self._count_sales(query.selector)
            if series > MAX_INLINE_SERIES:
                raise ResourceExhausted(
                    "store_sales",
                    f"selects {series} series, more than {MAX_INLINE_SERIES} for this RPC; "
                    "use StartForecastJob",
                )
            source = await self.db.run(self._read_sales, query.selector)
        left = budget - (time.monotonic() - started)
        if left <= 0:
            raise _too_slow(series, budget)
        # The worker stops itself at its next checkpoint past the deadline; the answer
        # does not wait for that checkpoint.
        work = self.cpu.run(run_query, query, source, time.time() + left)
        try:
            data = await asyncio.wait_for(work, left)
        except (TimeoutError, RunCancelled):
            raise _too_slow(series, budget) from None
        response = pb.ForecastResponse.FromString(data)
        if not key:
            return response
        return await idempotent_write(
            self.db, _FORECAST, key, body, pb.ForecastResponse, lambda conn: response
        )

    # --- StartForecastJob -------------------------------------------------------------

    @grpc_errors
    async def StartForecastJob(
        self, request: pb.StartForecastJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.StartForecastJobResponse:
        check_idempotency_key(request.idempotency_key)
        if not request.HasField("forecast"):
            raise InvalidArgument("forecast", "is required: the ForecastRequest to run as a job")
        try:
            query, panel = await self._query(request.forecast, MAX_JOB_SERIES)
            if query.selector is not None:
                await self._count_sales(query.selector)
        except TurnwiseError as err:
            raise _prefixed("forecast", err) from None
        work = self._job_work(asyncio.get_running_loop(), query, panel)
        created: list[JobRecord] = []

        def create(conn: Connection) -> pb.StartForecastJobResponse:
            record = jobs_store.create_job(conn, JobKind.FORECAST)
            created.append(record)
            return pb.StartForecastJobResponse(job_id=record.job_id)

        response = await idempotent_write(
            self.db, _START, request.idempotency_key, request, pb.StartForecastJobResponse, create
        )
        # A replay (or a twin that lost the race on the key) created no job of its own.
        if created and created[-1].job_id == response.job_id:
            try:
                await self.jobs.enqueue(created[-1], work)
            except FailedPrecondition:  # the server is stopping: the job will never run
                await self.db.run(self._fail_unstarted, response.job_id)
                raise
        return response

    def _fail_unstarted(self, job_id: str) -> None:
        with self.db.write() as conn:
            jobs_store.set_state(conn, job_id, JobState.FAILED, jobs_store.INTERRUPTED_MESSAGE)

    def _job_work(
        self,
        loop: asyncio.AbstractEventLoop,
        query: convert.ForecastQuery,
        panel: Panel | None,
    ) -> JobWork:
        def work(ctx: JobContext) -> bytes:
            source: Panel | pd.DataFrame
            if panel is not None:
                source = panel
            else:
                assert query.selector is not None
                ctx.progress(0, 0, "reading stored sales")
                source = self._read_sales(query.selector)
            ctx.check_cancelled()
            updates, stop = self._channel()
            future = asyncio.run_coroutine_threadsafe(
                self.cpu.run(run_query, query, source, None, self.ray_address, updates, stop),
                loop,
            )
            try:
                _relay(ctx, loop, future, updates, stop)
                return future.result()
            except RunCancelled:
                raise JobCancelled(f"job {ctx.job_id} was cancelled") from None
            finally:
                if not future.done():  # e.g. the relay failed: stop the worker too
                    stop.set()

        return work

    # --- GetForecastResult ------------------------------------------------------------

    @grpc_errors
    async def GetForecastResult(
        self, request: pb.GetForecastResultRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetForecastResultResponse:
        job_id = job_id_from_pb(request.job_id)
        job = await self.jobs.get(job_id)
        if job.kind is not JobKind.FORECAST:
            raise NotFound(
                "job_id",
                f"no forecast job {job_id!r}: it is a {job.kind.value} job; "
                "GetForecastResult reads the jobs started by StartForecastJob",
            )
        if job.state is not JobState.SUCCEEDED:
            why = f" ({job.message})" if job.message and job.state.ended else ""
            raise FailedPrecondition(
                "job_id",
                f"job {job_id!r} is {job.state.value}{why}; only a SUCCEEDED job has a "
                "result (follow it with JobService.WatchJob)",
            )

        def read() -> bytes | None:
            with self.db.read() as conn:
                return jobs_store.get_result(conn, job_id)

        data = await self.db.run(read)
        if data is None:
            raise FailedPrecondition("job_id", f"job {job_id!r} kept no result")
        return pb.GetForecastResultResponse(result=pb.ForecastResponse.FromString(data))


def _relay(
    ctx: JobContext,
    loop: asyncio.AbstractEventLoop,
    future: concurrent.futures.Future[bytes],
    updates: queue.Queue[tuple[int, int, str]],
    stop: threading.Event,
) -> None:
    """Until the worker is done: pass its progress on to the job and a cancel to it."""
    while True:
        if ctx.cancelled():
            stop.set()
        if not loop.is_running():  # the server is gone: its pool will never answer
            stop.set()
            raise JobCancelled(f"job {ctx.job_id}: the server stopped")
        done = future.done()
        latest: tuple[int, int, str] | None = None
        try:
            latest = updates.get(timeout=0 if done else _RELAY_SECONDS)
            while True:
                latest = updates.get_nowait()
        except queue.Empty:
            pass
        if latest is not None:
            ctx.progress(*latest)
        if done:
            return
