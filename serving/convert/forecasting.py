"""ForecastService messages <-> the forecasting engine's inputs and results.

``request_to_query`` validates a ForecastRequest into a ``ForecastQuery`` (plain Python and
pandas: it crosses into a worker process). Inline series are checked observation by
observation here, so that an error names the request field (``series[2].history[5].y``)
rather than a row of an internal frame. ``query_to_panel`` builds the engine's panel, and
``result_to_response`` turns a ``ForecastResult`` into a ForecastResponse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from forecasting.model import ModelName
from forecasting.panel import DEFAULT_LEVELS, Frequency, Panel, build_panel, check_levels
from serving.convert.common import date_from_pb, date_to_pb
from turnwise.errors import InvalidArgument, ResourceExhausted
from turnwise.v1 import common_pb2
from turnwise.v1 import forecasting_pb2 as pb

if TYPE_CHECKING:
    from forecasting.forecaster import ForecastResult

__all__ = [
    "MAX_HORIZON",
    "ForecastQuery",
    "SalesSelector",
    "query_to_panel",
    "request_to_query",
    "result_to_response",
]

MAX_HORIZON = 104
_MAX_LISTED = 5
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
    series; ``selector`` is set instead for stored sales (the frames are read later).
    ``order`` is the request order of the inline series (empty: by unique_id)."""

    freq: Frequency
    horizon: int
    levels: tuple[float, ...]
    model: ModelName
    history: pd.DataFrame | None = None
    future: pd.DataFrame | None = None
    selector: SalesSelector | None = None
    order: tuple[str, ...] = field(default=())


def request_to_query(request: pb.ForecastRequest, max_series: int) -> ForecastQuery:
    """Validate ``request``; InvalidArgument names the field, ResourceExhausted when it has
    more than ``max_series`` inline series."""
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
        raise InvalidArgument(
            "series",
            "set exactly one of `series` (inline series) and `store_sales` (stored sales)",
        )
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
    freq = _FREQ[request.frequency]
    history, future, order = _series_frames(request, freq)
    return ForecastQuery(freq, request.horizon, levels, model, history, future, order=order)


def _on_grid(value: date, freq: Frequency) -> bool:
    return value.weekday() == 0 if freq is Frequency.WEEKLY else value.day == 1


def _grid_rule(freq: Frequency) -> str:
    if freq is Frequency.WEEKLY:
        return "weekly dates must be Mondays (the start of their week)"
    return "monthly dates must be the first of their month"


