"""A whole pick-up plan, as the RPC, the CLI and the benchmark make it.

``plan_pickup(tables, request, demand)`` builds the problem from the network's tables
(``pickup_network``), solves it (``pickup_mix``), and gathers what a planner reads: the
order lines with their expected sales and reasons, the KPIs before (the stock held now,
or ordering nothing) and after the plan, the binding constraints with their shadow prices,
and the decision on every trim. An infeasible request raises ``FailedPrecondition`` with
the diagnosis; nothing is half-made.

``demand_from_sales`` forecasts the weekly demand quantiles of the horizon from weekly
sales with the forecasting engine, for callers that supply no demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation import pickup_kpis
from allocation.pickup_explain import (
    BindingConstraint,
    TrimDecision,
    binding_constraints,
    line_reasons,
    trim_decisions,
)
from allocation.pickup_mix import PickupSolution, solve
from allocation.pickup_network import NetworkTables, build_problem
from allocation.pickup_problem import PickupProblem
from allocation.pickup_request import OrderLine, PickupRequest
from turnwise.errors import FailedPrecondition, InvalidArgument
from turnwise.solving import SolveStatus

__all__ = [
    "DEFAULT_DEMAND_LEVELS",
    "KpiValue",
    "PickupPlan",
    "demand_from_sales",
    "hint_from_lines",
    "plan_pickup",
    "sales_history",
]

DEFAULT_DEMAND_LEVELS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class KpiValue:
    name: str
    before: float
    after: float
    unit: str


@dataclass(frozen=True, eq=False)
class PickupPlan:
    problem: PickupProblem
    solution: PickupSolution
    lines: tuple[OrderLine, ...]
    kpis: tuple[KpiValue, ...]
    binding: tuple[BindingConstraint, ...]
    trims: tuple[TrimDecision, ...]


def plan_pickup(
    tables: NetworkTables,
    request: PickupRequest,
    demand: pd.DataFrame,
    hint_lines: Sequence[OrderLine] = (),
    forecast_demand: bool = False,
) -> PickupPlan:
    """The plan of the module docstring; ``hint_lines`` are a previous plan's lines;
    ``forecast_demand`` says the demand was forecast from sales (so demand for a trim a
    store no longer sells is dropped instead of rejected)."""
    problem = build_problem(
        tables,
        request.first_week,
        request.weeks,
        demand,
        request.overrides,
        request.store_ids,
        request.max_days_of_supply,
        request.target_penalty_cny,
        drop_unauthorised_demand=forecast_demand,
    )
    hint = hint_from_lines(problem, hint_lines) if hint_lines else None
    solution = solve(problem, request.limits, hint)
    if solution.status is SolveStatus.INFEASIBLE:
        raise FailedPrecondition("plan", solution.diagnosis)
    if solution.index is None or solution.values.size == 0:
        raise FailedPrecondition(
            "limits.time_limit_seconds",
            f"no plan meeting the hard brand targets was found in "
            f"{request.limits.time_limit_seconds:.1f} s; allow more time",
        )
    index = solution.index
    duals = solution.relaxation.duals if solution.relaxation is not None else np.zeros(0)
    reasons = line_reasons(problem, solution.orders, index)
    lines = tuple(
        OrderLine(
            problem.store_ids[r.store],
            problem.trim_ids[r.trim],
            problem.weeks[r.week],
            int(solution.orders[r.store, r.trim, r.week]),
            r.expected_sales,
            r.reason,
        )
        for r in reasons
    )
    return PickupPlan(
        problem=problem,
        solution=solution,
        lines=lines,
        kpis=_kpis(problem, solution.orders, request.kpi_samples),
        binding=tuple(binding_constraints(problem, index, duals) if duals.size else ()),
        trims=tuple(trim_decisions(problem, solution.orders, duals, index)),
    )


def _kpis(problem: PickupProblem, orders: np.ndarray, samples: int) -> tuple[KpiValue, ...]:
    nothing = pickup_kpis.evaluate(problem, np.zeros_like(orders), samples)
    now = pickup_kpis.current(problem, nothing)
    plan = pickup_kpis.evaluate(problem, orders, samples)
    return (
        KpiValue(
            "expected_profit_cny", nothing.expected_profit_cny, plan.expected_profit_cny, "cny"
        ),
        KpiValue("expected_sales", nothing.expected_sales, plan.expected_sales, "cars"),
        KpiValue("fill_rate", nothing.fill_rate, plan.fill_rate, "ratio"),
        KpiValue("days_of_supply", now.days_of_supply, plan.days_of_supply, "days"),
        KpiValue("slow_moving_share", now.slow_moving_share, plan.slow_moving_share, "ratio"),
        KpiValue("aged_share", now.aged_share, plan.aged_share, "ratio"),
        KpiValue("credit_used_cny", now.credit_used_cny, plan.credit_used_cny, "cny"),
        KpiValue("target_attainment", 0.0, plan.target_attainment, "ratio"),
        KpiValue("cars_ordered", 0.0, float(plan.cars_ordered), "cars"),
    )


def hint_from_lines(problem: PickupProblem, lines: Sequence[OrderLine]) -> np.ndarray:
    """(S, T, W) cars of a previous plan's lines; lines outside the problem are dropped."""
    s_of = {s: i for i, s in enumerate(problem.store_ids)}
    t_of = {t: i for i, t in enumerate(problem.trim_ids)}
    w_of = {w: i for i, w in enumerate(problem.weeks)}
    hint = np.zeros(problem.shape, dtype=np.int64)
    for line in lines:
        s, t, w = s_of.get(line.store_id), t_of.get(line.trim_id), w_of.get(line.week_start)
        if s is not None and t is not None and w is not None:
            hint[s, t, w] += line.units
    return hint


