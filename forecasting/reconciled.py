"""Coherent forecasts of a hierarchy: store x trim up to region, model, brand and the group.

``forecast_hierarchy`` takes the bottom history (long format), one attribute row per bottom
series (``unique_id`` plus columns such as ``region_id``, ``model_id``, ``brand_id``) and the
aggregation levels, and:

1. aggregates the history to every node (a date absent for a series counts as no sales;
   each bottom series starts at its first observation, so short series stay short);
2. forecasts every node with the engine (``forecasting.forecaster.forecast``, the same
   ensemble, fallbacks and report);
3. gives each new bottom series (an attribute row with no history: a new trim) the
   average forecast of its siblings in one node above it: the first of ``borrow_from``
   (say its model at the store, else its brand) with bottom series with history, by
   default the node with the fewest such series; the node's forecast divided by that
   number, quantiles included;
4. reconciles mean and quantiles with ``method`` (``forecasting.hierarchy``); MinT's error
   covariance is estimated from the in-sample seasonal-naive errors of every node (a cheap
   proxy for the ensemble's own one-step errors, which the engine does not compute).

Only the reconciled means add up exactly; the quantiles are the practical projection that
``hierarchy.reconcile_quantiles`` documents. Regressors are not taken here: summing a price
or a penetration rate up a hierarchy has no single meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.backend import Backend
from forecasting.forecaster import ForecastConfig, ForecastResult, Progress, forecast
from forecasting.hierarchy import (
    Hierarchy,
    ReconcileMethod,
    aggregate,
    build_hierarchy,
    reconcile_quantiles,
)
from forecasting.model import ForecastSpec
from forecasting.panel import DEFAULT_LEVELS, Frequency, build_panel, check_levels, future_dates
from turnwise.errors import InvalidArgument

__all__ = ["HierarchyForecast", "forecast_hierarchy"]


@dataclass(frozen=True, eq=False)
class HierarchyForecast:
    """Reconciled forecasts of every node (``hierarchy.node_ids`` order) and how they came.

    ``mean`` is n_nodes x horizon, ``quantiles`` n_levels x n_nodes x horizon; ``base`` is
    the engine's result on the nodes with history; ``borrowed`` maps each new bottom series
    to the node it borrowed from."""

    hierarchy: Hierarchy
    ds: pd.DatetimeIndex
    levels: tuple[float, ...]
    mean: np.ndarray
    quantiles: np.ndarray
    requested: ReconcileMethod
    method: ReconcileMethod
    base: ForecastResult
    borrowed: dict[str, str]

    def to_frame(self) -> pd.DataFrame:
        """Long frame: unique_id, level, ds, mean and one ``q<level>`` column per level."""
        h, steps = self.hierarchy, len(self.ds)
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(h.node_ids, dtype=object), steps),
                "level": np.repeat(np.asarray(h.node_levels, dtype=object), steps),
                "ds": np.tile(self.ds.to_numpy(), h.n_nodes),
                "mean": self.mean.ravel(),
            }
        )
        for j, level in enumerate(self.levels):
            frame[f"q{level:g}"] = self.quantiles[j].ravel()
        return frame


def _node_history(h: Hierarchy, history: pd.DataFrame) -> pd.DataFrame:
    """Every node's history; a bottom series from its first observation on."""
    nodes = aggregate(h, history[["unique_id", "ds", "y"]])
    first = history.groupby("unique_id")["ds"].min()
    start = nodes["unique_id"].map(first)
    bottom = nodes["unique_id"].isin(set(h.bottom_ids))
    has_history = nodes["unique_id"].isin(set(first.index))
    keep = ~bottom | (has_history & (nodes["ds"] >= start))
    return nodes.loc[keep].reset_index(drop=True)


def _check_inputs(history: pd.DataFrame, attributes: pd.DataFrame) -> None:
    extra = [c for c in history.columns if c not in ("unique_id", "ds", "y")]
    if extra:
        raise InvalidArgument(
            "history", f"regressor columns {extra} are not taken by hierarchical forecasts"
        )
    if "unique_id" not in attributes.columns:
        raise InvalidArgument("attributes", "needs a unique_id column")
    known = set(attributes["unique_id"].astype(str))
    unknown = sorted(set(history["unique_id"].astype(str)) - known)
    if unknown:
        raise InvalidArgument(
            "attributes", f"no attribute row for series {unknown[:5]}; one row per series"
        )


