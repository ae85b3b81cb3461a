"""Benchmark ``pickup``: the pick-up mix solver against the planners' proportional rule.

Cases (``--quick``: g60): generated demo groups (``dealer_group.demo``, seed 0), the first
4 weeks after their sales history, demand forecast from that history by the engine's ETS
member (``allocation.pickup_plan.demand_from_sales``):

- ``g60``: 60 stores x 120 trims, solved to a 0.1% gap;
- ``g300``: 300 stores x 200 trims, solved to a 0.5% gap.

Methods, evaluated on the same sampled demand (``allocation.pickup_kpis.evaluate``, 500
draws, seed 1: weekly lost sales, oldest cars sell first):

- ``turnwise``: ``allocation.pickup_mix.solve`` (LP bound, LP-guided neighbourhood MIP);
- ``baseline-proportional``: ``allocation.pickup_baseline.proportional`` on the last 4
  weeks of sales, capped by lot space and credit;
- ``no-orders``: ordering nothing, for scale.

``bundle_rows_broken`` counts the (bundle, week) rows a plan breaks (the OEM's terms): the
proportional rule ignores bundles, the solver keeps them, which costs it slow cars.

Re-solves (``<case>/credit-cut``: the store drawing the most credit gets 20% less;
``<case>/offer-cut``: the most-offered trim loses half its offer): ``turnwise-warm`` starts
from the first plan (``hint``), ``turnwise-cold`` solves from scratch; both at the case's gap.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd

from allocation.pickup_baseline import proportional
from allocation.pickup_kpis import PickupKpis, evaluate
from allocation.pickup_mix import PickupSolution, solve
from allocation.pickup_network import NetworkTables, build_problem
from allocation.pickup_plan import demand_from_sales, sales_history
from allocation.pickup_problem import PickupProblem
from benchmarks.runner import Row
from turnwise.solving import SolveLimits

__all__ = ["CASES", "QUICK_CASES", "run"]

CASES: dict[str, tuple[int, int, float]] = {"g60": (60, 120, 1e-3), "g300": (300, 200, 5e-3)}
"""case -> (stores, trims, relative gap)."""
QUICK_CASES = ("g60",)
WEEKS = 4
SAMPLES = 500
TIME_LIMIT = 60.0


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for name in QUICK_CASES if quick else tuple(CASES):
        stores, trims, gap = CASES[name]
        start = time.perf_counter()
        print(f"pickup benchmark: {name} ...", file=sys.stderr, flush=True)
        rows += _case(name, stores, trims, gap)
        print(
            f"pickup benchmark: {name} done in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return rows


def _case(name: str, stores: int, trims: int, gap: float) -> list[Row]:
    from dealer_group.demo import DemoSpec, generate

    group = generate(DemoSpec(stores=stores, trims=trims, seed=0))
    sales = sales_history(group.sales)
    first = pd.Timestamp(sales["ds"].max()).date() + timedelta(days=7)
    start = time.perf_counter()
    demand = demand_from_sales(sales, first, WEEKS, "ets")
    forecast_seconds = time.perf_counter() - start
    tables = NetworkTables.of(group)
    problem = build_problem(tables, first, WEEKS, demand, drop_unauthorised_demand=True)
    limits = SolveLimits(time_limit_seconds=TIME_LIMIT, relative_gap=gap)
    solution = solve(problem, limits)
    baseline = proportional(problem, _recent_sales(group.sales, problem, first))
    rows = [
        Row(name, "turnwise", "solve_seconds", solution.solve_seconds, "s"),
        Row(name, "turnwise", "gap", solution.gap, "ratio"),
        Row(name, "turnwise", "objective_cny", solution.objective, "CNY"),
        Row(name, "turnwise", "bound_cny", solution.bound, "CNY"),
        Row(name, "turnwise", "forecast_seconds", forecast_seconds, "s"),
    ]
    plans = {
        "turnwise": solution.orders,
        "baseline-proportional": baseline,
        "no-orders": np.zeros(problem.shape, dtype=np.int64),
    }
    for method, orders in plans.items():
        rows += _kpi_rows(name, method, evaluate(problem, orders, SAMPLES, seed=1))
        rows.append(
            Row(name, method, "bundle_rows_broken", _bundles_broken(problem, orders), "rows")
        )
    for change, changed in _changes(problem, solution).items():
        case = f"{name}/{change}"
        cold = solve(changed, limits)
        warm = solve(changed, limits, hint=solution.orders)
        for method, s in (("turnwise-warm", warm), ("turnwise-cold", cold)):
            rows += [
                Row(case, method, "resolve_seconds", s.solve_seconds, "s"),
                Row(case, method, "gap", s.gap, "ratio"),
                Row(case, method, "objective_cny", s.objective, "CNY"),
            ]
    return rows


def _kpi_rows(case: str, method: str, k: PickupKpis) -> list[Row]:
    return [
        Row(case, method, "expected_profit_cny", k.expected_profit_cny, "CNY"),
        Row(case, method, "fill_rate", k.fill_rate, "ratio"),
        Row(case, method, "days_of_supply", k.days_of_supply, "days"),
        Row(case, method, "slow_moving_share", k.slow_moving_share, "ratio"),
        Row(case, method, "aged_share", k.aged_share, "ratio"),
        Row(case, method, "target_attainment", k.target_attainment, "ratio"),
        Row(case, method, "cars_ordered", float(k.cars_ordered), "cars"),
    ]


def _bundles_broken(problem: PickupProblem, orders: np.ndarray) -> float:
    """How many (bundle, week) rows the plan breaks: hot cars above k x slow cars by then."""
    broken = 0
    for b in problem.bundles:
        hot = np.cumsum(orders[:, b.hot_trim].sum(axis=0))
        slow = np.cumsum(orders[:, b.slow_trim].sum(axis=0))
        broken += int((hot > b.hot_units_per_slow * slow).sum())
    return float(broken)


def _changes(problem: PickupProblem, solution: PickupSolution) -> dict[str, PickupProblem]:
    drawn = (solution.orders.sum(axis=2) * problem.cost_cny[None, :]).sum(axis=1)
    store = int(np.argmax(drawn))
    credit = problem.credit_limit_cny.copy()
    credit[store] *= 0.8
    trim = int(np.argmax(problem.offer.sum(axis=1)))
    offer = problem.offer.copy()
    offer[trim] //= 2
    return {
        "credit-cut": replace(problem, credit_limit_cny=credit),
        "offer-cut": replace(problem, offer=offer),
    }


def _recent_sales(sales: pd.DataFrame, problem: PickupProblem, first: object) -> np.ndarray:
    """(S, T) mean weekly sales of the last 4 weeks before the horizon."""
    weeks = pd.to_datetime(sales["week_start"])
    cutoff = pd.Timestamp(first) - pd.Timedelta(weeks=4)  # type: ignore[arg-type]
    recent = sales[weeks >= cutoff].groupby(["store_id", "trim_id"])["units"].sum() / 4.0
    s_of = {s: i for i, s in enumerate(problem.store_ids)}
    t_of = {t: i for i, t in enumerate(problem.trim_ids)}
    out = np.zeros(problem.shape[:2])
    for key, value in recent.items():
        store, trim = str(key[0]), str(key[1])  # type: ignore[index]
        if store in s_of and trim in t_of:
            out[s_of[store], t_of[trim]] = float(value)
    return out
