"""ForecastService end to end: a real server on 127.0.0.1 (one for the module, on SQLite,
with a small demo group loaded) and a real channel. Inline forecasts and forecasts of the
stored sales, validation errors naming the request field, idempotent replay, the caller's
deadline, forecast jobs followed with JobService (progress, cancel, results).

Cheap models (ETS, Theta, seasonal naive) keep it fast; the deadline test uses Prophet so
that the run surely outlasts the deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import pickle
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import grpc
import numpy as np
import pytest

from dealer_group.demo import DemoSpec, generate
from serving.config import ServerConfig
from serving.store.db import Database, open_database
from serving.store.demo_load import load_group
from serving.store.sales import weekly_sales_frame, weekly_sales_series_count
from tests.conftest import RunningServer
from turnwise.errors import DeadlineExceeded, InvalidArgument
from turnwise.v1 import common_pb2, forecasting_pb2_grpc, jobs_pb2, jobs_pb2_grpc
from turnwise.v1 import forecasting_pb2 as pb

_WAIT = 60.0
_DEMO = DemoSpec(stores=3, trims=12, seed=1, weeks=60, lead_days=7)
_START = date(2024, 1, 1)  # a Monday


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    path: Path = tmp_path_factory.mktemp("forecast") / "turnwise.db"
    db = open_database(f"sqlite:///{path}")
    load_group(db, generate(_DEMO))
    config = ServerConfig(host="127.0.0.1", port=0, metrics_port=-1, load_demo=False, cpu_workers=2)
    running = RunningServer(config, db)
    yield running
    runtime = running.runtime
    asyncio.run_coroutine_threadsafe(runtime.jobs.close(), running._loop).result(_WAIT)
    runtime.forecasts.close()
    running.stop()
    db.close()


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> forecasting_pb2_grpc.ForecastServiceStub:
    return forecasting_pb2_grpc.ForecastServiceStub(channel)


@pytest.fixture(scope="module")
def jobs(channel: grpc.Channel) -> jobs_pb2_grpc.JobServiceStub:
    return jobs_pb2_grpc.JobServiceStub(channel)


# --- request builders ------------------------------------------------------------------


def _d(value: date) -> common_pb2.Date:
    return common_pb2.Date(year=value.year, month=value.month, day=value.day)


def _weekly(uid: str, weeks: int = 104, seed: int = 0, start: date = _START) -> pb.Series:
    """A seasonal Poisson demand series of ``weeks`` Mondays from ``start``."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    lam = 8 + 4 * np.sin(2 * np.pi * t / 52) + 0.02 * t
    ys = rng.poisson(np.clip(lam, 0.5, None))
    return pb.Series(
        unique_id=uid,
        history=[
            pb.Observation(ds=_d(start + timedelta(weeks=i)), y=float(y)) for i, y in enumerate(ys)
        ],
    )


def _request(series: list[pb.Series], **kwargs: object) -> pb.ForecastRequest:
    fields: dict[str, object] = {
        "frequency": pb.FREQUENCY_WEEKLY,
        "horizon": 6,
        "model": pb.FORECAST_MODEL_ETS,
        "series": series,
    }
    fields.update(kwargs)
    return pb.ForecastRequest(**fields)  # type: ignore[arg-type]


def _as_date(value: common_pb2.Date) -> date:
    return date(value.year, value.month, value.day)


def _check_forecast(
    forecast: pb.SeriesForecast, first: date, step: timedelta | None, levels: list[float]
) -> None:
    """Points start at ``first`` and step regularly; quantiles follow the sorted levels,
    are monotone and never negative; the mean is finite and never negative."""
    dates = [_as_date(p.ds) for p in forecast.points]
    assert dates[0] == first
    if step is not None:
        assert all(b - a == step for a, b in itertools.pairwise(dates))
    for point in forecast.points:
        assert [q.level for q in point.quantiles] == sorted(levels)
        values = [q.value for q in point.quantiles]
        assert values == sorted(values) and min(values) >= 0.0
        assert math.isfinite(point.mean) and point.mean >= 0.0


def _watch(jobs: jobs_pb2_grpc.JobServiceStub, job_id: str) -> list[jobs_pb2.Job]:
    request = jobs_pb2.WatchJobRequest(job_id=job_id)
    return [m.job for m in jobs.WatchJob(request, timeout=_WAIT)]


def _forecast_job_count(jobs: jobs_pb2_grpc.JobServiceStub) -> int:
    page = jobs.ListJobs(jobs_pb2.ListJobsRequest(kind=jobs_pb2.JOB_KIND_FORECAST))
    return len(page.jobs)


