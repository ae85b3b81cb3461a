"""Batch routing of many leads at once: the core of RouteLeads, without storage.

``route_batch(table, leads, open_leads, now, limits, ...)`` routes a batch of leads jointly,
so that the advisors' spare capacity goes where it is worth most, instead of to whichever
lead happens to come first.

**Eligibility** is exactly ``lead_routing.routing.route``'s at ``now`` (in scope, certified
for the brand, on shift, ``open_leads < max_open_leads``, not in the lead's ``exclude``),
computed by ``eligible_advisors`` against the load *before* the batch. A lead without an
eligible advisor never enters the problem: it is listed in ``unassigned`` with the
eligibility diagnosis (the count at each step). A lead naming a store, region or brand the
table does not know is listed the same way with the error's field and hint: one bad lead
does not fail the batch.

**Problem.** The generalized assignment problem of ``lead_routing.assignment`` with advisors
as agents and the leads that have candidates as jobs: advisor i has
``max_open_leads[i] - open_leads[i]`` free slots, each lead takes one slot (weight 1 on every
pair), so ``assignment.solve`` takes its exact min-cost flow path (``SLOT_FLOW``); the
``limits`` are passed through for the CP-SAT fallback. Each lead is assigned at most once
(``must_assign=False``). Lead j is scored once over its candidates, p_ij by ``scorer``, and

    v_ij = urgency(grade_j) * p_ij - max_i(p_ij) * load_weight * rho_i,
    rho_i = open_leads_i / max_open_leads_i   (the load before the batch)

is the real-time rule of ``route`` without its recent-share term: within a batch the slots
themselves spread the leads. As there, the penalty is scaled by the lead's best score, and
across leads a hot lead (high urgency, high p) outbids a cold one for a contested slot.

**Positive values, so no lead is dropped for a low value.** With ``must_assign=False`` the
solver need not take a pair of value <= 0, and a loaded advisor's v_ij can be negative. Every
pair is therefore solved at ``v_ij + value_shift`` with ``value_shift = 1 - min v`` (the
minimum over the batch's candidate pairs): every pair is worth at least 1, and adding the
same constant to every pair of a lead changes nothing between that lead's advisors.
Consequence, exact at the optimum: a lead is left unassigned only when every one of its
eligible advisors is full with other leads of the batch (else giving it a free slot would
raise the objective), and each of those leads is worth at least as much at that advisor as
it would be (swapping them would not raise the objective). The shift also favours routing
more leads over a slightly better match for fewer, but not lexicographically: a bonus that
made cardinality strictly first would have to grow with the batch size.

**Sticky owner.** When ``policy.sticky_owner`` holds and a lead's ``customer_owner`` is one
of its eligible advisors, that pair gets ``sticky_bonus = 2 * (max v - min v + 1)`` on top:
twice the most a shifted pair is worth. Exact consequences at the optimum:

- the lead is at its owner whenever the owner is left with a free slot (moving it there
  gains at least the bonus minus the range);
- more strongly, the lead is at its owner whenever the owner's free slots are at least the
  number of the batch's leads that it owns and may take: else the owner holds some lead it
  does not own, and moving the owned lead in (freeing its slot elsewhere) and that lead out
  gains at least ``sticky_bonus - 2 * (max v - min v) - 1 = 1``.

So a returning customer goes to their advisor as in ``route``, even when this takes the
advisor's last slot from a lead that then stays unassigned (the customer relationship comes
first). An owner who is ineligible (another store, off shift, full, excluded, unknown) is
passed over and the decision's reason says why.

**Results.** ``objective``, ``bound`` and ``gap`` are the solve's, over the values as solved
(v + shift, + bonus for owners); ``rule_value`` is the sum of v over the chosen pairs,
``expected_conversions`` the sum of p (the figure RouteLeads reports) and
``weighted_conversions`` the sum of urgency * p (a negative urgency counts against it: it
is the rule's own accounting, not a count of conversions). Decisions follow the input
order and carry ``route``'s fields: ``value`` is v (NaN for a sticky owner, as in
``route``), the basis STICKY_OWNER ("sticky owner (same phone)"), ONLY_CANDIDATE,
BEST_CONVERSION ("best expected conversion": the lead's highest-scoring candidate),
SPARED_BEST (a lead of negative urgency given to a weaker candidate, as in ``route``) or
LOAD_BALANCED, whose reason names the better-scoring candidate and why it did not get the
lead: its free slots went to leads of higher value ("capacity: ..."), or its load
outweighed its score ("load balancing: ...").

**Cost.** A Python loop over leads (eligibility), one scorer call for all of them where
the scorer has ``score_many`` (a fitted model: one frame and one predict for the batch,
``routing.candidate_scores_many``; else one call per lead), and numpy over pairs: the
(advisors, leads) matrices that ``AssignmentProblem`` takes are filled by one scatter
each; 10,000 leads x 1,000 advisors is 10 million entries (80 MB per float matrix).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from lead_routing.assignment import AssignmentProblem, AssignmentSolution, Sense, solve
from lead_routing.identity import CustomerMatch
from lead_routing.routing import (
    CandidateScorer,
    PriorCandidateScorer,
    RouteBasis,
    RoutingDecision,
    RoutingPolicy,
    candidate_scores_many,
    spared_best_reason,
)
from lead_routing.routing_table import (
    Eligibility,
    LeadRequest,
    RoutingTable,
    advisor_counts,
    eligible_advisors,
    why_not_eligible,
)
from turnwise.errors import InvalidArgument, NotFound
from turnwise.solving import SolveLimits, SolveStatus

__all__ = ["NO_SOLVE", "BatchLead", "BatchRouting", "route_batch"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NO_SOLVE = "NONE"
"""``BatchRouting.method`` when no lead had an eligible advisor: nothing was solved."""


@dataclass(frozen=True)
class BatchLead:
    """One lead of a batch, with its customer's current owner and the advisors it may not
    go to. Validated when built."""

    lead: LeadRequest
    customer_owner: CustomerMatch | None = None
    """The One-ID owner of the customer; sticky when eligible."""
    exclude: frozenset[str] = frozenset()
    """Advisors who missed this lead before: never chosen."""

    def __post_init__(self) -> None:
        if not isinstance(self.lead, LeadRequest):
            raise InvalidArgument("lead", f"must be a LeadRequest, got {type(self.lead).__name__}")
        if self.customer_owner is not None and not isinstance(self.customer_owner, CustomerMatch):
            raise InvalidArgument("customer_owner", "must be a CustomerMatch or None")
        if isinstance(self.exclude, str):
            raise InvalidArgument("exclude", "must be a collection of advisor ids, not one string")
        exclude = frozenset(self.exclude)
        if not all(isinstance(a, str) for a in exclude):
            raise InvalidArgument("exclude", "must hold advisor ids (strings)")
        object.__setattr__(self, "exclude", exclude)


@dataclass(frozen=True)
class BatchRouting:
    """Where the batch's leads go (see the module docstring)."""

    decisions: tuple[RoutingDecision, ...]
    """One per assigned lead, in the order of the input leads."""
    unassigned: tuple[tuple[str, str], ...]
    """(lead_id, why) of each lead not assigned, in input order."""
    status: SolveStatus
    objective: float
    """The solve's objective: the sum of the chosen pairs' values as solved (v + shift, +
    the sticky bonus of owners)."""
    bound: float
    gap: float
    solve_seconds: float
    expected_conversions: float
    """Sum of P(convert) of the chosen pairs."""
    method: str
    """``SLOT_FLOW``, ``CP_SAT`` or ``NO_SOLVE`` (``"NONE"``)."""
    weighted_conversions: float = 0.0
    """Sum of urgency(grade) * P(convert) of the chosen pairs."""
    rule_value: float = 0.0
    """Sum of the real-time rule's value v of the chosen pairs (no shift, no bonus)."""
    value_shift: float = 0.0
    """Added to every pair's v: 1 - min v."""
    sticky_bonus: float = 0.0
    """Added to the pair of a lead and its eligible owner: 2 * (max v - min v + 1)."""


