"""The lead-routing rules file (``TURNWISE_ROUTING_RULES_PATH``): the routing policy's
weights and the SLA timings, with overrides per grade, channel or both, in TOML.

Every key is optional; a missing one keeps its default (``RoutingPolicy``, ``SlaRules``)::

    [policy]
    grade_urgency = { H = 10.0, A = 5.0, B = 1.0, C = -1.0 }
    load_weight = 5.0
    share_weight = 0.05
    share_floor = 0.2
    pending_weight = 1.0
    shift_end_buffer_minutes = 0
    sticky_owner = true

    [sla]
    first_contact_minutes = 5
    recycle_after_minutes = 120
    escalate_after_hours = 48
    escalate_grades = ["H", "A"]
    reroute_recycled = true

    [[sla.overrides]]           # the most specific match wins: grade and channel, grade,
    grade = "H"                 # channel, then the defaults above
    channel = "DOUYIN"
    first_contact_minutes = 3

    [[sla.overrides]]
    channel = "WALK_IN"
    escalates = false

An unknown key, a value of the wrong type or out of range raises ``InvalidArgument`` naming
it by its path in the file (``routing_rules:sla.overrides[1].channel``), so the server does
not start on a file it would misread. While it runs, the server looks at the file every
``rules_poll_seconds`` (5 s; ``RulesFile``) and routes with its new rules from the next
call on; a changed file that does not parse is logged with the key at fault and the rules
in force stay. Leads already routed keep the deadlines they were given.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from dealer_group.records import LeadChannel, LeadGrade
from lead_routing.routing import GRADES, RoutingPolicy
from lead_routing.sla_rules import SlaOverride, SlaRules
from turnwise.errors import InvalidArgument

__all__ = ["RoutingRules", "RulesFile", "load_routing_rules", "parse_routing_rules"]

T = TypeVar("T")
_FILE = "routing_rules"
_WEIGHTS = ("load_weight", "share_weight", "share_floor", "pending_weight")
_SPANS: dict[str, tuple[str, Callable[[float], timedelta]]] = {
    "first_contact_minutes": ("first_contact", lambda v: timedelta(minutes=v)),
    "recycle_after_minutes": ("recycle_after", lambda v: timedelta(minutes=v)),
    "escalate_after_hours": ("escalate_after", lambda v: timedelta(hours=v)),
}


@dataclass(frozen=True)
class RoutingRules:
    """What a rules file sets: the routing policy, the SLA rules, and whether a recycled
    lead is re-routed at once."""

    policy: RoutingPolicy = field(default_factory=RoutingPolicy)
    sla: SlaRules = field(default_factory=SlaRules)
    reroute_recycled: bool = True


def load_routing_rules(path: str | Path) -> RoutingRules:
    """The rules of the TOML file at ``path`` (module docstring)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidArgument(_FILE, f"cannot read {file}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise InvalidArgument(_FILE, f"{file} is not UTF-8 text: {err.reason}") from None
    return parse_routing_rules(text)


class RulesFile:
    """The rules file of a running server, watched for changes: ``changed()`` answers its
    rules when the file changed (modification time, size or inode) since it was last
    read, and None when it did not. Build it before the first read, so that a change made
    while the server starts is read again."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen = _stamp(self.path)

    def read(self) -> RoutingRules:
        """The rules of the file now (``load_routing_rules``)."""
        return load_routing_rules(self.path)

    def changed(self) -> RoutingRules | None:
        """The file's rules when it changed since the last look, else None. A changed file
        that cannot be read or parsed raises ``InvalidArgument`` naming the key, once: it
        is not read again until it changes again."""
        stamp = _stamp(self.path)
        if stamp == self._seen:
            return None
        self._seen = stamp
        return self.read()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def parse_routing_rules(text: str) -> RoutingRules:
    """The rules of a TOML document (module docstring)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InvalidArgument(_FILE, f"is not valid TOML: {err}") from None
    _known(doc, ("policy", "sla"), "")
    policy = _policy(_table(doc, "policy", ""))
    sla_doc = _table(doc, "sla", "")
    _known(sla_doc, (*_SPANS, "escalate_grades", "reroute_recycled", "overrides"), "sla.")
    reroute = _typed(sla_doc, "reroute_recycled", bool, "sla.", True)
    return RoutingRules(policy, _sla(sla_doc), reroute)


def _policy(doc: Mapping[str, Any]) -> RoutingPolicy:
    keys = ("grade_urgency", *_WEIGHTS, "shift_end_buffer_minutes", "sticky_owner")
    _known(doc, keys, "policy.")
    values: dict[str, Any] = {}
    if "grade_urgency" in doc:
        urgency = _table(doc, "grade_urgency", "policy.")
        _known(urgency, GRADES, "policy.grade_urgency.")
        missing = [g for g in GRADES if g not in urgency]
        if missing:
            raise InvalidArgument(
                f"{_FILE}:policy.grade_urgency", f"must give every grade of {GRADES}; "
                f"{', '.join(missing)} missing",
            )  # fmt: skip
        values["grade_urgency"] = tuple(
            (g, _number(urgency, g, "policy.grade_urgency.")) for g in GRADES
        )
    for name in _WEIGHTS:
        if name in doc:
            values[name] = _number(doc, name, "policy.")
    if "shift_end_buffer_minutes" in doc:
        values["shift_end_buffer_minutes"] = _typed(
            doc, "shift_end_buffer_minutes", int, "policy.", 0
        )
    if "sticky_owner" in doc:
        values["sticky_owner"] = _typed(doc, "sticky_owner", bool, "policy.", True)
    return _checked("policy.", lambda: replace(RoutingPolicy(), **values))


def _sla(doc: Mapping[str, Any]) -> SlaRules:
    values: dict[str, Any] = _spans(doc, "sla.")
    if "escalate_grades" in doc:
        grades = doc["escalate_grades"]
        if not isinstance(grades, list):
            raise InvalidArgument(f"{_FILE}:sla.escalate_grades", "must be a list of grades")
        values["escalate_grades"] = frozenset(
            _enum(LeadGrade, g, f"sla.escalate_grades[{i}]") for i, g in enumerate(grades)
        )
    overrides = doc.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
        raise InvalidArgument(f"{_FILE}:sla.overrides", "must be an array of tables")
    values["overrides"] = tuple(
        _override(o, f"sla.overrides[{i}].") for i, o in enumerate(overrides)
    )
    return _checked("sla.", lambda: SlaRules(**values))


def _override(doc: Mapping[str, Any], where: str) -> SlaOverride:
    _known(doc, ("grade", "channel", *_SPANS, "escalates"), where)
    values: dict[str, Any] = _spans(doc, where)
    if "grade" in doc:
        values["grade"] = _enum(LeadGrade, doc["grade"], f"{where}grade")
    if "channel" in doc:
        values["channel"] = _enum(LeadChannel, doc["channel"], f"{where}channel")
    if "escalates" in doc:
        values["escalates"] = _typed(doc, "escalates", bool, where, True)
    return _checked(where, lambda: SlaOverride(**values))


def _spans(doc: Mapping[str, Any], where: str) -> dict[str, timedelta]:
    spans = {key: spec for key, spec in _SPANS.items() if key in doc}
    return {name: make(_number(doc, key, where)) for key, (name, make) in spans.items()}


def _checked(where: str, build: Callable[[], T]) -> T:
    """``build()``, its ``InvalidArgument`` renamed to the key's path in the file."""
    try:
        return build()
    except InvalidArgument as err:
        name = err.field.replace("first_contact", "first_contact_minutes")
        name = name.replace("recycle_after", "recycle_after_minutes")
        name = name.replace("escalate_after", "escalate_after_hours")
        raise InvalidArgument(f"{_FILE}:{where}{name}", err.hint) from None


def _known(doc: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in keys:
            raise InvalidArgument(
                f"{_FILE}:{where}{key}", f"is not a known key; expected one of {', '.join(keys)}"
            )


def _table(doc: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise InvalidArgument(f"{_FILE}:{where}{key}", "must be a table")
    return value


def _number(doc: Mapping[str, Any], key: str, where: str) -> float:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"{_FILE}:{where}{key}", f"must be a number, got {value!r}")
    return float(value)


def _typed(doc: Mapping[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    if key not in doc:
        return default
    value = doc[key]
    if type(value) is not kind:
        raise InvalidArgument(
            f"{_FILE}:{where}{key}", f"must be {kind.__name__}, got {value!r}"
        )  # fmt: skip
    return value


def _enum(kind: type[LeadGrade] | type[LeadChannel], value: object, where: str) -> Any:
    names = [m.value for m in kind]
    if value not in names:
        raise InvalidArgument(f"{_FILE}:{where}", f"{value!r} is not one of {', '.join(names)}")
    return kind(value)