def sales_history(sales: pd.DataFrame) -> pd.DataFrame:
    """The weekly sales table (``week_start, store_id, trim_id, units``) as the long series
    the forecaster reads: ``unique_id = "store_id/trim_id", ds, y``, sorted."""
    return pd.DataFrame(
        {
            "unique_id": sales["store_id"] + "/" + sales["trim_id"],
            "ds": pd.to_datetime(sales["week_start"]),
            "y": sales["units"].astype(float),
        }
    ).sort_values(["unique_id", "ds"], ignore_index=True)


def demand_from_sales(
    sales: pd.DataFrame,
    first_week: date,
    weeks: int,
    model: str = "ets",
    levels: tuple[float, ...] = DEFAULT_DEMAND_LEVELS,
) -> pd.DataFrame:
    """Weekly demand quantiles ``store_id, trim_id, week_start, q<level>...`` for the
    ``weeks`` weeks from ``first_week``, forecast from ``sales`` (``unique_id =
    "store_id/trim_id", ds, y``, weekly) with the engine's ``model``."""
    from forecasting.backend import SequentialBackend
    from forecasting.forecaster import ForecastConfig, forecast
    from forecasting.model import ModelName
    from forecasting.panel import Frequency, build_panel

    columns = ["store_id", "trim_id", "week_start", *(f"q{lv:g}" for lv in levels)]
    if sales.empty:
        return pd.DataFrame({c: [] for c in columns})
    last = pd.Timestamp(sales["ds"].max()).date()
    ahead = (first_week - last).days // 7
    if ahead < 1:
        raise InvalidArgument(
            "first_week",
            f"{first_week} is not after the last week of sales ({last}); plan from "
            f"{last + timedelta(days=7)} on, or supply the demand",
        )
    panel = build_panel(sales, Frequency.WEEKLY, ahead - 1 + weeks)
    result = forecast(panel, levels, ForecastConfig(model=ModelName(model)), SequentialBackend())
    rows = []
    for f in result.forecasts:
        store_id, trim_id = f.unique_id.split("/", 1)
        q = np.maximum.accumulate(np.maximum(f.quantiles[ahead - 1 :], 0.0), axis=1)
        for i in range(weeks):
            week = (first_week + timedelta(days=7 * i)).isoformat()
            rows.append((store_id, trim_id, week, *q[i]))
    return pd.DataFrame(rows, columns=columns)
