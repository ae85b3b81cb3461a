"""Benchmark ``forecast``: the Turnwise ensemble against its baselines, in one run.

Cases (``--quick``: norway and throughput-1k):

- ``norway``: Norway new-car sales by make, monthly, the last 12 months held out (h = 12);
  ``norway/rolling-3``: the same over 3 rolling origins (the mean of the folds). Methods
  ``turnwise`` (ensemble), ``seasonal-naive``, ``autoets`` (statsforecast AutoETS),
  ``prophet`` (Prophet with defaults) and ``xgboost`` (the engine's XGBoost member alone).
- ``m4-weekly``: the 359 M4 weekly series, h = 13, sMAPE / MASE / OWA computed as the M4
  organisers do (MASE with m = 1, OWA relative to Naive2), beside the published rows
  (``m4-published-<method>``).
- ``tourism``: Australian domestic tourism, quarterly, State / Region / Purpose; base
  forecasts of every node vs bottom-up and MinT-shrink reconciliation, MASE per level.
- ``throughput-1k`` / ``throughput-10k``: the full ensemble on 1,000 / 10,000 demo store x
  trim weekly series (156 weeks each, h = 8), with 1 and 2 Ray workers: series per second
  and peak memory (of this process and its Ray workers).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.runner import Row
from forecasting import metrics
from forecasting.backend import RayBackend, SequentialBackend
from forecasting.evaluation import truncate_panel
from forecasting.forecaster import ForecastConfig, forecast
from forecasting.model import ForecastSpec, PointForecast
from forecasting.panel import Frequency, Panel, build_panel

__all__ = ["run"]

_M4_NAIVE2 = (9.161, 2.777)  # published weekly Naive2 sMAPE, MASE (reproduced by the tests)
_LEVELS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class _Forecasts:
    """Per series: mean, 10% and 90% quantiles over the horizon."""

    mean: dict[str, np.ndarray]
    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]


Method = Callable[[Panel], _Forecasts]


def _from_points(panel: Panel, points: list[PointForecast]) -> _Forecasts:
    ids = panel.ids
    return _Forecasts(
        {u: p.mean for u, p in zip(ids, points, strict=True)},
        {u: p.quantiles[:, 0] for u, p in zip(ids, points, strict=True)},
        {u: p.quantiles[:, -1] for u, p in zip(ids, points, strict=True)},
    )


def _spec(panel: Panel) -> ForecastSpec:
    return ForecastSpec(panel.freq, panel.horizon, _LEVELS, panel.regressors)


def _turnwise(panel: Panel) -> _Forecasts:
    result = forecast(panel, _LEVELS, ForecastConfig(), SequentialBackend())
    return _Forecasts(
        {f.unique_id: f.mean for f in result.forecasts},
        {f.unique_id: f.quantiles[:, 0] for f in result.forecasts},
        {f.unique_id: f.quantiles[:, -1] for f in result.forecasts},
    )


def _seasonal_naive(panel: Panel) -> _Forecasts:
    from forecasting.baselines import seasonal_naive

    return _from_points(panel, [seasonal_naive(s, _spec(panel)) for s in panel.series])


def _prophet(panel: Panel) -> _Forecasts:
    from forecasting.prophet_model import forecast_prophet_defaults

    return _from_points(panel, [forecast_prophet_defaults(s, _spec(panel)) for s in panel.series])


def _xgboost(panel: Panel) -> _Forecasts:
    from forecasting.baselines import seasonal_naive
    from forecasting.model import ModelFailure
    from forecasting.xgb_model import forecast_xgboost

    spec = _spec(panel)
    out = forecast_xgboost(panel.series, spec, threads=1)
    points = [
        seasonal_naive(s, spec) if isinstance(p, ModelFailure) else p
        for s, p in zip(panel.series, out, strict=True)
    ]
    return _from_points(panel, points)


def _autoets(season_length: int) -> Method:
    def method(panel: Panel) -> _Forecasts:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS

        frame = pd.concat(
            [pd.DataFrame({"unique_id": s.unique_id, "ds": s.ds, "y": s.y}) for s in panel.series]
        )
        sf = StatsForecast(models=[AutoETS(season_length=season_length)], freq=panel.freq.value)
        fc = sf.forecast(df=frame, h=panel.horizon, level=[80])
        by = {str(k): v for k, v in fc.groupby("unique_id", sort=False)}
        mean = {u: np.clip(by[u]["AutoETS"].to_numpy(), 0, None) for u in panel.ids}
        lo = {u: np.clip(by[u]["AutoETS-lo-80"].to_numpy(), 0, None) for u in panel.ids}
        hi = {u: np.clip(by[u]["AutoETS-hi-80"].to_numpy(), 0, None) for u in panel.ids}
        return _Forecasts(mean, lo, hi)

    return method


def _accuracy(
    case: str,
    name: str,
    fc: _Forecasts,
    actuals: dict[str, np.ndarray],
    insample: dict[str, np.ndarray],
    mase_lag: Callable[[np.ndarray], int],
) -> list[Row]:
    err = tot = 0.0
    smape, mase, inside, steps = [], [], 0, 0
    for uid, y in actuals.items():
        f = fc.mean[uid][: len(y)]
        err += float(np.abs(y - f).sum())
        tot += float(np.abs(y).sum())
        smape.append(metrics.smape(y, f))
        mase.append(metrics.mase(y, f, insample[uid], mase_lag(insample[uid])))
        inside += int(((y >= fc.lo[uid][: len(y)]) & (y <= fc.hi[uid][: len(y)])).sum())
        steps += len(y)
    finite = [m for m in mase if np.isfinite(m)]
    return [
        Row(case, name, "wape", err / tot, "ratio"),
        Row(case, name, "mase", float(np.mean(finite)), "ratio"),
        Row(case, name, "smape", float(np.mean(smape)), "%"),
        Row(case, name, "coverage80", inside / steps, "share"),
    ]


def _methods(season_length: int) -> dict[str, Method]:
    return {
        "turnwise": _turnwise,
        "seasonal-naive": _seasonal_naive,
        "autoets": _autoets(season_length),
        "prophet": _prophet,
        "xgboost": _xgboost,
    }


def _norway() -> list[Row]:
    from forecasting.datasets import load_norway_by_make

    panel = build_panel(load_norway_by_make(), Frequency.MONTHLY, 12)
    rows: list[Row] = []
    folds: dict[tuple[str, str], list[float]] = {}
    for i in (1, 2, 3):
        train, actuals = truncate_panel(panel, 12 * i)
        insample = {s.unique_id: s.y for s in train.series}
        for name, method in _methods(12).items():
            start = time.perf_counter()
            got = _accuracy(
                "norway", name, method(train), actuals, insample, lambda h: 12 if len(h) > 12 else 1
            )
            seconds = time.perf_counter() - start
            if i == 1:
                rows.extend(got)
                rows.append(Row("norway", name, "seconds", seconds, "s"))
            for r in got:
                folds.setdefault((name, r.metric), []).append(r.value)
    for (name, metric), values in folds.items():
        unit = {"smape": "%", "coverage80": "share"}.get(metric, "ratio")
        rows.append(Row("norway/rolling-3", name, metric, float(np.mean(values)), unit))
    return rows


def _m4_weekly() -> list[Row]:
    from forecasting.datasets import load_m4_weekly, shared_data_dir

    train = build_panel(load_m4_weekly("train"), Frequency.WEEKLY, 13)
    test = load_m4_weekly("test")
    actuals = {str(u): g["y"].to_numpy() for u, g in test.groupby("unique_id", sort=False)}
    insample = {s.unique_id: s.y for s in train.series}
    rows: list[Row] = []
    for name, method in _methods(52).items():
        if name == "autoets":
            method = _autoets(1)  # statsforecast's ETS allows no season of 52
        start = time.perf_counter()
        acc = _accuracy("m4-weekly", name, method(train), actuals, insample, lambda h: 1)
        seconds = time.perf_counter() - start
        smape = next(r.value for r in acc if r.metric == "smape")
        mase = next(r.value for r in acc if r.metric == "mase")
        owa = 0.5 * (smape / _M4_NAIVE2[0] + mase / _M4_NAIVE2[1])
        rows += [r for r in acc if r.metric in ("smape", "mase", "coverage80")]
        rows += [
            Row("m4-weekly", name, "owa", owa, "ratio"),
            Row("m4-weekly", name, "seconds", seconds, "s"),
        ]
    published = pd.read_csv(
        shared_data_dir() / "m4_weekly" / "m4_point_forecast_accuracy_by_frequency.csv"
    )
    for _, rec in published.iterrows():
        published_method = str(rec.iloc[0])
        if published_method in ("Naive2", "SES", "Holt", "Damped", "Theta", "Com"):
            for metric in ("sMAPE", "MASE", "OWA"):
                col = f"{metric}_Weekly"
                if col in published.columns:
                    rows.append(
                        Row(
                            "m4-weekly",
                            f"m4-published-{published_method.lower()}",
                            metric.lower(),
                            float(rec[col]),
                            "ratio",
                        )
                    )
    return rows


@contextmanager
def _peak_rss() -> Iterator[list[float]]:
    """Peak resident memory (MB) of this process and all its descendants, sampled."""
    peak = [0.0]
    stop = threading.Event()

    def tree_rss() -> float:
        total, me = 0, os.getpid()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            if int(pid) != me and not _descends(int(pid), me):
                continue
            try:
                statm = Path(f"/proc/{pid}/statm").read_text().split()
            except OSError:
                continue
            total += int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
        return total / 2**20

    def sample() -> None:
        while not stop.wait(0.5):
            peak[0] = max(peak[0], tree_rss())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def _descends(pid: int, ancestor: int) -> bool:
    for _ in range(20):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if ppid == ancestor:
            return True
        if ppid <= 1:
            return False
        pid = ppid
    return False


def _demo_panel(stores: int, trims: int, limit: int | None = None) -> Panel:
    """The demo group's weekly store x trim sales; the first ``limit`` series by id."""
    from dealer_group.demo import DemoSpec, generate

    group = generate(DemoSpec(stores=stores, trims=trims, seed=0))
    raw = group.sales
    sales = pd.DataFrame(
        {
            "unique_id": raw["store_id"].astype(str) + "/" + raw["trim_id"].astype(str),
            "ds": pd.to_datetime(raw["week_start"]),
            "y": raw["units"].astype(float),
        }
    )
    panel = build_panel(sales.sort_values(["unique_id", "ds"]), Frequency.WEEKLY, 8)
    if limit is not None and len(panel) < limit:
        raise RuntimeError(f"the demo group has {len(panel)} series, fewer than {limit}")
    return replace(panel, series=panel.series[:limit])


