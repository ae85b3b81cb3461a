"""The fast transfer solve: a min-cost flow at trim level, for real-time what-ifs.

The network (``build_network``), in CNY rounded to whole yuan:

- a source node per cell (store x trim) holding movable cars, supplying them;
- a value node per cell that holds or may receive cars; a source sends its cars to its
  own value node (they stay, cost 0) or along a candidate arc to another store's value
  node of the same trim (cost: per car-km, the lead-time loss and the truck's fixed cost
  spread over a full truck);
- from each value node to the sink, one unit arc per rank at ``-unit_value(rank)`` and
  an overflow arc at the value of a car that never sells. The unit values fall with the
  rank, so the flow fills the ranks in order and the flow's cost is exactly minus the
  value of the stock (``transfer_values``): no transshipment, since value nodes only
  drain to the sink.

What a flow cannot hold, because it spans trims, is handled around it: the daily loading
limit of a store and the lot space of a receiver are priced into the arcs (a few rounds of
Lagrangian price updates), then any excess is cut car by car, the least valuable first;
trucks are whole: a lane whose cars do not pay its trucks is closed and the flow solved
again, and a lane's last, part-filled truck is dropped when its cars gain less than the
trip costs. The result is feasible, with a bound: the flows before any lane is closed are Lagrangian
relaxations (``_relaxation_bound``), so the gap of the fast plan is proven too (looser
than the MIP's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from allocation import min_cost_flow
from allocation.min_cost_flow import FlowNetwork, FlowStatus
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
from turnwise.solving import SolveStatus, relative_gap

__all__ = ["FlowGraph", "TrimFlow", "build_network", "solve", "split_by_trim"]

_Counts = np.ndarray
"""(S, T) cars per store x trim cell."""
_PRICE_ROUNDS = 3
_LANE_ROUNDS = 3


@dataclass(frozen=True, eq=False)
class FlowGraph:
    network: FlowNetwork
    move_arcs: np.ndarray
    """Index in the network of each candidate arc, in ``arcs`` order."""


@dataclass(frozen=True, eq=False)
class TrimFlow:
    """The part of the network of one trim (the network is a union of one part per trim,
    joined only at the sink), with its own sink: solved on its own, it is 2-3x faster than
    the whole, and a re-solve only touches the trims whose arcs changed."""

    trim: int
    network: FlowNetwork
    moves: np.ndarray
    """Candidate arcs (indices into ``arcs``) of the part, and below their arc positions."""
    positions: np.ndarray


def split_by_trim(graph: FlowGraph, values: CellValues, arcs: Arcs) -> list[TrimFlow]:
    """One ``TrimFlow`` per trim that has candidate arcs."""
    n = graph.network
    origins = np.argwhere(values.movable > 0)
    sink = n.nodes - 1
    node_trim = np.concatenate([origins[:, 1], values.cells[:, 1], [-1]])
    arc_trim = np.where(n.tails != sink, node_trim[n.tails], node_trim[n.heads])
    position = np.full(n.arcs, -1, dtype=np.int64)
    position[graph.move_arcs] = np.arange(len(arcs))
    order = np.argsort(arc_trim, kind="stable")
    bounds = np.searchsorted(arc_trim[order], np.unique(arcs.trim))
    ends = np.append(bounds[1:], n.arcs) if bounds.size else bounds
    parts: list[TrimFlow] = []
    for trim, lo, hi in zip(np.unique(arcs.trim), bounds, ends, strict=True):
        a = order[lo:hi]
        a = a[arc_trim[a] == trim]
        nodes = np.unique(np.concatenate([n.tails[a], n.heads[a]]))
        supplies = n.supplies[nodes].copy()
        supplies[nodes == sink] = -supplies[nodes != sink].sum()
        local = FlowNetwork(
            nodes.size,
            np.searchsorted(nodes, n.tails[a]),
            np.searchsorted(nodes, n.heads[a]),
            n.capacities[a],
            n.costs[a],
            supplies,
        )
        is_move = position[a] >= 0
        parts.append(TrimFlow(int(trim), local, position[a][is_move], np.flatnonzero(is_move)))
    return parts


def build_network(
    p: TransferProblem,
    values: CellValues,
    arcs: Arcs,
    price: np.ndarray | None = None,
    closed: np.ndarray | None = None,
) -> FlowGraph:
    """The network of the module docstring; ``price[a]`` is added to arc a's cost and
    ``closed[a]`` arcs get no capacity."""
    origins = np.argwhere(values.movable > 0)
    n_o, n_c = len(origins), len(values.cells)
    sink = n_o + n_c
    value_node = np.full(values.held.shape, -1, dtype=np.int64)
    if n_c:
        value_node[values.cells[:, 0], values.cells[:, 1]] = n_o + np.arange(n_c)
    source_node = np.full(values.held.shape, -1, dtype=np.int64)
    source_node[origins[:, 0], origins[:, 1]] = np.arange(n_o)
    m = values.movable[origins[:, 0], origins[:, 1]]

    stay_tail = np.arange(n_o)
    stay_head = value_node[origins[:, 0], origins[:, 1]]
    move_tail = source_node[arcs.origin, arcs.trim]
    move_head = value_node[arcs.destination, arcs.trim]
    trip_share = p.truck_trip_cost_cny / p.truck_capacity
    move_cost = arcs.unit_cost + trip_share + (0.0 if price is None else price)
    move_cap = arcs.cap if closed is None else np.where(closed, 0, arcs.cap)
    owner = np.repeat(np.arange(n_c), values.count)
    rank_tail = n_o + owner
    over_tail = n_o + np.arange(n_c)
    s, t = values.cells[:, 0], values.cells[:, 1]
    total = int(m.sum())

    tails = np.concatenate([stay_tail, move_tail, rank_tail, over_tail])
    heads = np.concatenate([stay_head, move_head, np.full(owner.size, sink), np.full(n_c, sink)])
    caps = np.concatenate([m, move_cap, np.ones(owner.size), np.full(n_c, total)])
    costs = np.concatenate(
        [np.zeros(n_o), move_cost, -values.flat, -values.floor[s, t] if n_c else np.zeros(0)]
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_o] = m
    supplies[sink] = -total
    network = FlowNetwork(
        sink + 1,
        tails.astype(np.int64),
        heads.astype(np.int64),
        caps.astype(np.int64),
        np.rint(costs).astype(np.int64),
        supplies,
    )
    return FlowGraph(network, n_o + np.arange(len(arcs)))


def solve(p: TransferProblem, values: CellValues | None = None) -> TransferSolution:
    """The fast plan of the module docstring."""
    started = time.perf_counter()
    values = cell_values(p) if values is None else values
    # the MIP's arcs: so that the first flow is a relaxation of the MIP too
    arcs = candidate_arcs(p, values, full_truck_share=False)
    n_s = len(p.base.store_ids)
    if len(arcs) == 0:
        return _solution(p, values, TrimMoves.empty(), started, bound=0.0)
    price = np.zeros(len(arcs))
    closed = np.zeros(len(arcs), dtype=bool)
    room = free_lot(p, values)
    limit = np.asarray(p.loading_limit, dtype=np.int64)
    parts = split_by_trim(build_network(p, values, arcs), values, arcs)
    trip_share = p.truck_trip_cost_cny / p.truck_capacity
    base_cost = np.rint(arcs.unit_cost + trip_share).astype(np.int64)
    flows = np.zeros(len(arcs), dtype=np.int64)
    todo = np.ones(p.trims, dtype=bool)
    bound = float("inf")
    lam_load = np.zeros(n_s)  # CNY per car loaded at a store: the loading limit's price
    lam_lot = np.zeros(n_s)  # CNY per net car received: the lot space's price
    for lane_round in range(_LANE_ROUNDS):
        for price_round in range(_PRICE_ROUNDS):
            _flow(parts, arcs, base_cost, price, closed, todo, flows)
            if lane_round == 0:  # no lane closed yet: a Lagrangian relaxation
                lagrangian = _relaxation_bound(p, values, arcs, flows, price)
                bound = min(bound, lagrangian + lam_load @ limit + lam_lot @ room)
            moves = TrimMoves.of(arcs, flows)
            out, net = moves.outbound(n_s), moves.inbound(n_s) - moves.outbound(n_s)
            over_load = np.maximum(out - limit, 0)
            over_lot = np.maximum(net - room, 0)
            if (not over_load.any() and not over_lot.any()) or price_round == _PRICE_ROUNDS - 1:
                break
            # price per car: a share of the typical gain, in proportion to the excess
            scale = float(np.median(np.abs(arcs.unit_cost))) + 100.0
            lam_load += scale * over_load / np.maximum(limit, 1)
            lam_lot += scale * over_lot / np.maximum(room, 1)
            new = lam_load[arcs.origin] + lam_lot[arcs.destination] - lam_lot[arcs.origin]
            todo = np.zeros(p.trims, dtype=bool)
            todo[arcs.trim[new != price]] = True
            price = new
        flows = _repair(p, values, arcs, flows, room, limit)
        shut = _unpaid_lanes(p, values, arcs, flows) & ~closed
        if not shut.any() or lane_round == _LANE_ROUNDS - 1:
            break
        closed |= shut
        todo = np.zeros(p.trims, dtype=bool)
        todo[arcs.trim[shut]] = True
    flows = _repair(p, values, arcs, flows, room, limit)
    flows = _trim_part_trucks(p, values, arcs, flows)
    return _solution(p, values, TrimMoves.of(arcs, flows), started, bound)


def _flow(
    parts: list[TrimFlow],
    arcs: Arcs,
    base_cost: np.ndarray,
    price: np.ndarray,
    closed: np.ndarray,
    todo: np.ndarray,
    flows: np.ndarray,
) -> None:
    """Solve the parts of the trims in ``todo`` and write their arcs' flows into ``flows``."""
    for part in parts:
        if not todo[part.trim]:
            continue
        costs = part.network.costs.copy()
        caps = part.network.capacities.copy()
        costs[part.positions] = base_cost[part.moves] + np.rint(price[part.moves]).astype(np.int64)
        caps[part.positions] = np.where(closed[part.moves], 0, arcs.cap[part.moves])
        network = replace(part.network, capacities=caps, costs=costs, validate=False)
        result = min_cost_flow.solve(network)
        if result.status is not FlowStatus.OPTIMAL:  # balanced by construction
            raise RuntimeError(f"transfer flow: {result.status.value}: {result.diagnosis}")
        flows[part.moves] = result.flows[part.positions]


