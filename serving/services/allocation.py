"""AllocationService: PlanPickup (issue 4) and PlanTransfers (issue 5).

PlanPickup reads the stored network (and, when the caller supplies no demand, the stored
weekly sales of the stores, forecast with the engine's ETS member), solves in a worker
process of the server's ``CpuPool`` within the caller's deadline, and stores the plan as a
DRAFT version: a new plan, or with ``hint_plan_id`` the next version of that plan, warm-
started from its latest version's lines. An infeasible request answers
FAILED_PRECONDITION with the diagnosis and stores nothing. With an idempotency key, a
repeat returns the first response and stores no new version.

PlanTransfers reads the same stored network and demand (supplied, or forecast from the
stored sales), takes the cars moved by approved transfer plans within
``min_days_between_moves`` days as not movable, solves fast or consolidated in a worker
process, and stores the plan as a new DRAFT transfer plan.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

import grpc
import pandas as pd
from sqlalchemy import Connection, select

from allocation.pickup_network import NetworkTables
from allocation.pickup_request import OrderLine
from serving.budget import time_budget
from serving.convert import pickup as convert
from serving.convert import transfers as convert_transfers
from serving.convert.common import check_idempotency_key
from serving.convert.plans import body_to_json, plan_ref_to_pb
from serving.errors import grpc_errors
from serving.observability import SOLVE_SECONDS
from serving.services.writes import idempotent_write
from serving.store import tables as t
from serving.store.db import Database
from serving.store.idempotency import find_response
from serving.store.network_tables import read_network_tables
from serving.store.plans import PlanKind, get_plan, save_draft, transfer_approvals
from serving.store.sales import weekly_sales_frame
from serving.workers import CpuPool
from turnwise.errors import DeadlineExceeded, InvalidArgument, NotFound
from turnwise.v1 import allocation_pb2 as pb
from turnwise.v1 import allocation_pb2_grpc

__all__ = [
    "DEMAND_MODEL",
    "FORECAST_SECONDS",
    "SOLVE_SHARE",
    "AllocationServicer",
    "run_pickup",
    "run_transfers",
]

DEMAND_MODEL = "ets"
"""The forecasting member that makes the demand when the caller supplies none."""
SOLVE_SHARE = 0.8
"""Share of the time left after reading and forecasting that the solver may use; the rest
is for the KPIs, the explanation and the answer."""
DEFAULT_GAP = 1e-3
TRANSFER_GAP = 1e-2
"""The consolidated transfer plan's default relative gap (the nightly plan within 1%)."""
FORECAST_SECONDS = 120.0
"""Without a caller deadline, how long forecasting the demand from stored sales may take
on top of the solve."""
_METHOD = "AllocationService.PlanPickup"
_TRANSFERS = "AllocationService.PlanTransfers"
_PlanResponse = TypeVar("_PlanResponse", pb.PlanPickupResponse, pb.PlanTransfersResponse)


def run_pickup(
    query: convert.PickupQuery,
    tables: NetworkTables,
    sales: pd.DataFrame | None,
    hint: list[OrderLine],
    deadline: float,
) -> bytes:
    """In a worker process: demand (forecast when not supplied), solve, explain; the
    serialized PlanPickupResponse without its plan reference. ``deadline`` is a
    ``time.time()`` instant."""
    # Imported here, in the worker: OR-Tools (and the forecasting models) stay out of the
    # server process, which only validates requests and stores plans.
    from allocation.pickup_plan import demand_from_sales, plan_pickup

    request = query.request
    demand = query.demand
    if demand is None:
        assert sales is not None
        demand = demand_from_sales(sales, request.first_week, request.weeks, DEMAND_MODEL)
    left = (deadline - time.time()) * SOLVE_SHARE
    if left <= 0.05:
        raise DeadlineExceeded(
            "deadline", "no time was left to solve after forecasting the demand; allow more time"
        )
    limits = dataclasses.replace(
        request.limits, time_limit_seconds=min(left, request.limits.time_limit_seconds)
    )
    plan = plan_pickup(
        tables,
        dataclasses.replace(request, limits=limits),
        demand,
        hint,
        forecast_demand=query.demand is None,
    )
    return convert.plan_to_response(plan).SerializeToString()


