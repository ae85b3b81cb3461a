"""NetworkService: DMS and OEM ingestion, and the network summary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
from sqlalchemy import Connection

from serving.convert import network as convert
from serving.convert.common import check_not_empty, summary_to_pb
from serving.errors import grpc_errors
from serving.services.writes import idempotent_write
from serving.store import network as store
from serving.store.db import Database
from serving.store.upsert import WriteCounts
from turnwise.errors import ResourceExhausted
from turnwise.v1 import network_pb2 as pb
from turnwise.v1 import network_pb2_grpc

__all__ = ["MAX_SCHEDULE_LINES", "NetworkServicer"]

MAX_SCHEDULE_LINES = 2_000_000


def _upsert_rpc(
    method: str,
    items_field: str,
    to_records: Callable[[Any], Sequence[Any]],
    write: Callable[[Connection, Any], WriteCounts],
    response_type: type[Any],
) -> Callable[..., Any]:
    """A unary upsert handler: validate every record, then write them all in one
    idempotent transaction, answering a WriteSummary."""

    @grpc_errors
    async def handler(
        self: NetworkServicer, request: Any, context: grpc.aio.ServicerContext
    ) -> Any:
        check_not_empty(items_field, getattr(request, items_field))
        records = await self.db.run(to_records, request)  # large requests: off the loop

        def do(conn: Connection) -> Any:
            return response_type(summary=summary_to_pb(write(conn, records)))

        response = await idempotent_write(
            self.db, method, request.idempotency_key, request, response_type, do
        )
        self.on_change()
        return response

    handler.__name__ = handler.__qualname__ = method
    return handler


class NetworkServicer(network_pb2_grpc.NetworkServiceServicer):
    def __init__(self, db: Database, on_change: Callable[[], None] = lambda: None) -> None:
        """``on_change`` is called after every write (lead routing drops its cached
        table of advisors)."""
        self.db = db
        self.on_change = on_change

    UpsertRegions = _upsert_rpc(
        "UpsertRegions",
        "regions",
        convert.regions_from_pb,
        store.upsert_regions,
        pb.UpsertRegionsResponse,
    )
    UpsertBrands = _upsert_rpc(
        "UpsertBrands",
        "brands",
        convert.brands_from_pb,
        store.upsert_brands,
        pb.UpsertBrandsResponse,
    )
    UpsertStores = _upsert_rpc(
        "UpsertStores",
        "stores",
        convert.stores_from_pb,
        store.upsert_stores,
        pb.UpsertStoresResponse,
    )
    UpsertTrims = _upsert_rpc(
        "UpsertTrims", "trims", convert.trims_from_pb, store.upsert_trims, pb.UpsertTrimsResponse
    )
    UpsertVehicles = _upsert_rpc(
        "UpsertVehicles",
        "vehicles",
        convert.vehicles_from_pb,
        store.upsert_vehicles,
        pb.UpsertVehiclesResponse,
    )
    RecordSales = _upsert_rpc(
        "RecordSales", "sales", convert.sales_from_pb, store.record_sales, pb.RecordSalesResponse
    )
    UpsertAdvisors = _upsert_rpc(
        "UpsertAdvisors",
        "advisors",
        convert.advisors_from_pb,
        store.upsert_advisors,
        pb.UpsertAdvisorsResponse,
    )
    UpsertLeads = _upsert_rpc(
        "UpsertLeads", "leads", convert.leads_from_pb, store.upsert_leads, pb.UpsertLeadsResponse
    )

    @grpc_errors
    async def StreamProductionSchedule(
        self,
        request_iterator: AsyncIterator[pb.ProductionScheduleChunk],
        context: grpc.aio.ServicerContext,
    ) -> pb.StreamProductionScheduleResponse:
        chunks: list[pb.ProductionScheduleChunk] = []
        lines = 0
        async for chunk in request_iterator:
            lines += len(chunk.lines)
            if lines > MAX_SCHEDULE_LINES:
                raise ResourceExhausted(
                    "lines",
                    f"a schedule holds at most {MAX_SCHEDULE_LINES} lines; split it by week",
                )
            chunks.append(chunk)
        schedule = await self.db.run(convert.schedule_from_chunks, chunks)
        key = chunks[0].idempotency_key
        body = b"".join(c.SerializeToString(deterministic=True) for c in chunks)

        def do(conn: Connection) -> pb.StreamProductionScheduleResponse:
            counts = store.store_schedule(conn, schedule)
            return pb.StreamProductionScheduleResponse(
                oem=schedule.oem,
                schedule_version=schedule.version,
                chunks=len(chunks),
                lines=len(schedule.lines),
                summary=summary_to_pb(counts),
            )

        return await idempotent_write(
            self.db, "StreamProductionSchedule", key, body, pb.StreamProductionScheduleResponse, do
        )

    @grpc_errors
    async def GetNetworkSummary(
        self, request: pb.GetNetworkSummaryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetNetworkSummaryResponse:
        def read() -> pb.GetNetworkSummaryResponse:
            with self.db.read() as conn:
                return convert.summary_to_response(store.network_summary(conn))

        return await self.db.run(read)
