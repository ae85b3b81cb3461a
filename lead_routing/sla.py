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

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from lead_routing.sla_rules import SlaOverride, SlaRules, SlaTimings
from lead_routing.sla_state import (
    STATE_FORMAT_VERSION,
    FollowUpKind,
    LeadState,
    LeadStatus,
    SlaEvent,
    SlaEventKind,
    SlaLead,
    _iso,
    _require_id,
    _require_text,
    _span,
    _utc,
    event_from_dict,
    event_to_dict,
    state_from_dict,
    state_to_dict,
)
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