@dataclass(frozen=True, eq=False)
class _Candidates:
    """A lead's eligible advisors (rows of the table), their scores and rule values, and
    the position of its eligible owner among them (-1: none)."""

    rows: IntArray
    scores: FloatArray
    values: FloatArray
    owner_at: int
    owner_note: str
    """Why an ineligible owner was passed over (empty when none or eligible)."""


_DEFAULT_POLICY = RoutingPolicy()
_DEFAULT_SCORER = PriorCandidateScorer()


def route_batch(
    table: RoutingTable,
    leads: Sequence[BatchLead],
    open_leads: npt.ArrayLike,
    now: datetime,
    limits: SolveLimits,
    policy: RoutingPolicy = _DEFAULT_POLICY,
    scorer: CandidateScorer = _DEFAULT_SCORER,
) -> BatchRouting:
    """Route ``leads`` jointly at ``now`` within each advisor's free slots
    (``max_open_leads - open_leads``, ``open_leads`` one count per advisor of ``table``).
    Raises ``InvalidArgument`` for a repeated lead id (naming ``leads[i].lead_id``) or a bad
    argument; a lead that cannot be routed is listed in ``unassigned`` with the reason."""
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise InvalidArgument("now", f"must be a datetime with a time zone, got {now!r}")
    if not isinstance(limits, SolveLimits):
        raise InvalidArgument("limits", f"must be SolveLimits, got {type(limits).__name__}")
    _check_leads(leads)
    load = advisor_counts("open_leads", open_leads, table.n_advisors)
    capacity = table.max_open_leads
    free = np.maximum(capacity - load, 0)
    rho = np.divide(load, capacity, out=np.zeros(len(load)), where=capacity > 0)
    eligible = [_eligible(table, item, i, load, now, policy) for i, item in enumerate(leads)]
    rows_of = {j: e for j, e in enumerate(eligible) if not isinstance(e, str)}
    scores = candidate_scores_many(
        scorer, table, [leads[j].lead for j in rows_of], list(rows_of.values()), load
    )
    score_of = dict(zip(rows_of, scores, strict=True))
    found: list[_Candidates | str] = [
        e
        if isinstance(e, str)
        else _candidates(table, leads[j], e, score_of[j], load, rho, now, policy)
        for j, e in enumerate(eligible)
    ]
    jobs = [j for j, f in enumerate(found) if isinstance(f, _Candidates)]
    pairs = [f for f in found if isinstance(f, _Candidates)]
    if not pairs:
        return _nothing_to_solve(leads, found)
    problem, shift, bonus = _problem(table.n_advisors, free, pairs)
    solution = solve(problem, limits)
    agent_of_lead = np.full(len(leads), -1, dtype=np.int64)
    agent_of_lead[jobs] = solution.agent_of_job
    left = free - np.bincount(
        solution.agent_of_job[solution.agent_of_job >= 0], minlength=len(free)
    )
    return _extract(
        table, leads, found, agent_of_lead, left, load, now, policy, solution, shift, bonus
    )


