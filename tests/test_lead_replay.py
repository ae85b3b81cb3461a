"""Lead-stream replay (lead_routing.replay): hand-computed tiny streams for each policy (the
choice, the first-contact queue, waiting for capacity or a shift, giving up), and, on a
small demo group with tight capacity, the invariants of every policy: capacity never
exceeded at any instant, each lead at most once, never an ineligible advisor, deterministic
under a seed; plus the inputs (lead_requests, PairScores, DemoGeneratorScorer)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealer_group.demo import DemoGroup, DemoSpec, generate
from lead_routing.features import demo_lead_features
from lead_routing.replay import (
    HandlingModel,
    LeadHandling,
    ReplayPolicy,
    ReplayReport,
    draw_handling,
    replay,
)
from lead_routing.replay_inputs import DemoGeneratorScorer, PairScores, lead_requests
from lead_routing.routing import LeadRequest, PriorCandidateScorer, RoutingPolicy, RoutingTable
from lead_routing.scoring_prior import PriorScorer
from turnwise.errors import InvalidArgument

BEIJING = timedelta(hours=8)


def beijing(hour: int, minute: int = 0, day: int = 2) -> datetime:
    """The UTC instant of ``hour:minute`` Beijing time on 2026-11-``day``."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - BEIJING


def two_advisors(cap: int = 3, shift: tuple[str, str] = ("00:00", "00:00")) -> RoutingTable:
    """One store, one brand; A1 (level 5, 20% over 90 days: prior lift 2) and A2 (level 1,
    2%: lift 0.5), so the prior scores A1 four times A2."""
    advisors = pd.DataFrame(
        {
            "advisor_id": ["A1", "A2"],
            "store_id": ["S1", "S1"],
            "level": [5, 1],
            "brand_ids": ["B1", "B1"],
            "shift_start": [shift[0]] * 2,
            "shift_end": [shift[1]] * 2,
            "max_open_leads": [cap, cap],
            "leads_90d": [200, 200],
            "conversions_90d": [40, 4],
        }
    )
    stores = pd.DataFrame({"store_id": ["S1"], "region_id": ["R1"]})
    return RoutingTable.from_frames(advisors, stores, pd.DataFrame({"brand_id": ["B1"]}))


def lead(lead_id: str, at: datetime, grade: str = "B") -> LeadRequest:
    return LeadRequest(lead_id, at, "WEB", "B1", grade, store_id="S1")


def handled(holding: list[float], contact: list[float]) -> LeadHandling:
    return LeadHandling(np.array(holding), np.array(contact))


def assigned(report: ReplayReport) -> list[str]:
    return [o.advisor_id for o in report.outcomes]


# ----------------------------------------------------------- hand-computed tiny streams

STREAM = [lead("L1", beijing(10, 0)), lead("L2", beijing(10, 10)), lead("L3", beijing(10, 20))]
WORK = handled([600, 600, 600], [2, 4, 6])


def test_least_loaded_takes_the_emptiest_then_the_longest_idle() -> None:
    report = replay(two_advisors(), STREAM, ReplayPolicy.LEAST_LOADED, handling=WORK)
    # L1: both empty and never used -> A1 (table order); L2: A2 (0 open); L3: 1 open each,
    # A1 idle since 10:00, A2 since 10:10 -> A1.
    assert assigned(report) == ["A1", "A2", "A1"]
    l1, l2, l3 = report.outcomes
    assert l1.first_contact_at == beijing(10, 2)  # 2 min x (1 + 0/3)
    assert l2.first_contact_at == beijing(10, 14)  # 4 min x (1 + 0/3)
    assert l3.first_contact_at == beijing(10, 28)  # 6 min x (1 + 1/3) = 8 min: late
    assert [o.sla_breached for o in report.outcomes] == [False, False, True]
    assert (report.sla_breaches, report.late_first_contacts) == (1, 1)
    assert (report.waited, report.unassigned) == (0, 0)
    assert l1.released_at == beijing(20, 0) and l1.first_contact_due == beijing(10, 5)
    assert report.leads_per_advisor.tolist() == [2, 1]


def test_round_robin_takes_the_next_in_turn() -> None:
    report = replay(two_advisors(), STREAM, ReplayPolicy.ROUND_ROBIN, handling=WORK)
    assert assigned(report) == ["A1", "A2", "A1"]
    assert all(o.reason == "round-robin: next in turn of S1" for o in report.outcomes)


# Weights of the formula below (urgency of B 1, load 1, share 0.5, no fairness floor).
SPREAD = RoutingPolicy(
    grade_urgency=(("H", 2.0), ("A", 1.5), ("B", 1.0), ("C", 0.5)),
    load_weight=1.0,
    share_weight=0.5,
    share_floor=0.0,
)


