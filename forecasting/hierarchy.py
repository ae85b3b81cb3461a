"""Hierarchical and grouped reconciliation: base forecasts of every node in, coherent out.

A hierarchy is built from one row per bottom series (``unique_id`` plus attribute columns
such as ``store_id``, ``region_id``, ``trim_id``, ``model_id``, ``brand_id``) and a list of
aggregation levels, each a group of attribute columns: ``[]`` is the grand total, and
crossed levels (region x brand) are as welcome as nested ones. Nodes are ordered
aggregates first (level by level, keys sorted), then the bottom series in the order of the
rows given; ``S`` (``Hierarchy.summing``) is ``[A; I]``.

Every combination method is the projection ``y~ = y^ - W C' (C W C')^-1 C y^`` with
``C = [I, -A]`` (Wickramasuriya, Athanasopoulos & Hyndman, JASA 2019), which equals
``S (S' W^-1 S)^-1 S' W^-1 y^`` whenever ``W`` is positive definite but never inverts ``W``
and solves one system of the size of the aggregate count. ``W`` is always diagonal plus low
rank, ``diag(d) + V V'``, so it is never formed: OLS ``d = 1``; WLS_STRUCT ``d = S 1``;
MINT_SHRINK ``d = lambda diag(Sigma)``, ``V V' = (1 - lambda) E E' / T`` from the ``T``
in-sample one-step residuals ``E`` (Woodbury identity, rank ``T``). The returned forecasts
are ``S b~`` of the reconciled bottom ``b~``, so they add up exactly.

Size: ``C W C'`` (``n_agg x n_agg``, sparse: two aggregates interact only when they share a
bottom series) is factored densely up to ``DENSE_AGGREGATES`` and by sparse LU above; the
measured store x trim case (7,000 bottom, 2,886 aggregates, 9,886 nodes, T = 156) takes
0.12 s for MINT_SHRINK. MINT_SHRINK also holds ``V`` and ``(C W C')^-1 C V``, each
``n_nodes x T`` floats: above ``MINT_MAX_CELLS`` it falls back to WLS_STRUCT and
``Reconciliation.method`` says so. Hierarchies whose aggregates all overlap (a dense
``C W C'``) cost ``n_agg^3 / 3`` flops whatever the method.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg

from turnwise.errors import InvalidArgument

__all__ = [
    "BOTTOM_LEVEL",
    "DENSE_AGGREGATES",
    "MINT_MAX_CELLS",
    "TOTAL_LEVEL",
    "Hierarchy",
    "LevelMetric",
    "LevelScore",
    "ReconcileMethod",
    "ReconciledQuantiles",
    "Reconciliation",
    "aggregate",
    "build_hierarchy",
    "evaluate_levels",
    "node_matrix",
    "reconcile",
    "reconcile_quantiles",
    "reconcile_report",
    "seasonal_scale",
    "shrinkage_intensity",
]

BOTTOM_LEVEL = "bottom"
TOTAL_LEVEL = "total"
DENSE_AGGREGATES = 2_000
"""Up to this many aggregate nodes ``C W C'`` is factored densely (32 MB); above it with a
sparse LU, unless it is more than 10% full and at most 4x this size."""
MINT_MAX_CELLS = 25_000_000
"""MINT_SHRINK's size limit: ``n_nodes x min(T, n_nodes)`` residual cells (about 200 MB per
copy of the low-rank factor); above it MINT_SHRINK falls back to WLS_STRUCT."""
_LAMBDA_FLOOR = 1e-6  # keeps lambda diag(Sigma) + (1 - lambda) E E'/T positive definite
_VARIANCE_FLOOR = 1e-8  # zero variances are raised to this fraction of the mean variance


class ReconcileMethod(enum.Enum):
    BOTTOM_UP = "bottom-up"
    OLS = "ols"
    WLS_STRUCT = "wls-struct"
    MINT_SHRINK = "mint-shrink"


class LevelMetric(enum.Enum):
    MASE = "mase"
    RMSE = "rmse"


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """Nodes (aggregates first, then bottom), each node's level, and ``S`` (n_nodes x n_bottom)."""

    node_ids: tuple[str, ...]
    node_levels: tuple[str, ...]
    level_names: tuple[str, ...]
    summing: sp.csr_array

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_bottom(self) -> int:
        return int(self.summing.shape[1])

    @property
    def n_aggregates(self) -> int:
        return self.n_nodes - self.n_bottom

    @property
    def bottom_ids(self) -> tuple[str, ...]:
        return self.node_ids[self.n_aggregates :]

    def level_rows(self, level: str) -> np.ndarray:
        """Row indices of the nodes of ``level``."""
        rows = np.flatnonzero(np.asarray(self.node_levels) == level)
        if rows.size == 0:
            raise InvalidArgument("level", f"unknown level {level!r}; have {self.level_names}")
        return rows


