"""The forecaster: validated panel in, per-series quantile forecasts and a report out.

``forecast(panel, ...)`` with the default ``ModelName.ENSEMBLE`` runs, per demand class
(smooth, intermittent, short, all-zero; see ``forecasting.members``):

1. a rolling-origin backtest of every candidate member on a deterministic sample of at most
   ``max_backtest_series`` series of the class (local members on the backend, the global
   XGBoost model once per fold);
2. ensemble weights and the interval width per class from that backtest
   (``forecasting.ensemble``);
3. the final forecasts of every series with the members its class kept, plus seasonal
   naive as the fallback; a member that fails on a series is left out of that series'
   combination and reported; a series on which every member failed gets seasonal naive.

A single model (e.g. ``ModelName.PROPHET``) skips the backtest; a failure falls back to
seasonal naive. Nothing a single series does fails the run.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.backend import Backend, RunCancelled, SequentialBackend
from forecasting.backtest import (
    SeriesOutcome,
    SeriesTask,
    fold_cutoffs,
    run_tasks,
    scaled_errors,
    series_scale,
)
from forecasting.ensemble import EnsembleWeights, FoldEntry, combine, fit_weights
from forecasting.members import GLOBAL_MEMBERS, DemandClass, classify, members_for
from forecasting.model import ForecastSpec, ModelFailure, ModelName, PointForecast
from forecasting.panel import DEFAULT_LEVELS, Panel, SeriesData, check_levels, future_dates

if TYPE_CHECKING:
    from forecasting.xgb_model import BoosterParams

__all__ = [
    "ForecastConfig",
    "ForecastResult",
    "Progress",
    "SeriesForecast",
    "forecast",
]

Progress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: work items done so far, of ``total``."""


@dataclass(frozen=True)
class ForecastConfig:
    """How to forecast: the model, the backtest's folds and sample size, chunking."""

    model: ModelName = ModelName.ENSEMBLE
    folds: int = 3
    max_backtest_series: int = 500
    chunk_size: int = 20
    xgb_threads: int = 1
    """Threads per XGBoost booster on the sequential backend; on Ray the boosters (one for
    the quantiles, one per step) train in parallel, one task of one thread each."""
    seed: int = 0
    xgb_params: BoosterParams | None = None
    """Boosting settings of the global XGBoost member (None: its defaults)."""


@dataclass(frozen=True)
class SeriesForecast:
    """The forecast of one series and how it was made."""

    unique_id: str
    ds: pd.DatetimeIndex
    mean: np.ndarray
    quantiles: np.ndarray
    model: ModelName
    demand_class: DemandClass
    weights: Mapping[ModelName, float]
    fallback_reason: str = ""
    backtest_error: Mapping[ModelName, float] = field(default_factory=dict)
    """This series' mean scaled MAE per member over its folds (sampled series only)."""

    @property
    def backtest_winner(self) -> ModelName | None:
        if not self.backtest_error:
            return None
        return min(self.backtest_error, key=lambda m: self.backtest_error[m])


@dataclass(frozen=True)
class ForecastResult:
    spec: ForecastSpec
    forecasts: tuple[SeriesForecast, ...]
    ensembles: Mapping[DemandClass, EnsembleWeights]
    gaps: Mapping[str, int]

    @property
    def fallbacks(self) -> list[SeriesForecast]:
        return [f for f in self.forecasts if f.fallback_reason]

    def to_frame(self) -> pd.DataFrame:
        """Long frame: unique_id, ds, mean and one ``q<level>`` column per level."""
        columns = ["unique_id", "ds", "mean", *(f"q{level:g}" for level in self.spec.levels)]
        parts = []
        for f in self.forecasts:
            part = pd.DataFrame({"unique_id": f.unique_id, "ds": f.ds, "mean": f.mean})
            for j, level in enumerate(self.spec.levels):
                part[f"q{level:g}"] = f.quantiles[:, j]
            parts.append(part)
        if not parts:  # an empty panel (e.g. every series too short to hold out a fold)
            return pd.DataFrame(columns=columns)
        return pd.concat(parts, ignore_index=True)

    def report_frame(self) -> pd.DataFrame:
        """One row per series: demand class, model, weights, backtest winner, fallback."""
        rows = []
        for f in self.forecasts:
            winner = f.backtest_winner
            rows.append(
                {
                    "unique_id": f.unique_id,
                    "demand_class": f.demand_class.value,
                    "model": f.model.value,
                    "members": " ".join(f"{m.value}:{w:.2f}" for m, w in f.weights.items()),
                    "backtest_winner": winner.value if winner else "",
                    "fallback_reason": f.fallback_reason,
                }
            )
        columns = ["unique_id", "demand_class", "model", "members", "backtest_winner"]
        return pd.DataFrame(rows, columns=[*columns, "fallback_reason"])


