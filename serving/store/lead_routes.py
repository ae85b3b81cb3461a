"""The stored state of lead routing: who owns each routed lead, its SLA state, the open
leads of each advisor, and the event log.

Every function runs inside the caller's transaction (``Database.write()`` or ``read()``).

**Capacity.** ``advisor_load.open_leads`` is the number of open (assigned or contacted)
leads an advisor owns. Every change of owner goes through ``save_route``, which in the same
transaction releases the old owner's slot and takes the new owner's with one conditional
``UPDATE ... SET open_leads = open_leads + 1 WHERE open_leads < max_open_leads`` (the cap read
from ``advisors`` in the same statement). Under PostgreSQL a concurrent transaction taking
the same advisor's slot waits on the row lock and re-checks the condition when it gets the
row, so the cap holds under any number of concurrent routers; under SQLite every write
transaction holds the database's write lock from its start (``BEGIN IMMEDIATE``). When the
slot is gone ``save_route`` raises ``SlotTaken``, and the caller routes again with fresh
loads. A lead's row in ``lead_routes`` is keyed by its ``lead_id``, so two concurrent first
routings of the same lead cannot both commit: the loser's transaction fails on the key and
is rolled back whole (slot included).

**One-ID.** ``customer_owner`` looks a new lead's normalised phone (then WeChat id) up in
the ``leads`` table's key columns and answers the advisor of the latest such lead that has
one. That is one hop of ``lead_routing.identity.CustomerIndex``'s transitive grouping (a
customer known by phone P in one lead and by WeChat W in another is found through either,
but a chain P -> W -> P' is not followed): an index query per lead instead of a rebuild of
the whole index per call.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dealer_group.records import Lead, LeadChannel, LeadGrade
from lead_routing.identity import CustomerMatch, MatchKind, normalise_phone, normalise_wechat
from lead_routing.routing import RoutingTable
from lead_routing.sla import (
    LeadState,
    LeadStatus,
    SlaEvent,
    state_from_dict,
    state_to_dict,
)
from serving.store import tables as t
from serving.store.upsert import chunked
from turnwise.errors import InvalidArgument

__all__ = [
    "PoolPage",
    "PooledRow",
    "SlotTaken",
    "StoredRoute",
    "customer_owner",
    "decode_pool_token",
    "due_lead_ids",
    "get_route",
    "lead_record",
    "list_pool",
    "read_candidate_loads",
    "read_loads",
    "read_routing_table",
    "save_route",
]

_OPEN = (LeadStatus.ASSIGNED.value, LeadStatus.CONTACTED.value)

# The statements of the RouteLead path, built once (building SQLAlchemy expressions per call
# cost about a third of a routing's time); values are bound at execution.
_LOAD = t.advisor_load
_READ_LOADS = select(_LOAD).where(_LOAD.c.advisor_id.in_(bindparam("ids", expanding=True)))
_OWED = (  # first contacts owed: assigned, not yet contacted (index owner, status)
    select(func.count())
    .where(
        t.lead_routes.c.owner == _LOAD.c.advisor_id,
        t.lead_routes.c.status == LeadStatus.ASSIGNED.value,
    )
    .scalar_subquery()
)
_READ_CANDIDATE_LOADS = select(_LOAD, _OWED.label("owed")).where(
    _LOAD.c.advisor_id.in_(bindparam("ids", expanding=True))
)
_CAP = (
    select(t.advisors.c.max_open_leads)
    .where(t.advisors.c.advisor_id == _LOAD.c.advisor_id)
    .scalar_subquery()
)
_TAKE_SLOT = (
    update(_LOAD)
    .where(_LOAD.c.advisor_id == bindparam("advisor"), _LOAD.c.open_leads < _CAP)
    .values(
        open_leads=_LOAD.c.open_leads + 1,
        routed_count=case(
            (_LOAD.c.routed_day == bindparam("day"), _LOAD.c.routed_count + 1), else_=1
        ),
        routed_day=bindparam("day"),
    )
)
_RELEASE_SLOT = (
    update(_LOAD)
    .where(_LOAD.c.advisor_id == bindparam("advisor"), _LOAD.c.open_leads > 0)
    .values(open_leads=_LOAD.c.open_leads - 1)
)


def _same_customer(column: Any) -> Any:
    leads = t.leads
    return (
        select(leads.c.lead_id, leads.c.advisor_id)
        .where(column == bindparam("key"), leads.c.lead_id != bindparam("lead_id"))
        .order_by(leads.c.advisor_id.is_(None), leads.c.created_at.desc())
        .limit(1)
    )


_BY_PHONE = _same_customer(t.leads.c.phone_key)
_BY_WECHAT = _same_customer(t.leads.c.wechat_key)
_GET_ROUTE = select(t.lead_routes).where(t.lead_routes.c.lead_id == bindparam("lead_id"))
_GET_ROUTE_LOCKED = _GET_ROUTE.with_for_update()
_LEAD = select(t.leads).where(t.leads.c.lead_id == bindparam("lead_id"))


def _upsert(dialect: Any) -> Any:
    """INSERT INTO leads ... ON CONFLICT (lead_id) DO UPDATE SET every other column: one
    statement where a lookup and an insert or update were two."""
    stmt = dialect.insert(t.leads)
    keep = {c.name: stmt.excluded[c.name] for c in t.leads.columns if c.name != "lead_id"}
    return stmt.on_conflict_do_update(index_elements=[t.leads.c.lead_id], set_=keep)


_UPSERT_LEAD = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}
_UPDATE_LEAD = update(t.leads).where(t.leads.c.lead_id == bindparam("b_lead_id"))
_INSERT_ROUTE = insert(t.lead_routes)
_UPDATE_ROUTE = update(t.lead_routes).where(t.lead_routes.c.lead_id == bindparam("b_lead_id"))
_INSERT_EVENTS = insert(t.lead_events)


class SlotTaken(Exception):
    """The advisor's last free slot went to another lead since the loads were read."""

    def __init__(self, advisor_id: str) -> None:
        super().__init__(f"{advisor_id} has no free slot left")
        self.advisor_id = advisor_id


