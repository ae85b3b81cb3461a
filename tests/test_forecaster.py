"""The forecaster end to end: per-series quantile forecasts, demand classes and fallbacks,
the backtest report, progress and cancellation, Sequential vs Ray, regressors and the
rolling-origin evaluation. Small panels and few boosting rounds keep it fast."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest

from forecasting import baselines, members, xgb_model
from forecasting.backend import RayBackend, RunCancelled, SequentialBackend
from forecasting.evaluation import evaluate, score, scores_frame, truncate_panel
from forecasting.forecaster import ForecastConfig, ForecastResult, SeriesForecast, forecast
from forecasting.members import DemandClass, members_for
from forecasting.model import ForecastSpec, ModelFailure, ModelName, PointForecast
from forecasting.panel import Frequency, Panel, SeriesData, build_panel, future_dates
from forecasting.xgb_model import BoosterParams
from turnwise.errors import InvalidArgument

T = TypeVar("T")
R = TypeVar("R")

FAST = BoosterParams(rounds=20, quantile_rounds=10)
LEVELS = (0.1, 0.5, 0.9)
H = 6
START = "2021-01-04"  # a Monday
CONFIG = ForecastConfig(folds=2, xgb_params=FAST)


def _frame(series: Mapping[str, Sequence[float] | np.ndarray], freq: str = "W-MON") -> pd.DataFrame:
    parts = []
    for uid, y in series.items():
        ds = pd.date_range(START if freq == "W-MON" else "2019-01-01", periods=len(y), freq=freq)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(y, float)}))
    return pd.concat(parts, ignore_index=True)


def _seasonal(rng: np.random.Generator, n: int, level: float, phase: float) -> np.ndarray:
    t = np.arange(n)
    return rng.poisson(level * (1 + 0.4 * np.sin(2 * np.pi * t / 52 + phase))).astype(float)


def _mixed_frame() -> pd.DataFrame:
    """Every demand class and the awkward cases: smooth seasonal series, an exactly periodic
    one (seasonal naive is perfect on it), one declining towards zero, a short (< two
    seasons), a tiny (3 points), an intermittent, an all-zero series and one with five
    missing weeks."""
    rng = np.random.default_rng(7)
    pattern = rng.poisson(12, 52).astype(float)
    series: dict[str, np.ndarray | list[float]] = {
        f"smooth-{c}": _seasonal(rng, 130, 25.0, i) for i, c in enumerate("abc")
    }
    series["periodic"] = np.tile(pattern, 3)[:130]
    series["declining"] = np.maximum(0, np.round(np.linspace(30, 1, 110) + rng.normal(0, 2, 110)))
    series["short"] = rng.poisson(8, 40).astype(float)
    series["tiny"] = [3.0, 5.0, 4.0]
    sparse = np.zeros(120)
    sparse[rng.choice(120, 18, replace=False)] = rng.integers(1, 4, 18)
    series["sparse"] = sparse
    series["zero"] = np.zeros(100)
    gappy = _frame({"gappy": rng.poisson(15, 100).astype(float)})
    gappy = gappy.drop(index=[40, 41, 42, 60, 61])
    return pd.concat([_frame(series), gappy], ignore_index=True)


@dataclass
class Recorder:
    calls: list[tuple[int, int, str]]

    def __call__(self, done: int, total: int, message: str) -> None:
        self.calls.append((done, total, message))


@pytest.fixture(scope="module")
def mixed_panel() -> Panel:
    return build_panel(_mixed_frame(), Frequency.WEEKLY, H)


@pytest.fixture(scope="module")
def mixed_run(mixed_panel: Panel) -> tuple[ForecastResult, Recorder]:
    progress = Recorder([])
    result = forecast(mixed_panel, LEVELS, CONFIG, SequentialBackend(), progress)
    return result, progress


@pytest.fixture(scope="module")
def mixed(mixed_run: tuple[ForecastResult, Recorder]) -> ForecastResult:
    return mixed_run[0]


def _by_id(result: ForecastResult) -> dict[str, SeriesForecast]:
    return {f.unique_id: f for f in result.forecasts}


def _series(panel: Panel, uid: str) -> SeriesData:
    return next(s for s in panel.series if s.unique_id == uid)


# -- output ------------------------------------------------------------------------------


def test_every_series_and_step_has_a_mean_and_monotone_nonnegative_quantiles(
    mixed_panel: Panel, mixed: ForecastResult
) -> None:
    assert [f.unique_id for f in mixed.forecasts] == mixed_panel.ids
    for s, f in zip(mixed_panel.series, mixed.forecasts, strict=True):
        assert f.mean.shape == (H,) and f.quantiles.shape == (H, len(LEVELS)), f.unique_id
        assert np.isfinite(f.mean).all() and np.isfinite(f.quantiles).all(), f.unique_id
        assert (np.diff(f.quantiles, axis=1) >= 0).all(), f"{f.unique_id}: quantiles cross"
        assert (f.mean >= 0).all() and (f.quantiles >= 0).all(), f"{f.unique_id}: negative"
        pd.testing.assert_index_equal(f.ds, future_dates(s.ds[-1], Frequency.WEEKLY, H))
    # the floor is reached, not just respected: the intermittent series' 0.1 quantile is 0
    assert (_by_id(mixed)["sparse"].quantiles[:, 0] == 0).any()

    frame = mixed.to_frame()
    assert list(frame.columns) == ["unique_id", "ds", "mean", "q0.1", "q0.5", "q0.9"]
    assert len(frame) == H * len(mixed_panel)
    smooth = frame[frame["unique_id"] == "smooth-a"]
    np.testing.assert_array_equal(smooth["q0.9"], _by_id(mixed)["smooth-a"].quantiles[:, 2])


@pytest.mark.parametrize("model", [ModelName.ETS, ModelName.THETA])
def test_a_collapsing_series_is_floored_at_zero(model: ModelName) -> None:
    """Demand falling from 40 to 2 in a straight line: the trend of ETS and Theta runs below
    zero within 8 weeks, so the floor must be applied to the mean as well as the quantiles."""
    frame = _frame({"collapsing": np.round(np.linspace(40.0, 2.0, 60))})
    result = forecast(build_panel(frame, Frequency.WEEKLY, 8), LEVELS, ForecastConfig(model))
    f = result.forecasts[0]
    assert f.model is model and f.fallback_reason == ""
    assert (f.mean >= 0).all() and (f.quantiles >= 0).all()
    assert f.mean[-1] == 0.0 and f.quantiles[-1, 0] == 0.0  # reached, not just respected
    assert f.mean[0] > 0  # the first step is still above the floor
    assert (np.diff(f.mean) <= 0).all()


def test_an_empty_panel_gives_empty_frames_with_the_columns() -> None:
    """Every series too short to hold out a fold leaves ``evaluate`` an empty panel."""
    result = forecast(Panel(Frequency.WEEKLY, 4, ()), LEVELS, ForecastConfig(ModelName.ETS))
    assert result.forecasts == ()
    frame = result.to_frame()
    assert frame.empty
    assert list(frame.columns) == ["unique_id", "ds", "mean", "q0.1", "q0.5", "q0.9"]
    report = result.report_frame()
    assert report.empty and "fallback_reason" in report.columns


def test_demand_classes_get_their_members(mixed: ForecastResult) -> None:
    got = _by_id(mixed)
    expected = {
        "smooth-a": DemandClass.SMOOTH,
        "periodic": DemandClass.SMOOTH,
        "declining": DemandClass.SMOOTH,
        "short": DemandClass.SHORT,
        "tiny": DemandClass.SHORT,
        "sparse": DemandClass.INTERMITTENT,
        "zero": DemandClass.ALL_ZERO,
        "gappy": DemandClass.SHORT,  # 100 weeks on the grid: under two seasons
    }
    assert {uid: got[uid].demand_class for uid in expected} == expected
    for demand, ensemble in mixed.ensembles.items():
        assert set(ensemble.weights) <= set(members_for(demand)), demand
        assert sum(ensemble.weights.values()) == pytest.approx(1.0)
    for f in mixed.forecasts:
        assert sum(f.weights.values()) == pytest.approx(1.0), f.unique_id
        assert set(f.weights) <= set(members_for(f.demand_class)), f.unique_id


def test_an_all_zero_series_is_forecast_as_zero(mixed: ForecastResult) -> None:
    zero = _by_id(mixed)["zero"]
    assert zero.demand_class is DemandClass.ALL_ZERO
    np.testing.assert_array_equal(zero.mean, np.zeros(H))
    np.testing.assert_array_equal(zero.quantiles, np.zeros((H, len(LEVELS))))
    assert zero.fallback_reason == ""


def test_members_that_could_not_forecast_a_series_are_left_out_and_reported(
    mixed: ForecastResult,
) -> None:
    for f in mixed.forecasts:
        planned = set(mixed.ensembles[f.demand_class].weights)
        lost = planned - set(f.weights)
        if f.model is ModelName.SEASONAL_NAIVE and planned != {ModelName.SEASONAL_NAIVE}:
            assert f.fallback_reason.endswith("fell back to seasonal naive"), f.unique_id
        for m in lost:
            assert m.value in f.fallback_reason, (f.unique_id, m)
        if not lost:
            assert f.fallback_reason == "", f.unique_id
    # 3 points: too short for XGBoost's lags (and for ETS/Theta), so this series falls back
    tiny = _by_id(mixed)["tiny"]
    assert ModelName.XGBOOST not in tiny.weights
    assert tiny.fallback_reason
    assert [f.unique_id for f in mixed.fallbacks] == ["tiny"]


def test_gaps_are_zero_demand_and_reported(mixed_panel: Panel, mixed: ForecastResult) -> None:
    assert mixed.gaps == {"gappy": 5}
    gappy = _series(mixed_panel, "gappy")
    assert len(gappy) == 100
    np.testing.assert_array_equal(gappy.y[[40, 41, 42, 60, 61]], np.zeros(5))
    assert _by_id(mixed)["gappy"].ds[0] == gappy.ds[-1] + pd.Timedelta(weeks=1)


def test_backtest_report_names_the_winner_and_the_fallback_per_series(
    mixed: ForecastResult,
) -> None:
    report = mixed.report_frame().set_index("unique_id")
    assert list(report.columns) == [
        "demand_class",
        "model",
        "members",
        "backtest_winner",
        "fallback_reason",
    ]
    got = _by_id(mixed)
    # seasonal naive repeats an exactly periodic history without error: it must win there
    periodic = got["periodic"]
    assert periodic.backtest_error[ModelName.SEASONAL_NAIVE] == 0.0
    assert report.loc["periodic", "backtest_winner"] == "seasonal-naive"
    # too short for a fold, or all zero: not backtested, no winner
    assert report.loc["tiny", "backtest_winner"] == ""
    assert report.loc["zero", "backtest_winner"] == ""
    for uid, f in got.items():
        assert report.loc[uid, "fallback_reason"] == f.fallback_reason
        assert report.loc[uid, "demand_class"] == f.demand_class.value
        if f.backtest_error:
            assert set(f.backtest_error) == set(members_for(f.demand_class)), uid
            best = min(f.backtest_error.values())
            assert f.backtest_error[ModelName(report.loc[uid, "backtest_winner"])] == best
    assert report.loc["tiny", "model"] == "seasonal-naive"
    assert report.loc["tiny", "fallback_reason"].endswith("fell back to seasonal naive")
    assert "'tiny' has 3 observations" in report.loc["tiny", "fallback_reason"]


def test_the_ensemble_is_no_worse_than_its_best_member_on_the_backtest(
    mixed: ForecastResult,
) -> None:
    backtested = [e for e in mixed.ensembles.values() if e.entries]
    assert len(backtested) == 3  # smooth, short, intermittent; all-zero is never backtested
    for e in backtested:
        assert np.isfinite(e.ensemble_error)
        assert e.ensemble_error <= min(e.member_error.values()) + 1e-12
        assert 0.4 <= e.interval_scale <= 3.0


# -- progress and cancellation -----------------------------------------------------------


def _check_progress(calls: list[tuple[int, int, str]]) -> None:
    assert calls
    totals = {total for _, total, _ in calls}
    assert len(totals) == 1
    total = totals.pop()
    done = [d for d, _, _ in calls]
    assert all(b > a for a, b in itertools.pairwise(done)), done
    assert done[0] > 0 and done[-1] == total


def test_progress_counts_up_to_the_total(mixed_run: tuple[ForecastResult, Recorder]) -> None:
    calls = mixed_run[1].calls
    _check_progress(calls)
    messages = [m for _, _, m in calls]
    assert messages[0] == "backtest" and messages[-1] == "forecast xgboost"
    assert messages.count("backtest xgboost") == CONFIG.folds


@dataclass(frozen=True)
class ReversedBackend:
    """Runs the items last to first: the order in which a parallel backend may finish."""

    @property
    def workers(self) -> int:
        return 1

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[R]:
        out: list[Any] = [None] * len(items)
        for i in reversed(range(len(items))):
            out[i] = fn(items[i])
            if on_done is not None:
                on_done(i)
        return out


def test_progress_counts_the_chunks_that_finished_whatever_their_order() -> None:
    """Five series in chunks of 2, 2, 1 finishing last first: done goes 1, 3, 5 (not 2, 4,
    5, which counting the chunks in submission order would give), and the results are
    those of the sequential backend."""
    rng = np.random.default_rng(1)
    panel = build_panel(
        _frame({f"s{i}": rng.poisson(9, 30).astype(float) for i in range(5)}), Frequency.WEEKLY, 3
    )
    config = ForecastConfig(model=ModelName.ETS, chunk_size=2)
    progress = Recorder([])
    reversed_run = forecast(panel, LEVELS, config, ReversedBackend(), progress)
    assert [(d, t) for d, t, _ in progress.calls] == [(1, 6), (3, 6), (5, 6), (6, 6)]
    sequential = forecast(panel, LEVELS, config, SequentialBackend())
    for a, b in zip(reversed_run.forecasts, sequential.forecasts, strict=True):
        assert a.unique_id == b.unique_id
        np.testing.assert_array_equal(a.quantiles, b.quantiles)


def _small_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    sparse = np.zeros(110)
    sparse[rng.choice(110, 15, replace=False)] = 1.0
    return _frame(
        {
            "smooth-a": _seasonal(rng, 110, 20.0, 0.0),
            "smooth-b": _seasonal(rng, 110, 30.0, 1.0),
            "sparse": sparse,
            "zero": np.zeros(60),
        }
    )


def test_should_stop_cancels_before_any_work() -> None:
    panel = build_panel(_small_frame(), Frequency.WEEKLY, 4)
    progress = Recorder([])
    with pytest.raises(RunCancelled):
        forecast(panel, LEVELS, ForecastConfig(model=ModelName.ETS), None, progress, lambda: True)
    assert progress.calls == []


def test_should_stop_cancels_a_running_ensemble_at_a_checkpoint() -> None:
    """Asked to stop once the first backtest fold of XGBoost is done: the run stops at the
    forecaster's next checkpoint instead of finishing."""
    panel = build_panel(_small_frame(), Frequency.WEEKLY, 4)
    progress = Recorder([])

    def should_stop() -> bool:
        return any(m == "backtest xgboost" for _, _, m in progress.calls)

    with pytest.raises(RunCancelled):
        forecast(panel, LEVELS, CONFIG, SequentialBackend(), progress, should_stop)
    done, total, message = progress.calls[-1]
    assert message == "backtest xgboost" and done < total
    assert [d for d, _, _ in progress.calls] == sorted({d for d, _, _ in progress.calls})


