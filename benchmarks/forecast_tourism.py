"""Benchmark case ``tourism``: hierarchical forecasting of Australian domestic tourism.

Data: quarterly overnight trips (thousands), 1998 Q1 - 2017 Q4, 304 bottom series
State / Region / Purpose (``forecasting.datasets.load_tourism``; shared/data
``aus_tourism_hierarchical``, a ``DatasetMissing`` when absent). Nodes: the total, 8 states,
76 state/regions, 4 purposes, 32 state/purposes and the 304 bottom series (425 in all).

Protocol: the last 8 quarters of every node are held out (h = 8). Each method forecasts every
node from the 72 quarters before them (base forecasts); the base forecasts are then
reconciled bottom-up, with OLS, WLS-struct and MinT-shrink (``forecasting.hierarchy``;
MinT-shrink falling back to WLS-struct raises rather than being reported as MinT).
Accuracy: MASE per level with the seasonal scale of lag 4 over the training quarters
(``hierarchy.seasonal_scale``; nodes with a zero scale are skipped, as
``evaluate_levels`` does), and the mean over the six levels.

Methods (the base forecasts):

- ``turnwise``: the engine, ``forecasting.forecaster.forecast`` with the ensemble over a
  quarterly ``Panel`` (XGBoost member with ``_XGB_PARAMS``: fewer rounds than its defaults);
  ``turnwise-ets`` in the quick run: the engine with ``model=ModelName.ETS``;
- ``seasonal-naive``: ``forecasting.baselines.seasonal_naive`` (the value 4 quarters back);
- ``autoets``: statsforecast ``AutoETS(season_length=4)``, forecasts clipped at 0.

Row naming: method ``M`` is the base forecasts, ``M+bu`` bottom-up from ``M``'s bottom
series, ``M+ols`` / ``M+wls`` / ``M+mint`` the OLS, WLS-struct and MinT-shrink
reconciliations of ``M``'s base forecasts. Metrics: ``mase_<level>`` for the levels
``total``, ``state``, ``state-region``, ``purpose``, ``state-purpose`` and ``bottom`` (the
hierarchy's level names lower-cased, ``/`` written ``-``); ``mase``, their mean;
``seconds``, the wall time of the base forecasts (plus that of the reconciliation for the
reconciled sets); ``coherence_max_abs_error`` (reconciled sets only): the largest
``|aggregate - sum of its bottom series|`` over aggregate nodes and steps, in thousand trips,
the sums taken afresh by a pandas group-by of the bottom forecasts on the attributes (not
through the summing matrix the reconciliation used, which would make it 0 by construction);
``mint_shrinkage`` (``+mint`` only): MinT's estimated shrinkage intensity lambda.

MinT's residuals (``n_nodes x T``): the method's own in-sample one-step errors where it has
them: ``seasonal-naive`` (its one-step errors are ``y[t] - y[t - 4]``) and ``autoets``
(``y - fitted`` from statsforecast's fitted values). The engine computes no in-sample
one-step errors, so ``turnwise`` / ``turnwise-ets`` use the in-sample seasonal-naive errors
``values[:, 4:] - values[:, :-4]`` instead (as ``forecasting.reconciled`` does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.runner import Row
from forecasting.forecaster import ForecastConfig, forecast
from forecasting.hierarchy import (
    TOTAL_LEVEL,
    Hierarchy,
    ReconcileMethod,
    aggregate,
    build_hierarchy,
    evaluate_levels,
    node_matrix,
    reconcile_report,
    seasonal_scale,
)
from forecasting.model import ForecastSpec, ModelName
from forecasting.panel import Frequency, Panel, build_panel
from forecasting.xgb_model import BoosterParams

__all__ = [
    "CASE",
    "HORIZON",
    "LEVELS",
    "SEASON",
    "coherence_error",
    "hierarchy_rows",
    "tourism_rows",
]

CASE = "tourism"
HORIZON = 8
SEASON = 4
LEVELS: tuple[tuple[str, ...], ...] = (
    (),
    ("State",),
    ("State", "Region"),
    ("Purpose",),
    ("State", "Purpose"),
)
_QUANTILES = (0.1, 0.5, 0.9)
_XGB_PARAMS = BoosterParams(rounds=150, quantile_rounds=75)
_RECONCILERS: tuple[tuple[str, ReconcileMethod], ...] = (
    ("bu", ReconcileMethod.BOTTOM_UP),
    ("ols", ReconcileMethod.OLS),
    ("wls", ReconcileMethod.WLS_STRUCT),
    ("mint", ReconcileMethod.MINT_SHRINK),
)


@dataclass(frozen=True)
class BaseForecasts:
    """Base forecasts of every node (n_nodes x horizon, in the panel's order) and the
    method's in-sample one-step errors (n_nodes x T), or None where it has none."""

    mean: np.ndarray
    residuals: np.ndarray | None


Method = Callable[[Panel], BaseForecasts]


def engine(config: ForecastConfig) -> Method:
    """The Turnwise engine with ``config`` (no in-sample residuals)."""

    def method(panel: Panel) -> BaseForecasts:
        result = forecast(panel, _QUANTILES, config)
        by_id = {f.unique_id: f.mean for f in result.forecasts}
        return BaseForecasts(np.stack([by_id[u] for u in panel.ids]), None)

    return method


def seasonal_naive(panel: Panel) -> BaseForecasts:
    from forecasting.baselines import seasonal_naive as snaive

    spec = ForecastSpec(panel.freq, panel.horizon, _QUANTILES)
    mean = np.stack([snaive(s, spec).mean for s in panel.series])
    return BaseForecasts(mean, _seasonal_errors(panel))


def autoets(panel: Panel) -> BaseForecasts:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    frame = pd.concat(
        [pd.DataFrame({"unique_id": s.unique_id, "ds": s.ds, "y": s.y}) for s in panel.series]
    )
    m = panel.freq.season_length
    sf = StatsForecast(models=[AutoETS(season_length=m)], freq=panel.freq.value)
    fc = sf.forecast(df=frame, h=panel.horizon, fitted=True)
    fitted = sf.forecast_fitted_values()
    by = {str(k): v["AutoETS"].to_numpy() for k, v in fc.groupby("unique_id", sort=False)}
    fit = {str(k): v for k, v in fitted.groupby("unique_id", sort=False)}
    mean = np.stack([np.clip(by[u], 0, None) for u in panel.ids])
    residuals = np.stack(
        [
            fit[u]["y"].to_numpy(dtype=float) - fit[u]["AutoETS"].to_numpy(dtype=float)
            for u in panel.ids
        ]
    )
    return BaseForecasts(mean, residuals)


def _seasonal_errors(panel: Panel) -> np.ndarray:
    m = panel.freq.season_length
    values = np.stack([s.y for s in panel.series])
    return np.asarray(values[:, m:] - values[:, :-m])


def methods(quick: bool) -> dict[str, Method]:
    """The benchmark's methods by row name; see the module docstring."""
    if quick:
        turnwise = ("turnwise-ets", engine(ForecastConfig(model=ModelName.ETS)))
    else:
        turnwise = ("turnwise", engine(ForecastConfig(xgb_params=_XGB_PARAMS, xgb_threads=2)))
    return dict([turnwise, ("seasonal-naive", seasonal_naive), ("autoets", autoets)])


def tourism_rows(quick: bool = False) -> list[Row]:
    """The ``tourism`` case's rows; ``quick`` runs the engine with ETS only."""
    from forecasting.datasets import load_tourism, tourism_hierarchy

    return hierarchy_rows(CASE, load_tourism(), tourism_hierarchy(), LEVELS, methods(quick))


def _metric_name(level: str) -> str:
    return "mase_" + level.lower().replace("/", "-")


def hierarchy_rows(
    case: str,
    history: pd.DataFrame,
    attributes: pd.DataFrame,
    levels: Sequence[Sequence[str]],
    by_name: Mapping[str, Method],
    *,
    horizon: int = HORIZON,
    freq: Frequency = Frequency.QUARTERLY,
    unit: str = "thousand trips",
) -> list[Row]:
    """Rows of ``case``: the bottom ``history`` (long unique_id, ds, y) aggregated over
    ``levels`` of ``attributes``, the last ``horizon`` steps held out, each method's base
    forecasts beside their reconciliations (bottom-up, OLS, WLS-struct, MinT-shrink)."""
    h = build_hierarchy(attributes, levels)
    values, dates = node_matrix(h, aggregate(h, history))
    train, test = values[:, :-horizon], values[:, -horizon:]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(h.node_ids, dtype=object), train.shape[1]),
            "ds": np.tile(np.asarray(dates[:-horizon]), h.n_nodes),
            "y": train.ravel(),
        }
    )
    panel = build_panel(frame, freq, horizon)
    if panel.ids != list(h.node_ids):
        raise AssertionError("the panel must keep the hierarchy's node order")
    scale = seasonal_scale(train, freq.season_length)
    rows: list[Row] = []
    for name, method in by_name.items():
        start = time.perf_counter()
        base = method(panel)
        base_seconds = time.perf_counter() - start
        residuals = base.residuals if base.residuals is not None else _seasonal_errors(panel)
        reconciled: dict[ReconcileMethod, np.ndarray] = {}
        seconds = {name: base_seconds}
        extra: list[Row] = []
        for suffix, how in _RECONCILERS:
            start = time.perf_counter()
            report = reconcile_report(h, base.mean, how, residuals)
            seconds[f"{name}+{suffix}"] = base_seconds + time.perf_counter() - start
            if report.fell_back:
                raise RuntimeError(f"{name}: {how.value} fell back to {report.method.value}")
            reconciled[how] = report.forecasts
            error = coherence_error(h, attributes, levels, report.forecasts)
            extra.append(Row(case, f"{name}+{suffix}", "coherence_max_abs_error", error, unit))
            if report.shrinkage is not None:
                extra.append(
                    Row(case, f"{name}+{suffix}", "mint_shrinkage", report.shrinkage, "ratio")
                )
        rows += _score_rows(case, name, h, test, base.mean, reconciled, scale, seconds) + extra
    return rows


