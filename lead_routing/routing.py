"""Real-time routing of one lead: the decision of RouteLead, without storage.

``RoutingTable.from_frames(advisors, stores, brands)`` turns the ``advisors`` and ``stores``
tables into per-advisor arrays once (home store and region, a bool matrix of brand
certification, level, shift start and length in minutes, ``max_open_leads``, the smoothed
90-day conversion rate) and indexes the advisors of each store and region. ``route(table,
lead, open_leads, now, ...)`` then only builds masks and one score vector over the lead's
store or region, in numpy: one decision takes a fraction of a millisecond.

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

No eligible advisor raises ``FailedPrecondition`` whose hint counts every step, e.g. "no
advisor of S003 certified for B07 is on shift at 22:40 with spare capacity: 5 in S003, 3
certified, 0 on shift, 0 with spare capacity".

**Sticky ownership.** When ``customer_owner`` (a ``lead_routing.identity.CustomerMatch``
of the lead's phone or WeChat id) names an eligible advisor, the lead goes to them (reason
"sticky owner (same phone)" or "(same WeChat)"). An ineligible owner (another store, off
shift, full, excluded) is passed over and the reason says why.

**Choice.** Among the candidates c, with p_c the scorer's P(convert | lead, c), the lead goes
to the advisor of highest expected value

    value_c = urgency(grade) * p_c - max(p) * (load_weight * rho_c + share_weight * sigma_c)

    rho_c   = open_leads_c / max_open_leads_c                       (load, in [0, 1))
    sigma_c = ln((recent_c + 1) / (R * max_open_leads_c / C + 1))   (recent-share excess)

where ``recent`` is the caller's count of leads routed to each advisor lately (since the
start of the day, or decayed; ``None`` drops the term), R the candidates' total and C their
total capacity, so R * max_open_leads_c / C is the advisor's fair count, in proportion to
capacity. The penalty is scaled by the best candidate's score so that it weighs the same
against a C lead (p about 1.5%) as against an H lead (p about 20%): dividing by max(p), the
rule compares relative scores p_c / max(p) in (0, 1] with the penalty, and the grade's
urgency says how much relative conversion is worth against load and share. Ties go to the
advisor first in the table.

Why two terms. The load alone spreads leads once the best advisors fill up, but where leads
close fast everyone's load stays near zero and the best advisor would take every lead. The
share term is logarithmic so that nobody is starved: an advisor who got nothing lately has
sigma = -ln(1 + fair count), a bonus that grows without bound as leads go to the others, so
it gets a lead eventually, whatever its score. In a steady stream (load aside) the shares
settle where two advisors' counts per unit of capacity differ by the factor
exp(urgency * (p_a - p_b) / (max(p) * share_weight)): against a colleague scoring four times
better, about 2x fewer leads per unit of capacity for C leads, 4.5x for B, 9.5x for A and
20x for H.

Defaults (``RoutingPolicy``): urgency H 2.0, A 1.5, B 1.0, C 0.5; ``load_weight`` 1.0;
``share_weight`` 0.5; first contact due 5 minutes after ``now`` for every grade. So a B lead
passes over a candidate scoring 25% better only when that one carries 25 points more load,
an H lead only at 50 points more: hot leads go to the best advisors until they are busy, cold
ones are spread.

**Scoring fast path.** ``scorer`` is a ``CandidateScorer``: ``scorer(table, lead, rows,
open_leads)`` returns P(convert) of the lead with each advisor in ``rows``. The default,
``PriorCandidateScorer``, computes ``lead_routing.scoring_prior.PriorScorer``'s score
without a feature frame, since that score factors into a lead part (grade rate x channel
lift, two lookups) times an advisor part (the clipped lift of the table's precomputed
rate): one vector product per call. ``ModelCandidateScorer`` wraps any
``ConversionScorer`` (a fitted ``LeadScorer``) and builds the ``demo_lead_features``
frame of the lead and its candidates (``candidate_features``). Measured on the 2-core
development machine with 1,000 advisors: a whole ``route`` call on the fast path takes
0.1-0.25 ms at the median and 0.25-0.5 ms at the 99th percentile (from 4 to about 600
candidates), where the model path takes about 16 ms: 2.4 ms to build the frame of 430
candidates and 13 ms or more for ``LeadScorer.predict_proba`` even on one row (the feature
encoding and five fold boosters are a fixed cost). A fitted model therefore belongs to the
batch path (``RouteLeads``, one frame for all leads and candidates) until its score is
distilled into the same lead x advisor factors.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_leads import TAGS
from dealer_group.records import LeadChannel, LeadGrade
from lead_routing.features import DEMO_TIMEZONE, smoothed_rate
from lead_routing.identity import CustomerMatch
from lead_routing.scoring_prior import PriorScorer
from turnwise.errors import FailedPrecondition, InvalidArgument, NotFound

if TYPE_CHECKING:
    from lead_routing.scoring import ConversionScorer

__all__ = [
    "CHANNELS",
    "GRADES",
    "CandidateScorer",
    "Eligibility",
    "LeadRequest",
    "ModelCandidateScorer",
    "PriorCandidateScorer",
    "RouteBasis",
    "RoutingDecision",
    "RoutingPolicy",
    "RoutingTable",
    "candidate_features",
    "eligible_advisors",
    "route",
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


@dataclass(frozen=True)
class RoutingPolicy:
    """The weights of the choice and the first-contact deadlines (see the module
    docstring for the formula). Validated when built."""

    grade_urgency: tuple[tuple[str, float], ...] = (("H", 2.0), ("A", 1.5), ("B", 1.0), ("C", 0.5))
    load_weight: float = 1.0
    share_weight: float = 0.5
    first_contact_minutes: tuple[tuple[str, float], ...] = (
        ("H", 5.0),
        ("A", 5.0),
        ("B", 5.0),
        ("C", 5.0),
    )
    shift_end_buffer_minutes: int = 0
    """An advisor whose shift ends within this many minutes counts as off shift."""
    sticky_owner: bool = True
    _urgency: Mapping[str, float] = field(init=False, repr=False, compare=False)
    _sla: Mapping[str, timedelta] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        urgency = _per_grade("grade_urgency", self.grade_urgency)
        minutes = _per_grade("first_contact_minutes", self.first_contact_minutes)
        for name in ("load_weight", "share_weight"):
            weight = getattr(self, name)
            if not (isinstance(weight, int | float) and 0.0 <= weight < float("inf")):
                raise InvalidArgument(name, f"must be a finite number >= 0, got {weight!r}")
        buffer = self.shift_end_buffer_minutes
        if isinstance(buffer, bool) or not isinstance(buffer, int) or not 0 <= buffer < _DAY:
            raise InvalidArgument(
                "shift_end_buffer_minutes", f"must be an integer within [0, {_DAY}), got {buffer!r}"
            )
        object.__setattr__(self, "_urgency", urgency)
        object.__setattr__(self, "_sla", {g: timedelta(minutes=m) for g, m in minutes.items()})

    def urgency(self, grade: str) -> float:
        return self._urgency[grade]

    def first_contact_sla(self, grade: str) -> timedelta:
        return self._sla[grade]


def _per_grade(name: str, pairs: tuple[tuple[str, float], ...]) -> dict[str, float]:
    values = dict(pairs)
    if len(values) != len(pairs) or set(values) != set(GRADES):
        raise InvalidArgument(name, f"must give each grade of {GRADES} exactly once")
    for grade, value in values.items():
        if not (isinstance(value, int | float) and 0.0 < value < float("inf")):
            raise InvalidArgument(f"{name}[{grade}]", f"must be a finite number > 0, got {value}")
    return {g: float(v) for g, v in values.items()}


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
    steps = _steps(table, lead, open_leads, table.local_minute(now), policy, exclude)
    return steps.eligibility()


@dataclass(frozen=True)
class _Steps:
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


def _steps(
    table: RoutingTable,
    lead: LeadRequest,
    open_leads: IntArray,
    minute: int,
    policy: RoutingPolicy,
    exclude: Collection[str],
) -> _Steps:
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
    return _Steps(rows, scope, minute, certified, on_shift, spare, allowed)


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


class CandidateScorer(Protocol):
    """P(convert) of ``lead`` with each advisor of ``rows`` (rows of ``table``), whose
    current open leads are ``open_leads`` (aligned with ``rows``)."""

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray: ...


@dataclass(frozen=True)
class PriorCandidateScorer:
    """``PriorScorer``'s score without a feature frame: (grade rate x channel lift) of the
    lead times the clipped lift of each advisor's smoothed rate; equal to
    ``PriorScorer.predict_proba`` of the ``candidate_features`` frame."""

    prior: PriorScorer = field(default_factory=PriorScorer)
    _grade: Mapping[str, float] = field(init=False, repr=False, compare=False)
    _channel: Mapping[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_grade", dict(self.prior.grade_rates))
        object.__setattr__(self, "_channel", dict(self.prior.channel_lifts))

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        prior = self.prior
        base = self._grade.get(lead.grade, prior.base_rate) * self._channel.get(lead.channel, 1.0)
        bound = prior.max_advisor_lift
        ratio = table.conversion_rate[rows] / prior.base_rate
        lift = np.minimum(np.maximum(ratio, 1.0 / bound), bound)  # NaN stays NaN
        lift[np.isnan(lift)] = 1.0
        score = base * lift
        return np.asarray(np.minimum(score, 1.0), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ModelCandidateScorer:
    """Any ``ConversionScorer`` (a fitted ``LeadScorer``) over the ``candidate_features``
    frame: the general, slower path (a frame and a model predict per call)."""

    model: ConversionScorer
    tags: tuple[str, ...] = TAGS

    def __call__(
        self, table: RoutingTable, lead: LeadRequest, rows: IntArray, open_leads: IntArray
    ) -> FloatArray:
        frame = candidate_features(table, lead, rows, open_leads, tags=self.tags)
        return np.asarray(self.model.predict_proba(frame), dtype=np.float64)


def candidate_features(
    table: RoutingTable,
    lead: LeadRequest,
    rows: IntArray,
    open_leads: IntArray,
    *,
    tags: tuple[str, ...] = TAGS,
) -> pd.DataFrame:
    """The ``lead_routing.features.demo_lead_features`` frame of ``lead`` paired with each
    advisor of ``rows`` (same columns, order and values), ``open_leads`` aligned with
    ``rows``."""
    n = len(rows)
    local = lead.created_at.astimezone(table.zone)
    region = table.region_of_store[lead.store_id] if lead.store_id else lead.region_id
    brand = table.brand_index.get(lead.brand_id)
    columns: dict[str, object] = {
        "channel": np.full(n, lead.channel, dtype=object),
        "brand_id": np.full(n, lead.brand_id, dtype=object),
        "model": np.full(n, lead.model, dtype=object),
        "region_id": np.full(n, region, dtype=object),
        "grade": np.full(n, lead.grade, dtype=object),
        "hour": np.full(n, local.hour, dtype=np.int64),
        "weekday": np.full(n, local.weekday(), dtype=np.int64),
    }
    for tag in tags:
        columns[f"tag_{tag}"] = np.full(n, int(tag in lead.tags), dtype=np.int64)
    columns["tag_count"] = np.full(n, sum(1 for t in lead.tags if t), dtype=np.int64)
    capacity = table.max_open_leads[rows].astype(np.float64)
    load = np.asarray(open_leads, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, load / capacity, np.nan)
    certified = table.certified[rows, brand] if brand is not None else np.zeros(n, np.bool_)
    columns["advisor_certified"] = certified.astype(np.float64)
    columns["advisor_level"] = table.level[rows].astype(np.float64)
    columns["advisor_conversion_rate"] = table.conversion_rate[rows]
    columns["advisor_open_leads"] = load
    columns["advisor_load_ratio"] = ratio
    return pd.DataFrame(columns)


class RouteBasis(enum.Enum):
    """Why the chosen advisor was chosen."""

    STICKY_OWNER = "sticky_owner"
    """The customer's current advisor (One-ID), eligible."""
    ONLY_CANDIDATE = "only_candidate"
    BEST_CONVERSION = "best_conversion"
    """The candidate of highest P(convert) (and highest value)."""
    LOAD_BALANCED = "load_balanced"
    """The fairness term passed over a candidate of higher P(convert)."""


