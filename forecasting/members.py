"""The ensemble's members and the demand classes that decide which members a series gets.

Local members forecast one series at a time (``run_local``); XGBoost is the one global
member and is run by the forecaster over many series at once. Prophet is imported only when
a Prophet forecast is asked for: it is slow to import.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import numpy as np

from forecasting import baselines
from forecasting.model import ForecastSpec, ModelFailure, ModelName, PointForecast
from forecasting.panel import SeriesData

__all__ = [
    "GLOBAL_MEMBERS",
    "LOCAL_MEMBERS",
    "DemandClass",
    "classify",
    "members_for",
    "run_local",
]

LocalModel = Callable[[SeriesData, ForecastSpec], PointForecast]

LOCAL_MEMBERS: tuple[ModelName, ...] = (
    ModelName.SEASONAL_NAIVE,
    ModelName.ETS,
    ModelName.THETA,
    ModelName.CROSTON,
    ModelName.PROPHET,
)
GLOBAL_MEMBERS: tuple[ModelName, ...] = (ModelName.XGBOOST,)


class DemandClass(enum.Enum):
    """How a series' history looks; each class has its own ensemble weights.

    ALL_ZERO series are forecast as zero; SHORT ones (under two seasons) get the members
    that need little history; INTERMITTENT ones (mostly zeros) add Croston."""

    SMOOTH = "smooth"
    INTERMITTENT = "intermittent"
    SHORT = "short"
    ALL_ZERO = "all-zero"


def classify(y: np.ndarray, season_length: int) -> DemandClass:
    if not np.any(y):
        return DemandClass.ALL_ZERO
    if baselines.is_intermittent(y):
        return DemandClass.INTERMITTENT
    if len(y) < 2 * season_length:
        return DemandClass.SHORT
    return DemandClass.SMOOTH


def members_for(demand: DemandClass) -> tuple[ModelName, ...]:
    """Candidate members of the ensemble for one demand class."""
    if demand is DemandClass.ALL_ZERO:
        return (ModelName.SEASONAL_NAIVE,)
    if demand is DemandClass.INTERMITTENT:
        return (ModelName.SEASONAL_NAIVE, ModelName.ETS, ModelName.CROSTON, ModelName.XGBOOST)
    return (
        ModelName.SEASONAL_NAIVE,
        ModelName.ETS,
        ModelName.THETA,
        ModelName.PROPHET,
        ModelName.XGBOOST,
    )


def _prophet(series: SeriesData, spec: ForecastSpec) -> PointForecast:
    from forecasting.prophet_model import forecast_prophet

    return forecast_prophet(series, spec)


_LOCAL: dict[ModelName, LocalModel] = {
    ModelName.SEASONAL_NAIVE: baselines.seasonal_naive,
    ModelName.ETS: baselines.ets,
    ModelName.THETA: baselines.theta,
    ModelName.CROSTON: baselines.croston_sba,
    ModelName.PROPHET: _prophet,
}


def run_local(model: ModelName, series: SeriesData, spec: ForecastSpec) -> PointForecast:
    """Forecast ``series`` with one local member; raises ``ModelFailure`` on any failure."""
    try:
        return _LOCAL[model](series, spec)
    except ModelFailure:
        raise
    except Exception as exc:  # one member failing on one series must not fail the run
        raise ModelFailure(f"{model.value} failed: {type(exc).__name__}: {exc}") from exc
