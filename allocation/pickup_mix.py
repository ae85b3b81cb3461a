"""The pick-up mix solver: ``solve(problem, limits, hint) -> PickupSolution``.

Data -> variables -> constraints -> objective are ``pickup_model.build_model``; this module
solves that model within the caller's limits and extracts the plan. Every solve is HiGHS
through OR-Tools MathOpt (``allocation.highs``: true duals, hints, the incumbent kept at a
time limit):

1. **LP relaxation**: its optimum bounds every plan, so the gap reported is proven; its
   duals explain the plan (``pickup_explain``). An infeasible LP means the hard brand
   targets cannot be met: the result is INFEASIBLE with ``pickup_explain.diagnose``.
2. **Warm start** (when a previous plan is given as ``hint``): the hint, cut to the new
   bounds, is repaired by a small MIP in which only the columns of the rows it breaks may
   move; when the result is within the requested gap of the new bound no search runs.
3. **LP-guided neighbourhood**: the LP is integral in about 97% of the order columns
   (concave curves, few coupling rows), so those are fixed at their LP values (the hot
   orders of bundles that rounding down breaks are first cut until the bundles hold) and a
   small MIP decides the fractional ones, folded into a model of what is left to decide.
4. **Full MIP** with what time is left, started from the best plan so far, only when no
   plan within the gap was found; its proven bound tightens the LP's.

Status: OPTIMAL when the best plan is within ``limits.relative_gap`` of the best bound,
TIME_LIMIT when the time ran out before that, FEASIBLE when the search ended without it.
``limits.workers`` does not apply: MathOpt sets no thread count for HiGHS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.math_opt.model_pb2 import ModelProto

from allocation.highs import HighsStatus, model_proto, solve_highs, solve_lp
from allocation.pickup_model import PickupIndex, RowKind, build_model
from allocation.pickup_problem import PickupProblem
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus, relative_gap

__all__ = ["LpRelaxation", "PickupSolution", "solve", "solve_relaxation"]

_FEASIBILITY_TOL = 1e-6
_INTEGRAL_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class LpRelaxation:
    """The LP optimum: its value (a bound on every plan), column values and row duals."""

    feasible: bool
    objective: float
    values: np.ndarray
    duals: np.ndarray


@dataclass(frozen=True, eq=False)
class PickupSolution:
    """The plan and how the solve ended. ``orders`` is (S, T, W) cars; all zero when
    INFEASIBLE (``diagnosis`` then names the conflicting constraints). ``method`` says
    which step found the plan: ``hint``, ``neighbourhood``, ``mip`` or ``none``."""

    status: SolveStatus
    orders: np.ndarray
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    diagnosis: str = ""
    method: str = "none"
    index: PickupIndex | None = None
    relaxation: LpRelaxation | None = None
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))


def solve(
    problem: PickupProblem, limits: SolveLimits, hint: np.ndarray | None = None
) -> PickupSolution:
    """Solve ``problem`` within ``limits``; ``hint`` is a previous plan, (S, T, W) cars."""
    start = time.perf_counter()
    deadline = start + limits.time_limit_seconds
    if hint is not None and hint.shape != problem.shape:
        raise InvalidArgument(
            "hint",
            f"a previous plan needs shape {problem.shape} (stores, trims, weeks), got {hint.shape}",
        )
    model, index = build_model(problem)
    lp = solve_relaxation(index, _left(deadline))
    if lp is None:  # the LP itself ran out of time
        return _timed_out(problem, index, start)
    if not lp.feasible:
        return _infeasible(problem, index, start, lp)
    best: _Best | None = None
    if hint is not None:
        cells = tuple(index.order_cells.T)
        n = np.minimum(hint[cells] // index.order_multiple, index.order_upper).astype(float)
        repaired = _repair(problem, index, np.maximum(n, 0.0), limits, _left(deadline))
        if repaired is not None:
            best = _keep_better(problem, index, best, "hint", repaired)
    if not _good_enough(best, lp.objective, limits):
        found = _neighbourhood(problem, index, lp, limits, _left(deadline))
        if found is not None:
            best = _keep_better(problem, index, best, "neighbourhood", found)
    mip_infeasible = False
    bound = lp.objective  # the LP's, or the full MIP's when it proves a tighter one
    if not _good_enough(best, lp.objective, limits) and _left(deadline) > 0.05:
        start_from = best[1] if best is not None else None
        found, mip_infeasible, mip_bound = _mip(model, index, limits, _left(deadline), start_from)
        bound = min(bound, mip_bound)
        if found is not None:
            best = _keep_better(problem, index, best, "mip", found)
    if best is None and mip_infeasible:  # the LP is feasible, no integer plan is
        return _infeasible(problem, index, start, lp)
    if best is None:
        return _timed_out(problem, index, start, lp)
    method, n, _ = best
    values = index.columns_for(problem, n)
    objective = index.value_of(values)
    bound = max(bound, objective)
    gap = relative_gap(objective, bound)
    if gap <= limits.relative_gap + 1e-12:
        status = SolveStatus.OPTIMAL
    elif _left(deadline) <= 0.05:
        status = SolveStatus.TIME_LIMIT
    else:
        status = SolveStatus.FEASIBLE
    orders = np.zeros(problem.shape, dtype=np.int64)
    orders[tuple(index.order_cells.T)] = index.orders_from(values)
    return PickupSolution(
        status,
        orders,
        objective,
        bound,
        gap,
        time.perf_counter() - start,
        method=method,
        index=index,
        relaxation=lp,
        values=values,
    )


def solve_relaxation(index: PickupIndex, seconds: float) -> LpRelaxation | None:
    """The LP relaxation of a built model (HiGHS through MathOpt: ``allocation.highs``);
    None when it did not finish within ``seconds``."""
    lp = solve_lp(
        np.zeros(index.n_columns),
        index.column_upper,
        index.objective,
        index.row_lower,
        index.row_upper,
        index.matrix,
        seconds,
        offset=index.objective_constant,
    )
    if lp.status is HighsStatus.INFEASIBLE:
        return LpRelaxation(False, float("nan"), np.zeros(0), np.zeros(0))
    if lp.status is not HighsStatus.OPTIMAL:
        return None
    return LpRelaxation(True, lp.objective, lp.values, lp.duals)


def _neighbourhood(
    problem: PickupProblem,
    index: PickupIndex,
    lp: LpRelaxation,
    limits: SolveLimits,
    seconds: float,
) -> np.ndarray | None:
    """A MIP over the cells where the LP is fractional (and the bundles rounding breaks),
    every other cell fixed at its LP value."""
    n_lp = lp.values[: index.n_orders]
    floor = np.floor(n_lp + _INTEGRAL_TOL)
    ceil = np.ceil(n_lp - _INTEGRAL_TOL)
    # rounding down can break a bundle (slow orders rounded away): cut hot orders until it
    # holds, so that the MIP starts from a feasible point; the cut columns may come back
    start = _cut_hot_orders(problem, index, floor)
    # fractional cells round either way; the trims of missed hard targets may move one
    # order further each way
    wide = _hard_target_columns(problem, index, start)
    lower = np.where(wide, np.maximum(start - 1, 0), start)
    upper = np.where(wide, np.minimum(ceil + 1, index.order_upper), ceil)
    return _restricted_mip(problem, index, lower, upper, limits, seconds)


def _cut_hot_orders(problem: PickupProblem, index: PickupIndex, n: np.ndarray) -> np.ndarray:
    """``n`` with hot-trim orders cut, latest week first, until every bundle holds (by each
    week, hot cars <= k x slow cars, over all stores)."""
    n = n.copy()
    cells, mult = index.order_cells, index.order_multiple
    for bundle in problem.bundles:
        hot = np.flatnonzero(cells[:, 1] == bundle.hot_trim)
        slow = np.flatnonzero(cells[:, 1] == bundle.slow_trim)
        for w in range(len(problem.weeks)):
            mine = hot[cells[hot, 2] <= w]
            allowed = bundle.hot_units_per_slow * float((n * mult)[slow[cells[slow, 2] <= w]].sum())
            excess = float((n * mult)[mine].sum()) - allowed
            for c in mine[np.argsort(-cells[mine, 2], kind="stable")]:
                if excess <= 0:
                    break
                cut = min(n[c], np.ceil(excess / mult[c]))
                n[c] -= cut
                excess -= cut * mult[c]
    return n


def _repair(
    problem: PickupProblem, index: PickupIndex, n: np.ndarray, limits: SolveLimits, seconds: float
) -> np.ndarray | None:
    """The plan ``n`` made feasible: the columns of the rows it breaks may go down (or, in a
    missed target, up); every other column stays."""
    values = index.columns_for(problem, n)
    activity = index.matrix @ values
    over = activity > index.row_upper + _FEASIBILITY_TOL * np.maximum(1.0, np.abs(activity))
    under = activity < index.row_lower - _FEASIBILITY_TOL * np.maximum(1.0, np.abs(activity))
    if not (over.any() or under.any()):
        return n
    orders = index.matrix[:, : index.n_orders]
    down = np.asarray(abs(orders[np.flatnonzero(over)]).sum(axis=0)).ravel() > 0
    up = np.asarray(abs(orders[np.flatnonzero(under)]).sum(axis=0)).ravel() > 0
    lower = np.where(down, 0.0, n)
    upper = np.where(up, index.order_upper, n)
    return _restricted_mip(problem, index, lower, upper, limits, seconds)


def _restricted_mip(
    problem: PickupProblem,
    index: PickupIndex,
    lower: np.ndarray,
    upper: np.ndarray,
    limits: SolveLimits,
    seconds: float,
) -> np.ndarray | None:
    """The MIP with each order column within ``[lower, upper]``: the columns that cannot move
    (and the sales segments of their cells, filled as far as their stock reaches) are
    folded into the row bounds, so that the solver sees only what is left to decide."""
    if seconds <= 0.05:
        return None
    free = lower < upper
    if not free.any():
        return lower
    free_cells = np.zeros(problem.shape[:2], dtype=bool)
    free_cells[index.order_cells[free, 0], index.order_cells[free, 1]] = True
    seg = index.segment_cells
    free_seg = free_cells[seg[:, 0], seg[:, 1]]
    cols = np.concatenate(
        [
            np.flatnonzero(free),
            index.n_orders + np.flatnonzero(free_seg),
            index.n_orders + index.n_segments + np.arange(index.shortfall_targets.size),
        ]
    )
    base = index.columns_for(problem, np.where(free, 0.0, lower))
    base[cols] = 0.0
    fixed_activity = index.matrix @ base
    sub_matrix = index.matrix[:, cols].tocsr()
    rows = np.flatnonzero(np.diff(sub_matrix.indptr) > 0)
    sub_matrix = sub_matrix[rows]
    col_lower = np.zeros(cols.size)
    col_upper = np.concatenate(
        [upper[free], np.ones(int(free_seg.sum())), np.full(index.shortfall_targets.size, np.inf)]
    )
    col_lower[: int(free.sum())] = lower[free]
    sub = model_proto(
        col_lower,
        col_upper,
        index.objective[cols],
        index.row_lower[rows] - fixed_activity[rows],
        index.row_upper[rows] - fixed_activity[rows],
        sub_matrix,
        int(free.sum()),
    )
    # start from the lower bounds: feasible for the neighbourhood (its rows are <= rows
    # the lower bounds keep) and the repair (the broken rows' columns at zero)
    result = solve_highs(sub, seconds, limits.relative_gap, hint=lower[free])
    if not result.has_solution:
        return None
    n = lower.copy()
    n[free] = np.round(result.values[: int(free.sum())])
    return n


def _hard_target_columns(problem: PickupProblem, index: PickupIndex, n: np.ndarray) -> np.ndarray:
    """Order columns of every hard target that ``n`` misses."""
    out = np.zeros(index.n_orders, dtype=bool)
    rows = index.rows_of(RowKind.TARGET)
    if rows.size == 0:
        return out
    activity = index.matrix[rows] @ index.columns_for(problem, n)
    for r in rows[activity < index.row_lower[rows] - _FEASIBILITY_TOL]:
        out |= index.matrix[r, : index.n_orders].toarray()[0] != 0
    return out


def _mip(
    model: ModelProto,
    index: PickupIndex,
    limits: SolveLimits,
    seconds: float,
    hint: np.ndarray | None,
) -> tuple[np.ndarray | None, bool, float]:
    """The full MIP's orders, started from ``hint`` (None when it found no plan), whether
    it proved that there is none, and the bound it proved (inf when none)."""
    result = solve_highs(model, seconds, limits.relative_gap, hint=hint)
    bound = result.bound if np.isfinite(result.bound) else float("inf")
    if not result.has_solution:
        return None, result.status is HighsStatus.INFEASIBLE, bound
    return np.round(result.values[: index.n_orders]), False, bound


_Best = tuple[str, np.ndarray, float]
"""The best plan so far: the step that found it, its orders (in multiples), its value."""


def _keep_better(
    problem: PickupProblem, index: PickupIndex, best: _Best | None, method: str, n: np.ndarray
) -> _Best | None:
    values = index.columns_for(problem, n)
    if not index.is_feasible(values, _FEASIBILITY_TOL):
        return best
    value = index.value_of(values)
    if best is not None and best[2] >= value:
        return best
    return method, n, value


def _good_enough(best: _Best | None, bound: float, limits: SolveLimits) -> bool:
    if best is None:
        return False
    return relative_gap(best[2], max(bound, best[2])) <= limits.relative_gap


def _left(deadline: float) -> float:
    return deadline - time.perf_counter()


def _infeasible(
    problem: PickupProblem, index: PickupIndex, start: float, lp: LpRelaxation
) -> PickupSolution:
    """No plan meets the hard constraints: no orders, and the diagnosis."""
    from allocation.pickup_explain import diagnose

    return PickupSolution(
        SolveStatus.INFEASIBLE,
        np.zeros(problem.shape, dtype=np.int64),
        float("nan"),
        float("nan"),
        float("nan"),
        time.perf_counter() - start,
        diagnosis=diagnose(problem, index),
        index=index,
        relaxation=lp,
    )


def _timed_out(
    problem: PickupProblem, index: PickupIndex, start: float, lp: LpRelaxation | None = None
) -> PickupSolution:
    """No plan in time: ordering nothing, when that is feasible (no hard target asks for
    more than zero); otherwise no plan at all, which the caller reports as out of time."""
    zero = np.zeros(index.n_orders)
    values = index.columns_for(problem, zero)
    feasible = index.is_feasible(values, _FEASIBILITY_TOL)
    objective = index.value_of(values) if feasible else float("nan")
    bound = lp.objective if lp is not None and lp.feasible else float("inf")
    return PickupSolution(
        SolveStatus.TIME_LIMIT,
        np.zeros(problem.shape, dtype=np.int64),
        objective,
        bound,
        relative_gap(objective, bound) if feasible and np.isfinite(bound) else float("inf"),
        time.perf_counter() - start,
        method="none" if feasible else "",
        index=index,
        relaxation=lp,
        values=values if feasible else np.zeros(0),
    )
