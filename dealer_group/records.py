"""The dealer network's records: what DMS systems and OEMs push into Turnwise.

Frozen dataclasses, validated when built (``__post_init__``), so that a bad record is
rejected at the boundary with an ``InvalidArgument`` naming its field. The serving layer
prefixes the field with the record's position in the request (``stores[3].latitude``).
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import date, datetime

from turnwise.errors import InvalidArgument

__all__ = [
    "Advisor",
    "Brand",
    "BrandTarget",
    "Bundle",
    "Lead",
    "LeadChannel",
    "LeadGrade",
    "Powertrain",
    "ProductionSchedule",
    "Region",
    "ScheduleLine",
    "Store",
    "StoreType",
    "Trim",
    "Vehicle",
    "VehicleStatus",
    "WeeklySales",
]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class StoreType(enum.Enum):
    FOUR_S = "4S"
    SHOWROOM = "SHOWROOM"
    OUTLET = "OUTLET"


class Powertrain(enum.Enum):
    ICE = "ICE"
    HEV = "HEV"
    PHEV = "PHEV"
    BEV = "BEV"


class VehicleStatus(enum.Enum):
    IN_STOCK = "IN_STOCK"
    IN_TRANSIT = "IN_TRANSIT"
    SOLD = "SOLD"


class LeadChannel(enum.Enum):
    WEB = "WEB"
    DOUYIN = "DOUYIN"
    AUTOHOME = "AUTOHOME"
    DONGCHEDI = "DONGCHEDI"
    WALK_IN = "WALK_IN"
    PHONE = "PHONE"


class LeadGrade(enum.Enum):
    H = "H"
    A = "A"
    B = "B"
    C = "C"


def _require_id(field: str, value: str) -> None:
    if not value:
        raise InvalidArgument(field, "is required")
    if not _ID.match(value):
        raise InvalidArgument(
            field,
            f"{value!r} is not a valid identifier: use 1-64 letters, digits, '_', '-', '.', ':'",
        )


def _require_text(field: str, value: str, max_len: int = 200) -> None:
    if not value.strip():
        raise InvalidArgument(field, "is required and must not be blank")
    if len(value) > max_len:
        raise InvalidArgument(field, f"is {len(value)} characters; at most {max_len} allowed")


def _require_range(field: str, value: float, lo: float, hi: float = math.inf) -> None:
    if not math.isfinite(value) or not lo <= value <= hi:
        bounds = f">= {lo}" if hi == math.inf else f"within [{lo}, {hi}]"
        raise InvalidArgument(field, f"must be {bounds}, got {value}")


def _require_monday(field: str, value: date) -> None:
    if value.weekday() != 0:
        raise InvalidArgument(field, f"{value.isoformat()} is a {value:%A}; weeks start on Monday")


@dataclass(frozen=True)
class Region:
    region_id: str
    name: str

    def __post_init__(self) -> None:
        _require_id("region_id", self.region_id)
        _require_text("name", self.name)


@dataclass(frozen=True)
class Brand:
    brand_id: str
    name: str
    is_nev: bool = False

    def __post_init__(self) -> None:
        _require_id("brand_id", self.brand_id)
        _require_text("name", self.name)


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    region_id: str
    city: str
    store_type: StoreType
    latitude: float
    longitude: float
    lot_capacity: int
    credit_limit_cny: int
    authorised_brand_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        _require_id("store_id", self.store_id)
        _require_text("name", self.name)
        _require_id("region_id", self.region_id)
        _require_text("city", self.city)
        _require_range("latitude", self.latitude, -90.0, 90.0)
        _require_range("longitude", self.longitude, -180.0, 180.0)
        _require_range("lot_capacity", self.lot_capacity, 0)
        _require_range("credit_limit_cny", self.credit_limit_cny, 0)
        if not self.authorised_brand_ids:
            raise InvalidArgument("authorised_brand_ids", "a store must sell at least one brand")
        for i, brand_id in enumerate(self.authorised_brand_ids):
            _require_id(f"authorised_brand_ids[{i}]", brand_id)
        if len(set(self.authorised_brand_ids)) != len(self.authorised_brand_ids):
            raise InvalidArgument("authorised_brand_ids", "lists a brand twice")


@dataclass(frozen=True)
class Trim:
    trim_id: str
    brand_id: str
    model: str
    trim: str
    powertrain: Powertrain
    msrp_cny: int
    cost_cny: int
    holding_cost_cny_per_day: float

    def __post_init__(self) -> None:
        _require_id("trim_id", self.trim_id)
        _require_id("brand_id", self.brand_id)
        _require_text("model", self.model)
        _require_text("trim", self.trim)
        _require_range("msrp_cny", self.msrp_cny, 1)
        _require_range("cost_cny", self.cost_cny, 1)
        _require_range("holding_cost_cny_per_day", self.holding_cost_cny_per_day, 0)

    @property
    def margin_cny(self) -> int:
        """Gross margin per car at list price, CNY (may be negative on a loss leader)."""
        return self.msrp_cny - self.cost_cny


@dataclass(frozen=True)
class Vehicle:
    vin: str
    store_id: str
    trim_id: str
    colour: str
    arrival_date: date
    status: VehicleStatus
    cost_cny: int

    def __post_init__(self) -> None:
        if not _VIN.match(self.vin):
            raise InvalidArgument(
                "vin", f"{self.vin!r} is not a VIN: 17 characters of A-Z and 0-9 without I, O, Q"
            )
        _require_id("store_id", self.store_id)
        _require_id("trim_id", self.trim_id)
        _require_text("colour", self.colour, 40)
        _require_range("cost_cny", self.cost_cny, 1)


@dataclass(frozen=True)
class WeeklySales:
    week_start: date
    store_id: str
    trim_id: str
    units: int

    def __post_init__(self) -> None:
        _require_monday("week_start", self.week_start)
        _require_id("store_id", self.store_id)
        _require_id("trim_id", self.trim_id)
        _require_range("units", self.units, 0)


@dataclass(frozen=True)
class Advisor:
    advisor_id: str
    store_id: str
    name: str
    level: int
    brand_ids: tuple[str, ...]
    shift_start: str
    shift_end: str
    max_open_leads: int
    leads_90d: int = 0
    conversions_90d: int = 0

    def __post_init__(self) -> None:
        _require_id("advisor_id", self.advisor_id)
        _require_id("store_id", self.store_id)
        _require_text("name", self.name)
        _require_range("level", self.level, 1, 5)
        if not self.brand_ids:
            raise InvalidArgument(
                "brand_ids", "an advisor must be certified for at least one brand"
            )
        for i, brand_id in enumerate(self.brand_ids):
            _require_id(f"brand_ids[{i}]", brand_id)
        for name in ("shift_start", "shift_end"):
            value = getattr(self, name)
            if not _HHMM.match(value):
                raise InvalidArgument(name, f"{value!r} is not a local time 'HH:MM'")
        _require_range("max_open_leads", self.max_open_leads, 1)
        _require_range("leads_90d", self.leads_90d, 0)
        _require_range("conversions_90d", self.conversions_90d, 0, self.leads_90d)


@dataclass(frozen=True)
class Lead:
    lead_id: str
    created_at: datetime
    channel: LeadChannel
    store_id: str
    region_id: str
    brand_id: str
    model: str
    grade: LeadGrade
    phone: str
    wechat_id: str
    tags: tuple[str, ...]
    advisor_id: str = ""
    converted: bool | None = None

    def __post_init__(self) -> None:
        _require_id("lead_id", self.lead_id)
        if self.created_at.tzinfo is None:
            raise InvalidArgument("created_at", "must carry a time zone (UTC)")
        if not self.store_id and not self.region_id:
            raise InvalidArgument("store_id", "set store_id or region_id so the lead can be routed")
        if self.store_id:
            _require_id("store_id", self.store_id)
        if self.region_id:
            _require_id("region_id", self.region_id)
        _require_id("brand_id", self.brand_id)
        if not self.phone and not self.wechat_id:
            raise InvalidArgument(
                "phone", "set phone or wechat_id so the customer can be contacted"
            )
        if self.advisor_id:
            _require_id("advisor_id", self.advisor_id)


@dataclass(frozen=True)
class ScheduleLine:
    week_start: date
    trim_id: str
    max_units: int

    def __post_init__(self) -> None:
        _require_monday("week_start", self.week_start)
        _require_id("trim_id", self.trim_id)
        _require_range("max_units", self.max_units, 0)


@dataclass(frozen=True)
class BrandTarget:
    brand_id: str
    month: str
    target_units: int
    is_hard: bool

    def __post_init__(self) -> None:
        _require_id("brand_id", self.brand_id)
        if not _MONTH.match(self.month):
            raise InvalidArgument("month", f"{self.month!r} is not a month 'YYYY-MM'")
        _require_range("target_units", self.target_units, 0)


@dataclass(frozen=True)
class Bundle:
    hot_trim_id: str
    slow_trim_id: str
    hot_units_per_slow: int

    def __post_init__(self) -> None:
        _require_id("hot_trim_id", self.hot_trim_id)
        _require_id("slow_trim_id", self.slow_trim_id)
        if self.hot_trim_id == self.slow_trim_id:
            raise InvalidArgument("slow_trim_id", "must differ from hot_trim_id")
        _require_range("hot_units_per_slow", self.hot_units_per_slow, 1)


@dataclass(frozen=True)
class ProductionSchedule:
    """One version of an OEM's production schedule / allocation offer."""

    oem: str
    version: int
    lines: tuple[ScheduleLine, ...]
    brand_targets: tuple[BrandTarget, ...] = ()
    bundles: tuple[Bundle, ...] = ()

    def __post_init__(self) -> None:
        _require_text("oem", self.oem, 64)
        _require_range("schedule_version", self.version, 1)
        keys = [(line.week_start, line.trim_id) for line in self.lines]
        if len(set(keys)) != len(keys):
            seen: set[tuple[date, str]] = set()
            for i, key in enumerate(keys):
                if key in seen:
                    raise InvalidArgument(
                        f"lines[{i}]",
                        f"duplicate (week_start, trim_id) = ({key[0]}, {key[1]}) in the schedule",
                    )
                seen.add(key)
