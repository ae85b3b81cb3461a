"""The pick-up mix as a mixed-integer program: ``build_model(problem) -> (model, index)``.

Variables (all indexed in ``PickupIndex``):

- ``n[s,t,w]`` integer, the order of store ``s``, trim ``t``, week ``w`` in order multiples
  (``order_multiple[t]`` cars each); only for authorised cells the OEM offers that week and
  whose days-of-supply cap leaves room;
- ``y[s,t,w,k]`` in [0, 1], how much of the ``k``-th car of the cumulative stock position of
  week ``w`` is expected to sell by the end of week ``w``; its slope is the ``k``-th
  increment of the newsvendor curve ``E[min(D_1..w, k)]`` (``allocation.demand_curve``), so
  cumulative expected sales are ``S[s,t,w] = E[min(D, base)] + sum_k slope_k y_k``. The
  curve is concave and every ``S`` is rewarded, so the segments fill in order and the LP is
  exact at integer stock;
- ``u[j]`` >= 0, the shortfall of soft brand target ``j``.

With ``A[s,t,w]`` the cumulative supply (stock, arrivals and orders up to week ``w``):

- ``sales``:  ``sum_k y_k <= A - base`` (the segments above the no-order position);
- ``offer``:  ``sum_s orders[s,t,w] <= offer[t,w]``;
- ``lot`` / ``credit`` / ``group_credit``: the cars (at cost) on the lot when week ``w``'s
  orders arrive, ``A_w - S_(w-1)``, within lot space and credit. Where the stock already held
  exceeds a limit the limit is raised to it, so that no order is always feasible;
- ``supply_cap``: the projected days of supply after an order, ``(A_w - mean demand up to
  w - 1) / mean daily demand``, at most ``max_days_of_supply`` (not for the slow trims of
  bundles, which are taken for their hot trims' sake);
- ``bundle``: by each week, ``hot <= k * slow`` summed over stores;
- ``target``: a brand's orders over its weeks plus ``u`` at least the target (``u`` absent
  when the target is hard).

Objective (maximise, CNY): margin x ``S`` at the end of the horizon, minus the weekly carrying
cost (holding plus credit interest) of every car on the lot at the end of each week
(``A_w - S_w``), minus the penalty of each soft target's shortfall. The last week's ``S``
counts the demand of ``cover_weeks`` more weeks (the last week's repeated): a car left at
the end of the horizon is worth its chance to sell soon after, so that the plan does not
starve its last weeks because the horizon ends (the plan is re-made before then); the cars
still unsold after the cover weeks are carried through them (the cars that sell during the
cover weeks are not charged for them: an underestimate of the carrying cost).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.math_opt.model_pb2 import ModelProto

from allocation.demand_curve import cumulative_quantiles, expected_sales, support_top
from allocation.highs import model_proto
from allocation.pickup_problem import PickupProblem

__all__ = [
    "CREDIT_UNIT",
    "PickupIndex",
    "RowKind",
    "build_model",
    "sales_curves",
    "supply_caps",
]

_UNCAPPED = 2**40
"""The supply cap of a trim that has none (the slow side of a bundle)."""
_MIN_SLOPE = 1e-4
"""Segments whose sell-through probability is below this are left out (worth < 0.01% of a
margin each); the expected sales they would add are under 1e-4 cars per segment."""
CREDIT_UNIT = 1e4
"""Credit rows are written in units of 10,000 CNY, so that the matrix stays well scaled."""


class RowKind(enum.Enum):
    SALES = "sales"
    OFFER = "offer"
    LOT = "lot"
    CREDIT = "credit"
    GROUP_CREDIT = "group_credit"
    SUPPLY_CAP = "supply_cap"
    BUNDLE = "bundle"
    TARGET = "target"


@dataclass(frozen=True, eq=False)
class PickupIndex:
    """What each variable and row of the model stands for.

    Columns: ``n`` orders first (``order_cells`` rows are ``(s, t, w)``), then the sales
    segments (``segment_cells``, ``segment_slopes``), then the shortfalls of soft targets
    (``shortfall_targets``: indices into ``problem.targets``). Rows: ``row_kinds`` and
    ``row_keys`` (``(s, t, w)`` for sales and supply caps, ``(t, w, -1)`` offer, ``(s, w, -1)``
    lot and credit, ``(w, -1, -1)`` group credit, ``(b, w, -1)`` bundle, ``(j, -1, -1)``
    target) with their bounds.
    """

    order_cells: np.ndarray
    order_multiple: np.ndarray
    order_upper: np.ndarray
    segment_cells: np.ndarray
    segment_units: np.ndarray
    segment_slopes: np.ndarray
    shortfall_targets: np.ndarray
    row_kinds: tuple[RowKind, ...]
    row_keys: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sp.csr_matrix
    objective: np.ndarray
    objective_constant: float

    @property
    def n_orders(self) -> int:
        return int(self.order_cells.shape[0])

    @property
    def n_segments(self) -> int:
        return int(self.segment_cells.shape[0])

    @property
    def n_columns(self) -> int:
        return self.n_orders + self.n_segments + int(self.shortfall_targets.size)

    @property
    def integer(self) -> np.ndarray:
        """Which columns are integer: the orders."""
        return np.arange(self.n_columns) < self.n_orders

    @property
    def column_upper(self) -> np.ndarray:
        """Upper bounds of the columns (all lower bounds are 0)."""
        return np.concatenate(
            [
                self.order_upper,
                np.ones(self.n_segments),
                np.full(self.shortfall_targets.size, np.inf),
            ]
        )

    def rows_of(self, kind: RowKind) -> np.ndarray:
        return np.flatnonzero(np.array([k is kind for k in self.row_kinds], dtype=bool))

    def columns_for(self, problem: PickupProblem, n: np.ndarray) -> np.ndarray:
        """All column values for the orders ``n`` (in order multiples, one per order column):
        each sales segment filled as far as the stock reaches (the best the LP can do, the
        curve being concave) and each soft target's shortfall."""
        cars = np.zeros(problem.shape)
        cars[tuple(self.order_cells.T)] = n * self.order_multiple
        position = problem.base_position() + np.cumsum(cars, axis=2)
        seg = self.segment_cells
        y = np.clip(position[tuple(seg.T)] - self.segment_units, 0.0, 1.0)
        short = np.zeros(self.shortfall_targets.size)
        brands = problem.brand_index()
        for i, j in enumerate(self.shortfall_targets):
            target = problem.targets[j]
            got = cars[:, brands[target.brand_id]][:, :, list(target.weeks)].sum()
            short[i] = max(0.0, target.units - got)
        return np.concatenate([n, y, short])

    def value_of(self, values: np.ndarray) -> float:
        """The objective (CNY) of column values."""
        return float(self.objective @ values + self.objective_constant)

    def is_feasible(self, values: np.ndarray, tol: float) -> bool:
        """Whether column values keep every row and column bound (``tol`` relative)."""
        activity = self.matrix @ values
        slack = tol * np.maximum(1.0, np.abs(activity))
        rows_ok = (activity <= self.row_upper + slack) & (activity >= self.row_lower - slack)
        upper = self.column_upper
        return bool(rows_ok.all() and (values >= -tol).all() and (values <= upper + tol).all())

    def orders_from(self, values: np.ndarray) -> np.ndarray:
        """Column values -> cars ordered per order column."""
        n = np.round(values[: self.n_orders]).astype(np.int64)
        return np.asarray(n * self.order_multiple, dtype=np.int64)