# --- Forecast ----------------------------------------------------------------------------


def test_inline_weekly_forecast_in_request_order(
    stub: forecasting_pb2_grpc.ForecastServiceStub,
) -> None:
    series = [
        _weekly("S2/T9", seed=1),
        _weekly("S1/T1", weeks=80, seed=2),
        _weekly("S3/T4", weeks=30, seed=3, start=_START + timedelta(weeks=10)),
    ]
    levels = [0.9, 0.1, 0.5]
    reply = stub.Forecast(_request(series, quantile_levels=levels), timeout=_WAIT)
    assert [f.unique_id for f in reply.forecasts] == ["S2/T9", "S1/T1", "S3/T4"]
    assert reply.fallbacks == sum(bool(f.fallback_reason) for f in reply.forecasts)
    for s, f in zip(series, reply.forecasts, strict=True):
        assert len(f.points) == 6
        last = _as_date(s.history[-1].ds)
        _check_forecast(f, last + timedelta(weeks=1), timedelta(weeks=1), levels)
        assert f.model in (pb.FORECAST_MODEL_ETS, pb.FORECAST_MODEL_SEASONAL_NAIVE)
        assert (f.model == pb.FORECAST_MODEL_ETS) == (not f.fallback_reason)


def test_inline_monthly_forecast_with_regressors(
    stub: forecasting_pb2_grpc.ForecastServiceStub,
) -> None:
    def month(k: int) -> date:
        return date(2020 + k // 12, k % 12 + 1, 1)

    series = []
    for n, uid in enumerate(("b", "a")):
        history = [
            pb.Observation(
                ds=_d(month(k)), y=float(20 + 5 * (k % 12 == 0) + n), regressors={"price": 1.0}
            )
            for k in range(36)
        ]
        future = [pb.Observation(ds=_d(month(k)), regressors={"price": 0.9}) for k in range(36, 39)]
        series.append(pb.Series(unique_id=uid, history=history, future_regressors=future))
    request = _request(
        series, frequency=pb.FREQUENCY_MONTHLY, horizon=3, model=pb.FORECAST_MODEL_THETA
    )
    reply = stub.Forecast(request, timeout=_WAIT)
    assert [f.unique_id for f in reply.forecasts] == ["b", "a"]
    for f in reply.forecasts:
        _check_forecast(f, month(36), None, [0.1, 0.5, 0.9])
        assert [_as_date(p.ds) for p in f.points] == [month(36), month(37), month(38)]


def test_forecast_of_the_stored_sales(
    server: RunningServer, stub: forecasting_pb2_grpc.ForecastServiceStub
) -> None:
    with server.runtime.db.read() as conn:
        frame = weekly_sales_frame(conn, store_ids=["S001"])
    ids = sorted(frame["unique_id"].unique())
    last_week = frame["ds"].max().date()
    assert ids and all(uid.startswith("S001/") for uid in ids)
    request = pb.ForecastRequest(
        horizon=4,
        model=pb.FORECAST_MODEL_SEASONAL_NAIVE,
        store_sales=pb.StoreSalesSelector(store_ids=["S001"]),
    )
    reply = stub.Forecast(request, timeout=_WAIT)
    assert [f.unique_id for f in reply.forecasts] == ids  # by unique_id
    for f in reply.forecasts:
        assert len(f.points) == 4
        _check_forecast(f, last_week + timedelta(weeks=1), timedelta(weeks=1), [0.1, 0.5, 0.9])
    nothing = pb.ForecastRequest(horizon=4, store_sales=pb.StoreSalesSelector(store_ids=["S999"]))
    with pytest.raises(grpc.RpcError) as err:
        stub.Forecast(nothing, timeout=_WAIT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("store_sales: selects no stored weekly sales")


def _nan_y() -> pb.ForecastRequest:
    series = [_weekly("a", weeks=20), _weekly("b", weeks=20)]
    series[1].history[5].y = math.nan
    return _request(series)


def _duplicate_date() -> pb.ForecastRequest:
    series = _weekly("a", weeks=20)
    series.history[3].ds.CopyFrom(series.history[2].ds)
    return _request([series])


def _missing_future_regressor() -> pb.ForecastRequest:
    series = _weekly("a", weeks=20)
    for obs in series.history:
        obs.regressors["price"] = 1.0
    last = _as_date(series.history[-1].ds)
    for k in (1, 2, 4):  # step 3 of the horizon of 4 is missing
        series.future_regressors.add(ds=_d(last + timedelta(weeks=k)), regressors={"price": 2})
    return _request([series], horizon=4)


def _off_grid() -> pb.ForecastRequest:
    series = _weekly("a", weeks=20)
    series.history[7].ds.day += 1  # a Tuesday
    return _request([series])


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (_nan_y, "series[1].history[5].y: must be a finite number"),
        (_duplicate_date, "series[0].history[3].ds: 2024-01-15 repeats the date of"),
        (_missing_future_regressor, "series[0].future_regressors: has no values for 2024-06-03"),
        (_off_grid, "series[0].history[7].ds: 2024-02-20 is off the grid"),
        (lambda: _request([_weekly("a", weeks=20)], horizon=0), "horizon: must be within"),
        (lambda: _request([]), "series: set exactly one of"),
        (
            lambda: _request([_weekly("a", weeks=20)], quantile_levels=[0.5, 1.0]),
            "quantile_levels[1]: must be in (0, 1)",
        ),
    ],
)
def test_bad_input_is_invalid_argument_naming_the_field(
    stub: forecasting_pb2_grpc.ForecastServiceStub,
    jobs: jobs_pb2_grpc.JobServiceStub,
    build: object,
    field: str,
) -> None:
    request = build()  # type: ignore[operator]
    with pytest.raises(grpc.RpcError) as err:
        stub.Forecast(request, timeout=_WAIT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(field), err.value.details()
    assert "Traceback" not in err.value.details()
    before = _forecast_job_count(jobs)
    with pytest.raises(grpc.RpcError) as err:
        stub.StartForecastJob(pb.StartForecastJobRequest(forecast=request), timeout=_WAIT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(f"forecast.{field}"), err.value.details()
    assert _forecast_job_count(jobs) == before  # no job was created


def test_idempotent_forecast_replays_and_rejects_another_request(
    stub: forecasting_pb2_grpc.ForecastServiceStub,
) -> None:
    request = _request([_weekly("a", seed=4), _weekly("b", seed=5)], idempotency_key="fc-1")
    first = stub.Forecast(request, timeout=_WAIT)
    assert stub.Forecast(request, timeout=_WAIT) == first
    other = _request([_weekly("a", seed=4)], idempotency_key="fc-1")
    with pytest.raises(grpc.RpcError) as err:
        stub.Forecast(other, timeout=_WAIT)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert err.value.details().startswith("idempotency_key:")


def test_too_short_deadline_answers_deadline_exceeded_pointing_to_jobs(
    stub: forecasting_pb2_grpc.ForecastServiceStub,
) -> None:
    slow = _request([_weekly(f"s{i}", seed=i) for i in range(80)], model=pb.FORECAST_MODEL_PROPHET)
    with pytest.raises(grpc.RpcError) as err:
        stub.Forecast(slow, timeout=2.0)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "StartForecastJob" in err.value.details()  # the server's answer, not the client's
    with pytest.raises(grpc.RpcError) as err:  # spent before any work starts
        stub.Forecast(_request([_weekly("a")]), timeout=0.02)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


# --- forecast jobs -------------------------------------------------------------------


def test_forecast_job_streams_progress_to_succeeded_and_keeps_its_result(
    stub: forecasting_pb2_grpc.ForecastServiceStub, jobs: jobs_pb2_grpc.JobServiceStub
) -> None:
    series = [_weekly(f"S{i:02d}/T1", weeks=60, seed=i) for i in range(30, 0, -1)]
    request = pb.StartForecastJobRequest(
        idempotency_key="job-1", forecast=_request(series, model=pb.FORECAST_MODEL_THETA)
    )
    started = stub.StartForecastJob(request, timeout=_WAIT)
    assert len(started.job_id) == 32
    count = _forecast_job_count(jobs)
    assert stub.StartForecastJob(request, timeout=_WAIT) == started  # same key: same job
    assert _forecast_job_count(jobs) == count
    other = pb.StartForecastJobRequest(idempotency_key="job-1", forecast=_request(series[:2]))
    with pytest.raises(grpc.RpcError) as err:
        stub.StartForecastJob(other, timeout=_WAIT)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    seen = _watch(jobs, started.job_id)
    states = [j.state for j in seen]
    assert states == sorted(states) and states[-1] == jobs_pb2.JOB_STATE_SUCCEEDED
    last = seen[-1]
    assert last.kind == jobs_pb2.JOB_KIND_FORECAST
    assert last.done == last.total > len(series)  # the series, and the final step
    # (progress while running is seen in test_cancelled_forecast_job_has_no_result)
    result = stub.GetForecastResult(
        pb.GetForecastResultRequest(job_id=started.job_id), timeout=_WAIT
    ).result
    assert [f.unique_id for f in result.forecasts] == [s.unique_id for s in series]
    for s, f in zip(series, result.forecasts, strict=True):
        first = _as_date(s.history[-1].ds) + timedelta(weeks=1)
        _check_forecast(f, first, timedelta(weeks=1), [0.1, 0.5, 0.9])
    assert result.fallbacks == sum(bool(f.fallback_reason) for f in result.forecasts)


def test_forecast_job_of_the_stored_sales(
    server: RunningServer,
    stub: forecasting_pb2_grpc.ForecastServiceStub,
    jobs: jobs_pb2_grpc.JobServiceStub,
) -> None:
    with server.runtime.db.read() as conn:
        total = weekly_sales_series_count(conn)
    request = pb.StartForecastJobRequest(
        forecast=pb.ForecastRequest(
            frequency=pb.FREQUENCY_WEEKLY,
            horizon=2,
            model=pb.FORECAST_MODEL_SEASONAL_NAIVE,
            store_sales=pb.StoreSalesSelector(),
        )
    )
    job_id = stub.StartForecastJob(request, timeout=_WAIT).job_id
    assert _watch(jobs, job_id)[-1].state == jobs_pb2.JOB_STATE_SUCCEEDED
    result = stub.GetForecastResult(pb.GetForecastResultRequest(job_id=job_id)).result
    ids = [f.unique_id for f in result.forecasts]
    assert len(ids) == total and ids == sorted(ids)


def test_cancelled_forecast_job_has_no_result(
    stub: forecasting_pb2_grpc.ForecastServiceStub, jobs: jobs_pb2_grpc.JobServiceStub
) -> None:
    series = [_weekly(f"c{i:03d}", seed=i) for i in range(400)]
    job_id = stub.StartForecastJob(
        pb.StartForecastJobRequest(forecast=_request(series)), timeout=_WAIT
    ).job_id
    seen = []
    cancelled = None
    for message in jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job_id), timeout=_WAIT):
        seen.append(message.job)
        if cancelled is None and message.job.done > 0:
            assert message.job.done < message.job.total  # still running
            with pytest.raises(grpc.RpcError) as err:
                stub.GetForecastResult(pb.GetForecastResultRequest(job_id=job_id))
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "RUNNING" in err.value.details()
            cancelled = jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=job_id)).job
    assert cancelled is not None and cancelled.state == jobs_pb2.JOB_STATE_RUNNING
    assert seen[-1].state == jobs_pb2.JOB_STATE_CANCELLED
    assert seen[-1].done < seen[-1].total
    with pytest.raises(grpc.RpcError) as err:
        stub.GetForecastResult(pb.GetForecastResultRequest(job_id=job_id))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "CANCELLED" in err.value.details()


