"""``turnwise plan-pickup`` and ``turnwise plan-transfers``: the plans of a dealer-group
directory, from the shell.

turnwise plan-pickup --data DIR --output PLAN.csv [--demand DEMAND.csv] [--first-week D]
    [--weeks 4] [--stores S001,S002] [--time-limit 10] [--gap 0.001]
    [--max-days-of-supply 60] [--forecast-model ets] [--trims TRIMS.csv]

DIR is what ``turnwise demo-data`` writes. Without ``--demand`` (columns ``store_id,
trim_id, week_start, q0.1, q0.5, q0.9``, as ``turnwise forecast`` names its quantiles) the
demand is forecast from DIR's weekly sales. The plan starts the week after the last week
of sales unless ``--first-week`` says otherwise. It prints how the solve ended, the KPIs
before and after, and the constraints that bind; PLAN.csv gets the order lines and
``--trims`` the decision on every trim.

turnwise plan-transfers --data DIR --output MOVES.csv [--mode consolidated|fast]
    [--demand DEMAND.csv] [--first-week D] [--weeks 4] [--stores S001,S002]
    [--time-limit 60] [--gap 0.01] [--lanes LANES.csv] [--recent-moves MOVED.csv]
    [--cost-per-car-km 1.0] [--truck-trip-cost 800] [--truck-capacity 8]
    [--loading-limit 16] [--min-days-between-moves 30] [--max-lane-km 1500]

The cross-store transfers (调拨) of tonight on the same inputs; the demand CSV may carry a
``colours`` column (``;``-joined) that VIN selection prefers. ``--recent-moves`` (columns
``vin, moved_on``) names cars that moved lately and may not move again. It prints how the
solve ended, the KPIs before and after and the busiest lanes; MOVES.csv gets one row per
VIN moved and ``--lanes`` one row per lane with its trucks and cost.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocation.transfer_problem import (
    DEFAULT_COST_PER_CAR_KM_CNY,
    DEFAULT_LOADING_LIMIT,
    DEFAULT_MAX_LANE_KM,
    DEFAULT_MIN_DAYS_BETWEEN_MOVES,
    DEFAULT_TRUCK_CAPACITY,
    DEFAULT_TRUCK_TRIP_COST_CNY,
)
from turnwise.errors import InvalidArgument

if TYPE_CHECKING:
    from dealer_group.demo import DemoGroup

__all__ = ["add_commands"]


def add_commands(sub: Any) -> dict[str, Any]:
    plan = sub.add_parser("plan-pickup", help="plan the pick-up mix (OEM orders) of a group")
    plan.add_argument("--data", type=Path, required=True, help="directory written by demo-data")
    plan.add_argument("--output", type=Path, required=True, help="order lines CSV to write")
    plan.add_argument("--demand", type=Path, help="demand quantiles CSV (default: forecast)")
    plan.add_argument("--first-week", help="first week, a Monday (default: after the sales)")
    plan.add_argument("--weeks", type=int, default=4, help="weeks in the horizon (default 4)")
    plan.add_argument("--stores", default="", help="comma-separated store ids (default all)")
    plan.add_argument("--time-limit", type=float, default=10.0, help="solve seconds (10)")
    plan.add_argument("--gap", type=float, default=1e-3, help="relative gap (0.001)")
    plan.add_argument("--max-days-of-supply", type=float, default=60.0)
    plan.add_argument("--forecast-model", default="ets", help="engine member (default ets)")
    plan.add_argument("--trims", type=Path, help="write the per-trim decisions to this CSV")
    moves = sub.add_parser("plan-transfers", help="plan tonight's transfers between stores")
    moves.add_argument("--data", type=Path, required=True, help="directory written by demo-data")
    moves.add_argument(
        "--output", type=Path, required=True, help="moves CSV to write (one VIN a row)"
    )
    moves.add_argument("--mode", choices=("consolidated", "fast"), default="consolidated")
    moves.add_argument("--demand", type=Path, help="demand quantiles CSV (default: forecast)")
    moves.add_argument("--first-week", help="first week, a Monday (default: after the sales)")
    moves.add_argument("--weeks", type=int, default=4, help="weeks of demand (default 4)")
    moves.add_argument("--stores", default="", help="comma-separated store ids (default all)")
    moves.add_argument("--time-limit", type=float, default=60.0, help="solve seconds (60)")
    moves.add_argument("--gap", type=float, default=1e-2, help="relative gap (0.01)")
    moves.add_argument("--forecast-model", default="ets", help="engine member (default ets)")
    moves.add_argument("--lanes", type=Path, help="write the lanes (trucks, cost) to this CSV")
    moves.add_argument("--recent-moves", type=Path, help="CSV vin,moved_on of recent moves")
    moves.add_argument("--cost-per-car-km", type=float, default=DEFAULT_COST_PER_CAR_KM_CNY)
    moves.add_argument("--truck-trip-cost", type=float, default=DEFAULT_TRUCK_TRIP_COST_CNY)
    moves.add_argument("--truck-capacity", type=int, default=DEFAULT_TRUCK_CAPACITY)
    moves.add_argument("--loading-limit", type=int, default=DEFAULT_LOADING_LIMIT)
    moves.add_argument("--min-days-between-moves", type=int, default=DEFAULT_MIN_DAYS_BETWEEN_MOVES)
    moves.add_argument("--max-lane-km", type=float, default=DEFAULT_MAX_LANE_KM)
    return {"plan-pickup": _plan_pickup, "plan-transfers": _plan_transfers}


def _plan_pickup(args: argparse.Namespace) -> None:
    from allocation.pickup_network import NetworkTables
    from allocation.pickup_plan import plan_pickup
    from allocation.pickup_request import PickupRequest
    from turnwise.solving import SolveLimits

    start = time.perf_counter()
    group, first, demand = _group_and_demand(args)
    request = PickupRequest(
        first_week=first,
        weeks=args.weeks,
        limits=SolveLimits(time_limit_seconds=args.time_limit, relative_gap=args.gap),
        store_ids=tuple(s for s in args.stores.split(",") if s),
        max_days_of_supply=args.max_days_of_supply,
    )
    tables = NetworkTables.of(group)
    plan = plan_pickup(tables, request, demand, forecast_demand=args.demand is None)
    lines = pd.DataFrame(
        [
            (x.store_id, x.trim_id, x.week_start.isoformat(), x.units, x.expected_sales, x.reason)
            for x in plan.lines
        ],
        columns=["store_id", "trim_id", "week_start", "units", "expected_sales", "reason"],
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    lines.to_csv(args.output, index=False, lineterminator="\n", float_format="%.4f")
    if args.trims is not None:
        pd.DataFrame([vars(d) for d in plan.trims]).to_csv(
            args.trims, index=False, lineterminator="\n", float_format="%.4f"
        )
    s = plan.solution
    print(
        f"plan {first}..{first + timedelta(days=7 * args.weeks - 1)}: {s.status.value}, "
        f"objective {s.objective:,.0f} CNY, bound {s.bound:,.0f}, gap {s.gap:.4%}, "
        f"solve {s.solve_seconds:.2f} s ({s.method})"
    )
    print(f"{'kpi':22s} {'before':>16s} {'after':>16s}  unit")
    for k in plan.kpis:
        print(f"{k.name:22s} {k.before:16,.3f} {k.after:16,.3f}  {k.unit}")
    if plan.binding:
        print("binding constraints (top 10):")
        for b in plan.binding[:10]:
            print(f"  {b.name}: {b.explanation}")
    print(
        f"wrote {len(lines)} order lines ({int(lines['units'].sum()) if len(lines) else 0} cars)"
        f" to {args.output} in {time.perf_counter() - start:.1f} s"
    )


def _plan_transfers(args: argparse.Namespace) -> None:
    from allocation.pickup_network import NetworkTables
    from allocation.transfer_network import TransferParameters
    from allocation.transfer_plan import TransferMode, TransferRequest, plan_transfers
    from turnwise.solving import SolveLimits

    start = time.perf_counter()
    recent = _read_recent_moves(args.recent_moves) if args.recent_moves else None
    group, first, demand = _group_and_demand(args)
    request = TransferRequest(
        first_week=first,
        mode=TransferMode(args.mode),
        weeks=args.weeks,
        store_ids=tuple(s for s in args.stores.split(",") if s),
        parameters=TransferParameters(
            cost_per_car_km_cny=args.cost_per_car_km,
            truck_trip_cost_cny=args.truck_trip_cost,
            truck_capacity=args.truck_capacity,
            min_days_between_moves=args.min_days_between_moves,
            max_lane_km=args.max_lane_km,
            default_loading_limit=args.loading_limit,
        ),
        limits=SolveLimits(time_limit_seconds=args.time_limit, relative_gap=args.gap),
    )
    plan = plan_transfers(
        NetworkTables.of(group), request, demand, recent, forecast_demand=args.demand is None
    )
    moves = pd.DataFrame([vars(m) for m in plan.moves], columns=[
        "vin", "from_store_id", "to_store_id", "trim_id", "colour", "age_days", "truck_id",
        "expected_gain_cny", "reason",
    ])  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    moves.to_csv(args.output, index=False, lineterminator="\n", float_format="%.2f")
    lanes = pd.DataFrame([vars(lane) for lane in plan.lanes], columns=[
        "from_store_id", "to_store_id", "trucks", "cars", "distance_km", "cost_cny",
        "lead_time_days",
    ])  # fmt: skip
    if args.lanes is not None:
        lanes.to_csv(args.lanes, index=False, lineterminator="\n", float_format="%.2f")
    s = plan.solution
    gap = f"gap {s.gap:.4%}" if s.gap == s.gap else "no bound (fast)"
    print(
        f"transfers {args.mode}: {s.status.value}, model net gain {s.value.net:,.0f} CNY, "
        f"{gap}, solve {s.seconds:.2f} s ({s.method})"
    )
    print(
        f"simulated net gain {plan.net_gain_cny:,.0f} CNY (profit change less transport "
        f"{plan.transport_cost_cny:,.0f} CNY)"
    )
    print(f"{'kpi':22s} {'before':>16s} {'after':>16s}  unit")
    for k in plan.kpis:
        print(f"{k.name:22s} {k.before:16,.3f} {k.after:16,.3f}  {k.unit}")
    if len(lanes):
        print("busiest lanes:")
        for lane in sorted(plan.lanes, key=lambda x: -x.cars)[:5]:
            print(
                f"  {lane.from_store_id}->{lane.to_store_id}: {lane.cars} cars on "
                f"{lane.trucks} truck(s), {lane.distance_km:,.0f} km, {lane.cost_cny:,.0f} CNY"
            )
    print(
        f"wrote {len(moves)} moves on {int(lanes['trucks'].sum()) if len(lanes) else 0} trucks "
        f"to {args.output} in {time.perf_counter() - start:.1f} s"
    )


def _group_and_demand(args: argparse.Namespace) -> tuple[DemoGroup, date, pd.DataFrame]:
    """The group of ``--data``, the first week, and ``--demand`` or the forecast of it."""
    from allocation.pickup_plan import demand_from_sales, sales_history
    from dealer_group.demo import read_csv

    group = read_csv(args.data)
    sales = sales_history(group.sales)
    first = _first_week(args.first_week, sales)
    if args.demand is not None:
        return group, first, _read_demand(args.demand)
    print(f"forecasting demand ({args.forecast_model}) from {len(group.sales)} sales rows ...")
    return group, first, demand_from_sales(sales, first, args.weeks, args.forecast_model)


def _read_recent_moves(path: Path) -> dict[str, date]:
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InvalidArgument(str(path), f"is not a readable CSV: {err}") from err
    missing = [c for c in ("vin", "moved_on") if c not in frame.columns]
    if missing:
        raise InvalidArgument(str(path), f"lacks the column(s) {', '.join(missing)}")
    out: dict[str, date] = {}
    for i, (vin, day) in enumerate(zip(frame["vin"], frame["moved_on"], strict=True)):
        try:
            out[str(vin)] = date.fromisoformat(str(day))
        except ValueError:
            raise InvalidArgument(
                f"{path.name}:{i + 2}", f"moved_on {day!r} is not a date"
            ) from None
    return out


def _first_week(value: str | None, sales: pd.DataFrame) -> date:
    if value:
        try:
            first = date.fromisoformat(value)
        except ValueError as err:
            raise InvalidArgument("--first-week", f"{value!r} is not a date YYYY-MM-DD") from err
        if first.weekday() != 0:
            raise InvalidArgument("--first-week", f"{first} is a {first:%A}; use a Monday")
        return first
    if sales.empty:
        raise InvalidArgument("--first-week", "the directory holds no sales; give a first week")
    return pd.Timestamp(sales["ds"].max()).date() + timedelta(days=7)


def _read_demand(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype={"store_id": str, "trim_id": str, "week_start": str})
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InvalidArgument(str(path), f"is not a readable CSV: {err}") from err
    missing = [c for c in ("store_id", "trim_id", "week_start") if c not in frame.columns]
    if missing:
        raise InvalidArgument(str(path), f"lacks the column(s) {', '.join(missing)}")
    return frame