def supply_caps(problem: PickupProblem, mean: np.ndarray, base: np.ndarray) -> np.ndarray:
    """(S, T, W) the most cars that may be ordered up to and including week ``w`` so that the
    projected days of supply stays within ``max_days_of_supply``."""
    n_w = len(problem.weeks)
    daily = mean.sum(axis=2, keepdims=True) / (7.0 * n_w)
    before = np.concatenate([np.zeros_like(mean[:, :, :1]), np.cumsum(mean, axis=2)[:, :, :-1]], 2)
    room = problem.max_days_of_supply * daily + before - base
    return np.asarray(np.maximum(0.0, np.floor(room + 1e-9)), dtype=np.int64)


def sales_curves(
    problem: PickupProblem, cells: np.ndarray, most: int, cover: bool = False
) -> np.ndarray:
    """(C, W, K + 1) ``E[min(D_1..w, k)]`` of the cells ``(s, t)`` (rows of ``cells``) for
    ``k = 0..K``: up to ``most`` cars, or to the top of the widest support when that is lower
    (the curves are flat from there). With ``cover`` the last week's demand runs on for the
    problem's ``cover_weeks`` (its quantiles repeated): the stock left at the end of the
    horizon may still sell then."""
    demand = problem.demand[cells[:, 0], cells[:, 1]]
    extra = problem.cover_weeks if cover else 0
    if extra:
        demand = np.concatenate([demand, np.repeat(demand[:, -1:], extra, axis=1)], axis=1)
    if problem.levels.size >= 2:
        cumulative = cumulative_quantiles(problem.levels, demand)
    else:  # one level: no spread to read; the weeks' medians add up
        cumulative = np.cumsum(demand, axis=1)
    if extra:
        cumulative = np.concatenate([cumulative[:, : -extra - 1], cumulative[:, -1:]], axis=1)
    top = float(support_top(problem.levels, cumulative).max(initial=0.0))
    return expected_sales(problem.levels, cumulative, min(most, int(np.ceil(top)) + 1))


