"""Feature rows of the global XGBoost model: one row per (series, origin, step).

A row describes the forecast made at *origin* ``t`` (the last observed index) for the
value ``k`` steps ahead (``y[t + k]``); ``k`` is a feature, so one booster can learn every
step at once (``forecasting.xgb_model`` does so for the quantiles). Every level feature is
divided by the origin's *scale* ``s_t`` (the mean absolute value of the last
``scale_window`` observations, or of the whole history up to ``t`` when those are all zero)
and the model learns ``y[t + k] / s_t``: one tree ensemble then fits series of very
different sizes. Row features, in ``FeatureLayout.names`` order:

- ``step``: ``k``;
- ``lag_j``: ``y[t - j] / s`` for ``j = 0 .. lags - 1`` (NaN before the series starts);
- seasonal lags of the *target* period: ``y[j] / s`` at ``j = t + k - m ceil(k / m)``
  (the same season position, last observed), the mean of ``y[j - 1 .. j + 1]`` and
  ``y[j - m]``;
- ``mean_w`` and ``std_w`` over the last ``w`` observations for each window (fewer when the
  history is shorter), over ``s``;
- ``drift_w`` for the two shortest windows: the last window's mean carried along the slope
  between the last two windows' means to the target period, over ``s`` (trees cannot
  extrapolate a trend; this hands them one);
- series encodings: ``log1p(s)``, ``log(t + 1)`` (history length), the share of zeros in the
  last season, the mean of the whole history and of the season before the last, over ``s``;
- the target period's calendar: annual sine and cosine, week-of-year (or month) number and
  ``forecasting.calendar.calendar_features`` (share of the period in each event);
- the exogenous regressors at the target period (``x`` in the history, ``x_future`` after),
  named ``x_0``, ``x_1``, ... in ``spec.regressors`` order.

Calendar rows are computed once per call for the whole date span of the panel and looked up
by an integer period number, not once per series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.calendar import CALENDAR_FEATURES, calendar_features
from forecasting.model import ForecastSpec
from forecasting.panel import Frequency, SeriesData

__all__ = [
    "CalendarTable",
    "FeatureLayout",
    "OriginScale",
    "feature_rows",
    "layout_for",
    "origin_scale",
    "period_numbers",
]

_WEEK_EPOCH = pd.Timestamp("1970-01-05")  # a Monday: period 0 of the weekly grid
_EPOCH_MONDAY_DAY = 4  # 1970-01-05 in days since 1970-01-01


@dataclass(frozen=True)
class FeatureLayout:
    """Which features a row holds; ``names`` lists the columns in order."""

    season_length: int
    lags: int
    windows: tuple[int, ...]
    scale_window: int
    regressors: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (
            "step",
            *(f"lag_{j}" for j in range(self.lags)),
            "season_lag",
            "season_lag_mean3",
            "season_lag_2",
            *(f"{kind}_{w}" for w in self.windows for kind in ("mean", "std")),
            *(f"drift_{w}" for w in self.windows[:2]),
            "log_scale",
            "log_length",
            "zero_share",
            "history_mean",
            "previous_season_mean",
            *CalendarTable.columns(),
            # by position: xgboost rejects feature names holding "[", "]" or "<"
            *(f"x_{i}" for i in range(len(self.regressors))),
        )


def layout_for(spec: ForecastSpec) -> FeatureLayout:
    """Weekly: 13 lags, windows 4/13/52; monthly: 12 lags, windows 3/6/12; quarterly: 8
    lags, windows 2/4/8. Scale: the mean absolute value of the last 4 weeks, 3 months or 2
    quarters."""
    if spec.freq is Frequency.WEEKLY:
        return FeatureLayout(52, 13, (4, 13, 52), 4, spec.regressors)
    if spec.freq is Frequency.QUARTERLY:
        return FeatureLayout(4, 8, (2, 4, 8), 2, spec.regressors)
    return FeatureLayout(12, 12, (3, 6, 12), 3, spec.regressors)


def period_numbers(ds: pd.DatetimeIndex, freq: Frequency) -> np.ndarray:
    """An integer per grid date, consecutive along the grid (weeks, months or quarters since
    1970)."""
    values = ds.to_numpy()
    if freq is Frequency.WEEKLY:
        days = values.astype("datetime64[D]").astype(np.int64)
        return (days - _EPOCH_MONDAY_DAY) // 7
    months = values.astype("datetime64[M]").astype(np.int64)
    return months // 3 if freq is Frequency.QUARTERLY else months


def _period_dates(first: int, count: int, freq: Frequency) -> pd.DatetimeIndex:
    if freq is Frequency.WEEKLY:
        return pd.date_range(_WEEK_EPOCH + pd.Timedelta(weeks=first), periods=count, freq="W-MON")
    if freq is Frequency.QUARTERLY:
        start = pd.Timestamp(year=1970 + first // 4, month=3 * (first % 4) + 1, day=1)
        return pd.date_range(start, periods=count, freq="QS")
    start = pd.Timestamp(year=1970 + first // 12, month=first % 12 + 1, day=1)
    return pd.date_range(start, periods=count, freq="MS")


class CalendarTable:
    """Calendar features of every period from ``first`` to ``last`` (period numbers)."""

    def __init__(self, first: int, last: int, freq: Frequency) -> None:
        dates = _period_dates(first, last - first + 1, freq)
        if freq is Frequency.WEEKLY:
            position = (dates.day_of_year.to_numpy() - 1) // 7 + 1
            angle = 2 * np.pi * (dates.day_of_year.to_numpy() - 1) / 365.25
        elif freq is Frequency.QUARTERLY:
            position = dates.quarter.to_numpy()
            angle = 2 * np.pi * (position - 1) / 4
        else:
            position = dates.month.to_numpy()
            angle = 2 * np.pi * (position - 1) / 12
        events = calendar_features(dates, freq).to_numpy()
        self.first = first
        self.freq = freq
        self.values = np.column_stack([np.sin(angle), np.cos(angle), position, events]).astype(
            np.float32
        )

    @staticmethod
    def columns() -> tuple[str, ...]:
        return ("season_sin", "season_cos", "season_position", *CALENDAR_FEATURES)

    def rows(self, series: SeriesData, periods: np.ndarray) -> np.ndarray:
        """Rows of the periods ``periods`` steps after the series' first date."""
        start = int(period_numbers(series.ds[:1], self.freq)[0])
        return np.asarray(self.values[start + periods - self.first])


