"""Real-time lead routing (lead_routing.routing) and customer One-ID (lead_routing.identity):
phone and WeChat normalisation, the customer index, eligibility (scope, brand, shift,
capacity, exclusion) as a Hypothesis property against brute force, the choice by expected
value, fairness over a stream of leads, sticky ownership, shifts across midnight, the
diagnosis when nobody is eligible, bad input, and the demo group end to end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealer_group.demo import DemoGroup, DemoSpec, generate
from lead_routing.features import demo_lead_features
from lead_routing.identity import (
    CustomerIndex,
    CustomerMatch,
    MatchKind,
    normalise_phone,
    normalise_wechat,
)
from lead_routing.routing import (
    LeadRequest,
    ModelCandidateScorer,
    PriorCandidateScorer,
    RouteBasis,
    RoutingPolicy,
    RoutingTable,
    candidate_features,
    eligible_advisors,
    route,
)
from lead_routing.scoring_prior import PriorScorer
from turnwise.errors import FailedPrecondition, InvalidArgument, NotFound

BEIJING = timedelta(hours=8)
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def beijing(hour: int, minute: int = 0, day: int = 2) -> datetime:
    """The UTC instant of ``hour:minute`` Beijing time on 2026-11-``day``."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - BEIJING


# ----------------------------------------------------------------------------- One-ID

MOBILE = "13812345678"


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "0086-138-1234-5678",
        "86 13812345678",
        "8613812345678",
        "+8613812345678",
        "(+86) 138.1234.5678",
        "+86 (138) 1234-5678",
        "  138 1234 5678  ",
        "138-1234-5678",
        "\uff0b\uff18\uff16 \uff11\uff13\uff18 \uff11\uff12\uff13\uff14 \uff15\uff16\uff17\uff18",
        "+86\u3000138\u30001234\u30005678",
        "\uff08+86\uff09138-1234-5678",
    ],
)
def test_every_written_form_of_a_mobile_normalises_to_its_11_digits(written: str) -> None:
    assert normalise_phone(written) == MOBILE


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("+86 10 6552 9988", "861065529988"),  # a Beijing landline keeps its country code
        ("010-6552-9988", "01065529988"),
        ("+1 (415) 555-0100", "14155550100"),
        ("86 12345", "8612345"),
        ("+86 138123456789", "86138123456789"),  # 12 digits after 86: not a mobile
        ("0086 23812345678", "008623812345678"),  # does not start with 1: not a mobile
        ("", ""),
        (None, ""),
        ("n/a", ""),
    ],
)
def test_other_numbers_stay_digits_only(written: str | None, expected: str) -> None:
    assert normalise_phone(written) == expected


def test_wechat_ids_are_stripped_and_case_folded() -> None:
    assert normalise_wechat("  WXID_Ab12 ") == "wxid_ab12"
    assert normalise_wechat("wxid_ab12") == normalise_wechat("WXID_AB12")
    assert normalise_wechat("") == "" and normalise_wechat(None) == ""


def history() -> pd.DataFrame:
    """Five leads of three customers, not in time order: L1/L2/L3 are one customer (L2
    shares L1's phone, L3 shares L2's WeChat id), L4 is another, L5 has no advisor."""
    return pd.DataFrame(
        {
            "lead_id": ["L2", "L1", "L3", "L4", "L5"],
            "created_at": [
                "2026-10-02T10:00:00Z",
                "2026-10-01T10:00:00Z",
                "2026-10-03T10:00:00Z",
                "2026-10-01T12:00:00Z",
                "2026-10-04T09:00:00Z",
            ],
            "phone": [
                "+86 138 1234 5678",
                MOBILE,
                "15000000000",
                "13900000000",
                "0086 18600000000",
            ],
            "wechat_id": ["wx_Zed", "", " WX_ZED", "wx_other", ""],
            "advisor_id": ["A2", "A1", "", "A9", ""],
        }
    )


def test_customer_index_joins_leads_by_phone_and_wechat() -> None:
    index = CustomerIndex.from_leads(history())
    # the earliest lead names the customer; the latest assigned lead names its advisor
    assert index.match("0086-138-1234-5678") == CustomerMatch("L1", MatchKind.PHONE, "A2")
    assert index.match("", "WX_zed ") == CustomerMatch("L1", MatchKind.WECHAT, "A2")
    assert index.match("+86 150 0000 0000") == CustomerMatch("L1", MatchKind.PHONE, "A2")
    assert index.customer_by_phone("13900000000") == "L4"
    assert index.current_advisor("L4") == "A9"
    # phone beats WeChat when they name two customers
    assert index.match("13900000000", "wx_zed") == CustomerMatch("L4", MatchKind.PHONE, "A9")
    # a known customer without an advisor, and strangers
    assert index.match("18600000000") == CustomerMatch("L5", MatchKind.PHONE, "")
    assert index.match("19900000000", "wx_nobody") is None
    assert index.match("", "") is None


