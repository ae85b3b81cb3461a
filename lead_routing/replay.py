"""Replay of a lead stream, in arrival order, through one routing policy at equal capacity.

``replay(table, leads, policy)`` routes every lead of ``leads`` when it arrives, to an
advisor of the same ``RoutingTable`` (same shifts, certifications and ``max_open_leads``
for every policy), under one model of how leads are handled, and reports what the policy
achieved: expected conversions, SLA breaches, leads left unassigned and how evenly the
leads were spread.

**Policies** (``ReplayPolicy``); all three choose among the same eligible advisors
(``routing.eligible_advisors``: the lead's store, certified for its brand, on shift, under
``max_open_leads``):

- ``turnwise``: ``routing.route`` with the given ``RoutingPolicy`` (default weights),
  recent-share counts (the leads routed to each advisor since local midnight) and the first
  contacts each advisor still owes (as the server counts its assigned, uncontacted leads);
  scores from ``scorer``;
- ``round-robin``: per store, the next advisor in turn (table order, cyclic, after the one
  who got the store's previous lead) among the eligible;
- ``least-loaded``: the eligible advisor with the fewest open leads (skills = brand
  certification), ties to the one idle longest (earliest last assignment, never assigned
  first), then table order: how Salesforce Omni-Channel ("least active") and LeanData
  route.

**Handling model** (``HandlingModel``; identical for every policy and deterministic in its
``seed``). Lead i draws, once and for all policies (common random numbers), a holding time
``H_i ~ Exponential(mean_holding_hours)`` and a first-contact work ``W_i ~
Exponential(mean_contact_minutes)``.

- An assigned lead occupies one of its advisor's ``max_open_leads`` slots from its
  assignment for ``H_i`` (it is worked, then won or lost), then frees it.
- Each advisor makes first contacts one at a time, in assignment order: the contact of lead
  i starts when it is assigned or when the advisor's previous first contact ends, whichever
  is later, and takes ``W_i x (1 + load_slowdown x open / max_open_leads)``, ``open`` being
  the advisor's open leads before i (follow-ups of open leads take the advisor's time).
  Contacts are not paused at the end of a shift.
- A lead that finds no eligible advisor when it arrives waits, in arrival order, and is
  tried again whenever an advisor of its store frees a slot while on shift or starts a
  shift; it is unassigned when it has waited ``max_wait_hours`` (or the stream ends first).
- **SLA breach**: the first contact ends later than the routing policy's first-contact
  deadline (5 minutes for every grade by default) after the assignment, or the lead found
  no eligible advisor when it arrived (routed late or never).

**Report** (``ReplayReport``): per lead, who got it, when, its first contact and release;
in total the expected conversions (below), SLA breaches (and their two kinds: late first
contacts, leads that waited), unassigned leads, leads per advisor, and the load spread:
the coefficient of variation and the maximum of each advisor's leads per unit of
``max_open_leads`` relative to their store's mean (a store's volume, which no policy
changes, does not count). A stream of 10,000 leads replays in about a second.

**Scores.** ``scorer`` (a ``routing.CandidateScorer``) is what Turnwise decides with; the
baselines ignore it (it only fills in each outcome's ``score``). ``evaluation`` is the one
yardstick every policy is measured with: ``expected_conversions`` sums
``evaluation``'s P(convert | lead, chosen advisor) over the assigned leads (an unassigned
lead counts 0). By default ``evaluation`` is ``scorer``, which flatters Turnwise (it is
judged by the signal it chose with). On the demo group use ``DemoGeneratorScorer``, the
probability the generator drew the outcomes from (grade x channel x advisor level), which
no policy sees: Turnwise then decides with a model or prior estimated from history and is
judged on the truth. ``replay_inputs`` holds that yardstick, ``PairScores`` (a fitted
model's scores of every lead with every certified advisor of its store, computed in one
frame, so that a stream can be routed by a model without a frame per lead) and
``lead_requests`` (the rows of a ``leads`` table as ``LeadRequest``s).
"""

from __future__ import annotations

import enum
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from lead_routing.replay_inputs import HandlingModel, LeadHandling, draw_handling
from lead_routing.routing import (
    CandidateScorer,
    LeadRequest,
    PriorCandidateScorer,
    RoutingPolicy,
    RoutingTable,
    eligible_advisors,
    route,
)
from turnwise.errors import FailedPrecondition, InvalidArgument, TurnwiseError