def _check_leads(leads: Sequence[BatchLead]) -> None:
    if isinstance(leads, str | bytes) or not isinstance(leads, Sequence):
        raise InvalidArgument("leads", "must be a sequence of BatchLead")
    first: dict[str, int] = {}
    for i, item in enumerate(leads):
        if not isinstance(item, BatchLead):
            raise InvalidArgument(f"leads[{i}]", f"must be a BatchLead, got {type(item).__name__}")
        lead_id = item.lead.lead_id
        if lead_id in first:
            raise InvalidArgument(
                f"leads[{i}].lead_id",
                f"{lead_id!r} repeats leads[{first[lead_id]}]: send each lead once per batch",
            )
        first[lead_id] = i


def _eligible(
    table: RoutingTable,
    item: BatchLead,
    index: int,
    load: IntArray,
    now: datetime,
    policy: RoutingPolicy,
) -> IntArray | str:
    """The lead's eligible advisors (rows of the table), or why it has none."""
    lead = item.lead
    try:
        eligibility: Eligibility = eligible_advisors(table, lead, load, now, policy, item.exclude)
    except (NotFound, InvalidArgument) as err:
        return f"leads[{index}].lead.{err.field}: {err.hint}"
    if len(eligibility.candidates) == 0:
        return eligibility.diagnosis(lead.brand_id, bool(item.exclude))
    return eligibility.candidates


