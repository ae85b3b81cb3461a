"""The transactions of lead routing: the pure decisions of ``lead_routing`` (routing, SLA
state machine) applied to the stored state (``serving.store.lead_routes``).

Each public function runs in one write transaction on the database's threads and returns
what the servicer answers; nothing here touches gRPC. Time is always passed in (``now``),
so the SLA runs on the server's clock in production and on a test's clock in tests.

- ``route_one``: RouteLead. A lead already routed and still owned (or closed) is a replay:
  its stored assignment comes back with ``replayed``; a pooled lead is re-routed (its
  ``missed_by`` excluded). Otherwise the router decides over the loads read in the same
  transaction and ``save_route`` takes the advisor's slot atomically; when a concurrent
  routing took the last slot first (PostgreSQL), the lead is routed again with fresh loads.
  A lead that no advisor can take opens its SLA in the public pool (it is kept, never
  lost) and the servicer answers FAILED_PRECONDITION with the diagnosis.
- ``save_batch``: the write half of RouteLeads, after the batch solve (in a CPU worker):
  each decision takes its slot; a slot taken meanwhile by a live RouteLead sends that lead
  through ``route_one`` instead; leads left unassigned open in the pool.
- ``follow_up``, ``claim``: RecordFollowUp and ClaimFromPool on the locked row.
- ``sweep``: fires the timers due by ``now`` (first-contact misses, recycling to the
  pool, escalations) lead by lead; a lead just recycled is re-routed at once, excluding
  whoever missed it, when someone else is eligible (else it waits in the pool to be
  claimed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Connection

from dealer_group.records import Lead, LeadChannel, LeadGrade
from lead_routing.routing import (
    CandidateScorer,
    ModelCandidateScorer,
    PriorCandidateScorer,
    RoutingPolicy,
    RoutingTable,
    route,
)
from lead_routing.sla import (
    FollowUpKind,
    LeadState,
    LeadStatus,
    SlaEvent,
    SlaEventKind,
    SlaLead,
    SlaRules,
    advance,
    assign,
    claim,
    enter_pool,
    record_follow_up,
    reroute,
)
from serving.convert.lead_routing import lead_request
from serving.store.lead_routes import (
    SlotTaken,
    StoredRoute,
    customer_owner,
    get_route,
    lead_record,
    read_candidate_loads,
    read_loads,
    read_routing_table,
    save_route,
)
from turnwise.errors import FailedPrecondition, NotFound

__all__ = [
    "Routed",
    "RouterSettings",
    "TableCache",
    "claim_lead",
    "follow_up",
    "lead_scorer",
    "local_day",
    "route_one",
    "save_batch",
    "save_pooled",
    "sweep_lead",
    "with_region",
]

log = logging.getLogger("turnwise.leads")

_ATTEMPTS = 5


@dataclass(frozen=True)
class RouterSettings:
    """The routing policy, SLA rules and scorer the server routes with."""

    policy: RoutingPolicy = field(default_factory=RoutingPolicy)
    rules: SlaRules = field(default_factory=SlaRules)
    scorer: CandidateScorer = field(default_factory=PriorCandidateScorer)
    reroute_recycled: bool = True
    """Re-route a lead the moment it is recycled (else it waits in the pool)."""


def lead_scorer(path: str) -> CandidateScorer:
    """The scorer RouteLead uses: the model saved at ``path`` (``LeadScorer.save``) when
    there is one, else the prior (``PriorCandidateScorer``: fast, factored)."""
    if not path:
        return PriorCandidateScorer()
    from lead_routing.scoring import ScorerSource, active_scorer  # XGBoost only when used

    active = active_scorer(Path(path))
    log.info("lead scorer: %s", active.reason)
    if active.source is ScorerSource.MODEL:
        return ModelCandidateScorer(active.scorer)
    return PriorCandidateScorer()


class TableCache:
    """The ``RoutingTable`` of the stored advisors, rebuilt after ``invalidate()`` (the
    NetworkService calls it on every advisor, store or brand write of this process) or
    when older than ``ttl_seconds`` (writes by another server process)."""

    def __init__(self, timezone: str, ttl_seconds: float = 60.0) -> None:
        self.timezone, self.ttl = timezone, ttl_seconds
        self._lock = threading.Lock()
        self._table: RoutingTable | None = None
        self._built = 0.0
        self._generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._table = None

    def _fresh(self) -> RoutingTable | None:
        """The cached table while it is valid (call holding ``_lock``)."""
        if self._table is not None and time.monotonic() - self._built < self.ttl:
            return self._table
        return None

    def stale(self) -> bool:
        """True when the next ``get`` rebuilds the table."""
        with self._lock:
            return self._fresh() is None

    def get(self, conn: Connection) -> RoutingTable:
        with self._lock:
            table, generation = self._fresh(), self._generation
            if table is not None:
                return table
        fresh = read_routing_table(conn, self.timezone)
        with self._lock:
            if generation == self._generation:
                self._table, self._built = fresh, time.monotonic()
        return fresh


@dataclass(frozen=True)
class Routed:
    """What RouteLead answers: the lead's route, whether it is a replay, and, when the
    lead is (still) in the pool, why nobody could take it."""

    route: StoredRoute
    replayed: bool = False
    pooled_because: str = ""


def local_day(table: RoutingTable, now: datetime) -> date:
    return now.astimezone(table.zone).date()


def _sla_lead(lead: Lead, store_id: str) -> SlaLead:
    return SlaLead(
        lead.lead_id, LeadGrade(lead.grade.value), LeadChannel(lead.channel.value), store_id
    )


def _loads(
    conn: Connection, table: RoutingTable, rows: np.ndarray, day: date
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open leads, leads routed today and first contacts owed, of the advisors of ``rows``
    (0 for the others, who are not candidates)."""
    ids = [table.advisor_ids[int(i)] for i in rows]
    found = read_candidate_loads(conn, ids, day)
    open_leads = np.zeros(table.n_advisors, dtype=np.int64)
    recent = np.zeros(table.n_advisors, dtype=np.int64)
    pending = np.zeros(table.n_advisors, dtype=np.int64)
    for row, advisor in zip(rows, ids, strict=True):
        open_leads[row], recent[row], pending[row] = found.get(advisor, (0, 0, 0))
    return open_leads, recent, pending