# -- single models and failing members ---------------------------------------------------


@pytest.mark.parametrize(
    ("model", "tiny_reason"),
    [
        (ModelName.ETS, "ets needs >= 4 observations, got 3"),
        (ModelName.THETA, "theta needs >= 4 observations, got 3"),
        (
            ModelName.XGBOOST,
            "xgboost: series 'tiny' has 3 observations; lag features need at least 8",
        ),
        (ModelName.CROSTON, None),
        (ModelName.PROPHET, None),
    ],
)
def test_a_single_model_forecasts_and_falls_back_to_seasonal_naive(
    model: ModelName, tiny_reason: str | None
) -> None:
    rng = np.random.default_rng(3)
    frame = _frame(
        {
            "ok": _seasonal(rng, 110, 20.0, 0.0),
            "tiny": [3.0, 5.0, 4.0],
            "returns": np.r_[rng.poisson(5, 30), -1.0, rng.poisson(5, 10)],  # one unit returned
            "zero": np.zeros(30),
        }
    )
    panel = build_panel(frame, Frequency.WEEKLY, 4)
    result = forecast(panel, LEVELS, ForecastConfig(model=model, xgb_params=FAST))
    got = _by_id(result)
    assert got["ok"].model is model and got["ok"].weights == {model: 1.0}
    assert got["ok"].fallback_reason == ""
    assert result.ensembles[DemandClass.SMOOTH].weights == {model: 1.0}
    assert got["zero"].model is ModelName.SEASONAL_NAIVE
    np.testing.assert_array_equal(got["zero"].mean, np.zeros(4))

    spec = result.spec
    tiny = got["tiny"]
    if tiny_reason is None:
        assert tiny.model is model and tiny.fallback_reason == ""
    else:
        assert tiny.model is ModelName.SEASONAL_NAIVE
        assert tiny.weights == {ModelName.SEASONAL_NAIVE: 1.0}
        assert tiny.fallback_reason == f"{tiny_reason}; fell back to seasonal naive"
        naive = baselines.seasonal_naive(_series(panel, "tiny"), spec)
        np.testing.assert_array_equal(tiny.mean, naive.mean)
        np.testing.assert_array_equal(tiny.quantiles, naive.quantiles)
    # Croston models counts: a returned unit (negative demand) makes it fall back
    returns = got["returns"]
    if model is ModelName.CROSTON:
        assert returns.model is ModelName.SEASONAL_NAIVE
        assert "croston_sba needs non-negative demand" in returns.fallback_reason
    else:
        assert returns.model is model
    assert {f.unique_id for f in result.fallbacks} == {
        uid for uid, f in got.items() if f.fallback_reason
    }


