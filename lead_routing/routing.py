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
The share term is logarithmic (an advisor who got nothing lately has sigma = -ln(1 + fair
count)); in a steady stream two advisors' counts per unit of capacity settle at the ratio
exp(urgency * (p_a - p_b) / (max(p) * share_weight)), far too steep at the default weights
to keep anyone fed. So nobody is starved by the **fairness floor** (``share_floor``, 0.2):
a candidate whose recent count is a whole lead or more below 20% of its fair count gets the
lead (the best such candidate by value; reason "fairness floor: ..."). Over 60 fast-closing
H leads among four advisors scoring 2.0, 1.2, 0.8 and 0.5 times the group's rate, the three
weaker ones get 2 each and the best one 54 (without the floor: all 60). In the replayed
demo streams (seeds 0-3) the loads keep everyone above it: it never fires, and 0-1 of the
415-458 advisors get no lead.

``f_c`` is the number of first contacts advisor c still owes (leads assigned to c and not
contacted yet; ``pending_first_contacts``, ``None`` drops the term): an advisor already
working through new leads cannot call this one within the five minutes that convert best.

**Cold leads spare the best.** The urgency may be 0 (load and share alone decide) or
negative: at the default C urgency of -1 a C lead prefers the weaker candidates (reason
"spared the stronger advisors for hotter leads: ...", basis ``SPARED_BEST``). A C lead
converts about 1.5% of the time with anyone; what it costs is a slot and a first call, and
the strongest advisors' slots and minutes are what the H and A leads after it need.

Defaults (``RoutingPolicy``): urgency H 10, A 5, B 1, C -1; ``load_weight`` 5;
``share_weight`` 0.05; ``share_floor`` 0.2; ``pending_weight`` 1; first contact due 5
minutes after ``now`` for every grade. So an H lead passes over a candidate scoring 25%
better only when that one carries 40 points more load, a B lead at 4 points. They were
chosen on replayed demo streams the benchmark does not use (seeds 1-3, six handling draws
each) as the setting of highest mean gain over least-loaded whose mean SLA breaches were
no more than least-loaded's on each seed; ``lead_routing/README.md`` ("Routing defaults")
gives the grid, the rule and the figures.

The candidate scorers (the prior's factored fast path, a fitted model's frame) are
``lead_routing.candidate_scoring``'s, re-exported here.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from lead_routing.candidate_scoring import (
    CandidateScorer,
    ModelCandidateScorer,
    PriorCandidateScorer,
    candidate_features,
    candidate_scores,
    candidate_scores_many,
)
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
from turnwise.errors import FailedPrecondition, InvalidArgument

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
    "spared_best_reason",
    "why_not_eligible",
]

_DAY = 1440


@dataclass(frozen=True)
class RoutingPolicy:
    """The weights of the choice and the first-contact deadlines (see the module
    docstring for the formula). Validated when built."""

    grade_urgency: tuple[tuple[str, float], ...] = (
        ("H", 10.0),
        ("A", 5.0),
        ("B", 1.0),
        ("C", -1.0),
    )
    """Per grade, what relative conversion is worth against load and share; any finite
    number: 0 ignores the scores, a negative one sends the lead to weaker candidates."""
    load_weight: float = 5.0
    share_weight: float = 0.05
    pending_weight: float = 1.0
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
        urgency = _per_grade("grade_urgency", self.grade_urgency, positive=False)
        minutes = _per_grade("first_contact_minutes", self.first_contact_minutes, positive=True)
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


def _per_grade(
    name: str, pairs: tuple[tuple[str, float], ...], *, positive: bool
) -> dict[str, float]:
    values = dict(pairs)
    if len(values) != len(pairs) or set(values) != set(GRADES):
        raise InvalidArgument(name, f"must give each grade of {GRADES} exactly once")
    for grade, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise InvalidArgument(f"{name}[{grade}]", f"must be a finite number, got {value}")
        if positive and value <= 0:
            raise InvalidArgument(f"{name}[{grade}]", f"must be > 0, got {value}")
    return {g: float(v) for g, v in values.items()}


class RouteBasis(enum.Enum):
    """Why the chosen advisor was chosen."""

    STICKY_OWNER = "sticky_owner"
    """The customer's current advisor (One-ID), eligible."""
    ONLY_CANDIDATE = "only_candidate"
    BEST_CONVERSION = "best_conversion"
    """The candidate of highest P(convert) (and highest value)."""
    LOAD_BALANCED = "load_balanced"
    """The fairness term passed over a candidate of higher P(convert)."""
    SPARED_BEST = "spared_best"
    """A cold lead (urgency < 0) went to a weaker candidate, keeping the stronger ones'
    time and slots for hotter leads."""


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
    elif policy.urgency(lead.grade) < 0:
        best_id = table.advisor_ids[int(candidates[best])]
        reason = spared_best_reason(lead.grade, best_id, scores[best], scores[chosen])
        basis = RouteBasis.SPARED_BEST
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


def spared_best_reason(grade: str, best: str, best_score: float, score: float) -> str:
    """The reason of a lead of negative urgency given to a weaker candidate than ``best``."""
    return (
        f"spared the stronger advisors for hotter leads: {grade} leads go to weaker "
        f"candidates ({best} scores {best_score:.3f} against {score:.3f})"
    )
