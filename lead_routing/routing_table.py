"""The routing table and eligibility: which advisors may take a lead at a given moment.

Shared by real-time routing (``lead_routing.routing``, which re-exports these names) and
batch routing (``lead_routing.batch``).

``RoutingTable.from_frames(advisors, stores, brands)`` turns the ``advisors`` and ``stores``
tables into per-advisor arrays once (home store and region, a bool matrix of brand
certification, level, shift start and length in minutes, ``max_open_leads``, the smoothed
90-day conversion rate) and indexes the advisors of each store and region, so that
eligibility only builds masks over the lead's store or region, in numpy. ``LeadRequest`` is
the lead to route, validated when built.

**Eligible advisors**, all of:

- in scope: of the lead's store when ``store_id`` is set, else of any store of its
  ``region_id`` (a lead for a store is never sent to another store of the region);
- certified for the lead's brand;
- on shift at ``now`` in the group's local time (``timezone``, Asia/Shanghai by default:
  the whole group is in mainland China, which keeps one time zone all year). ``now`` is the
  routing moment, for a live lead its arrival; a lead re-routed from the public pool goes to
  someone on shift when it is re-routed. A shift "HH:MM"-"HH:MM" starts at its start minute
  and ends before its end minute; an end before the start crosses midnight
  (22:00-06:00), and start == end is a 24-hour shift. ``RoutingPolicy.shift_end_buffer_minutes``
  treats the last minutes of a shift as off shift;
- with spare capacity: ``open_leads < max_open_leads`` (``open_leads`` is the caller's
  current count per advisor, aligned with ``table.advisor_ids``);
- not in ``exclude`` (the advisors who already missed this lead).

``eligible_advisors`` returns the eligible rows and the count after each step;
``Eligibility.diagnosis`` words the counts when nobody is left, e.g. "no advisor of S003
certified for B07 is on shift at 22:40 with spare capacity: 5 in S003, 3 certified, 0 on
shift, 0 with spare capacity". ``why_not_eligible`` names the first step one advisor fails
(why a sticky owner is passed over), and ``advisor_counts`` checks the per-advisor counts
callers pass in (open leads, recent assignments).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.records import LeadChannel, LeadGrade
from lead_routing.features import DEMO_TIMEZONE, smoothed_rate
from turnwise.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from lead_routing.routing import RoutingPolicy

__all__ = [
    "CHANNELS",
    "GRADES",
    "Eligibility",
    "EligibilitySteps",
    "LeadRequest",
    "RoutingTable",
    "advisor_counts",
    "eligibility_steps",
    "eligible_advisors",
    "why_not_eligible",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

GRADES: tuple[str, ...] = tuple(g.value for g in LeadGrade)
CHANNELS: tuple[str, ...] = tuple(c.value for c in LeadChannel)
_DAY = 1440
_ARRAY_FIELDS: tuple[tuple[str, type[np.generic]], ...] = (
    ("advisor_store", np.int64),
    ("certified", np.bool_),
    ("level", np.int64),
    ("shift_start", np.int64),
    ("shift_minutes", np.int64),
    ("max_open_leads", np.int64),
    ("conversion_rate", np.float64),
)
_ADVISOR_COLUMNS = (
    "advisor_id",
    "store_id",
    "level",
    "brand_ids",
    "shift_start",
    "shift_end",
    "max_open_leads",
    "leads_90d",
    "conversions_90d",
)


@dataclass(frozen=True)
class LeadRequest:
    """One lead to route. Validated when built; a bad value raises ``InvalidArgument``
    naming the field."""

    lead_id: str
    created_at: datetime
    """When the lead arrived; must carry a time zone."""
    channel: str
    """One of ``CHANNELS``."""
    brand_id: str
    grade: str
    """One of ``GRADES`` (H, A, B, C)."""
    store_id: str = ""
    """The store asked for; empty: any store of ``region_id``."""
    region_id: str = ""
    model: str = ""
    phone: str = ""
    wechat_id: str = ""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.lead_id, str) or not self.lead_id:
            raise InvalidArgument("lead_id", "is required")
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise InvalidArgument(
                "created_at", f"must be a datetime with a time zone, got {self.created_at!r}"
            )
        if self.channel not in CHANNELS:
            raise InvalidArgument("channel", f"must be one of {CHANNELS}, got {self.channel!r}")
        if not isinstance(self.brand_id, str) or not self.brand_id:
            raise InvalidArgument("brand_id", "is required: the brand the lead asks about")
        if self.grade not in GRADES:
            raise InvalidArgument("grade", f"must be one of {GRADES}, got {self.grade!r}")
        if not self.store_id and not self.region_id:
            raise InvalidArgument("store_id", "set store_id or region_id so the lead can be routed")
        tags = tuple(self.tags)
        if not all(isinstance(t, str) for t in tags):
            raise InvalidArgument("tags", "must be strings")
        object.__setattr__(self, "tags", tags)


@dataclass(frozen=True, eq=False)
class RoutingTable:
    """Per-advisor arrays, aligned with ``advisor_ids`` (build with ``from_frames``)."""

    advisor_ids: tuple[str, ...]
    store_ids: tuple[str, ...]
    store_regions: tuple[str, ...]
    """The region of each store of ``store_ids``."""
    brand_ids: tuple[str, ...]
    advisor_store: IntArray
    """Index into ``store_ids`` of each advisor's home store."""
    certified: BoolArray
    """(advisors, brands): certified for ``brand_ids[j]``."""
    level: IntArray
    shift_start: IntArray
    """Minutes after local midnight, 0..1439."""
    shift_minutes: IntArray
    """Length of the shift in minutes, 1..1440."""
    max_open_leads: IntArray
    conversion_rate: FloatArray
    """Smoothed 90-day conversion rate (``lead_routing.features.smoothed_rate``); NaN
    when the group has no history."""
    timezone: str = DEMO_TIMEZONE
    advisor_index: Mapping[str, int] = field(init=False, repr=False)
    brand_index: Mapping[str, int] = field(init=False, repr=False)
    region_of_store: Mapping[str, str] = field(init=False, repr=False)
    rows_of_store: Mapping[str, IntArray] = field(init=False, repr=False)
    rows_of_region: Mapping[str, IntArray] = field(init=False, repr=False)
    zone: ZoneInfo = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.advisor_ids)
        for name, dtype in _ARRAY_FIELDS:  # private read-only copies, one dtype each
            array = np.array(getattr(self, name), dtype=dtype)
            if name != "certified" and array.shape != (n,):
                raise InvalidArgument(
                    name, f"must have one value per advisor ({n}), got shape {array.shape}"
                )
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        if self.certified.shape != (n, len(self.brand_ids)):
            raise InvalidArgument("certified", "must have shape (advisors, brands)")
        if len(self.store_regions) != len(self.store_ids):
            raise InvalidArgument("store_regions", "must give one region per store")
        for name, ids in (
            ("advisor_ids", self.advisor_ids),
            ("store_ids", self.store_ids),
            ("brand_ids", self.brand_ids),
        ):
            if len(set(ids)) != len(ids):
                raise InvalidArgument(name, "has duplicate ids")
        if n and not ((self.advisor_store >= 0) & (self.advisor_store < len(self.store_ids))).all():
            raise InvalidArgument("advisor_store", "must index store_ids")
        if ((self.shift_minutes < 1) | (self.shift_minutes > _DAY)).any():
            raise InvalidArgument("shift_minutes", f"must be within [1, {_DAY}]")
        if (self.max_open_leads < 0).any():
            raise InvalidArgument("max_open_leads", "must be >= 0")
        region = np.array(self.store_regions, dtype=object)[self.advisor_store]
        stores = {s: np.flatnonzero(self.advisor_store == i) for i, s in enumerate(self.store_ids)}
        regions = {r: np.flatnonzero(region == r) for r in dict.fromkeys(self.store_regions)}
        derived: dict[str, object] = {
            "advisor_index": {a: i for i, a in enumerate(self.advisor_ids)},
            "brand_index": {b: j for j, b in enumerate(self.brand_ids)},
            "region_of_store": dict(zip(self.store_ids, self.store_regions, strict=True)),
            "rows_of_store": {s: rows.astype(np.int64) for s, rows in stores.items()},
            "rows_of_region": {r: rows.astype(np.int64) for r, rows in regions.items()},
            "zone": ZoneInfo(self.timezone),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def n_advisors(self) -> int:
        return len(self.advisor_ids)

    @classmethod
    def from_frames(
        cls,
        advisors: pd.DataFrame,
        stores: pd.DataFrame,
        brands: pd.DataFrame | None = None,
        *,
        timezone: str = DEMO_TIMEZONE,
        rate_strength: float = 30.0,
    ) -> RoutingTable:
        """The table of the ``advisors`` and ``stores`` tables (``dealer_group.schema``);
        ``brands`` (column ``brand_id``), when given, is the brand universe, else the
        brands some advisor is certified for. The conversion rate is conversions_90d /
        leads_90d shrunk towards the group's rate by ``rate_strength`` pseudo-leads, as
        in ``lead_routing.features``."""
        for column in _ADVISOR_COLUMNS:
            if column not in advisors.columns:
                raise InvalidArgument(f"advisors:{column}", "column is missing")
        for column in ("store_id", "region_id"):
            if column not in stores.columns:
                raise InvalidArgument(f"stores:{column}", "column is missing")
        store_ids = tuple(stores["store_id"].astype(str))
        store_at = {s: i for i, s in enumerate(store_ids)}
        home = advisors["store_id"].astype(str).map(store_at)
        if home.isna().any():
            first = advisors["store_id"].iloc[int(home.isna().to_numpy().argmax())]
            raise InvalidArgument("advisors:store_id", f"{first!r} is not in the stores table")
        certified_lists = [
            [b for b in str(text).split(";") if b] for text in advisors["brand_ids"].fillna("")
        ]
        seen = list(dict.fromkeys(b for bs in certified_lists for b in bs))
        brand_ids = tuple(brands["brand_id"].astype(str)) if brands is not None else tuple(seen)
        brand_at = {b: j for j, b in enumerate(brand_ids)}
        certified = np.zeros((len(advisors), len(brand_ids)), dtype=np.bool_)
        for i, bs in enumerate(certified_lists):
            for b in bs:
                if b not in brand_at:
                    raise InvalidArgument(
                        f"advisors[{i}].brand_ids", f"{b!r} is not in the brands table"
                    )
                certified[i, brand_at[b]] = True
        start = _minutes(advisors["shift_start"], "shift_start")
        end = _minutes(advisors["shift_end"], "shift_end")
        trials = advisors["leads_90d"].to_numpy(dtype=np.float64)
        successes = advisors["conversions_90d"].to_numpy(dtype=np.float64)
        rate = np.full(len(advisors), np.nan)
        if trials.sum() > 0:
            rate = smoothed_rate(successes, trials, successes.sum() / trials.sum(), rate_strength)
        return cls(
            advisor_ids=tuple(advisors["advisor_id"].astype(str)),
            store_ids=store_ids,
            store_regions=tuple(stores["region_id"].astype(str)),
            brand_ids=brand_ids,
            advisor_store=np.asarray(home.to_numpy(), dtype=np.int64),
            certified=certified,
            level=advisors["level"].to_numpy(dtype=np.int64),
            shift_start=start,
            shift_minutes=np.where(end == start, _DAY, (end - start) % _DAY).astype(np.int64),
            max_open_leads=advisors["max_open_leads"].to_numpy(dtype=np.int64),
            conversion_rate=np.asarray(rate, dtype=np.float64),
            timezone=timezone,
        )

    def local_minute(self, at: datetime) -> int:
        """Minutes after local midnight of ``at`` in the table's time zone."""
        local = at.astimezone(self.zone)
        return local.hour * 60 + local.minute


def _minutes(values: pd.Series, column: str) -> IntArray:
    text = values.astype(str)
    parts = text.str.extract(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
    bad = parts[0].isna().to_numpy()
    if bad.any():
        first = int(bad.argmax())
        raise InvalidArgument(
            f"advisors[{first}].{column}", f"{text.iloc[first]!r} is not a local time 'HH:MM'"
        )
    minutes = parts[0].astype(np.int64) * 60 + parts[1].astype(np.int64)
    return np.asarray(minutes.to_numpy(), dtype=np.int64)


@dataclass(frozen=True)
class Eligibility:
    """The eligible advisors of a lead (rows of the table) and how many passed each step
    (every count includes the steps before it)."""

    candidates: IntArray
    scope: str
    """The lead's store id, or "region <id>"."""
    local_time: str
    in_scope: int
    certified: int
    on_shift: int
    spare_capacity: int
    not_excluded: int

    def diagnosis(self, brand_id: str, excluding: bool) -> str:
        steps = [
            f"{self.in_scope} in {self.scope}",
            f"{self.certified} certified",
            f"{self.on_shift} on shift",
            f"{self.spare_capacity} with spare capacity",
        ]
        if excluding:
            steps.append(f"{self.not_excluded} not excluded")
        tail = " and not excluded" if excluding else ""
        return (
            f"no advisor of {self.scope} certified for {brand_id} is on shift at "
            f"{self.local_time} with spare capacity{tail}: {', '.join(steps)}; route the lead "
            "later or put it in the public pool"
        )


def eligible_advisors(
    table: RoutingTable,
    lead: LeadRequest,
    open_leads: IntArray,
    now: datetime,
    policy: RoutingPolicy,
    exclude: Collection[str] = frozenset(),
) -> Eligibility:
    """The advisors ``lead`` may go to at ``now`` (see the module docstring)."""
    steps = eligibility_steps(table, lead, open_leads, table.local_minute(now), policy, exclude)
    return steps.eligibility()


@dataclass(frozen=True)
class EligibilitySteps:
    """The masks of the eligibility steps over the lead's scope, each including the ones
    before it (the counts are only taken when needed: a diagnosis or ``Eligibility``)."""

    rows: IntArray
    scope: str
    minute: int
    certified: BoolArray
    on_shift: BoolArray
    spare: BoolArray
    allowed: BoolArray

    def eligibility(self) -> Eligibility:
        return Eligibility(
            candidates=self.rows[self.allowed],
            scope=self.scope,
            local_time=f"{self.minute // 60:02d}:{self.minute % 60:02d}",
            in_scope=len(self.rows),
            certified=int(self.certified.sum()),
            on_shift=int(self.on_shift.sum()),
            spare_capacity=int(self.spare.sum()),
            not_excluded=int(self.allowed.sum()),
        )


def eligibility_steps(
    table: RoutingTable,
    lead: LeadRequest,
    open_leads: IntArray,
    minute: int,
    policy: RoutingPolicy,
    exclude: Collection[str],
) -> EligibilitySteps:
    """The eligibility masks of ``lead`` at local minute ``minute`` (``table.local_minute``
    of the routing moment), without counting them: the fast path of ``route``."""
    rows, scope = _scope_rows(table, lead)
    brand = table.brand_index.get(lead.brand_id)
    if brand is None:
        raise NotFound("brand_id", f"{lead.brand_id!r} is not a brand of the routing table")
    certified = table.certified[rows, brand]
    since_start = (minute - table.shift_start[rows]) % _DAY
    on_shift = certified & (
        since_start < table.shift_minutes[rows] - policy.shift_end_buffer_minutes
    )
    spare = on_shift & (open_leads[rows] < table.max_open_leads[rows])
    allowed = spare
    if exclude:
        allowed = spare.copy()
        for advisor in exclude:
            row = table.advisor_index.get(advisor)
            if row is not None:
                allowed[rows == row] = False
    return EligibilitySteps(rows, scope, minute, certified, on_shift, spare, allowed)


def _scope_rows(table: RoutingTable, lead: LeadRequest) -> tuple[IntArray, str]:
    if lead.store_id:
        region = table.region_of_store.get(lead.store_id)
        if region is None:
            raise NotFound("store_id", f"{lead.store_id!r} is not a store of the routing table")
        if lead.region_id and lead.region_id != region:
            raise InvalidArgument(
                "region_id", f"store {lead.store_id} is in {region}, not {lead.region_id}"
            )
        return table.rows_of_store[lead.store_id], lead.store_id
    rows = table.rows_of_region.get(lead.region_id)
    if rows is None:
        raise NotFound("region_id", f"{lead.region_id!r} is not a region of the routing table")
    return rows, f"region {lead.region_id}"


def advisor_counts(name: str, values: npt.ArrayLike, n: int) -> IntArray:
    """``values`` as one int64 count >= 0 per advisor of a table of ``n`` advisors;
    ``InvalidArgument`` naming ``name`` otherwise."""
    array = np.asarray(values)
    if array.shape != (n,):
        raise InvalidArgument(name, f"must hold one count per advisor ({n}), got {array.shape}")
    if array.dtype.kind not in "iu":
        raise InvalidArgument(name, f"must hold integers, got dtype {array.dtype}")
    if n and array.min() < 0:
        raise InvalidArgument(name, "must be >= 0")
    return array.astype(np.int64, copy=False)


def why_not_eligible(
    table: RoutingTable,
    row: int,
    lead: LeadRequest,
    load: IntArray,
    now: datetime,
    policy: RoutingPolicy,
    exclude: Collection[str],
) -> str:
    """Why the advisor of ``row`` is not eligible for ``lead`` (the first failed step)."""
    store = table.store_ids[int(table.advisor_store[row])]
    if lead.store_id and store != lead.store_id:
        return f"works at {store}, not {lead.store_id}"
    if not lead.store_id and table.region_of_store[store] != lead.region_id:
        return f"works in {table.region_of_store[store]}, not {lead.region_id}"
    if not table.certified[row, table.brand_index[lead.brand_id]]:
        return f"not certified for {lead.brand_id}"
    minute = table.local_minute(now)
    start, length = int(table.shift_start[row]), int(table.shift_minutes[row])
    if (minute - start) % _DAY >= length - policy.shift_end_buffer_minutes:
        end = (start + length) % _DAY
        return (
            f"off shift at {minute // 60:02d}:{minute % 60:02d} "
            f"(shift {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d})"
        )
    if load[row] >= table.max_open_leads[row]:
        return f"at capacity ({int(load[row])}/{int(table.max_open_leads[row])} open leads)"
    if table.advisor_ids[row] in exclude:
        return "excluded (missed this lead before)"
    return "not eligible"