def _failing_for(uid: str, original: Callable[[SeriesData, ForecastSpec], PointForecast]) -> Any:
    def member(series: SeriesData, spec: ForecastSpec) -> PointForecast:
        if series.unique_id == uid:
            raise RuntimeError(f"injected failure on {uid}")
        return original(series, spec)

    return member


def test_a_member_failing_on_one_series_falls_back_there_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The failure is simulated: Theta is monkeypatched to raise on series 'smooth-b'."""
    theta = members._LOCAL[ModelName.THETA]
    monkeypatch.setitem(members._LOCAL, ModelName.THETA, _failing_for("smooth-b", theta))
    panel = build_panel(_small_frame(), Frequency.WEEKLY, 4)
    result = forecast(panel, LEVELS, ForecastConfig(model=ModelName.THETA))
    got = _by_id(result)
    failed = got["smooth-b"]
    assert failed.model is ModelName.SEASONAL_NAIVE
    assert failed.fallback_reason == (
        "theta failed: RuntimeError: injected failure on smooth-b; fell back to seasonal naive"
    )
    naive = baselines.seasonal_naive(_series(panel, "smooth-b"), result.spec)
    np.testing.assert_array_equal(failed.mean, naive.mean)
    assert got["smooth-a"].model is ModelName.THETA and got["smooth-a"].fallback_reason == ""
    assert [f.unique_id for f in result.fallbacks] == ["smooth-b"]
    report = result.report_frame().set_index("unique_id")
    assert report.loc["smooth-b", "fallback_reason"] == failed.fallback_reason


def test_every_ensemble_member_failing_on_one_series_leaves_seasonal_naive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The failures are simulated: every local member but seasonal naive is monkeypatched to
    raise on 'smooth-b', in the backtest and the final forecast, and XGBoost to return a
    ModelFailure for it. The run still forecasts every series; 'smooth-b' gets the seasonal
    naive mean and the report names each member it lost."""
    for model in (ModelName.ETS, ModelName.THETA, ModelName.CROSTON, ModelName.PROPHET):
        monkeypatch.setitem(members._LOCAL, model, _failing_for("smooth-b", members._LOCAL[model]))
    real_xgboost = xgb_model.forecast_xgboost

    def xgboost(
        series: Sequence[SeriesData], spec: ForecastSpec, **kwargs: Any
    ) -> list[PointForecast | ModelFailure]:
        out = real_xgboost(series, spec, **kwargs)
        return [
            ModelFailure("xgboost: injected failure") if s.unique_id == "smooth-b" else fc
            for s, fc in zip(series, out, strict=True)
        ]

    monkeypatch.setattr(xgb_model, "forecast_xgboost", xgboost)
    panel = build_panel(_small_frame(), Frequency.WEEKLY, 4)
    result = forecast(panel, LEVELS, CONFIG)
    got = _by_id(result)
    failed = got["smooth-b"]
    naive = baselines.seasonal_naive(_series(panel, "smooth-b"), result.spec)
    np.testing.assert_array_equal(failed.mean, naive.mean)
    assert set(failed.weights) == {ModelName.SEASONAL_NAIVE}
    planned = set(result.ensembles[DemandClass.SMOOTH].weights) - {ModelName.SEASONAL_NAIVE}
    assert planned, "the smooth ensemble should hold more than seasonal naive"
    assert "injected failure" in failed.fallback_reason
    for m in planned:
        assert m.value in failed.fallback_reason
    assert [f.unique_id for f in result.fallbacks] == ["smooth-b"]
    assert got["smooth-a"].weights.keys() == result.ensembles[DemandClass.SMOOTH].weights.keys()