__all__ = [
    "HandlingModel",
    "LeadHandling",
    "ReplayOutcome",
    "ReplayPolicy",
    "ReplayReport",
    "draw_handling",
    "replay",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_RELEASE, _SHIFT_START, _ARRIVAL = 0, 1, 2
"""Event kinds, in the order they are handled at the same instant."""
_DAY_MINUTES = 1440
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReplayPolicy(enum.Enum):
    TURNWISE = "turnwise"
    ROUND_ROBIN = "round-robin"
    LEAST_LOADED = "least-loaded"


@dataclass(frozen=True)
class ReplayOutcome:
    """What happened to one lead. Times are None where they did not happen."""

    lead_id: str
    advisor_id: str
    """Empty when the lead was never assigned."""
    score: float
    """``scorer``'s P(convert) of the pair (NaN when unassigned)."""
    expected_conversion: float
    """``evaluation``'s P(convert) of the pair (0 when unassigned)."""
    reason: str
    arrived_at: datetime
    assigned_at: datetime | None
    first_contact_due: datetime | None
    first_contact_at: datetime | None
    released_at: datetime | None
    waited: bool
    """No eligible advisor when it arrived."""
    sla_breached: bool


@dataclass(frozen=True, eq=False)
class ReplayReport:
    """The outcomes of one policy (in the order of the leads given) and their totals."""

    policy: ReplayPolicy
    outcomes: tuple[ReplayOutcome, ...]
    expected_conversions: float
    sla_breaches: int
    late_first_contacts: int
    """Assigned, first contact after its deadline."""
    waited: int
    """Found no eligible advisor on arrival (assigned later or not at all)."""
    unassigned: int
    leads_per_advisor: IntArray
    """Leads assigned to each advisor of the table over the replay."""
    load_cv: float
    """Coefficient of variation of each advisor's leads per unit of ``max_open_leads``,
    relative to the mean of their store (a store's volume, which no policy changes, does
    not count), over the stores that got leads."""
    load_max_over_mean: float
    """The largest of those relative loads (1 = everyone at their store's mean)."""


_PRIOR = PriorCandidateScorer()
_DEFAULT_ROUTING = RoutingPolicy()


def replay(
    table: RoutingTable,
    leads: Sequence[LeadRequest],
    policy: ReplayPolicy,
    *,
    model: HandlingModel | None = None,
    handling: LeadHandling | None = None,
    scorer: CandidateScorer = _PRIOR,
    evaluation: CandidateScorer | None = None,
    routing: RoutingPolicy = _DEFAULT_ROUTING,
) -> ReplayReport:
    """Replay ``leads`` through ``policy`` (module docstring). ``handling`` (aligned with
    ``leads``) defaults to ``draw_handling(len(leads), model)``; ``evaluation`` to
    ``scorer``."""
    if not isinstance(policy, ReplayPolicy):
        raise InvalidArgument("policy", f"must be a ReplayPolicy, got {policy!r}")
    model = model or HandlingModel()
    handling = handling or draw_handling(len(leads), model)
    if len(handling.holding_minutes) != len(leads):
        raise InvalidArgument(
            "handling", f"has {len(handling.holding_minutes)} leads, not {len(leads)}"
        )
    ids = [lead.lead_id for lead in leads]
    if len(set(ids)) != len(ids):
        raise InvalidArgument("leads", "holds a lead_id twice; replay each lead once")
    sim = _Replay(table, leads, policy, model, handling, scorer, evaluation or scorer, routing)
    sim.run()
    return sim.report()


class _Replay:
    """The event loop of one replay: releases, shift starts and arrivals in time order
    (seconds after the first arrival; at one instant releases first, arrivals last)."""

    def __init__(
        self,
        table: RoutingTable,
        leads: Sequence[LeadRequest],
        policy: ReplayPolicy,
        model: HandlingModel,
        handling: LeadHandling,
        scorer: CandidateScorer,
        evaluation: CandidateScorer,
        routing: RoutingPolicy,
    ) -> None:
        self.table, self.leads, self.policy, self.model = table, leads, policy, model
        self.handling, self.scorer, self.routing = handling, scorer, routing
        self.evaluation = evaluation
        n, m = len(leads), table.n_advisors
        self.t0 = min((lead.created_at for lead in leads), default=_EPOCH)
        self.arrival = np.array([(x.created_at - self.t0).total_seconds() for x in leads])
        self.open = np.zeros(m, dtype=np.int64)
        self.recent = np.zeros(m, dtype=np.int64)
        self.contact_ends: list[list[float]] = [[] for _ in range(m)]
        self.day: object = None
        self.contact_free = np.full(m, -math.inf)
        self.last_assigned = np.full(m, -math.inf)
        self.turn: dict[str, int] = {}
        self.waiting: dict[str, list[int]] = {}
        self.advisor = np.full(n, -1, dtype=np.int64)
        self.assigned = np.full(n, math.nan)
        self.contact = np.full(n, math.nan)
        self.score = np.full(n, math.nan)
        self.expected = np.zeros(n)
        self.waited = np.zeros(n, dtype=np.bool_)
        self.reason = [""] * n
        self.last_try: dict[int, str] = {}
        """Lead -> why it found no eligible advisor the last time it was tried."""
        self.events: list[tuple[float, int, int, int]] = []
        self.seq = 0
        for i in np.argsort(self.arrival, kind="stable"):
            self._push(float(self.arrival[i]), _ARRIVAL, int(i))
        self._push_shift_starts()

    def _push(self, t: float, kind: int, item: int) -> None:
        heapq.heappush(self.events, (t, kind, self.seq, item))
        self.seq += 1

    def _push_shift_starts(self) -> None:
        if not len(self.arrival):
            return
        table = self.table
        first = self.t0.astimezone(table.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        last = float(self.arrival.max()) + self.model.max_wait_hours * 3600.0
        starts = sorted(
            {
                (int(table.advisor_store[a]), int(table.shift_start[a]))
                for a in range(table.n_advisors)
            }
        )
        day = 0
        while True:
            midnight = first + timedelta(days=day)
            base = (midnight - self.t0).total_seconds()
            if base > last:
                return
            for store, minute in starts:
                t = base + minute * 60.0
                if 0.0 <= t <= last:
                    self._push(t, _SHIFT_START, store)
            day += 1

    def now(self, t: float) -> datetime:
        return self.t0 + timedelta(seconds=t)

    def run(self) -> None:
        pending = len(self.leads)
        while self.events and (pending or any(self.waiting.values())):
            t, kind, _, item = heapq.heappop(self.events)
            if kind == _RELEASE:
                a = int(self.advisor[item])
                self.open[a] -= 1
                if self._on_shift(a, t):
                    self._retry(int(self.table.advisor_store[a]), t)
            elif kind == _SHIFT_START:
                self._retry(item, t)
            else:
                pending -= 1
                if not self._try(item, t):
                    lead = self.leads[item]
                    if self.reason[item]:  # not routable at all (unknown store or brand)
                        continue
                    self.waited[item] = True
                    scope = lead.store_id or f"region:{lead.region_id}"
                    self.waiting.setdefault(scope, []).append(item)
        for queue in self.waiting.values():  # every event up to max_wait after them is past
            for i in queue:
                self._give_up(i)

    def _on_shift(self, a: int, t: float) -> bool:
        minute = self.table.local_minute(self.now(t))
        since = (minute - int(self.table.shift_start[a])) % _DAY_MINUTES
        return since < int(self.table.shift_minutes[a]) - self.routing.shift_end_buffer_minutes

    def _retry(self, store: int, t: float) -> None:
        table = self.table
        store_id = table.store_ids[store]
        for scope in (store_id, f"region:{table.store_regions[store]}"):
            queue = self.waiting.get(scope)
            if not queue:
                continue
            left: list[int] = []
            for i in queue:
                if t - self.arrival[i] > self.model.max_wait_hours * 3600.0:
                    self._give_up(i)
                elif not self._try(i, t):
                    left.append(i)
            self.waiting[scope] = left

    def _give_up(self, i: int) -> None:
        hours = f"{self.model.max_wait_hours:g} h"
        self.reason[i] = f"unassigned: no eligible advisor within {hours}; last try: " + (
            self.last_try.get(i, "")
        )

    def _try(self, i: int, t: float) -> bool:
        """Route lead i at t; False when no advisor is eligible (or it cannot be routed)."""
        lead, now, table = self.leads[i], self.now(t), self.table
        day = now.astimezone(table.zone).date()
        if day != self.day:
            self.day = day
            self.recent[:] = 0
        try:
            if self.policy is ReplayPolicy.TURNWISE:
                decision = route(
                    table,
                    lead,
                    self.open,
                    now,
                    self.routing,
                    self.scorer,
                    recent_assignments=self.recent,
                    pending_first_contacts=self._pending(lead, t),
                )
                a, score, why = (
                    table.advisor_index[decision.advisor_id],
                    decision.score,
                    decision.reason,
                )
            else:
                found = eligible_advisors(table, lead, self.open, now, self.routing)
                if len(found.candidates) == 0:
                    self.last_try[i] = found.diagnosis(lead.brand_id, False)
                    return False
                a, why = self._baseline(found.candidates, lead.store_id or lead.region_id)
                score = float(self.scorer(table, lead, np.array([a]), self.open[[a]])[0])
        except FailedPrecondition as err:
            if err.field != "lead":
                raise
            self.last_try[i] = err.hint
            return False
        except TurnwiseError as err:  # an unknown store, region or brand: never routable
            self.reason[i] = f"unassigned: {err}"
            return False
        self._assign(i, a, t, score, why)
        return True

    def _pending(self, lead: LeadRequest, t: float) -> IntArray:
        """First contacts each advisor of the lead's scope still owes at t (assigned, the
        contact not ended yet); 0 for the advisors out of scope, who are never candidates."""
        table = self.table
        scope = table.rows_of_store.get(lead.store_id) if lead.store_id else None
        if scope is None:
            scope = table.rows_of_region.get(lead.region_id, np.arange(0))
        pending = np.zeros(table.n_advisors, dtype=np.int64)
        for a in scope:
            pending[a] = sum(1 for end in self.contact_ends[int(a)] if end > t)
        return pending

    def _baseline(self, candidates: IntArray, scope: str) -> tuple[int, str]:
        if self.policy is ReplayPolicy.ROUND_ROBIN:
            after = self.turn.get(scope, -1)
            later = candidates[candidates > after]
            a = int(later[0]) if len(later) else int(candidates[0])
            self.turn[scope] = a
            return a, f"round-robin: next in turn of {scope}"
        load = self.open[candidates]
        fewest = candidates[load == load.min()]
        a = int(fewest[np.argmin(self.last_assigned[fewest])])  # argmin: first of equals
        return a, f"least loaded: {int(self.open[a])} open leads"

    def _assign(self, i: int, a: int, t: float, score: float, why: str) -> None:
        lead, table = self.leads[i], self.table
        before = int(self.open[a])
        expected = self.evaluation(table, lead, np.array([a]), self.open[[a]])
        self.open[a] += 1
        self.recent[a] += 1
        self.last_assigned[a] = t
        work = self.handling.contact_minutes[i] * (
            1.0 + self.model.load_slowdown * before / max(int(table.max_open_leads[a]), 1)
        )
        self.contact[i] = max(t, self.contact_free[a]) + 60.0 * work
        self.contact_free[a] = self.contact[i]
        self.contact_ends[a] = [e for e in self.contact_ends[a] if e > t] + [self.contact[i]]
        self.advisor[i], self.assigned[i], self.score[i] = a, t, score
        self.expected[i] = float(expected[0])
        wait = t - self.arrival[i]
        self.reason[i] = f"waited {wait / 3600:.1f} h; {why}" if self.waited[i] else why
        self._push(t + 60.0 * float(self.handling.holding_minutes[i]), _RELEASE, i)

    def report(self) -> ReplayReport:
        table, outcomes = self.table, []
        late = breaches = 0
        for i, lead in enumerate(self.leads):
            a, t = int(self.advisor[i]), float(self.assigned[i])
            due = None if a < 0 else self.now(t) + self.routing.first_contact_sla(lead.grade)
            is_late = due is not None and self.now(float(self.contact[i])) > due
            late += int(is_late)
            breached = bool(is_late or self.waited[i] or a < 0)
            breaches += int(breached)
            outcomes.append(
                ReplayOutcome(
                    lead_id=lead.lead_id,
                    advisor_id=table.advisor_ids[a] if a >= 0 else "",
                    score=float(self.score[i]),
                    expected_conversion=float(self.expected[i]),
                    reason=self.reason[i] or "unassigned",
                    arrived_at=lead.created_at,
                    assigned_at=self.now(t) if a >= 0 else None,
                    first_contact_due=due,
                    first_contact_at=self.now(float(self.contact[i])) if a >= 0 else None,
                    released_at=(
                        self.now(t + 60.0 * float(self.handling.holding_minutes[i]))
                        if a >= 0
                        else None
                    ),
                    waited=bool(self.waited[i]),
                    sla_breached=breached,
                )
            )
        assigned = self.advisor[self.advisor >= 0]
        counts = np.bincount(assigned, minlength=table.n_advisors).astype(np.int64)
        cv, peak = _spread(counts, table)
        return ReplayReport(
            policy=self.policy,
            outcomes=tuple(outcomes),
            expected_conversions=math.fsum(self.expected.tolist()),
            sla_breaches=breaches,
            late_first_contacts=late,
            waited=int(self.waited.sum()),
            unassigned=int((self.advisor < 0).sum()),
            leads_per_advisor=counts,
            load_cv=cv,
            load_max_over_mean=peak,
        )


def _spread(counts: IntArray, table: RoutingTable) -> tuple[float, float]:
    """(coefficient of variation, max) over the advisors of the stores that got leads of
    each advisor's leads per unit of ``max_open_leads`` over their store's mean of it."""
    capacity = table.max_open_leads.astype(np.float64)
    per = np.divide(counts, capacity, out=np.zeros(len(counts)), where=capacity > 0)
    store, has = table.advisor_store, capacity > 0
    n_stores = len(table.store_ids)
    total = np.bincount(store[has], weights=per[has], minlength=n_stores)
    size = np.bincount(store[has], minlength=n_stores)
    mean = np.divide(total, size, out=np.zeros(n_stores), where=size > 0)[store]
    keep = has & (mean > 0)
    if not keep.any():
        return 0.0, 0.0
    relative = per[keep] / mean[keep]
    return float(relative.std() / relative.mean()), float(relative.max())
