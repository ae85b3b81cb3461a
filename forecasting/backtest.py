"""Rolling-origin folds and the per-series work that the backends run.

A fold of a series of length ``n`` cuts it at ``n - i * h`` (``i = 1..k``): the model sees
the points before the cut (with the regressors observed after it as the "future") and is
scored on the ``h`` points after it. ``run_tasks`` is the unit a backend runs: for each
series, each local member on each fold, then each member asked for the final forecast. It
never raises for one series: a member's failure is recorded and the caller falls back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from forecasting.members import run_local
from forecasting.model import ForecastSpec, ModelFailure, ModelName, PointForecast
from forecasting.panel import SeriesData

__all__ = [
    "MemberRun",
    "SeriesOutcome",
    "SeriesTask",
    "fold_cutoffs",
    "run_tasks",
    "scaled_errors",
    "series_scale",
]

MIN_TRAIN = 4
"""Fewest observations a fold's training part may have."""


def fold_cutoffs(n: int, h: int, folds: int, min_train: int = MIN_TRAIN) -> tuple[int, ...]:
    """Training lengths of the rolling-origin folds, oldest first; fewer than ``folds`` when
    the series is too short to leave ``min_train`` points before the earliest cut."""
    cuts = [n - h * i for i in range(1, folds + 1) if n - h * i >= min_train]
    return tuple(sorted(cuts))


def series_scale(y: np.ndarray, season_length: int) -> float:
    """MASE scale: mean absolute seasonal difference of ``y`` (lag 1 for short series),
    else the mean absolute value, else 1: never zero, so scaled errors stay finite."""
    lag = season_length if len(y) > season_length else 1
    if len(y) > lag:
        scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
        if scale > 0:
            return scale
    level = float(np.mean(np.abs(y))) if len(y) else 0.0
    return level if level > 0 else 1.0


def scaled_errors(
    actual: np.ndarray, fc: PointForecast, levels: Sequence[float], scale: float
) -> tuple[float, float]:
    """(scaled MAE of the mean, scaled mean pinball loss over the levels) of one forecast."""
    mae = float(np.mean(np.abs(actual - fc.mean))) / scale
    diff = actual[:, None] - fc.quantiles
    lv = np.asarray(levels)[None, :]
    pinball = float(np.mean(np.maximum(lv * diff, (lv - 1.0) * diff))) / scale
    return mae, pinball


@dataclass(frozen=True)
class SeriesTask:
    """Work on one series: ``backtest`` members on each training length of ``cutoffs``,
    then the ``final`` members on the whole history."""

    series: SeriesData
    spec: ForecastSpec
    cutoffs: tuple[int, ...] = ()
    backtest: tuple[ModelName, ...] = ()
    final: tuple[ModelName, ...] = ()


@dataclass(frozen=True)
class MemberRun:
    """One member's forecast of one series (on fold ``fold``, or the final one when
    ``fold`` is None); ``forecast`` is None and ``failure`` says why when it failed."""

    model: ModelName
    fold: int | None
    forecast: PointForecast | None
    failure: str = ""


@dataclass(frozen=True)
class SeriesOutcome:
    unique_id: str
    runs: tuple[MemberRun, ...]

    def get(self, model: ModelName, fold: int | None) -> MemberRun | None:
        for run in self.runs:
            if run.model is model and run.fold == fold:
                return run
        return None


def _run(model: ModelName, series: SeriesData, spec: ForecastSpec, fold: int | None) -> MemberRun:
    try:
        return MemberRun(model, fold, run_local(model, series, spec))
    except ModelFailure as exc:
        return MemberRun(model, fold, None, str(exc))


def run_task(task: SeriesTask) -> SeriesOutcome:
    spec, series = task.spec, task.series
    runs: list[MemberRun] = []
    for fold, cut in enumerate(task.cutoffs):
        train = series.truncated(cut, spec.horizon)
        runs.extend(_run(model, train, spec, fold) for model in task.backtest)
    runs.extend(_run(model, series, spec, None) for model in task.final)
    return SeriesOutcome(series.unique_id, tuple(runs))


def _one_blas_thread() -> AbstractContextManager[object]:
    """BLAS/LAPACK limited to one thread while the context is open.

    The local members' numbers depend on the BLAS thread count: SciPy's SLSQP (the ETS fit)
    takes a different path with 1 or N OpenBLAS threads (measured: ETS forecasts moved by
    up to 2e-5). Ray runs each task with ``OMP_NUM_THREADS=1``; running every chunk with one
    BLAS thread in this process too makes the sequential and Ray backends agree to the last
    bit (one thread is also what these tiny per-series problems run fastest on).
    ``threadpoolctl`` does the limiting; without it the thread count is left alone."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # only statsforecast (dev) pulls it in: not a declared dependency yet
        return contextlib.nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits


def run_tasks(tasks: Sequence[SeriesTask]) -> list[SeriesOutcome]:
    """A chunk of series, run one after the other (the unit of work of a backend), with
    one BLAS thread so that results do not depend on the backend."""
    with _one_blas_thread():
        return [run_task(task) for task in tasks]