def _steps_after(last: date, freq: Frequency, horizon: int) -> list[date]:
    """The ``horizon`` grid dates after ``last``."""
    if freq is Frequency.WEEKLY:
        return [last + timedelta(weeks=k) for k in range(1, horizon + 1)]
    out = []
    for k in range(1, horizon + 1):
        months = last.year * 12 + last.month - 1 + k
        out.append(date(months // 12, months % 12 + 1, 1))
    return out


def _regressor_field(path: str, name: str) -> str:
    return f'{path}.regressors["{name}"]'


def _check_regressors(
    path: str, values: dict[str, float], names: tuple[str, ...], where: str
) -> None:
    """``values`` has exactly the regressors ``names``, each finite."""
    for name in names:
        if name not in values:
            raise InvalidArgument(
                _regressor_field(path, name),
                f"is missing; {where} needs every regressor of the history ({', '.join(names)})",
            )
    for name, value in values.items():
        if name not in names:
            listed = ", ".join(names) if names else "none"
            raise InvalidArgument(
                _regressor_field(path, name),
                f"is not a regressor of the history (series[0].history[0] has: {listed}); "
                "every observation of every series needs the same regressors",
            )
        if not math.isfinite(value):
            raise InvalidArgument(_regressor_field(path, name), f"must be finite, got {value}")


def _series_frames(
    request: pb.ForecastRequest, freq: Frequency
) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[str, ...]]:
    rows: list[dict[str, object]] = []
    future: list[dict[str, object]] = []
    order: list[str] = []
    seen: dict[str, int] = {}
    first = request.series[0].history[0] if request.series[0].history else None
    names = tuple(sorted(first.regressors)) if first is not None else ()
    for i, series in enumerate(request.series):
        uid = series.unique_id
        if not uid:
            raise InvalidArgument(f"series[{i}].unique_id", "is required, e.g. S001/T0001")
        if uid in seen:
            raise InvalidArgument(
                f"series[{i}].unique_id", f"{uid!r} is also series[{seen[uid]}].unique_id"
            )
        seen[uid] = i
        order.append(uid)
        if not series.history:
            raise InvalidArgument(f"series[{i}].history", "needs at least one observation")
        last: date | None = None
        for j, obs in enumerate(series.history):
            path = f"series[{i}].history[{j}]"
            ds = date_from_pb(f"{path}.ds", obs.ds)
            if not _on_grid(ds, freq):
                raise InvalidArgument(f"{path}.ds", f"{ds} is off the grid: {_grid_rule(freq)}")
            if last is not None and ds <= last:
                what = "repeats the date of" if ds == last else "comes before"
                raise InvalidArgument(
                    f"{path}.ds",
                    f"{ds} {what} history[{j - 1}].ds; observations must be in increasing "
                    "date order, one per date",
                )
            last = ds
            if not math.isfinite(obs.y):
                raise InvalidArgument(
                    f"{path}.y", f"must be a finite number (0 for no demand), got {obs.y}"
                )
            regressors = dict(obs.regressors)
            _check_regressors(path, regressors, names, "each observation")
            rows.append({"unique_id": uid, "ds": ds, "y": obs.y, **regressors})
        assert last is not None
        future.extend(_future_rows(request, i, uid, last, freq, names))
    history = pd.DataFrame(rows, columns=["unique_id", "ds", "y", *names])
    history["ds"] = pd.to_datetime(history["ds"])
    fut = None
    if names:
        fut = pd.DataFrame(future, columns=["unique_id", "ds", *names])
        fut["ds"] = pd.to_datetime(fut["ds"])
    return history, fut, tuple(order)


def _future_rows(
    request: pb.ForecastRequest,
    i: int,
    uid: str,
    last: date,
    freq: Frequency,
    names: tuple[str, ...],
) -> list[dict[str, object]]:
    """Series ``i``'s future regressor values: exactly one for each horizon step when the
    history has regressors (no silent zeros)."""
    series = request.series[i]
    steps = _steps_after(last, freq, request.horizon)
    wanted = set(steps)
    got: dict[date, int] = {}
    rows: list[dict[str, object]] = []
    for j, obs in enumerate(series.future_regressors):
        path = f"series[{i}].future_regressors[{j}]"
        ds = date_from_pb(f"{path}.ds", obs.ds)
        if ds not in wanted:
            raise InvalidArgument(
                f"{path}.ds",
                f"{ds} is not one of the {request.horizon} steps after the last observation "
                f"({steps[0]} to {steps[-1]})",
            )
        if ds in got:
            raise InvalidArgument(
                f"{path}.ds", f"{ds} is also future_regressors[{got[ds]}].ds; one per step"
            )
        got[ds] = j
        regressors = dict(obs.regressors)
        _check_regressors(path, regressors, names, "each future step")
        rows.append({"unique_id": uid, "ds": ds, **regressors})
    missing = [d for d in steps if d not in got]
    if names and missing:
        listed = ", ".join(str(d) for d in missing[:_MAX_LISTED])
        more = len(missing) - _MAX_LISTED
        raise InvalidArgument(
            f"series[{i}].future_regressors",
            f"has no values for {listed}{f' and {more} more' if more > 0 else ''}: the "
            f"regressors ({', '.join(names)}) need a value for each of the "
            f"{request.horizon} steps after the last observation ({last})",
        )
    return rows


def query_to_panel(
    query: ForecastQuery, history: pd.DataFrame, future: pd.DataFrame | None = None
) -> Panel:
    """The engine's panel. Inline series were checked field by field already; an error
    left to the engine names the part of the request it is about."""
    try:
        return build_panel(history, query.freq, query.horizon, future)
    except InvalidArgument as err:
        where = "store_sales" if query.selector is not None else "series"
        raise InvalidArgument(where, err.hint) from None


def result_to_response(result: ForecastResult, order: tuple[str, ...] = ()) -> pb.ForecastResponse:
    """One SeriesForecast per series: in ``order`` (request order), else by unique_id."""
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