def _marginal(values: CellValues, arcs: Arcs, a: int, sent: _Counts, got: _Counts) -> float:
    """Gain of the last car on arc ``a`` given the cars each cell sends and receives."""
    i, j, t = int(arcs.origin[a]), int(arcs.destination[a]), int(arcs.trim[a])
    at_j = int(values.held[j, t] + got[j, t] - sent[j, t])
    at_i = int(values.held[i, t] - sent[i, t] + got[i, t])
    return values.unit(j, t, at_j) - values.unit(i, t, at_i + 1) - float(arcs.unit_cost[a])


def _counts(arcs: Arcs, flows: np.ndarray, shape: tuple[int, ...]) -> tuple[_Counts, _Counts]:
    sent = np.zeros(shape, dtype=np.int64)
    got = np.zeros(shape, dtype=np.int64)
    np.add.at(sent, (arcs.origin, arcs.trim), flows)
    np.add.at(got, (arcs.destination, arcs.trim), flows)
    return sent, got


def _repair(
    p: TransferProblem,
    values: CellValues,
    arcs: Arcs,
    flows: np.ndarray,
    room: np.ndarray,
    limit: np.ndarray,
) -> np.ndarray:
    """Cut cars, the least valuable first, until every loading limit and lot holds."""
    flows = flows.copy()
    n_s = len(p.base.store_ids)
    sent, got = _counts(arcs, flows, values.held.shape)
    while True:
        moves = TrimMoves.of(arcs, flows)
        out = moves.outbound(n_s)
        net = moves.inbound(n_s) - out
        bad_load = np.flatnonzero(out > limit)
        bad_lot = np.flatnonzero(net > room)
        if not bad_load.size and not bad_lot.size:
            return flows
        if bad_load.size:
            on = np.flatnonzero((flows > 0) & (arcs.origin == bad_load[0]))
        else:
            on = np.flatnonzero((flows > 0) & (arcs.destination == bad_lot[0]))
        worst = min(on, key=lambda a: _marginal(values, arcs, int(a), sent, got))
        flows[worst] -= 1
        i, j, t = int(arcs.origin[worst]), int(arcs.destination[worst]), int(arcs.trim[worst])
        sent[i, t] -= 1
        got[j, t] -= 1


