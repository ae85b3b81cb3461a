"""AllocationService.PlanTransfers: request -> ``TransferQuery``, and ``TransferPlan`` ->
``PlanTransfersResponse``.

What the request alone can get wrong is checked here and named by its field
(``mode``, ``loading_limit[S001]``, ``demand[3].quantiles[1].level``); what needs the
stored network (unknown stores or trims, demand a store is not authorised for) is checked
when the problem is built, with the same field names. The demand, limits and what-if
overrides read as PlanPickup's (``convert.pickup``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocation.pickup_network import PickupOverrides
from allocation.transfer_problem import (
    DEFAULT_COST_PER_CAR_KM_CNY,
    DEFAULT_MAX_LANE_KM,
    DEFAULT_MIN_DAYS_BETWEEN_MOVES,
    DEFAULT_TRUCK_CAPACITY,
    DEFAULT_TRUCK_TRIP_COST_CNY,
)
from serving.convert.common import date_from_pb
from serving.convert.pickup import (
    STATUS_TO_PB,
    demand_from_pb,
    finite,
    limits_from_pb,
    overrides_from_pb,
)
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits
from turnwise.v1 import allocation_pb2 as pb
from turnwise.v1 import common_pb2

if TYPE_CHECKING:
    from allocation.transfer_network import TransferParameters
    from allocation.transfer_plan import TransferMode, TransferPlan

__all__ = [
    "DEFAULT_WEEKS",
    "TransferQuery",
    "moved_since",
    "plan_to_response",
    "request_to_query",
]

DEFAULT_WEEKS = 4
_MODES = {pb.TRANSFER_MODE_FAST: "fast", pb.TRANSFER_MODE_CONSOLIDATED: "consolidated"}


@dataclass(frozen=True, eq=False)
class TransferQuery:
    """A validated PlanTransfersRequest. ``first_week`` is None when the caller left it to
    the server (the Monday after the latest stored sales week)."""

    mode: str
    first_week: date | None
    weeks: int
    store_ids: tuple[str, ...]
    overrides: PickupOverrides
    demand: pd.DataFrame | None
    limits: SolveLimits
    requested_seconds: float
    cost_per_car_km_cny: float
    truck_trip_cost_cny: float
    truck_capacity: int
    min_days_between_moves: int
    max_lane_km: float
    loading_limit: dict[str, int]

    def parameters(self) -> TransferParameters:
        from allocation.transfer_network import TransferParameters

        return TransferParameters(
            cost_per_car_km_cny=self.cost_per_car_km_cny,
            truck_trip_cost_cny=self.truck_trip_cost_cny,
            truck_capacity=self.truck_capacity,
            min_days_between_moves=self.min_days_between_moves,
            max_lane_km=self.max_lane_km,
            loading_limit=self.loading_limit,
        )

    def transfer_mode(self) -> TransferMode:
        from allocation.transfer_plan import TransferMode

        return TransferMode(self.mode)


def request_to_query(request: pb.PlanTransfersRequest, default_gap: float) -> TransferQuery:
    if request.mode not in _MODES:
        raise InvalidArgument(
            "mode", "is required: TRANSFER_MODE_FAST or TRANSFER_MODE_CONSOLIDATED"
        )
    first: date | None = None
    if request.HasField("first_week"):
        first = date_from_pb("first_week", request.first_week)
        if first.weekday() != 0:
            raise InvalidArgument("first_week", f"{first} is a {first:%A}; weeks start on Monday")
    if not 0 <= request.weeks <= 26:
        raise InvalidArgument(
            "weeks", f"must be within 0..26 (0 = {DEFAULT_WEEKS}), got {request.weeks}"
        )
    weeks = request.weeks or DEFAULT_WEEKS
    store_ids = tuple(request.store_ids)
    for i, s in enumerate(store_ids):
        if not s:
            raise InvalidArgument(f"store_ids[{i}]", "is empty")
        if s in store_ids[:i]:
            raise InvalidArgument(f"store_ids[{i}]", f"{s!r} is listed twice")
    if len(store_ids) == 1:
        raise InvalidArgument("store_ids", "a transfer needs at least two stores")
    for name in ("cost_per_car_km_cny", "truck_trip_cost_cny", "max_lane_km"):
        value = getattr(request, name)
        if not math.isfinite(value) or value < 0:
            raise InvalidArgument(name, f"must be >= 0 (0 = default), got {value}")
    for name in ("truck_capacity", "min_days_between_moves"):
        if getattr(request, name) < 0:
            raise InvalidArgument(name, f"must be >= 0 (0 = default), got {getattr(request, name)}")
    for s, limit in request.loading_limit.items():
        if limit < 0:
            raise InvalidArgument(f"loading_limit[{s}]", f"must be >= 0, got {limit}")
    seconds, limits = limits_from_pb(request.limits, default_gap)
    demand = demand_from_pb(request.demand, None) if request.demand else None
    if first is None and demand is not None:
        first = date.fromisoformat(str(demand["week_start"].min()))
    o = request.overrides
    if o.offers or o.credit_limit_cny or o.group_credit_limit_cny:
        raise InvalidArgument(
            "overrides",
            "a transfer orders nothing: only lot_capacity, price_factor and demand_factor "
            "apply; drop offers and credit limits",
        )
    overrides = overrides_from_pb(o, []) if request.HasField("overrides") else PickupOverrides()
    return TransferQuery(
        mode=_MODES[request.mode],
        first_week=first,
        weeks=weeks,
        store_ids=store_ids,
        overrides=overrides,
        demand=demand,
        limits=limits,
        requested_seconds=seconds,
        cost_per_car_km_cny=request.cost_per_car_km_cny or DEFAULT_COST_PER_CAR_KM_CNY,
        truck_trip_cost_cny=request.truck_trip_cost_cny or DEFAULT_TRUCK_TRIP_COST_CNY,
        truck_capacity=request.truck_capacity or DEFAULT_TRUCK_CAPACITY,
        min_days_between_moves=request.min_days_between_moves or DEFAULT_MIN_DAYS_BETWEEN_MOVES,
        max_lane_km=request.max_lane_km or DEFAULT_MAX_LANE_KM,
        loading_limit=dict(request.loading_limit),
    )


def plan_to_response(plan: TransferPlan) -> pb.PlanTransfersResponse:
    """The response without its ``plan`` reference (set once the plan is stored)."""
    solution = plan.solution
    return pb.PlanTransfersResponse(
        solve=common_pb2.SolveSummary(
            status=STATUS_TO_PB[solution.status],
            objective_cny=finite(solution.value.net),
            bound_cny=finite(solution.bound),
            gap=finite(solution.gap),
            solve_seconds=solution.seconds,
        ),
        # the core's Move and Lane carry exactly the fields of their messages
        moves=[pb.Move(**asdict(m)) for m in plan.moves],
        lanes=[pb.Lane(**asdict(lane)) for lane in plan.lanes],
        kpis=[
            common_pb2.Kpi(name=k.name, before=k.before, after=k.after, unit=k.unit)
            for k in plan.kpis
        ],
        transport_cost_cny=plan.transport_cost_cny,
    )


def moved_since(
    bodies: list[tuple[dict[str, Any], date]], stored_at: dict[str, str]
) -> tuple[dict[str, date], dict[str, str]]:
    """From the bodies of approved transfer plans and the days they were approved (an
    approved plan is executed within a day): VIN -> the day it last moved, and VIN -> the
    destination of the moves whose cars the stored inventory still shows at their origin
    (``stored_at``: VIN -> store of the cars in stock)."""
    from google.protobuf import json_format

    last: dict[str, tuple[date, str, str]] = {}
    for body, day in bodies:
        message = json_format.ParseDict(
            body, pb.PlanTransfersResponse(), ignore_unknown_fields=True
        )
        for move in message.moves:
            if move.vin not in last or last[move.vin][0] < day:
                last[move.vin] = (day, move.from_store_id, move.to_store_id)
    moved = {vin: day for vin, (day, _, _) in last.items()}
    pending = {vin: to for vin, (_, origin, to) in last.items() if stored_at.get(vin) == origin}
    return moved, pending
