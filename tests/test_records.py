"""Record validation at the boundary: errors name the field and say how to fix it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dealer_group import records as r
from turnwise.errors import InvalidArgument


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: r.Region("", "East"), "region_id"),
        (lambda: r.Region("R 1", "East"), "region_id"),
        (
            lambda: r.Store(
                "S1", "x", "R1", "Hangzhou", r.StoreType.FOUR_S, 95.0, 120.0, 10, 1, ("B1",)
            ),
            "latitude",
        ),
        (
            lambda: r.Store(
                "S1", "x", "R1", "Hangzhou", r.StoreType.FOUR_S, 30.0, 120.0, -1, 1, ("B1",)
            ),
            "lot_capacity",
        ),
        (
            lambda: r.Store("S1", "x", "R1", "Hangzhou", r.StoreType.FOUR_S, 30.0, 120.0, 1, 1, ()),
            "authorised_brand_ids",
        ),
        (
            lambda: r.Vehicle(
                "LSVAB12345678901I",
                "S1",
                "T1",
                "white",
                date(2026, 1, 1),
                r.VehicleStatus.IN_STOCK,
                1,
            ),
            "vin",
        ),
        (lambda: r.WeeklySales(date(2026, 11, 3), "S1", "T1", 1), "week_start"),
        (lambda: r.WeeklySales(date(2026, 11, 2), "S1", "T1", -1), "units"),
        (lambda: r.Advisor("A1", "S1", "Li", 6, ("B1",), "09:00", "18:00", 5), "level"),
        (lambda: r.Advisor("A1", "S1", "Li", 3, ("B1",), "9am", "18:00", 5), "shift_start"),
        (
            lambda: r.Advisor("A1", "S1", "Li", 3, ("B1",), "09:00", "18:00", 5, 10, 11),
            "conversions_90d",
        ),
        (lambda: r.BrandTarget("B1", "2026-13", 1, True), "month"),
        (lambda: r.Bundle("T1", "T1", 3), "slow_trim_id"),
    ],
)
def test_bad_records_name_their_field(make, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as err:
        make()
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_lead_needs_a_timezone_and_a_contact() -> None:
    base = dict(
        lead_id="L1",
        channel=r.LeadChannel.WEB,
        store_id="S1",
        region_id="",
        brand_id="B1",
        model="",
        grade=r.LeadGrade.H,
        wechat_id="",
        tags=(),
    )
    with pytest.raises(InvalidArgument, match="created_at"):
        r.Lead(created_at=datetime(2026, 11, 2, 9), phone="13812345678", **base)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="phone"):
        r.Lead(created_at=datetime(2026, 11, 2, 9, tzinfo=UTC), phone="", **base)  # type: ignore[arg-type]


def test_duplicate_schedule_line_is_named() -> None:
    line = r.ScheduleLine(date(2026, 11, 2), "T1", 3)
    with pytest.raises(InvalidArgument) as err:
        r.ProductionSchedule("OEM", 1, (line, line))
    assert err.value.field == "lines[1]"


def test_valid_records_build() -> None:
    trim = r.Trim("T1", "B1", "Camry", "2.0G", r.Powertrain.HEV, 200_000, 190_000, 40.0)
    assert trim.margin_cny == 10_000