def read_routing_table(conn: Connection, timezone: str) -> RoutingTable:
    """The ``RoutingTable`` of the stored advisors, stores and brands."""
    advisors = pd.DataFrame(conn.execute(select(t.advisors)).mappings().all())
    if advisors.empty:
        advisors = pd.DataFrame({c.name: [] for c in t.advisors.columns})
    links: dict[str, list[str]] = {}
    query = select(t.advisor_brands).order_by(t.advisor_brands.c.brand_id)
    for row in conn.execute(query):
        links.setdefault(row.advisor_id, []).append(row.brand_id)
    advisors["brand_ids"] = [";".join(links.get(a, [])) for a in advisors["advisor_id"]]
    stores = pd.DataFrame(
        conn.execute(select(t.stores.c.store_id, t.stores.c.region_id)).all(),
        columns=["store_id", "region_id"],
    )
    brands = pd.DataFrame(conn.execute(select(t.brands.c.brand_id)).all(), columns=["brand_id"])
    return RoutingTable.from_frames(advisors, stores, brands, timezone=timezone)


def read_loads(
    conn: Connection, advisor_ids: Sequence[str], day: date
) -> dict[str, tuple[int, int]]:
    """advisor id -> (open leads, leads routed to them on ``day``) for ``advisor_ids``."""
    out: dict[str, tuple[int, int]] = {}
    for chunk in chunked(list(advisor_ids)):
        for row in conn.execute(_READ_LOADS, {"ids": list(chunk)}):
            recent = row.routed_count if row.routed_day == day else 0
            out[row.advisor_id] = (int(row.open_leads), int(recent))
    return out


def read_candidate_loads(
    conn: Connection, advisor_ids: Sequence[str], day: date
) -> dict[str, tuple[int, int, int]]:
    """advisor id -> (open leads, leads routed to them on ``day``, first contacts they owe:
    leads assigned to them and not contacted yet), in one statement (RouteLead's hot path);
    absent: an advisor without a load row (every stored advisor has one), all three 0."""
    out: dict[str, tuple[int, int, int]] = {}
    for chunk in chunked(list(advisor_ids)):
        for row in conn.execute(_READ_CANDIDATE_LOADS, {"ids": list(chunk)}):
            recent = row.routed_count if row.routed_day == day else 0
            out[row.advisor_id] = (int(row.open_leads), int(recent), int(row.owed))
    return out


def customer_owner(
    conn: Connection, lead_id: str, phone: str, wechat_id: str
) -> CustomerMatch | None:
    """The existing customer of a lead's contacts and its current advisor (phone first);
    None when neither matches another lead."""
    for kind, query, key in (
        (MatchKind.PHONE, _BY_PHONE, normalise_phone(phone)),
        (MatchKind.WECHAT, _BY_WECHAT, normalise_wechat(wechat_id)),
    ):
        if not key:
            continue
        row = conn.execute(query, {"key": key, "lead_id": lead_id}).first()
        if row is not None:
            return CustomerMatch(row.lead_id, kind, row.advisor_id or "")
    return None


