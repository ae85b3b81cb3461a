"""``turnwise plan-pickup``: the pick-up mix of a dealer-group directory, from the shell.

turnwise plan-pickup --data DIR --output PLAN.csv [--demand DEMAND.csv] [--first-week D]
    [--weeks 4] [--stores S001,S002] [--time-limit 10] [--gap 0.001]
    [--max-days-of-supply 60] [--forecast-model ets] [--trims TRIMS.csv]

DIR is what ``turnwise demo-data`` writes. Without ``--demand`` (columns ``store_id,
trim_id, week_start, q0.1, q0.5, q0.9``, as ``turnwise forecast`` names its quantiles) the
demand is forecast from DIR's weekly sales. The plan starts the week after the last week
of sales unless ``--first-week`` says otherwise. It prints how the solve ended, the KPIs
before and after, and the constraints that bind; PLAN.csv gets the order lines and
``--trims`` the decision on every trim.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from turnwise.errors import InvalidArgument

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
    return {"plan-pickup": _plan_pickup}


def _plan_pickup(args: argparse.Namespace) -> None:
    from allocation.pickup_network import NetworkTables
    from allocation.pickup_plan import demand_from_sales, plan_pickup, sales_history
    from allocation.pickup_request import PickupRequest
    from dealer_group.demo import read_csv
    from turnwise.solving import SolveLimits

    start = time.perf_counter()
    group = read_csv(args.data)
    sales = sales_history(group.sales)
    first = _first_week(args.first_week, sales)
    if args.demand is not None:
        demand = _read_demand(args.demand)
    else:
        print(f"forecasting demand ({args.forecast_model}) from {len(group.sales)} sales rows ...")
        demand = demand_from_sales(sales, first, args.weeks, args.forecast_model)
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
