"""SLA timings of lead routing: the defaults of issue 6 and overrides per grade, channel or
both (``SlaRules.for_lead`` resolves them, most specific first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dealer_group.records import LeadChannel, LeadGrade
from lead_routing.sla_state import _require_positive, _span
from turnwise.errors import InvalidArgument

__all__ = ["SlaOverride", "SlaRules", "SlaTimings"]


@dataclass(frozen=True)
class SlaTimings:
    """The effective SLA of one lead; ``escalate_after`` is None when it never escalates."""

    first_contact: timedelta
    recycle_after: timedelta
    escalate_after: timedelta | None

    def __post_init__(self) -> None:
        _require_positive("first_contact", self.first_contact)
        _require_positive("recycle_after", self.recycle_after)
        if self.escalate_after is not None:
            _require_positive("escalate_after", self.escalate_after)


@dataclass(frozen=True)
class SlaOverride:
    """Timings for the leads of one grade, one channel, or both; None fields inherit.

    ``escalates`` turns escalation on or off for those leads (None: by ``escalate_grades``);
    ``escalate_after`` only sets its delay.
    """

    grade: LeadGrade | None = None
    channel: LeadChannel | None = None
    first_contact: timedelta | None = None
    recycle_after: timedelta | None = None
    escalate_after: timedelta | None = None
    escalates: bool | None = None

    def __post_init__(self) -> None:
        if self.grade is None and self.channel is None:
            raise InvalidArgument("grade", "set grade, channel or both (defaults are SlaRules')")
        if self.grade is not None and not isinstance(self.grade, LeadGrade):
            raise InvalidArgument("grade", f"must be a LeadGrade, got {self.grade!r}")
        if self.channel is not None and not isinstance(self.channel, LeadChannel):
            raise InvalidArgument("channel", f"must be a LeadChannel, got {self.channel!r}")
        for name in ("first_contact", "recycle_after", "escalate_after"):
            if getattr(self, name) is not None:
                _require_positive(name, getattr(self, name))
        if self.escalates is False and self.escalate_after is not None:
            raise InvalidArgument("escalate_after", "is set but escalates is False: drop one")
        if (self.first_contact, self.recycle_after, self.escalate_after, self.escalates) == (
            (None,) * 4
        ):
            raise InvalidArgument("first_contact", "the override changes nothing: set a timing")


@dataclass(frozen=True)
class SlaRules:
    """Default SLA timings, the grades that escalate, and per grade/channel overrides."""

    first_contact: timedelta = timedelta(minutes=5)
    recycle_after: timedelta = timedelta(hours=2)
    escalate_after: timedelta = timedelta(hours=48)
    escalate_grades: frozenset[LeadGrade] = frozenset({LeadGrade.H, LeadGrade.A})
    overrides: tuple[SlaOverride, ...] = ()

    def __post_init__(self) -> None:
        _require_positive("first_contact", self.first_contact)
        _require_positive("recycle_after", self.recycle_after)
        _require_positive("escalate_after", self.escalate_after)
        object.__setattr__(self, "escalate_grades", frozenset(self.escalate_grades))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        for grade in self.escalate_grades:
            if not isinstance(grade, LeadGrade):
                raise InvalidArgument("escalate_grades", f"must hold LeadGrade, got {grade!r}")
        seen: dict[tuple[LeadGrade | None, LeadChannel | None], int] = {}
        for i, override in enumerate(self.overrides):
            if not isinstance(override, SlaOverride):
                raise InvalidArgument(f"overrides[{i}]", f"must be an SlaOverride: {override!r}")
            key = (override.grade, override.channel)
            if key in seen:
                raise InvalidArgument(f"overrides[{i}]", f"repeats overrides[{seen[key]}]")
            seen[key] = i
        for grade in LeadGrade:
            for channel in LeadChannel:
                timings, decided_by = self._resolve(grade, channel)
                if timings.first_contact > timings.recycle_after:
                    raise InvalidArgument(
                        "first_contact" if decided_by is None else f"overrides[{decided_by}]",
                        f"grade {grade.value}, channel {channel.value}: first contact "
                        f"{_span(timings.first_contact)} must not exceed recycle_after "
                        f"{_span(timings.recycle_after)}",
                    )

    def for_lead(self, grade: LeadGrade, channel: LeadChannel) -> SlaTimings:
        """The effective timings of a lead of this grade and channel."""
        return self._resolve(grade, channel)[0]

    def _resolve(self, grade: LeadGrade, channel: LeadChannel) -> tuple[SlaTimings, int | None]:
        """The timings, and the most specific override that matched (None if none did)."""
        first, recycle, delay = self.first_contact, self.recycle_after, self.escalate_after
        escalates = grade in self.escalate_grades
        matching = sorted(
            ((o.channel is not None) + 2 * (o.grade is not None), i, o)
            for i, o in enumerate(self.overrides)
            if o.grade in (None, grade) and o.channel in (None, channel)
        )
        for _, _, o in matching:
            first = o.first_contact if o.first_contact is not None else first
            recycle = o.recycle_after if o.recycle_after is not None else recycle
            delay = o.escalate_after if o.escalate_after is not None else delay
            escalates = o.escalates if o.escalates is not None else escalates
        timings = SlaTimings(first, recycle, delay if escalates else None)
        return timings, (matching[-1][1] if matching else None)