def test_get_forecast_result_of_unknown_or_missing_job(
    stub: forecasting_pb2_grpc.ForecastServiceStub,
) -> None:
    for job_id, code in (
        ("0" * 32, grpc.StatusCode.NOT_FOUND),
        ("", grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.RpcError) as err:
            stub.GetForecastResult(pb.GetForecastResultRequest(job_id=job_id))
        assert err.value.code() == code
        assert err.value.details().startswith("job_id:")
    with pytest.raises(grpc.RpcError) as err:
        stub.StartForecastJob(pb.StartForecastJobRequest(), timeout=_WAIT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("forecast: is required")


# --- pieces --------------------------------------------------------------------------


def test_stored_sales_series_count_matches_the_frame(db: Database) -> None:
    load_group(db, generate(_DEMO))
    with db.read() as conn:
        frame = weekly_sales_frame(conn, region_ids=["R01", "R02"])
        count = weekly_sales_series_count(conn, region_ids=["R01", "R02"])
        assert weekly_sales_series_count(conn, store_ids=["nope"]) == 0
    assert count == frame["unique_id"].nunique() > 0
    ends = frame.groupby("unique_id")["ds"].max()
    assert (ends == frame["ds"].max()).all()  # every series ends at the latest week


def test_errors_survive_a_worker_process_boundary() -> None:
    """Errors raised in CpuPool workers are pickled back to the server intact."""
    for err in (InvalidArgument("series[1].history[5].y", "bad"), DeadlineExceeded("", "late")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert (back.field, back.hint, str(back)) == (err.field, err.hint, str(err))
