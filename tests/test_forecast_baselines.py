"""Local baselines: shapes and valid quantiles, exact answers on noiseless series, the
last-resort guarantees of seasonal naive, determinism, failures with reasons, and real-data
checks (Norway car makes, M4 weekly Theta)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from forecasting import baselines, datasets, metrics
from forecasting.model import ForecastSpec, ModelFailure, PointForecast
from forecasting.panel import Frequency, SeriesData, build_panel

Model = Callable[[SeriesData, ForecastSpec], PointForecast]
MODELS: dict[str, Model] = {
    "naive": baselines.naive,
    "seasonal_naive": baselines.seasonal_naive,
    "ets": baselines.ets,
    "theta": baselines.theta,
    "croston_sba": baselines.croston_sba,
}
MONTHLY = ForecastSpec(Frequency.MONTHLY, 12)
WEEKLY = ForecastSpec(Frequency.WEEKLY, 13)
DATA = datasets.shared_data_dir()


def make(y: np.ndarray | Sequence[float], freq: Frequency = Frequency.MONTHLY) -> SeriesData:
    values = np.asarray(y, dtype=float)
    start = "2015-01-05" if freq is Frequency.WEEKLY else "2015-01-01"
    ds = pd.date_range(start, periods=len(values), freq=freq.value)
    return SeriesData("s1", ds, values, np.empty((len(values), 0)), np.empty((12, 0)))


def demand(n: int = 72, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y: np.ndarray = np.round(50 + 0.3 * t + 15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 5, n))
    return y


def test_exported_names() -> None:
    for name in baselines.__all__:
        assert not name.startswith("_")
        assert hasattr(baselines, name)
    assert set(MODELS) <= set(baselines.__all__)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("spec", [MONTHLY, ForecastSpec(Frequency.WEEKLY, 30, (0.05, 0.5, 0.95))])
def test_shapes_and_valid_quantiles(name: str, spec: ForecastSpec) -> None:
    fc = MODELS[name](make(demand(120), spec.freq), spec)
    assert fc.mean.shape == (spec.horizon,)
    assert fc.quantiles.shape == (spec.horizon, len(spec.levels))
    assert np.isfinite(fc.quantiles).all()
    assert (np.diff(fc.quantiles, axis=1) >= 0).all()
    assert (fc.quantiles >= 0).all() and (fc.mean >= 0).all()
    assert (fc.quantiles[:, -1] > fc.quantiles[:, 0]).any()


@pytest.mark.parametrize("name", MODELS)
def test_deterministic(name: str) -> None:
    series = make(demand(100, seed=11))
    first, second = MODELS[name](series, MONTHLY), MODELS[name](series, MONTHLY)
    np.testing.assert_array_equal(first.mean, second.mean)
    np.testing.assert_array_equal(first.quantiles, second.quantiles)


def test_seasonal_naive_exact_on_pure_seasonal_series() -> None:
    pattern = np.array([5, 9, 14, 20, 18, 12, 7, 3, 2, 4, 6, 8], dtype=float)
    spec = ForecastSpec(Frequency.MONTHLY, 30)
    fc = baselines.seasonal_naive(make(np.tile(pattern, 4)), spec)
    np.testing.assert_array_equal(fc.mean, pattern[np.arange(30) % 12])
    np.testing.assert_array_equal(fc.quantiles, np.repeat(fc.mean[:, None], 3, axis=1))


def test_seasonal_naive_intervals_widen_by_season() -> None:
    fc = baselines.seasonal_naive(make(demand(120)), ForecastSpec(Frequency.MONTHLY, 36))
    width = fc.quantiles[:, 2] - fc.quantiles[:, 0]
    np.testing.assert_allclose(width[12:24], width[:12] * np.sqrt(2))
    np.testing.assert_allclose(width[24:], width[:12] * np.sqrt(3))


@pytest.mark.parametrize(
    "y",
    [[7.0], [0.0], [0.0, 0.0, 3.0], [4.0, 6.0], list(range(12)), list(range(13)), [0.0] * 100],
)
def test_seasonal_naive_never_fails(y: list[float]) -> None:
    fc = baselines.seasonal_naive(make(y), MONTHLY)
    assert fc.mean.shape == (12,) and np.isfinite(fc.quantiles).all()
    if len(y) < 12:  # shorter than a season: the last value
        np.testing.assert_array_equal(fc.mean, np.full(12, y[-1]))


def test_all_zero_series_forecast_zero() -> None:
    for name in ("seasonal_naive", "naive", "ets", "croston_sba"):
        fc = MODELS[name](make(np.zeros(60)), MONTHLY)
        np.testing.assert_array_equal(fc.mean, np.zeros(12))
        np.testing.assert_array_equal(fc.quantiles, np.zeros((12, 3)))


def test_naive_on_short_series() -> None:
    fc = baselines.naive(
        make([3.0, 5.0, 4.0]), ForecastSpec(Frequency.MONTHLY, 12, nonnegative=False)
    )
    np.testing.assert_array_equal(fc.mean, np.full(12, 4.0))
    width = fc.quantiles[:, 2] - fc.quantiles[:, 0]
    np.testing.assert_allclose(width, width[0] * np.sqrt(np.arange(1, 13)))


def test_negative_values_kept_when_not_demand() -> None:
    spec = ForecastSpec(Frequency.MONTHLY, 3, nonnegative=False)
    fc = baselines.naive(make([-3.0, -5.0, -4.0]), spec)
    np.testing.assert_array_equal(fc.mean, [-4.0, -4.0, -4.0])


def test_ets_recovers_linear_trend() -> None:
    t = np.arange(72.0)
    fc = baselines.ets(make(5 + 2 * t[:60]), MONTHLY)
    # a damped trend (phi <= 0.98) bends slightly below the line: within 2.5% at h = 12
    np.testing.assert_allclose(fc.mean, 5 + 2 * t[60:], rtol=0.025)
    assert abs(fc.mean[0] - (5 + 2 * 60)) < 0.5


def test_ets_recovers_seasonal_pattern() -> None:
    t = np.arange(108.0)
    y = 100 + 10 * np.sin(2 * np.pi * t / 12)
    fc = baselines.ets(make(y[:96]), MONTHLY)
    np.testing.assert_allclose(fc.mean, y[96:], atol=1e-6)


def test_ets_weekly_seasonality_from_three_seasons() -> None:
    rng = np.random.default_rng(0)
    pattern = rng.uniform(50, 150, 52)
    y = np.tile(pattern, 3) + rng.normal(0, 5, 156)
    fc = baselines.ets(make(y, Frequency.WEEKLY), WEEKLY)
    assert np.abs(fc.mean - pattern[:13]).max() < 12  # noise sd 5, states from 3 seasons
    assert metrics.wape(pattern[:13], fc.mean) < 0.05


def test_theta_is_ses_with_half_the_trend_slope() -> None:
    t = np.arange(40.0)
    spec = ForecastSpec(Frequency.MONTHLY, 6)
    fc = baselines.theta(make(10 + 3 * t), spec, season_length=1)
    # on a line the theta=2 line is the data, SES on it ends at the last value (alpha ~ 1):
    # the forecast is the last value plus half the slope per step
    line = 10 + 3 * np.arange(40.0, 46.0)
    np.testing.assert_allclose(fc.mean, 0.5 * line + 0.5 * (10 + 3 * 39), rtol=1e-4)


def test_croston_sba_by_hand() -> None:
    y = [0, 0, 3, 0, 0, 0, 3, 0, 0, 3]  # sizes 3, 3, 3; intervals 3, 4, 3
    fc = baselines.croston_sba(make(y), MONTHLY)
    interval = 0.9 * (0.9 * 3 + 0.1 * 4) + 0.1 * 3
    np.testing.assert_allclose(fc.mean, np.full(12, 0.95 * 3 / interval))
    q = fc.quantiles
    assert (q == np.round(q)).all() and (np.diff(q, axis=1) >= 0).all() and q[0, 0] == 0
    assert (q == q[0]).all()


def test_croston_on_intermittent_demand() -> None:
    rng = np.random.default_rng(5)
    y = rng.poisson(4, 104) * (rng.uniform(size=104) < 0.3)
    assert baselines.is_intermittent(y)
    fc = baselines.croston_sba(make(y, Frequency.WEEKLY), WEEKLY)
    assert 0.5 < fc.mean[0] < 2.5  # true rate 0.3 * 4 = 1.2
    assert fc.quantiles[0, -1] >= 2


def test_demand_classification() -> None:
    assert baselines.is_all_zero(np.zeros(5)) and not baselines.is_all_zero(np.r_[0.0, 1.0])
    assert baselines.is_intermittent(np.array([0, 0, 1, 0, 2, 0]))  # ADI 3
    assert not baselines.is_intermittent(np.array([1, 2, 0, 3, 4, 5]))  # ADI 1.2
    assert baselines.is_intermittent(np.zeros(4))


@pytest.mark.parametrize("name", ["ets", "theta"])
def test_too_short_fails_with_reason(name: str) -> None:
    with pytest.raises(ModelFailure, match="needs >= 4"):
        MODELS[name](make([1.0, 2.0, 3.0]), MONTHLY)
    assert MODELS[name](make([1.0, 2.0, 3.0, 5.0]), MONTHLY).mean.shape == (12,)


def test_empty_series_and_negative_counts_fail() -> None:
    for model in MODELS.values():
        with pytest.raises(ModelFailure, match="no observations"):
            model(make([]), MONTHLY)
    with pytest.raises(ModelFailure, match="non-negative"):
        baselines.croston_sba(make([0.0, -2.0, 3.0]), MONTHLY)


def _holdout(model: Model, h: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Actuals, forecasts and the 0.1-0.9 band over the Norway makes with >= 16 months."""
    panel = build_panel(datasets.load_norway_by_make(), Frequency.MONTHLY, h)
    actual, mean, inside = [], [], []
    for s in panel.series:
        if len(s) < h + 4:
            continue
        fc = model(s.truncated(len(s) - h, h), MONTHLY)
        y = s.y[-h:]
        actual.append(y)
        mean.append(fc.mean)
        inside.append((y >= fc.quantiles[:, 0]) & (y <= fc.quantiles[:, -1]))
    return np.concatenate(actual), np.concatenate(mean), np.concatenate(inside)


