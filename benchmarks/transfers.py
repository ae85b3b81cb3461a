"""Benchmark ``transfers``: the nightly transfer plan against the planners' greedy rule.

Cases (``--quick``: g60 and netgen):

- ``g60``: the demo group of 60 stores x 120 trims (``dealer_group.demo``, seed 0), the
  first 4 weeks after its sales history, demand forecast from that history by the engine's
  ETS member (as the ``pickup`` benchmark); ``g300``: 300 stores x 200 trims;
- ``netgen``: the NETGEN min-cost-flow instance of ../shared/data/network_flow_instances
  (known optimum 6749969302), solved by the flow core the fast solve runs on.

Methods on g60 / g300, all on the same problem and evaluated on the same 500 draws of
weekly demand (``allocation.transfer_plan.kpis``, seed 0: weekly lost sales, oldest cars
sell first, moved cars at their destination from the first week):

- ``turnwise``: the consolidated MIP (``allocation.transfer_mip``) from the fast plan, to a
  0.5% gap within 60 s;
- ``turnwise-fast``: the min-cost flow at trim level (``allocation.transfer_fast``);
- ``baseline-greedy``: the nearest surplus store to each shortage
  (``allocation.transfer_baseline``).

``net_gain_cny`` is the simulated expected profit of the 4 weeks after the moves less before
them, less the transport cost; ``model_net_gain_cny`` the solver's own estimate of it
(``allocation.transfer_values``: demand summed over the horizon, lead time charged).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd

from allocation import min_cost_flow, transfer_fast, transfer_mip
from allocation.pickup_network import NetworkTables
from allocation.pickup_plan import demand_from_sales, sales_history
from allocation.transfer_moves import TransferSolution
from allocation.transfer_network import build_transfer_problem
from allocation.transfer_plan import baseline_solution, finish
from allocation.transfer_values import cell_values
from benchmarks.runner import Row
from turnwise.solving import SolveLimits

__all__ = ["CASES", "NETGEN", "NETGEN_OPTIMUM", "QUICK_CASES", "run"]

CASES: dict[str, tuple[int, int]] = {"g60": (60, 120), "g300": (300, 200)}
"""case -> (stores, trims)."""
QUICK_CASES = ("g60",)
WEEKS = 4
SAMPLES = 500
LIMITS = SolveLimits(time_limit_seconds=60.0, relative_gap=5e-3)
NETGEN = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "network_flow_instances"
) / "netgen-2.min"
NETGEN_OPTIMUM = 6749969302


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for name in QUICK_CASES if quick else tuple(CASES):
        start = time.perf_counter()
        print(f"transfers benchmark: {name} ...", file=sys.stderr, flush=True)
        rows += _case(name, *CASES[name])
        print(
            f"transfers benchmark: {name} done in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    rows += _netgen()
    return rows


def _case(name: str, stores: int, trims: int) -> list[Row]:
    from dealer_group.demo import DemoSpec, generate

    group = generate(DemoSpec(stores=stores, trims=trims, seed=0))
    sales = sales_history(group.sales)
    first = pd.Timestamp(sales["ds"].max()).date() + timedelta(days=7)
    start = time.perf_counter()
    demand = demand_from_sales(sales, first, WEEKS, "ets")
    forecast_seconds = time.perf_counter() - start
    start = time.perf_counter()
    problem = build_transfer_problem(
        NetworkTables.of(group), first, WEEKS, demand, drop_unauthorised_demand=True
    )
    build_seconds = time.perf_counter() - start

    start = time.perf_counter()
    values = cell_values(problem)
    fast = transfer_fast.solve(problem, values)
    fast_seconds = time.perf_counter() - start
    start = time.perf_counter()
    consolidated = transfer_mip.solve(problem, LIMITS, cell_values(problem), fast)
    mip_seconds = time.perf_counter() - start + fast_seconds  # it starts from the fast plan
    start = time.perf_counter()
    greedy = baseline_solution(problem, values)
    greedy_seconds = time.perf_counter() - start

    rows = [
        Row(name, "turnwise", "forecast_seconds", forecast_seconds, "s"),
        Row(name, "turnwise", "build_seconds", build_seconds, "s"),
        Row(name, "turnwise", "cars_in_stock", float(len(problem.vins)), "cars"),
    ]
    runs: dict[str, tuple[TransferSolution, float]] = {
        "turnwise": (consolidated, mip_seconds),
        "turnwise-fast": (fast, fast_seconds),
        "baseline-greedy": (greedy, greedy_seconds),
    }
    for method, (solution, seconds) in runs.items():
        plan = finish(problem, values, solution, SAMPLES)
        kpis = {k.name: k for k in plan.kpis}
        rows += [
            Row(name, method, "net_gain_cny", plan.net_gain_cny, "CNY"),
            Row(name, method, "model_net_gain_cny", solution.value.net, "CNY"),
            Row(name, method, "transport_cost_cny", plan.transport_cost_cny, "CNY"),
            Row(name, method, "solve_seconds", seconds, "s"),
            Row(name, method, "cars_moved", float(len(plan.moves)), "cars"),
            Row(name, method, "trucks", float(sum(lane.trucks for lane in plan.lanes)), "trucks"),
        ]
        for kpi in ("slow_moving_share", "days_of_supply", "projected_lost_sales", "fill_rate"):
            rows.append(Row(name, method, kpi, kpis[kpi].after, kpis[kpi].unit))
        if method == "turnwise":
            rows.append(Row(name, method, "gap", solution.gap, "ratio"))
            rows.append(Row(name, method, "bound_cny", solution.bound, "CNY"))
    for kpi in ("slow_moving_share", "days_of_supply", "projected_lost_sales", "fill_rate"):
        rows.append(Row(name, "no-moves", kpi, kpis[kpi].before, kpis[kpi].unit))
    return rows


def _netgen() -> list[Row]:
    if not NETGEN.is_file():
        print(f"transfers benchmark: {NETGEN} is absent; netgen skipped", file=sys.stderr)
        return []
    network = min_cost_flow.read_dimacs(NETGEN)
    start = time.perf_counter()
    solution = min_cost_flow.solve(network)
    seconds = time.perf_counter() - start
    return [
        Row("netgen", "turnwise-fast", "objective", float(solution.cost), "cost"),
        Row("netgen", "turnwise-fast", "solve_seconds", seconds, "s"),
        Row("netgen", "known-optimum", "objective", float(NETGEN_OPTIMUM), "cost"),
    ]