def _throughput(case: str, stores: int, trims: int, series: int) -> list[Row]:
    import ray

    panel = _demo_panel(stores, trims, series)
    rows = [Row(case, "turnwise", "series", float(len(panel)), "series")]
    for workers in (1, 2):
        if ray.is_initialized():
            ray.shutdown()
        backend = RayBackend(num_cpus=workers)
        _ = backend.workers  # start Ray outside the timing
        with _peak_rss() as peak:
            start = time.perf_counter()
            forecast(panel, _LEVELS, ForecastConfig(xgb_threads=workers), backend)
            seconds = time.perf_counter() - start
        method = f"turnwise-{workers}-worker{'s' if workers > 1 else ''}"
        rows += [
            Row(case, method, "series_per_second", len(panel) / seconds, "series/s"),
            Row(case, method, "seconds", seconds, "s"),
            Row(case, method, "peak_rss_mb", peak[0], "MB"),
        ]
    ray.shutdown()
    return rows


def _tourism() -> list[Row]:
    from benchmarks.forecast_tourism import tourism_rows

    return tourism_rows()


def run(quick: bool) -> list[Row]:
    cases: list[tuple[str, Callable[[], list[Row]]]] = [
        ("norway", _norway),
        ("throughput-1k", lambda: _throughput("throughput-1k", 60, 120, 1_000)),
    ]
    if not quick:
        cases += [
            ("m4-weekly", _m4_weekly),
            ("tourism", _tourism),
            ("throughput-10k", lambda: _throughput("throughput-10k", 330, 200, 10_000)),
        ]
    rows: list[Row] = []
    for name, case in cases:
        start = time.perf_counter()
        print(f"forecast benchmark: {name} ...", file=sys.stderr, flush=True)
        rows += case()
        print(
            f"forecast benchmark: {name} done in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return rows