def coherence_error(
    h: Hierarchy,
    attributes: pd.DataFrame,
    levels: Sequence[Sequence[str]],
    forecasts: np.ndarray,
) -> float:
    """The largest ``|aggregate - sum of its bottom series|`` of ``forecasts`` (n_nodes x
    horizon, ``h.node_ids`` order) over the aggregate nodes and steps, the sums taken by a
    group-by of the bottom rows on ``attributes`` (independent of ``h.summing``)."""
    f = np.asarray(forecasts, dtype=float)
    row_of = {u: i for i, u in enumerate(h.node_ids)}
    attrs = attributes.set_index(attributes["unique_id"].astype(str)).loc[list(h.bottom_ids)]
    bottom = pd.DataFrame(f[h.n_aggregates :], index=attrs.index)
    worst = 0.0
    for columns in levels:
        if columns:
            grouped = bottom.groupby([attrs[c].astype(str).to_numpy() for c in columns]).sum()
            keys = [k if isinstance(k, tuple) else (k,) for k in grouped.index]
            names = ["/".join(f"{c}={v}" for c, v in zip(columns, k, strict=True)) for k in keys]
            sums = dict(zip(names, grouped.to_numpy(), strict=True))
        else:
            sums = {TOTAL_LEVEL: bottom.to_numpy().sum(axis=0)}
        level = "/".join(columns) if columns else TOTAL_LEVEL
        if sorted(sums) != sorted(h.node_ids[i] for i in h.level_rows(level)):
            raise AssertionError(f"level {level}: the group-by does not give the level's nodes")
        for node, total in sums.items():
            worst = max(worst, float(np.max(np.abs(f[row_of[node]] - total))))
    return worst


def _score_rows(
    case: str,
    name: str,
    h: Hierarchy,
    test: np.ndarray,
    base: np.ndarray,
    reconciled: Mapping[ReconcileMethod, np.ndarray],
    scale: np.ndarray,
    seconds: Mapping[str, float],
) -> list[Row]:
    scores = evaluate_levels(h, test, base, reconciled, scale=scale)
    labels: dict[ReconcileMethod | None, str] = {None: name}
    labels.update({how: f"{name}+{suffix}" for suffix, how in _RECONCILERS})
    rows: list[Row] = []
    for how, label in labels.items():
        mine = [s for s in scores if s.method is how]
        rows += [Row(case, label, _metric_name(s.level), s.value, "ratio") for s in mine]
        rows.append(Row(case, label, "mase", float(np.mean([s.value for s in mine])), "ratio"))
        rows.append(Row(case, label, "seconds", seconds[label], "s"))
    return rows
