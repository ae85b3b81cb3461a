"""AllocationService.PlanPickup: request -> ``PickupRequest`` + demand frame, and
``PickupPlan`` -> ``PlanPickupResponse``.

Everything the request itself can get wrong is checked here and named by its field
(``demand[3].quantiles[1].level``, ``overrides.offers[0].week_start``); what needs the
stored network (unknown stores or trims, unauthorised demand) is checked when the problem
is built, with the same field names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocation.pickup_network import PickupOverrides
from allocation.pickup_problem import DEFAULT_MAX_DAYS_OF_SUPPLY
from allocation.pickup_request import OrderLine, PickupRequest
from serving.convert.common import date_from_pb, date_to_pb
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus
from turnwise.v1 import allocation_pb2 as pb
from turnwise.v1 import common_pb2

if TYPE_CHECKING:
    from allocation.pickup_plan import PickupPlan

__all__ = [
    "MAX_DEMAND_ROWS",
    "STATUS_TO_PB",
    "PickupQuery",
    "demand_from_pb",
    "finite",
    "limits_from_pb",
    "lines_from_body",
    "overrides_from_pb",
    "plan_kpis",
    "plan_to_response",
    "request_to_query",
    "scope_of",
]

MAX_DEMAND_ROWS = 2_000_000
STATUS_TO_PB = {
    SolveStatus.OPTIMAL: common_pb2.SOLVE_STATUS_OPTIMAL,
    SolveStatus.FEASIBLE: common_pb2.SOLVE_STATUS_FEASIBLE,
    SolveStatus.TIME_LIMIT: common_pb2.SOLVE_STATUS_TIME_LIMIT,
    SolveStatus.INFEASIBLE: common_pb2.SOLVE_STATUS_INFEASIBLE,
}


@dataclass(frozen=True, eq=False)
class PickupQuery:
    """A validated PlanPickupRequest: the request for the planner (its time limit set by
    the server), the caller's demand (None: forecast from stored sales) and the plan to
    warm-start from."""

    request: PickupRequest
    demand: pd.DataFrame | None
    requested_seconds: float
    hint_plan_id: str


def request_to_query(request: pb.PlanPickupRequest, default_gap: float) -> PickupQuery:
    first = date_from_pb("first_week", request.first_week)
    if first.weekday() != 0:
        raise InvalidArgument("first_week", f"{first} is a {first:%A}; weeks start on Monday")
    if not 1 <= request.weeks <= 26:
        raise InvalidArgument("weeks", f"must be within 1..26, got {request.weeks}")
    horizon = [first + timedelta(days=7 * i) for i in range(request.weeks)]
    store_ids = tuple(request.store_ids)
    for i, s in enumerate(store_ids):
        if not s:
            raise InvalidArgument(f"store_ids[{i}]", "is empty")
        if s in store_ids[:i]:
            raise InvalidArgument(f"store_ids[{i}]", f"{s!r} is listed twice")
    if not math.isfinite(request.max_days_of_supply) or request.max_days_of_supply < 0:
        raise InvalidArgument(
            "max_days_of_supply", f"must be >= 0 (0 = default), got {request.max_days_of_supply}"
        )
    seconds, limits = limits_from_pb(request.limits, default_gap)
    overrides = (
        overrides_from_pb(request.overrides, horizon) if request.HasField("overrides") else None
    )
    planner = PickupRequest(
        first_week=first,
        weeks=request.weeks,
        limits=limits,
        store_ids=store_ids,
        overrides=overrides or PickupOverrides(),
        max_days_of_supply=request.max_days_of_supply or DEFAULT_MAX_DAYS_OF_SUPPLY,
    )
    demand = demand_from_pb(request.demand, set(horizon)) if request.demand else None
    return PickupQuery(planner, demand, seconds, request.hint_plan_id)


def limits_from_pb(limits: common_pb2.SolveLimits, default_gap: float) -> tuple[float, SolveLimits]:
    checks = (
        ("limits.time_limit_seconds", limits.time_limit_seconds, 0.0, math.inf),
        ("limits.relative_gap", limits.relative_gap, 0.0, 0.999),
        ("limits.workers", float(limits.workers), 0.0, 64.0),
    )
    for name, value, lo, hi in checks:
        if not math.isfinite(value) or not lo <= value <= hi:
            raise InvalidArgument(
                name, f"must be within [{lo:g}, {hi:g}] (0 = default), got {value}"
            )
    return limits.time_limit_seconds, SolveLimits(
        time_limit_seconds=limits.time_limit_seconds or 1.0,
        relative_gap=limits.relative_gap or default_gap,
        workers=limits.workers or 1,
    )


def overrides_from_pb(o: pb.NetworkOverrides, horizon: list[date]) -> PickupOverrides:
    for name, values in (
        ("credit_limit_cny", o.credit_limit_cny),
        ("lot_capacity", o.lot_capacity),
    ):
        for key, value in values.items():
            if value < 0:
                raise InvalidArgument(f"overrides.{name}[{key}]", f"must be >= 0, got {value}")
    if o.group_credit_limit_cny < 0:
        raise InvalidArgument(
            "overrides.group_credit_limit_cny",
            f"must be >= 0 (0 = none), got {o.group_credit_limit_cny}",
        )
    for key, factor in o.price_factor.items():
        if not math.isfinite(factor) or factor <= 0:
            raise InvalidArgument(f"overrides.price_factor[{key}]", f"must be > 0, got {factor}")
    for key, factor in o.demand_factor.items():
        if not math.isfinite(factor) or factor < 0:
            raise InvalidArgument(f"overrides.demand_factor[{key}]", f"must be >= 0, got {factor}")
    offers: dict[tuple[date, str], int] = {}
    for i, line in enumerate(o.offers):
        where = f"overrides.offers[{i}]"
        week = date_from_pb(f"{where}.week_start", line.week_start)
        if week not in horizon:
            raise InvalidArgument(
                f"{where}.week_start",
                f"{week} is not a week of the horizon {horizon[0]}..{horizon[-1]}",
            )
        if not line.trim_id:
            raise InvalidArgument(f"{where}.trim_id", "is required")
        if line.max_units < 0:
            raise InvalidArgument(f"{where}.max_units", f"must be >= 0, got {line.max_units}")
        if (week, line.trim_id) in offers:
            raise InvalidArgument(where, f"({week}, {line.trim_id}) is overridden twice")
        offers[(week, line.trim_id)] = line.max_units
    return PickupOverrides(
        credit_limit_cny={k: float(v) for k, v in o.credit_limit_cny.items()},
        lot_capacity=dict(o.lot_capacity),
        group_credit_limit_cny=float(o.group_credit_limit_cny) or None,
        offers=offers,
        price_factor=dict(o.price_factor),
        demand_factor=dict(o.demand_factor),
    )


def demand_from_pb(rows: Any, horizon: set[date] | None) -> pd.DataFrame:
    """The demand rows as a frame ``store_id, trim_id, week_start, q<level>...``; with
    ``horizon``, every week must be one of it, without, every week must be a Monday."""
    if len(rows) > MAX_DEMAND_ROWS:
        raise InvalidArgument("demand", f"{len(rows)} rows exceed the limit of {MAX_DEMAND_ROWS}")
    levels: tuple[float, ...] | None = None
    records: list[tuple[Any, ...]] = []
    seen: set[tuple[str, str, date]] = set()
    for i, row in enumerate(rows):
        where = f"demand[{i}]"
        for name in ("store_id", "trim_id"):
            if not getattr(row, name):
                raise InvalidArgument(f"{where}.{name}", "is required")
        week = date_from_pb(f"{where}.week_start", row.week_start)
        if horizon is not None and week not in horizon:
            raise InvalidArgument(f"{where}.week_start", f"{week} is not a week of the horizon")
        if horizon is None and week.weekday() != 0:
            raise InvalidArgument(
                f"{where}.week_start", f"{week} is a {week:%A}; weeks start on Monday"
            )
        key = (row.store_id, row.trim_id, week)
        if key in seen:
            raise InvalidArgument(where, f"demand for {key[0]}, {key[1]}, {week} is given twice")
        seen.add(key)
        pairs = [(q.level, q.value) for q in row.quantiles]
        if not pairs:
            raise InvalidArgument(f"{where}.quantiles", "needs at least one level")
        for j, (level, value) in enumerate(pairs):
            if not math.isfinite(level) or not 0 < level < 1:
                raise InvalidArgument(
                    f"{where}.quantiles[{j}].level", f"must be in (0, 1), got {level}"
                )
            if not math.isfinite(value) or value < 0:
                raise InvalidArgument(f"{where}.quantiles[{j}].value", f"must be >= 0, got {value}")
            if j and level <= pairs[j - 1][0]:
                raise InvalidArgument(
                    f"{where}.quantiles[{j}].level", "levels must be strictly increasing"
                )
            if j and value < pairs[j - 1][1]:
                raise InvalidArgument(
                    f"{where}.quantiles[{j}].value", "values must not decrease with the level"
                )
        these = tuple(level for level, _ in pairs)
        if levels is None:
            levels = these
        elif these != levels:
            raise InvalidArgument(
                f"{where}.quantiles", f"levels {list(these)} differ from demand[0]'s {list(levels)}"
            )
        records.append((row.store_id, row.trim_id, week.isoformat(), *(v for _, v in pairs)))
    assert levels is not None
    columns = ["store_id", "trim_id", "week_start", *(f"q{lv:g}" for lv in levels)]
    return pd.DataFrame(records, columns=columns)


def scope_of(store_ids: tuple[str, ...], region_of: dict[str, str]) -> str:
    """``store:S`` for one store, ``region:R`` when the stores named make up region R, else
    ``group``."""
    if len(store_ids) == 1:
        return f"store:{store_ids[0]}"
    if store_ids:
        regions = {region_of.get(s, "") for s in store_ids}
        if len(regions) == 1:
            region = regions.pop()
            if region and {s for s, r in region_of.items() if r == region} == set(store_ids):
                return f"region:{region}"
    return "group"


def plan_to_response(plan: PickupPlan) -> pb.PlanPickupResponse:
    """The response without its ``plan`` reference (set once the plan is stored)."""
    solution = plan.solution
    summary = common_pb2.SolveSummary(
        status=STATUS_TO_PB[solution.status],
        objective_cny=finite(solution.objective),
        bound_cny=finite(solution.bound),
        gap=finite(solution.gap),
        solve_seconds=solution.solve_seconds,
    )
    return pb.PlanPickupResponse(
        solve=summary,
        lines=[
            pb.OrderLine(
                store_id=line.store_id,
                trim_id=line.trim_id,
                week_start=date_to_pb(line.week_start),
                units=line.units,
                expected_sales=line.expected_sales,
                reason=line.reason,
            )
            for line in plan.lines
        ],
        kpis=[
            common_pb2.Kpi(name=k.name, before=k.before, after=k.after, unit=k.unit)
            for k in plan.kpis
        ],
        binding=[
            pb.BindingConstraint(
                name=b.name, shadow_price_cny=b.shadow_price_cny, explanation=b.explanation
            )
            for b in plan.binding
        ],
        trims=[
            pb.TrimDecision(
                trim_id=d.trim_id,
                ordered_units=d.ordered_units,
                offered_units=d.offered_units,
                expected_demand=d.expected_demand,
                stock_units=d.stock_units,
                reason=d.reason,
            )
            for d in plan.trims
        ],
    )


def plan_kpis(response: pb.PlanPickupResponse | pb.PlanTransfersResponse) -> dict[str, Any]:
    """The KPIs as the plan store keeps them (name -> before, after, unit)."""
    return {k.name: {"before": k.before, "after": k.after, "unit": k.unit} for k in response.kpis}


def lines_from_body(body: dict[str, Any]) -> list[OrderLine]:
    """The order lines of a stored pick-up plan body (its protobuf JSON)."""
    from google.protobuf import json_format

    message = json_format.ParseDict(body, pb.PlanPickupResponse(), ignore_unknown_fields=True)
    return [
        OrderLine(
            line.store_id,
            line.trim_id,
            date(line.week_start.year, line.week_start.month, line.week_start.day),
            line.units,
            line.expected_sales,
            line.reason,
        )
        for line in message.lines
    ]


def finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
