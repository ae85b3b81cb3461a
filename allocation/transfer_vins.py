"""From moves at trim level to VINs on trucks, with the gain and the reason of each move.

For each (origin store, trim) the movable cars go oldest first (ties by VIN); each
destination takes, of the cars left, first those of a colour its demand names (in the
order named), then the oldest. A lane's cars are loaded onto its trucks in (trim, VIN)
order, ``truck_capacity`` per truck, truck ids ``S001->S007#1``, ``#2``...

A move's expected gain is its arc's share of the plan's value: the destination's value
gained per car received less the origin's value lost per car sent (``transfer_values``),
less the car's transport (per car-km, plus its share of the lane's truck trips) and its
lead-time loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocation.transfer_moves import TransferSolution, lead_loss
from allocation.transfer_problem import TransferProblem
from allocation.transfer_values import CellValues

__all__ = ["Lane", "Move", "select_vins"]


@dataclass(frozen=True)
class Move:
    vin: str
    from_store_id: str
    to_store_id: str
    trim_id: str
    colour: str
    age_days: int
    truck_id: str
    expected_gain_cny: float
    reason: str


@dataclass(frozen=True)
class Lane:
    from_store_id: str
    to_store_id: str
    trucks: int
    cars: int
    distance_km: float
    cost_cny: float
    lead_time_days: float


def select_vins(
    p: TransferProblem, values: CellValues, solution: TransferSolution
) -> tuple[tuple[Move, ...], tuple[Lane, ...]]:
    """The moves (ordered by truck id, then VIN) and lanes (by origin, then destination)."""
    base, cars, moves = p.base, p.base.cars, solution.moves
    sent_cell = np.zeros(values.held.shape, dtype=np.int64)
    got_cell = np.zeros(values.held.shape, dtype=np.int64)
    np.add.at(sent_cell, (moves.origin, moves.trim), moves.cars)
    np.add.at(got_cell, (moves.destination, moves.trim), moves.cars)
    lane_cars: dict[tuple[int, int], int] = {}
    for i, j, n in zip(moves.origin, moves.destination, moves.cars, strict=True):
        lane_cars[int(i), int(j)] = lane_cars.get((int(i), int(j)), 0) + int(n)
    car_cost = p.car_cost_cny()
    lead = lead_loss(p, values, moves.origin, moves.destination, moves.trim)

    pool: dict[tuple[int, int], list[int]] = {}
    for car in np.flatnonzero(p.movable).tolist():
        pool.setdefault((int(cars.store[car]), int(cars.trim[car])), []).append(car)
    for members in pool.values():
        members.sort(key=lambda c: (-int(cars.age_days[c]), p.vins[c]))

    chosen: dict[tuple[int, int], list[tuple[int, float, str]]] = {}
    order = sorted(
        range(len(moves)),
        key=lambda r: (int(moves.origin[r]), int(moves.trim[r]), int(moves.destination[r])),
    )
    for r in order:
        i, j, t, n = (int(x[r]) for x in (moves.origin, moves.destination, moves.trim, moves.cars))
        gain_in = values.change(j, t, int(got_cell[j, t])) / max(int(got_cell[j, t]), 1)
        loss_out = -values.change(i, t, -int(sent_cell[i, t])) / max(int(sent_cell[i, t]), 1)
        lane_trips = p.truck_trip_cost_cny * solution.lane_trucks.get((i, j), 0)
        per_car = (
            gain_in - loss_out - car_cost[i, j] - lead[r] - lane_trips / max(lane_cars[i, j], 1)
        )
        members = pool.get((i, t), [])
        picked = _pick(p, members, n, p.wanted_colours.get((j, t), ()))
        for c in picked:
            members.remove(c)
            why = _reason(p, values, c, i, j, t, p.colours[c] in p.wanted_colours.get((j, t), ()))
            chosen.setdefault((i, j), []).append((c, per_car, why))

    out: list[Move] = []
    lanes: list[Lane] = []
    for (i, j), entries in sorted(chosen.items()):
        entries.sort(key=lambda e: (base.trim_ids[int(cars.trim[e[0]])], p.vins[e[0]]))
        name = f"{base.store_ids[i]}->{base.store_ids[j]}"
        trucks = -(-len(entries) // p.truck_capacity)
        for k, (c, gain, why) in enumerate(entries):
            out.append(
                Move(
                    vin=p.vins[c],
                    from_store_id=base.store_ids[i],
                    to_store_id=base.store_ids[j],
                    trim_id=base.trim_ids[int(cars.trim[c])],
                    colour=p.colours[c],
                    age_days=int(cars.age_days[c]),
                    truck_id=f"{name}#{k // p.truck_capacity + 1}",
                    expected_gain_cny=float(gain),
                    reason=why,
                )
            )
        lanes.append(
            Lane(
                from_store_id=base.store_ids[i],
                to_store_id=base.store_ids[j],
                trucks=trucks,
                cars=len(entries),
                distance_km=float(p.distance_km[i, j]),
                cost_cny=float(car_cost[i, j] * len(entries) + p.truck_trip_cost_cny * trucks),
                lead_time_days=float(p.lead_time_days[i, j]),
            )
        )
    out.sort(key=lambda m: (_truck_key(m.truck_id), m.vin))
    return tuple(out), tuple(lanes)


def _truck_key(truck_id: str) -> tuple[str, int]:
    lane, number = truck_id.rsplit("#", 1)
    return lane, int(number)


def _pick(p: TransferProblem, members: list[int], n: int, wanted: tuple[str, ...]) -> list[int]:
    """``n`` cars of ``members`` (oldest first): the wanted colours first, in their order."""
    picked: list[int] = []
    for colour in wanted:
        for c in members:
            if len(picked) == n:
                return picked
            if p.colours[c] == colour and c not in picked:
                picked.append(c)
    for c in members:
        if len(picked) == n:
            break
        if c not in picked:
            picked.append(c)
    return picked


def _reason(
    p: TransferProblem, values: CellValues, car: int, i: int, j: int, t: int, colour: bool
) -> str:
    base = p.base
    weeks = len(base.weeks)
    text = (
        f"{int(base.cars.age_days[car])} days in stock at {base.store_ids[i]}; "
        f"{base.store_ids[i]} holds {int(values.held[i, t])} of {base.trim_ids[t]} for "
        f"{values.mean_demand[i, t]:.1f} expected sales in {weeks} weeks, "
        f"{base.store_ids[j]} holds {int(values.held[j, t])} for "
        f"{values.mean_demand[j, t]:.1f}"
    )
    if p.aging_penalty_cny > 0 and values.aged[i, t] > 0:
        text += (
            f"; {values.aged[i, t]:.0%} of {base.store_ids[i]}'s {base.trim_ids[t]} will be "
            f"past {base.slow_moving_days} days by then"
        )
    if colour:
        text += f"; {base.store_ids[j]} asks for {p.colours[car]}"
    return text