def with_region(table: RoutingTable, lead: Lead) -> Lead:
    """The lead with the region of its store filled in (the pool is listed by region)."""
    if lead.store_id and not lead.region_id and lead.store_id in table.region_of_store:
        return replace(lead, region_id=table.region_of_store[lead.store_id])
    return lead


def _scope(table: RoutingTable, lead: Lead) -> np.ndarray:
    if lead.store_id:
        rows = table.rows_of_store.get(lead.store_id)
        if rows is None:
            raise NotFound("lead.store_id", f"{lead.store_id!r} is not a stored store")
        return rows
    rows = table.rows_of_region.get(lead.region_id)
    if rows is None:
        raise NotFound("lead.region_id", f"{lead.region_id!r} is not a region with stores")
    return rows


def route_one(
    conn: Connection,
    table: RoutingTable,
    lead: Lead,
    now: datetime,
    settings: RouterSettings,
) -> Routed:
    """RouteLead in the caller's write transaction (see the module docstring)."""
    old = get_route(conn, lead.lead_id, lock=True)
    if old is not None:
        status = old.state.status
        if status is not LeadStatus.POOLED:
            return Routed(old, replayed=True)
        known = lead_record(conn, lead.lead_id)
        lead = known if known is not None else lead
    if lead.brand_id not in table.brand_index:
        raise NotFound("lead.brand_id", f"{lead.brand_id!r} is not a stored brand")
    rows = _scope(table, lead)
    lead = with_region(table, lead)
    request = lead_request(lead)
    exclude = old.state.missed_by if old else ()
    owner = customer_owner(conn, lead.lead_id, lead.phone, lead.wechat_id)
    day = local_day(table, now)
    for _ in range(_ATTEMPTS):
        open_leads, recent, pending = _loads(conn, table, rows, day)
        try:
            decision = route(
                table,
                request,
                open_leads,
                now,
                settings.policy,
                settings.scorer,
                customer_owner=owner,
                exclude=exclude,
                recent_assignments=recent,
                pending_first_contacts=pending,
            )
        except FailedPrecondition as err:
            return save_pooled(conn, table, lead, old, now, settings, err.hint)
        advisor = decision.advisor_id
        reason = decision.reason
        state, events = _give_lead(
            table, lead, old, advisor, now, settings, reason, f"re-routed: {reason}"
        )
        try:
            stored = save_route(
                conn,
                old,
                state,
                events,
                day=day,
                lead=lead if old is None else None,
                score=decision.score,
                reason=decision.reason,
            )
        except SlotTaken:
            continue  # a concurrent routing took the slot: read the loads again
        return Routed(stored)
    raise FailedPrecondition(
        "lead",
        f"the eligible advisors' slots kept being taken by concurrent calls; retry {lead.lead_id}",
    )