def run_transfers(
    query: convert_transfers.TransferQuery,
    tables: NetworkTables,
    sales: pd.DataFrame | None,
    moved: tuple[dict[str, date], dict[str, str]],
    deadline: float,
) -> bytes:
    """In a worker process: demand (forecast when not supplied), solve, VINs and KPIs; the
    serialized PlanTransfersResponse without its plan reference."""
    from allocation.pickup_plan import demand_from_sales
    from allocation.transfer_plan import TransferRequest, plan_transfers

    first = query.first_week
    if first is None:
        assert sales is not None and not sales.empty
        first = pd.Timestamp(sales["ds"].max()).date() + timedelta(days=7)
    demand = query.demand
    if demand is None:
        assert sales is not None
        demand = demand_from_sales(sales, first, query.weeks, DEMAND_MODEL)
    left = (deadline - time.time()) * SOLVE_SHARE
    if left <= 0.05:
        raise DeadlineExceeded(
            "deadline", "no time was left to solve after forecasting the demand; allow more time"
        )
    limits = dataclasses.replace(
        query.limits, time_limit_seconds=min(left, query.limits.time_limit_seconds)
    )
    request = TransferRequest(
        first_week=first,
        mode=query.transfer_mode(),
        weeks=query.weeks,
        store_ids=query.store_ids,
        overrides=query.overrides,
        parameters=query.parameters(),
        limits=limits,
    )
    recent, pending = moved
    plan = plan_transfers(
        tables, request, demand, recent, forecast_demand=query.demand is None, pending_moves=pending
    )
    return convert_transfers.plan_to_response(plan).SerializeToString()