@dataclass(frozen=True, eq=False)
class Reconciliation:
    """Coherent forecasts (n_nodes x horizon) and how they were made: ``method`` is the one
    used (WLS_STRUCT when MINT_SHRINK fell back), ``shrinkage`` MinT's lambda."""

    forecasts: np.ndarray
    requested: ReconcileMethod
    method: ReconcileMethod
    shrinkage: float | None

    @property
    def fell_back(self) -> bool:
        return self.method is not self.requested


@dataclass(frozen=True, eq=False)
class ReconciledQuantiles:
    """Reconciled mean (n_nodes x horizon) and quantiles (n_levels x n_nodes x horizon)."""

    mean: np.ndarray
    levels: tuple[float, ...]
    quantiles: np.ndarray
    method: ReconcileMethod


@dataclass(frozen=True)
class LevelScore:
    """Accuracy of one forecast set at one level; ``method`` None means the base forecasts."""

    level: str
    method: ReconcileMethod | None
    metric: LevelMetric
    value: float
    n_series: int


def _level_name(columns: Sequence[str]) -> str:
    return "/".join(columns) if columns else TOTAL_LEVEL


def _check_bottom(bottom: pd.DataFrame, levels: Sequence[Sequence[str]]) -> None:
    if "unique_id" not in bottom.columns or len(bottom) == 0:
        raise InvalidArgument("bottom", "needs a unique_id column and one row per bottom series")
    if bottom["unique_id"].duplicated().any():
        dup = bottom.loc[bottom["unique_id"].duplicated(), "unique_id"].iloc[0]
        raise InvalidArgument("bottom.unique_id", f"{dup!r} appears twice; one row per series")
    seen: set[frozenset[str]] = set()
    for i, cols in enumerate(levels):
        missing = [c for c in cols if c not in bottom.columns or c == "unique_id"]
        if missing:
            raise InvalidArgument(f"levels[{i}]", f"{missing} are not attribute columns of bottom")
        if bottom[list(cols)].isna().any().any():
            raise InvalidArgument(f"levels[{i}]", f"missing values in {list(cols)}")
        if frozenset(cols) in seen or len(set(cols)) != len(cols):
            raise InvalidArgument(f"levels[{i}]", f"{list(cols)} repeats a level or a column")
        seen.add(frozenset(cols))


