"""The transfer solvers: the min-cost flow core (NETGEN optimum), the fast flow solve, the
consolidated MIP and the greedy baseline, on tiny instances with a hand-computed optimum,
against brute force on random small ones, and Hypothesis invariants on the VIN plans.

Demand is deterministic (the three quantiles equal), so ``E[min(D, k)] = min(D, k)``; the
horizon is one week; a car of the default trim has a margin of 10,000 CNY and costs
``CARRY`` a week on the lot. Lead times are 0 unless a test is about them.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation import min_cost_flow, transfer_fast, transfer_mip
from allocation.min_cost_flow import FlowNetwork, FlowStatus, read_dimacs
from allocation.transfer_baseline import nearest_surplus
from allocation.transfer_moves import (
    TrimMoves,
    candidate_arcs,
    model_value,
    trucks,
    violations,
)
from allocation.transfer_plan import baseline_solution, finish
from allocation.transfer_problem import TransferProblem
from allocation.transfer_values import cell_values
from tests.test_pickup_problem import CARRY, make_problem, stock
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "network_flow_instances"
EXACT = SolveLimits(time_limit_seconds=30.0, relative_gap=1e-9)
MARGIN = 10_000.0


def transfer_problem(
    stores: int,
    cars: list[tuple[int, int, int]],
    demand: object,
    *,
    trims: int = 1,
    km: float = 100.0,
    distance: np.ndarray | None = None,
    movable: list[bool] | None = None,
    colours: list[str] | None = None,
    loading: int = 16,
    lot: object = 50,
    aging: float = 0.0,
    lead: float = 0.0,
    **fields: object,
) -> TransferProblem:
    """Stores ``S1..``, cars ``(store, trim, age_days)`` on the lot, every lane ``km`` long
    (or ``distance``), lead time ``lead`` days on every lane."""
    base = make_problem(
        stores,
        trims,
        1,
        demand=np.asarray(demand, dtype=float).reshape(stores, trims, 1),
        lot=lot,
        cars=stock(*((s, t, a, -1) for s, t, a in cars)),
        **{k: v for k, v in fields.items() if k in ("price", "authorised", "brands")},
    )
    d = np.full((stores, stores), km) if distance is None else distance
    np.fill_diagonal(d, 0.0)
    return TransferProblem(
        base=base,
        vins=tuple(f"VIN{i:05d}" for i in range(len(cars))),
        colours=tuple(colours or ["white"] * len(cars)),
        movable=np.array(movable if movable is not None else [True] * len(cars)),
        distance_km=d,
        lead_time_days=np.where(np.isfinite(d), lead, np.inf),
        loading_limit=np.full(stores, loading),
        aging_penalty_cny=aging,
        **{k: v for k, v in fields.items() if k not in ("price", "authorised", "brands")},
    )


def _surplus_to_short(**kw: object) -> TransferProblem:
    """S1 holds 3 cars nobody there wants; S2 holds none and sells 2."""
    return transfer_problem(2, [(0, 0, 10)] * 3, np.array([[0.0], [2.0]]), **kw)


# --- the flow core ---------------------------------------------------------------------


@pytest.mark.shared_data
def test_flow_core_solves_netgen_to_its_known_optimum():
    path = DATA / "netgen-2.min"
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/data/network_flow_instances)")
    network = read_dimacs(path)
    assert (network.nodes, network.arcs) == (400, 1416)
    solution = min_cost_flow.solve(network)
    assert solution.status is FlowStatus.OPTIMAL
    assert solution.cost == 6749969302
    flows = solution.flows
    assert (flows >= 0).all() and (flows <= network.capacities).all()
    balance = np.bincount(network.tails, flows, network.nodes) - np.bincount(
        network.heads, flows, network.nodes
    )
    assert np.array_equal(balance, network.supplies)


def test_flow_core_on_a_tiny_network():
    # 0 -> 1 -> 3 costs 2 a unit, 0 -> 2 -> 3 costs 5; the first path holds 3 units
    network = FlowNetwork(
        4,
        np.array([0, 1, 0, 2]),
        np.array([1, 3, 2, 3]),
        np.array([3, 3, 10, 10]),
        np.array([1, 1, 2, 3]),
        np.array([5, 0, 0, -5]),
    )
    solution = min_cost_flow.solve(network)
    assert solution.status is FlowStatus.OPTIMAL
    assert solution.cost == 3 * 2 + 2 * 5
    assert solution.flows.tolist() == [3, 3, 2, 2]


def test_flow_core_reports_unbalanced_and_infeasible():
    unbalanced = FlowNetwork(2, np.array([0]), np.array([1]), np.array([5]), np.array([1]),
                             np.array([3, -2]))  # fmt: skip
    assert min_cost_flow.solve(unbalanced).status is FlowStatus.UNBALANCED
    short = FlowNetwork(2, np.array([0]), np.array([1]), np.array([1]), np.array([1]),
                        np.array([3, -3]))  # fmt: skip
    result = min_cost_flow.solve(short)
    assert result.status is FlowStatus.INFEASIBLE and "capacit" in result.diagnosis


def test_flow_network_validation_names_the_field(tmp_path):
    with pytest.raises(InvalidArgument) as err:
        FlowNetwork(2, np.array([0]), np.array([2]), np.array([1]), np.array([1]), np.zeros(2))
    assert err.value.field == "heads[0]"
    bad = tmp_path / "bad.min"
    bad.write_text("p min 2 1\nn 1 1\nn 2 -1\na 1 2 1 5 3\n")
    with pytest.raises(InvalidArgument) as err:
        read_dimacs(bad)
    assert err.value.field == "bad.min:4"


# --- tiny instances with a hand-computed optimum -----------------------------------------


@pytest.mark.parametrize("solver", ["fast", "consolidated"])
def test_moves_the_cars_the_short_store_sells(solver):
    p = _surplus_to_short()
    solution = _solve(p, solver)
    moved = {(int(i), int(j)): int(n) for i, j, n in zip(*_arrays(solution.moves), strict=True)}
    assert moved == {(0, 1): 2}
    assert solution.lane_trucks == {(0, 1): 1}
    # two cars sold at S2 instead of carried unsold at S1, less 2 x 100 km and one trip
    expected = 2 * (MARGIN + CARRY / 2) - (2 * 100.0 + 800.0)
    assert solution.value.net == pytest.approx(expected)
    if solver == "consolidated":
        assert solution.status is SolveStatus.OPTIMAL and solution.gap <= 1e-6


@pytest.mark.parametrize("solver", ["fast", "consolidated"])
def test_no_move_when_the_margin_does_not_pay_the_truck(solver):
    p = _surplus_to_short(price=90_300.0)  # margin 300: 2 x (300 + CARRY / 2) < 1,000
    solution = _solve(p, solver)
    assert len(solution.moves) == 0
    assert solution.value.net == 0.0


@pytest.mark.parametrize("solver", ["fast", "consolidated"])
def test_a_ninth_car_that_does_not_pay_a_second_truck_stays(solver):
    # each car gains 500 + CARRY / 2 - 100 < 800, the trip of a second truck
    p = transfer_problem(2, [(0, 0, 10)] * 9, np.array([[0.0], [9.0]]), price=90_500.0)
    solution = _solve(p, solver)
    assert int(solution.moves.cars.sum()) == 8
    assert solution.lane_trucks == {(0, 1): 1}


@pytest.mark.parametrize("solver", ["fast", "consolidated"])
def test_loading_limit_and_lot_space_hold(solver):
    p = transfer_problem(
        3, [(0, 0, 10)] * 6, np.array([[0.0], [6.0], [6.0]]), loading=4, lot=np.array([50, 1, 50])
    )
    solution = _solve(p, solver)
    values = cell_values(p)
    assert violations(p, values, solution.moves) == []
    assert int(solution.moves.cars.sum()) == 4
    assert int(solution.moves.inbound(3)[1]) <= 1


def test_only_movable_cars_move_and_only_to_authorised_stores():
    authorised = np.array([[True, True], [True, False], [True, True]])
    p = transfer_problem(
        3,
        [(0, 0, 10), (0, 0, 10), (0, 1, 10), (0, 1, 10)],
        np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]),
        trims=2,
        movable=[True, False, True, True],
        authorised=authorised,
    )
    for solver in ("fast", "consolidated"):
        solution = _solve(p, solver)
        values = cell_values(p)
        assert violations(p, values, solution.moves) == []
        moved = {
            (int(j), int(t)): int(n) for _, j, t, n in zip(*_arrays(solution.moves, 4), strict=True)
        }
        assert moved == {(1, 0): 1, (2, 1): 2}


def test_lanes_past_the_longest_are_not_used():
    far = np.array([[0.0, 2000.0], [2000.0, 0.0]])
    p = _surplus_to_short(distance=far)
    assert len(_solve(p, "consolidated").moves) == 0
    no_lane = np.array([[0.0, np.inf], [np.inf, 0.0]])
    assert len(_solve(_surplus_to_short(distance=no_lane), "fast").moves) == 0


def test_lead_time_costs_its_share_of_the_destination_margin():
    # 3.5 days on the road of a 7-day horizon: half the first car's margin at S2 is lost
    p = _surplus_to_short(lead=3.5)
    solution = _solve(p, "consolidated")
    first = (MARGIN + CARRY / 2) - CARRY - (-CARRY)
    assert solution.value.lead_loss == pytest.approx(2 * 0.5 * first)


def test_aging_moves_the_old_cars_first():
    # S1 holds a 200-day car and a 5-day car nobody wants; S2 sells one
    p = transfer_problem(2, [(0, 0, 5), (0, 0, 200)], np.array([[0.0], [1.0]]), aging=3000.0)
    values = cell_values(p)
    plan = finish(p, values, transfer_mip.solve(p, EXACT, values), samples=50)
    assert [m.vin for m in plan.moves] == ["VIN00001"]
    assert plan.moves[0].age_days == 200 and "200 days in stock" in plan.moves[0].reason


def test_vin_selection_prefers_the_colour_the_destination_asks_for():
    p = transfer_problem(
        2,
        [(0, 0, 90), (0, 0, 30)],
        np.array([[0.0], [1.0]]),
        colours=["white", "red"],
        wanted_colours={(1, 0): ("red",)},
    )
    values = cell_values(p)
    plan = finish(p, values, transfer_fast.solve(p, values), samples=50)
    assert [(m.vin, m.colour) for m in plan.moves] == [("VIN00001", "red")]
    assert "asks for red" in plan.moves[0].reason


def test_greedy_baseline_takes_from_the_nearest_surplus_store():
    distance = np.array([[0.0, 300.0, 50.0], [300.0, 0.0, 400.0], [50.0, 400.0, 0.0]])
    # S2 and S3 each hold 2 spare cars; S1 is short of 2; S3 is nearer
    p = transfer_problem(
        3, [(1, 0, 10)] * 2 + [(2, 0, 10)] * 2, np.array([[2.0], [0.0], [0.0]]), distance=distance
    )
    moves = nearest_surplus(p, cell_values(p))
    assert list(zip(*_arrays(moves), strict=True)) == [(2, 0, 2)]


# --- brute force on random small instances ---------------------------------------------


@st.composite
def small_problems(draw: st.DrawFn) -> TransferProblem:
    stores = draw(st.integers(2, 3))
    trims = draw(st.integers(1, 2))
    cell = st.tuples(st.integers(0, stores - 1), st.integers(0, trims - 1), st.integers(0, 200))
    cars = draw(st.lists(cell, min_size=1, max_size=6))
    demand = np.array(
        [[draw(st.sampled_from([0.0, 1.0, 2.0, 3.0])) for _ in range(trims)] for _ in range(stores)]
    )
    km = np.array([[draw(st.sampled_from([20.0, 300.0, 900.0])) for _ in range(stores)]
                   for _ in range(stores)])  # fmt: skip
    return transfer_problem(
        stores,
        cars,
        demand,
        trims=trims,
        distance=km,
        movable=draw(st.lists(st.booleans(), min_size=len(cars), max_size=len(cars))),
        loading=draw(st.integers(1, 4)),
        lot=draw(st.integers(2, 8)),
        aging=draw(st.sampled_from([0.0, 3000.0])),
        lead=draw(st.sampled_from([0.0, 1.0])),
        price=draw(st.sampled_from([90_600.0, 95_000.0, 100_000.0])),
        truck_capacity=draw(st.integers(1, 3)),
    )


def _brute_force(p: TransferProblem) -> float:
    values = cell_values(p)
    arcs = candidate_arcs(p, values, full_truck_share=False)
    best = 0.0
    for cars in itertools.product(*(range(int(c) + 1) for c in arcs.cap)):
        moves = TrimMoves.of(arcs, np.array(cars, dtype=np.int64))
        if violations(p, values, moves):
            continue
        best = max(best, model_value(p, values, moves).net)
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_consolidated_is_optimal_and_fast_and_greedy_are_feasible_and_no_better(p):
    values = cell_values(p)
    arcs = candidate_arcs(p, values, full_truck_share=False)
    if np.prod(np.asarray(arcs.cap) + 1, dtype=float) > 5000:
        return  # too many plans to enumerate
    best = _brute_force(p)
    exact = transfer_mip.solve(p, EXACT, values)
    fast = transfer_fast.solve(p, values)
    greedy = baseline_solution(p, values)
    assert exact.value.net == pytest.approx(best, abs=1e-3)
    for solution in (exact, fast, greedy):
        assert violations(p, values, solution.moves) == []
        assert solution.value.net <= best + 1e-3
    for solution in (exact, fast):
        assert solution.bound >= best - 1e-3, "the bound is proven"
        assert solution.gap >= 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_vin_plans_keep_every_rule(p):
    values = cell_values(p)
    for solution in (
        transfer_fast.solve(p, values),
        transfer_mip.solve(p, EXACT, values),
        baseline_solution(p, values),
    ):
        plan = finish(p, values, solution, samples=20)
        vins = [m.vin for m in plan.moves]
        assert len(vins) == len(set(vins)), "a VIN moves at most once"
        index = {v: c for c, v in enumerate(p.vins)}
        per_truck: dict[str, int] = {}
        loaded: dict[str, int] = {}
        for m in plan.moves:
            c = index[m.vin]
            assert p.movable[c]
            assert p.base.store_ids[int(p.base.cars.store[c])] == m.from_store_id
            j = p.base.store_ids.index(m.to_store_id)
            assert p.base.authorised[j, int(p.base.cars.trim[c])], "authorised destinations"
            assert m.truck_id.startswith(f"{m.from_store_id}->{m.to_store_id}#")
            per_truck[m.truck_id] = per_truck.get(m.truck_id, 0) + 1
            loaded[m.from_store_id] = loaded.get(m.from_store_id, 0) + 1
        assert all(n <= p.truck_capacity for n in per_truck.values()), "trucks never over"
        for s, n in loaded.items():
            assert n <= p.loading_limit[p.base.store_ids.index(s)], "loading limits kept"
        assert sum(lane.trucks for lane in plan.lanes) == len(per_truck)
        assert plan.transport_cost_cny == pytest.approx(sum(lane.cost_cny for lane in plan.lanes))
        assert trucks(p, solution.moves) == solution.lane_trucks


# --- helpers -----------------------------------------------------------------------------


def _solve(p: TransferProblem, solver: str):
    values = cell_values(p)
    if solver == "fast":
        return transfer_fast.solve(p, values)
    return transfer_mip.solve(p, EXACT, values)


def _arrays(moves: TrimMoves, width: int = 3):
    if width == 4:
        return moves.origin, moves.destination, moves.trim, moves.cars
    return moves.origin, moves.destination, moves.cars