@dataclass(frozen=True)
class StoredRoute:
    """A routed lead's row: its SLA state, the routing's score and reason, and the lead."""

    state: LeadState
    score: float
    reason: str
    region_id: str
    brand_id: str
    routed_at: datetime
    first_contact_due: datetime | None
    """First contact due of the current (or last) assignment; kept after the contact."""

    @property
    def advisor_id(self) -> str:
        """The current owner; the last owner of a closed lead; "" in the pool."""
        return self.state.owner or ""


def get_route(conn: Connection, lead_id: str, *, lock: bool = False) -> StoredRoute | None:
    """The lead's stored routing, or None if it was never routed. ``lock`` takes the row
    lock (PostgreSQL ``FOR UPDATE``; SQLite's write transactions are serialised already)."""
    query = _GET_ROUTE_LOCKED if lock else _GET_ROUTE
    row = conn.execute(query, {"lead_id": lead_id}).first()
    if row is None:
        return None
    return StoredRoute(
        state=state_from_dict(row.state),
        score=float(row.score),
        reason=row.reason,
        region_id=row.region_id,
        brand_id=row.brand_id,
        routed_at=row.routed_at,
        first_contact_due=row.first_contact_due,
    )


def lead_record(conn: Connection, lead_id: str) -> Lead | None:
    """The stored lead, as a record."""
    row = conn.execute(_LEAD, {"lead_id": lead_id}).first()
    if row is None:
        return None
    return Lead(
        lead_id=row.lead_id,
        created_at=row.created_at,
        channel=LeadChannel(row.channel),
        store_id=row.store_id or "",
        region_id=row.region_id or "",
        brand_id=row.brand_id,
        model=row.model,
        grade=LeadGrade(row.grade),
        phone=row.phone,
        wechat_id=row.wechat_id,
        tags=tuple(row.tags),
        advisor_id=row.advisor_id or "",
        converted=row.converted,
    )


def _take_slot(conn: Connection, advisor_id: str, day: date) -> None:
    if conn.execute(_TAKE_SLOT, {"advisor": advisor_id, "day": day}).rowcount != 1:
        raise SlotTaken(advisor_id)


def _release_slot(conn: Connection, advisor_id: str) -> None:
    conn.execute(_RELEASE_SLOT, {"advisor": advisor_id})


def _owner(state: LeadState | None) -> str | None:
    if state is None or state.status.value not in _OPEN:
        return None
    return state.owner


def save_route(
    conn: Connection,
    old: StoredRoute | None,
    new: LeadState,
    events: Sequence[SlaEvent],
    *,
    day: date,
    lead: Lead | None = None,
    score: float | None = None,
    reason: str | None = None,
) -> StoredRoute:
    """Store ``new`` (the lead's state after ``events``), moving the open-lead slots from
    the old owner to the new one; ``lead`` (first routing only) is upserted into ``leads``;
    ``score`` and ``reason`` replace the routing's when given (a new owner). Raises
    ``SlotTaken`` when the new owner has no free slot left."""
    before, after = _owner(old.state if old else None), _owner(new)
    if before != after:  # the slot first: nothing is written when it is gone
        if after is not None:
            _take_slot(conn, after, day)
        if before is not None:
            _release_slot(conn, before)
    owner_now = new.owner if new.status is not LeadStatus.POOLED else None
    converted = None if new.outcome is None else new.outcome.value == "ORDER"
    if lead is not None:
        _upsert_lead(conn, lead, owner_now, converted)
    if old is None and lead is None:
        raise InvalidArgument("lead", "the first routing of a lead must store the lead")
    region = old.region_id if old else lead.region_id if lead else ""
    brand = old.brand_id if old else lead.brand_id if lead else ""
    stored = StoredRoute(
        state=new,
        score=float(score if score is not None else old.score if old else 0.0),
        reason=reason if reason is not None else old.reason if old else "",
        region_id=region,
        brand_id=brand,
        routed_at=old.routed_at if old else new.opened_at,
        first_contact_due=(
            new.first_contact_due if score is not None or old is None else old.first_contact_due
        ),
    )
    row = _route_row(stored, lead.store_id if lead else None)
    if old is None:
        conn.execute(_INSERT_ROUTE, [row])
    else:
        del row["store_id"]
        conn.execute(_UPDATE_ROUTE, [{**row, "b_lead_id": new.lead_id}])
    if lead is None:  # the lead's row names its current owner (One-ID reads it)
        values: dict[str, Any] = {"b_lead_id": new.lead_id, "advisor_id": owner_now}
        if converted is not None:
            values["converted"] = converted
        conn.execute(_UPDATE_LEAD, [values])
    if events:
        conn.execute(_INSERT_EVENTS, [_event_row(e) for e in events])
    return stored


