"""Stored plans: versioned, with the lifecycle draft -> approved -> superseded.

A plan id names one planning question (e.g. the pick-up mix of one region); each re-solve
adds a version as a draft. Approving a version supersedes the previously approved plan of
the same kind and scope ("group", "region:R01", "store:S001"), so the DMS finds at most
one approved plan per kind and scope.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from serving.store import tables as t
from turnwise.errors import FailedPrecondition, InvalidArgument, NotFound

__all__ = [
    "GROUP_SCOPE",
    "PlanKind",
    "PlanRecord",
    "PlanStatus",
    "approve_plan",
    "get_plan",
    "list_plans",
    "save_draft",
    "transfer_approvals",
]


GROUP_SCOPE = "group"
_SCOPE = re.compile(r"^(group|region:[A-Za-z0-9_.:\-]{1,64}|store:[A-Za-z0-9_.:\-]{1,64})$")


class PlanKind(enum.Enum):
    PICKUP = "PICKUP"
    TRANSFER = "TRANSFER"


class PlanStatus(enum.Enum):
    DRAFT = "DRAFT"
    APPROVED = "APPROVED"
    SUPERSEDED = "SUPERSEDED"


@dataclass(frozen=True)
class PlanRecord:
    plan_id: str
    version: int
    kind: PlanKind
    scope: str
    status: PlanStatus
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    kpis: dict[str, Any]
    body: dict[str, Any]


def _record(row: Any) -> PlanRecord:
    return PlanRecord(
        plan_id=row.plan_id,
        version=row.version,
        kind=PlanKind(row.kind),
        scope=row.scope,
        status=PlanStatus(row.status),
        created_at=row.created_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        kpis=dict(row.kpis),
        body=dict(row.body),
    )


def save_draft(
    conn: Connection,
    kind: PlanKind,
    kpis: dict[str, Any],
    body: dict[str, Any],
    plan_id: str | None = None,
    scope: str = GROUP_SCOPE,
) -> PlanRecord:
    """Store a new draft: version 1 of a new plan, or the next version of ``plan_id``
    (which keeps the plan's scope)."""
    if not _SCOPE.match(scope):
        raise InvalidArgument("scope", f"{scope!r} is not 'group', 'region:<id>' or 'store:<id>'")
    if plan_id is None:
        plan_id = f"{kind.value.lower()}-{uuid.uuid4().hex[:12]}"
        version = 1
    else:
        latest = conn.execute(
            select(
                func.max(t.plans.c.version), func.min(t.plans.c.kind), func.min(t.plans.c.scope)
            ).where(t.plans.c.plan_id == plan_id)
        ).one()
        if latest[0] is None:
            raise NotFound("plan_id", f"no plan {plan_id!r} to add a version to")
        if latest[1] != kind.value:
            raise InvalidArgument(
                "plan_id", f"plan {plan_id!r} is a {latest[1]} plan, not {kind.value}"
            )
        version, scope = int(latest[0]) + 1, str(latest[2])
    row = {
        "plan_id": plan_id,
        "version": version,
        "kind": kind.value,
        "scope": scope,
        "status": PlanStatus.DRAFT.value,
        "created_at": datetime.now(UTC),
        "approved_by": None,
        "approved_at": None,
        "kpis": kpis,
        "body": body,
    }
    conn.execute(insert(t.plans), [row])
    return get_plan(conn, plan_id, version)


def get_plan(conn: Connection, plan_id: str, version: int = 0) -> PlanRecord:
    """One version of a plan; ``version`` 0 means the latest."""
    q = select(t.plans).where(t.plans.c.plan_id == plan_id)
    q = q.where(t.plans.c.version == version) if version else q.order_by(t.plans.c.version.desc())
    row = conn.execute(q.limit(1)).first()
    if row is None:
        what = f"version {version} of plan {plan_id!r}" if version else f"plan {plan_id!r}"
        raise NotFound("plan_id", f"no {what}; ListPlans shows the stored plans")
    return _record(row)


def list_plans(
    conn: Connection,
    kind: PlanKind | None = None,
    status: PlanStatus | None = None,
    scope: str = "",
    limit: int = 100,
    offset: int = 0,
) -> list[PlanRecord]:
    """Plans newest first (every version is listed)."""
    q = select(t.plans)
    if kind is not None:
        q = q.where(t.plans.c.kind == kind.value)
    if status is not None:
        q = q.where(t.plans.c.status == status.value)
    if scope:
        q = q.where(t.plans.c.scope == scope)
    q = q.order_by(t.plans.c.created_at.desc(), t.plans.c.plan_id, t.plans.c.version.desc())
    return [_record(r) for r in conn.execute(q.limit(limit).offset(offset))]


def approve_plan(conn: Connection, plan_id: str, version: int, approved_by: str) -> PlanRecord:
    """Approve the latest version of a draft plan; supersede the approved plan of the
    same kind and scope."""
    if not approved_by:
        raise InvalidArgument("approved_by", "is required: who approves the plan")
    plan = get_plan(conn, plan_id, version)
    latest = get_plan(conn, plan_id)
    if plan.version != latest.version:
        raise FailedPrecondition(
            "version",
            f"version {version} of plan {plan_id!r} is not the latest ({latest.version}); "
            "approve the latest version",
        )
    if plan.status is not PlanStatus.DRAFT:
        raise FailedPrecondition(
            "plan_id", f"plan {plan_id!r} version {version} is {plan.status.value}, not a DRAFT"
        )
    conn.execute(
        update(t.plans)
        .where(
            t.plans.c.kind == plan.kind.value,
            t.plans.c.scope == plan.scope,
            t.plans.c.status == PlanStatus.APPROVED.value,
        )
        .values(status=PlanStatus.SUPERSEDED.value)
    )
    conn.execute(
        update(t.plans)
        .where(t.plans.c.plan_id == plan_id, t.plans.c.version == plan.version)
        .values(
            status=PlanStatus.APPROVED.value, approved_by=approved_by, approved_at=datetime.now(UTC)
        )
    )
    return get_plan(conn, plan_id, plan.version)


def transfer_approvals(conn: Connection) -> list[tuple[dict[str, Any], date]]:
    """The body of every transfer plan version ever approved (approved or superseded since)
    and the day it was approved: the moves the group has executed."""
    rows = conn.execute(
        select(t.plans.c.body, t.plans.c.approved_at).where(
            (t.plans.c.kind == PlanKind.TRANSFER.value) & t.plans.c.approved_at.is_not(None)
        )
    ).all()
    return [(dict(body), approved_at.date()) for body, approved_at in rows]