class AllocationServicer(allocation_pb2_grpc.AllocationServiceServicer):
    def __init__(self, db: Database, cpu: CpuPool, default_seconds: float) -> None:
        self.db, self.cpu, self.default_seconds = db, cpu, default_seconds

    def _inputs(
        self, query: convert.PickupQuery
    ) -> tuple[NetworkTables, pd.DataFrame | None, list[OrderLine], dict[str, str]]:
        """Blocking: the network, the sales to forecast (if needed), the hint's lines."""
        with self.db.read() as conn:
            tables = read_network_tables(conn)
            sales = None
            if query.demand is None:
                sales = weekly_sales_frame(conn, query.request.store_ids)
                if sales.empty:
                    raise InvalidArgument(
                        "demand", "is empty and no weekly sales are stored to forecast it from"
                    )
            hint: list[OrderLine] = []
            if query.hint_plan_id:
                try:
                    plan = get_plan(conn, query.hint_plan_id)
                except NotFound as err:
                    raise NotFound("hint_plan_id", err.hint) from None
                if plan.kind is not PlanKind.PICKUP:
                    raise InvalidArgument(
                        "hint_plan_id", f"plan {plan.plan_id!r} is a {plan.kind.value} plan"
                    )
                hint = convert.lines_from_body(plan.body)
            rows = conn.execute(select(t.stores.c.store_id, t.stores.c.region_id)).all()
        return tables, sales, hint, {str(s): str(r) for s, r in rows}

    def _budget(
        self, context: grpc.aio.ServicerContext, requested: float, forecast: bool
    ) -> tuple[float, float]:
        """(the solve's own limit, the whole call's budget): forecasting the demand (when
        none is supplied) comes on top of the solve, within the caller's deadline."""
        solve_seconds = time_budget(context.time_remaining(), requested, self.default_seconds)
        budget = solve_seconds / SOLVE_SHARE + (FORECAST_SECONDS if forecast else 0.0)
        remaining = context.time_remaining()
        if remaining is not None:
            budget = min(budget, time_budget(remaining, 0.0, budget))
        return solve_seconds, budget

    async def _replay(self, method: str, key: str, body: bytes) -> bytes | None:
        """The stored response of a repeat with idempotency key ``key``, if any."""
        if not key:
            return None
        digest = hashlib.sha256(body).hexdigest()

        def replay() -> bytes | None:
            with self.db.read() as conn:
                return find_response(conn, key, method, digest)

        return await self.db.run(replay)

    async def _solve(
        self, started: float, budget: float, work: Callable[..., bytes], *args: object
    ) -> bytes:
        """Run ``work(*args, deadline)`` in a worker process within what is left of
        ``budget``."""
        left = budget - (time.monotonic() - started)
        if left <= 0.05:
            raise DeadlineExceeded("deadline", "the deadline passed while reading the network")
        try:
            return await asyncio.wait_for(self.cpu.run(work, *args, time.time() + left), left)
        except TimeoutError:
            raise DeadlineExceeded(
                "deadline", f"the plan was not ready within the {budget:.1f} s allowed"
            ) from None

    async def _store_draft(
        self,
        method: str,
        key: str,
        body: bytes,
        kind: PlanKind,
        response: _PlanResponse,
        scope: str,
        plan_id: str | None = None,
    ) -> _PlanResponse:
        """Store ``response`` as a new draft version (once per idempotency key) and answer
        it with its plan reference."""

        def store(conn: Connection) -> _PlanResponse:
            record = save_draft(
                conn,
                kind,
                convert.plan_kpis(response),
                body_to_json(response),
                plan_id=plan_id,
                scope=scope,
            )
            out = type(response)()
            out.CopyFrom(response)
            out.plan.CopyFrom(plan_ref_to_pb(record))
            return out

        return await idempotent_write(self.db, method, key, body, type(response), store)

    @grpc_errors
    async def PlanPickup(
        self, request: pb.PlanPickupRequest, context: grpc.aio.ServicerContext
    ) -> pb.PlanPickupResponse:
        started = time.monotonic()
        key = request.idempotency_key
        check_idempotency_key(key)
        query = await asyncio.to_thread(convert.request_to_query, request, DEFAULT_GAP)
        solve_seconds, budget = self._budget(context, query.requested_seconds, query.demand is None)
        limits = dataclasses.replace(query.request.limits, time_limit_seconds=solve_seconds)
        query = dataclasses.replace(
            query, request=dataclasses.replace(query.request, limits=limits)
        )
        body = request.SerializeToString(deterministic=True)
        stored = await self._replay(_METHOD, key, body)
        if stored is not None:
            return pb.PlanPickupResponse.FromString(stored)
        tables, sales, hint, region_of = await self.db.run(self._inputs, query)
        data = await self._solve(started, budget, run_pickup, query, tables, sales, hint)
        response = pb.PlanPickupResponse.FromString(data)
        SOLVE_SECONDS.labels("pickup").observe(response.solve.solve_seconds)
        scope = convert.scope_of(query.request.store_ids, region_of)
        return await self._store_draft(
            _METHOD, key, body, PlanKind.PICKUP, response, scope, query.hint_plan_id or None
        )

    def _transfer_inputs(
        self, query: convert_transfers.TransferQuery
    ) -> tuple[
        NetworkTables,
        pd.DataFrame | None,
        tuple[dict[str, date], dict[str, str]],
        dict[str, str],
    ]:
        """Blocking: the network, the sales (to forecast, or to place the horizon), the
        cars moved by approved transfer plans (when, and where to if not yet shown)."""
        with self.db.read() as conn:
            tables = read_network_tables(conn)
            sales = None
            if query.demand is None or query.first_week is None:
                sales = weekly_sales_frame(conn, query.store_ids)
                if sales.empty:
                    raise InvalidArgument(
                        "demand", "is empty and no weekly sales are stored to forecast it from"
                    )
            in_stock = tables.inventory[tables.inventory["status"] == "IN_STOCK"]
            stored_at = dict(zip(in_stock["vin"], in_stock["store_id"], strict=True))
            moved = convert_transfers.moved_since(transfer_approvals(conn), stored_at)
            rows = conn.execute(select(t.stores.c.store_id, t.stores.c.region_id)).all()
        return tables, sales, moved, {str(s): str(r) for s, r in rows}

    @grpc_errors
    async def PlanTransfers(
        self, request: pb.PlanTransfersRequest, context: grpc.aio.ServicerContext
    ) -> pb.PlanTransfersResponse:
        started = time.monotonic()
        key = request.idempotency_key
        check_idempotency_key(key)
        query = await asyncio.to_thread(convert_transfers.request_to_query, request, TRANSFER_GAP)
        solve_seconds, budget = self._budget(context, query.requested_seconds, query.demand is None)
        query = dataclasses.replace(
            query, limits=dataclasses.replace(query.limits, time_limit_seconds=solve_seconds)
        )
        body = request.SerializeToString(deterministic=True)
        stored = await self._replay(_TRANSFERS, key, body)
        if stored is not None:
            return pb.PlanTransfersResponse.FromString(stored)
        tables, sales, moved, region_of = await self.db.run(self._transfer_inputs, query)
        data = await self._solve(started, budget, run_transfers, query, tables, sales, moved)
        response = pb.PlanTransfersResponse.FromString(data)
        SOLVE_SECONDS.labels("transfers").observe(response.solve.solve_seconds)
        scope = convert.scope_of(query.store_ids, region_of)
        return await self._store_draft(_TRANSFERS, key, body, PlanKind.TRANSFER, response, scope)