def _route_row(route: StoredRoute, store_id: str | None) -> dict[str, Any]:
    state = route.state
    return {
        "lead_id": state.lead_id,
        "status": state.status.value,
        "owner": state.owner if state.status.value in _OPEN else None,
        "store_id": store_id or None,
        "region_id": route.region_id,
        "brand_id": route.brand_id,
        "next_due": state.next_due,
        "pooled_at": state.pooled_at,
        "routed_at": route.routed_at,
        "score": route.score,
        "reason": route.reason,
        "first_contact_due": route.first_contact_due,
        "state": state_to_dict(state),
    }


def _event_row(event: SlaEvent) -> dict[str, Any]:
    return {
        "lead_id": event.lead_id,
        "at": event.at,
        "kind": event.kind.value,
        "actor": event.actor,
        "reason": event.reason,
        "advisor_id": event.advisor_id,
        "follow_up": None if event.follow_up is None else event.follow_up.value,
    }


def _upsert_lead(
    conn: Connection, lead: Lead, advisor_id: str | None, converted: bool | None
) -> None:
    row: dict[str, Any] = {
        "lead_id": lead.lead_id,
        "created_at": lead.created_at,
        "channel": lead.channel.value,
        "store_id": lead.store_id or None,
        "region_id": lead.region_id or None,
        "brand_id": lead.brand_id,
        "model": lead.model,
        "grade": lead.grade.value,
        "phone": lead.phone,
        "wechat_id": lead.wechat_id,
        "tags": list(lead.tags),
        "advisor_id": advisor_id,
        "converted": converted,
        "phone_key": normalise_phone(lead.phone),
        "wechat_key": normalise_wechat(lead.wechat_id),
    }
    conn.execute(_UPSERT_LEAD[conn.dialect.name], row)


def due_lead_ids(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Open leads with a timer due at or before ``now``, earliest first."""
    routes = t.lead_routes
    query = (
        select(routes.c.lead_id)
        .where(routes.c.next_due.is_not(None), routes.c.next_due <= now)
        .order_by(routes.c.next_due, routes.c.lead_id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


@dataclass(frozen=True)
class PooledRow:
    lead: Lead
    pooled_at: datetime
    missed_by: tuple[str, ...]


@dataclass(frozen=True)
class PoolPage:
    leads: tuple[PooledRow, ...]
    next_token: str


def _pool_token(pooled_at: datetime, lead_id: str) -> str:
    raw = f"{pooled_at.isoformat()}|{lead_id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_pool_token(token: str) -> tuple[datetime, str] | None:
    """The (pooled_at, lead_id) after which a page starts; None for the first page."""
    if not token:
        return None
    try:
        at, lead_id = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), lead_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument(
            "page_token", "is not a token from ListPool's next_page_token"
        ) from None


def list_pool(
    conn: Connection,
    store_id: str,
    region_id: str,
    after: tuple[datetime, str] | None,
    page_size: int,
) -> PoolPage:
    """One page of the pooled leads, oldest ``pooled_at`` first (ties by lead id)."""
    routes = t.lead_routes
    query = select(routes.c.lead_id, routes.c.pooled_at, routes.c.state).where(
        routes.c.status == LeadStatus.POOLED.value
    )
    if store_id:
        query = query.where(routes.c.store_id == store_id)
    if region_id:
        query = query.where(routes.c.region_id == region_id)
    if after is not None:
        at, lead_id = after
        query = query.where(
            or_(routes.c.pooled_at > at, and_(routes.c.pooled_at == at, routes.c.lead_id > lead_id))
        )
    rows = conn.execute(
        query.order_by(routes.c.pooled_at, routes.c.lead_id).limit(page_size + 1)
    ).all()
    out = []
    for row in rows[:page_size]:
        lead = lead_record(conn, row.lead_id)
        assert lead is not None  # lead_routes.lead_id references leads
        out.append(PooledRow(lead, row.pooled_at, tuple(row.state.get("missed_by", ()))))
    token = ""
    if len(rows) > page_size and out:
        token = _pool_token(out[-1].pooled_at, out[-1].lead.lead_id)
    return PoolPage(tuple(out), token)