def build_model(problem: PickupProblem) -> tuple[ModelProto, PickupIndex]:
    """The MIP of the module docstring and the index of its columns and rows."""
    # --- data -------------------------------------------------------------------------
    n_s, n_t, n_w = problem.shape
    mult = problem.order_multiple.astype(np.int64)
    base = problem.base_position()
    mean = problem.mean_weekly_demand()
    caps = supply_caps(problem, mean, base)
    # the slow side of a bundle is taken for the hot trim's sake, demand or not: no cap
    slow = sorted({b.slow_trim for b in problem.bundles})
    caps[:, slow, :] = _UNCAPPED
    # a week's order counts in every later cumulative cap
    cap_from_here = np.minimum.accumulate(caps[:, :, ::-1], axis=2)[:, :, ::-1]
    units_up = np.minimum(problem.offer[None, :, :], problem.lot_capacity[:, None, None])
    units_up = np.minimum(units_up, cap_from_here)
    n_up = np.where(problem.authorised[:, :, None], units_up // mult[None, :, None], 0)
    order_cells = np.argwhere(n_up >= 1)
    order_upper = n_up[tuple(order_cells.T)].astype(float)
    order_mult = mult[order_cells[:, 1]]
    n_orders = order_cells.shape[0]
    order_col = np.full((n_s, n_t, n_w), -1, dtype=np.int64)
    order_col[tuple(order_cells.T)] = np.arange(n_orders)
    most = base + np.cumsum(n_up * mult[None, :, None], axis=2)  # highest reachable position

    demand_cells = np.argwhere(problem.authorised & (problem.demand[..., -1] > 0).any(axis=2))
    top = int(most[tuple(demand_cells.T)].max()) if demand_cells.size else 0
    curves = (
        sales_curves(problem, demand_cells, top, cover=True)
        if demand_cells.size
        else np.zeros((0, n_w, 1))
    )
    sales_at_base = np.zeros((n_s, n_t, n_w))
    cell_base = base[tuple(demand_cells.T)] if demand_cells.size else np.zeros((0, n_w), np.int64)
    if demand_cells.size:
        clipped = np.minimum(cell_base, curves.shape[2] - 1)
        at = np.take_along_axis(curves, clipped[:, :, None], axis=2)[:, :, 0]
        sales_at_base[tuple(demand_cells.T)] = at

    # --- variables: orders, sales segments, shortfalls ------------------------------------
    seg_cell, seg_week, seg_k, seg_slope = _segments(demand_cells, curves, cell_base, most)
    segment_cells = (
        np.column_stack([demand_cells[seg_cell, 0], demand_cells[seg_cell, 1], seg_week])
        .astype(np.int64)
        .reshape(-1, 3)
    )
    n_segments = seg_slope.size
    soft = np.array([j for j, g in enumerate(problem.targets) if not g.hard], dtype=np.int64)
    n_cols = n_orders + n_segments + soft.size
    seg0, short0 = n_orders, n_orders + n_segments

    margin = problem.margin_cny
    carry = problem.weekly_carrying_cny
    # weeks of carrying per end-of-week stock: 1, and for the last week 1 + cover_weeks (the
    # cars still unsold when the cover weeks end are carried through them)
    weeks_carried = np.ones(n_w)
    weeks_carried[-1] += problem.cover_weeks
    objective = np.zeros(n_cols)
    seg_trim = segment_cells[:, 1]
    objective[seg0:short0] = seg_slope * (
        carry[seg_trim] * weeks_carried[seg_week]
        + np.where(seg_week == n_w - 1, 1.0, 0.0) * margin[seg_trim]
    )
    carried_from = np.cumsum(weeks_carried[::-1])[::-1]  # weeks carried from week w on
    objective[:n_orders] = -carry[order_cells[:, 1]] * order_mult * carried_from[order_cells[:, 2]]
    objective[short0:] = [-problem.targets[j].penalty_cny_per_unit for j in soft]
    constant = float((margin[None, :] * sales_at_base[:, :, -1]).sum())
    held_end = (base - sales_at_base) * weeks_carried[None, None, :]
    constant -= float((carry[None, :, None] * held_end).sum())
    lower = np.zeros(n_cols)
    upper = np.concatenate([order_upper, np.ones(n_segments), np.full(soft.size, np.inf)])

    # --- constraints ------------------------------------------------------------------
    rows = _Rows()
    # order var v counts in the cumulative rows of every week from its own on
    rep = np.repeat(np.arange(n_orders), n_w - order_cells[:, 2])
    rep_week = order_cells[rep, 2] + _ramp(n_w - order_cells[:, 2])
    rep_s, rep_t = order_cells[rep, 0], order_cells[rep, 1]
    rep_cars = order_mult[rep].astype(float)

    # sales: sum_k y[s,t,w,k] - cumulative orders[s,t,w] <= 0
    sales_keys = np.unique(segment_cells, axis=0) if n_segments else np.zeros((0, 3), np.int64)
    sales_row = np.full((n_s, n_t, n_w), -1, dtype=np.int64)
    first = rows.add(RowKind.SALES, sales_keys, -np.inf, np.zeros(len(sales_keys)))
    sales_row[tuple(sales_keys.T)] = first + np.arange(len(sales_keys))
    rows.terms(sales_row[tuple(segment_cells.T)], seg0 + np.arange(n_segments), 1.0)
    r = sales_row[rep_s, rep_t, rep_week]
    rows.terms(r[r >= 0], rep[r >= 0], -rep_cars[r >= 0])

    # offer: sum_s orders[s,t,w] <= offer[t,w], where the orders could exceed it
    offered = np.zeros((n_t, n_w))
    np.add.at(offered, (order_cells[:, 1], order_cells[:, 2]), order_upper * order_mult)
    offer_keys = np.argwhere(offered > problem.offer)
    offer_row = np.full((n_t, n_w), -1, dtype=np.int64)
    first = rows.add(RowKind.OFFER, _pad(offer_keys), -np.inf, problem.offer[tuple(offer_keys.T)])
    offer_row[tuple(offer_keys.T)] = first + np.arange(len(offer_keys))
    r = offer_row[order_cells[:, 1], order_cells[:, 2]]
    rows.terms(r[r >= 0], np.flatnonzero(r >= 0), order_mult[r >= 0].astype(float))

    # lot and credit: the cars on the lot when week w's orders arrive
    prev_sales = np.concatenate([np.zeros((n_s, n_t, 1)), sales_at_base[:, :, :-1]], axis=2)
    held = base - prev_sales  # (S, T, W) with no orders and every sale made
    has_orders = (
        np.cumsum(
            np.bincount(order_cells[:, 0] * n_w + order_cells[:, 2], minlength=n_s * n_w).reshape(
                n_s, n_w
            ),
            axis=1,
        )
        > 0
    )
    seg_next = seg_week + 1 < n_w  # segments of week w-1 free space in week w
    for kind, weight, limit in (
        (RowKind.LOT, np.ones(n_t), problem.lot_capacity.astype(float)),
        (
            RowKind.CREDIT,
            problem.cost_cny / CREDIT_UNIT,
            problem.credit_limit_cny / CREDIT_UNIT,
        ),
    ):
        used = (held * weight[None, :, None]).sum(axis=1)  # (S, W)
        keys = np.argwhere(has_orders)
        rhs = np.maximum(limit[keys[:, 0]], used[tuple(keys.T)]) - used[tuple(keys.T)]
        row = np.full((n_s, n_w), -1, dtype=np.int64)
        first = rows.add(kind, _pad(keys), -np.inf, rhs)
        row[tuple(keys.T)] = first + np.arange(len(keys))
        r = row[rep_s, rep_week]
        rows.terms(r[r >= 0], rep[r >= 0], (rep_cars * weight[rep_t])[r >= 0])
        r = row[segment_cells[seg_next, 0], seg_week[seg_next] + 1]
        cols = seg0 + np.flatnonzero(seg_next)
        coef = -(seg_slope * weight[seg_trim])[seg_next]
        rows.terms(r[r >= 0], cols[r >= 0], coef[r >= 0])
        if kind is RowKind.CREDIT and problem.group_credit_limit_cny is not None:
            weeks = np.flatnonzero(has_orders.any(axis=0))
            total = used.sum(axis=0)[weeks]
            rhs = np.maximum(problem.group_credit_limit_cny / CREDIT_UNIT, total) - total
            grow = np.full(n_w, -1, dtype=np.int64)
            first = rows.add(RowKind.GROUP_CREDIT, _pad(weeks[:, None]), -np.inf, rhs)
            grow[weeks] = first + np.arange(weeks.size)
            r = grow[rep_week]
            rows.terms(r[r >= 0], rep[r >= 0], (rep_cars * weight[rep_t])[r >= 0])
            r = grow[np.minimum(seg_week + 1, n_w - 1)]
            ok = seg_next & (r >= 0)
            rows.terms(r[ok], seg0 + np.flatnonzero(ok), -(seg_slope * weight[seg_trim])[ok])

    # supply cap: cumulative orders within the days-of-supply cap, where it can bind
    reach = np.cumsum(n_up, axis=2)
    cap_n = caps // mult[None, :, None]
    cap_keys = np.argwhere(problem.authorised[:, :, None] & (reach > cap_n) & (reach > 0))
    cap_row = np.full((n_s, n_t, n_w), -1, dtype=np.int64)
    first = rows.add(RowKind.SUPPLY_CAP, cap_keys, -np.inf, cap_n[tuple(cap_keys.T)].astype(float))
    cap_row[tuple(cap_keys.T)] = first + np.arange(len(cap_keys))
    r = cap_row[rep_s, rep_t, rep_week]
    rows.terms(r[r >= 0], rep[r >= 0], 1.0)

    # bundles: by each week, hot orders <= k x slow orders (group-wide)
    for b, bundle in enumerate(problem.bundles):
        hot = rep_t == bundle.hot_trim
        weeks = np.unique(rep_week[hot])
        if weeks.size == 0:
            continue
        brow = np.full(n_w, -1, dtype=np.int64)
        keys = np.column_stack([np.full(weeks.size, b), weeks])
        first = rows.add(RowKind.BUNDLE, _pad(keys), -np.inf, np.zeros(weeks.size))
        brow[weeks] = first + np.arange(weeks.size)
        for trim, sign in ((bundle.hot_trim, 1.0), (bundle.slow_trim, -bundle.hot_units_per_slow)):
            sel = (rep_t == trim) & (brow[rep_week] >= 0)
            rows.terms(brow[rep_week[sel]], rep[sel], sign * rep_cars[sel])

    # targets: a brand's orders over the target's weeks (+ shortfall) >= the target
    brands = problem.brand_index()
    for j, target in enumerate(problem.targets):
        target_row = rows.add(
            RowKind.TARGET, np.array([[j, -1, -1]]), np.array([float(target.units)]), np.inf
        )
        sel = np.isin(order_cells[:, 1], brands[target.brand_id]) & np.isin(
            order_cells[:, 2], target.weeks
        )
        rows.terms(
            np.full(int(sel.sum()), target_row), np.flatnonzero(sel), order_mult[sel].astype(float)
        )
        if not target.hard:
            rows.terms(
                np.array([target_row]), np.array([short0 + int(np.flatnonzero(soft == j)[0])]), 1.0
            )

    # --- the model ----------------------------------------------------------------------
    matrix = rows.matrix(n_cols)
    model = model_proto(
        lower, upper, objective, rows.lower(), rows.upper(), matrix, n_orders, constant
    )
    index = PickupIndex(
        order_cells=order_cells,
        order_multiple=order_mult,
        order_upper=order_upper,
        segment_cells=segment_cells,
        segment_units=seg_k,
        segment_slopes=seg_slope,
        shortfall_targets=soft,
        row_kinds=tuple(rows.kinds),
        row_keys=rows.keys(),
        row_lower=rows.lower(),
        row_upper=rows.upper(),
        matrix=matrix,
        objective=objective,
        objective_constant=constant,
    )
    return model, index


def _segments(
    cells: np.ndarray, curves: np.ndarray, cell_base: np.ndarray, most: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The curve segments between each cell-week's no-order position and its highest
    reachable one, with a slope above ``_MIN_SLOPE``: (cell, week, k, slope) arrays."""
    if cells.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0)
    slopes = np.diff(curves, axis=2)  # (C, W, K)
    k = np.arange(slopes.shape[2])
    hi = most[tuple(cells.T)]  # (C, W)
    keep = (k[None, None, :] >= cell_base[:, :, None]) & (k[None, None, :] < hi[:, :, None])
    keep &= slopes > _MIN_SLOPE
    c, w, kk = np.nonzero(keep)
    return c, w, kk, slopes[c, w, kk]


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count c, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.asarray(np.arange(total) - starts, dtype=np.int64)


def _pad(keys: np.ndarray) -> np.ndarray:
    """Row keys padded with -1 to three columns."""
    keys = np.asarray(keys, dtype=np.int64)
    # no rows: reshape(0, -1) cannot infer the width
    keys = keys.reshape(len(keys), -1) if keys.size else np.zeros((len(keys), 0), np.int64)
    return np.hstack([keys, np.full((len(keys), 3 - keys.shape[1]), -1, dtype=np.int64)])


class _Rows:
    """Rows and their terms, gathered as arrays and turned into one CSR matrix."""

    def __init__(self) -> None:
        self.kinds: list[RowKind] = []
        self._keys: list[np.ndarray] = []
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []

    def add(self, kind: RowKind, keys: np.ndarray, lower: object, upper: object) -> int:
        """Append ``len(keys)`` rows; return the index of the first."""
        first = len(self.kinds)
        n = len(keys)
        self.kinds += [kind] * n
        self._keys.append(keys.reshape(n, 3).astype(np.int64))
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        return first

    def terms(self, rows: np.ndarray, cols: np.ndarray, values: object) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self._r.append(rows)
        self._c.append(np.asarray(cols, dtype=np.int64))
        self._v.append(np.broadcast_to(np.asarray(values, dtype=float), rows.shape).copy())

    def keys(self) -> np.ndarray:
        return np.vstack(self._keys) if self._keys else np.zeros((0, 3), dtype=np.int64)

    def lower(self) -> np.ndarray:
        return np.concatenate(self._lower) if self._lower else np.zeros(0)

    def upper(self) -> np.ndarray:
        return np.concatenate(self._upper) if self._upper else np.zeros(0)

    def matrix(self, n_cols: int) -> sp.csr_matrix:
        if not self._r:
            return sp.csr_matrix((len(self.kinds), n_cols))
        coo = sp.coo_matrix(
            (np.concatenate(self._v), (np.concatenate(self._r), np.concatenate(self._c))),
            shape=(len(self.kinds), n_cols),
        )
        return coo.tocsr()