@dataclass(frozen=True)
class OriginScale:
    """Per-origin scale of a series: ``s[t]`` for every index ``t`` of the history."""

    values: np.ndarray

    def usable(self) -> np.ndarray:
        """Origins with any non-zero history (a zero scale cannot normalise)."""
        return self.values > 0


def origin_scale(y: np.ndarray, window: int) -> OriginScale:
    """``s[t]``: mean |y| over the last ``window`` values up to ``t``; when those are all
    zero, over the whole history up to ``t``; 0 when that is all zero too."""
    absolute = np.concatenate([[0.0], np.cumsum(np.abs(y))])
    t = np.arange(len(y))
    recent = _window_mean(absolute, t, window)
    overall = absolute[t + 1] / (t + 1)
    return OriginScale(np.where(recent > 0, recent, overall))


def _window_mean(cum: np.ndarray, t: np.ndarray, w: int) -> np.ndarray:
    """Mean of the (at most ``w``) values ending at ``t`` from a leading-zero cumsum."""
    lo = np.maximum(t + 1 - w, 0)
    return np.asarray((cum[t + 1] - cum[lo]) / (t + 1 - lo))


def _at(y: np.ndarray, index: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``y[index]`` where ``valid``, NaN elsewhere."""
    return np.where(valid, y[np.clip(index, 0, len(y) - 1)], np.nan)


def _seasonal_lags(y: np.ndarray, t: np.ndarray, k: np.ndarray, m: int) -> np.ndarray:
    j = t + k - m * ((k + m - 1) // m)
    same = _at(y, j, j >= 0)
    neighbours = np.stack([_at(y, j + d, (j + d >= 0) & (j + d <= t)) for d in (-1, 0, 1)])
    count = np.sum(~np.isnan(neighbours), axis=0)
    total = np.nansum(neighbours, axis=0)
    mean3 = np.divide(total, count, out=np.full(len(t), np.nan), where=count > 0)
    return np.column_stack([same, mean3, _at(y, j - m, j - m >= 0)])


def _rolling(y: np.ndarray, t: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    c1 = np.concatenate([[0.0], np.cumsum(y)])
    c2 = np.concatenate([[0.0], np.cumsum(y * y)])
    columns = []
    for w in windows:
        mean = _window_mean(c1, t, w)
        square = _window_mean(c2, t, w)
        columns += [mean, np.sqrt(np.maximum(square - mean * mean, 0.0))]
    return np.column_stack(columns)


def _drifts(y: np.ndarray, t: np.ndarray, k: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    """The mean of the last ``w`` values (centred ``(w - 1) / 2`` before ``t``) carried
    ``k + (w - 1) / 2`` steps along the slope between the last two windows' means."""
    c1 = np.concatenate([[0.0], np.cumsum(y)])
    columns = []
    for w in windows[:2]:
        last = _window_mean(c1, t, w)
        before = np.where(t >= w, _window_mean(c1, np.maximum(t - w, 0), w), np.nan)
        columns.append(last + (k + (w - 1) / 2) * (last - before) / w)
    return np.column_stack(columns)


def _encodings(y: np.ndarray, t: np.ndarray, s: np.ndarray, m: int) -> np.ndarray:
    c1 = np.concatenate([[0.0], np.cumsum(y)])
    zeros = np.concatenate([[0.0], np.cumsum(y == 0)])
    previous = np.where(t >= m, _window_mean(c1, np.maximum(t - m, 0), m), np.nan)
    return np.column_stack(
        [
            np.log1p(s),
            np.log(t + 1.0),
            _window_mean(zeros, t, m),
            c1[t + 1] / (t + 1) / s,
            previous / s,
        ]
    )


def feature_rows(
    series: SeriesData,
    y: np.ndarray,
    t: np.ndarray,
    k: np.ndarray,
    layout: FeatureLayout,
    calendar: CalendarTable,
) -> tuple[np.ndarray, np.ndarray]:
    """Features (rows x ``len(layout.names)``, float32) and scales of the rows
    ``(t[r], k[r])`` of one series whose values are ``y`` (its history, or longer in a
    recursive forecast); ``series`` gives the dates and the regressors."""
    s = origin_scale(y, layout.scale_window).values[t]
    lags = _at(y, t[:, None] - np.arange(layout.lags), t[:, None] >= np.arange(layout.lags))
    x_all = np.vstack([series.x, series.x_future]) if layout.regressors else None
    parts = [
        k[:, None].astype(float),
        lags / s[:, None],
        _seasonal_lags(y, t, k, layout.season_length) / s[:, None],
        _rolling(y, t, layout.windows) / s[:, None],
        _drifts(y, t, k, layout.windows) / s[:, None],
        _encodings(y, t, s, layout.season_length),
        calendar.rows(series, t + k),
    ]
    if x_all is not None:
        parts.append(x_all[t + k])
    return np.hstack(parts).astype(np.float32), s