# -- Sequential vs Ray -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_backend() -> Iterator[RayBackend]:
    ray = pytest.importorskip("ray")
    backend = RayBackend(num_cpus=2)
    try:
        workers = backend.workers  # starts a local Ray
    except Exception as exc:  # no Ray here: the one reason to skip
        pytest.skip(f"a local Ray could not start: {type(exc).__name__}: {exc}")
    assert workers == 2
    yield backend
    ray.shutdown()


def test_ray_and_sequential_give_identical_forecasts(
    ray_backend: RayBackend, mixed_panel: Panel, mixed: ForecastResult
) -> None:
    """Same panel, config and seed on a real local Ray (2 CPUs, so other chunk sizes and an
    out-of-order finish) and in process: bit-identical forecasts, weights and reports."""
    progress = Recorder([])
    on_ray = forecast(mixed_panel, LEVELS, CONFIG, ray_backend, progress)
    _check_progress(progress.calls)
    assert on_ray.ensembles.keys() == mixed.ensembles.keys()
    for demand, e in on_ray.ensembles.items():
        ref = mixed.ensembles[demand]
        assert (e.weights, e.interval_scale, e.entries) == (
            ref.weights,
            ref.interval_scale,
            ref.entries,
        )
        assert e.member_error == ref.member_error
        np.testing.assert_array_equal(e.ensemble_error, ref.ensemble_error)  # nan when unfitted
    pd.testing.assert_frame_equal(on_ray.report_frame(), mixed.report_frame())
    for a, b in zip(on_ray.forecasts, mixed.forecasts, strict=True):
        assert a.unique_id == b.unique_id
        pd.testing.assert_index_equal(a.ds, b.ds)
        np.testing.assert_array_equal(a.mean, b.mean, err_msg=a.unique_id)
        np.testing.assert_array_equal(a.quantiles, b.quantiles, err_msg=a.unique_id)
        assert a.weights == b.weights and a.backtest_error == b.backtest_error


