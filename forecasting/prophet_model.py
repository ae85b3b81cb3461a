"""Prophet, one series at a time: the ``PROPHET`` member of the ensemble and its benchmark peer.

``forecast_prophet`` is Prophet set up for weekly and monthly car-retail demand:

- **Seasonality.** Yearly only (weekly and daily seasonality make no sense on a weekly or
  monthly grid), with Fourier order ``WEEKLY_FOURIER_ORDER`` on weekly,
  ``MONTHLY_FOURIER_ORDER`` on monthly data (12 points a year cannot carry more than about 6
  harmonics) and ``QUARTERLY_FOURIER_ORDER`` on quarterly data. Yearly seasonality is off
  when the history is shorter than two seasons (``len(y) < 2 * spec.season_length``): one
  season cannot tell seasonality from trend.
- **Chinese calendar.** ``calendar_features(ds, spec.freq)`` columns enter as extra regressors
  with prior scale ``CALENDAR_PRIOR_SCALE`` (Prophet's own holiday frame works on daily dates
  and never matches a Monday-stamped week; see ``forecasting.calendar``), once the history
  covers a full season (``len(y) >= spec.season_length``, so each event was seen). A calendar
  column that is constant over the history (e.g. an event that never fell in it) is dropped:
  it carries no information and an all-zero column destabilises the fit.
- **User regressors.** ``spec.regressors`` name the columns of ``series.x`` (history) and
  ``series.x_future`` (the ``horizon`` future steps); each enters as an extra regressor with
  Prophet's default prior scale (10, standardised). A regressor constant over the history
  is dropped (its effect cannot be estimated) and ignored in the future; all of them are
  ignored on histories shorter than ``USER_REGRESSOR_POINTS * (k + 1)`` points.

``forecast_prophet_defaults`` is "Prophet with defaults", the benchmark peer: ``Prophet()`` as
shipped except weekly and daily seasonality off, no calendar, no regressors.

Both fit the MAP estimate with Stan's L-BFGS (``ALGORITHM``) from ``NEWTON_BELOW`` points on
(Prophet itself picks Newton below 100 points, 2-4x slower here; it still falls back to Newton
when L-BFGS fails), Newton below that. The mean is Prophet's ``yhat``; the quantiles at
``spec.levels`` come from ``UNCERTAINTY_SAMPLES`` predictive samples (trend changes and noise).
Prophet draws them from numpy's *global* RNG: it is seeded with
``series_seed(spec.seed, unique_id)`` just before sampling and its previous state restored
after (under a lock, so concurrent threads do not interleave draws), so a forecast depends
only on its inputs and leaves the caller's RNG as it was. The fit itself is deterministic
(L-BFGS from Prophet's fixed initial values): two calls, in one process or in two, agree
to the last bit.

Special cases: an all-zero history is forecast as zeros with zero-width quantiles without
fitting (Prophet scales y by its maximum); fewer than two points, mis-shaped regressors or
a Stan failure raise ``ModelFailure`` naming the series.

Prophet is imported lazily (importing it takes seconds) and its logs are kept quiet: see
``quiet_prophet_logs``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.calendar import calendar_features
from forecasting.model import ForecastSpec, ModelFailure, PointForecast, finalize, series_seed
from forecasting.panel import Frequency, SeriesData, future_dates

if TYPE_CHECKING:
    from prophet import Prophet

__all__ = [
    "ALGORITHM",
    "CALENDAR_PRIOR_SCALE",
    "MONTHLY_FOURIER_ORDER",
    "NEWTON_BELOW",
    "QUARTERLY_FOURIER_ORDER",
    "UNCERTAINTY_SAMPLES",
    "USER_REGRESSOR_POINTS",
    "WEEKLY_FOURIER_ORDER",
    "forecast_prophet",
    "forecast_prophet_defaults",
    "quiet_prophet_logs",
]

# Choices, measured once (figures in the engine's notes, not re-checked by tests):
# - Fourier orders: weekly 10 is Prophet's default; on M4 weekly (last 156 weeks, h=13)
#   orders 5/10/15/20 gave sMAPE .1115/.1105/.1106/.1110. Monthly 5: on the Norway makes
#   holdout (h=12) orders 3..10 are within 0.225-0.229 WAPE, 5 lowest.
# - Calendar prior scale: Prophet's holidays_prior_scale (10); 0.03..10 give the same WAPE
#   on a synthetic Chinese-calendar panel and on Norway; 0.01 begins to shrink the dip.
# - 200 samples: the seed-to-seed spread of the 0.1/0.9 quantiles is 4.8% of the 80% width
#   (2.7% with 500), for about 7 ms less per series than 500.
WEEKLY_FOURIER_ORDER = 10
MONTHLY_FOURIER_ORDER = 5
QUARTERLY_FOURIER_ORDER = 2  # 4 points a year carry at most 3 seasonal parameters
CALENDAR_PRIOR_SCALE = 10.0
UNCERTAINTY_SAMPLES = 200
USER_REGRESSOR_POINTS = 4
"""User regressors are used when the history has at least this many points per coefficient
(regressors + 1); below that they are ignored (2-3 points fit any regressor exactly and
then extrapolate wildly)."""
ALGORITHM = "LBFGS"
NEWTON_BELOW = 5
"""Histories shorter than this are fitted with Newton: L-BFGS fails on the near-perfect fits
of 2-4 points (Prophet then falls back to Newton itself, but cmdstanpy logs an ERROR first)."""

_NOISY_LOGGERS = ("prophet", "prophet.plot", "cmdstanpy")
_GLOBAL_RNG = threading.Lock()
"""Held while numpy's global RNG is seeded, sampled and restored, so that two threads
forecasting at once do not interleave their draws."""


@functools.cache
def quiet_prophet_logs() -> None:
    """Import Prophet with its logs at WARNING (cmdstanpy's at CRITICAL) once per process,
    unless the ``forecasting`` logger is enabled for DEBUG, in which case Prophet and
    cmdstanpy keep their INFO logs.

    ``import prophet`` logs "Importing plotly failed" at ERROR and then sets the ``prophet``
    logger to INFO, and cmdstanpy adds its own INFO handler on first use: so ``prophet.plot``
    is silenced during the import, and the levels are set after it."""
    if logging.getLogger("forecasting").isEnabledFor(logging.DEBUG):
        return
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    import cmdstanpy.utils
    import prophet  # noqa: F401

    cmdstanpy.utils.get_logger()  # installs its handler now, so it does not reset the level
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # An L-BFGS run that stops early is logged by cmdstanpy at ERROR and by Prophet at
    # WARNING, and Prophet then refits with Newton by itself; a fit that really fails raises
    # and the forecaster reports it. Neither message is the caller's to act on.
    logging.getLogger("cmdstanpy").setLevel(logging.CRITICAL)
    logging.getLogger("prophet.models").setLevel(logging.ERROR)


@dataclass(frozen=True)
class _Design:
    """The frames Prophet sees: ``history`` (ds, y, regressors), ``future`` (ds, regressors)
    and the regressor columns with their prior scales."""

    history: pd.DataFrame
    future: pd.DataFrame
    regressors: tuple[tuple[str, float | None], ...]


def forecast_prophet(series: SeriesData, spec: ForecastSpec) -> PointForecast:
    """Prophet with yearly seasonality, the Chinese calendar and the user's regressors."""
    zeros = _all_zero(series, spec)
    if zeros is not None:
        return zeros
    design = _design(series, spec, with_calendar=len(series) >= spec.season_length)
    order = {
        Frequency.WEEKLY: WEEKLY_FOURIER_ORDER,
        Frequency.MONTHLY: MONTHLY_FOURIER_ORDER,
        Frequency.QUARTERLY: QUARTERLY_FOURIER_ORDER,
    }[spec.freq]
    yearly = order if len(series) >= 2 * spec.season_length else 0
    return _fit_predict(series, spec, design, yearly_order=yearly)


def forecast_prophet_defaults(series: SeriesData, spec: ForecastSpec) -> PointForecast:
    """Prophet as shipped (yearly seasonality ``"auto"``), weekly/daily seasonality off, no
    calendar, no regressors: the benchmark peer of ``forecast_prophet``."""
    zeros = _all_zero(series, spec)
    if zeros is not None:
        return zeros
    design = _design(series, ForecastSpec(spec.freq, spec.horizon), with_calendar=False)
    return _fit_predict(series, spec, design, yearly_order=None)


def _all_zero(series: SeriesData, spec: ForecastSpec) -> PointForecast | None:
    """Zeros for an all-zero history; ``ModelFailure`` for fewer than two points."""
    finite = np.isfinite(series.y)
    if int(finite.sum()) < 2:
        raise ModelFailure(
            f"series {series.unique_id!r}: Prophet needs at least 2 observations, "
            f"got {int(finite.sum())}"
        )
    if np.any(series.y[finite]):
        return None
    return finalize(
        np.zeros(spec.horizon), np.zeros((spec.horizon, len(spec.levels))), spec.nonnegative
    )


def _design(series: SeriesData, spec: ForecastSpec, with_calendar: bool) -> _Design:
    fut_ds = future_dates(series.ds[-1], spec.freq, spec.horizon)
    history = pd.DataFrame({"ds": series.ds, "y": series.y})
    future = pd.DataFrame({"ds": fut_ds})
    regressors: list[tuple[str, float | None]] = []
    if with_calendar:
        past = calendar_features(series.ds, spec.freq)
        ahead = calendar_features(fut_ds, spec.freq)
        for event in past.columns:
            values = past[event].to_numpy()
            if np.ptp(values) > 0.0:
                name = f"cal_{event}"
                history[name] = values
                future[name] = ahead[event].to_numpy()
                regressors.append((name, CALENDAR_PRIOR_SCALE))
    x, x_future = _user_regressors(series, spec)
    usable = len(series) >= USER_REGRESSOR_POINTS * (x.shape[1] + 1)
    for j in range(x.shape[1] if usable else 0):
        if np.ptp(x[:, j]) > 0.0:
            name = f"reg_{j}"
            history[name] = x[:, j]
            future[name] = x_future[:, j]
            regressors.append((name, None))
    return _Design(history, future, tuple(regressors))


def _user_regressors(series: SeriesData, spec: ForecastSpec) -> tuple[np.ndarray, np.ndarray]:
    k = len(spec.regressors)
    if k == 0:
        return np.empty((len(series), 0)), np.empty((spec.horizon, 0))
    x, x_future = np.asarray(series.x, dtype=float), np.asarray(series.x_future, dtype=float)
    if x.shape != (len(series), k) or x_future.shape != (spec.horizon, k):
        raise ModelFailure(
            f"series {series.unique_id!r}: regressors {', '.join(spec.regressors)} need x of "
            f"shape ({len(series)}, {k}) and x_future ({spec.horizon}, {k}); got "
            f"{x.shape} and {x_future.shape}"
        )
    return x, x_future


def _fit_predict(
    series: SeriesData,
    spec: ForecastSpec,
    design: _Design,
    yearly_order: int | None,
) -> PointForecast:
    """Fit and forecast; ``yearly_order`` 0 is no yearly seasonality, None Prophet's "auto"
    (on from 730 days of history). An explicit order is added with ``add_seasonality``:
    Prophet's own switch warns below 730 days, i.e. for 104 weeks or 24 months."""
    quiet_prophet_logs()
    from prophet import Prophet

    model = Prophet(
        yearly_seasonality="auto" if yearly_order is None else False,
        weekly_seasonality=False,
        daily_seasonality=False,
        uncertainty_samples=UNCERTAINTY_SAMPLES,
    )
    if yearly_order:
        model.add_seasonality("yearly", period=365.25, fourier_order=yearly_order)
    for name, prior_scale in design.regressors:
        model.add_regressor(name, prior_scale=prior_scale)
    try:
        algorithm = ALGORITHM if len(design.history) >= NEWTON_BELOW else "Newton"
        model.fit(design.history, algorithm=algorithm)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelFailure(f"series {series.unique_id!r}: Prophet fit failed: {exc}") from exc
    mean = _point(model, design.future)
    with _seeded_global_rng(series_seed(spec.seed, series.unique_id)):
        samples = model.predictive_samples(design.future)["yhat"]
    quantiles = np.quantile(samples, spec.levels, axis=1).T
    return finalize(mean, quantiles, spec.nonnegative)


def _point(model: Prophet, future: pd.DataFrame) -> np.ndarray:
    """``yhat`` without Prophet's interval sampling (the quantiles are sampled separately)."""
    samples = model.uncertainty_samples
    model.uncertainty_samples = 0
    try:
        return np.asarray(model.predict(future)["yhat"], dtype=float)
    finally:
        model.uncertainty_samples = samples


@contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG (Prophet samples from it) and restore its state after."""
    with _GLOBAL_RNG:
        state = np.random.get_state()
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)