def test_customer_index_names_bad_columns() -> None:
    with pytest.raises(InvalidArgument) as err:
        CustomerIndex.from_leads(history().drop(columns=["wechat_id"]))
    assert err.value.field == "leads:wechat_id"
    bad = history()
    bad.loc[0, "created_at"] = "yesterday"
    with pytest.raises(InvalidArgument) as err:
        CustomerIndex.from_leads(bad)
    assert err.value.field == "leads:created_at"


def test_demo_returning_customers_are_found_across_written_forms(demo: DemoGroup) -> None:
    leads = demo.leads
    index = CustomerIndex.from_leads(leads)
    keys = leads["phone"].map(normalise_phone)
    repeats = keys[keys.duplicated(keep=False)]
    assert len(repeats) > 50
    for key, rows in leads.loc[repeats.index].groupby(repeats):
        assert rows["phone"].nunique() > 1 or len(rows) > 1
        assert (
            index.customer_by_phone(str(key)) == rows.sort_values("created_at")["lead_id"].iloc[0]
        )
        assert all(
            index.customer_by_phone(p) == index.customer_by_phone(str(key)) for p in rows["phone"]
        )
    assert (leads.groupby(repeats)["phone"].nunique() > 1).any()  # really written differently


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
    ("A1", "S1", "B1", "09:00", "18:00", 20, 140),  # the best converter
    ("A2", "S1", "B1;B2", "09:00", "18:00", 20, 84),
    ("A3", "S1", "B1", "09:00", "18:00", 20, 56),
    ("A4", "S2", "B1", "09:00", "18:00", 20, 120),
    ("A5", "S3", "B1", "09:00", "18:00", 20, 150),
]


def pool_table(rows: list[tuple[str, str, str, str, str, int, int]] = POOL) -> RoutingTable:
    # rate_strength 1: the rates stay close to the raw ones, so the order is the input's
    return RoutingTable.from_frames(advisors_frame(rows), STORES, rate_strength=1.0)


def lead_for(store: str = "S1", *, region: str = "", grade: str = "B", **kw: object) -> LeadRequest:
    values: dict[str, object] = {
        "lead_id": "L1",
        "created_at": beijing(11),
        "channel": "WEB",
        "brand_id": "B1",
        "grade": grade,
        "store_id": store,
        "region_id": region,
    }
    values.update(kw)
    return LeadRequest(**values)  # type: ignore[arg-type]


def zeros(table: RoutingTable) -> np.ndarray:
    return np.zeros(table.n_advisors, dtype=np.int64)


def test_the_best_expected_conversion_wins_when_loads_are_equal() -> None:
    table = pool_table()
    now = beijing(11)
    decision = route(table, lead_for(), zeros(table), now)
    assert decision.advisor_id == "A1"
    assert decision.basis is RouteBasis.BEST_CONVERSION
    assert decision.reason == "best expected conversion"
    assert decision.candidates_considered == 3
    assert decision.first_contact_due == now + timedelta(minutes=5)
    frame = pd.DataFrame(
        {"grade": ["B"], "channel": ["WEB"], "advisor_conversion_rate": [table.conversion_rate[0]]}
    )
    assert decision.score == pytest.approx(float(PriorScorer().predict_proba(frame)[0]))
    # equal loads (not zero) and equal recent shares keep the order
    same = np.full(table.n_advisors, 7, dtype=np.int64)
    assert route(table, lead_for(), same, now, recent_assignments=same).advisor_id == "A1"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"shift_start": "12:00", "shift_end": "21:00"}, "off shift"),
        ({"brand_ids": "B2"}, "wrong brand"),
        ({"store_id": "S2"}, "other store of the region"),
        ({"store_id": "S3"}, "other region"),
        ({"max_open_leads": 4}, "at capacity"),
    ],
)
def test_an_ineligible_best_advisor_is_never_chosen(change: dict[str, str | int], why: str) -> None:
    frame = advisors_frame(POOL)
    for column, value in change.items():
        frame[column] = [value, *frame[column].iloc[1:]]
    table = RoutingTable.from_frames(frame, STORES, rate_strength=1.0)
    load = zeros(table)
    load[0] = 4
    decision = route(table, lead_for(), load, beijing(11))
    assert decision.advisor_id == "A2", why
    assert decision.candidates_considered == 2


def test_excluded_advisors_are_never_chosen() -> None:
    table = pool_table()
    decision = route(table, lead_for(), zeros(table), beijing(11), exclude={"A1", "A9"})
    assert decision.advisor_id == "A2"
    assert decision.candidates_considered == 2