def build_hierarchy(bottom: pd.DataFrame, levels: Sequence[Sequence[str]]) -> Hierarchy:
    """The hierarchy of ``bottom`` (one row per series) aggregated at each of ``levels``.

    Node ids: ``"total"`` for ``[]``, ``"region_id=R1/brand_id=B2"`` for a crossed level;
    bottom nodes keep their ``unique_id``. Ids must come out unique (an attribute value
    holding ``"="`` or ``"/"`` could make two nodes collide: that raises)."""
    _check_bottom(bottom, levels)
    n_bottom = len(bottom)
    ids: list[str] = []
    node_levels: list[str] = []
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for columns in levels:
        name = _level_name(columns)
        if columns:
            keys = bottom[list(columns)].astype(str)
            labels = keys.drop_duplicates().sort_values(list(columns))
            index = pd.MultiIndex.from_frame(labels)
            group = index.get_indexer(pd.MultiIndex.from_frame(keys))
            node_ids = [
                "/".join(f"{c}={v}" for c, v in zip(columns, row, strict=True))
                for row in labels.to_numpy()
            ]
        else:
            group, node_ids = np.zeros(n_bottom, dtype=np.int64), [TOTAL_LEVEL]
        rows.append(len(ids) + group)
        cols.append(np.arange(n_bottom))
        ids += node_ids
        node_levels += [name] * len(node_ids)
    n_agg = len(ids)
    ids += bottom["unique_id"].astype(str).tolist()
    node_levels += [BOTTOM_LEVEL] * n_bottom
    rows.append(n_agg + np.arange(n_bottom))
    cols.append(np.arange(n_bottom))
    level_names = tuple(dict.fromkeys(node_levels))
    if len(set(ids)) != len(ids) or len(level_names) != len(levels) + 1:
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].tolist()[:3]
        raise InvalidArgument("levels", f"node ids or level names collide: {dup}; rename them")
    r, c = np.concatenate(rows), np.concatenate(cols)
    summing = sp.csr_array((np.ones(r.size), (r, c)), shape=(len(ids), n_bottom))
    return Hierarchy(tuple(ids), tuple(node_levels), level_names, summing)


def aggregate(h: Hierarchy, df: pd.DataFrame) -> pd.DataFrame:
    """Long frame (unique_id, ds, y) of the bottom series -> long frame of every node (in
    ``h.node_ids`` order, then ds), each the sum per ds. A (series, ds) absent from ``df``
    counts as 0 (no sales); unknown ids, duplicates and missing ``y`` raise."""
    for col in ("unique_id", "ds", "y"):
        if col not in df.columns:
            raise InvalidArgument("df", f"needs columns unique_id, ds, y; {col!r} is missing")
    row = pd.Index(h.bottom_ids).get_indexer(pd.Index(df["unique_id"].astype(str)))
    if (row < 0).any():
        unknown = df["unique_id"].to_numpy()[row < 0][0]
        raise InvalidArgument("df.unique_id", f"{unknown!r} is not a bottom series of h")
    if df.duplicated(["unique_id", "ds"]).any():
        raise InvalidArgument("df", "duplicate (unique_id, ds) rows; one value per series and ds")
    y = df["y"].to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise InvalidArgument("df.y", "missing or infinite values; fill or drop them first")
    step, dates = pd.factorize(pd.DatetimeIndex(df["ds"]), sort=True)
    wide = np.zeros((h.n_bottom, len(dates)))
    wide[row, step] = y
    every = h.summing @ wide
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(h.node_ids, dtype=object), len(dates)),
            "ds": np.tile(np.asarray(dates, dtype="datetime64[ns]"), h.n_nodes),
            "y": every.ravel(),
        }
    )