@dataclass(frozen=True)
class RoutingDecision:
    """Where one lead goes, and by when its first contact is due."""

    lead_id: str
    advisor_id: str
    score: float
    """P(convert | lead, advisor) by the scorer."""
    value: float
    """The chosen candidate's expected value (module docstring); NaN for a sticky owner."""
    basis: RouteBasis
    reason: str
    first_contact_due: datetime
    candidates_considered: int


_DEFAULT_POLICY = RoutingPolicy()
_DEFAULT_SCORER = PriorCandidateScorer()


def route(
    table: RoutingTable,
    lead: LeadRequest,
    open_leads: npt.ArrayLike,
    now: datetime,
    policy: RoutingPolicy = _DEFAULT_POLICY,
    scorer: CandidateScorer = _DEFAULT_SCORER,
    customer_owner: CustomerMatch | None = None,
    exclude: Collection[str] = frozenset(),
    recent_assignments: npt.ArrayLike | None = None,
) -> RoutingDecision:
    """Route ``lead`` at ``now`` (see the module docstring). ``open_leads`` and
    ``recent_assignments`` hold one count per advisor of ``table``. Raises
    ``FailedPrecondition`` when no advisor is eligible, with the count at each step."""
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise InvalidArgument("now", f"must be a datetime with a time zone, got {now!r}")
    if isinstance(exclude, str):
        raise InvalidArgument("exclude", "must be a collection of advisor ids, not one string")
    load = _counts("open_leads", open_leads, table.n_advisors)
    recent = None
    if recent_assignments is not None:
        recent = _counts("recent_assignments", recent_assignments, table.n_advisors)
    steps = _steps(table, lead, load, table.local_minute(now), policy, exclude)
    candidates = steps.rows[steps.allowed]
    if len(candidates) == 0:
        found = steps.eligibility()
        raise FailedPrecondition("lead", found.diagnosis(lead.brand_id, bool(exclude)))
    due = now + policy.first_contact_sla(lead.grade)
    owner = customer_owner.advisor_id if customer_owner is not None else ""
    owner_row = table.advisor_index.get(owner, -1) if owner and policy.sticky_owner else -1
    scores = _scores(scorer, table, lead, candidates, load[candidates])
    owner_note = ""
    if owner_row >= 0 and customer_owner is not None:
        at = np.flatnonzero(candidates == owner_row)
        if len(at):
            return RoutingDecision(
                lead_id=lead.lead_id,
                advisor_id=owner,
                score=float(scores[at[0]]),
                value=float("nan"),
                basis=RouteBasis.STICKY_OWNER,
                reason=f"sticky owner (same {customer_owner.matched_by.value})",
                first_contact_due=due,
                candidates_considered=len(candidates),
            )
        why = _why_not(table, owner_row, lead, load, now, policy, exclude)
        owner_note = f"; sticky owner {owner} passed over: {why}"
    elif owner and policy.sticky_owner:
        owner_note = f"; sticky owner {owner} passed over: not an advisor of the routing table"
    capacity = table.max_open_leads[candidates]
    rho = load[candidates] / capacity
    penalty = policy.load_weight * rho
    share = np.zeros(len(candidates))
    if recent is not None and policy.share_weight > 0:
        got = recent[candidates].astype(np.float64)
        total = got.sum()
        if total > 0:
            share = got / total
            fair = total * capacity / capacity.sum()
            penalty = penalty + policy.share_weight * np.log((got + 1.0) / (fair + 1.0))
    value = policy.urgency(lead.grade) * scores - scores.max() * penalty
    chosen = int(np.argmax(value))
    best = int(np.argmax(scores))
    if len(candidates) == 1:
        basis, reason = RouteBasis.ONLY_CANDIDATE, "only eligible advisor"
    elif scores[chosen] >= scores[best]:
        basis, reason = RouteBasis.BEST_CONVERSION, "best expected conversion"
    else:
        row = int(candidates[best])
        reason = (
            f"load balancing: {table.advisor_ids[row]} scores {scores[best]:.3f} against "
            f"{scores[chosen]:.3f} but holds {int(load[row])}/{int(capacity[best])} open leads"
        )
        if recent is not None:
            reason += f" and {share[best]:.0%} of the candidates' recent leads"
        basis = RouteBasis.LOAD_BALANCED
    return RoutingDecision(
        lead_id=lead.lead_id,
        advisor_id=table.advisor_ids[int(candidates[chosen])],
        score=float(scores[chosen]),
        value=float(value[chosen]),
        basis=basis,
        reason=reason + owner_note,
        first_contact_due=due,
        candidates_considered=len(candidates),
    )


def _counts(name: str, values: npt.ArrayLike, n: int) -> IntArray:
    array = np.asarray(values)
    if array.shape != (n,):
        raise InvalidArgument(name, f"must hold one count per advisor ({n}), got {array.shape}")
    if array.dtype.kind not in "iu":
        raise InvalidArgument(name, f"must hold integers, got dtype {array.dtype}")
    if n and array.min() < 0:
        raise InvalidArgument(name, "must be >= 0")
    return array.astype(np.int64, copy=False)


def _scores(
    scorer: CandidateScorer,
    table: RoutingTable,
    lead: LeadRequest,
    candidates: IntArray,
    load: IntArray,
) -> FloatArray:
    scores = np.asarray(scorer(table, lead, candidates, load), dtype=np.float64)
    if scores.shape != candidates.shape:
        raise FailedPrecondition(
            "scorer", f"returned shape {scores.shape} for {len(candidates)} candidates"
        )
    if not (scores.min() >= 0.0 and scores.max() <= 1.0):  # NaN fails both
        raise FailedPrecondition("scorer", "returned a score outside [0, 1]")
    return scores


def _why_not(
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