def test_a_region_lead_reaches_every_store_of_the_region_only() -> None:
    table = pool_table()
    lead = lead_for("", region="R1")
    found = eligible_advisors(table, lead, zeros(table), beijing(11), RoutingPolicy())
    assert sorted(table.advisor_ids[i] for i in found.candidates) == ["A1", "A2", "A3", "A4"]
    assert found.scope == "region R1" and found.in_scope == 4
    assert route(table, lead, zeros(table), beijing(11)).advisor_id == "A1"  # A5 is in R2


def test_shifts_crossing_midnight_and_24_hour_shifts() -> None:
    table = pool_table(
        [
            ("DAY", "S1", "B1", "09:00", "18:00", 5, 70),
            ("NIGHT", "S1", "B1", "22:00", "06:00", 5, 70),
            ("ALWAYS", "S1", "B1", "00:00", "00:00", 5, 70),
        ]
    )

    def on_shift(hour: int, minute: int, policy: RoutingPolicy | None = None) -> set[str]:
        policy = policy or RoutingPolicy()
        found = eligible_advisors(table, lead_for(), zeros(table), beijing(hour, minute), policy)
        return {table.advisor_ids[i] for i in found.candidates}

    assert on_shift(9, 0) == on_shift(17, 59) == {"DAY", "ALWAYS"}
    assert on_shift(18, 0) == on_shift(8, 59) == on_shift(21, 59) == {"ALWAYS"}
    assert on_shift(22, 0) == on_shift(23, 30) == on_shift(2, 0) == {"NIGHT", "ALWAYS"}
    assert on_shift(5, 59) == {"NIGHT", "ALWAYS"}
    assert on_shift(6, 0) == {"ALWAYS"}
    buffer = RoutingPolicy(shift_end_buffer_minutes=10)
    assert on_shift(17, 49, buffer) == {"DAY", "ALWAYS"}
    assert on_shift(17, 50, buffer) == {"ALWAYS"}
    assert on_shift(5, 50, buffer) == {"ALWAYS"}
    # the time zone is the table's: 11:00 UTC is 19:00 in Beijing, after the day shift
    assert "DAY" not in {
        table.advisor_ids[i]
        for i in eligible_advisors(
            table, lead_for(), zeros(table), datetime(2026, 11, 2, 11, tzinfo=UTC), RoutingPolicy()
        ).candidates
    }


def test_no_eligible_advisor_names_every_step() -> None:
    table = pool_table()
    with pytest.raises(FailedPrecondition) as err:
        route(table, lead_for(), zeros(table), beijing(22, 40))
    assert err.value.field == "lead"
    assert err.value.hint.startswith(
        "no advisor of S1 certified for B1 is on shift at 22:40 with spare capacity: "
        "3 in S1, 3 certified, 0 on shift, 0 with spare capacity"
    )
    full = np.array([20, 20, 3, 0, 0], dtype=np.int64)
    with pytest.raises(FailedPrecondition) as err:
        route(table, lead_for(), full, beijing(11), exclude={"A3"})
    assert "3 on shift, 1 with spare capacity, 0 not excluded" in err.value.hint
    with pytest.raises(FailedPrecondition) as err:
        route(table, lead_for(brand_id="B2"), full, beijing(11))
    assert "certified for B2" in err.value.hint
    assert "1 certified, 1 on shift, 0 with spare capacity;" in err.value.hint


def test_unknown_store_region_and_brand_are_not_found() -> None:
    table = pool_table()
    for lead, field in (
        (lead_for("S9"), "store_id"),
        (lead_for("", region="R9"), "region_id"),
        (lead_for(brand_id="B9"), "brand_id"),
    ):
        with pytest.raises(NotFound) as err:
            route(table, lead, zeros(table), beijing(11))
        assert err.value.field == field
    with pytest.raises(InvalidArgument) as bad:
        route(table, lead_for("S1", region="R2"), zeros(table), beijing(11))
    assert bad.value.field == "region_id"


# ------------------------------------------------------------------------ choice, fairness


