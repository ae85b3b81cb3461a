"""ScenarioService: stored plans (get, list, compare, approve). Creating and running
scenarios needs the allocation engines and answers UNIMPLEMENTED until they land."""

from __future__ import annotations

import grpc
from sqlalchemy import Connection

from serving.convert import plans as convert
from serving.errors import grpc_errors
from serving.services.writes import idempotent_write
from serving.store import plans as store
from serving.store.db import Database
from turnwise.errors import InvalidArgument, Unimplemented
from turnwise.v1 import scenarios_pb2 as pb
from turnwise.v1 import scenarios_pb2_grpc

__all__ = ["ScenarioServicer"]

_PENDING = "it arrives with the pick-up mix (issue 4) and transfer (issue 5) optimisers"


def _page(size: int, token: str) -> tuple[int, int]:
    if not 0 <= size <= 1000:
        raise InvalidArgument("page_size", f"must be within [0, 1000], got {size}")
    if token and not token.isdigit():
        raise InvalidArgument("page_token", "is not a token returned by this RPC")
    return size or 100, int(token or 0)


class ScenarioServicer(scenarios_pb2_grpc.ScenarioServiceServicer):
    def __init__(self, db: Database) -> None:
        self.db = db

    @grpc_errors
    async def CreateScenario(
        self, request: pb.CreateScenarioRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateScenarioResponse:
        raise Unimplemented(
            "", f"ScenarioService.CreateScenario is not implemented yet: {_PENDING}"
        )

    @grpc_errors
    async def RunScenario(
        self, request: pb.RunScenarioRequest, context: grpc.aio.ServicerContext
    ) -> pb.RunScenarioResponse:
        raise Unimplemented("", f"ScenarioService.RunScenario is not implemented yet: {_PENDING}")

    @grpc_errors
    async def GetPlan(
        self, request: pb.GetPlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPlanResponse:
        if not request.plan_id:
            raise InvalidArgument("plan_id", "is required")
        if request.version < 0:
            raise InvalidArgument("version", "must be >= 0 (0 = latest)")

        def read() -> pb.GetPlanResponse:
            with self.db.read() as conn:
                return convert.plan_to_response(
                    store.get_plan(conn, request.plan_id, request.version)
                )

        return await self.db.run(read)

    @grpc_errors
    async def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPlansResponse:
        size, offset = _page(request.page_size, request.page_token)

        def read() -> pb.ListPlansResponse:
            with self.db.read() as conn:
                found = store.list_plans(
                    conn,
                    convert.kind_from_pb(request.kind),
                    convert.status_from_pb(request.status),
                    scope=request.scope,
                    limit=size + 1,
                    offset=offset,
                )
            token = str(offset + size) if len(found) > size else ""
            return pb.ListPlansResponse(
                plans=[convert.plan_ref_to_pb(p) for p in found[:size]], next_page_token=token
            )

        return await self.db.run(read)

    @grpc_errors
    async def ComparePlans(
        self, request: pb.ComparePlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ComparePlansResponse:
        if not request.plan_ids:
            raise InvalidArgument("plan_ids", "name at least one plan")

        def read() -> pb.ComparePlansResponse:
            with self.db.read() as conn:
                found = [store.get_plan(conn, pid) for pid in request.plan_ids]
            return pb.ComparePlansResponse(plans=[convert.plan_kpis_to_pb(p) for p in found])

        return await self.db.run(read)

    @grpc_errors
    async def ApprovePlan(
        self, request: pb.ApprovePlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApprovePlanResponse:
        if not request.plan_id:
            raise InvalidArgument("plan_id", "is required")
        if request.version < 1:
            raise InvalidArgument("version", "is required: the version to approve (>= 1)")

        def write(conn: Connection) -> pb.ApprovePlanResponse:
            plan = store.approve_plan(conn, request.plan_id, request.version, request.approved_by)
            return pb.ApprovePlanResponse(plan=convert.plan_ref_to_pb(plan))

        return await idempotent_write(
            self.db, "ApprovePlan", request.idempotency_key, request, pb.ApprovePlanResponse, write
        )