def _give_lead(
    table: RoutingTable,
    lead: Lead,
    old: StoredRoute | None,
    advisor: str,
    now: datetime,
    settings: RouterSettings,
    reason: str,
    reroute_reason: str,
) -> tuple[LeadState, tuple[SlaEvent, ...]]:
    """The SLA transition giving ``lead`` to ``advisor``: its first assignment (escalations
    go to the lead's store, else the advisor's), or a re-route out of the pool."""
    if old is not None:
        return reroute(old.state, advisor, now, settings.rules, reason=reroute_reason)
    store = table.store_ids[int(table.advisor_store[table.advisor_index[advisor]])]
    sla = _sla_lead(lead, lead.store_id or store)
    return assign(sla, advisor, now, settings.rules, reason=reason)


def save_pooled(
    conn: Connection,
    table: RoutingTable,
    lead: Lead,
    old: StoredRoute | None,
    now: datetime,
    settings: RouterSettings,
    why: str,
) -> Routed:
    """A lead nobody can take now: opened in the pool (first time) or left there."""
    if old is not None:
        return Routed(old, pooled_because=why)
    escalate_to = lead.store_id or lead.region_id  # a region lead escalates to its region
    state, events = enter_pool(_sla_lead(lead, escalate_to), now, settings.rules, reason=why)
    stored = save_route(
        conn, None, state, events, day=local_day(table, now), lead=lead, score=0.0, reason=why
    )
    return Routed(stored, pooled_because=why)


def _locked(conn: Connection, lead_id: str) -> StoredRoute:
    found = get_route(conn, lead_id, lock=True)
    if found is None:
        raise NotFound("lead_id", f"lead {lead_id!r} was never routed (RouteLead first)")
    return found


def follow_up(
    conn: Connection,
    table: RoutingTable,
    lead_id: str,
    advisor_id: str,
    kind: FollowUpKind,
    at: datetime,
    note: str,
    now: datetime,
    settings: RouterSettings,
) -> LeadState:
    """RecordFollowUp: the lead's state after the follow-up (and any timer due before it)."""
    old = _locked(conn, lead_id)
    if advisor_id not in table.advisor_index:
        raise NotFound("advisor_id", f"{advisor_id!r} is not a stored advisor")
    state, events = record_follow_up(old.state, advisor_id, kind, at, now, settings.rules)
    if note:
        events = tuple(
            _with_note(e, note) if e.kind in (SlaEventKind.FOLLOWED_UP, SlaEventKind.CLOSED) else e
            for e in events
        )
    save_route(conn, old, state, events, day=local_day(table, now))
    return state


def _with_note(event: SlaEvent, note: str) -> SlaEvent:
    return replace(event, reason=f"{event.reason}; note: {note}")