def test_ray_run_is_cancelled_by_should_stop(ray_backend: RayBackend) -> None:
    panel = build_panel(_small_frame(), Frequency.WEEKLY, 4)
    with pytest.raises(RunCancelled):
        forecast(
            panel, LEVELS, ForecastConfig(model=ModelName.ETS), ray_backend, None, lambda: True
        )


# -- regressors, frequencies -------------------------------------------------------------


def _with_promo(uids: Sequence[str], n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    history, future = [], []
    for uid in uids:
        ds = pd.date_range(START, periods=n + 4, freq="W-MON")
        promo = (rng.random(n + 4) < 0.2).astype(float)
        y = rng.poisson(10 + 8 * promo)
        history.append(
            pd.DataFrame({"unique_id": uid, "ds": ds[:n], "y": y[:n], "promo": promo[:n]})
        )
        future.append(pd.DataFrame({"unique_id": uid, "ds": ds[n:], "promo": promo[n:]}))
    return pd.concat(history, ignore_index=True), pd.concat(future, ignore_index=True)


def test_a_missing_future_regressor_is_an_error_naming_the_series() -> None:
    history, future = _with_promo(["a", "b"], 40)
    last_b = future.index[future["unique_id"] == "b"][-1]
    missing_day = future.loc[last_b, "ds"].strftime("%Y-%m-%d")
    with pytest.raises(InvalidArgument, match=rf"series 'b'.*missing for {missing_day}") as err:
        build_panel(history, Frequency.WEEKLY, 4, future.drop(index=last_b))
    assert err.value.field == "future"

    nan_future = future.copy()
    nan_future.loc[last_b, "promo"] = np.nan  # present but empty: still not a silent zero
    with pytest.raises(InvalidArgument, match=rf"series 'b'.*missing for {missing_day}"):
        build_panel(history, Frequency.WEEKLY, 4, nan_future)

    with pytest.raises(InvalidArgument, match=r"regressors promo are in the history"):
        build_panel(history, Frequency.WEEKLY, 4)

    only_a = future[future["unique_id"] == "a"]
    with pytest.raises(InvalidArgument, match=r"series 'b': future regressor values missing"):
        build_panel(history, Frequency.WEEKLY, 4, only_a)


def test_regressors_reach_the_members() -> None:
    history, future = _with_promo(["a", "b"], 40)
    panel = build_panel(history, Frequency.WEEKLY, 4, future)
    np.testing.assert_array_equal(
        panel.series[1].x_future[:, 0], future[future["unique_id"] == "b"]["promo"].to_numpy()
    )
    result = forecast(panel, LEVELS, ForecastConfig(model=ModelName.XGBOOST, xgb_params=FAST))
    assert result.spec.regressors == ("promo",)
    assert not result.fallbacks
    assert all(np.isfinite(f.mean).all() for f in result.forecasts)


def test_monthly_series_are_forecast_on_month_starts() -> None:
    rng = np.random.default_rng(2)
    frame = _frame({"m1": rng.poisson(40, 36).astype(float)}, freq="MS")
    result = forecast(
        build_panel(frame, Frequency.MONTHLY, 3), LEVELS, ForecastConfig(model=ModelName.ETS)
    )
    ds = result.forecasts[0].ds
    assert list(ds.strftime("%Y-%m-%d")) == ["2022-01-01", "2022-02-01", "2022-03-01"]
    assert result.forecasts[0].demand_class is DemandClass.SMOOTH


# -- evaluation --------------------------------------------------------------------------


def test_evaluate_gives_finite_scores_per_model_and_fold() -> None:
    panel = build_panel(_small_frame(), Frequency.WEEKLY, 4)
    seen: list[Any] = []
    rows = evaluate(
        panel,
        (ModelName.ETS, ModelName.SEASONAL_NAIVE),
        folds=2,
        levels=LEVELS,
        config=CONFIG,
        on_fold=seen.append,
    )
    assert [(r.model, r.fold) for r in rows] == [
        (ModelName.ETS, 1),
        (ModelName.SEASONAL_NAIVE, 1),
        (ModelName.ETS, 2),
        (ModelName.SEASONAL_NAIVE, 2),
    ]
    assert seen == rows
    for r in rows:
        s = r.scores
        for name in ("wape", "mase", "smape", "pinball", "coverage"):
            assert np.isfinite(getattr(s, name)), (r.model, r.fold, name)
        assert s.wape > 0 and s.mase > 0 and 0 < s.smape <= 200 and s.pinball > 0
        assert 0.0 <= s.coverage <= 1.0
        assert s.series == 4
    table = scores_frame(rows)
    assert list(table.index) == ["ets", "seasonal-naive"]
    assert {"wape", "mase", "smape", "pinball", "coverage", "fallbacks"} <= set(table.columns)
    assert np.isfinite(table.to_numpy(dtype=float)).all()


def test_score_matches_the_metrics_by_hand() -> None:
    """One series, forecast one unit above the actuals with a band that holds half of them."""
    spec = ForecastSpec(Frequency.WEEKLY, 4, LEVELS)
    actual = np.array([4.0, 6.0, 8.0, 10.0])
    history = np.array([2.0, 4.0, 3.0, 5.0, 6.0])  # lag-1 MAE scale: (2 + 1 + 2 + 1) / 4 = 1.5
    mean = actual + 1.0
    quantiles = np.column_stack([mean - [2, 2, 0.5, 0.5], mean, mean + 1])
    f = SeriesForecast(
        "a",
        future_dates(pd.Timestamp(START), Frequency.WEEKLY, 4),
        mean,
        quantiles,
        ModelName.ETS,
        DemandClass.SHORT,
        {ModelName.ETS: 1.0},
    )
    result = ForecastResult(spec, (f,), {}, {})
    s = score(result, {"a": actual}, {"a": history}, 52)
    assert s.wape == pytest.approx(4.0 / 28.0)
    assert s.mase == pytest.approx(1.0 / 1.5)
    assert s.smape == pytest.approx(np.mean(200.0 / (2 * actual + 1)))
    # pinball per level and step: 0.1 level (q = y - 1 or y + 0.5), 0.5 (y + 1), 0.9 (y + 2)
    losses = [0.1, 0.1, 0.9 * 0.5, 0.9 * 0.5] + [0.5] * 4 + [0.1 * 2] * 4
    assert s.pinball == pytest.approx(np.mean(losses) / 1.5)
    assert s.coverage == 0.5
    assert s.series == 1


def test_truncate_panel_holds_out_the_last_steps(mixed_panel: Panel) -> None:
    train, actuals = truncate_panel(mixed_panel, H)
    assert "tiny" not in actuals  # too short to cut
    short = _series(mixed_panel, "short")
    cut = _series(train, "short")
    assert len(cut) == len(short) - H
    np.testing.assert_array_equal(actuals["short"], short.y[-H:])
