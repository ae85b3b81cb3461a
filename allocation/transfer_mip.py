"""The consolidated transfer solve: whole trucks per lane with a fixed cost per trip, a MIP
solved by HiGHS (``allocation.highs``) within the caller's limits, with the proven gap.

Columns, in order (the first two groups integer):

- ``x[a]`` cars on candidate arc a (origin, destination, trim), ``0..cap[a]``;
- ``z[l]`` trucks on lane l (a store pair that some arc uses);
- ``y[r]`` in [0, 1]: rank r above what a cell holds is filled (value ``unit_value(r)``),
  and one overflow column per cell for cars past its stored ranks (value: the floor);
- ``w[r]`` in [0, 1]: rank r at or below what a cell holds is emptied (loss
  ``unit_value(r)``).

Rows: per cell, cars in - cars out = filled - emptied (the unit values fall with the
rank, so the LP fills the highest-value ranks first and empties the lowest first: the
objective is exactly ``transfer_values``' on the net change); per origin cell, cars out <=
movable; per lane, cars <= truck capacity x trucks, and per arc ``x[a] <= min(cap[a],
capacity) x z[l]`` (the strong form, which tightens the LP bound of a fixed-charge
network a lot); per store, cars loaded <= its loading limit and net cars received <= its
free lot space. Objective: the value filled less the value emptied, less per car-km and
lead-time costs per car, less the trip cost per truck.

The fast plan (``transfer_fast``) is the starting solution, so a time limit always leaves
a plan at least as good as the fast one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocation import transfer_fast
from allocation.highs import HighsStatus, model_proto, solve_highs
from allocation.transfer_moves import (
    Arcs,
    TransferSolution,
    TrimMoves,
    candidate_arcs,
    free_lot,
    model_value,
    trucks,
)
from allocation.transfer_problem import TransferProblem
from allocation.transfer_values import CellValues, cell_values
from turnwise.solving import SolveLimits, SolveStatus, relative_gap

__all__ = ["TransferIndex", "build_model", "solve"]


@dataclass(frozen=True, eq=False)
class TransferIndex:
    """Where each group of columns starts, and what the columns mean."""

    arcs: Arcs
    lanes: np.ndarray  # (Ln, 2) origin, destination
    lane_of_arc: np.ndarray  # (A,)
    x: int
    z: int
    y: int
    over: int
    w: int
    columns: int
    y_cell: np.ndarray  # cell of each y column
    y_rank: np.ndarray
    w_cell: np.ndarray
    w_rank: np.ndarray


@dataclass(frozen=True, eq=False)
class TransferModel:
    lower: np.ndarray
    upper: np.ndarray
    objective: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sp.csr_matrix
    integers: int


def build_model(p: TransferProblem, values: CellValues) -> tuple[TransferModel, TransferIndex]:
    """The MIP of the module docstring."""
    # data
    arcs = candidate_arcs(p, values, full_truck_share=False)
    n_a, cap = len(arcs), p.truck_capacity
    pairs = np.stack([arcs.origin, arcs.destination], axis=1) if n_a else np.zeros((0, 2), int)
    lanes, lane_of_arc = np.unique(pairs, axis=0, return_inverse=True)
    lane_of_arc = lane_of_arc.reshape(-1)
    n_l, n_c = len(lanes), len(values.cells)
    cs, ct = values.cells[:, 0], values.cells[:, 1]
    owner = np.repeat(np.arange(n_c), values.count)
    rank = values.low[owner] + np.arange(values.flat.size) - values.start[owner]
    above = rank > values.held[cs, ct][owner]
    y_flat, w_flat = np.flatnonzero(above), np.flatnonzero(~above)

    # variables
    x0, z0 = 0, n_a
    y0 = z0 + n_l
    over0 = y0 + y_flat.size
    w0 = over0 + n_c
    n_cols = w0 + w_flat.size
    lane_cap = np.bincount(lane_of_arc, weights=arcs.cap, minlength=n_l)
    lower = np.zeros(n_cols)
    upper = np.concatenate(
        [
            arcs.cap.astype(float),
            np.ceil(lane_cap / cap),
            np.ones(y_flat.size),
            np.full(n_c, np.inf),
            np.ones(w_flat.size),
        ]
    )
    cell_index = np.full(values.held.shape, -1, dtype=np.int64)
    cell_index[cs, ct] = np.arange(n_c)

    # constraints
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lower: list[np.ndarray] = []
    row_upper: list[np.ndarray] = []
    n_rows = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        rows.append(r.astype(np.int64))
        cols.append(c.astype(np.int64))
        vals.append(np.asarray(v, dtype=float))

    # per cell: in - out - filled - overflow + emptied = 0
    cin = cell_index[arcs.destination, arcs.trim]
    cout = cell_index[arcs.origin, arcs.trim]
    add(cin, x0 + np.arange(n_a), np.ones(n_a))
    add(cout, x0 + np.arange(n_a), -np.ones(n_a))
    add(owner[y_flat], y0 + np.arange(y_flat.size), -np.ones(y_flat.size))
    add(np.arange(n_c), over0 + np.arange(n_c), -np.ones(n_c))
    add(owner[w_flat], w0 + np.arange(w_flat.size), np.ones(w_flat.size))
    row_lower.append(np.zeros(n_c))
    row_upper.append(np.zeros(n_c))
    n_rows += n_c
    # per origin cell: out <= movable
    add(n_rows + cout, x0 + np.arange(n_a), np.ones(n_a))
    row_lower.append(np.full(n_c, -np.inf))
    row_upper.append(values.movable[cs, ct].astype(float))
    n_rows += n_c
    # per lane: cars <= capacity x trucks
    add(n_rows + lane_of_arc, x0 + np.arange(n_a), np.ones(n_a))
    add(n_rows + np.arange(n_l), z0 + np.arange(n_l), -cap * np.ones(n_l))
    row_lower.append(np.full(n_l, -np.inf))
    row_upper.append(np.zeros(n_l))
    n_rows += n_l
    # per arc (strong): x <= min(cap_a, capacity) z
    add(n_rows + np.arange(n_a), x0 + np.arange(n_a), np.ones(n_a))
    add(n_rows + np.arange(n_a), z0 + lane_of_arc, -np.minimum(arcs.cap, cap).astype(float))
    row_lower.append(np.full(n_a, -np.inf))
    row_upper.append(np.zeros(n_a))
    n_rows += n_a
    # per store: loaded <= limit; received - loaded <= free lot
    n_s = len(p.base.store_ids)
    add(n_rows + arcs.origin, x0 + np.arange(n_a), np.ones(n_a))
    row_lower.append(np.full(n_s, -np.inf))
    row_upper.append(np.asarray(p.loading_limit, dtype=float))
    n_rows += n_s
    add(n_rows + arcs.destination, x0 + np.arange(n_a), np.ones(n_a))
    add(n_rows + arcs.origin, x0 + np.arange(n_a), -np.ones(n_a))
    row_lower.append(np.full(n_s, -np.inf))
    row_upper.append(free_lot(p, values).astype(float))
    n_rows += n_s

    # objective
    objective = np.concatenate(
        [
            -arcs.unit_cost,
            -p.truck_trip_cost_cny * np.ones(n_l),
            values.flat[y_flat],
            values.floor[cs, ct],
            -values.flat[w_flat],
        ]
    )
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )
    model = TransferModel(
        lower,
        upper,
        objective,
        np.concatenate(row_lower),
        np.concatenate(row_upper),
        matrix,
        integers=n_a + n_l,
    )
    index = TransferIndex(
        arcs=arcs,
        lanes=lanes,
        lane_of_arc=lane_of_arc,
        x=x0,
        z=z0,
        y=y0,
        over=over0,
        w=w0,
        columns=n_cols,
        y_cell=owner[y_flat],
        y_rank=rank[y_flat],
        w_cell=owner[w_flat],
        w_rank=rank[w_flat],
    )
    return model, index


def solve(
    p: TransferProblem,
    limits: SolveLimits,
    values: CellValues | None = None,
    start: TransferSolution | None = None,
) -> TransferSolution:
    """The consolidated plan within ``limits`` (time and relative gap), from ``start`` (the
    fast plan when not given)."""
    started = time.perf_counter()
    values = cell_values(p) if values is None else values
    start = transfer_fast.solve(p, values) if start is None else start
    model, index = build_model(p, values)
    if len(index.arcs) == 0:
        return _result(p, values, TrimMoves.empty(), SolveStatus.OPTIMAL, 0.0, started)
    proto = model_proto(
        model.lower,
        model.upper,
        model.objective,
        model.row_lower,
        model.row_upper,
        model.matrix,
        model.integers,
    )
    hint = _hint(p, values, index, start.moves)
    left = limits.time_limit_seconds - (time.perf_counter() - started)
    result = solve_highs(proto, max(left, 0.05), limits.relative_gap, hint)
    # the fast plan's flow relaxation bounds the optimum too: keep the tighter bound
    bound = min(result.bound, start.bound) if np.isfinite(result.bound) else start.bound
    if result.status is HighsStatus.INFEASIBLE:  # ordering nothing is always feasible
        raise RuntimeError("transfer MIP: HiGHS answered infeasible for a feasible model")
    if not result.has_solution:
        return _result(p, values, start.moves, SolveStatus.TIME_LIMIT, bound, started, "fast")
    cars = np.rint(result.values[index.x : index.x + len(index.arcs)]).astype(np.int64)
    moves = TrimMoves.of(index.arcs, cars)
    status = (
        SolveStatus.OPTIMAL if result.status is HighsStatus.OPTIMAL else (SolveStatus.TIME_LIMIT)
    )
    return _result(p, values, moves, status, bound, started)


def _hint(
    p: TransferProblem, values: CellValues, index: TransferIndex, moves: TrimMoves
) -> np.ndarray:
    """All columns of the model for ``moves`` (arcs the model lacks are dropped)."""
    arcs = index.arcs
    where = {
        (int(i), int(j), int(t)): a
        for a, (i, j, t) in enumerate(zip(arcs.origin, arcs.destination, arcs.trim, strict=True))
    }
    hint = np.zeros(index.columns)
    for i, j, t, n in zip(moves.origin, moves.destination, moves.trim, moves.cars, strict=True):
        a = where.get((int(i), int(j), int(t)))
        if a is not None:
            hint[index.x + a] = min(int(n), int(arcs.cap[a]))
    x = hint[index.x : index.x + len(arcs)]
    lane_cars = np.bincount(index.lane_of_arc, weights=x, minlength=len(index.lanes))
    hint[index.z : index.z + len(index.lanes)] = np.ceil(lane_cars / p.truck_capacity)
    n_c = len(values.cells)
    net = np.bincount(
        np.concatenate(
            [_cell(values, arcs.destination, arcs.trim), _cell(values, arcs.origin, arcs.trim)]
        ),
        weights=np.concatenate([x, -x]),
        minlength=n_c,
    )
    for c in range(n_c):
        if net[c] > 0:
            ys = np.flatnonzero(index.y_cell == c)  # ranks ascending
            fill = min(int(net[c]), ys.size)
            hint[index.y + ys[:fill]] = 1.0
            hint[index.over + c] = net[c] - fill
        elif net[c] < 0:
            ws = np.flatnonzero(index.w_cell == c)
            take = min(int(-net[c]), ws.size)
            hint[index.w + ws[ws.size - take :]] = 1.0
    return hint


def _cell(values: CellValues, stores: np.ndarray, trims: np.ndarray) -> np.ndarray:
    index = np.full(values.held.shape, -1, dtype=np.int64)
    index[values.cells[:, 0], values.cells[:, 1]] = np.arange(len(values.cells))
    return np.asarray(index[stores, trims])


def _result(
    p: TransferProblem,
    values: CellValues,
    moves: TrimMoves,
    status: SolveStatus,
    bound: float,
    started: float,
    method: str = "consolidated",
) -> TransferSolution:
    lane_trucks = trucks(p, moves)
    value = model_value(p, values, moves, lane_trucks)
    if status is SolveStatus.OPTIMAL and not np.isfinite(bound):
        bound = value.net
    bound = max(bound, value.net)
    return TransferSolution(
        status=status,
        method=method,
        moves=moves,
        lane_trucks=lane_trucks,
        value=value,
        bound=bound,
        gap=relative_gap(value.net, bound),
        seconds=time.perf_counter() - started,
    )