def node_matrix(h: Hierarchy, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Long frame of every node (as ``aggregate`` returns) -> (n_nodes x T) array in
    ``h.node_ids`` order and its dates. Every node needs a value at every date."""
    wide = frame.pivot(index="unique_id", columns="ds", values="y")
    missing = set(h.node_ids) - set(wide.index)
    if missing:
        raise InvalidArgument("frame.unique_id", f"no rows for nodes {sorted(missing)[:3]}")
    values = wide.loc[list(h.node_ids)].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InvalidArgument("frame.y", "a node lacks a value at some ds")
    return values, pd.DatetimeIndex(wide.columns)


def _finite_residuals(h: Hierarchy, residuals: np.ndarray | None) -> np.ndarray:
    """(n_nodes, T) -> (T', n_nodes) keeping the time steps finite at every node."""
    if residuals is None:
        raise InvalidArgument("residuals", "MINT_SHRINK needs in-sample one-step residuals")
    e = np.asarray(residuals, dtype=float)
    if e.ndim != 2 or e.shape[0] != h.n_nodes:
        raise InvalidArgument("residuals", f"shape {e.shape}; expected ({h.n_nodes}, T)")
    e = e[:, np.isfinite(e).all(axis=0)]
    if e.shape[1] < 3:
        raise InvalidArgument("residuals", "fewer than 3 time steps finite at every node")
    return np.ascontiguousarray(e.T)


def shrinkage_intensity(residuals: np.ndarray) -> float:
    """Schafer-Strimmer lambda for shrinking the (uncentred, as in R's hts) residual
    covariance of ``residuals`` (n_series x T, finite) towards its diagonal, in [0, 1].

    ``lambda = sum_{i!=j} Var(r_ij) / sum_{i!=j} r_ij^2`` with ``r`` the correlations; the
    sums are taken through ``T x T`` Gram matrices, never ``n x n``. Series with zero
    variance have no correlations and are left out."""
    e = np.asarray(residuals, dtype=float).T
    t = e.shape[0]
    if t < 2 or not np.isfinite(e).all():
        raise InvalidArgument("residuals", "needs >= 2 finite time steps")
    var = np.mean(e**2, axis=0)
    xs = e[:, var > 0] / np.sqrt(var[var > 0])
    n = xs.shape[1]
    gram_sq = float(np.sum((xs @ xs.T) ** 2))  # = sum_ij (sum_t xs_ti xs_tj)^2
    sq = xs**2
    sum_w2 = float(np.sum(sq.sum(axis=1) ** 2) - np.sum(sq**2))  # sum_{i!=j} sum_t w_tij^2
    sum_w_sq = gram_sq - n * t**2  # sum_{i!=j} (sum_t w_tij)^2
    var_r = (sum_w2 - sum_w_sq / t) / (t * (t - 1))
    sum_r2 = sum_w_sq / t**2
    if sum_r2 <= 0:
        return 1.0
    return float(min(max(var_r / sum_r2, 0.0), 1.0))


def _factor(m0: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Solver for the symmetric positive definite ``m0`` (sparse): dense Cholesky when it is
    small or more than 10% full, else sparse LU (store x trim gives under 1% fill)."""
    n = m0.shape[0]
    if n <= DENSE_AGGREGATES or (n <= 4 * DENSE_AGGREGATES and m0.nnz > 0.1 * n * n):
        chol = scipy.linalg.cho_factor(m0.toarray(), lower=True, check_finite=False)
        return lambda rhs: np.asarray(scipy.linalg.cho_solve(chol, rhs, check_finite=False))
    lu = scipy.sparse.linalg.splu(sp.csc_matrix(m0), permc_spec="MMD_AT_PLUS_A")
    return lambda rhs: np.asarray(lu.solve(rhs))


def _project_bottom(h: Hierarchy, base: np.ndarray, d: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bottom rows of ``y^ - W C' (C W C')^-1 C y^`` for ``W = diag(d) + v v'``."""
    k = h.n_aggregates
    agg = h.summing[:k]
    d = np.maximum(d, _VARIANCE_FLOOR * float(np.mean(d)))
    m0 = sp.diags_array(d[:k]) + (agg * d[k:]) @ agg.T
    solve = _factor(m0)
    r = base[:k] - agg @ base[k:]  # C y^: how far each aggregate is from its bottom sum
    z = solve(r)
    if v.shape[1]:
        u = v[:k] - agg @ v[k:]  # C V
        y_u = solve(u)
        inner = np.eye(u.shape[1]) + u.T @ y_u
        z = z - y_u @ scipy.linalg.solve(inner, u.T @ z, assume_a="pos")
        return np.asarray(base[k:] + d[k:, None] * (agg.T @ z) - v[k:] @ (u.T @ z))
    return np.asarray(base[k:] + d[k:, None] * (agg.T @ z))


def _check_base(h: Hierarchy, base: np.ndarray) -> np.ndarray:
    b = np.asarray(base, dtype=float)
    if b.ndim != 2 or b.shape[0] != h.n_nodes:
        raise InvalidArgument("base", f"shape {b.shape}; expected ({h.n_nodes}, horizon)")
    if not np.isfinite(b).all():
        raise InvalidArgument("base", "non-finite forecasts; every node needs a number")
    return b


def reconcile_report(
    h: Hierarchy,
    base: np.ndarray,
    method: ReconcileMethod,
    residuals: np.ndarray | None = None,
    *,
    nonnegative: bool = False,
) -> Reconciliation:
    """Reconcile ``base`` (n_nodes x horizon, ``h.node_ids`` order) with ``method``.

    ``residuals`` (n_nodes x T in-sample one-step errors; steps not finite at every node are
    dropped) are needed by MINT_SHRINK only. ``nonnegative`` clips the reconciled bottom at
    0 and re-aggregates: still coherent (sums of the clipped bottom), though no longer the
    exact minimiser of the method (a heuristic, not the constrained MinT of the 2020 paper)."""
    b = _check_base(h, base)
    if method is ReconcileMethod.BOTTOM_UP or h.n_aggregates == 0:
        bottom, used, shrinkage = b[h.n_aggregates :], method, None
    elif method is ReconcileMethod.MINT_SHRINK:
        bottom, used, shrinkage = _mint_shrink(h, b, _finite_residuals(h, residuals))
    else:
        bottom, used, shrinkage = _diagonal(h, b, method), method, None
    if nonnegative:
        bottom = np.maximum(bottom, 0.0)
    return Reconciliation(np.asarray(h.summing @ bottom), method, used, shrinkage)


def _diagonal(h: Hierarchy, b: np.ndarray, method: ReconcileMethod) -> np.ndarray:
    """OLS (``W = I``) or WLS_STRUCT (``W = diag(S 1)``, bottom series under each node)."""
    ones = np.ones(h.n_nodes)
    d = ones if method is ReconcileMethod.OLS else np.asarray(h.summing @ np.ones(h.n_bottom))
    return _project_bottom(h, b, d, np.zeros((h.n_nodes, 0)))


def _mint_shrink(
    h: Hierarchy, b: np.ndarray, e: np.ndarray
) -> tuple[np.ndarray, ReconcileMethod, float | None]:
    """MinT with ``W = lambda diag(Sigma) + (1 - lambda) Sigma``, ``Sigma = E'E / T``; WLS_STRUCT
    when the low-rank factor would pass ``MINT_MAX_CELLS``."""
    t = e.shape[0]
    if not np.any(e):
        raise InvalidArgument("residuals", "all zero: no error covariance to estimate")
    if h.n_nodes * min(t, h.n_nodes) > MINT_MAX_CELLS:
        return _diagonal(h, b, ReconcileMethod.WLS_STRUCT), ReconcileMethod.WLS_STRUCT, None
    shrinkage = shrinkage_intensity(e.T)
    lam = max(shrinkage, _LAMBDA_FLOOR)
    v = e.T * np.sqrt((1.0 - lam) / t) if t < h.n_nodes else _low_rank(e, 1.0 - lam)
    bottom = _project_bottom(h, b, lam * np.mean(e**2, axis=0), v)
    return bottom, ReconcileMethod.MINT_SHRINK, shrinkage


def _low_rank(e: np.ndarray, weight: float) -> np.ndarray:
    """``V`` with ``V V' = weight E'E / T`` of rank <= n_nodes, for T >= n_nodes."""
    _, s, vt = np.linalg.svd(e, full_matrices=False)
    return np.asarray(vt.T * (s * np.sqrt(weight / e.shape[0])))


def reconcile(
    h: Hierarchy,
    base: np.ndarray,
    method: ReconcileMethod,
    residuals: np.ndarray | None = None,
    *,
    nonnegative: bool = False,
) -> np.ndarray:
    """Coherent forecasts (n_nodes x horizon) = ``S @ bottom``; see ``reconcile_report``,
    which also says which method ran (MINT_SHRINK falls back above ``MINT_MAX_CELLS``)."""
    return reconcile_report(h, base, method, residuals, nonnegative=nonnegative).forecasts


def reconcile_quantiles(
    h: Hierarchy,
    mean: np.ndarray,
    quantiles: np.ndarray,
    levels: Sequence[float],
    method: ReconcileMethod,
    residuals: np.ndarray | None = None,
    *,
    nonnegative: bool = False,
) -> ReconciledQuantiles:
    """Practical quantile reconciliation: the mean is reconciled with ``method``, and each
    level's base quantiles (``quantiles``: n_levels x n_nodes x horizon) go through the same
    linear projection, then are sorted across levels per node and step (a projection with
    negative weights can cross them); ``nonnegative`` clips them at 0.

    An approximation: the quantile of a sum is not the sum of quantiles, and the sorted
    quantile slices need not add up. Exact probabilistic reconciliation projects joint
    samples (Panagiotelis et al. 2023). Only ``mean`` is coherent."""
    lv = tuple(float(x) for x in levels)
    q = np.asarray(quantiles, dtype=float)
    m = _check_base(h, mean)
    if not lv or any(not 0.0 < x < 1.0 for x in lv) or list(lv) != sorted(set(lv)):
        raise InvalidArgument("levels", f"need increasing levels in (0, 1), got {lv}")
    if q.shape != (len(lv), *m.shape):
        raise InvalidArgument("quantiles", f"shape {q.shape}; expected {(len(lv), *m.shape)}")
    horizon = m.shape[1]
    stacked = np.concatenate([m, *q], axis=1)
    done = reconcile_report(h, stacked, method, residuals)
    out = done.forecasts.reshape(h.n_nodes, len(lv) + 1, horizon).transpose(1, 0, 2)
    mean_out, q_out = out[0], np.sort(out[1:], axis=0)
    if nonnegative:
        bottom = np.maximum(mean_out[h.n_aggregates :], 0.0)
        mean_out, q_out = np.asarray(h.summing @ bottom), np.maximum(q_out, 0.0)
    return ReconciledQuantiles(mean_out, lv, q_out, done.method)


def seasonal_scale(history: np.ndarray, m: int) -> np.ndarray:
    """MASE scale per node: mean absolute lag-``m`` difference of each row of ``history``
    (n_nodes x T), as ``forecasting.metrics.mase`` uses; nan when ``T <= m``."""
    x = np.asarray(history, dtype=float)
    if m < 1 or x.ndim != 2:
        raise InvalidArgument("m", f"seasonal lag must be >= 1 on 2-D history, got {m}")
    if x.shape[1] <= m:
        return np.full(x.shape[0], np.nan)
    return np.asarray(np.mean(np.abs(x[:, m:] - x[:, :-m]), axis=1))


def _level_value(err: np.ndarray, metric: LevelMetric, scale: np.ndarray | None) -> float:
    if metric is LevelMetric.RMSE:
        return float(np.sqrt(np.mean(err**2)))
    assert scale is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        per_node = np.mean(np.abs(err), axis=1) / scale
    finite = per_node[np.isfinite(per_node)]
    return float(np.mean(finite)) if finite.size else float("nan")


def evaluate_levels(
    h: Hierarchy,
    actual: np.ndarray,
    base: np.ndarray,
    reconciled: Mapping[ReconcileMethod, np.ndarray],
    *,
    metric: LevelMetric = LevelMetric.MASE,
    scale: np.ndarray | None = None,
) -> list[LevelScore]:
    """Accuracy per level of the base forecasts (``method`` None) and of each reconciled
    set, all (n_nodes x horizon) in ``h.node_ids`` order, in ``h.level_names`` order.

    MASE: mean over the level's nodes of ``mean|y - f| / scale`` (``scale`` per node, e.g.
    ``seasonal_scale(history, 4)``; nodes with a zero or nan scale are skipped). RMSE:
    root of the mean squared error pooled over the level's nodes and steps."""
    y = _check_base(h, actual)
    if metric is LevelMetric.MASE and (scale is None or np.shape(scale) != (h.n_nodes,)):
        raise InvalidArgument("scale", f"MASE needs one scale per node ({h.n_nodes},)")
    sets: list[tuple[ReconcileMethod | None, np.ndarray]] = [(None, base)]
    sets += list(reconciled.items())
    scores: list[LevelScore] = []
    for level in h.level_names:
        rows = h.level_rows(level)
        sc = None if scale is None else np.asarray(scale, dtype=float)[rows]
        for method, forecast in sets:
            f = np.asarray(forecast, dtype=float)
            if f.shape != y.shape:
                raise InvalidArgument("forecast", f"shape {f.shape}; expected {y.shape}")
            value = _level_value(y[rows] - f[rows], metric, sc)
            scores.append(LevelScore(level, method, metric, value, int(rows.size)))
    return scores