class _Counter:
    """Thread-safe progress over a known total."""

    def __init__(self, total: int, report: Progress | None) -> None:
        self.total, self.done, self._report = total, 0, report
        self._lock = threading.Lock()

    def add(self, n: int, message: str) -> None:
        with self._lock:
            self.done = min(self.total, self.done + n)
            done = self.done
        if self._report is not None:
            self._report(done, self.total, message)


def forecast(
    panel: Panel,
    levels: Sequence[float] = DEFAULT_LEVELS,
    config: ForecastConfig | None = None,
    backend: Backend | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ForecastResult:
    """Forecast every series of ``panel``; see the module docstring."""
    config = config or ForecastConfig()
    backend = backend or SequentialBackend()
    spec = ForecastSpec(
        panel.freq, panel.horizon, check_levels(levels), panel.regressors, config.seed
    )
    classes = {s.unique_id: classify(s.y, spec.season_length) for s in panel.series}
    run = _Run(panel, spec, config, backend, classes, should_stop)
    ensembles: dict[DemandClass, EnsembleWeights]
    if config.model is ModelName.ENSEMBLE:
        sample = run.sample()
        run.counter = _Counter(len(sample) + len(panel) + config.folds + 1, progress)
        ensembles = run.fit_ensembles(sample)
    else:
        run.counter = _Counter(len(panel) + 1, progress)
        ensembles = {c: EnsembleWeights.only(config.model) for c in DemandClass}
        ensembles[DemandClass.ALL_ZERO] = EnsembleWeights.only(ModelName.SEASONAL_NAIVE)
    forecasts = run.final(ensembles)
    return ForecastResult(spec, tuple(forecasts), ensembles, dict(panel.gaps))


class _Run:
    """The state of one forecast run (kept out of the public API)."""

    def __init__(
        self,
        panel: Panel,
        spec: ForecastSpec,
        config: ForecastConfig,
        backend: Backend,
        classes: Mapping[str, DemandClass],
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.panel, self.spec, self.config, self.backend = panel, spec, config, backend
        self.classes, self.should_stop = classes, should_stop
        self.counter = _Counter(0, None)
        self.errors: dict[str, dict[ModelName, float]] = {}

    # -- helpers ---------------------------------------------------------------------------
    def _map(self, tasks: list[SeriesTask], message: str) -> list[SeriesOutcome]:
        size = max(
            1, min(self.config.chunk_size, math.ceil(len(tasks) / (4 * self.backend.workers)))
        )
        chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        sizes = [len(c) for c in chunks]

        def on_done(i: int) -> None:  # chunks may finish out of order (Ray)
            self.counter.add(sizes[i], message)

        results = self.backend.map(run_tasks, chunks, on_done, self.should_stop)
        return [outcome for chunk in results for outcome in chunk]

    def _global(self, series: Sequence[SeriesData]) -> list[PointForecast | ModelFailure]:
        from forecasting.xgb_model import forecast_xgboost

        if not series:
            return []
        # Its boosters train on the backend: on Ray each holds one worker (one thread).
        threads = self.config.xgb_threads if self.backend.workers == 1 else 1
        try:
            return list(
                forecast_xgboost(
                    series,
                    self.spec,
                    threads=threads,
                    params=self.config.xgb_params,
                    backend=self.backend,
                    should_stop=self.should_stop,
                )
            )
        except RunCancelled:
            raise
        except Exception as exc:  # the global model failing falls back on every series
            failure = ModelFailure(f"xgboost failed: {type(exc).__name__}: {exc}")
            return [failure] * len(series)

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise RunCancelled("cancelled at a checkpoint")

    # -- backtest ----------------------------------------------------------------------
    def sample(self) -> list[SeriesData]:
        """Per demand class, up to ``max_backtest_series`` series with at least one fold,
        chosen by a hash of their ids (the same whatever their order)."""
        by_class: dict[DemandClass, list[SeriesData]] = {}
        for s in self.panel.series:
            demand = self.classes[s.unique_id]
            if demand is DemandClass.ALL_ZERO:
                continue
            if fold_cutoffs(len(s), self.spec.horizon, self.config.folds):
                by_class.setdefault(demand, []).append(s)
        picked: list[SeriesData] = []
        for group in by_class.values():
            group.sort(key=lambda s: zlib.crc32(f"{self.config.seed}/{s.unique_id}".encode()))
            picked.extend(group[: self.config.max_backtest_series])
        return picked

    def fit_ensembles(self, sample: list[SeriesData]) -> dict[DemandClass, EnsembleWeights]:
        h, k = self.spec.horizon, self.config.folds
        tasks = []
        for s in sample:
            local = tuple(
                m for m in members_for(self.classes[s.unique_id]) if m not in GLOBAL_MEMBERS
            )
            tasks.append(SeriesTask(s, self.spec, fold_cutoffs(len(s), h, k), local))
        outcomes = {o.unique_id: o for o in self._map(tasks, "backtest")}
        xgb: dict[tuple[str, int], PointForecast | ModelFailure] = {}
        for fold in range(k):
            self._check_stop()
            cut_series = [
                s.truncated(c, h)
                for s in sample
                for c in fold_cutoffs(len(s), h, k)[fold : fold + 1]
            ]
            for s, fc in zip(cut_series, self._global(cut_series), strict=True):
                xgb[(s.unique_id, fold)] = fc
            self.counter.add(1, "backtest xgboost")
        entries: dict[DemandClass, list[FoldEntry]] = {}
        for s in sample:
            demand = self.classes[s.unique_id]
            cands = members_for(demand)
            per_member: dict[ModelName, list[float]] = {m: [] for m in cands}
            for fold, cut in enumerate(fold_cutoffs(len(s), h, k)):
                actual = s.y[cut : cut + h]
                scale = series_scale(s.y[:cut], self.spec.season_length)
                fcs = self._fold_forecasts(
                    outcomes[s.unique_id], xgb.get((s.unique_id, fold)), cands, fold
                )
                if fcs is None:
                    continue
                entries.setdefault(demand, []).append(FoldEntry(actual, scale, fcs))
                for m in cands:
                    per_member[m].append(scaled_errors(actual, fcs[m], self.spec.levels, scale)[0])
            self.errors[s.unique_id] = {m: float(np.mean(v)) for m, v in per_member.items() if v}
        out: dict[DemandClass, EnsembleWeights] = {}
        for demand in DemandClass:
            cands = members_for(demand)
            if demand in entries:
                out[demand] = fit_weights(
                    entries[demand], cands, self.spec.levels, self.spec.nonnegative
                )
            elif demand is DemandClass.ALL_ZERO:
                out[demand] = EnsembleWeights.only(ModelName.SEASONAL_NAIVE)
            else:
                out[demand] = EnsembleWeights.only(ModelName.ETS)
        return out

    @staticmethod
    def _fold_forecasts(
        outcome: SeriesOutcome,
        xgb: PointForecast | ModelFailure | None,
        cands: Sequence[ModelName],
        fold: int,
    ) -> dict[ModelName, PointForecast] | None:
        """Every candidate's forecast of one fold; a failed member counts as the seasonal
        naive forecast it would have fallen back to."""
        base = outcome.get(ModelName.SEASONAL_NAIVE, fold)
        if base is None or base.forecast is None:
            return None
        out: dict[ModelName, PointForecast] = {}
        for m in cands:
            if m is ModelName.XGBOOST:
                out[m] = xgb if isinstance(xgb, PointForecast) else base.forecast
            else:
                run = outcome.get(m, fold)
                out[m] = (
                    run.forecast if run is not None and run.forecast is not None else base.forecast
                )
        return out

    # -- final forecasts -----------------------------------------------------------------
    def final(self, ensembles: Mapping[DemandClass, EnsembleWeights]) -> list[SeriesForecast]:
        tasks = []
        for s in self.panel.series:
            weights = ensembles[self.classes[s.unique_id]].weights
            local = {m for m in weights if m not in GLOBAL_MEMBERS} | {ModelName.SEASONAL_NAIVE}
            tasks.append(
                SeriesTask(s, self.spec, final=tuple(sorted(local, key=lambda m: m.value)))
            )
        outcomes = self._map(tasks, "forecast")
        self._check_stop()
        wants_xgb = [
            s
            for s in self.panel.series
            if ModelName.XGBOOST in ensembles[self.classes[s.unique_id]].weights
        ]
        xgb = dict(zip([s.unique_id for s in wants_xgb], self._global(wants_xgb), strict=True))
        self.counter.add(1, "forecast xgboost")
        return [
            self._assemble(s, o, xgb.get(s.unique_id), ensembles[self.classes[s.unique_id]])
            for s, o in zip(self.panel.series, outcomes, strict=True)
        ]

    def _assemble(
        self,
        s: SeriesData,
        outcome: SeriesOutcome,
        xgb: PointForecast | ModelFailure | None,
        ensemble: EnsembleWeights,
    ) -> SeriesForecast:
        got: dict[ModelName, PointForecast] = {}
        failures: list[str] = []
        for m in ensemble.weights:
            if m is ModelName.XGBOOST:
                if isinstance(xgb, PointForecast):
                    got[m] = xgb
                else:
                    failures.append(str(xgb) if xgb is not None else "xgboost: no forecast")
                continue
            run = outcome.get(m, None)
            if run is not None and run.forecast is not None:
                got[m] = run.forecast
            elif run is not None:
                failures.append(run.failure)
        demand = self.classes[s.unique_id]
        dates = future_dates(s.ds[-1], self.spec.freq, self.spec.horizon)
        ensemble_run = self.config.model is ModelName.ENSEMBLE
        if got:
            fc = combine(got, ensemble, self.spec.levels, self.spec.nonnegative)
            weights = {m: w for m, w in ensemble.weights.items() if m in got}
            total = sum(weights.values())
            model = ModelName.ENSEMBLE if ensemble_run else next(iter(got))
            reason = "; ".join(failures) + ("; combined the other members" if failures else "")
            return SeriesForecast(
                s.unique_id,
                dates,
                fc.mean,
                fc.quantiles,
                model,
                demand,
                {m: w / total for m, w in weights.items()},
                reason,
                self.errors.get(s.unique_id, {}),
            )
        base = outcome.get(ModelName.SEASONAL_NAIVE, None)
        if base is None or base.forecast is None:  # seasonal naive never fails on real input
            raise ModelFailure(f"series {s.unique_id!r}: no model could forecast it")
        reason = "; ".join(failures) + "; fell back to seasonal naive"
        return SeriesForecast(
            s.unique_id,
            dates,
            base.forecast.mean,
            base.forecast.quantiles,
            ModelName.SEASONAL_NAIVE,
            demand,
            {ModelName.SEASONAL_NAIVE: 1.0},
            reason,
            self.errors.get(s.unique_id, {}),
        )
