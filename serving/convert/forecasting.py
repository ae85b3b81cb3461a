"""ForecastService messages <-> the forecasting engine's inputs and results.

``request_to_query`` validates a ForecastRequest into a ``ForecastQuery`` (plain Python and
pandas: it crosses into a worker process); ``query_to_panel`` builds the engine's panel, and
``result_to_response`` turns a ``ForecastResult`` into a ForecastResponse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forecasting.forecaster import ForecastResult
from forecasting.model import ModelName
from forecasting.panel import DEFAULT_LEVELS, Frequency, Panel, build_panel, check_levels
from serving.convert.common import date_from_pb, date_to_pb
from turnwise.errors import InvalidArgument, ResourceExhausted
from turnwise.v1 import common_pb2
from turnwise.v1 import forecasting_pb2 as pb

__all__ = [
    "MAX_HORIZON",
    "ForecastQuery",
    "SalesSelector",
    "query_to_panel",
    "request_to_query",
    "result_to_response",
]

MAX_HORIZON = 104
_FREQ = {pb.FREQUENCY_WEEKLY: Frequency.WEEKLY, pb.FREQUENCY_MONTHLY: Frequency.MONTHLY}
_MODEL_TO_PB = {
    ModelName.ENSEMBLE: pb.FORECAST_MODEL_ENSEMBLE,
    ModelName.PROPHET: pb.FORECAST_MODEL_PROPHET,
    ModelName.XGBOOST: pb.FORECAST_MODEL_XGBOOST,
    ModelName.SEASONAL_NAIVE: pb.FORECAST_MODEL_SEASONAL_NAIVE,
    ModelName.ETS: pb.FORECAST_MODEL_ETS,
    ModelName.THETA: pb.FORECAST_MODEL_THETA,
    ModelName.CROSTON: pb.FORECAST_MODEL_CROSTON,
}
_MODEL_FROM_PB = {v: k for k, v in _MODEL_TO_PB.items()}


@dataclass(frozen=True)
class SalesSelector:
    """Which stored store x trim weekly sales to forecast (empty = all)."""

    store_ids: tuple[str, ...] = ()
    trim_ids: tuple[str, ...] = ()
    region_ids: tuple[str, ...] = ()
    brand_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForecastQuery:
    """A validated ForecastRequest. ``history`` / ``future`` are long frames for inline
    series; ``selector`` is set instead for stored sales (the frames are read later)."""

    freq: Frequency
    horizon: int
    levels: tuple[float, ...]
    model: ModelName
    history: pd.DataFrame | None = None
    future: pd.DataFrame | None = None
    selector: SalesSelector | None = None
    order: tuple[str, ...] = field(default=())


def request_to_query(request: pb.ForecastRequest, max_series: int) -> ForecastQuery:
    if request.horizon < 1 or request.horizon > MAX_HORIZON:
        raise InvalidArgument(
            "horizon", f"must be within [1, {MAX_HORIZON}], got {request.horizon}"
        )
    levels = check_levels(list(request.quantile_levels) or list(DEFAULT_LEVELS), "quantile_levels")
    model = ModelName.ENSEMBLE
    if request.model != pb.FORECAST_MODEL_UNSPECIFIED:
        if request.model not in _MODEL_FROM_PB:
            raise InvalidArgument("model", f"unknown ForecastModel value {request.model}")
        model = _MODEL_FROM_PB[request.model]
    has_selector = request.HasField("store_sales")
    if bool(request.series) == has_selector:
        raise InvalidArgument("series", "set exactly one of `series` and `store_sales`")
    if has_selector:
        if request.frequency not in (pb.FREQUENCY_UNSPECIFIED, pb.FREQUENCY_WEEKLY):
            raise InvalidArgument("frequency", "stored sales are weekly: use FREQUENCY_WEEKLY")
        sel = request.store_sales
        selector = SalesSelector(
            tuple(sel.store_ids), tuple(sel.trim_ids), tuple(sel.region_ids), tuple(sel.brand_ids)
        )
        return ForecastQuery(Frequency.WEEKLY, request.horizon, levels, model, selector=selector)
    if request.frequency not in _FREQ:
        raise InvalidArgument("frequency", "is required: FREQUENCY_WEEKLY or FREQUENCY_MONTHLY")
    if len(request.series) > max_series:
        raise ResourceExhausted(
            "series",
            f"{len(request.series)} series exceed the limit of {max_series} for this "
            "RPC; use StartForecastJob for large runs",
        )
    history, future, order = _series_frames(request)
    return ForecastQuery(
        _FREQ[request.frequency], request.horizon, levels, model, history, future, order=order
    )


def _series_frames(
    request: pb.ForecastRequest,
) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[str, ...]]:
    rows: list[dict[str, object]] = []
    future: list[dict[str, object]] = []
    order: list[str] = []
    seen: set[str] = set()
    for i, series in enumerate(request.series):
        uid = series.unique_id
        if not uid:
            raise InvalidArgument(f"series[{i}].unique_id", "is required")
        if uid in seen:
            raise InvalidArgument(f"series[{i}].unique_id", f"{uid!r} appears twice")
        seen.add(uid)
        order.append(uid)
        if not series.history:
            raise InvalidArgument(f"series[{i}].history", "needs at least one observation")
        for j, obs in enumerate(series.history):
            ds = date_from_pb(f"series[{i}].history[{j}].ds", obs.ds)
            rows.append({"unique_id": uid, "ds": ds, "y": obs.y, **dict(obs.regressors)})
        for j, obs in enumerate(series.future_regressors):
            ds = date_from_pb(f"series[{i}].future_regressors[{j}].ds", obs.ds)
            future.append({"unique_id": uid, "ds": ds, **dict(obs.regressors)})
    history = pd.DataFrame(rows)
    fut = pd.DataFrame(future) if future else None
    return history, fut, tuple(order)


def query_to_panel(
    query: ForecastQuery, history: pd.DataFrame, future: pd.DataFrame | None
) -> Panel:
    """The engine's panel; errors on series name the request fields."""
    try:
        return build_panel(history, query.freq, query.horizon, future)
    except InvalidArgument as err:
        where = {
            "ds": "series.history.ds",
            "y": "series.history.y",
            "future": "series.future_regressors",
        }
        raise InvalidArgument(
            where.get(err.field, f"series.history.regressors[{err.field}]"), err.hint
        ) from None


def result_to_response(result: ForecastResult, order: tuple[str, ...] = ()) -> pb.ForecastResponse:
    by_id = {f.unique_id: f for f in result.forecasts}
    ids = list(order) if order else sorted(by_id)
    out = pb.ForecastResponse(fallbacks=len(result.fallbacks))
    for uid in ids:
        f = by_id[uid]
        item = out.forecasts.add(
            unique_id=uid, model=_MODEL_TO_PB[f.model], fallback_reason=f.fallback_reason
        )
        for step, ds in enumerate(f.ds):
            point = item.points.add(ds=date_to_pb(ds.date()), mean=float(f.mean[step]))
            point.quantiles.extend(
                common_pb2.QuantileValue(level=level, value=float(f.quantiles[step, j]))
                for j, level in enumerate(result.spec.levels)
            )
    return out
