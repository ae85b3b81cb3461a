"""The records of the SLA state machine (``lead_routing.sla``): what happened in a
follow-up, a lead's status, the events of its log, the lead's state with its deadlines, and
the JSON codec that lets the store persist them (so timers survive a restart)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from dealer_group.records import LeadChannel, LeadGrade
from turnwise.errors import InvalidArgument

__all__ = [
    "STATE_FORMAT_VERSION",
    "FollowUpKind",
    "LeadState",
    "LeadStatus",
    "SlaEvent",
    "SlaEventKind",
    "SlaLead",
    "event_from_dict",
    "event_to_dict",
    "state_from_dict",
    "state_to_dict",
]

STATE_FORMAT_VERSION = 1
"""Version of the ``state_to_dict`` format; ``state_from_dict`` refuses any other."""


class FollowUpKind(enum.Enum):
    """What happened in a follow-up (the contract's FollowUpKind)."""

    CALL = "CALL"
    WECHAT = "WECHAT"
    VISIT = "VISIT"
    TEST_DRIVE = "TEST_DRIVE"
    ORDER = "ORDER"
    LOST = "LOST"

    @property
    def closes(self) -> bool:
        """ORDER and LOST close the lead and stop its timers."""
        return self is FollowUpKind.ORDER or self is FollowUpKind.LOST


class LeadStatus(enum.Enum):
    ASSIGNED = "ASSIGNED"
    """Owned by an advisor who has not followed it up yet."""
    CONTACTED = "CONTACTED"
    """Owned by an advisor who has followed it up."""
    POOLED = "POOLED"
    """In the public pool, without an owner."""
    CLOSED = "CLOSED"
    """Ordered or lost; final."""


class SlaEventKind(enum.Enum):
    ASSIGNED = "ASSIGNED"
    POOLED = "POOLED"
    """Opened straight into the pool (no eligible advisor with capacity)."""
    FIRST_CONTACT_MISSED = "FIRST_CONTACT_MISSED"
    FOLLOWED_UP = "FOLLOWED_UP"
    RECYCLED = "RECYCLED"
    ESCALATED = "ESCALATED"
    CLAIMED = "CLAIMED"
    CLOSED = "CLOSED"


def _require_id(field: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(field, f"is required (a non-empty string), got {value!r}")
    if len(value) > 64 or any(c.isspace() for c in value):
        raise InvalidArgument(field, f"{value!r} is not an id: use 1-64 characters, no spaces")


def _require_text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(field, f"is required (non-empty text), got {value!r}")


def _require_positive(field: str, value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidArgument(field, f"must be a positive timedelta, got {value!r}")


def _utc(field: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidArgument(field, f"must be a time-zone-aware datetime (UTC), got {value!r}")
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _span(value: timedelta) -> str:
    hours, rest = divmod(int(value.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{seconds}s" if seconds or not text else "")


@dataclass(frozen=True)
class SlaLead:
    """A lead as the SLA sees it, when it is first assigned or pooled."""

    lead_id: str
    grade: LeadGrade
    channel: LeadChannel
    store_id: str
    """The store whose manager escalations go to."""

    def __post_init__(self) -> None:
        _require_id("lead_id", self.lead_id)
        _require_id("store_id", self.store_id)
        if not isinstance(self.grade, LeadGrade):
            raise InvalidArgument("grade", f"must be a LeadGrade, got {self.grade!r}")
        if not isinstance(self.channel, LeadChannel):
            raise InvalidArgument("channel", f"must be a LeadChannel, got {self.channel!r}")


@dataclass(frozen=True)
class SlaEvent:
    """One transition of a lead: who (``actor``), when (``at``, UTC) and why (``reason``).

    ``advisor_id`` is the advisor the transition concerns (the new owner, the one who missed
    the lead, the owner at escalation), None when none does; ``follow_up`` is the kind of
    FOLLOWED_UP and CLOSED events.
    """

    lead_id: str
    kind: SlaEventKind
    at: datetime
    actor: str
    reason: str
    advisor_id: str | None = None
    follow_up: FollowUpKind | None = None

    def __post_init__(self) -> None:
        _require_id("lead_id", self.lead_id)
        if not isinstance(self.kind, SlaEventKind):
            raise InvalidArgument("kind", f"must be an SlaEventKind, got {self.kind!r}")
        _utc("at", self.at)
        _require_text("actor", self.actor)
        _require_text("reason", self.reason)
        if self.advisor_id is not None:
            _require_id("advisor_id", self.advisor_id)
        if self.follow_up is not None and not isinstance(self.follow_up, FollowUpKind):
            raise InvalidArgument("follow_up", f"must be a FollowUpKind, got {self.follow_up!r}")


_TIMES = (
    "opened_at",
    "updated_at",
    "assigned_at",
    "pooled_at",
    "last_follow_up_at",
    "first_contact_due",
    "recycle_due",
    "escalation_due",
)
_OWNED = (LeadStatus.ASSIGNED, LeadStatus.CONTACTED)


@dataclass(frozen=True)
class LeadState:
    """The SLA state of one lead: owner, timers and history that the timers need.

    ``opened_at`` is when the SLA began (first assignment or pooling); ``updated_at`` the
    time of its last transition (every later event is at or after it); ``assigned_at`` when
    the current owner got it; ``pooled_at`` when it entered the pool. The three deadlines
    are set by transitions; ``next_due`` is the earliest.
    """

    lead_id: str
    grade: LeadGrade
    channel: LeadChannel
    store_id: str
    status: LeadStatus
    opened_at: datetime
    updated_at: datetime
    owner: str | None = None
    assigned_at: datetime | None = None
    pooled_at: datetime | None = None
    last_follow_up_at: datetime | None = None
    first_contact_due: datetime | None = None
    recycle_due: datetime | None = None
    escalation_due: datetime | None = None
    escalated: bool = False
    missed_by: tuple[str, ...] = ()
    """Advisors who let the lead be recycled, in order; excluded from taking it again."""
    outcome: FollowUpKind | None = None
    """ORDER or LOST once CLOSED."""

    def __post_init__(self) -> None:
        SlaLead(self.lead_id, self.grade, self.channel, self.store_id)
        if not isinstance(self.status, LeadStatus):
            raise InvalidArgument("status", f"must be a LeadStatus, got {self.status!r}")
        for name in _TIMES:
            if name in ("opened_at", "updated_at") or getattr(self, name) is not None:
                _utc(name, getattr(self, name))
        if self.updated_at < self.opened_at:
            raise InvalidArgument("updated_at", "must not be before opened_at")
        for i, advisor in enumerate(self.missed_by):
            _require_id(f"missed_by[{i}]", advisor)
        if len(set(self.missed_by)) != len(self.missed_by):
            raise InvalidArgument("missed_by", f"repeats an advisor: {self.missed_by}")
        owned = self.status in _OWNED
        status_assigned = self.status is LeadStatus.ASSIGNED
        pooled = self.status is LeadStatus.POOLED
        closed = self.status is LeadStatus.CLOSED
        rules = (
            ("owner", (self.owner is not None) == owned or closed),
            ("assigned_at", (self.assigned_at is not None) == owned or closed),
            ("recycle_due", (self.recycle_due is not None) == owned),
            ("pooled_at", (self.pooled_at is not None) == pooled),
            ("first_contact_due", self.first_contact_due is None or status_assigned),
            ("escalation_due", self.escalation_due is None or not (closed or self.escalated)),
            ("outcome", (self.outcome is not None) == closed),
        )
        for name, holds in rules:
            if not holds:
                raise InvalidArgument(
                    name, f"{getattr(self, name)!r} is inconsistent with status {self.status.value}"
                )
        if self.owner is not None:
            _require_id("owner", self.owner)
            if self.owner in self.missed_by:
                raise InvalidArgument("owner", f"{self.owner} missed the lead: cannot own it")
        if closed and self.outcome is not None and not self.outcome.closes:
            raise InvalidArgument("outcome", f"must be ORDER or LOST, got {self.outcome.value}")

    @property
    def next_due(self) -> datetime | None:
        """The earliest pending deadline; None when no timer runs (closed, or pooled and
        not escalating)."""
        timers = (self.first_contact_due, self.recycle_due, self.escalation_due)
        dues = [due for due in timers if due is not None]
        return min(dues) if dues else None


def _get(data: Mapping[str, Any], key: str) -> Any:
    if key not in data:
        raise InvalidArgument(key, "is required")
    return data[key]


_E = TypeVar("_E", bound=enum.Enum)


def _enum(data: Mapping[str, Any], key: str, cls: type[_E]) -> _E:
    value = _get(data, key)
    try:
        return cls(value)
    except ValueError:
        names = ", ".join(str(m.value) for m in cls)
        raise InvalidArgument(key, f"{value!r} is not one of {names}") from None


def _optional_enum(data: Mapping[str, Any], key: str, cls: type[_E]) -> _E | None:
    return None if _get(data, key) is None else _enum(data, key, cls)


def _time(data: Mapping[str, Any], key: str) -> datetime:
    value = _get(data, key)
    if not isinstance(value, str):
        raise InvalidArgument(key, f"must be an ISO 8601 time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(key, f"{value!r} is not an ISO 8601 time") from None
    return _utc(key, parsed)


def _optional_time(data: Mapping[str, Any], key: str) -> datetime | None:
    return None if _get(data, key) is None else _time(data, key)


def state_to_dict(state: LeadState) -> dict[str, Any]:
    """The state as JSON-able values (times as ISO 8601 UTC with "Z"). ``next_due`` is
    included for the store to index and is not read back."""
    out: dict[str, Any] = {"version": STATE_FORMAT_VERSION}
    out.update(lead_id=state.lead_id, grade=state.grade.value, channel=state.channel.value)
    out.update(store_id=state.store_id, status=state.status.value, owner=state.owner)
    for name in _TIMES:
        value = getattr(state, name)
        out[name] = None if value is None else _iso(value)
    out.update(escalated=state.escalated, missed_by=list(state.missed_by))
    out["outcome"] = None if state.outcome is None else state.outcome.value
    out["next_due"] = None if state.next_due is None else _iso(state.next_due)
    return out


def state_from_dict(data: Mapping[str, Any]) -> LeadState:
    """The state that ``state_to_dict`` wrote; a bad or inconsistent record names its field."""
    if _get(data, "version") != STATE_FORMAT_VERSION:
        raise InvalidArgument("version", f"must be {STATE_FORMAT_VERSION}, got {data['version']}")
    missed = _get(data, "missed_by")
    if not isinstance(missed, list | tuple):
        raise InvalidArgument("missed_by", f"must be a list of advisor ids, got {missed!r}")
    escalated = _get(data, "escalated")
    if not isinstance(escalated, bool):
        raise InvalidArgument("escalated", f"must be true or false, got {escalated!r}")
    return LeadState(
        lead_id=_get(data, "lead_id"),
        grade=_enum(data, "grade", LeadGrade),
        channel=_enum(data, "channel", LeadChannel),
        store_id=_get(data, "store_id"),
        status=_enum(data, "status", LeadStatus),
        owner=_get(data, "owner"),
        escalated=escalated,
        missed_by=tuple(missed),
        outcome=_optional_enum(data, "outcome", FollowUpKind),
        opened_at=_time(data, "opened_at"),
        updated_at=_time(data, "updated_at"),
        assigned_at=_optional_time(data, "assigned_at"),
        pooled_at=_optional_time(data, "pooled_at"),
        last_follow_up_at=_optional_time(data, "last_follow_up_at"),
        first_contact_due=_optional_time(data, "first_contact_due"),
        recycle_due=_optional_time(data, "recycle_due"),
        escalation_due=_optional_time(data, "escalation_due"),
    )


def event_to_dict(event: SlaEvent) -> dict[str, Any]:
    """The event as JSON-able values, for the store's event log."""
    return {
        "lead_id": event.lead_id,
        "kind": event.kind.value,
        "at": _iso(event.at),
        "actor": event.actor,
        "reason": event.reason,
        "advisor_id": event.advisor_id,
        "follow_up": None if event.follow_up is None else event.follow_up.value,
    }


def event_from_dict(data: Mapping[str, Any]) -> SlaEvent:
    """The event that ``event_to_dict`` wrote."""
    return SlaEvent(
        lead_id=_get(data, "lead_id"),
        kind=_enum(data, "kind", SlaEventKind),
        at=_time(data, "at"),
        actor=_get(data, "actor"),
        reason=_get(data, "reason"),
        advisor_id=_get(data, "advisor_id"),
        follow_up=_optional_enum(data, "follow_up", FollowUpKind),
    )