def _lane_gain(
    values: CellValues, arcs: Arcs, flows: np.ndarray, lane: np.ndarray, sent: _Counts, got: _Counts
) -> float:
    """What the lane's cars add to the plan (stock value less their per-car costs), the
    other moves fixed; ``sent`` and ``got`` (``_counts`` of ``flows``) are left as found."""
    gain = 0.0
    taken: list[tuple[int, int, int]] = []
    for a in lane:
        i, j, t = int(arcs.origin[a]), int(arcs.destination[a]), int(arcs.trim[a])
        for _ in range(int(flows[a])):
            gain += _marginal(values, arcs, int(a), sent, got)
            sent[i, t] -= 1
            got[j, t] -= 1
            taken.append((i, j, t))
    for i, j, t in taken:
        sent[i, t] += 1
        got[j, t] += 1
    return gain


def _lanes(arcs: Arcs, flows: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    used = np.flatnonzero(flows)
    out: dict[tuple[int, int], list[int]] = {}
    for a in used:
        out.setdefault((int(arcs.origin[a]), int(arcs.destination[a])), []).append(int(a))
    return {lane: np.asarray(a, dtype=np.int64) for lane, a in out.items()}


def _unpaid_lanes(
    p: TransferProblem, values: CellValues, arcs: Arcs, flows: np.ndarray
) -> np.ndarray:
    """Arcs of the lanes whose cars gain less than the lane's whole trucks cost."""
    shut = np.zeros(len(arcs), dtype=bool)
    sent, got = _counts(arcs, flows, values.held.shape)
    for (i, j), lane in _lanes(arcs, flows).items():
        cars = int(flows[lane].sum())
        trip = p.truck_trip_cost_cny * -(-cars // p.truck_capacity)
        if _lane_gain(values, arcs, flows, lane, sent, got) < trip:
            shut |= (arcs.origin == i) & (arcs.destination == j)
    return shut


def _trim_part_trucks(
    p: TransferProblem, values: CellValues, arcs: Arcs, flows: np.ndarray
) -> np.ndarray:
    """Drop a lane's part-filled last truck when its cars gain less than the trip, and a
    lane whose cars do not pay its trucks."""
    flows = flows.copy()
    sent, got = _counts(arcs, flows, values.held.shape)
    for lane in _lanes(arcs, flows).values():
        cars = int(flows[lane].sum())
        trip = p.truck_trip_cost_cny * -(-cars // p.truck_capacity)
        if _lane_gain(values, arcs, flows, lane, sent, got) < trip:
            for a in lane:
                i, j, t = int(arcs.origin[a]), int(arcs.destination[a]), int(arcs.trim[a])
                sent[i, t] -= int(flows[a])
                got[j, t] -= int(flows[a])
            flows[lane] = 0
            continue
        extra = cars % p.truck_capacity
        if cars <= p.truck_capacity or extra == 0:
            continue
        trial = flows.copy()
        before = (sent.copy(), got.copy())
        gain = 0.0
        for _ in range(extra):
            worst = min(
                (a for a in lane if trial[a] > 0),
                key=lambda a: _marginal(values, arcs, int(a), sent, got),
            )
            gain += _marginal(values, arcs, int(worst), sent, got)
            trial[worst] -= 1
            i, j, t = int(arcs.origin[worst]), int(arcs.destination[worst]), int(arcs.trim[worst])
            sent[i, t] -= 1
            got[j, t] -= 1
        if gain < p.truck_trip_cost_cny:
            flows = trial
        else:
            sent, got = before
    return flows


def _relaxation_bound(
    p: TransferProblem, values: CellValues, arcs: Arcs, flows: np.ndarray, price: np.ndarray
) -> float:
    """The flow's part of a Lagrangian bound on the value of any plan. With no lane closed,
    the flow drops the whole trucks (each car pays its truck's trip cost spread over a full
    truck, which is what a car pays at least) and prices the loading and lot limits in
    (``price[a]``: the origin's loading price plus the destination's lot price less the
    origin's): its value, plus the prices times the limits (the caller adds those), bounds
    every plan. Costs were rounded to whole yuan, which may have cost the flow at most 2 CNY
    per movable car (half a yuan on its move arc, on its price and on the rank arc at each
    end): that is added."""
    moves = TrimMoves.of(arcs, flows)
    trip_share = p.truck_trip_cost_cny / p.truck_capacity
    value = model_value(p, values, moves, lane_trucks={})
    spread = float(flows @ (trip_share + price))
    return value.net - spread + 2.0 * float(values.movable.sum())


def _solution(
    p: TransferProblem,
    values: CellValues,
    moves: TrimMoves,
    started: float,
    bound: float,
) -> TransferSolution:
    lane_trucks = trucks(p, moves)
    value = model_value(p, values, moves, lane_trucks)
    gap = relative_gap(value.net, bound)
    return TransferSolution(
        status=SolveStatus.OPTIMAL if gap <= 1e-9 else SolveStatus.FEASIBLE,
        method="fast",
        moves=moves,
        lane_trucks=lane_trucks,
        value=value,
        bound=max(bound, value.net),
        gap=gap,
        seconds=time.perf_counter() - started,
    )