def _candidates(
    table: RoutingTable,
    item: BatchLead,
    rows: IntArray,
    scores: FloatArray,
    load: IntArray,
    rho: FloatArray,
    now: datetime,
    policy: RoutingPolicy,
) -> _Candidates:
    """The lead's candidates with their scores and rule values."""
    lead = item.lead
    values = policy.urgency(lead.grade) * scores - scores.max() * policy.load_weight * rho[rows]
    owner_at, note = -1, ""
    owner = item.customer_owner.advisor_id if item.customer_owner is not None else ""
    if owner and policy.sticky_owner:
        row = table.advisor_index.get(owner, -1)
        at = np.flatnonzero(rows == row) if row >= 0 else np.zeros(0, dtype=np.int64)
        if len(at):
            owner_at = int(at[0])
        elif row >= 0:
            why = why_not_eligible(table, row, lead, load, now, policy, item.exclude)
            note = f"; sticky owner {owner} passed over: {why}"
        else:
            note = f"; sticky owner {owner} passed over: not an advisor of the routing table"
    return _Candidates(rows, scores, np.asarray(values, dtype=np.float64), owner_at, note)


def _problem(
    agents: int, free: IntArray, pairs: list[_Candidates]
) -> tuple[AssignmentProblem, float, float]:
    """The assignment problem of the leads with candidates (job k: ``pairs[k]``), its value
    shift and sticky bonus."""
    sizes = np.array([len(c.rows) for c in pairs], dtype=np.int64)
    rows = np.concatenate([c.rows for c in pairs])
    jobs = np.repeat(np.arange(len(pairs), dtype=np.int64), sizes)
    values = np.concatenate([c.values for c in pairs])
    low, high = float(values.min()), float(values.max())
    shift = 1.0 - low
    bonus = 2.0 * (high - low + 1.0)
    solved = values + shift
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owned = np.array([c.owner_at for c in pairs], dtype=np.int64)
    sticky = owned >= 0
    solved[starts[sticky] + owned[sticky]] += bonus
    value = np.zeros((agents, len(pairs)), dtype=np.float64)
    allowed = np.zeros((agents, len(pairs)), dtype=np.bool_)
    value[rows, jobs] = solved
    allowed[rows, jobs] = True
    problem = AssignmentProblem(
        value=value,
        weight=np.ones((agents, len(pairs)), dtype=np.int64),
        capacity=free,
        sense=Sense.MAXIMISE,
        must_assign=False,
        allowed=allowed,
    )
    return problem, shift, bonus


def _extract(
    table: RoutingTable,
    leads: Sequence[BatchLead],
    found: list[_Candidates | str],
    agent_of_lead: IntArray,
    left: IntArray,
    load: IntArray,
    now: datetime,
    policy: RoutingPolicy,
    solution: AssignmentSolution,
    shift: float,
    bonus: float,
) -> BatchRouting:
    decisions: list[RoutingDecision] = []
    unassigned: list[tuple[str, str]] = []
    conversions: list[float] = []
    weighted: list[float] = []
    rule: list[float] = []
    for j, item in enumerate(leads):
        lead, candidates = item.lead, found[j]
        if isinstance(candidates, str):
            unassigned.append((lead.lead_id, candidates))
            continue
        agent = int(agent_of_lead[j])
        if agent < 0:
            unassigned.append((lead.lead_id, _why_unassigned(candidates, left, solution)))
            continue
        at = int(np.flatnonzero(candidates.rows == agent)[0])
        decisions.append(_decision(table, item, candidates, at, left, load, now, policy))
        score = float(candidates.scores[at])
        conversions.append(score)
        weighted.append(policy.urgency(lead.grade) * score)
        rule.append(float(candidates.values[at]))
    return BatchRouting(
        decisions=tuple(decisions),
        unassigned=tuple(unassigned),
        status=solution.status,
        objective=solution.objective,
        bound=solution.bound,
        gap=solution.gap,
        solve_seconds=solution.seconds,
        expected_conversions=math.fsum(conversions),
        method=solution.method.value,
        weighted_conversions=math.fsum(weighted),
        rule_value=math.fsum(rule),
        value_shift=shift,
        sticky_bonus=bonus,
    )