def test_turnwise_keeps_the_better_advisor_until_load_and_share_outweigh_it() -> None:
    # L2: A1 value p(1 - 1/3 - 0.5 ln(2/1.5)) = 0.52p against A2 p/4 + 0.5p ln(1.5) = 0.45p;
    # L3: A1 p(1 - 2/3 - 0.5 ln(3/2)) = 0.13p against A2 p/4 + 0.5p ln 2 = 0.60p.
    report = replay(two_advisors(), STREAM, ReplayPolicy.TURNWISE, handling=WORK, routing=SPREAD)
    assert assigned(report) == ["A1", "A1", "A2"]
    _, l2, l3 = report.outcomes
    assert l2.first_contact_at == beijing(10, 10) + timedelta(minutes=4 * 4 / 3)
    assert l3.first_contact_at == beijing(10, 26)
    assert report.sla_breaches == 2 and report.late_first_contacts == 2
    prior = PriorScorer()
    p_a1 = 0.05 * 0.8 * 2.0  # grade B x channel WEB x the clipped lift of A1
    assert l2.score == pytest.approx(p_a1)
    assert l3.score == pytest.approx(p_a1 / 4) and prior.max_advisor_lift == 2.0
    # Judged by the generator's probability: B x WEB x level factor (1.3 for 5, 0.7 for 1).
    truth = replay(
        two_advisors(),
        STREAM,
        ReplayPolicy.TURNWISE,
        handling=WORK,
        evaluation=DemoGeneratorScorer(),
        routing=SPREAD,
    )
    assert truth.expected_conversions == pytest.approx(0.04 * (1.3 + 1.3 + 0.7))
    assert report.expected_conversions == pytest.approx(p_a1 * 2.25)  # default: the scorer


def test_first_contacts_queue_behind_the_previous_one() -> None:
    leads = [lead("L1", beijing(10, 0)), lead("L2", beijing(10, 1))]
    table = two_advisors(cap=4)
    report = replay(table, leads, ReplayPolicy.ROUND_ROBIN, handling=handled([600, 600], [4, 1]))
    assert assigned(report) == ["A1", "A2"]
    one = replay(
        replace(table, shift_minutes=np.array([1440, 1])),  # A2 is never on shift at 10:01
        leads,
        ReplayPolicy.ROUND_ROBIN,
        handling=handled([600, 600], [4, 1]),
    )
    assert assigned(one) == ["A1", "A1"]
    # L2 waits for L1's contact (10:04), then 1 min x (1 + 1/4).
    assert one.outcomes[1].first_contact_at == beijing(10, 4) + timedelta(seconds=75)
    assert not one.outcomes[1].sla_breached  # due 10:06


def test_a_lead_waits_for_a_free_slot_and_for_the_next_shift() -> None:
    table = two_advisors(cap=1, shift=("09:00", "18:00"))
    leads = [
        lead("L1", beijing(10, 0)),
        lead("L2", beijing(10, 5)),
        lead("L3", beijing(10, 30)),  # both full: waits for L1's slot at 11:00
        lead("L4", beijing(23, 0)),  # nobody on shift: waits for 09:00 the next day
    ]
    work = handled([60, 600, 60, 60], [1, 1, 1, 1])
    report = replay(table, leads, ReplayPolicy.LEAST_LOADED, handling=work)
    # L4 at 09:00: both free again, A2 idle longer (since 10:05, A1 since 11:00).
    assert assigned(report) == ["A1", "A2", "A1", "A2"]
    l3, l4 = report.outcomes[2], report.outcomes[3]
    assert l3.waited and l3.assigned_at == beijing(11, 0) and l3.sla_breached
    assert l3.reason.startswith("waited 0.5 h; least loaded")
    assert l4.waited and l4.assigned_at == beijing(9, 0, day=3)
    assert (report.waited, report.sla_breaches, report.unassigned) == (2, 2, 0)

    impatient = replay(
        table,
        leads,
        ReplayPolicy.LEAST_LOADED,
        handling=work,
        model=HandlingModel(max_wait_hours=1.0),
    )
    l4 = impatient.outcomes[3]
    assert l4.advisor_id == "" and l4.assigned_at is None and l4.sla_breached
    assert l4.reason.startswith("unassigned: no eligible advisor within 1 h; last try: ")
    assert "0 on shift" in l4.reason
    assert l4.expected_conversion == 0.0 and np.isnan(l4.score)
    assert impatient.unassigned == 1


def test_a_lead_for_an_unknown_store_is_unassigned_with_the_reason() -> None:
    leads = [lead("L1", beijing(10)), LeadRequest("L2", beijing(10), "WEB", "B1", "B", "S9")]
    for policy in ReplayPolicy:
        report = replay(two_advisors(), leads, policy, handling=handled([60, 60], [1, 1]))
        assert report.outcomes[1].advisor_id == "" and not report.outcomes[1].waited
        assert "'S9' is not a store of the routing table" in report.outcomes[1].reason


