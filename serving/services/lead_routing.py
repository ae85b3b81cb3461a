"""LeadRoutingService: RouteLead, RouteLeads, RecordFollowUp, ClaimFromPool, ListPool.

The decisions are ``lead_routing``'s (routing, batch assignment, SLA state machine); the
transactions that apply them to the store are ``serving.services.lead_router``'s. RouteLead
runs in the server process on the database's threads (no solver: a fraction of a
millisecond of numpy per lead); RouteLeads solves its batch in a CPU worker (OR-Tools never
loads in the server process) within the caller's deadline, then writes in one transaction.

Time comes from ``clock`` (the system clock in production, a test's clock in tests): a lead
is routed to advisors on shift at the time of the call, and its first contact is due a few
minutes after it. ``sweep()`` fires the SLA timers that are due; the server runs it every
``sla_sweep_seconds``, and a timer that fires late still takes effect at its deadline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import numpy as np
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from dealer_group.records import Lead
from lead_routing.identity import CustomerMatch
from lead_routing.routing import LeadRequest, RoutingTable
from serving.budget import time_budget
from serving.convert import lead_routing as convert
from serving.convert.common import check_idempotency_key, timestamp_from_pb, timestamp_to_pb
from serving.convert.pickup import STATUS_TO_PB, limits_from_pb
from serving.errors import grpc_errors
from serving.services.lead_router import (
    Routed,
    RouterSettings,
    TableCache,
    claim_lead,
    follow_up,
    local_day,
    route_one,
    save_batch,
    sweep_lead,
)
from serving.services.writes import idempotent_write
from serving.store.db import Database
from serving.store.idempotency import find_response
from serving.store.lead_routes import (
    customer_owner,
    decode_pool_token,
    due_lead_ids,
    get_route,
    list_pool,
    read_loads,
)
from serving.workers import CpuPool
from turnwise.errors import DeadlineExceeded, FailedPrecondition, InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus
from turnwise.v1 import lead_routing_pb2 as pb
from turnwise.v1 import lead_routing_pb2_grpc, network_pb2

__all__ = ["BatchResult", "Clock", "LeadRoutingServicer", "run_batch", "system_clock"]

log = logging.getLogger("turnwise.leads")

Clock = Callable[[], datetime]
_SWEEP_BATCH = 200
_DEFAULT_PAGE = 100
_MAX_PAGE = 1000
_DEFAULT_GAP = 1e-4
_BATCH_SOLVE_SHARE = 0.7
"""Share of the batch's time budget the solve may use; the rest reads and writes."""
_WORKER_GRACE_SECONDS = 30.0
"""How long past the budget a batch worker may run before RouteLeads gives up on it."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def _assignment(routed: Routed) -> pb.Assignment:
    route = routed.route
    return convert.assignment_to_pb(
        route.state.lead_id,
        route.advisor_id,
        route.score,
        route.reason,
        route.first_contact_due,
        routed.replayed,
    )


BatchLeadInput = tuple[LeadRequest, CustomerMatch | None, frozenset[str]]
"""A lead of the batch as the worker takes it: the lead, its One-ID owner, who missed it."""


@dataclass(frozen=True)
class BatchResult:
    """What the worker sends back: plain values, so that unpickling it in the server
    process imports no solver."""

    chosen: dict[str, tuple[str, float, str]]
    """lead id -> (advisor, score, reason)."""
    unassigned: dict[str, str]
    """lead id -> why."""
    status: SolveStatus
    objective: float
    bound: float
    gap: float
    solve_seconds: float


def run_batch(
    table: RoutingTable,
    leads: list[BatchLeadInput],
    open_leads: np.ndarray,
    now: datetime,
    limits: SolveLimits,
    settings: RouterSettings,
) -> BatchResult:
    """In a CPU worker: ``lead_routing.batch.route_batch`` (OR-Tools loads only there)."""
    from lead_routing.batch import BatchLead, route_batch

    batch = [BatchLead(lead, owner, exclude) for lead, owner, exclude in leads]
    solved = route_batch(
        table, batch, open_leads, now, limits, policy=settings.policy, scorer=settings.scorer
    )
    return BatchResult(
        chosen={d.lead_id: (d.advisor_id, d.score, d.reason) for d in solved.decisions},
        unassigned=dict(solved.unassigned),
        status=solved.status,
        objective=solved.objective,
        bound=solved.bound,
        gap=solved.gap,
        solve_seconds=solved.solve_seconds,
    )


class LeadRoutingServicer(lead_routing_pb2_grpc.LeadRoutingServiceServicer):
    def __init__(
        self,
        db: Database,
        cpu: CpuPool,
        tables: TableCache,
        default_seconds: float,
        settings: RouterSettings | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db, self.cpu, self.tables = db, cpu, tables
        self.default_seconds = default_seconds
        self.settings = settings or RouterSettings()
        self.clock = clock

    # ---- RouteLead ----------------------------------------------------------------

    def _read_table(self) -> None:
        with self.db.read() as conn:
            self.tables.get(conn)

    def _route_one(self, lead: Lead) -> Routed:
        with self.db.write() as conn:
            table = self.tables.get(conn)
            return route_one(conn, table, lead, self.clock(), self.settings)

    @grpc_errors
    async def RouteLead(
        self, request: pb.RouteLeadRequest, context: grpc.aio.ServicerContext
    ) -> pb.RouteLeadResponse:
        if not request.HasField("lead"):
            raise InvalidArgument("lead", "is required")
        lead = _prefixed("lead", request.lead)
        if self.tables.stale():  # rebuilt on a thread, not on the loop in the write lock
            await self.db.run(self._read_table)
        try:
            routed = await self.db.run_brief(self._route_one, lead)
        except IntegrityError:  # a concurrent first routing of the same lead won the race
            routed = await self.db.run_brief(self._route_one, lead)
        if routed.pooled_because:
            raise FailedPrecondition(
                "lead",
                f"{routed.pooled_because}. Lead {lead.lead_id} is kept in the public pool "
                "(ListPool), to be claimed or routed again",
            )
        return pb.RouteLeadResponse(assignment=_assignment(routed))

    # ---- RouteLeads ---------------------------------------------------------------

    def _batch_inputs(
        self, leads: list[Lead]
    ) -> tuple[RoutingTable, list[BatchLeadInput], np.ndarray, datetime]:
        now = self.clock()
        with self.db.read() as conn:
            table = self.tables.get(conn)
            day = local_day(table, now)
            loads = read_loads(conn, table.advisor_ids, day)
            open_leads = np.array(
                [loads.get(a, (0, 0))[0] for a in table.advisor_ids], dtype=np.int64
            )
            batch: list[BatchLeadInput] = []
            for i, lead in enumerate(leads):
                old = get_route(conn, lead.lead_id)
                if old is not None and old.state.status.value != "POOLED":
                    continue  # a replay: save_batch answers it
                where = f"leads[{i}]"
                if lead.brand_id not in table.brand_index:
                    raise InvalidArgument(f"{where}.brand_id", f"{lead.brand_id!r} is not stored")
                if lead.store_id and lead.store_id not in table.rows_of_store:
                    raise InvalidArgument(f"{where}.store_id", f"{lead.store_id!r} is not stored")
                if not lead.store_id and lead.region_id not in table.rows_of_region:
                    raise InvalidArgument(
                        f"{where}.region_id", f"{lead.region_id!r} is not a region with stores"
                    )
                owner = customer_owner(conn, lead.lead_id, lead.phone, lead.wechat_id)
                exclude = frozenset(old.state.missed_by) if old else frozenset()
                batch.append((convert.lead_request(lead), owner, exclude))
        return table, batch, open_leads, now

    @grpc_errors
    async def RouteLeads(
        self, request: pb.RouteLeadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RouteLeadsResponse:
        check_idempotency_key(request.idempotency_key)
        leads = convert.routed_leads(request.leads)
        requested, limits = limits_from_pb(request.limits, _DEFAULT_GAP)
        budget = time_budget(context.time_remaining(), requested, self.default_seconds)
        method = "LeadRoutingService.RouteLeads"
        body = request.SerializeToString(deterministic=True)
        if request.idempotency_key:
            digest = hashlib.sha256(body).hexdigest()

            def replay() -> bytes | None:
                with self.db.read() as conn:
                    return find_response(conn, request.idempotency_key, method, digest)

            stored = await self.db.run(replay)
            if stored is not None:
                return pb.RouteLeadsResponse.FromString(stored)
        started = time.monotonic()
        settings = self.settings  # one set of rules for the solve and the write (reloads)
        table, batch, open_leads, now = await self.db.run(self._batch_inputs, leads)
        left = budget - (time.monotonic() - started)
        limits = dataclasses.replace(
            limits, time_limit_seconds=max(0.05, left * _BATCH_SOLVE_SHARE)
        )
        try:  # the solver stops itself at its limit; this bounds a stuck or slow worker
            solved = await asyncio.wait_for(
                self.cpu.run(run_batch, table, batch, open_leads, now, limits, settings),
                timeout=max(left, 1.0) + _WORKER_GRACE_SECONDS,
            )
        except TimeoutError:
            raise DeadlineExceeded(
                "deadline",
                f"the batch of {len(leads)} leads was not solved within the {budget:.1f} s "
                "allowed; nothing was routed",
            ) from None

        def write(conn: Connection) -> pb.RouteLeadsResponse:
            table = self.tables.get(conn)
            routed = save_batch(conn, table, leads, solved.chosen, solved.unassigned, now, settings)
            out = pb.RouteLeadsResponse()
            for r in routed:
                if r.pooled_because:
                    out.unassigned_lead_ids.append(r.route.state.lead_id)
                else:
                    out.assignments.append(_assignment(r))
            out.solve.status = STATUS_TO_PB[solved.status]
            out.solve.objective_cny = _finite(solved.objective)
            out.solve.bound_cny = _finite(solved.bound)
            out.solve.gap = _finite(solved.gap)
            out.solve.solve_seconds = solved.solve_seconds
            out.expected_conversions = sum(
                r.route.score for r in routed if not r.replayed and not r.pooled_because
            )
            return out

        return await idempotent_write(
            self.db, method, request.idempotency_key, body, pb.RouteLeadsResponse, write
        )

    # ---- follow-ups, the pool -----------------------------------------------------

    @grpc_errors
    async def RecordFollowUp(
        self, request: pb.RecordFollowUpRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordFollowUpResponse:
        for name in ("lead_id", "advisor_id"):
            if not getattr(request, name):
                raise InvalidArgument(name, "is required")
        kind = convert.follow_up_kind(request.kind)
        at = timestamp_from_pb("at", request.at, request.HasField("at"))
        now = self.clock()
        if at > now:
            raise InvalidArgument(
                "at", f"{at.isoformat()} is in the future (now {now.isoformat()})"
            )

        def write(conn: Connection) -> pb.RecordFollowUpResponse:
            table = self.tables.get(conn)
            state = follow_up(
                conn,
                table,
                request.lead_id,
                request.advisor_id,
                kind,
                at,
                request.note,
                now,
                self.settings,
            )
            out = pb.RecordFollowUpResponse()
            if state.next_due is not None:
                out.next_due.CopyFrom(timestamp_to_pb(state.next_due))
            return out

        return await idempotent_write(
            self.db,
            "LeadRoutingService.RecordFollowUp",
            request.idempotency_key,
            request,
            pb.RecordFollowUpResponse,
            write,
        )

    @grpc_errors
    async def ClaimFromPool(
        self, request: pb.ClaimFromPoolRequest, context: grpc.aio.ServicerContext
    ) -> pb.ClaimFromPoolResponse:
        for name in ("lead_id", "advisor_id"):
            if not getattr(request, name):
                raise InvalidArgument(name, "is required")
        now = self.clock()

        def write(conn: Connection) -> pb.ClaimFromPoolResponse:
            table = self.tables.get(conn)
            route = claim_lead(
                conn,
                table,
                request.lead_id,
                request.advisor_id,
                now,
                self.settings,
            )
            return pb.ClaimFromPoolResponse(assignment=_assignment(Routed(route)))

        return await idempotent_write(
            self.db,
            "LeadRoutingService.ClaimFromPool",
            request.idempotency_key,
            request,
            pb.ClaimFromPoolResponse,
            write,
        )

    @grpc_errors
    async def ListPool(
        self, request: pb.ListPoolRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPoolResponse:
        if not 0 <= request.page_size <= _MAX_PAGE:
            raise InvalidArgument(
                "page_size", f"must be within [0, {_MAX_PAGE}] (0 = {_DEFAULT_PAGE})"
            )
        after = decode_pool_token(request.page_token)
        size = request.page_size or _DEFAULT_PAGE

        def read() -> pb.ListPoolResponse:
            with self.db.read() as conn:
                page = list_pool(conn, request.store_id, request.region_id, after, size)
            out = pb.ListPoolResponse(next_page_token=page.next_token)
            for row in page.leads:
                out.leads.append(
                    pb.PooledLead(
                        lead=convert.lead_to_pb(row.lead),
                        pooled_at=timestamp_to_pb(row.pooled_at),
                        missed_by_advisor_ids=list(row.missed_by),
                    )
                )
            return out

        return await self.db.run(read)

    # ---- SLA timers ---------------------------------------------------------------

    def _sweep(self, now: datetime) -> int:
        with self.db.read() as conn:
            due = due_lead_ids(conn, now, _SWEEP_BATCH)
        fired = 0
        for lead_id in due:  # one transaction per lead: a bad lead never blocks the others
            try:
                with self.db.write() as conn:
                    table = self.tables.get(conn)
                    fired += len(sweep_lead(conn, table, lead_id, now, self.settings))
            except Exception:
                log.exception("SLA sweep of lead %s failed; it is retried next sweep", lead_id)
        return fired

    async def sweep(self, now: datetime | None = None) -> int:
        """Fire the SLA timers due by ``now`` (default: the clock); the number of events."""
        at = now or self.clock()
        total = 0
        while True:
            fired = await self.db.run(self._sweep, at)
            total += fired
            if fired == 0:
                return total

    async def run_sweeper(self, interval_seconds: float) -> None:
        """Sweep every ``interval_seconds`` until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("SLA sweep failed; retrying in %.0f s", interval_seconds)
            await asyncio.sleep(interval_seconds)


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0


def _prefixed(prefix: str, message: network_pb2.Lead) -> Lead:
    try:
        return convert.routed_lead(message)
    except InvalidArgument as err:
        field = f"{prefix}.{err.field}" if err.field else prefix
        raise InvalidArgument(field, err.hint) from None
