"""The Prophet member: shapes and valid quantiles, determinism without touching numpy's global
RNG, seasonality / regressors / Spring Festival learned on synthetic series, the edge cases
(short, one point, all zero, mis-shaped regressors) and quiet logs."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.calendar import calendar_features
from forecasting.model import ForecastSpec, ModelFailure, PointForecast
from forecasting.panel import Frequency, SeriesData, future_dates
from forecasting.prophet_model import forecast_prophet, forecast_prophet_defaults

# Prophet 1.5 calls DataFrame.drop(inplace=True), deprecated in pandas 3.1: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

WEEKLY = Frequency.WEEKLY
H = 26


def _series(
    y: np.ndarray,
    start: str = "2016-01-04",
    x: np.ndarray | None = None,
    x_future: np.ndarray | None = None,
    h: int = H,
    uid: str = "s",
) -> SeriesData:
    n = len(y)
    ds = pd.date_range(start, periods=n, freq=WEEKLY.value)
    k = 0 if x is None else x.shape[1]
    return SeriesData(
        uid,
        ds,
        np.asarray(y, dtype=float),
        np.empty((n, 0)) if x is None else x,
        np.empty((h, k)) if x_future is None else x_future,
    )


def _seasonal(n: int, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(0.0, 4.0, n)
    season = 40.0 * np.sin(2 * np.pi * t * 7 / 365.25)
    return np.asarray(200.0 + 0.4 * t + season + noise, dtype=float)


Fit = tuple[SeriesData, np.ndarray, ForecastSpec, PointForecast]


@pytest.fixture(scope="module")
def seasonal_fit() -> Fit:
    y = _seasonal(156 + H)
    series = _series(y[:156])
    spec = ForecastSpec(WEEKLY, H, levels=(0.1, 0.5, 0.9), seed=7)
    return series, y[156:], spec, forecast_prophet(series, spec)


def test_shapes_and_valid_quantiles(seasonal_fit: Fit) -> None:
    _, _, spec, fc = seasonal_fit
    assert fc.mean.shape == (H,)
    assert fc.quantiles.shape == (H, len(spec.levels))
    assert np.all(np.diff(fc.quantiles, axis=1) >= 0)
    assert np.all(fc.quantiles >= 0) and np.all(fc.mean >= 0)
    assert np.all(fc.quantiles[:, 2] - fc.quantiles[:, 0] > 0)


def test_follows_a_seasonal_trend_series(seasonal_fit: Fit) -> None:
    _, actual, _, fc = seasonal_fit
    wape = np.abs(actual - fc.mean).sum() / np.abs(actual).sum()
    assert wape < 0.15
    assert np.corrcoef(actual, fc.mean)[0, 1] > 0.9


def test_deterministic_and_leaves_global_rng_alone(seasonal_fit: Fit) -> None:
    series, _, spec, first = seasonal_fit
    np.random.seed(12345)
    expected = np.random.random(3)
    np.random.seed(12345)
    again = forecast_prophet(series, spec)
    np.testing.assert_array_equal(np.random.random(3), expected)  # global stream untouched
    np.testing.assert_array_equal(first.mean, again.mean)
    np.testing.assert_array_equal(first.quantiles, again.quantiles)


def test_defaults_peer_forecasts_validly(seasonal_fit: Fit) -> None:
    series, actual, spec, _ = seasonal_fit
    fc = forecast_prophet_defaults(series, spec)
    assert fc.quantiles.shape == (H, 3)
    assert np.all(np.diff(fc.quantiles, axis=1) >= 0)
    assert np.abs(actual - fc.mean).sum() / actual.sum() < 0.15


def test_uses_a_regressor_and_drops_a_constant_one() -> None:
    rng = np.random.default_rng(3)
    n, h = 80, 8
    promo = rng.integers(0, 2, n).astype(float)
    y = 50.0 + 30.0 * promo + rng.normal(0.0, 2.0, n)
    constant = np.full(n, 1.0)
    x = np.column_stack([promo, constant])
    promo_future = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=float)
    x_future = np.column_stack([promo_future, np.full(h, 1000.0)])  # ignored: constant in history
    series = _series(y, x=x, x_future=x_future, h=h)
    fc = forecast_prophet(series, ForecastSpec(WEEKLY, h, regressors=("promo", "flat")))
    lift = fc.mean[promo_future == 1].mean() - fc.mean[promo_future == 0].mean()
    assert 20.0 < lift < 40.0
    assert np.all(fc.mean < 120.0)


def test_learns_the_spring_festival_dip() -> None:
    n, h = 156, 52
    ds = pd.date_range("2016-01-04", periods=n, freq=WEEKLY.value)
    fut = future_dates(ds[-1], WEEKLY, h)
    festival = calendar_features(ds, WEEKLY)["spring_festival"].to_numpy()
    noise = np.random.default_rng(5).normal(0.0, 3.0, n)
    y = 100.0 * (1.0 - 0.6 * festival) + noise
    fc = forecast_prophet(_series(y, h=h), ForecastSpec(WEEKLY, h))
    ahead = calendar_features(fut, WEEKLY)["spring_festival"].to_numpy()
    week = int(np.argmax(ahead))
    assert ahead[week] > 0.5
    assert fc.mean[week] < 0.75 * np.median(fc.mean)


@pytest.mark.parametrize("n", [2, 30])
def test_short_series(n: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    y = 20.0 + np.random.default_rng(n).normal(0.0, 2.0, n)
    fc = forecast_prophet(_series(y, h=6), ForecastSpec(WEEKLY, 6))
    assert fc.mean.shape == (6,) and fc.quantiles.shape == (6, 3)
    assert np.all(np.isfinite(fc.quantiles))
    noisy = [r for r in caplog.records if r.name.split(".")[0] in ("prophet", "cmdstanpy")]
    assert noisy == []


def test_one_point_is_a_model_failure() -> None:
    with pytest.raises(ModelFailure, match=r"'lonely'.*at least 2"):
        forecast_prophet(_series(np.array([5.0]), uid="lonely"), ForecastSpec(WEEKLY, 4))


def test_all_zero_series_forecasts_zeros() -> None:
    for model in (forecast_prophet, forecast_prophet_defaults):
        fc = model(_series(np.zeros(60), h=5), ForecastSpec(WEEKLY, 5))
        np.testing.assert_array_equal(fc.mean, np.zeros(5))
        np.testing.assert_array_equal(fc.quantiles, np.zeros((5, 3)))


def test_misshaped_regressors_are_a_model_failure() -> None:
    series = _series(np.arange(10.0), x=np.ones((10, 1)), x_future=np.ones((3, 1)), h=3)
    with pytest.raises(ModelFailure, match="x_future"):
        forecast_prophet(series, ForecastSpec(WEEKLY, 5, regressors=("promo",)))


def test_import_and_fit_keep_stderr_quiet() -> None:
    """A fresh process: importing Prophet and fitting print no plotly or cmdstanpy lines."""
    code = (
        "import numpy as np, pandas as pd\n"
        "from forecasting.model import ForecastSpec\n"
        "from forecasting.panel import Frequency, SeriesData\n"
        "from forecasting.prophet_model import forecast_prophet\n"
        "y = np.arange(40.0) % 7\n"
        "ds = pd.date_range('2020-01-06', periods=40, freq='W-MON')\n"
        "s = SeriesData('a', ds, y, np.empty((40, 0)), np.empty((4, 0)))\n"
        "print(forecast_prophet(s, ForecastSpec(Frequency.WEEKLY, 4)).mean.shape)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(4,)"
    assert "plotly" not in done.stderr
    assert "cmdstanpy" not in done.stderr and "Chain [1]" not in done.stderr
    assert done.stderr.strip() == ""
