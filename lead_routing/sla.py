"""SLA timers and the public pool (公海池) of lead routing, as a pure state machine.

Each function takes a lead's ``LeadState``, the time ``now`` (an injected clock: nothing
here reads the system clock) and the ``SlaRules``, and returns the new state with the
``SlaEvent`` of every transition it made. Nothing is mutated or stored here: ``serving/``
persists the state (``state_to_dict``, which carries every deadline, so timers survive a
restart) and appends the events to the lead's log, each with who (``actor``: "system" or
an advisor id), when (``at``) and why (``reason``).

**Rules** (``SlaRules``; the defaults are those of issue 6)

- *First contact*: the owner must record a follow-up within ``first_contact`` (5 min) of
  being assigned the lead. A miss is recorded (FIRST_CONTACT_MISSED, for the advisor's
  record); the lead stays with the advisor, the recycle timer decides whether they lose it.
- *Recycling*: an owned lead with no follow-up within ``recycle_after`` (2 h) of its
  assignment or of its last follow-up, whichever is later, is RECYCLED to the public pool:
  it loses its owner, who joins ``missed_by`` and may neither claim it back (``claim``) nor
  be routed it again (``reroute``). A pooled lead waits to be claimed by an advisor with
  spare capacity or re-routed by the router; no timer moves it out of the pool.
- *Escalation*: a lead of an escalating grade with no follow-up for ``escalate_after``
  (48 h) since its last follow-up (since it was opened if it never had one) is ESCALATED:
  the event notifies the manager of ``store_id`` and the ``escalated`` flag is raised; the
  owner, if any, does not change. As a lead without follow-up for 2 h has long been
  recycled, "48 h without follow-up" spans the lead's whole history, with an advisor or in
  the pool: claims and re-routing do not reset it (they are not contact with the customer),
  only a follow-up does. The next follow-up lowers the flag and re-arms the timer, so a lead
  escalates at most once per silence. The issue names A-grade leads; H (purchase within
  about a week) is hotter than A (about two weeks), so by default H escalates too:
  ``escalate_grades=frozenset({LeadGrade.A})`` gives the literal rule.
- *Overrides*: an ``SlaOverride`` changes some timings for a grade, a channel or both;
  ``SlaRules.for_lead`` applies the matching ones from the least specific (channel only)
  through grade only to grade and channel, so the most specific wins.
- *Closing*: a follow-up of kind ORDER or LOST closes the lead; a closed lead never changes.

**Time.** A deadline is fixed when a transition sets it and is stored in the state, so
``advance`` needs no rules and a change of rules applies to a lead from its next transition.
``advance(state, now)`` fires every timer due at or before ``now`` in time order (ties:
first contact, recycling, escalation), each event at its deadline rather than at the time of
the sweep: advancing in steps gives the same state and events as advancing once, and
advancing again to the same ``now`` adds nothing. The commands (``reroute``, ``claim``,
``record_follow_up``) first advance the lead to their time, so a claim after a recycle
deadline finds the lead in the pool whether or not a sweeper ran. ``record_follow_up``
advances to the contact time ``at`` first, so a contact made in time but reported late
still counts; it then takes effect at ``at``, or at the lead's last transition if that is
later (its own time stays in the reason), so that a lead's events are always in time order.
A timer that has fired stays fired. A command whose ``now`` is before the lead's last
transition is refused (the clock must not go backwards); ``advance`` to such a time is a
no-op.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from dealer_group.records import LeadChannel, LeadGrade
from turnwise.errors import FailedPrecondition, InvalidArgument

__all__ = [
    "STATE_FORMAT_VERSION",
    "SYSTEM_ACTOR",
    "FollowUpKind",
    "LeadState",
    "LeadStatus",
    "SlaEvent",
    "SlaEventKind",
    "SlaLead",
    "SlaOverride",
    "SlaRules",
    "SlaTimings",
    "advance",
    "assign",
    "claim",
    "due_leads",
    "enter_pool",
    "event_from_dict",
    "event_to_dict",
    "record_follow_up",
    "reroute",
    "state_from_dict",
    "state_to_dict",
]

SYSTEM_ACTOR = "system"
"""The actor of transitions made by the engine itself (timers, routing)."""
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
class SlaTimings:
    """The effective SLA of one lead; ``escalate_after`` is None when it never escalates."""

    first_contact: timedelta
    recycle_after: timedelta
    escalate_after: timedelta | None

    def __post_init__(self) -> None:
        _require_positive("first_contact", self.first_contact)
        _require_positive("recycle_after", self.recycle_after)
        if self.escalate_after is not None:
            _require_positive("escalate_after", self.escalate_after)


@dataclass(frozen=True)
class SlaOverride:
    """Timings for the leads of one grade, one channel, or both; None fields inherit.

    ``escalates`` turns escalation on or off for those leads (None: by ``escalate_grades``);
    ``escalate_after`` only sets its delay.
    """

    grade: LeadGrade | None = None
    channel: LeadChannel | None = None
    first_contact: timedelta | None = None
    recycle_after: timedelta | None = None
    escalate_after: timedelta | None = None
    escalates: bool | None = None

    def __post_init__(self) -> None:
        if self.grade is None and self.channel is None:
            raise InvalidArgument("grade", "set grade, channel or both (defaults are SlaRules')")
        if self.grade is not None and not isinstance(self.grade, LeadGrade):
            raise InvalidArgument("grade", f"must be a LeadGrade, got {self.grade!r}")
        if self.channel is not None and not isinstance(self.channel, LeadChannel):
            raise InvalidArgument("channel", f"must be a LeadChannel, got {self.channel!r}")
        for name in ("first_contact", "recycle_after", "escalate_after"):
            if getattr(self, name) is not None:
                _require_positive(name, getattr(self, name))
        if self.escalates is False and self.escalate_after is not None:
            raise InvalidArgument("escalate_after", "is set but escalates is False: drop one")
        if (self.first_contact, self.recycle_after, self.escalate_after, self.escalates) == (
            (None,) * 4
        ):
            raise InvalidArgument("first_contact", "the override changes nothing: set a timing")


@dataclass(frozen=True)
class SlaRules:
    """Default SLA timings, the grades that escalate, and per grade/channel overrides."""

    first_contact: timedelta = timedelta(minutes=5)
    recycle_after: timedelta = timedelta(hours=2)
    escalate_after: timedelta = timedelta(hours=48)
    escalate_grades: frozenset[LeadGrade] = frozenset({LeadGrade.H, LeadGrade.A})
    overrides: tuple[SlaOverride, ...] = ()

    def __post_init__(self) -> None:
        _require_positive("first_contact", self.first_contact)
        _require_positive("recycle_after", self.recycle_after)
        _require_positive("escalate_after", self.escalate_after)
        object.__setattr__(self, "escalate_grades", frozenset(self.escalate_grades))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        for grade in self.escalate_grades:
            if not isinstance(grade, LeadGrade):
                raise InvalidArgument("escalate_grades", f"must hold LeadGrade, got {grade!r}")
        seen: dict[tuple[LeadGrade | None, LeadChannel | None], int] = {}
        for i, override in enumerate(self.overrides):
            if not isinstance(override, SlaOverride):
                raise InvalidArgument(f"overrides[{i}]", f"must be an SlaOverride: {override!r}")
            key = (override.grade, override.channel)
            if key in seen:
                raise InvalidArgument(f"overrides[{i}]", f"repeats overrides[{seen[key]}]")
            seen[key] = i
        for grade in LeadGrade:
            for channel in LeadChannel:
                timings, decided_by = self._resolve(grade, channel)
                if timings.first_contact > timings.recycle_after:
                    raise InvalidArgument(
                        "first_contact" if decided_by is None else f"overrides[{decided_by}]",
                        f"grade {grade.value}, channel {channel.value}: first contact "
                        f"{_span(timings.first_contact)} must not exceed recycle_after "
                        f"{_span(timings.recycle_after)}",
                    )

    def for_lead(self, grade: LeadGrade, channel: LeadChannel) -> SlaTimings:
        """The effective timings of a lead of this grade and channel."""
        return self._resolve(grade, channel)[0]

    def _resolve(self, grade: LeadGrade, channel: LeadChannel) -> tuple[SlaTimings, int | None]:
        """The timings, and the most specific override that matched (None if none did)."""
        first, recycle, delay = self.first_contact, self.recycle_after, self.escalate_after
        escalates = grade in self.escalate_grades
        matching = sorted(
            ((o.channel is not None) + 2 * (o.grade is not None), i, o)
            for i, o in enumerate(self.overrides)
            if o.grade in (None, grade) and o.channel in (None, channel)
        )
        for _, _, o in matching:
            first = o.first_contact if o.first_contact is not None else first
            recycle = o.recycle_after if o.recycle_after is not None else recycle
            delay = o.escalate_after if o.escalate_after is not None else delay
            escalates = o.escalates if o.escalates is not None else escalates
        timings = SlaTimings(first, recycle, delay if escalates else None)
        return timings, (matching[-1][1] if matching else None)


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


SlaResult = tuple[LeadState, tuple[SlaEvent, ...]]


def _event(
    state: LeadState,
    kind: SlaEventKind,
    at: datetime,
    actor: str,
    reason: str,
    advisor_id: str | None,
    follow_up: FollowUpKind | None = None,
) -> SlaEvent:
    return SlaEvent(state.lead_id, kind, at, actor, reason, advisor_id, follow_up)


def _owner(state: LeadState) -> str:
    if state.owner is None:  # a timer of an owned lead runs only while it has an owner
        raise FailedPrecondition("owner", f"lead {state.lead_id} has no owner")
    return state.owner


def _miss_first_contact(state: LeadState, due: datetime) -> tuple[LeadState, SlaEvent]:
    owner, assigned = _owner(state), state.assigned_at or due
    reason = (
        f"no first contact within {_span(due - assigned)} of assignment to {owner} "
        f"at {_iso(assigned)}"
    )
    new = replace(state, first_contact_due=None, updated_at=due)
    return new, _event(state, SlaEventKind.FIRST_CONTACT_MISSED, due, SYSTEM_ACTOR, reason, owner)


def _recycle(state: LeadState, due: datetime) -> tuple[LeadState, SlaEvent]:
    owner, assigned, last = _owner(state), state.assigned_at or due, state.last_follow_up_at
    anchor, what = assigned, "assignment"
    if last is not None and last >= assigned:
        anchor, what = last, "the last follow-up"
    reason = (
        f"no follow-up within {_span(due - anchor)} of {what} at {_iso(anchor)} by {owner}; "
        f"returned to the public pool, {owner} excluded from it"
    )
    new = replace(
        state,
        status=LeadStatus.POOLED,
        owner=None,
        assigned_at=None,
        pooled_at=due,
        first_contact_due=None,
        recycle_due=None,
        missed_by=(*state.missed_by, owner),
        updated_at=due,
    )
    return new, _event(state, SlaEventKind.RECYCLED, due, SYSTEM_ACTOR, reason, owner)


def _escalate(state: LeadState, due: datetime) -> tuple[LeadState, SlaEvent]:
    anchor, what = state.opened_at, "it was opened"
    if state.last_follow_up_at is not None:
        anchor, what = state.last_follow_up_at, "the last follow-up"
    where = f"owner {state.owner}" if state.owner else "in the public pool"
    reason = (
        f"{state.grade.value}-grade lead with no follow-up for {_span(due - anchor)} since "
        f"{what} at {_iso(anchor)}; manager of store {state.store_id} notified ({where})"
    )
    new = replace(state, escalated=True, escalation_due=None, updated_at=due)
    return new, _event(state, SlaEventKind.ESCALATED, due, SYSTEM_ACTOR, reason, state.owner)


_TIMERS = (  # in the order that breaks ties between deadlines at the same instant
    ("first_contact_due", _miss_first_contact),
    ("recycle_due", _recycle),
    ("escalation_due", _escalate),
)


def advance(state: LeadState, now: datetime) -> SlaResult:
    """Fire every timer of ``state`` due at or before ``now``, in time order.

    Each event is at its deadline. Idempotent, and advancing in steps equals advancing once;
    a ``now`` before the lead's last transition changes nothing.
    """
    now = _utc("now", now)
    events: list[SlaEvent] = []
    while True:
        pending = [
            (due, rank, fire)
            for rank, (name, fire) in enumerate(_TIMERS)
            if (due := getattr(state, name)) is not None and due <= now
        ]
        if not pending:
            return state, tuple(events)
        due, _, fire = min(pending, key=lambda item: (item[0], item[1]))
        state, event = fire(state, due)
        events.append(event)


def due_leads(states: Iterable[LeadState], now: datetime) -> tuple[LeadState, ...]:
    """The leads with a timer due at or before ``now`` (for a sweeper to ``advance``),
    earliest deadline first, then by lead id."""
    now = _utc("now", now)
    due = [s for s in states if (d := s.next_due) is not None and d <= now]
    return tuple(sorted(due, key=lambda s: (s.next_due or now, s.lead_id)))


def _escalation_due(timings: SlaTimings, since: datetime) -> datetime | None:
    return None if timings.escalate_after is None else since + timings.escalate_after


def _open(lead: SlaLead, now: datetime, rules: SlaRules) -> tuple[LeadState, SlaTimings]:
    if not isinstance(lead, SlaLead):
        raise InvalidArgument("lead", f"must be an SlaLead, got {lead!r}")
    timings = rules.for_lead(lead.grade, lead.channel)
    state = LeadState(
        lead_id=lead.lead_id,
        grade=lead.grade,
        channel=lead.channel,
        store_id=lead.store_id,
        status=LeadStatus.POOLED,
        opened_at=now,
        updated_at=now,
        pooled_at=now,
        escalation_due=_escalation_due(timings, now),
    )
    return state, timings


def _give(state: LeadState, advisor_id: str, now: datetime, timings: SlaTimings) -> LeadState:
    return replace(
        state,
        status=LeadStatus.ASSIGNED,
        owner=advisor_id,
        assigned_at=now,
        pooled_at=None,
        first_contact_due=now + timings.first_contact,
        recycle_due=now + timings.recycle_after,
        updated_at=now,
    )


def assign(
    lead: SlaLead,
    advisor_id: str,
    now: datetime,
    rules: SlaRules,
    *,
    actor: str = SYSTEM_ACTOR,
    reason: str = "routed",
) -> SlaResult:
    """Open the SLA of a new lead with ``advisor_id`` as its owner (``reason``: why this
    advisor, e.g. "best expected conversion")."""
    now = _utc("now", now)
    _require_id("advisor_id", advisor_id)
    _require_text("actor", actor)
    _require_text("reason", reason)
    pooled, timings = _open(lead, now, rules)
    state = _give(pooled, advisor_id, now, timings)
    text = f"{reason}; first contact due by {_iso(state.first_contact_due or now)}"
    return state, (_event(state, SlaEventKind.ASSIGNED, now, actor, text, advisor_id),)


def enter_pool(
    lead: SlaLead,
    now: datetime,
    rules: SlaRules,
    *,
    reason: str = "no eligible advisor with capacity",
) -> SlaResult:
    """Open the SLA of a new lead straight in the public pool (routing found nobody)."""
    now = _utc("now", now)
    _require_text("reason", reason)
    state, _ = _open(lead, now, rules)
    return state, (_event(state, SlaEventKind.POOLED, now, SYSTEM_ACTOR, reason, None),)


def _begin(state: LeadState, now: datetime) -> datetime:
    """The checks every command makes on the lead: open, and no clock going backwards."""
    if not isinstance(state, LeadState):
        raise InvalidArgument("state", f"must be a LeadState, got {state!r}")
    if state.status is LeadStatus.CLOSED:
        raise FailedPrecondition(
            "lead_id",
            f"lead {state.lead_id} was closed ({state.outcome.value if state.outcome else ''}) "
            f"at {_iso(state.updated_at)}; a closed lead takes no more follow-ups or claims",
        )
    if now < state.updated_at:
        raise InvalidArgument(
            "now",
            f"{_iso(now)} is before the lead's last transition at {_iso(state.updated_at)}: "
            "the clock must not go backwards",
        )
    return now


def _require_pooled(state: LeadState, advisor_id: str) -> None:
    if state.status is not LeadStatus.POOLED:
        raise FailedPrecondition(
            "lead_id",
            f"lead {state.lead_id} is not in the public pool: it is {state.status.value} "
            f"with {state.owner}",
        )
    if advisor_id in state.missed_by:
        raise FailedPrecondition(
            "advisor_id",
            f"{advisor_id} let lead {state.lead_id} be recycled and may not take it again",
        )


def reroute(
    state: LeadState,
    advisor_id: str,
    now: datetime,
    rules: SlaRules,
    *,
    actor: str = SYSTEM_ACTOR,
    reason: str = "re-routed from the public pool",
) -> SlaResult:
    """Give a pooled lead to ``advisor_id``, who must not be one of its ``missed_by``."""
    now = _begin(state, _utc("now", now))
    _require_id("advisor_id", advisor_id)
    _require_text("actor", actor)
    _require_text("reason", reason)
    state, events = advance(state, now)
    _require_pooled(state, advisor_id)
    new = _give(state, advisor_id, now, rules.for_lead(state.grade, state.channel))
    text = f"{reason}; first contact due by {_iso(new.first_contact_due or now)}"
    return new, (*events, _event(new, SlaEventKind.ASSIGNED, now, actor, text, advisor_id))


def claim(
    state: LeadState,
    advisor_id: str,
    now: datetime,
    rules: SlaRules,
    *,
    open_leads: int,
    max_open_leads: int,
    certified: bool,
) -> SlaResult:
    """``advisor_id`` takes a lead from the public pool: the lead must be pooled and the
    advisor not among its ``missed_by``, certified for its brand and under their cap of
    open leads (``open_leads < max_open_leads``)."""
    now = _begin(state, _utc("now", now))
    _require_id("advisor_id", advisor_id)
    if not isinstance(open_leads, int) or open_leads < 0:
        raise InvalidArgument("open_leads", f"must be an integer >= 0, got {open_leads!r}")
    if not isinstance(max_open_leads, int) or max_open_leads < 1:
        raise InvalidArgument("max_open_leads", f"must be an integer >= 1, got {max_open_leads!r}")
    state, events = advance(state, now)
    _require_pooled(state, advisor_id)
    if not certified:
        raise FailedPrecondition(
            "advisor_id", f"{advisor_id} is not certified for the brand of lead {state.lead_id}"
        )
    if open_leads >= max_open_leads:
        raise FailedPrecondition(
            "advisor_id",
            f"{advisor_id} has {open_leads} open leads, the cap is {max_open_leads}: "
            "close or hand over a lead before claiming another",
        )
    new = _give(state, advisor_id, now, rules.for_lead(state.grade, state.channel))
    text = (
        f"claimed from the public pool by {advisor_id} ({open_leads}/{max_open_leads} open "
        f"leads); first contact due by {_iso(new.first_contact_due or now)}"
    )
    return new, (*events, _event(new, SlaEventKind.CLAIMED, now, advisor_id, text, advisor_id))


def record_follow_up(
    state: LeadState,
    advisor_id: str,
    kind: FollowUpKind,
    at: datetime,
    now: datetime,
    rules: SlaRules,
) -> SlaResult:
    """The owner ``advisor_id`` followed the lead up at ``at`` (not after ``now``).

    Resets the recycle and escalation timers (and lowers the escalation flag); ORDER and
    LOST close the lead. See the module docstring for a follow-up reported late.
    """
    at, now = _utc("at", at), _utc("now", now)
    _require_id("advisor_id", advisor_id)
    if not isinstance(kind, FollowUpKind):
        raise InvalidArgument("kind", f"must be a FollowUpKind, got {kind!r}")
    if at > now:
        raise InvalidArgument("at", f"{_iso(at)} is in the future (now is {_iso(now)})")
    _begin(state, now)
    state, events = advance(state, at)
    if state.owner != advisor_id:
        where = (
            f"in the public pool since {_iso(state.pooled_at)}; claim it first"
            if state.pooled_at
            else f"owned by {state.owner}"
        )
        raise FailedPrecondition(
            "advisor_id", f"only the owner follows lead {state.lead_id} up: it is {where}"
        )
    if state.assigned_at is not None and at < state.assigned_at:
        raise InvalidArgument(
            "at",
            f"{_iso(at)} is before {advisor_id} was assigned the lead, at "
            f"{_iso(state.assigned_at)}",
        )
    effective = max(at, state.updated_at)
    late = f" (counted at {_iso(effective)}, its last transition)" if effective > at else ""
    text = f"{kind.value} by {advisor_id} at {_iso(at)}{late}"
    if kind.closes:
        new = replace(
            state,
            status=LeadStatus.CLOSED,
            last_follow_up_at=effective,
            first_contact_due=None,
            recycle_due=None,
            escalation_due=None,
            outcome=kind,
            updated_at=effective,
        )
        closed = _event(new, SlaEventKind.CLOSED, effective, advisor_id, text, advisor_id, kind)
        return new, (*events, closed)
    timings = rules.for_lead(state.grade, state.channel)
    new = replace(
        state,
        status=LeadStatus.CONTACTED,
        last_follow_up_at=effective,
        first_contact_due=None,
        recycle_due=effective + timings.recycle_after,
        escalated=False,
        escalation_due=_escalation_due(timings, effective),
        updated_at=effective,
    )
    text += f"; next follow-up due by {_iso(new.recycle_due or effective)}"
    text += "; escalation cleared" if state.escalated else ""
    event = _event(new, SlaEventKind.FOLLOWED_UP, effective, advisor_id, text, advisor_id, kind)
    later, more = advance(new, now)
    return later, (*events, event, *more)


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
