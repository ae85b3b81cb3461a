"""SLA timers and the public pool of lead routing (lead_routing.sla), with an injected clock:
the default timeline, follow-ups, the pool and claims, escalation, overrides, bad input,
serialization, and Hypothesis invariants over random histories. No test sleeps."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealer_group.records import LeadChannel, LeadGrade
from lead_routing.sla import (
    SYSTEM_ACTOR,
    FollowUpKind,
    LeadState,
    LeadStatus,
    SlaEvent,
    SlaEventKind,
    SlaLead,
    SlaOverride,
    SlaRules,
    SlaTimings,
    advance,
    assign,
    claim,
    due_leads,
    enter_pool,
    event_from_dict,
    event_to_dict,
    record_follow_up,
    reroute,
    state_from_dict,
    state_to_dict,
)
from turnwise.errors import FailedPrecondition, InvalidArgument, TurnwiseError

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RULES = SlaRules()
K = SlaEventKind
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def new_lead(
    grade: LeadGrade = LeadGrade.A, channel: LeadChannel = LeadChannel.WEB, lead_id: str = "L1"
) -> SlaLead:
    return SlaLead(lead_id, grade, channel, "S01")


def assigned(grade: LeadGrade = LeadGrade.A, rules: SlaRules = RULES) -> LeadState:
    state, _ = assign(new_lead(grade), "A1", T0, rules)
    return state


def recycled(grade: LeadGrade = LeadGrade.A) -> LeadState:
    state, events = advance(assigned(grade), T0 + 2 * HOUR)
    assert [e.kind for e in events] == [K.FIRST_CONTACT_MISSED, K.RECYCLED]
    return state


def kinds(events: tuple[SlaEvent, ...]) -> list[SlaEventKind]:
    return [e.kind for e in events]


def follow(state: LeadState, at: datetime, who: str = "A1", kind: FollowUpKind = FollowUpKind.CALL):
    return record_follow_up(state, who, kind, at, at, RULES)


def grab(state: LeadState, who: str, now: datetime, open_leads: int = 0):
    return claim(state, who, now, RULES, open_leads=open_leads, max_open_leads=20, certified=True)


# --- rules ----------------------------------------------------------------------------------


def test_default_rules_are_those_of_the_issue() -> None:
    a = RULES.for_lead(LeadGrade.A, LeadChannel.WEB)
    assert a == SlaTimings(5 * MIN, 2 * HOUR, 48 * HOUR)
    # H is hotter than A and escalates too (documented choice); B and C never escalate.
    assert RULES.for_lead(LeadGrade.H, LeadChannel.PHONE).escalate_after == 48 * HOUR
    for grade in (LeadGrade.B, LeadGrade.C):
        assert RULES.for_lead(grade, LeadChannel.WEB) == SlaTimings(5 * MIN, 2 * HOUR, None)
    literal = SlaRules(escalate_grades=frozenset({LeadGrade.A}))
    assert literal.for_lead(LeadGrade.H, LeadChannel.WEB).escalate_after is None
    assert literal.for_lead(LeadGrade.A, LeadChannel.WEB).escalate_after == 48 * HOUR


def test_overrides_by_grade_and_channel_the_most_specific_wins() -> None:
    overrides = (
        SlaOverride(channel=LeadChannel.WALK_IN, first_contact=15 * MIN),
        SlaOverride(grade=LeadGrade.H, recycle_after=HOUR, escalate_after=24 * HOUR),
        SlaOverride(grade=LeadGrade.H, channel=LeadChannel.WALK_IN, first_contact=2 * MIN),
        SlaOverride(grade=LeadGrade.B, channel=LeadChannel.PHONE, escalates=True),
        SlaOverride(grade=LeadGrade.A, channel=LeadChannel.DOUYIN, escalates=False),
        SlaOverride(channel=LeadChannel.PHONE, recycle_after=3 * HOUR),
        SlaOverride(grade=LeadGrade.C, recycle_after=90 * MIN),
    )
    for order in (overrides, overrides[::-1]):
        rules = SlaRules(overrides=order)
        assert rules.for_lead(LeadGrade.H, LeadChannel.WALK_IN) == SlaTimings(
            2 * MIN, HOUR, 24 * HOUR
        )
        assert rules.for_lead(LeadGrade.H, LeadChannel.WEB) == SlaTimings(5 * MIN, HOUR, 24 * HOUR)
        assert rules.for_lead(LeadGrade.B, LeadChannel.WALK_IN) == SlaTimings(
            15 * MIN, 2 * HOUR, None
        )
        assert rules.for_lead(LeadGrade.B, LeadChannel.PHONE).escalate_after == 48 * HOUR
        assert rules.for_lead(LeadGrade.A, LeadChannel.DOUYIN).escalate_after is None
        # a grade override beats a channel override of the same field
        assert rules.for_lead(LeadGrade.C, LeadChannel.PHONE).recycle_after == 90 * MIN
        assert rules.for_lead(LeadGrade.B, LeadChannel.PHONE).recycle_after == 3 * HOUR
        assert rules.for_lead(LeadGrade.A, LeadChannel.WEB) == RULES.for_lead(
            LeadGrade.A, LeadChannel.WEB
        )


def test_overrides_drive_the_timers() -> None:
    rules = SlaRules(
        overrides=(
            SlaOverride(grade=LeadGrade.H, channel=LeadChannel.WALK_IN, first_contact=2 * MIN),
            SlaOverride(grade=LeadGrade.H, recycle_after=HOUR),
        )
    )
    state, _ = assign(new_lead(LeadGrade.H, LeadChannel.WALK_IN), "A1", T0, rules)
    assert (state.first_contact_due, state.recycle_due) == (T0 + 2 * MIN, T0 + HOUR)
    state, events = advance(state, T0 + HOUR)
    assert [(e.kind, e.at) for e in events] == [
        (K.FIRST_CONTACT_MISSED, T0 + 2 * MIN),
        (K.RECYCLED, T0 + HOUR),
    ]
    assert "within 2m of assignment" in events[0].reason
    assert "within 1h of assignment" in events[1].reason


def test_deadlines_are_fixed_when_set_new_rules_apply_from_the_next_transition() -> None:
    state = assigned()
    strict = SlaRules(recycle_after=30 * MIN)
    state, _ = record_follow_up(state, "A1", FollowUpKind.CALL, T0 + MIN, T0 + MIN, strict)
    assert state.recycle_due == T0 + 31 * MIN
    _, events = advance(state, T0 + 31 * MIN)
    assert kinds(events) == [K.RECYCLED]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SlaRules(first_contact=timedelta(0)), "first_contact"),
        (lambda: SlaRules(recycle_after=-HOUR), "recycle_after"),
        (lambda: SlaRules(escalate_after=300), "escalate_after"),
        (lambda: SlaRules(first_contact=3 * HOUR), "first_contact"),
        (lambda: SlaRules(escalate_grades=frozenset({"A"})), "escalate_grades"),
        (
            lambda: SlaRules(overrides=(SlaOverride(grade=LeadGrade.A, recycle_after=MIN),)),
            "overrides[0]",
        ),
        (
            lambda: SlaRules(
                overrides=(
                    SlaOverride(grade=LeadGrade.A, first_contact=MIN),
                    SlaOverride(grade=LeadGrade.A, recycle_after=HOUR),
                )
            ),
            "overrides[1]",
        ),
        (lambda: SlaRules(overrides=("A",)), "overrides[0]"),
        (lambda: SlaOverride(first_contact=MIN), "grade"),
        (lambda: SlaOverride(grade="A", first_contact=MIN), "grade"),
        (lambda: SlaOverride(channel="WEB", first_contact=MIN), "channel"),
        (lambda: SlaOverride(grade=LeadGrade.A), "first_contact"),
        (lambda: SlaOverride(grade=LeadGrade.A, recycle_after=-MIN), "recycle_after"),
        (
            lambda: SlaOverride(grade=LeadGrade.A, escalates=False, escalate_after=HOUR),
            "escalate_after",
        ),
        (lambda: SlaLead("", LeadGrade.A, LeadChannel.WEB, "S01"), "lead_id"),
        (lambda: SlaLead("L1", "A", LeadChannel.WEB, "S01"), "grade"),
        (lambda: SlaLead("L1", LeadGrade.A, "WEB", "S01"), "channel"),
        (lambda: SlaLead("L1", LeadGrade.A, LeadChannel.WEB, "S 01"), "store_id"),
        (lambda: assign(new_lead(), "A1", datetime(2026, 12, 1, 9), RULES), "now"),
        (lambda: assign(new_lead(), "", T0, RULES), "advisor_id"),
        (lambda: assign(new_lead(), "A1", T0, RULES, reason=" "), "reason"),
        (lambda: enter_pool(new_lead(), T0, RULES, reason=""), "reason"),
        (lambda: advance(assigned(), "2026-12-01T10:00:00Z"), "now"),
        (lambda: due_leads([assigned()], datetime(2026, 12, 1, 10)), "now"),
    ],
)
def test_bad_input_names_the_field(build, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        build()
    assert err.value.field == field


# --- the default timeline -------------------------------------------------------------------


def test_default_timeline_of_an_a_grade_lead_nobody_follows_up() -> None:
    state, events = assign(new_lead(), "A1", T0, RULES, reason="best expected conversion")
    assert state.status is LeadStatus.ASSIGNED and state.owner == "A1"
    assert (state.first_contact_due, state.recycle_due, state.escalation_due) == (
        T0 + 5 * MIN,
        T0 + 2 * HOUR,
        T0 + 48 * HOUR,
    )
    assert state.next_due == T0 + 5 * MIN
    (event,) = events
    assert (event.kind, event.at, event.actor, event.advisor_id) == (
        K.ASSIGNED,
        T0,
        SYSTEM_ACTOR,
        "A1",
    )
    assert event.reason.startswith("best expected conversion; first contact due by ")

    same, events = advance(state, T0 + 5 * MIN - SECOND)
    assert same is state and events == ()

    state, (missed,) = advance(state, T0 + 5 * MIN)
    assert (missed.kind, missed.at, missed.actor, missed.advisor_id) == (
        K.FIRST_CONTACT_MISSED,
        T0 + 5 * MIN,
        SYSTEM_ACTOR,
        "A1",
    )
    assert missed.reason == "no first contact within 5m of assignment to A1 at 2026-12-01T09:00:00Z"
    assert (state.owner, state.status, state.first_contact_due) == ("A1", LeadStatus.ASSIGNED, None)

    assert advance(state, T0 + 2 * HOUR - SECOND) == (state, ())
    state, (pooled,) = advance(state, T0 + 2 * HOUR)
    assert (pooled.kind, pooled.at, pooled.advisor_id) == (K.RECYCLED, T0 + 2 * HOUR, "A1")
    assert pooled.reason.startswith(
        "no follow-up within 2h of assignment at 2026-12-01T09:00:00Z by A1; "
    )
    assert state.status is LeadStatus.POOLED and state.owner is None
    assert (state.missed_by, state.pooled_at, state.assigned_at) == (("A1",), T0 + 2 * HOUR, None)

    assert advance(state, T0 + 48 * HOUR - SECOND) == (state, ())
    state, (escalated,) = advance(state, T0 + 48 * HOUR)
    assert (escalated.kind, escalated.at, escalated.advisor_id) == (
        K.ESCALATED,
        T0 + 48 * HOUR,
        None,
    )
    assert "A-grade lead with no follow-up for 48h since it was opened" in escalated.reason
    assert "manager of store S01 notified (in the public pool)" in escalated.reason
    assert state.escalated and state.status is LeadStatus.POOLED and state.next_due is None
    assert advance(state, T0 + 1000 * HOUR) == (state, ())


def test_first_contact_within_five_minutes_records_no_miss() -> None:
    state, events = follow(assigned(), T0 + 4 * MIN)
    assert kinds(events) == [K.FOLLOWED_UP]
    assert (events[0].actor, events[0].follow_up, events[0].at) == (
        "A1",
        FollowUpKind.CALL,
        T0 + 4 * MIN,
    )
    assert state.status is LeadStatus.CONTACTED and state.first_contact_due is None
    assert state.recycle_due == T0 + 4 * MIN + 2 * HOUR
    assert advance(state, T0 + 2 * HOUR) == (state, ())


def test_contact_made_in_time_but_reported_late_still_counts() -> None:
    state, events = record_follow_up(
        assigned(), "A1", FollowUpKind.WECHAT, T0 + 4 * MIN, T0 + 7 * MIN, RULES
    )
    assert [(e.kind, e.at) for e in events] == [(K.FOLLOWED_UP, T0 + 4 * MIN)]
    assert state.recycle_due == T0 + 4 * MIN + 2 * HOUR


def test_a_report_after_the_miss_was_recorded_keeps_the_miss_and_stays_in_time_order() -> None:
    state, _ = advance(assigned(), T0 + 6 * MIN)
    state, (event,) = record_follow_up(
        state, "A1", FollowUpKind.CALL, T0 + 4 * MIN, T0 + 7 * MIN, RULES
    )
    assert event.at == T0 + 5 * MIN  # the lead's last transition, the recorded miss
    assert "at 2026-12-01T09:04:00Z (counted at 2026-12-01T09:05:00Z" in event.reason
    assert state.recycle_due == T0 + 5 * MIN + 2 * HOUR


def test_follow_ups_reset_the_recycle_timer() -> None:
    state, at = assigned(), T0
    for _ in range(10):
        at += 2 * HOUR - MIN
        state, events = advance(state, at - SECOND)
        assert K.RECYCLED not in kinds(events)
        state, events = follow(state, at)
        assert kinds(events) == [K.FOLLOWED_UP]
        assert state.recycle_due == at + 2 * HOUR
    assert advance(state, at + 2 * HOUR - SECOND) == (state, ())
    state, (event,) = advance(state, at + 2 * HOUR)
    assert event.kind is K.RECYCLED and event.at == at + 2 * HOUR
    assert f"within 2h of the last follow-up at {at.isoformat().replace('+00:00', 'Z')}" in (
        event.reason
    )


def test_a_follow_up_after_the_deadline_is_refused_once_the_lead_is_recycled() -> None:
    with pytest.raises(FailedPrecondition) as err:
        follow(assigned(), T0 + 3 * HOUR)
    assert err.value.field == "advisor_id" and "claim it first" in err.value.hint


# --- the pool -------------------------------------------------------------------------------


def test_a_recycled_lead_excludes_the_advisor_who_missed_it() -> None:
    state = recycled()
    for attempt in (
        lambda: grab(state, "A1", T0 + 3 * HOUR),
        lambda: reroute(state, "A1", T0 + 3 * HOUR, RULES),
    ):
        with pytest.raises(FailedPrecondition) as err:
            attempt()
        assert err.value.field == "advisor_id" and "A1" in err.value.hint

    state, (event,) = grab(state, "A2", T0 + 3 * HOUR, open_leads=4)
    assert (event.kind, event.actor, event.advisor_id, event.at) == (
        K.CLAIMED,
        "A2",
        "A2",
        T0 + 3 * HOUR,
    )
    assert "(4/20 open leads)" in event.reason
    assert (state.status, state.owner, state.assigned_at, state.pooled_at) == (
        LeadStatus.ASSIGNED,
        "A2",
        T0 + 3 * HOUR,
        None,
    )
    assert state.first_contact_due == T0 + 3 * HOUR + 5 * MIN
    assert state.escalation_due == T0 + 48 * HOUR  # a claim is not contact with the customer

    state, events = advance(state, T0 + 5 * HOUR)
    assert kinds(events) == [K.FIRST_CONTACT_MISSED, K.RECYCLED]
    assert state.missed_by == ("A1", "A2")

    state, (event,) = reroute(state, "A3", T0 + 6 * HOUR, RULES, reason="best expected conversion")
    assert (event.kind, event.actor, event.advisor_id) == (K.ASSIGNED, SYSTEM_ACTOR, "A3")
    assert state.owner == "A3" and state.missed_by == ("A1", "A2")


def test_claim_refusals() -> None:
    pooled, later = recycled(), T0 + 3 * HOUR

    def attempt(**kwargs: object) -> TurnwiseError:
        args: dict[str, object] = {"open_leads": 3, "max_open_leads": 20, "certified": True}
        args.update(kwargs)
        state = args.pop("state", pooled)
        with pytest.raises(TurnwiseError) as err:
            claim(state, "A2", later, RULES, **args)
        return err.value

    at_cap = attempt(open_leads=20)
    assert isinstance(at_cap, FailedPrecondition) and at_cap.field == "advisor_id"
    assert "20 open leads, the cap is 20" in at_cap.hint
    uncertified = attempt(certified=False)
    assert isinstance(uncertified, FailedPrecondition) and "certified" in uncertified.hint
    owned = attempt(state=grab(pooled, "A3", later)[0])
    assert isinstance(owned, FailedPrecondition) and owned.field == "lead_id"
    assert "ASSIGNED with A3" in owned.hint
    for field, value in (("open_leads", -1), ("max_open_leads", 0), ("open_leads", 1.5)):
        bad = attempt(**{field: value})
        assert isinstance(bad, InvalidArgument) and bad.field == field
    state, _ = claim(pooled, "A2", later, RULES, open_leads=19, max_open_leads=20, certified=True)
    assert state.owner == "A2"


def test_a_claim_after_a_missed_deadline_recycles_first_even_without_a_sweeper() -> None:
    state, events = grab(assigned(), "A2", T0 + 3 * HOUR)
    assert [(e.kind, e.at) for e in events] == [
        (K.FIRST_CONTACT_MISSED, T0 + 5 * MIN),
        (K.RECYCLED, T0 + 2 * HOUR),
        (K.CLAIMED, T0 + 3 * HOUR),
    ]
    assert state.owner == "A2" and state.missed_by == ("A1",)
    with pytest.raises(FailedPrecondition):
        grab(assigned(), "A1", T0 + 3 * HOUR)
    with pytest.raises(FailedPrecondition) as err:
        grab(assigned(), "A2", T0 + HOUR)  # not recycled yet
    assert err.value.field == "lead_id"


def test_an_unrouted_lead_enters_the_pool_and_can_be_claimed() -> None:
    state, (event,) = enter_pool(new_lead(LeadGrade.H), T0, RULES)
    assert (event.kind, event.actor, event.reason) == (
        K.POOLED,
        SYSTEM_ACTOR,
        "no eligible advisor with capacity",
    )
    assert (state.status, state.pooled_at, state.escalation_due) == (
        LeadStatus.POOLED,
        T0,
        T0 + 48 * HOUR,
    )
    state, _ = grab(state, "A1", T0 + HOUR)
    assert state.owner == "A1" and state.missed_by == ()


# --- escalation -----------------------------------------------------------------------------


def test_escalation_48h_after_the_last_follow_up_through_the_pool_and_claims() -> None:
    state, _ = follow(assigned(), T0 + HOUR)
    state, events = advance(state, T0 + 10 * HOUR)
    assert kinds(events) == [K.RECYCLED]
    state, _ = grab(state, "A2", T0 + 10 * HOUR)
    state, events = advance(state, T0 + 20 * HOUR)
    assert kinds(events) == [K.FIRST_CONTACT_MISSED, K.RECYCLED]
    state, _ = grab(state, "A3", T0 + 48 * HOUR + 57 * MIN)  # first contact due after 49h
    assert advance(state, T0 + 49 * HOUR - SECOND) == (state, ())
    state, (event,) = advance(state, T0 + 49 * HOUR)
    assert (event.kind, event.at, event.advisor_id, event.actor) == (
        K.ESCALATED,
        T0 + 49 * HOUR,
        "A3",
        SYSTEM_ACTOR,
    )
    assert "48h since the last follow-up at 2026-12-01T10:00:00Z" in event.reason
    assert "(owner A3)" in event.reason
    assert state.escalated and state.owner == "A3"  # escalation keeps the owner

    state, (event,) = follow(state, T0 + 49 * HOUR + MIN, who="A3")
    assert event.reason.endswith("; escalation cleared")
    assert not state.escalated and state.escalation_due == T0 + 97 * HOUR + MIN


def test_escalation_happens_once_per_silence() -> None:
    state, events = advance(assigned(), T0 + 1000 * HOUR)
    assert kinds(events).count(K.ESCALATED) == 1 and state.escalated


def test_regular_follow_ups_keep_an_a_grade_lead_from_escalating() -> None:
    state = assigned()
    for hour in range(1, 101):
        state, events = follow(state, T0 + hour * HOUR)
        assert K.ESCALATED not in kinds(events) and K.RECYCLED not in kinds(events)
    assert not state.escalated


@pytest.mark.parametrize("grade", [LeadGrade.B, LeadGrade.C])
def test_b_and_c_leads_never_escalate(grade: LeadGrade) -> None:
    state, events = advance(assigned(grade), T0 + 1000 * HOUR)
    assert kinds(events) == [K.FIRST_CONTACT_MISSED, K.RECYCLED]
    assert state.escalation_due is None and state.next_due is None


def test_an_owned_lead_escalates_without_changing_hands() -> None:
    rules = SlaRules(overrides=(SlaOverride(grade=LeadGrade.A, recycle_after=72 * HOUR),))
    state, _ = assign(new_lead(), "A1", T0, rules)
    state, _ = record_follow_up(state, "A1", FollowUpKind.VISIT, T0 + MIN, T0 + MIN, rules)
    state, events = advance(state, T0 + 100 * HOUR)
    assert [(e.kind, e.at, e.advisor_id) for e in events] == [
        (K.ESCALATED, T0 + 48 * HOUR + MIN, "A1"),
        (K.RECYCLED, T0 + 72 * HOUR + MIN, "A1"),
    ]
    assert advance(state, T0 + 50 * HOUR) == (state, ())  # an earlier time is a no-op


# --- follow-ups and closing -----------------------------------------------------------------


def test_follow_up_errors_name_the_field() -> None:
    state = assigned()
    cases = [
        (lambda: follow(state, T0 + MIN, who="A2"), FailedPrecondition, "advisor_id"),
        (
            lambda: record_follow_up(state, "A1", FollowUpKind.CALL, T0 + HOUR, T0, RULES),
            InvalidArgument,
            "at",
        ),
        (
            lambda: record_follow_up(state, "A1", FollowUpKind.CALL, T0 - MIN, T0, RULES),
            InvalidArgument,
            "at",
        ),
        (
            lambda: record_follow_up(state, "A1", FollowUpKind.CALL, T0 - HOUR, T0 - MIN, RULES),
            InvalidArgument,
            "now",
        ),
        (
            lambda: record_follow_up(
                state, "A1", FollowUpKind.CALL, datetime(2026, 12, 1, 9, 1), T0 + MIN, RULES
            ),
            InvalidArgument,
            "at",
        ),
        (
            lambda: record_follow_up(state, "A1", "CALL", T0 + MIN, T0 + MIN, RULES),
            InvalidArgument,
            "kind",
        ),
        (lambda: follow(state, T0 + MIN, who=""), InvalidArgument, "advisor_id"),
        (lambda: grab(state, "A2", T0 - MIN), InvalidArgument, "now"),
    ]
    for build, error, field in cases:
        with pytest.raises(error) as err:
            build()
        assert err.value.field == field, err.value
    with pytest.raises(FailedPrecondition) as err:
        follow(state, T0 + MIN, who="A2")
    assert "owned by A1" in err.value.hint


@pytest.mark.parametrize("outcome", [FollowUpKind.ORDER, FollowUpKind.LOST])
def test_order_and_lost_close_the_lead_for_good(outcome: FollowUpKind) -> None:
    state, _ = advance(assigned(), T0 + 40 * HOUR)  # pooled, not yet escalated
    state, _ = grab(state, "A2", T0 + 40 * HOUR)
    state, (event,) = follow(state, T0 + 40 * HOUR + 3 * MIN, who="A2", kind=outcome)
    assert (event.kind, event.actor, event.follow_up) == (K.CLOSED, "A2", outcome)
    assert state.status is LeadStatus.CLOSED and state.outcome is outcome
    assert state.next_due is None and due_leads([state], T0 + 10_000 * HOUR) == ()
    assert advance(state, T0 + 10_000 * HOUR) == (state, ())
    for attempt in (
        lambda: follow(state, T0 + 42 * HOUR, who="A2"),
        lambda: grab(state, "A3", T0 + 42 * HOUR),
        lambda: reroute(state, "A3", T0 + 42 * HOUR, RULES),
    ):
        with pytest.raises(FailedPrecondition) as err:
            attempt()
        assert err.value.field == "lead_id" and "closed" in err.value.hint


# --- the sweeper ----------------------------------------------------------------------------


def test_advance_is_idempotent() -> None:
    once, events = advance(assigned(), T0 + 3 * HOUR)
    assert kinds(events) == [K.FIRST_CONTACT_MISSED, K.RECYCLED]
    assert advance(once, T0 + 3 * HOUR) == (once, ())


def test_due_leads_lists_expired_timers_earliest_first() -> None:
    early, _ = assign(new_lead(lead_id="L2"), "A1", T0, RULES)
    late, _ = assign(new_lead(lead_id="L1"), "A1", T0 + MIN, RULES)
    contacted, _ = follow(assigned(), T0 + MIN)
    assert due_leads([late, contacted, early], T0 + 5 * MIN) == (early,)
    assert due_leads([late, contacted, early], T0 + 6 * MIN) == (early, late)
    assert due_leads([], T0) == ()


# --- serialization --------------------------------------------------------------------------


def test_state_round_trip_through_json_survives_a_restart() -> None:
    state, _ = advance(assigned(), T0 + 50 * HOUR)
    state, _ = grab(state, "A2", T0 + 50 * HOUR)
    data = json.loads(json.dumps(state_to_dict(state)))
    assert data["opened_at"] == "2026-12-01T09:00:00Z"
    assert data["next_due"] == "2026-12-03T11:05:00Z"
    assert data["missed_by"] == ["A1"] and data["escalated"] is True
    restored = state_from_dict(data)
    assert restored == state
    assert advance(restored, T0 + 60 * HOUR) == advance(state, T0 + 60 * HOUR)


def test_event_round_trip() -> None:
    _, events = follow(assigned(), T0 + MIN)
    for event in events:
        data = json.loads(json.dumps(event_to_dict(event)))
        assert data["at"].endswith("Z")
        assert event_from_dict(data) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 2}, "version"),
        ({"grade": "X"}, "grade"),
        ({"status": None}, "status"),
        ({"opened_at": "2026-12-01T09:00:00"}, "opened_at"),
        ({"recycle_due": "tomorrow"}, "recycle_due"),
        ({"pooled_at": 5}, "pooled_at"),
        ({"owner": None}, "owner"),
        ({"status": "POOLED"}, "owner"),
        ({"missed_by": "A1"}, "missed_by"),
        ({"missed_by": ["A1"], "owner": "A1"}, "owner"),
        ({"escalated": "no"}, "escalated"),
        ({"outcome": "ORDER"}, "outcome"),
        ({"updated_at": "2026-11-30T09:00:00Z"}, "updated_at"),
    ],
)
def test_bad_records_name_the_field(change: dict[str, object], field: str) -> None:
    data = state_to_dict(assigned()) | change
    with pytest.raises(InvalidArgument) as err:
        state_from_dict(data)
    assert err.value.field == field


def test_a_record_missing_a_key_names_it() -> None:
    data = state_to_dict(assigned())
    del data["recycle_due"]
    with pytest.raises(InvalidArgument) as err:
        state_from_dict(data)
    assert err.value.field == "recycle_due"


# --- Hypothesis -----------------------------------------------------------------------------

ADVISORS = ("A1", "A2", "A3", "A4")


@dataclass(frozen=True)
class Step:
    """One thing that happens to the lead, ``minutes`` after the previous one."""

    minutes: int
    action: str
    advisor: int
    lag: int
    kind: FollowUpKind
    open_leads: int


steps = st.builds(
    Step,
    minutes=st.one_of(st.integers(0, 10), st.integers(0, 240), st.integers(0, 3000)),
    action=st.sampled_from(["advance", "follow_up", "follow_up", "claim", "reroute"]),
    advisor=st.integers(0, len(ADVISORS) - 1),
    lag=st.integers(0, 30),
    kind=st.sampled_from([*list(FollowUpKind)[:4] * 3, FollowUpKind.ORDER, FollowUpKind.LOST]),
    open_leads=st.integers(17, 20),
)


@st.composite
def rules_strategy(draw: st.DrawFn) -> SlaRules:
    first = draw(st.integers(1, 30))
    recycle = draw(st.integers(first, 300))
    return SlaRules(
        first_contact=first * MIN,
        recycle_after=recycle * MIN,
        escalate_after=draw(st.integers(1, 100)) * HOUR,
        escalate_grades=frozenset(draw(st.sets(st.sampled_from(list(LeadGrade))))),
        overrides=draw(
            st.sampled_from(
                [(), (SlaOverride(channel=LeadChannel.PHONE, recycle_after=recycle * 2 * MIN),)]
            )
        ),
    )


histories = st.tuples(
    rules_strategy(),
    st.sampled_from(list(LeadGrade)),
    st.sampled_from(list(LeadChannel)),
    st.booleans(),
    st.lists(steps, max_size=25),
)


def apply(state: LeadState, step: Step, now: datetime, rules: SlaRules):
    advisor = ADVISORS[step.advisor]
    if step.action == "advance":
        return advance(state, now)
    if step.action == "follow_up":
        who = state.owner if step.advisor < 2 and state.owner else advisor  # mostly the owner
        return record_follow_up(state, who, step.kind, now - step.lag * MIN, now, rules)
    if step.action == "claim":
        return claim(
            state,
            advisor,
            now,
            rules,
            open_leads=step.open_leads,
            max_open_leads=20,
            certified=step.advisor != 3,
        )
    return reroute(state, advisor, now, rules)


def run(history) -> tuple[LeadState, list[SlaEvent], datetime, SlaRules]:
    """Play a random history, checking the invariants after every step."""
    rules, grade, channel, pooled, plan = history
    lead = SlaLead("L1", grade, channel, "S01")
    state, first = enter_pool(lead, T0, rules) if pooled else assign(lead, "A1", T0, rules)
    log, now = list(first), T0
    for step in plan:
        now += step.minutes * MIN
        before = state
        try:
            state, events = apply(state, step, now, rules)
        except TurnwiseError as err:
            assert err.field, err  # every refusal names a field
            assert step.action != "advance"
            continue
        if before.status is LeadStatus.CLOSED:  # a closed lead never changes
            assert (state, events) == (before, ())
        if state != before:  # every transition has an event...
            assert events
        if events:  # ...in time order, with who and why, ending at the state's last transition
            assert state.updated_at == events[-1].at
        for event in events:
            assert event.lead_id == "L1" and event.actor.strip() and event.reason.strip()
            assert before.updated_at <= event.at <= now and event.at.tzinfo is UTC
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert state.missed_by[: len(before.missed_by)] == before.missed_by
        assert state.owner is None or state.owner not in state.missed_by
        if step.action == "advance":
            assert state.next_due is None or state.next_due > now
        log.extend(events)
    return state, log, now, rules


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories)
def test_random_histories_keep_the_invariants(history) -> None:
    state, log, _, _ = run(history)
    assert [e.at for e in log] == sorted(e.at for e in log)
    recycled_by = [e.advisor_id for e in log if e.kind is K.RECYCLED]
    assert tuple(recycled_by) == state.missed_by
    since_follow_up = 0  # escalates at most once per silence
    for event in log:
        if event.kind in (K.FOLLOWED_UP, K.CLOSED):
            since_follow_up = 0
        elif event.kind is K.ESCALATED:
            since_follow_up += 1
            assert since_follow_up == 1
    closed = [i for i, e in enumerate(log) if e.kind is K.CLOSED]
    assert closed in ([], [len(log) - 1])
    assert state_from_dict(json.loads(json.dumps(state_to_dict(state)))) == state


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.integers(0, 200 * 60), st.lists(st.integers(0, 200 * 60), max_size=6))
def test_advancing_in_steps_equals_advancing_once(history, minutes: int, cuts: list[int]) -> None:
    start, _, now, _ = run(history)
    end = now + minutes * MIN
    once, once_events = advance(start, end)
    state, stepped_events = start, []
    for cut in sorted(cut for cut in cuts if cut <= minutes):
        state, events = advance(state, now + cut * MIN)
        stepped_events.extend(events)
    state, events = advance(state, end)
    stepped_events.extend(events)
    assert state == once
    assert tuple(stepped_events) == once_events
    assert advance(once, end) == (once, ())


def test_a_state_that_breaks_its_own_invariants_is_refused() -> None:
    with pytest.raises(InvalidArgument) as err:
        replace(assigned(), first_contact_due=T0, status=LeadStatus.CONTACTED)
    assert err.value.field == "first_contact_due"
    with pytest.raises(InvalidArgument) as err:
        replace(recycled(), escalated=True)
    assert err.value.field == "escalation_due"
