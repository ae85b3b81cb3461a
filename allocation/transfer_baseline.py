"""The greedy baseline of the transfer benchmark: the nearest surplus store to each shortage.

How a planner without a solver works the phone: for each store x trim short of its
expected demand of the horizon (expected demand, rounded, above the cars it will hold),
largest shortage first, call the nearest store (by road distance, within the longest
lane) that holds more of the trim than its own expected demand and has movable cars,
and take what it can spare, up to the shortage; a store's loading limit and a receiver's
lot space are kept. Trucks are whole: ``ceil(cars / capacity)`` per lane.
"""

from __future__ import annotations

import numpy as np

from allocation.transfer_moves import TrimMoves, free_lot
from allocation.transfer_problem import TransferProblem
from allocation.transfer_values import CellValues

__all__ = ["nearest_surplus"]


def nearest_surplus(p: TransferProblem, values: CellValues) -> TrimMoves:
    base = p.base
    expected = np.rint(values.mean_demand).astype(np.int64)
    short = np.where(base.authorised, np.maximum(expected - values.held, 0), 0)
    spare = np.minimum(np.maximum(values.held - expected, 0), values.movable)
    loading = np.asarray(p.loading_limit, dtype=np.int64).copy()
    room = free_lot(p, values).copy()
    lanes = p.lanes()
    moved: dict[tuple[int, int, int], int] = {}
    cells = np.argwhere(short > 0)
    order = np.lexsort((cells[:, 1], cells[:, 0], -short[cells[:, 0], cells[:, 1]]))
    for j, t in cells[order]:
        need = int(short[j, t])
        donors = np.flatnonzero(lanes[:, j] & (spare[:, t] > 0) & (loading > 0))
        for i in donors[np.argsort(p.distance_km[donors, j], kind="stable")]:
            if need == 0 or room[j] == 0:
                break
            n = int(min(need, spare[i, t], loading[i], room[j]))
            if n <= 0:
                continue
            moved[int(i), int(j), int(t)] = moved.get((int(i), int(j), int(t)), 0) + n
            need -= n
            spare[i, t] -= n
            loading[i] -= n
            room[j] -= n
    if not moved:
        return TrimMoves.empty()
    keys = sorted(moved)
    return TrimMoves(
        np.array([k[0] for k in keys], dtype=np.int64),
        np.array([k[1] for k in keys], dtype=np.int64),
        np.array([k[2] for k in keys], dtype=np.int64),
        np.array([moved[k] for k in keys], dtype=np.int64),
    )
