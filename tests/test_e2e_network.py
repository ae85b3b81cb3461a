"""End-to-end: a real server on 127.0.0.1, a real channel; health, reflection, ingestion,
idempotency, validation errors and UNIMPLEMENTED answers."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from turnwise.v1 import (
    allocation_pb2,
    allocation_pb2_grpc,
    common_pb2,
    network_pb2,
    network_pb2_grpc,
)


def _seed(stub: network_pb2_grpc.NetworkServiceStub) -> None:
    stub.UpsertRegions(
        network_pb2.UpsertRegionsRequest(
            regions=[network_pb2.Region(region_id="R01", name="East China")]
        )
    )
    stub.UpsertBrands(
        network_pb2.UpsertBrandsRequest(
            brands=[
                network_pb2.Brand(brand_id="B01", name="Toyota"),
                network_pb2.Brand(brand_id="B02", name="BYD", is_nev=True),
            ]
        )
    )


def _store(store_id: str = "S001", **kw: object) -> network_pb2.Store:
    fields: dict[str, object] = dict(
        store_id=store_id,
        name="Hangzhou Toyota 4S",
        region_id="R01",
        city="Hangzhou",
        store_type=network_pb2.STORE_TYPE_4S,
        latitude=30.27,
        longitude=120.15,
        lot_capacity=120,
        credit_limit_cny=30_000_000,
        authorised_brand_ids=["B01"],
    )
    fields.update(kw)
    return network_pb2.Store(**fields)  # type: ignore[arg-type]


def test_health_reports_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "turnwise.v1.NetworkService", "turnwise.v1.AllocationService"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_and_describes_the_contract(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    (listing,) = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in listing.list_services_response.service}
    assert {
        "turnwise.v1.NetworkService",
        "turnwise.v1.LeadRoutingService",
        "grpc.health.v1.Health",
    } <= names
    (described,) = stub.ServerReflectionInfo(
        iter(
            [
                reflection_pb2.ServerReflectionRequest(
                    file_containing_symbol="turnwise.v1.NetworkService"
                )
            ]
        )
    )
    proto = descriptor_pb2.FileDescriptorProto.FromString(
        described.file_descriptor_response.file_descriptor_proto[0]
    )
    assert proto.package == "turnwise.v1"
    assert "UpsertStores" in {m.name for m in proto.service[0].method}


def test_ingest_and_read_back_summary(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    first = stub.UpsertStores(
        network_pb2.UpsertStoresRequest(stores=[_store(), _store("S002", city="Ningbo")])
    )
    assert (first.summary.inserted, first.summary.updated) == (2, 0)
    again = stub.UpsertStores(
        network_pb2.UpsertStoresRequest(stores=[_store(), _store("S002", city="Wenzhou")])
    )
    assert (again.summary.inserted, again.summary.updated, again.summary.unchanged) == (0, 1, 1)
    summary = stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest())
    assert (summary.regions, summary.brands, summary.stores) == (1, 2, 2)


def test_malformed_request_names_the_field_and_stores_nothing(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    bad = [_store(), _store("S002", latitude=123.0)]
    with pytest.raises(grpc.RpcError) as err:
        stub.UpsertStores(network_pb2.UpsertStoresRequest(stores=bad))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("stores[1].latitude:")
    assert stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest()).stores == 0


def test_unknown_reference_is_rejected_with_a_fix(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    with pytest.raises(grpc.RpcError) as err:
        stub.UpsertStores(network_pb2.UpsertStoresRequest(stores=[_store(region_id="R99")]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "stores[0].region_id" in err.value.details() and "UpsertRegions" in err.value.details()


def test_missing_enum_is_invalid_argument(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    with pytest.raises(grpc.RpcError) as err:
        stub.UpsertStores(network_pb2.UpsertStoresRequest(stores=[_store(store_type=0)]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("stores[0].store_type: is required")


def test_idempotency_key_replays_and_rejects_reuse(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    req = network_pb2.UpsertStoresRequest(idempotency_key="dms-42", stores=[_store()])
    first = stub.UpsertStores(req)
    replay = stub.UpsertStores(req)
    assert first.summary.inserted == 1 and not first.summary.replayed
    assert replay.summary.inserted == 1 and replay.summary.replayed
    other = network_pb2.UpsertStoresRequest(
        idempotency_key="dms-42", stores=[_store(city="Ningbo")]
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.UpsertStores(other)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_production_schedule_stream_is_versioned(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    stub.UpsertTrims(
        network_pb2.UpsertTrimsRequest(
            trims=[
                network_pb2.Trim(
                    trim_id=f"T{i}",
                    brand_id="B01",
                    model="Camry",
                    trim=f"2.0 v{i}",
                    powertrain=network_pb2.POWERTRAIN_ICE,
                    msrp_cny=200_000,
                    cost_cny=190_000,
                    holding_cost_cny_per_day=40.0,
                )
                for i in (1, 2)
            ]
        )
    )

    def chunks(units: int) -> list[network_pb2.ProductionScheduleChunk]:
        week = common_pb2.Date(year=2026, month=11, day=2)
        return [
            network_pb2.ProductionScheduleChunk(
                oem="FAW-Toyota",
                schedule_version=1,
                lines=[network_pb2.ScheduleLine(week_start=week, trim_id="T1", max_units=units)],
            ),
            network_pb2.ProductionScheduleChunk(
                lines=[network_pb2.ScheduleLine(week_start=week, trim_id="T2", max_units=5)],
                bundles=[
                    network_pb2.Bundle(hot_trim_id="T1", slow_trim_id="T2", hot_units_per_slow=4)
                ],
            ),
        ]

    stored = stub.StreamProductionSchedule(iter(chunks(40)))
    assert (stored.chunks, stored.lines, stored.summary.inserted) == (2, 2, 3)
    same = stub.StreamProductionSchedule(iter(chunks(40)))
    assert same.summary.unchanged == 3 and same.summary.inserted == 0
    with pytest.raises(grpc.RpcError) as err:
        stub.StreamProductionSchedule(iter(chunks(41)))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "schedule_version" in err.value.details()
    summary = stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest())
    assert list(summary.schedule_versions) == ["FAW-Toyota:1"]


def test_plan_transfers_without_a_mode_names_the_field(channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanTransfers(allocation_pb2.PlanTransfersRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "mode" in err.value.details()


def test_concurrent_retries_with_one_key_write_once(channel: grpc.Channel) -> None:
    """A DMS that retries in parallel gets one write and the same answer every time."""
    from concurrent.futures import ThreadPoolExecutor

    stub = network_pb2_grpc.NetworkServiceStub(channel)
    _seed(stub)
    req = network_pb2.UpsertStoresRequest(idempotency_key="dms-burst", stores=[_store()])
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda _: stub.UpsertStores(req, timeout=30), range(32)))
    assert all(r.summary.inserted == 1 for r in replies)
    assert sum(not r.summary.replayed for r in replies) == 1
    assert stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest()).stores == 1
