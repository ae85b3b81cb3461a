"""What every forecasting model takes and returns.

A *local* model forecasts one series at a time::

    def forecast_one(series: SeriesData, spec: ForecastSpec) -> PointForecast

a *global* model (XGBoost) learns across many series at once::

    def forecast_many(series: Sequence[SeriesData], spec: ForecastSpec) -> list[PointForecast]

Both are pure functions of their inputs and ``spec.seed``: the same call gives the same
numbers in any process, which is what lets the Ray and the sequential paths agree.
A model that cannot forecast a series raises ``ModelFailure`` (or any exception); the
forecaster catches it per series, falls back and reports why.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass

import numpy as np

from forecasting.panel import DEFAULT_LEVELS, Frequency

__all__ = [
    "ForecastSpec",
    "ModelFailure",
    "ModelName",
    "PointForecast",
    "finalize",
    "series_seed",
]


class ModelName(enum.Enum):
    """Model families, as in the contract's ForecastModel enum."""

    ENSEMBLE = "ensemble"
    PROPHET = "prophet"
    XGBOOST = "xgboost"
    SEASONAL_NAIVE = "seasonal-naive"
    ETS = "ets"
    THETA = "theta"
    CROSTON = "croston"


class ModelFailure(Exception):
    """A model could not forecast one series; the message says why (e.g. too short)."""


@dataclass(frozen=True)
class ForecastSpec:
    """How far ahead, at which quantile levels, on which grid, with which seed.

    ``regressors`` names the columns of ``SeriesData.x`` / ``x_future``; ``nonnegative``
    clips forecasts at zero (demand)."""

    freq: Frequency
    horizon: int
    levels: tuple[float, ...] = DEFAULT_LEVELS
    regressors: tuple[str, ...] = ()
    seed: int = 0
    nonnegative: bool = True

    @property
    def season_length(self) -> int:
        return self.freq.season_length


@dataclass(frozen=True)
class PointForecast:
    """``mean`` has shape (horizon,); ``quantiles`` (horizon, len(levels)), one column per
    level of the spec in increasing order."""

    mean: np.ndarray
    quantiles: np.ndarray


def finalize(mean: np.ndarray, quantiles: np.ndarray, nonnegative: bool) -> PointForecast:
    """Make a raw forecast valid: finite, quantiles monotone in the level (sorted per step,
    which also repairs crossing quantile regressions) and, for demand, never negative."""
    mean = np.asarray(mean, dtype=float)
    quantiles = np.sort(np.asarray(quantiles, dtype=float), axis=1)
    if not (np.isfinite(mean).all() and np.isfinite(quantiles).all()):
        raise ModelFailure("non-finite forecast values")
    if nonnegative:
        mean = np.clip(mean, 0.0, None)
        quantiles = np.clip(quantiles, 0.0, None)
    return PointForecast(mean, quantiles)


def series_seed(seed: int, unique_id: str) -> int:
    """A per-series seed that does not depend on the process or the order of the series."""
    return (seed * 1_000_003 + zlib.crc32(unique_id.encode())) % (2**31 - 1)
