"""Moves at trim level, what both solves and the baseline produce, and what they share.

``candidate_arcs`` lists the (origin, destination, trim) arcs worth considering: the
origin holds movable cars of the trim, the destination sells its brand, the lane exists,
and the best car on the arc gains more than its transport and lead-time loss (with the
truck's fixed cost spread over a full truck when ``full_truck_share``). ``TrimMoves`` are
cars per arc; ``trucks`` the trucks each lane needs; ``model_value`` the objective of
``transfer_values`` for a set of moves; ``violations`` the loading and lot limits broken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocation.transfer_problem import TransferProblem
from allocation.transfer_values import CellValues
from turnwise.solving import SolveStatus

__all__ = [
    "Arcs",
    "MoveValue",
    "TransferSolution",
    "TrimMoves",
    "candidate_arcs",
    "free_lot",
    "lead_loss",
    "model_value",
    "trucks",
    "violations",
]


@dataclass(frozen=True, eq=False)
class Arcs:
    origin: np.ndarray  # (A,) store
    destination: np.ndarray  # (A,) store
    trim: np.ndarray  # (A,)
    unit_cost: np.ndarray  # (A,) CNY per car: per car-km cost + lead-time loss
    cap: np.ndarray  # (A,) cars: movable at the origin, room at the destination

    def __len__(self) -> int:
        return int(self.origin.size)


@dataclass(frozen=True, eq=False)
class TrimMoves:
    """Cars of ``trim`` moved from ``origin`` to ``destination`` (one row per arc used)."""

    origin: np.ndarray
    destination: np.ndarray
    trim: np.ndarray
    cars: np.ndarray

    @staticmethod
    def of(arcs: Arcs, cars: np.ndarray) -> TrimMoves:
        used = np.flatnonzero(np.asarray(cars) > 0)
        return TrimMoves(
            arcs.origin[used].copy(),
            arcs.destination[used].copy(),
            arcs.trim[used].copy(),
            np.asarray(cars, dtype=np.int64)[used].copy(),
        )

    @staticmethod
    def empty() -> TrimMoves:
        zero = np.zeros(0, dtype=np.int64)
        return TrimMoves(zero, zero, zero, zero)

    def __len__(self) -> int:
        return int(self.cars.size)

    def outbound(self, stores: int) -> np.ndarray:
        return np.bincount(self.origin, weights=self.cars, minlength=stores).astype(np.int64)

    def inbound(self, stores: int) -> np.ndarray:
        return np.bincount(self.destination, weights=self.cars, minlength=stores).astype(np.int64)


@dataclass(frozen=True)
class MoveValue:
    """The model's view of a plan, CNY: ``stock_gain`` (the change of V over all cells) less
    ``lead_loss`` and ``transport`` (per car-km plus per truck trip) is ``net``."""

    stock_gain: float
    lead_loss: float
    transport: float

    @property
    def net(self) -> float:
        return self.stock_gain - self.lead_loss - self.transport


def free_lot(p: TransferProblem, values: CellValues) -> np.ndarray:
    """(S,) net cars a store may still receive: lot space less the cars it will hold (0
    when it already holds more)."""
    held = values.held.sum(axis=1)
    return np.asarray(np.maximum(np.asarray(p.base.lot_capacity, dtype=np.int64) - held, 0))


def lead_loss(
    p: TransferProblem,
    values: CellValues,
    origin: np.ndarray,
    destination: np.ndarray,
    trim: np.ndarray,
    first_in: np.ndarray | None = None,
) -> np.ndarray:
    """What a car of ``trim`` loses on the road from ``origin`` to ``destination`` (arrays):
    the share ``lead time / horizon`` of what the destination's first extra car gains over
    one that never sells (``first_in``: ``values.at_rank(1)``, computed when not given)."""
    first = values.at_rank(1) if first_in is None else first_in
    lead = np.where(np.isfinite(p.lead_time_days), p.lead_time_days, 0.0) / p.horizon_days
    gain = np.maximum(first[destination, trim] - values.floor[destination, trim], 0.0)
    return np.asarray(lead[origin, destination] * gain)


def candidate_arcs(p: TransferProblem, values: CellValues, full_truck_share: bool) -> Arcs:
    base = p.base
    lanes = p.lanes()
    car_cost = p.car_cost_cny()
    trip_share = p.truck_trip_cost_cny / p.truck_capacity if full_truck_share else 0.0
    first_in, last_out = values.at_rank(1), values.at_rank(0)
    room_cell = np.zeros(values.held.shape, dtype=np.int64)
    if len(values.cells):
        s, t = values.cells[:, 0], values.cells[:, 1]
        room_cell[s, t] = values.low + values.count - 1 - values.held[s, t]
    parts: list[tuple[np.ndarray, ...]] = []
    for trim in np.flatnonzero((values.movable > 0).any(axis=0)):
        origins = np.flatnonzero(values.movable[:, trim] > 0)
        dests = np.flatnonzero(base.authorised[:, trim] & (room_cell[:, trim] > 0))
        oi, di = np.nonzero(lanes[np.ix_(origins, dests)])
        i, j = origins[oi], dests[di]
        gain_in = first_in[j, trim]
        cost = car_cost[i, j] + lead_loss(p, values, i, j, np.full(i.size, trim), first_in)
        keep = gain_in - last_out[i, trim] - cost - trip_share > 0
        i, j, cost = i[keep], j[keep], cost[keep]
        cap = np.minimum(values.movable[i, trim], room_cell[j, trim])
        parts.append((i, j, np.full(i.size, trim), cost, cap))
    if not parts:
        zero = np.zeros(0, dtype=np.int64)
        return Arcs(zero, zero, zero, np.zeros(0), zero)
    i, j, t, cost, cap = (np.concatenate(column) for column in zip(*parts, strict=True))
    return Arcs(
        i.astype(np.int64), j.astype(np.int64), t.astype(np.int64), cost, cap.astype(np.int64)
    )


def trucks(p: TransferProblem, moves: TrimMoves) -> dict[tuple[int, int], int]:
    """(origin, destination) -> trucks needed to carry the lane's cars."""
    cars: dict[tuple[int, int], int] = {}
    for i, j, n in zip(moves.origin, moves.destination, moves.cars, strict=True):
        cars[int(i), int(j)] = cars.get((int(i), int(j)), 0) + int(n)
    return {lane: -(-n // p.truck_capacity) for lane, n in cars.items()}


def model_value(
    p: TransferProblem,
    values: CellValues,
    moves: TrimMoves,
    lane_trucks: dict[tuple[int, int], int] | None = None,
) -> MoveValue:
    """The objective of ``moves`` (trucks per lane: ``trucks(p, moves)`` when not given)."""
    lane_trucks = trucks(p, moves) if lane_trucks is None else lane_trucks
    delta = np.zeros(values.held.shape, dtype=np.int64)
    np.add.at(delta, (moves.origin, moves.trim), -moves.cars)
    np.add.at(delta, (moves.destination, moves.trim), moves.cars)
    i, j, t, n = moves.origin, moves.destination, moves.trim, moves.cars
    transport = float((p.car_cost_cny()[i, j] * n).sum())
    lead = float((lead_loss(p, values, i, j, t) * n).sum())
    transport += p.truck_trip_cost_cny * sum(lane_trucks.values())
    return MoveValue(stock_gain=values.total_change(delta), lead_loss=lead, transport=transport)


def violations(p: TransferProblem, values: CellValues, moves: TrimMoves) -> list[str]:
    """What ``moves`` break, in words: movable cars, loading limits, lot space, lanes,
    authorisations (empty when the plan keeps every rule)."""
    base = p.base
    n_s = len(base.store_ids)
    out: list[str] = []
    sent = np.zeros(values.held.shape, dtype=np.int64)
    np.add.at(sent, (moves.origin, moves.trim), moves.cars)
    for s, t in np.argwhere(sent > values.movable):
        out.append(
            f"{base.describe(int(s), int(t))}: {sent[s, t]} cars sent, "
            f"{values.movable[s, t]} movable"
        )
    loaded = moves.outbound(n_s)
    for s in np.flatnonzero(loaded > p.loading_limit):
        out.append(f"{base.store_ids[s]}: loads {loaded[s]} cars, limit {int(p.loading_limit[s])}")
    net = moves.inbound(n_s) - loaded
    room = free_lot(p, values)
    for s in np.flatnonzero(net > room):
        out.append(f"{base.store_ids[s]}: receives {net[s]} net cars, lot space for {room[s]}")
    lanes = p.lanes()
    for i, j, t in zip(moves.origin, moves.destination, moves.trim, strict=True):
        if not lanes[i, j]:
            out.append(f"no lane {base.store_ids[i]}->{base.store_ids[j]}")
        if not base.authorised[j, t]:
            out.append(f"{base.store_ids[j]} is not authorised for {base.trim_ids[t]}")
    return out


@dataclass(frozen=True, eq=False)
class TransferSolution:
    """How a solve ended and the moves it chose. ``value`` is the model's objective of the
    moves (``model_value``), ``bound`` a proven upper bound on the value of any plan on the
    candidate arcs (the MIP's, or the fast solve's flow relaxation), ``gap`` relative to
    ``value.net``."""

    status: SolveStatus
    method: str
    moves: TrimMoves
    lane_trucks: dict[tuple[int, int], int]
    value: MoveValue
    bound: float
    gap: float
    seconds: float
    diagnosis: str = ""