def _decision(
    table: RoutingTable,
    item: BatchLead,
    candidates: _Candidates,
    at: int,
    left: IntArray,
    load: IntArray,
    now: datetime,
    policy: RoutingPolicy,
) -> RoutingDecision:
    """The decision of a lead given to its candidate ``at``, with the reason."""
    lead, scores, values, rows = item.lead, candidates.scores, candidates.values, candidates.rows
    value = float(values[at])
    owner_note = candidates.owner_note
    if at == candidates.owner_at and item.customer_owner is not None:
        basis = RouteBasis.STICKY_OWNER
        reason = f"sticky owner (same {item.customer_owner.matched_by.value})"
        value = float("nan")
    elif len(rows) == 1:
        basis, reason = RouteBasis.ONLY_CANDIDATE, "only eligible advisor"
    elif scores[at] >= scores.max():
        basis, reason = RouteBasis.BEST_CONVERSION, "best expected conversion"
    elif policy.urgency(lead.grade) < 0:
        basis = RouteBasis.SPARED_BEST
        best = int(np.argmax(scores))
        best_id = table.advisor_ids[int(rows[best])]
        reason = spared_best_reason(lead.grade, best_id, scores[best], scores[at])
    else:
        basis = RouteBasis.LOAD_BALANCED
        reason = _passed_over(table, candidates, at, left, load)
    if candidates.owner_at >= 0 and at != candidates.owner_at:
        owner = int(rows[candidates.owner_at])
        owner_note = f"; sticky owner {table.advisor_ids[owner]} passed over: " + (
            f"its {_slots(int(table.max_open_leads[owner] - load[owner]))} went to other leads "
            "of the batch"
            if left[owner] == 0
            else "the solve placed the lead elsewhere"
        )
    return RoutingDecision(
        lead_id=lead.lead_id,
        advisor_id=table.advisor_ids[int(rows[at])],
        score=float(scores[at]),
        value=value,
        basis=basis,
        reason=reason + owner_note,
        first_contact_due=now + policy.first_contact_sla(lead.grade),
        candidates_considered=len(rows),
    )


def _passed_over(
    table: RoutingTable, candidates: _Candidates, at: int, left: IntArray, load: IntArray
) -> str:
    """Why the lead's best-scoring candidate did not get it: its slots went to leads of
    higher value, or its load outweighed its score."""
    scores, values, rows = candidates.scores, candidates.values, candidates.rows
    best = int(np.argmax(scores))
    row = int(rows[best])
    name, capacity = table.advisor_ids[row], int(table.max_open_leads[row])
    if left[row] == 0 and values[best] > values[at]:
        slots = _slots(capacity - int(load[row]))
        return (
            f"capacity: {name} scores {scores[best]:.3f} but its {slots} went to leads of "
            "higher value"
        )
    return (
        f"load balancing: {name} scores {scores[best]:.3f} against {scores[at]:.3f} but holds "
        f"{int(load[row])}/{capacity} open leads"
    )


def _why_unassigned(candidates: _Candidates, left: IntArray, solution: AssignmentSolution) -> str:
    rows = candidates.rows
    if not solution.has_assignment:
        return (
            f"the solve stopped at its time limit ({solution.seconds:.1f} s) before finding an "
            "assignment; route the batch again with a longer time limit"
        )
    if (left[rows] > 0).any():  # only when the solve stopped early (see the module docstring)
        return "the solve stopped at its time limit before placing the lead; route it again"
    return (
        "every eligible advisor's capacity went to leads of higher or equal value "
        f"({len(rows)} eligible advisors, all full after the batch); route the lead later or "
        "put it in the public pool"
    )


def _slots(count: int) -> str:
    return f"{count} free slot" if count == 1 else f"{count} free slots"


def _nothing_to_solve(leads: Sequence[BatchLead], found: list[_Candidates | str]) -> BatchRouting:
    unassigned = tuple(
        (item.lead.lead_id, why)
        for item, why in zip(leads, found, strict=True)
        if isinstance(why, str)
    )
    return BatchRouting(
        decisions=(),
        unassigned=unassigned,
        status=SolveStatus.OPTIMAL,
        objective=0.0,
        bound=0.0,
        gap=0.0,
        solve_seconds=0.0,
        expected_conversions=0.0,
        method=NO_SOLVE,
    )