def test_urgency_sends_hot_leads_to_the_best_and_spreads_cold_ones() -> None:
    table = pool_table(
        [
            ("BEST", "S1", "B1", "09:00", "18:00", 20, 140),
            ("NEXT", "S1", "B1", "09:00", "18:00", 20, 84),
        ]
    )
    load = np.array([6, 0], dtype=np.int64)  # the best one is at 30% load
    hot = route(table, lead_for(grade="H"), load, beijing(11))
    assert hot.advisor_id == "BEST" and hot.basis is RouteBasis.BEST_CONVERSION
    cold_policy = RoutingPolicy(grade_urgency=(("H", 10.0), ("A", 5.0), ("B", 1.0), ("C", 0.5)))
    cold = route(table, lead_for(grade="C"), load, beijing(11), cold_policy)
    assert cold.advisor_id == "NEXT" and cold.basis is RouteBasis.LOAD_BALANCED
    assert cold.reason.startswith("load balancing: BEST scores")
    assert "holds 6/20 open leads" in cold.reason
    # without a fairness term the best one takes the cold lead too
    greedy = replace(cold_policy, load_weight=0.0, share_weight=0.0)
    assert route(table, lead_for(grade="C"), load, beijing(11), greedy).advisor_id == "BEST"


def test_a_negative_urgency_spares_the_best_advisors_for_hotter_leads() -> None:
    table = pool_table(
        [
            ("BEST", "S1", "B1", "09:00", "18:00", 20, 140),
            ("NEXT", "S1", "B1", "09:00", "18:00", 20, 84),
        ]
    )
    idle = zeros(table)
    assert RoutingPolicy().urgency("C") < 0  # the default
    warm = route(table, lead_for(grade="B"), idle, beijing(11))
    assert warm.advisor_id == "BEST" and warm.basis is RouteBasis.BEST_CONVERSION
    cold = route(table, lead_for(grade="C"), idle, beijing(11))
    assert cold.advisor_id == "NEXT" and cold.basis is RouteBasis.SPARED_BEST
    assert cold.reason.startswith("spared the stronger advisors for hotter leads: C leads")
    assert f"BEST scores {cold.score * 140 / 84:.3f} against {cold.score:.3f}" in cold.reason
    # an urgency of 0 ignores the scores: the table's first idle advisor
    flat = RoutingPolicy(grade_urgency=(("H", 10.0), ("A", 5.0), ("B", 1.0), ("C", 0.0)))
    assert route(table, lead_for(grade="C"), idle, beijing(11), flat).advisor_id == "BEST"
    # the load still counts: a cold lead goes to the best advisor when the weaker one is busy
    busy = np.array([0, 12], dtype=np.int64)
    assert route(table, lead_for(grade="C"), busy, beijing(11)).advisor_id == "BEST"


def stream(
    table: RoutingTable, grade: str, leads: int, *, closes: bool, recent: bool
) -> tuple[np.ndarray, int]:
    """Route ``leads`` identical leads one after another; each stays open unless
    ``closes``. Returns the leads per advisor and how many found an advisor."""
    load, got = zeros(table), zeros(table)
    routed = 0
    for i in range(leads):
        try:
            decision = route(
                table,
                lead_for(grade=grade, lead_id=f"L{i}"),
                load,
                beijing(11),
                recent_assignments=got if recent else None,
            )
        except FailedPrecondition:
            continue
        row = table.advisor_index[decision.advisor_id]
        assert load[row] < table.max_open_leads[row]
        got[row] += 1
        routed += 1
        if not closes:
            load[row] += 1
    return got, routed


FOUR = [
    ("A1", "S1", "B1", "09:00", "18:00", 20, 140),  # lift 2.0
    ("A2", "S1", "B1", "09:00", "18:00", 20, 84),  # lift 1.2
    ("A3", "S1", "B1", "09:00", "18:00", 20, 56),  # lift 0.8
    ("A4", "S1", "B1", "09:00", "18:00", 20, 35),  # lift 0.5
]


@pytest.mark.parametrize("grade", ["H", "A", "B", "C"])
def test_open_leads_spread_over_everyone_and_capacity_holds(grade: str) -> None:
    table = pool_table(FOUR)
    got, routed = stream(table, grade, 60, closes=False, recent=False)
    assert routed == 60
    assert (got >= 1).all(), got
    assert (got <= 20).all()
    if RoutingPolicy().urgency(grade) > 0:
        assert got[0] >= got[-1]  # better converters get more
    else:  # C leads spare the best converters
        assert got[0] <= got[-1]
    # past the total capacity every further lead finds nobody
    got, routed = stream(table, grade, 100, closes=False, recent=False)
    assert routed == 80 and (got == 20).all()


@pytest.mark.parametrize("grade", ["H", "A", "B", "C"])
def test_recent_shares_keep_anyone_from_starving_when_leads_close_fast(grade: str) -> None:
    table = pool_table(FOUR)
    spare = RoutingPolicy().urgency(grade) < 0  # C: the weakest converter is preferred
    # the load alone cannot help: it stays at zero, the preferred one takes everything
    got, _ = stream(table, grade, 60, closes=True, recent=False)
    assert got.tolist() == ([0, 0, 0, 60] if spare else [60, 0, 0, 0])
    got, _ = stream(table, grade, 60, closes=True, recent=True)
    assert (got >= 1).all(), got
    assert list(got) == sorted(got, reverse=not spare)  # still in order of preference


