"""A whole transfer plan, as the RPC, the CLI and the benchmark make it.

``plan_transfers(tables, request, demand)`` builds the problem (``transfer_network``),
solves it fast (``transfer_fast``) or consolidated (``transfer_mip``, from the fast plan),
selects the VINs and loads the trucks (``transfer_vins``), and measures the KPIs before
and after (``kpis``).

``kpis`` evaluates the stock before and after the moves on the same sampled demand with
the pick-up KPIs (``pickup_kpis.evaluate`` with no orders: weekly lost sales, oldest cars
sell first); moved cars count at their destination from the first week (the lead time,
under a week, is charged in the solver's objective, not in the simulation).
``net_gain_cny`` is the change of the simulated profit less the transport cost.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from allocation import pickup_kpis, transfer_fast, transfer_mip
from allocation.pickup_network import NetworkTables, PickupOverrides
from allocation.pickup_plan import KpiValue
from allocation.pickup_problem import StockCars
from allocation.transfer_baseline import nearest_surplus
from allocation.transfer_moves import TransferSolution, TrimMoves, model_value, trucks
from allocation.transfer_network import TransferParameters, build_transfer_problem
from allocation.transfer_problem import TransferProblem
from allocation.transfer_values import CellValues, cell_values
from allocation.transfer_vins import Lane, Move, select_vins
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus

__all__ = [
    "TransferMode",
    "TransferPlan",
    "TransferRequest",
    "baseline_solution",
    "finish",
    "kpis",
    "moved_cars",
    "plan_transfers",
]


class TransferMode(enum.Enum):
    FAST = "fast"
    CONSOLIDATED = "consolidated"


@dataclass(frozen=True)
class TransferRequest:
    first_week: date
    mode: TransferMode
    weeks: int = 4
    store_ids: Sequence[str] = ()
    overrides: PickupOverrides = field(default_factory=PickupOverrides)
    parameters: TransferParameters = field(default_factory=TransferParameters)
    limits: SolveLimits = field(default_factory=SolveLimits)
    kpi_samples: int = pickup_kpis.DEFAULT_SAMPLES


@dataclass(frozen=True, eq=False)
class TransferPlan:
    problem: TransferProblem
    solution: TransferSolution
    moves: tuple[Move, ...]
    lanes: tuple[Lane, ...]
    kpis: tuple[KpiValue, ...]
    transport_cost_cny: float
    net_gain_cny: float
    """Simulated expected profit after less before, less transport."""


def plan_transfers(
    tables: NetworkTables,
    request: TransferRequest,
    demand: pd.DataFrame,
    recent_moves: Mapping[str, date] | None = None,
    forecast_demand: bool = False,
    pending_moves: Mapping[str, str] | None = None,
) -> TransferPlan:
    """The plan of the module docstring; ``forecast_demand`` says the demand was forecast
    from sales (demand for a trim a store no longer sells is then dropped, not rejected);
    ``recent_moves`` and ``pending_moves`` as in ``transfer_network``."""
    if request.kpi_samples < 1:
        raise InvalidArgument("kpi_samples", f"must be >= 1, got {request.kpi_samples}")
    problem = build_transfer_problem(
        tables,
        request.first_week,
        request.weeks,
        demand,
        request.parameters,
        request.overrides,
        request.store_ids,
        recent_moves,
        drop_unauthorised_demand=forecast_demand,
        pending_moves=pending_moves,
    )
    values = cell_values(problem)
    solution = transfer_fast.solve(problem, values)
    if request.mode is TransferMode.CONSOLIDATED:
        solution = transfer_mip.solve(problem, request.limits, values, solution)
    return finish(problem, values, solution, request.kpi_samples)


def finish(
    problem: TransferProblem, values: CellValues, solution: TransferSolution, samples: int
) -> TransferPlan:
    """VINs, trucks and KPIs of a solved plan."""
    moves, lanes = select_vins(problem, values, solution)
    transport = float(sum(lane.cost_cny for lane in lanes))
    table, gain = kpis(problem, moves, transport, samples)
    return TransferPlan(problem, solution, moves, lanes, table, transport, gain)


def moved_cars(problem: TransferProblem, moves: Sequence[Move]) -> StockCars:
    """The group's cars with the moved ones at their destination."""
    cars = problem.base.cars
    index = {vin: c for c, vin in enumerate(problem.vins)}
    s_of = {s: i for i, s in enumerate(problem.base.store_ids)}
    store = cars.store.copy()
    for move in moves:
        store[index[move.vin]] = s_of[move.to_store_id]
    return StockCars(store, cars.trim, cars.age_days, cars.arrival_week)


def kpis(
    problem: TransferProblem, moves: Sequence[Move], transport_cny: float, samples: int
) -> tuple[tuple[KpiValue, ...], float]:
    """The KPIs before and after ``moves`` and the net gain (module docstring)."""
    base = problem.base
    after_problem = replace(base, cars=moved_cars(problem, moves))
    zero = np.zeros(base.shape, dtype=np.int64)
    before = pickup_kpis.evaluate(base, zero, samples)
    after = pickup_kpis.evaluate(after_problem, zero, samples)
    lost_before = _lost(before)
    lost_after = _lost(after)
    trucks = len({m.truck_id for m in moves})
    table = (
        KpiValue(
            "expected_profit_cny", before.expected_profit_cny, after.expected_profit_cny, "cny"
        ),
        KpiValue("expected_sales", before.expected_sales, after.expected_sales, "cars"),
        KpiValue("projected_lost_sales", lost_before, lost_after, "cars"),
        KpiValue("fill_rate", before.fill_rate, after.fill_rate, "ratio"),
        KpiValue("days_of_supply", before.days_of_supply, after.days_of_supply, "days"),
        KpiValue("slow_moving_share", before.slow_moving_share, after.slow_moving_share, "ratio"),
        KpiValue("aged_share", before.aged_share, after.aged_share, "ratio"),
        KpiValue("transport_cost_cny", 0.0, transport_cny, "cny"),
        KpiValue("cars_moved", 0.0, float(len(moves)), "cars"),
        KpiValue("trucks", 0.0, float(trucks), "trucks"),
    )
    gain = after.expected_profit_cny - before.expected_profit_cny - transport_cny
    return table, gain


def _lost(k: pickup_kpis.PickupKpis) -> float:
    demanded = k.expected_sales / k.fill_rate if k.fill_rate > 0 else 0.0
    return demanded - k.expected_sales


def baseline_solution(problem: TransferProblem, values: CellValues) -> TransferSolution:
    """The greedy baseline (``transfer_baseline``) as a solution, for comparisons."""
    moves: TrimMoves = nearest_surplus(problem, values)
    lane_trucks = trucks(problem, moves)
    return TransferSolution(
        status=SolveStatus.FEASIBLE,
        method="baseline-greedy",
        moves=moves,
        lane_trucks=lane_trucks,
        value=model_value(problem, values, moves, lane_trucks),
        bound=float("nan"),
        gap=float("nan"),
        seconds=0.0,
    )
