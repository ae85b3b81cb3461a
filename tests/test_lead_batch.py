"""Batch routing (lead_routing.batch): capacity never exceeded and each lead assigned at most
once (Hypothesis), ineligible advisors never chosen, the objective against brute force over
every assignment of tiny instances (Hypothesis), leads left unassigned only when their
eligible advisors are full, the sticky owner, the reasons, bad input, and a 2,000 x 200
instance solved to optimality."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lead_routing.batch import NO_SOLVE, BatchLead, BatchRouting, route_batch
from lead_routing.identity import CustomerMatch, MatchKind
from lead_routing.routing import (
    CHANNELS,
    LeadRequest,
    ModelCandidateScorer,
    RouteBasis,
    RoutingPolicy,
    RoutingTable,
    route,
)
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus

BEIJING = timedelta(hours=8)
LIMITS = SolveLimits(time_limit_seconds=30.0)
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def beijing(hour: int, minute: int = 0) -> datetime:
    """The UTC instant of ``hour:minute`` Beijing time on 2026-11-02."""
    return datetime(2026, 11, 2, hour, minute, tzinfo=UTC) - BEIJING


NOW = beijing(11)


# ----------------------------------------------------------------------- hand-built pool


def advisors_frame(rows: list[tuple[str, str, str, str, str, int, int]]) -> pd.DataFrame:
    """(advisor_id, store_id, brand_ids, shift_start, shift_end, max_open_leads,
    conversions per 1000 leads) per advisor."""
    return pd.DataFrame(
        {
            "advisor_id": [r[0] for r in rows],
            "store_id": [r[1] for r in rows],
            "level": [3] * len(rows),
            "brand_ids": [r[2] for r in rows],
            "shift_start": [r[3] for r in rows],
            "shift_end": [r[4] for r in rows],
            "max_open_leads": [r[5] for r in rows],
            "leads_90d": [1000] * len(rows),
            "conversions_90d": [r[6] for r in rows],
        }
    )


STORES = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "region_id": ["R1", "R1", "R2"]})
POOL = [
    ("A1", "S1", "B1", "09:00", "18:00", 2, 140),  # the best converter
    ("A2", "S1", "B1;B2", "09:00", "18:00", 2, 84),
    ("A3", "S1", "B1", "09:00", "18:00", 2, 56),
    ("A4", "S2", "B1", "09:00", "18:00", 2, 120),
    ("A5", "S3", "B1", "09:00", "18:00", 2, 150),
]


def pool_table(rows: list[tuple[str, str, str, str, str, int, int]] = POOL) -> RoutingTable:
    # rate_strength 1: the rates stay close to the raw ones, so the order is the input's
    return RoutingTable.from_frames(advisors_frame(rows), STORES, rate_strength=1.0)


def lead(lead_id: str = "L1", store: str = "S1", *, grade: str = "B", **kw: object) -> LeadRequest:
    values: dict[str, object] = {
        "lead_id": lead_id,
        "created_at": NOW,
        "channel": "WEB",
        "brand_id": "B1",
        "grade": grade,
        "store_id": store,
    }
    values.update(kw)
    return LeadRequest(**values)  # type: ignore[arg-type]


def batch(*leads: LeadRequest) -> list[BatchLead]:
    return [BatchLead(x) for x in leads]


def zeros(table: RoutingTable) -> IntArray:
    return np.zeros(table.n_advisors, dtype=np.int64)


def by_lead(result: BatchRouting) -> dict[str, str]:
    return {d.lead_id: d.advisor_id for d in result.decisions}


def test_one_lead_goes_where_route_sends_it() -> None:
    table = pool_table()
    result = route_batch(table, batch(lead()), zeros(table), NOW, LIMITS)
    single = route(table, lead(), zeros(table), NOW)
    (decision,) = result.decisions
    assert decision == single  # same advisor, score, value, basis, reason, deadline
    assert decision.reason == "best expected conversion"
    assert decision.first_contact_due == NOW + timedelta(minutes=5)
    assert result.status is SolveStatus.OPTIMAL and result.method == "SLOT_FLOW"
    assert result.unassigned == ()
    assert result.expected_conversions == pytest.approx(decision.score)
    urgency = RoutingPolicy().urgency("B")
    assert result.weighted_conversions == pytest.approx(urgency * decision.score)
    assert result.rule_value == pytest.approx(decision.value)
    assert result.objective == pytest.approx(decision.value + result.value_shift)
    assert result.gap == 0.0 and result.bound == pytest.approx(result.objective)


def test_a_cold_lead_spares_the_best_advisor_as_route_does() -> None:
    table = pool_table()
    assert RoutingPolicy().urgency("C") < 0
    result = route_batch(table, batch(lead("C1", grade="C")), zeros(table), NOW, LIMITS)
    single = route(table, lead("C1", grade="C"), zeros(table), NOW)
    (decision,) = result.decisions
    assert decision == single  # same advisor, score, value, basis, reason
    assert decision.advisor_id != "A1" and decision.basis is RouteBasis.SPARED_BEST
    assert decision.reason.startswith("spared the stronger advisors for hotter leads: C leads")
    assert "(A1 scores " in decision.reason


def test_capacity_spreads_the_batch_and_hot_leads_get_the_best_advisor() -> None:
    table = pool_table()
    leads = [lead("C1", grade="C"), lead("H1", grade="H"), lead("C2", grade="C")]
    leads += [lead("H2", grade="H"), lead("B1"), lead("B2"), lead("B3")]
    result = route_batch(table, batch(*leads), zeros(table), NOW, LIMITS)
    got = by_lead(result)
    assert len(got) == 6  # S1 has 3 advisors x 2 slots
    assert got["H1"] == got["H2"] == "A1"  # the best converter's two slots go to the H leads
    assert sorted(got.values()).count("A2") == 2 and sorted(got.values()).count("A3") == 2
    (missing,) = result.unassigned
    assert missing[0] in {"C1", "C2"}  # the least valuable lead stays out
    assert "every eligible advisor's capacity went to leads of higher or equal value" in missing[1]
    assert "3 eligible advisors" in missing[1]
    assert [d.lead_id for d in result.decisions] == [
        x.lead_id for x in leads if x.lead_id != missing[0]
    ]  # input order
    b_lead = next(d for d in result.decisions if d.lead_id == "B1")
    alone = route(table, lead("B1"), zeros(table), NOW)  # A1, when it has room
    assert alone.advisor_id == "A1"
    assert b_lead.basis is RouteBasis.LOAD_BALANCED
    assert b_lead.reason == (
        f"capacity: A1 scores {alone.score:.3f} but its 2 free slots went to leads of higher value"
    )


def test_the_load_term_passes_over_a_loaded_best_advisor() -> None:
    table = pool_table()
    load = zeros(table)
    load[0] = 1  # A1 holds 1/2: a B lead goes to A2 (84 vs 140, but half the load)
    result = route_batch(table, batch(lead()), load, NOW, LIMITS)
    (decision,) = result.decisions
    assert decision.advisor_id == "A2"
    assert decision.basis is RouteBasis.LOAD_BALANCED
    assert decision.reason.startswith("load balancing: A1 scores ")
    assert decision.reason.endswith("but holds 1/2 open leads")


def test_a_pair_of_negative_value_is_still_assigned() -> None:
    table = pool_table([("A1", "S1", "B1", "09:00", "18:00", 10, 140)])
    load = np.array([9], dtype=np.int64)  # v = p - p * 0.9 * 3 < 0 with load_weight 3
    policy = RoutingPolicy(load_weight=3.0)
    result = route_batch(table, batch(lead()), load, NOW, LIMITS, policy)
    (decision,) = result.decisions
    assert decision.value < 0
    assert decision.basis is RouteBasis.ONLY_CANDIDATE
    assert result.value_shift == pytest.approx(1.0 - decision.value)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"shift_start": "12:00", "shift_end": "21:00"}, "off shift"),
        ({"brand_ids": "B2"}, "wrong brand"),
        ({"store_id": "S2"}, "other store of the region"),
        ({"store_id": "S3"}, "other region"),
        ({"max_open_leads": 1}, "at capacity"),
    ],
)
def test_an_ineligible_advisor_is_never_chosen(change: dict[str, str | int], why: str) -> None:
    frame = advisors_frame(POOL)
    for column, value in change.items():
        frame[column] = [value, *frame[column].iloc[1:]]
    table = RoutingTable.from_frames(frame, STORES, rate_strength=1.0)
    load = zeros(table)
    load[0] = 1
    leads = batch(lead("L1"), lead("L2"), lead("L3"), lead("L4"), lead("L5"))
    result = route_batch(table, leads, load, NOW, LIMITS)
    assert "A1" not in by_lead(result).values(), why
    assert len(result.decisions) == 4 and len(result.unassigned) == 1
    assert all(d.candidates_considered == 2 for d in result.decisions)


def test_excluded_advisors_are_never_chosen() -> None:
    table = pool_table()
    leads = [BatchLead(lead(f"L{k}"), exclude=frozenset({"A1", "A9"})) for k in range(3)]
    result = route_batch(table, leads, zeros(table), NOW, LIMITS)
    assert sorted(by_lead(result).values()) == ["A2", "A2", "A3"]
    assert result.unassigned == ()
    with pytest.raises(InvalidArgument) as err:
        BatchLead(lead(), exclude="A1")  # type: ignore[arg-type]
    assert err.value.field == "exclude"


def test_leads_without_an_eligible_advisor_carry_the_diagnosis() -> None:
    table = pool_table()
    leads = batch(
        lead("L1", created_at=beijing(22, 40)),
        lead("L2", brand_id="B2", store="S2"),
        lead("L3", store="S9"),
        lead("L4"),
    )
    result = route_batch(table, leads, zeros(table), beijing(22, 40), LIMITS)
    assert result.decisions == ()
    assert [u[0] for u in result.unassigned] == ["L1", "L2", "L3", "L4"]
    assert result.unassigned[0][1].startswith(
        "no advisor of S1 certified for B1 is on shift at 22:40 with spare capacity: "
        "3 in S1, 3 certified, 0 on shift"
    )
    assert "1 in S2, 0 certified" in result.unassigned[1][1]
    assert result.unassigned[2][1] == (
        "leads[2].lead.store_id: 'S9' is not a store of the routing table"
    )
    assert result.method == NO_SOLVE and result.status is SolveStatus.OPTIMAL
    assert result.objective == 0.0 and result.expected_conversions == 0.0
    empty = route_batch(table, [], zeros(table), NOW, LIMITS)
    assert empty.decisions == () and empty.unassigned == ()


# --------------------------------------------------------------------------- sticky owner


def owned(
    lead_id: str, owner: str, kind: MatchKind = MatchKind.PHONE, grade: str = "B"
) -> BatchLead:
    return BatchLead(lead(lead_id, grade=grade), CustomerMatch("C0", kind, owner))


def test_the_sticky_owner_keeps_the_customer_when_it_has_capacity() -> None:
    table = pool_table()
    leads = [
        owned("L1", "A3"),
        BatchLead(lead("L2", grade="H")),
        owned("L3", "A3", MatchKind.WECHAT),
    ]
    result = route_batch(table, leads, zeros(table), NOW, LIMITS)
    decisions = {d.lead_id: d for d in result.decisions}
    assert decisions["L1"].advisor_id == decisions["L3"].advisor_id == "A3"
    assert decisions["L1"].basis is RouteBasis.STICKY_OWNER
    assert decisions["L1"].reason == "sticky owner (same phone)"
    assert decisions["L3"].reason == "sticky owner (same WeChat)"
    assert math.isnan(decisions["L1"].value)
    assert decisions["L2"].advisor_id == "A1"


def test_the_owner_wins_its_last_slot_over_a_lead_of_higher_value() -> None:
    # A3 (the weakest) has one free slot; the H lead would be worth more there than the
    # owned C lead, but the returning customer keeps their advisor.
    table = pool_table([POOL[0], POOL[2]])
    load = np.array([2, 1], dtype=np.int64)  # A1 full: only A3 is eligible
    leads = [BatchLead(lead("H1", grade="H")), owned("C1", "A3", grade="C")]
    result = route_batch(table, leads, load, NOW, LIMITS)
    assert by_lead(result) == {"C1": "A3"}
    assert result.unassigned[0][0] == "H1"
    assert result.sticky_bonus > 0


@pytest.mark.parametrize(
    ("owner", "load_a3", "exclude", "why"),
    [
        ("A4", 0, (), "sticky owner A4 passed over: works at S2, not S1"),
        ("A3", 2, (), "sticky owner A3 passed over: at capacity (2/2 open leads)"),
        ("A3", 0, ("A3",), "sticky owner A3 passed over: excluded"),
        ("A9", 0, (), "sticky owner A9 passed over: not an advisor of the routing table"),
    ],
)
def test_an_ineligible_owner_is_passed_over_with_the_reason(
    owner: str, load_a3: int, exclude: tuple[str, ...], why: str
) -> None:
    table = pool_table()
    load = zeros(table)
    load[2] = load_a3
    item = BatchLead(lead(), CustomerMatch("C0", MatchKind.PHONE, owner), frozenset(exclude))
    (decision,) = route_batch(table, [item], load, NOW, LIMITS).decisions
    assert decision.advisor_id == "A1"
    assert decision.basis is RouteBasis.BEST_CONVERSION
    assert decision.reason.startswith("best expected conversion; " + why)


def test_an_owner_whose_slots_went_to_its_other_customers_is_passed_over() -> None:
    table = pool_table()
    load = zeros(table)
    load[2] = 1  # A3 has one free slot and owns two of the batch's customers
    leads = [owned("L1", "A3"), owned("L2", "A3")]
    result = route_batch(table, leads, load, NOW, LIMITS)
    decisions = sorted(result.decisions, key=lambda d: d.advisor_id)
    assert [d.advisor_id for d in decisions] == ["A1", "A3"]
    assert decisions[0].reason.endswith(
        "; sticky owner A3 passed over: its 1 free slot went to other leads of the batch"
    )
    off = route_batch(table, leads, load, NOW, LIMITS, RoutingPolicy(sticky_owner=False))
    assert all(d.basis is not RouteBasis.STICKY_OWNER for d in off.decisions)


# ---------------------------------------------------------------------------- bad input


def test_a_repeated_lead_id_is_refused_naming_its_index() -> None:
    table = pool_table()
    leads = batch(lead("L1"), lead("L2"), lead("L1"))
    with pytest.raises(InvalidArgument) as err:
        route_batch(table, leads, zeros(table), NOW, LIMITS)
    assert err.value.field == "leads[2].lead_id"
    assert "leads[0]" in err.value.hint


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"open_leads": np.zeros(2, dtype=np.int64)}, "open_leads"),
        ({"open_leads": np.zeros(5)}, "open_leads"),
        ({"open_leads": np.full(5, -1)}, "open_leads"),
        ({"now": datetime(2026, 11, 2, 11)}, "now"),
        ({"leads": [lead()]}, "leads[0]"),
        ({"leads": "L1"}, "leads"),
        ({"limits": 10.0}, "limits"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    table = pool_table()
    arguments: dict[str, object] = {
        "table": table,
        "leads": batch(lead()),
        "open_leads": zeros(table),
        "now": NOW,
        "limits": LIMITS,
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidArgument) as err:
        route_batch(**arguments)  # type: ignore[arg-type]
    assert err.value.field == field


# ------------------------------------------------------------------- Hypothesis properties

SHIFTS = ((540, 540), (720, 540), (1320, 480), (0, 1440))  # (start, minutes)
STORE_OF_LEAD = ("S1", "S2", "S3", "")  # "": any store of R1
REGION_OF = {"S1": "R1", "S2": "R1", "S3": "R2"}


@st.composite
def instances(
    draw: st.DrawFn, max_advisors: int, max_leads: int, max_slots: int
) -> dict[str, object]:
    """A random table, loads, a batch at a random minute and a score per (lead, advisor)."""
    m = draw(st.integers(1, max_advisors))
    shifts = [draw(st.sampled_from(SHIFTS)) for _ in range(m)]
    capacity = np.array([draw(st.integers(1, max_slots)) for _ in range(m)], dtype=np.int64)
    table = RoutingTable(
        advisor_ids=tuple(f"A{i}" for i in range(m)),
        store_ids=("S1", "S2", "S3"),
        store_regions=("R1", "R1", "R2"),
        brand_ids=("B1", "B2"),
        advisor_store=np.array([draw(st.integers(0, 2)) for _ in range(m)]),
        certified=np.array([[draw(st.booleans()) or b == 0 for b in range(2)] for _ in range(m)]),
        level=np.full(m, 3),
        shift_start=np.array([s for s, _ in shifts]),
        shift_minutes=np.array([n for _, n in shifts]),
        max_open_leads=capacity,
        conversion_rate=np.full(m, 0.05),
    )
    load = np.array([draw(st.integers(0, int(c))) for c in capacity], dtype=np.int64)
    minute = draw(st.sampled_from([600, 1380, 60]))
    now = beijing(minute // 60, minute % 60)
    ids = [f"A{i}" for i in range(m)]
    leads, scores = [], {}
    for j in range(draw(st.integers(1, max_leads))):
        store = draw(st.sampled_from(STORE_OF_LEAD))
        request = LeadRequest(
            lead_id=f"L{j}",
            created_at=now,
            channel=draw(st.sampled_from(CHANNELS)),
            brand_id=draw(st.sampled_from(("B1", "B2"))),
            grade=draw(st.sampled_from(("H", "A", "B", "C"))),
            store_id=store,
            region_id="" if store else "R1",
        )
        owner = draw(st.none() | st.sampled_from([*ids, "A99"]))
        match = None if owner is None else CustomerMatch("C", MatchKind.PHONE, owner)
        exclude = frozenset(draw(st.lists(st.sampled_from(ids), max_size=2)))
        leads.append(BatchLead(request, match, exclude))
        scores[request.lead_id] = np.array(
            draw(st.lists(st.floats(0.0, 1.0), min_size=m, max_size=m)), dtype=np.float64
        )
    load_weight = draw(st.sampled_from([0.0, 1.0, 4.0]))
    return {
        "table": table,
        "load": load,
        "now": now,
        "minute": minute,
        "leads": leads,
        "scores": scores,
        "policy": RoutingPolicy(load_weight=load_weight),
    }


def table_scorer(scores: dict[str, FloatArray]):  # type: ignore[no-untyped-def]
    def scorer(
        table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        return scores[lead.lead_id][rows]

    return scorer


def brute_force_eligible(case: dict[str, object], item: BatchLead) -> list[int]:
    table, load, minute = case["table"], case["load"], case["minute"]
    assert isinstance(table, RoutingTable) and isinstance(load, np.ndarray)
    lead = item.lead
    out = []
    for i, advisor in enumerate(table.advisor_ids):
        store = table.store_ids[int(table.advisor_store[i])]
        scoped = store == lead.store_id if lead.store_id else REGION_OF[store] == lead.region_id
        assert isinstance(minute, int)
        on = (minute - int(table.shift_start[i])) % 1440 < int(table.shift_minutes[i])
        certified = bool(table.certified[i, table.brand_ids.index(lead.brand_id)])
        spare = load[i] < table.max_open_leads[i]
        if scoped and certified and on and spare and advisor not in item.exclude:
            out.append(i)
    return out


def solve_case(case: dict[str, object]) -> BatchRouting:
    return route_batch(
        case["table"],  # type: ignore[arg-type]
        case["leads"],  # type: ignore[arg-type]
        case["load"],  # type: ignore[arg-type]
        case["now"],  # type: ignore[arg-type]
        LIMITS,
        case["policy"],  # type: ignore[arg-type]
        table_scorer(case["scores"]),  # type: ignore[arg-type]
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(max_advisors=7, max_leads=9, max_slots=3))
def test_batches_keep_capacity_eligibility_and_stickiness(case: dict[str, object]) -> None:
    table, load, leads = case["table"], case["load"], case["leads"]
    assert isinstance(table, RoutingTable) and isinstance(load, np.ndarray)
    assert isinstance(leads, list)
    result = solve_case(case)
    assert result.status is SolveStatus.OPTIMAL
    assigned = [d.lead_id for d in result.decisions]
    missing = [u[0] for u in result.unassigned]
    assert len(set(assigned)) == len(assigned)  # each lead at most once
    assert sorted(assigned + missing) == sorted(x.lead.lead_id for x in leads)
    order = [x.lead.lead_id for x in leads]
    assert assigned == [i for i in order if i in set(assigned)]  # input order
    free = table.max_open_leads - load
    used = np.zeros(table.n_advisors, dtype=np.int64)
    items = {x.lead.lead_id: x for x in leads}
    for d in result.decisions:
        row = table.advisor_index[d.advisor_id]
        used[row] += 1
        eligible = brute_force_eligible(case, items[d.lead_id])
        assert row in eligible
        assert d.candidates_considered == len(eligible)
    assert (used <= free).all()  # capacity never exceeded
    left = free - used
    for lead_id in missing:  # unassigned only when every eligible advisor is full
        assert all(left[i] == 0 for i in brute_force_eligible(case, items[lead_id]))
    owners: dict[int, list[str]] = {}
    for item in leads:
        owner = item.customer_owner.advisor_id if item.customer_owner else ""
        row = table.advisor_index.get(owner, -1)
        if row >= 0 and row in brute_force_eligible(case, item):
            owners.setdefault(row, []).append(item.lead.lead_id)
    got = by_lead(result)
    for row, owned_leads in owners.items():
        if left[row] > 0 or free[row] >= len(owned_leads):  # the owner can take them all
            assert all(got.get(i) == table.advisor_ids[row] for i in owned_leads)
    scores = sum(d.score for d in result.decisions)
    assert result.expected_conversions == pytest.approx(scores)


def brute_force_objective(case: dict[str, object]) -> float:
    """The best total of the documented pair values over every assignment."""
    table, load, leads, policy = case["table"], case["load"], case["leads"], case["policy"]
    scores = case["scores"]
    assert isinstance(table, RoutingTable) and isinstance(load, np.ndarray)
    assert isinstance(leads, list) and isinstance(policy, RoutingPolicy)
    assert isinstance(scores, dict)
    rho = load / table.max_open_leads
    options: list[list[tuple[int, float, bool]]] = []
    for item in leads:
        eligible = brute_force_eligible(case, item)
        if not eligible:
            continue
        p = scores[item.lead.lead_id][eligible]
        v = policy.urgency(item.lead.grade) * p - p.max() * policy.load_weight * rho[eligible]
        owner = item.customer_owner.advisor_id if item.customer_owner else ""
        options.append(
            [(i, float(x), table.advisor_ids[i] == owner) for i, x in zip(eligible, v, strict=True)]
        )
    if not options:
        return 0.0
    values = [v for option in options for _, v, _ in option]
    shift, bonus = 1.0 - min(values), 2.0 * (max(values) - min(values) + 1.0)
    free = table.max_open_leads - load
    best = 0.0
    for pick in itertools.product(*[[None, *option] for option in options]):
        used = np.zeros(table.n_advisors, dtype=np.int64)
        total = 0.0
        for chosen in pick:
            if chosen is not None:
                used[chosen[0]] += 1
                total += chosen[1] + shift + (bonus if chosen[2] else 0.0)
        if (used <= free).all():
            best = max(best, total)
    return best


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(max_advisors=4, max_leads=5, max_slots=2))
def test_the_objective_equals_brute_force_on_tiny_batches(case: dict[str, object]) -> None:
    result = solve_case(case)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(brute_force_objective(case), abs=1e-5)
    if result.decisions:
        assert result.gap == pytest.approx(0.0, abs=1e-9)


# ------------------------------------------------------------------------ a larger batch


def test_a_2000_lead_200_advisor_batch_is_solved_to_optimality() -> None:
    rng = np.random.default_rng(7)
    m, n = 200, 2000
    stores = tuple(f"S{i}" for i in range(8))
    table = RoutingTable(
        advisor_ids=tuple(f"A{i:03d}" for i in range(m)),
        store_ids=stores,
        store_regions=tuple(f"R{i // 4}" for i in range(8)),
        brand_ids=("B0", "B1", "B2"),
        advisor_store=rng.integers(0, 8, m),
        certified=rng.random((m, 3)) < 0.7,
        level=rng.integers(1, 6, m),
        shift_start=np.full(m, 480),
        shift_minutes=np.full(m, 720),
        max_open_leads=rng.integers(5, 15, m),
        conversion_rate=rng.uniform(0.02, 0.2, m),
    )
    load = rng.integers(0, 5, m)
    leads = []
    for j in range(n):
        store = stores[int(rng.integers(0, 8))]
        by_region = j % 3 == 0
        request = LeadRequest(
            lead_id=f"L{j}",
            created_at=NOW,
            channel=CHANNELS[j % len(CHANNELS)],
            brand_id=f"B{j % 3}",
            grade="HABC"[j % 4],
            store_id="" if by_region else store,
            region_id=table.region_of_store[store] if by_region else "",
        )
        owner = CustomerMatch("C", MatchKind.PHONE, f"A{j % m:03d}") if j % 7 == 0 else None
        leads.append(BatchLead(request, owner))
    result = route_batch(table, leads, load, NOW, LIMITS)
    assert result.status is SolveStatus.OPTIMAL and result.method == "SLOT_FLOW"
    assert len(result.decisions) + len(result.unassigned) == n
    used = Counter(d.advisor_id for d in result.decisions)
    free = dict(zip(table.advisor_ids, table.max_open_leads - load, strict=True))
    assert all(count <= free[a] for a, count in used.items())
    for _, why in result.unassigned:
        assert why.startswith("no advisor of ") or "capacity went to leads" in why
    assert len(result.decisions) > n // 2


class _RateModel:
    """A stand-in fitted model that counts its predicts: P rises with the advisor's rate
    and differs by grade, so the batch has something to decide."""

    def __init__(self) -> None:
        self.calls = 0

    def predict_proba(self, frame: pd.DataFrame) -> FloatArray:
        self.calls += 1
        grade = frame["grade"].map({"H": 2.0, "A": 1.5, "B": 1.0, "C": 0.5}).to_numpy()
        return np.asarray(frame["advisor_conversion_rate"].to_numpy() * grade, dtype=np.float64)


class _OneByOne:
    """The same model behind the plain per-lead protocol (no ``score_many``)."""

    def __init__(self, inner: ModelCandidateScorer) -> None:
        self.inner = inner

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, load: IntArray
    ) -> FloatArray:
        return self.inner(table, lead, rows, load)


def test_a_fitted_model_scores_the_whole_batch_in_one_predict() -> None:
    table = pool_table()
    grades = "HABCBAHC"
    leads = [
        lead(f"L{i}", store="S1" if i % 3 else "S2", grade=g) for i, g in enumerate(grades)
    ] + [lead("L-none", store="S1", brand_id="B9")]  # no advisor: never scored
    model = _RateModel()
    batched = route_batch(
        table, batch(*leads), zeros(table), NOW, LIMITS, scorer=ModelCandidateScorer(model)
    )
    assert model.calls == 1
    alone = _RateModel()
    one_by_one = route_batch(
        table,
        batch(*leads),
        zeros(table),
        NOW,
        LIMITS,
        scorer=_OneByOne(ModelCandidateScorer(alone)),
    )
    assert alone.calls == len(leads) - 1
    assert batched.decisions == one_by_one.decisions
    assert batched.unassigned == one_by_one.unassigned and len(batched.unassigned) >= 1
    assert batched.expected_conversions == pytest.approx(one_by_one.expected_conversions)
