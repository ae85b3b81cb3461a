"""Messages of LeadRoutingService <-> lead routing's records (``lead_routing.routing``,
``lead_routing.sla``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dealer_group.records import Lead
from lead_routing.routing import LeadRequest
from lead_routing.sla import FollowUpKind
from serving.convert.common import build_each, enum_from_pb, timestamp_to_pb
from serving.convert.network import lead_from_pb
from turnwise.errors import InvalidArgument
from turnwise.v1 import lead_routing_pb2 as pb
from turnwise.v1 import network_pb2

__all__ = [
    "MAX_BATCH_LEADS",
    "assignment_to_pb",
    "follow_up_kind",
    "lead_request",
    "lead_to_pb",
    "routed_lead",
    "routed_leads",
]

MAX_BATCH_LEADS = 20_000
"""Most leads one RouteLeads call may carry (10,000 x 1,000 advisors solves in seconds)."""


def routed_lead(message: network_pb2.Lead) -> Lead:
    """The lead of a RouteLead request; the historical fields must be empty."""
    if message.advisor_id:
        raise InvalidArgument(
            "advisor_id",
            "is historical only (UpsertLeads); a lead to route has no advisor yet",
        )
    lead = lead_from_pb(message)
    lead_request(lead)  # the routing checks (channel, grade, brand, store or region)
    return lead


def routed_leads(leads: Sequence[network_pb2.Lead]) -> list[Lead]:
    """The leads of a RouteLeads request: at least one, each lead_id once."""
    if not leads:
        raise InvalidArgument("leads", "is empty; send at least one lead")
    if len(leads) > MAX_BATCH_LEADS:
        raise InvalidArgument(
            "leads", f"holds {len(leads)} leads; at most {MAX_BATCH_LEADS} per call"
        )
    records = build_each("leads", leads, routed_lead)
    seen: dict[str, int] = {}
    for i, lead in enumerate(records):
        if lead.lead_id in seen:
            raise InvalidArgument(
                f"leads[{i}].lead_id",
                f"{lead.lead_id!r} is also leads[{seen[lead.lead_id]}]; send each lead once",
            )
        seen[lead.lead_id] = i
    return records


def lead_request(lead: Lead) -> LeadRequest:
    return LeadRequest(
        lead_id=lead.lead_id,
        created_at=lead.created_at,
        channel=lead.channel.value,
        brand_id=lead.brand_id,
        grade=lead.grade.value,
        store_id=lead.store_id,
        region_id=lead.region_id,
        model=lead.model,
        phone=lead.phone,
        wechat_id=lead.wechat_id,
        tags=lead.tags,
    )


def lead_to_pb(lead: Lead) -> network_pb2.Lead:
    return network_pb2.Lead(
        lead_id=lead.lead_id,
        created_at=timestamp_to_pb(lead.created_at),
        channel=getattr(network_pb2, f"LEAD_CHANNEL_{lead.channel.value}"),
        store_id=lead.store_id,
        region_id=lead.region_id,
        brand_id=lead.brand_id,
        model=lead.model,
        grade=getattr(network_pb2, f"LEAD_GRADE_{lead.grade.value}"),
        phone=lead.phone,
        wechat_id=lead.wechat_id,
        tags=list(lead.tags),
        advisor_id=lead.advisor_id,
        converted=bool(lead.converted),
    )


def follow_up_kind(number: int) -> FollowUpKind:
    return enum_from_pb("kind", number, pb.FollowUpKind, FollowUpKind, "FOLLOW_UP_KIND_")


def assignment_to_pb(
    lead_id: str,
    advisor_id: str,
    score: float,
    reason: str,
    first_contact_due: datetime | None,
    replayed: bool,
) -> pb.Assignment:
    out = pb.Assignment(
        lead_id=lead_id, advisor_id=advisor_id, score=score, reason=reason, replayed=replayed
    )
    if first_contact_due is not None:
        out.first_contact_due.CopyFrom(timestamp_to_pb(first_contact_due))
    return out