def test_recent_shares_follow_capacity_among_equal_advisors() -> None:
    table = pool_table(
        [
            ("BIG", "S1", "B1", "09:00", "18:00", 30, 70),
            ("SMALL", "S1", "B1", "09:00", "18:00", 10, 70),
        ]
    )
    got, _ = stream(table, "B", 80, closes=True, recent=True)
    assert got.tolist() == [60, 20]


# --------------------------------------------------------------------------- sticky owner


def test_the_eligible_owner_keeps_the_customer() -> None:
    table = pool_table()
    owner = CustomerMatch("L0", MatchKind.PHONE, "A3")
    decision = route(table, lead_for(), zeros(table), beijing(11), customer_owner=owner)
    assert decision.advisor_id == "A3"
    assert decision.basis is RouteBasis.STICKY_OWNER
    assert decision.reason == "sticky owner (same phone)"
    assert decision.candidates_considered == 3
    wechat = CustomerMatch("L0", MatchKind.WECHAT, "A3")
    decision = route(table, lead_for(), zeros(table), beijing(11), customer_owner=wechat)
    assert decision.reason == "sticky owner (same WeChat)"


@pytest.mark.parametrize(
    ("owner", "load_a3", "at", "exclude", "why"),
    [
        ("A4", 0, 11, (), "passed over: works at S2, not S1"),
        ("A3", 20, 11, (), "passed over: at capacity (20/20 open leads)"),
        ("A3", 0, 11, ("A3",), "passed over: excluded"),
        ("A9", 0, 11, (), "passed over: not an advisor of the routing table"),
    ],
)
def test_an_ineligible_owner_is_passed_over_with_the_reason(
    owner: str, load_a3: int, at: int, exclude: tuple[str, ...], why: str
) -> None:
    table = pool_table()
    load = zeros(table)
    load[2] = load_a3
    decision = route(
        table,
        lead_for(),
        load,
        beijing(at),
        customer_owner=CustomerMatch("L0", MatchKind.PHONE, owner),
        exclude=set(exclude),
    )
    assert decision.advisor_id == "A1"
    assert decision.basis is RouteBasis.BEST_CONVERSION
    assert why in decision.reason


def test_an_owner_off_shift_is_passed_over() -> None:
    rows = [*POOL[:2], ("A3", "S1", "B1", "12:00", "21:00", 20, 56)]
    table = pool_table(rows)
    owner = CustomerMatch("L0", MatchKind.PHONE, "A3")
    decision = route(table, lead_for(), zeros(table), beijing(10, 5), customer_owner=owner)
    assert decision.advisor_id == "A1"
    assert "sticky owner A3 passed over: off shift at 10:05 (shift 12:00-21:00)" in decision.reason
    later = route(table, lead_for(), zeros(table), beijing(13), customer_owner=owner)
    assert later.advisor_id == "A3"
    off = RoutingPolicy(sticky_owner=False)
    assert (
        route(table, lead_for(), zeros(table), beijing(13), off, customer_owner=owner).advisor_id
        == "A1"
    )


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"grade": "X"}, "grade"),
        ({"grade": ""}, "grade"),
        ({"brand_id": ""}, "brand_id"),
        ({"created_at": datetime(2026, 11, 2, 11)}, "created_at"),
        ({"channel": "FAX"}, "channel"),
        ({"lead_id": ""}, "lead_id"),
        ({"store_id": "", "region_id": ""}, "store_id"),
        ({"tags": ("ok", 3)}, "tags"),
    ],
)
def test_a_bad_lead_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        lead_for(**change)  # type: ignore[arg-type]
    assert err.value.field == field