def claim_lead(
    conn: Connection,
    table: RoutingTable,
    lead_id: str,
    advisor_id: str,
    now: datetime,
    settings: RouterSettings,
) -> StoredRoute:
    """ClaimFromPool: ``advisor_id`` takes the pooled lead (certified for its brand, with
    a free slot, working in its region, not one who missed it)."""
    old = _locked(conn, lead_id)
    row = table.advisor_index.get(advisor_id)
    if row is None:
        raise NotFound("advisor_id", f"{advisor_id!r} is not a stored advisor")
    store = table.store_ids[int(table.advisor_store[row])]
    region = table.region_of_store[store]
    if region != old.region_id:
        raise FailedPrecondition(
            "advisor_id",
            f"{advisor_id} works in {region}; lead {lead_id} belongs to {old.region_id}",
        )
    brand = table.brand_index.get(old.brand_id)
    certified = brand is not None and bool(table.certified[row, brand])
    cap = int(table.max_open_leads[row])
    if cap < 1:
        raise FailedPrecondition("advisor_id", f"{advisor_id} takes no leads (max_open_leads 0)")
    day = local_day(table, now)
    open_leads = read_loads(conn, [advisor_id], day).get(advisor_id, (0, 0))[0]
    state, events = claim(
        old.state,
        advisor_id,
        now,
        settings.rules,
        open_leads=open_leads,
        max_open_leads=cap,
        certified=certified,
    )
    request = lead_request(_lead(conn, lead_id))
    score = settings.scorer(table, request, np.array([row]), np.array([open_leads]))
    reason = f"claimed from the public pool by {advisor_id}"
    try:
        return save_route(conn, old, state, events, day=day, score=float(score[0]), reason=reason)
    except SlotTaken:
        raise FailedPrecondition(
            "advisor_id", f"{advisor_id} has no free slot left (cap {cap} open leads)"
        ) from None


def _lead(conn: Connection, lead_id: str) -> Lead:
    lead = lead_record(conn, lead_id)
    if lead is None:
        raise NotFound("lead_id", f"lead {lead_id!r} is not stored")
    return lead


def sweep_lead(
    conn: Connection,
    table: RoutingTable,
    lead_id: str,
    now: datetime,
    settings: RouterSettings,
) -> tuple[SlaEventKind, ...]:
    """Fire the lead's timers due by ``now``; re-route it if it was just recycled. The
    kinds of the events it made."""
    old = get_route(conn, lead_id, lock=True)
    if old is None:
        return ()
    state, events = advance(old.state, now)
    if not events:
        return ()
    save_route(conn, old, state, events, day=local_day(table, now))
    kinds = tuple(e.kind for e in events)
    recycled = state.status is LeadStatus.POOLED and SlaEventKind.RECYCLED in kinds
    if settings.reroute_recycled and recycled:
        again = route_one(conn, table, _lead(conn, lead_id), now, settings)
        if not again.pooled_because:
            kinds += (SlaEventKind.ASSIGNED,)
    return kinds


def save_batch(
    conn: Connection,
    table: RoutingTable,
    leads: Sequence[Lead],
    chosen: dict[str, tuple[str, float, str]],
    unassigned: dict[str, str],
    now: datetime,
    settings: RouterSettings,
) -> list[Routed]:
    """The write half of RouteLeads: ``chosen`` maps lead id -> (advisor, score, reason)
    from the batch solve, ``unassigned`` lead id -> why. One ``Routed`` per lead, in the
    order of ``leads``."""
    day = local_day(table, now)
    out: list[Routed] = []
    for lead in leads:
        lead = with_region(table, lead)
        old = get_route(conn, lead.lead_id, lock=True)
        if old is not None and old.state.status is not LeadStatus.POOLED:
            out.append(Routed(old, replayed=True))
            continue
        if lead.lead_id in unassigned:
            why = unassigned[lead.lead_id]
            out.append(save_pooled(conn, table, lead, old, now, settings, why))
            continue
        advisor, score, reason = chosen[lead.lead_id]
        state, events = _give_lead(table, lead, old, advisor, now, settings, reason, reason)
        record = lead if old is None else None
        try:
            stored = save_route(
                conn, old, state, events, day=day, lead=record, score=score, reason=reason
            )
            out.append(Routed(stored))
        except SlotTaken:  # a live RouteLead took the slot since the solve read the loads
            out.append(route_one(conn, table, lead, now, settings))
    return out