def _borrow_parent(
    h: Hierarchy, series: int, with_history: np.ndarray, borrow_levels: Sequence[str] | None
) -> int | None:
    """The node above bottom series ``series`` to borrow from: the first of
    ``borrow_levels`` (level names) with history below it; by default the aggregate node
    with the fewest bottom series with history, ties to the level listed last."""
    summing = h.summing.tocsc()
    parents = [
        int(n)
        for n in summing.indices[summing.indptr[series] : summing.indptr[series + 1]]
        if n < h.n_aggregates
    ]
    counts = np.asarray(h.summing @ with_history.astype(float))
    parents = [n for n in parents if counts[n] > 0]
    if borrow_levels is not None:
        for level in borrow_levels:
            for node in parents:
                if h.node_levels[node] == level:
                    return node
        return None
    order = {name: i for i, name in enumerate(h.level_names)}
    best: int | None = None
    for node in parents:
        if best is None or (counts[node], -order[h.node_levels[node]]) < (
            counts[best],
            -order[h.node_levels[best]],
        ):
            best = node
    return best


def _residuals(values: np.ndarray, m: int) -> np.ndarray | None:
    """In-sample seasonal-naive errors (n_nodes x T); None when the history is too short."""
    if values.shape[1] <= m + 1:
        return None
    return np.asarray(values[:, m:] - values[:, :-m])


def forecast_hierarchy(
    history: pd.DataFrame,
    attributes: pd.DataFrame,
    levels: Sequence[Sequence[str]],
    freq: Frequency,
    horizon: int,
    quantile_levels: Sequence[float] = DEFAULT_LEVELS,
    method: ReconcileMethod = ReconcileMethod.MINT_SHRINK,
    config: ForecastConfig | None = None,
    backend: Backend | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    borrow_from: Sequence[Sequence[str]] | None = None,
    row_base: int = 0,
) -> HierarchyForecast:
    """Forecast and reconcile a hierarchy; see the module docstring. ``borrow_from`` lists
    the levels (of ``levels``) a new series may borrow from, in order of preference;
    ``row_base`` is the number errors give the first row of ``history`` (2 for a CSV)."""
    _check_inputs(history, attributes)
    lv = check_levels(quantile_levels)
    attrs = attributes.assign(unique_id=attributes["unique_id"].astype(str))
    hist = history.assign(unique_id=history["unique_id"].astype(str))
    h = build_hierarchy(attrs, levels)
    borrow_levels = None
    if borrow_from is not None:
        borrow_levels = ["/".join(cols) if cols else "total" for cols in borrow_from]
        unknown = [b for b in borrow_levels if b not in h.level_names]
        if unknown:
            raise InvalidArgument("borrow_from", f"{unknown} are not among levels {levels}")
    # Validate the bottom history first so that errors name the caller's own rows.
    build_panel(hist, freq, horizon, row_base=row_base)
    nodes = _node_history(h, hist)
    panel = build_panel(nodes, freq, horizon)
    base = forecast(panel, lv, config, backend, progress, should_stop)
    spec = ForecastSpec(freq, horizon, lv, (), (config or ForecastConfig()).seed)
    by_id = {f.unique_id: f for f in base.forecasts}
    mean = np.zeros((h.n_nodes, horizon))
    quant = np.zeros((len(lv), h.n_nodes, horizon))
    for i, node in enumerate(h.node_ids):
        if node in by_id:
            mean[i] = by_id[node].mean
            quant[:, i, :] = by_id[node].quantiles.T
    with_history = np.array([b in by_id for b in h.bottom_ids])
    borrowed: dict[str, str] = {}
    for j, uid in enumerate(h.bottom_ids):
        if with_history[j]:
            continue
        parent = _borrow_parent(h, j, with_history, borrow_levels)
        if parent is None:
            raise InvalidArgument(
                "attributes",
                f"new series {uid!r} has no history and no sibling with history in any "
                "aggregation level; give it history or a level it shares with others",
            )
        share = 1.0 / float((h.summing[[parent], :].toarray()[0] * with_history).sum())
        row = h.n_aggregates + j
        mean[row] = share * mean[parent]
        quant[:, row, :] = share * quant[:, parent, :]
        borrowed[uid] = h.node_ids[parent]
    values = nodes.pivot(index="unique_id", columns="ds", values="y")
    values = values.reindex(list(h.node_ids)).fillna(0.0)
    residuals = _residuals(values.to_numpy(dtype=float), spec.season_length)
    used = method
    if method is ReconcileMethod.MINT_SHRINK and (residuals is None or not np.any(residuals)):
        used = ReconcileMethod.WLS_STRUCT  # no error covariance to estimate
    done = reconcile_quantiles(h, mean, quant, lv, used, residuals, nonnegative=True)
    last = pd.Timestamp(nodes["ds"].max())
    return HierarchyForecast(
        hierarchy=h,
        ds=future_dates(last, freq, horizon),
        levels=lv,
        mean=done.mean,
        quantiles=done.quantiles,
        requested=method,
        method=done.method,
        base=base,
        borrowed=borrowed,
    )