def test_bad_route_arguments_name_the_field() -> None:
    table = pool_table()
    cases: list[tuple[dict[str, object], str]] = [
        ({"now": datetime(2026, 11, 2, 11)}, "now"),
        ({"open_leads": np.zeros(3, dtype=np.int64)}, "open_leads"),
        ({"open_leads": np.zeros(5)}, "open_leads"),
        ({"open_leads": np.array([0, 0, -1, 0, 0])}, "open_leads"),
        ({"recent_assignments": np.zeros(4, dtype=np.int64)}, "recent_assignments"),
        ({"exclude": "A1"}, "exclude"),
    ]
    for change, field in cases:
        values: dict[str, object] = {"open_leads": zeros(table), "now": beijing(11)}
        values.update(change)
        with pytest.raises(InvalidArgument) as err:
            route(table, lead_for(), **values)  # type: ignore[arg-type]
        assert err.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"grade_urgency": (("H", 2.0), ("A", 1.0), ("B", 1.0))}, "grade_urgency"),
        (
            {"grade_urgency": (("H", 2.0), ("A", 1.0), ("B", 1.0), ("C", float("nan")))},
            "grade_urgency[C]",
        ),
        (
            {"first_contact_minutes": (("H", 5), ("A", 5), ("B", 5), ("C", 0))},
            "first_contact_minutes[C]",
        ),
        (
            {"first_contact_minutes": (("H", 5), ("A", 5), ("B", 5), ("C", -1))},
            "first_contact_minutes[C]",
        ),
        ({"load_weight": -1.0}, "load_weight"),
        ({"share_weight": float("nan")}, "share_weight"),
        ({"shift_end_buffer_minutes": 1440}, "shift_end_buffer_minutes"),
    ],
)
def test_a_bad_policy_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        RoutingPolicy(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_first_contact_sla_per_grade() -> None:
    table = pool_table()
    policy = RoutingPolicy(first_contact_minutes=(("H", 2), ("A", 5), ("B", 30), ("C", 120)))
    now = beijing(11)
    for grade, minutes in (("H", 2), ("B", 30), ("C", 120)):
        decision = route(table, lead_for(grade=grade), zeros(table), now, policy)
        assert decision.first_contact_due == now + timedelta(minutes=minutes)


def test_bad_frames_name_the_field() -> None:
    frame = advisors_frame(POOL)
    cases: list[tuple[pd.DataFrame, pd.DataFrame | None, str]] = [
        (
            frame.assign(shift_start=["25:00", *frame["shift_start"][1:]]),
            None,
            "advisors[0].shift_start",
        ),
        (frame.assign(shift_end=["9:00", *frame["shift_end"][1:]]), None, "advisors[0].shift_end"),
        (frame.drop(columns=["brand_ids"]), None, "advisors:brand_ids"),
        (frame.assign(store_id=["S9", *frame["store_id"][1:]]), None, "advisors:store_id"),
        (frame, pd.DataFrame({"brand_id": ["B1"]}), "advisors[1].brand_ids"),
        (pd.concat([frame, frame.iloc[:1]]), None, "advisor_ids"),
    ]
    for advisors, brands, field in cases:
        with pytest.raises(InvalidArgument) as err:
            RoutingTable.from_frames(advisors, STORES, brands)
        assert err.value.field == field


def test_a_broken_scorer_is_refused() -> None:
    table = pool_table()

    def wrong_shape(
        table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        return np.zeros(len(rows) + 1)

    def not_a_probability(
        table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        return np.full(len(rows), np.nan)

    for scorer in (wrong_shape, not_a_probability):
        with pytest.raises(FailedPrecondition) as err:
            route(table, lead_for(), zeros(table), beijing(11), scorer=scorer)
        assert err.value.field == "scorer"


# ------------------------------------------------------------------- Hypothesis property

BRANDS = ("B1", "B2", "B3")
SHIFTS = (
    ("09:00", "18:00"),
    ("12:00", "21:00"),
    ("22:00", "06:00"),
    ("00:00", "00:00"),
    ("20:30", "20:00"),
)


@st.composite
def pools(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, set[str]]:
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        brands = draw(st.lists(st.sampled_from(BRANDS), min_size=1, max_size=3, unique=True))
        start, end = draw(st.sampled_from(SHIFTS))
        leads = draw(st.integers(0, 200))
        rows.append(
            {
                "advisor_id": f"A{i:02d}",
                "store_id": draw(st.sampled_from(["S1", "S2", "S3"])),
                "level": draw(st.integers(1, 5)),
                "brand_ids": ";".join(brands),
                "shift_start": start,
                "shift_end": end,
                "max_open_leads": draw(st.integers(1, 4)),
                "leads_90d": leads,
                "conversions_90d": draw(st.integers(0, leads)),
            }
        )
    frame = pd.DataFrame(rows)
    load = np.array([draw(st.integers(0, cap)) for cap in frame["max_open_leads"]], dtype=np.int64)
    recent = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), dtype=np.int64)
    exclude = set(draw(st.lists(st.sampled_from(list(frame["advisor_id"])), max_size=3)))
    return frame, load, recent, exclude


def minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def brute_force_eligible(
    frame: pd.DataFrame, lead: LeadRequest, load: np.ndarray, minute: int, exclude: set[str]
) -> list[int]:
    region_of = dict(zip(STORES["store_id"], STORES["region_id"], strict=True))
    out = []
    for i, row in enumerate(frame.itertuples()):
        start, end = minutes(str(row.shift_start)), minutes(str(row.shift_end))
        if start < end:
            on = start <= minute < end
        elif start > end:
            on = minute >= start or minute < end
        else:
            on = True
        scoped = (
            row.store_id == lead.store_id
            if lead.store_id
            else region_of[row.store_id] == lead.region_id
        )
        certified = lead.brand_id in str(row.brand_ids).split(";")
        if (
            scoped
            and certified
            and on
            and load[i] < row.max_open_leads
            and row.advisor_id not in exclude
        ):
            out.append(i)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pool=pools(),
    store=st.sampled_from(["S1", "S2", "S3", ""]),
    brand=st.sampled_from(BRANDS),
    grade=st.sampled_from(["H", "A", "B", "C"]),
    minute=st.integers(0, 1439),
    use_recent=st.booleans(),
)
def test_routing_matches_brute_force_over_random_pools(
    pool: tuple[pd.DataFrame, np.ndarray, np.ndarray, set[str]],
    store: str,
    brand: str,
    grade: str,
    minute: int,
    use_recent: bool,
) -> None:
    frame, load, recent, exclude = pool
    table = RoutingTable.from_frames(frame, STORES, pd.DataFrame({"brand_id": BRANDS}))
    now = beijing(minute // 60, minute % 60)
    lead = lead_for(
        store, region="R1" if not store else "", grade=grade, brand_id=brand, created_at=now
    )
    eligible = brute_force_eligible(frame, lead, load, minute, exclude)
    kwargs = {"exclude": exclude, "recent_assignments": recent if use_recent else None}
    if not eligible:
        with pytest.raises(FailedPrecondition):
            route(table, lead, load, now, **kwargs)  # type: ignore[arg-type]
        return
    decision = route(table, lead, load, now, **kwargs)  # type: ignore[arg-type]
    chosen = table.advisor_index[decision.advisor_id]
    assert chosen in eligible
    assert decision.candidates_considered == len(eligible)
    # the value formula of the module docstring, computed independently
    rates = table.conversion_rate[eligible]
    p = PriorScorer().predict_proba(
        pd.DataFrame({"grade": grade, "channel": "WEB", "advisor_conversion_rate": rates})
    )
    policy = RoutingPolicy()
    cap = frame["max_open_leads"].to_numpy()[eligible].astype(float)
    penalty = policy.load_weight * load[eligible] / cap
    starved = np.zeros(len(eligible), dtype=bool)
    if use_recent and recent[eligible].sum() > 0:
        r = recent[eligible].astype(float)
        fair = r.sum() * cap / cap.sum()
        penalty = penalty + policy.share_weight * np.log((r + 1) / (fair + 1))
        starved = policy.share_floor * fair >= r + 1
    value = policy.urgency(grade) * p - p.max() * penalty
    best_value = value[starved].max() if starved.any() else value.max()
    assert decision.value == pytest.approx(best_value, abs=1e-12)
    assert decision.score == pytest.approx(p[eligible.index(chosen)])


# --------------------------------------------------------------------------- demo group


@pytest.fixture(scope="module")
def demo() -> DemoGroup:
    return generate(DemoSpec(stores=6, trims=16, seed=0))


def demo_request(row: pd.Series, **kw: object) -> LeadRequest:
    values: dict[str, object] = {
        "lead_id": row["lead_id"],
        "created_at": datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")),
        "channel": row["channel"],
        "brand_id": row["brand_id"],
        "grade": row["grade"],
        "store_id": row["store_id"],
        "model": row["model"],
        "phone": row["phone"],
        "wechat_id": row["wechat_id"],
        "tags": tuple(t for t in row["tags"].split(";") if t),
    }
    values.update(kw)
    return LeadRequest(**values)  # type: ignore[arg-type]


def test_candidate_features_match_the_scoring_features(demo: DemoGroup) -> None:
    table = RoutingTable.from_frames(demo.advisors, demo.stores, demo.brands)
    row = demo.leads.iloc[40]
    lead = demo_request(row)
    rows = table.rows_of_store[lead.store_id]
    load = np.arange(len(rows), dtype=np.int64)
    ours = candidate_features(table, lead, rows, load)
    pairs = pd.DataFrame([row] * len(rows)).reset_index(drop=True)
    pairs["advisor_id"] = [table.advisor_ids[i] for i in rows]
    theirs = demo_lead_features(
        pairs,
        demo.advisors,
        demo.stores,
        advisor_load=dict(zip(pairs["advisor_id"], load, strict=True)),
    )
    pd.testing.assert_frame_equal(ours, theirs)
    prior = PriorScorer()
    np.testing.assert_allclose(
        PriorCandidateScorer(prior)(table, lead, rows, load), prior.predict_proba(ours)
    )


def test_a_model_scorer_drives_the_choice(demo: DemoGroup) -> None:
    class ByLevel:
        """A stand-in model: the senior advisor converts best."""

        def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
            return frame["advisor_level"].to_numpy(dtype=np.float64) / 10.0

    table = RoutingTable.from_frames(demo.advisors, demo.stores, demo.brands)
    lead = demo_request(demo.leads.iloc[0], created_at=beijing(13))
    greedy = RoutingPolicy(load_weight=0.0, share_weight=0.0)
    decision = route(
        table, lead, zeros(table), beijing(13), greedy, ModelCandidateScorer(ByLevel())
    )
    found = eligible_advisors(table, lead, zeros(table), beijing(13), greedy)
    assert decision.score == pytest.approx(table.level[found.candidates].max() / 10.0)


def test_the_demo_group_routes_its_leads(demo: DemoGroup) -> None:
    table = RoutingTable.from_frames(demo.advisors, demo.stores, demo.brands)
    advisors = demo.advisors.set_index("advisor_id")
    load, recent = zeros(table), zeros(table)
    routed = failed = 0
    for _, row in demo.leads.iloc[:600].iterrows():
        lead = demo_request(row)
        try:
            decision = route(table, lead, load, lead.created_at, recent_assignments=recent)
        except FailedPrecondition as err:
            assert err.hint.startswith(
                f"no advisor of {lead.store_id} certified for {lead.brand_id}"
            )
            failed += 1
            continue
        chosen = advisors.loc[decision.advisor_id]
        local = (lead.created_at + BEIJING).strftime("%H:%M")
        assert chosen["store_id"] == lead.store_id
        assert lead.brand_id in chosen["brand_ids"].split(";")
        assert chosen["shift_start"] <= local < chosen["shift_end"]  # demo shifts are daytime
        row_at = table.advisor_index[decision.advisor_id]
        assert load[row_at] < chosen["max_open_leads"]
        load[row_at] += 1
        recent[row_at] += 1
        routed += 1
    assert routed > 300 and failed > 0  # evening leads after 21:00 find nobody on shift
    assert (load <= table.max_open_leads).all()


def test_a_returning_demo_customer_goes_back_to_their_advisor(demo: DemoGroup) -> None:
    table = RoutingTable.from_frames(demo.advisors, demo.stores, demo.brands)
    index = CustomerIndex.from_leads(demo.leads)
    advisors = demo.advisors.set_index("advisor_id")
    sticky = 0
    for _, row in demo.leads.iloc[:200].iterrows():
        digits = normalise_phone(row["phone"])
        rewritten = f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
        match = index.match(rewritten)
        assert match is not None and match.matched_by is MatchKind.PHONE
        if not match.advisor_id:
            continue  # a customer none of whose leads was assigned
        owner = advisors.loc[match.advisor_id]
        start = int(str(owner["shift_start"])[:2]) + 1  # an hour into the owner's shift
        lead = demo_request(
            row, lead_id=f"N{row['lead_id']}", phone=rewritten, created_at=beijing(start, day=3)
        )
        if owner["store_id"] != lead.store_id or lead.brand_id not in owner["brand_ids"].split(";"):
            continue  # the customer's latest lead was for another store or brand
        decision = route(table, lead, zeros(table), lead.created_at, customer_owner=match)
        assert decision.advisor_id == match.advisor_id
        assert decision.reason == "sticky owner (same phone)"
        sticky += 1
    assert sticky > 150


def test_an_advisor_owing_first_contacts_is_passed_over_for_an_equal_colleague() -> None:
    """Two advisors alike in every way: the one who still owes a first contact loses the
    new lead, and the reason says so; without the counts the table order decides."""
    table = RoutingTable(
        advisor_ids=("A1", "A2"),
        store_ids=("S1",),
        store_regions=("R1",),
        brand_ids=("B1",),
        advisor_store=np.array([0, 0]),
        certified=np.array([[True], [True]]),
        level=np.array([3, 3]),
        shift_start=np.array([0, 0]),
        shift_minutes=np.array([1440, 1440]),
        max_open_leads=np.array([10, 10]),
        conversion_rate=np.array([0.08, 0.08]),
    )
    lead = LeadRequest(
        lead_id="L1",
        created_at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
        channel="WEB",
        brand_id="B1",
        grade="H",
        store_id="S1",
    )
    now = lead.created_at
    plain = route(table, lead, np.array([1, 1]), now)
    assert plain.advisor_id == "A1"
    owed = route(table, lead, np.array([1, 1]), now, pending_first_contacts=np.array([1, 0]))
    assert owed.advisor_id == "A2"
    assert owed.basis is RouteBasis.BEST_CONVERSION  # equal scores: no one was passed over
    with pytest.raises(InvalidArgument, match="pending_first_contacts"):
        route(table, lead, np.array([1, 1]), now, pending_first_contacts=np.array([1]))