def test_bad_input_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match="handling"):
        replay(two_advisors(), STREAM, ReplayPolicy.TURNWISE, handling=handled([1], [1]))
    with pytest.raises(InvalidArgument, match="lead_id twice"):
        replay(two_advisors(), [STREAM[0], STREAM[0]], ReplayPolicy.TURNWISE)
    with pytest.raises(InvalidArgument, match="mean_holding_hours"):
        HandlingModel(mean_holding_hours=0)
    with pytest.raises(InvalidArgument, match="contact_minutes"):
        handled([1.0], [-1.0])
    with pytest.raises(InvalidArgument, match="policy"):
        replay(two_advisors(), STREAM, "turnwise")  # type: ignore[arg-type]


# ------------------------------------------------------ invariants on a small demo group


@pytest.fixture(scope="module")
def group() -> DemoGroup:
    return generate(DemoSpec(stores=4, trims=8, seed=3))


@pytest.fixture(scope="module")
def tight(group: DemoGroup) -> RoutingTable:
    """The group's advisors with 2 open leads each at most, so that capacity binds."""
    advisors = group.advisors.assign(max_open_leads=2)
    return RoutingTable.from_frames(advisors, group.stores, group.brands)


@pytest.fixture(scope="module")
def stream(group: DemoGroup) -> tuple[LeadRequest, ...]:
    return lead_requests(group.leads.iloc[:400])


@pytest.fixture(scope="module")
def reports(tight: RoutingTable, stream: tuple[LeadRequest, ...]) -> dict[str, ReplayReport]:
    model = HandlingModel(mean_holding_hours=12.0, seed=5)
    return {p.value: replay(tight, stream, p, model=model) for p in ReplayPolicy}


def peak_loads(report: ReplayReport) -> dict[str, int]:
    """The most open leads each advisor held at any instant (a release at the same instant
    as an assignment comes first)."""
    events: dict[str, list[tuple[datetime, int]]] = {}
    for o in report.outcomes:
        if o.advisor_id:
            assert o.assigned_at is not None and o.released_at is not None
            events.setdefault(o.advisor_id, []).append((o.released_at, -1))
            events.setdefault(o.advisor_id, []).append((o.assigned_at, +1))
    peaks = {}
    for advisor, changes in events.items():
        load = peak = 0
        for _, change in sorted(changes):
            load += change
            peak = max(peak, load)
        peaks[advisor] = peak
    return peaks


@pytest.mark.parametrize("policy", [p.value for p in ReplayPolicy])
def test_capacity_is_never_exceeded(
    policy: str, reports: dict[str, ReplayReport], tight: RoutingTable
) -> None:
    report = reports[policy]
    peaks = peak_loads(report)
    caps = {a: int(tight.max_open_leads[tight.advisor_index[a]]) for a in peaks}
    assert all(peaks[a] <= caps[a] for a in peaks)
    assert any(peaks[a] == caps[a] for a in peaks), "the fixture should make capacity bind"
    assert report.waited > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cap=st.integers(1, 3),
    shift=st.sampled_from([("00:00", "00:00"), ("09:00", "18:00"), ("22:00", "06:00")]),
    stream=st.lists(
        st.tuples(st.integers(0, 3 * 1440), st.floats(0, 600), st.floats(0, 10)),
        min_size=1,
        max_size=25,
    ),
    policy=st.sampled_from(list(ReplayPolicy)),
)
def test_any_stream_keeps_capacity_shifts_and_each_lead_once(
    cap: int,
    shift: tuple[str, str],
    stream: list[tuple[int, float, float]],
    policy: ReplayPolicy,
) -> None:
    table = two_advisors(cap=cap, shift=shift)
    leads = [lead(f"L{i}", beijing(0) + timedelta(minutes=m)) for i, (m, _, _) in enumerate(stream)]
    work = handled([h for _, h, _ in stream], [c for _, _, c in stream])
    report = replay(table, leads, policy, handling=work)
    assert [o.lead_id for o in report.outcomes] == [x.lead_id for x in leads]
    assert all(peak <= cap for peak in peak_loads(report).values())
    for o in report.outcomes:
        if o.advisor_id:
            assert o.assigned_at is not None
            minute = table.local_minute(o.assigned_at)
            row = table.advisor_index[o.advisor_id]
            assert (minute - table.shift_start[row]) % 1440 < table.shift_minutes[row]
        else:
            assert o.reason.startswith("unassigned: no eligible advisor within 24 h")
    assert report.leads_per_advisor.sum() == len(leads) - report.unassigned