@pytest.mark.shared_data
@pytest.mark.skipif(not (DATA / "norway_car_sales").is_dir(), reason=f"no data at {DATA}")
def test_norway_makes_ets_beats_seasonal_naive_and_is_calibrated() -> None:
    y, ets_mean, ets_inside = _holdout(baselines.ets)
    _, snaive_mean, _ = _holdout(baselines.seasonal_naive)
    assert metrics.wape(y, ets_mean) < metrics.wape(y, snaive_mean)
    assert 0.7 <= ets_inside.mean() <= 0.9  # nominal 80%


@pytest.mark.shared_data
@pytest.mark.skipif(not (DATA / "m4_weekly").is_dir(), reason=f"no data at {DATA}")
def test_m4_weekly_theta_reproduces_published_benchmark() -> None:
    """M4 "Theta" benchmark, weekly (m = 1): published sMAPE 9.093, MASE 2.637."""
    train = datasets.load_m4_weekly("train")
    test = datasets.load_m4_weekly("test")
    spec = ForecastSpec(Frequency.WEEKLY, 13, nonnegative=False)
    history = {str(uid): g["y"].to_numpy() for uid, g in train.groupby("unique_id")}
    smapes, mases = [], []
    for uid, g in test.groupby("unique_id"):
        x, y = history[str(uid)], g["y"].to_numpy()
        s = SeriesData(str(uid), pd.DatetimeIndex([]), x, np.empty((len(x), 0)), np.empty((13, 0)))
        f = baselines.theta(s, spec, season_length=1).mean
        smapes.append(metrics.smape(y, f))
        mases.append(metrics.mase(y, f, x, 1))
    assert abs(np.mean(smapes) - 9.093) < 1e-3
    assert abs(np.mean(mases) - 2.637) < 1e-3
