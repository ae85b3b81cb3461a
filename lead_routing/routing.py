"""Real-time routing of one lead: the decision of RouteLead, without storage.

``route(table, lead, open_leads, now, ...)`` takes a ``RoutingTable`` of per-advisor arrays
and a ``LeadRequest`` (both defined in ``lead_routing.routing_table`` with eligibility, and
re-exported here) and only builds masks and one score vector over the lead's store or
region, in numpy: one decision takes a fraction of a millisecond.

**Eligible advisors** (``lead_routing.routing_table``): of the lead's store (or region),
certified for its brand, on shift at ``now``, with spare capacity and not excluded. No
eligible advisor raises ``FailedPrecondition`` whose hint counts every step, e.g. "no
advisor of S003 certified for B07 is on shift at 22:40 with spare capacity: 5 in S003, 3
certified, 0 on shift, 0 with spare capacity".

**Sticky ownership.** When ``customer_owner`` (a ``lead_routing.identity.CustomerMatch``
of the lead's phone or WeChat id) names an eligible advisor, the lead goes to them (reason
"sticky owner (same phone)" or "(same WeChat)"). An ineligible owner (another store, off
shift, full, excluded) is passed over and the reason says why.

**Choice.** Among the candidates c, with p_c the scorer's P(convert | lead, c), the lead goes
to the advisor of highest expected value

    value_c = urgency(grade) * p_c
              - max(p) * (load_weight * rho_c + share_weight * sigma_c + pending_weight * f_c)

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

Why a floor as well. The load alone spreads leads once the best advisors fill up, but where
leads close fast everyone's load stays near zero and the best advisor would take every lead.
The share term is logarithmic: an advisor who got nothing lately has sigma = -ln(1 + fair
count), a bonus that grows as leads go to the others. In a steady stream (load aside) the
shares settle where two advisors' counts per unit of capacity differ by the factor
exp(urgency * (p_a - p_b) / (max(p) * share_weight)), which at the default weights is far
too steep to keep anyone fed (against a colleague scoring four times better, e^90 for H
leads). So nobody is starved by the **fairness floor** (``share_floor``, 0.2): a candidate
whose recent count is a whole lead or more below 20% of its fair count gets the lead (the
best such candidate by value; reason "fairness floor: ..."). Over 60 fast-closing H leads
among four advisors scoring 2.0, 1.2, 0.8 and 0.5 times the group's rate, the three weaker
ones get 2 each and the best one 54 (without the floor: all 60). In the replayed demo
stream the loads keep almost everyone above the floor: it changed one SLA breach on seed 0
and nothing on seeds 1 and 2 (at load weight 3); 0-2 advisors of 450 get no lead on seeds
0-3 (2 on seed 2 and 4 on seed 0 under the old weights).

``f_c`` is the number of first contacts advisor c still owes (leads assigned to c and not
contacted yet; ``pending_first_contacts``, ``None`` drops the term): an advisor already
working through new leads cannot call this one within the five minutes that convert best.
In the replayed demo stream (benchmark ``leads``), ``pending_weight`` 0.5 cut late first
contacts from 2,024 to 1,962 for 0.6 points of the conversion gain.

Defaults (``RoutingPolicy``): urgency H 6.0, A 3.5, B 1.5, C 0.5; ``load_weight`` 4.0;
``share_weight`` 0.05; ``share_floor`` 0.2; ``pending_weight`` 0.5; first contact due 5
minutes after ``now`` for every grade. So a B lead passes over a candidate scoring 25% better
only when that one carries 7.5 points more load, an H lead only at 30 points more: hot leads
go to the best advisors until they are busy, cold ones are spread. They were chosen on the
replayed streams of demo groups the benchmark (seed 0) does not use, 60 stores, seeds 1 and
2, scored by the fitted model (``lead_routing.scoring``, with its
monotone advisor features and calibration lift), among 32 settings of load weight (2-5),
share weight (0.05, 0.1), pending weight (0.5, 1) and urgency (H/A/B/C 4/2.5/1/0.5 or
6/3.5/1.5/0.5), as the one with the highest smaller gain over least-loaded of the two whose
SLA breaches summed over both were no more than least-loaded's: +10.2% (-8 breaches) and
+10.8% (+5); on seed 3, not used to choose, +8.5% (-5). The old defaults (H 2.0, A 1.5,
B 1.0, C 0.5; load 1.0; share 0.5) gained +6.0% (+4) and +8.1% (+26) there (before the lift).

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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_leads import TAGS
from lead_routing.identity import CustomerMatch
from lead_routing.routing_table import (
    CHANNELS,
    GRADES,
    Eligibility,
    LeadRequest,
    RoutingTable,
    advisor_counts,
    eligibility_steps,
    eligible_advisors,
    why_not_eligible,
)
from lead_routing.scoring_prior import PriorScorer
from turnwise.errors import FailedPrecondition, InvalidArgument

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
    "advisor_counts",
    "candidate_features",
    "candidate_scores",
    "candidate_scores_many",
    "eligible_advisors",
    "route",
    "why_not_eligible",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DAY = 1440


@dataclass(frozen=True)
class RoutingPolicy:
    """The weights of the choice and the first-contact deadlines (see the module
    docstring for the formula). Validated when built."""

    grade_urgency: tuple[tuple[str, float], ...] = (("H", 6.0), ("A", 3.5), ("B", 1.5), ("C", 0.5))
    load_weight: float = 4.0
    share_weight: float = 0.05
    pending_weight: float = 0.5
    """Per first contact the advisor still owes (leads assigned, not yet contacted): an
    advisor already calling someone cannot call this lead within minutes."""
    share_floor: float = 0.2
    """The fairness floor: a candidate whose recent count is a whole lead or more below
    this share of its fair count (``floor * fair >= recent + 1``) gets the lead, the best
    of such candidates by value; 0 = off. Only with ``recent_assignments``."""
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
        floor = self.share_floor
        if not (isinstance(floor, int | float) and 0.0 <= floor <= 1.0):
            raise InvalidArgument("share_floor", f"must be within [0, 1], got {floor!r}")
        for name in ("load_weight", "share_weight", "pending_weight"):
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

    def score_many(
        self,
        table: RoutingTable,
        leads: Sequence[LeadRequest],
        rows: Sequence[IntArray],
        load: IntArray,
    ) -> list[FloatArray]:
        """The scores of many leads, ``rows[j]`` the candidates of ``leads[j]`` and
        ``load`` one count per advisor of ``table``, from one frame and one predict (the
        encoding and the fold boosters are a fixed cost per call: about 13 ms)."""
        frames = [
            candidate_features(table, lead, r, load[r], tags=self.tags)
            for lead, r in zip(leads, rows, strict=True)
        ]
        if not frames:
            return []
        p = np.asarray(self.model.predict_proba(pd.concat(frames, ignore_index=True)))
        ends = np.cumsum([len(r) for r in rows])
        return [p[e - len(r) : e].astype(np.float64) for r, e in zip(rows, ends, strict=True)]


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
    pending_first_contacts: npt.ArrayLike | None = None,
) -> RoutingDecision:
    """Route ``lead`` at ``now`` (see the module docstring). ``open_leads`` and
    ``recent_assignments`` hold one count per advisor of ``table``. Raises
    ``FailedPrecondition`` when no advisor is eligible, with the count at each step."""
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise InvalidArgument("now", f"must be a datetime with a time zone, got {now!r}")
    if isinstance(exclude, str):
        raise InvalidArgument("exclude", "must be a collection of advisor ids, not one string")
    load = advisor_counts("open_leads", open_leads, table.n_advisors)
    recent = None
    if recent_assignments is not None:
        recent = advisor_counts("recent_assignments", recent_assignments, table.n_advisors)
    pending = None
    if pending_first_contacts is not None:
        pending = advisor_counts("pending_first_contacts", pending_first_contacts, table.n_advisors)
    steps = eligibility_steps(table, lead, load, table.local_minute(now), policy, exclude)
    candidates = steps.rows[steps.allowed]
    if len(candidates) == 0:
        found = steps.eligibility()
        raise FailedPrecondition("lead", found.diagnosis(lead.brand_id, bool(exclude)))
    due = now + policy.first_contact_sla(lead.grade)
    owner = customer_owner.advisor_id if customer_owner is not None else ""
    owner_row = table.advisor_index.get(owner, -1) if owner and policy.sticky_owner else -1
    scores = candidate_scores(scorer, table, lead, candidates, load[candidates])
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
        why = why_not_eligible(table, owner_row, lead, load, now, policy, exclude)
        owner_note = f"; sticky owner {owner} passed over: {why}"
    elif owner and policy.sticky_owner:
        owner_note = f"; sticky owner {owner} passed over: not an advisor of the routing table"
    capacity = table.max_open_leads[candidates]
    rho = load[candidates] / capacity
    penalty = policy.load_weight * rho
    share = np.zeros(len(candidates))
    got = np.zeros(len(candidates))
    fair = np.zeros(len(candidates))
    if recent is not None:
        got = recent[candidates].astype(np.float64)
        if got.sum() > 0:
            share = got / got.sum()
            fair = got.sum() * capacity / capacity.sum()
            if policy.share_weight > 0:
                penalty = penalty + policy.share_weight * np.log((got + 1.0) / (fair + 1.0))
    if pending is not None and policy.pending_weight > 0:
        penalty = penalty + policy.pending_weight * pending[candidates]
    value = policy.urgency(lead.grade) * scores - scores.max() * penalty
    starved = policy.share_floor * fair >= got + 1.0
    chosen = int(np.argmax(np.where(starved, value, -np.inf) if starved.any() else value))
    best = int(np.argmax(scores))
    if starved[chosen] and chosen != best:
        reason = (
            f"fairness floor: {table.advisor_ids[int(candidates[chosen])]} got "
            f"{int(got[chosen])} of the candidates' {int(got.sum())} recent leads, under "
            f"{policy.share_floor:.0%} of a fair {fair[chosen]:.1f}"
        )
        basis = RouteBasis.LOAD_BALANCED
    elif len(candidates) == 1:
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
        if pending is not None and pending[row] > 0:
            reason += f" and owes {int(pending[row])} first contact(s)"
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


def candidate_scores_many(
    scorer: CandidateScorer,
    table: RoutingTable,
    leads: Sequence[LeadRequest],
    rows: Sequence[IntArray],
    load: IntArray,
) -> list[FloatArray]:
    """``candidate_scores`` of each lead with its candidates ``rows[j]`` (``load`` one count
    per advisor), in one call where the scorer has ``score_many`` (a fitted model: one
    frame for the whole batch), else lead by lead; checked as ``candidate_scores``."""
    many = getattr(scorer, "score_many", None)
    if many is None:
        pairs = zip(leads, rows, strict=True)
        return [candidate_scores(scorer, table, x, r, load[r]) for x, r in pairs]
    got = [np.asarray(s, dtype=np.float64) for s in many(table, leads, rows, load)]
    if len(got) != len(rows):
        raise FailedPrecondition("scorer", f"returned {len(got)} score vectors for {len(rows)}")
    return [_checked_scores(s, r) for s, r in zip(got, rows, strict=True)]


def candidate_scores(
    scorer: CandidateScorer,
    table: RoutingTable,
    lead: LeadRequest,
    candidates: IntArray,
    load: IntArray,
) -> FloatArray:
    """``scorer``'s P(convert) of ``lead`` with each of ``candidates`` (``load`` aligned with
    them); ``FailedPrecondition`` naming the scorer when it returns another shape or a score
    outside [0, 1]."""
    return _checked_scores(np.asarray(scorer(table, lead, candidates, load)), candidates)


def _checked_scores(scores: FloatArray, candidates: IntArray) -> FloatArray:
    scores = scores.astype(np.float64, copy=False)
    if scores.shape != candidates.shape:
        raise FailedPrecondition(
            "scorer", f"returned shape {scores.shape} for {len(candidates)} candidates"
        )
    if not (scores.min() >= 0.0 and scores.max() <= 1.0):  # NaN fails both
        raise FailedPrecondition("scorer", "returned a score outside [0, 1]")
    return scores
