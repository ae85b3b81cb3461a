"""ForecastService: inline forecasts (a worker process, within the caller's deadline) and
forecast jobs (Ray or the sequential backend, progress through JobService, cancellable)."""

from __future__ import annotations

import hashlib
import time

import grpc
import pandas as pd

from forecasting.backend import Backend, RunCancelled, SequentialBackend
from forecasting.forecaster import ForecastConfig, Progress, forecast
from serving.budget import time_budget
from serving.convert import forecasting as convert
from serving.errors import grpc_errors
from serving.services.writes import idempotent_write
from serving.store.db import Database
from serving.store.idempotency import find_response
from serving.store.sales import weekly_sales_frame
from serving.workers import CpuPool
from turnwise.errors import DeadlineExceeded, InvalidArgument
from turnwise.v1 import forecasting_pb2 as pb
from turnwise.v1 import forecasting_pb2_grpc

__all__ = ["MAX_INLINE_SERIES", "ForecastServicer", "run_query"]

MAX_INLINE_SERIES = 1000
_FORECAST = "ForecastService.Forecast"


def run_query(
    query: convert.ForecastQuery,
    history: pd.DataFrame,
    deadline: float | None = None,
    backend: Backend | None = None,
    progress: Progress | None = None,
    cancelled: object = None,
) -> bytes:
    """Forecast a validated query (in a worker process or a job thread) and return the
    serialized ForecastResponse. ``deadline`` is a ``time.time()`` instant."""
    panel = convert.query_to_panel(query, history, query.future)

    def should_stop() -> bool:
        if deadline is not None and time.time() > deadline:
            return True
        return bool(callable(cancelled) and cancelled())

    try:
        result = forecast(
            panel,
            query.levels,
            ForecastConfig(model=query.model),
            backend or SequentialBackend(),
            progress,
            should_stop,
        )
    except RunCancelled:
        if deadline is not None and time.time() > deadline:
            raise DeadlineExceeded(
                "deadline",
                f"the forecast of {len(panel)} series did not finish within the "
                "caller's deadline; allow more time or use StartForecastJob",
            ) from None
        raise
    return convert.result_to_response(result, query.order).SerializeToString()


class ForecastServicer(forecasting_pb2_grpc.ForecastServiceServicer):
    def __init__(self, db: Database, cpu: CpuPool, default_seconds: float) -> None:
        self.db, self.cpu, self.default_seconds = db, cpu, default_seconds

    async def _history(self, query: convert.ForecastQuery) -> pd.DataFrame:
        if query.history is not None:
            return query.history
        sel = query.selector
        assert sel is not None

        def read() -> pd.DataFrame:
            with self.db.read() as conn:
                return weekly_sales_frame(
                    conn, sel.store_ids, sel.trim_ids, sel.region_ids, sel.brand_ids
                )

        frame = await self.db.run(read)
        if frame.empty:
            raise InvalidArgument("store_sales", "selects no stored weekly sales; widen it")
        if frame["unique_id"].nunique() > MAX_INLINE_SERIES:
            raise InvalidArgument(
                "store_sales",
                f"selects {frame['unique_id'].nunique()} series, more than "
                f"{MAX_INLINE_SERIES} for this RPC; use StartForecastJob",
            )
        return frame

    @grpc_errors
    async def Forecast(
        self, request: pb.ForecastRequest, context: grpc.aio.ServicerContext
    ) -> pb.ForecastResponse:
        query = convert.request_to_query(request, MAX_INLINE_SERIES)
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
        history = await self._history(query)
        budget = time_budget(context.time_remaining(), 0.0, 30 * self.default_seconds)
        data = await self.cpu.run(run_query, query, history, time.time() + budget)
        response = pb.ForecastResponse.FromString(data)
        if not key:
            return response
        return await idempotent_write(
            self.db, _FORECAST, key, body, pb.ForecastResponse, lambda conn: response
        )