@pytest.mark.parametrize("policy", [p.value for p in ReplayPolicy])
def test_each_lead_once_and_never_an_ineligible_advisor(
    policy: str,
    reports: dict[str, ReplayReport],
    tight: RoutingTable,
    stream: tuple[LeadRequest, ...],
) -> None:
    report = reports[policy]
    assert [o.lead_id for o in report.outcomes] == [x.lead_id for x in stream]
    chosen = [o for o in report.outcomes if o.advisor_id]
    assert report.leads_per_advisor.sum() == len(chosen) == len(stream) - report.unassigned
    for x, o in zip(stream, report.outcomes, strict=True):
        if not o.advisor_id:
            assert o.sla_breached and o.expected_conversion == 0.0
            continue
        row = tight.advisor_index[o.advisor_id]
        assert o.assigned_at is not None and o.first_contact_at is not None
        assert tight.store_ids[int(tight.advisor_store[row])] == x.store_id
        assert tight.certified[row, tight.brand_index[x.brand_id]]
        minute = tight.local_minute(o.assigned_at)
        assert (minute - tight.shift_start[row]) % 1440 < tight.shift_minutes[row]
        assert o.assigned_at >= x.created_at and o.first_contact_at >= o.assigned_at
        assert o.waited == (o.assigned_at > x.created_at)
        assert o.sla_breached == (o.waited or o.first_contact_at > o.first_contact_due)
        assert 0.0 < o.score <= 1.0 and 0.0 < o.expected_conversion <= 1.0
    assert report.sla_breaches == sum(o.sla_breached for o in report.outcomes)
    assert report.expected_conversions == pytest.approx(
        sum(o.expected_conversion for o in report.outcomes)
    )
    assert report.load_cv >= 0.0 and report.load_max_over_mean >= 1.0


def test_replay_is_deterministic_under_a_seed(
    tight: RoutingTable, stream: tuple[LeadRequest, ...], reports: dict[str, ReplayReport]
) -> None:
    model = HandlingModel(mean_holding_hours=12.0, seed=5)
    again = replay(tight, stream, ReplayPolicy.TURNWISE, model=model)
    assert again.outcomes == reports["turnwise"].outcomes
    other = replay(tight, stream, ReplayPolicy.TURNWISE, model=replace(model, seed=6))
    assert other.outcomes != again.outcomes
    first, second = draw_handling(5, model), draw_handling(5, model)
    assert (first.holding_minutes == second.holding_minutes).all()


# ------------------------------------------------------------------------------ inputs


def test_lead_requests_reads_the_leads_table(group: DemoGroup) -> None:
    requests = lead_requests(group.leads.iloc[:50])
    row = group.leads.iloc[0]
    first = requests[0]
    assert first.lead_id == row["lead_id"] and first.store_id == row["store_id"]
    assert first.created_at == pd.Timestamp(row["created_at"]).to_pydatetime()
    assert ";".join(first.tags) == row["tags"]
    bad = group.leads.iloc[:3].copy()
    bad.loc[bad.index[1], "grade"] = "Z"
    with pytest.raises(InvalidArgument) as caught:
        lead_requests(bad)
    assert caught.value.field == "leads[1].grade"
    with pytest.raises(InvalidArgument, match="leads:channel"):
        lead_requests(group.leads.drop(columns=["channel"]))
    late = group.leads.iloc[:3].copy()
    late.loc[late.index[2], "created_at"] = "yesterday"
    with pytest.raises(InvalidArgument, match=r"leads\[2\].created_at"):
        lead_requests(late)


def test_pair_scores_equal_the_model_on_the_same_frame(group: DemoGroup) -> None:
    table = RoutingTable.from_frames(group.advisors, group.stores, group.brands)
    leads = group.leads.iloc[:30].reset_index(drop=True)
    model = PriorScorer()
    pairs = PairScores.of(table, leads, group.advisors, group.stores, model)
    prior = PriorCandidateScorer(model)
    for x in lead_requests(leads):
        rows = pairs.rows[x.lead_id]
        assert len(rows) and table.certified[rows, table.brand_index[x.brand_id]].all()
        got = pairs(table, x, rows, np.zeros(len(rows), dtype=np.int64))
        expected = prior(table, x, rows, np.zeros(len(rows), dtype=np.int64))
        assert got == pytest.approx(expected)
        frame = demo_lead_features(
            leads[leads["lead_id"] == x.lead_id].assign(advisor_id=table.advisor_ids[rows[0]]),
            group.advisors,
            group.stores,
        )
        assert got[0] == pytest.approx(model.predict_proba(frame)[0])


def test_demo_generator_scorer_is_grade_channel_and_level() -> None:
    table = two_advisors()
    p = DemoGeneratorScorer()(table, lead("L", beijing(10), "H"), np.array([0, 1]), np.zeros(2))
    assert p == pytest.approx([0.22 * 0.8 * 1.3, 0.22 * 0.8 * 0.7])
