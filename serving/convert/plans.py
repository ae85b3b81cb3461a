"""ScenarioService plan RPCs: stored plan records <-> protobuf."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from serving.convert.common import timestamp_to_pb
from serving.store.plans import PlanKind, PlanRecord, PlanStatus
from turnwise.v1 import allocation_pb2, common_pb2, scenarios_pb2

__all__ = [
    "kind_from_pb",
    "plan_kpis_to_pb",
    "plan_ref_to_pb",
    "plan_to_response",
    "status_from_pb",
]

_KIND: dict[int, PlanKind] = {
    common_pb2.PLAN_KIND_PICKUP: PlanKind.PICKUP,
    common_pb2.PLAN_KIND_TRANSFER: PlanKind.TRANSFER,
}
_STATUS: dict[int, PlanStatus] = {
    common_pb2.PLAN_STATUS_DRAFT: PlanStatus.DRAFT,
    common_pb2.PLAN_STATUS_APPROVED: PlanStatus.APPROVED,
    common_pb2.PLAN_STATUS_SUPERSEDED: PlanStatus.SUPERSEDED,
}


def kind_from_pb(value: int) -> PlanKind | None:
    """None for UNSPECIFIED (= any kind)."""
    return _KIND.get(value)


def status_from_pb(value: int) -> PlanStatus | None:
    return _STATUS.get(value)


def plan_ref_to_pb(plan: PlanRecord) -> common_pb2.PlanRef:
    return common_pb2.PlanRef(
        plan_id=plan.plan_id,
        version=plan.version,
        kind=f"PLAN_KIND_{plan.kind.value}",
        status=f"PLAN_STATUS_{plan.status.value}",
        scope=plan.scope,
        created_at=timestamp_to_pb(plan.created_at),
    )


def plan_kpis_to_pb(plan: PlanRecord) -> scenarios_pb2.PlanKpis:
    kpis = [
        common_pb2.Kpi(
            name=name,
            before=v.get("before", 0.0),
            after=v.get("after", 0.0),
            unit=v.get("unit", ""),
        )
        for name, v in sorted(plan.kpis.items())
    ]
    return scenarios_pb2.PlanKpis(plan=plan_ref_to_pb(plan), kpis=kpis)


def plan_to_response(plan: PlanRecord) -> scenarios_pb2.GetPlanResponse:
    """The stored body is the plan's protobuf JSON (as written by the planning RPC)."""
    response = scenarios_pb2.GetPlanResponse(plan=plan_ref_to_pb(plan))
    if plan.kind is PlanKind.PICKUP:
        json_format.ParseDict(plan.body, response.pickup, ignore_unknown_fields=True)
        response.pickup.plan.CopyFrom(response.plan)
    else:
        json_format.ParseDict(plan.body, response.transfers, ignore_unknown_fields=True)
        response.transfers.plan.CopyFrom(response.plan)
    return response


def body_to_json(
    body: allocation_pb2.PlanPickupResponse | allocation_pb2.PlanTransfersResponse,
) -> dict[str, Any]:
    return json_format.MessageToDict(body, preserving_proto_field_name=True)
