"""End-to-end: stored plans through ScenarioService, bearer-token auth, metrics."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from serving.config import ServerConfig
from serving.convert.plans import body_to_json
from serving.observability import start_metrics_server
from serving.store import plans
from serving.store.db import Database
from tests.conftest import RunningServer
from turnwise.v1 import (
    allocation_pb2,
    common_pb2,
    network_pb2,
    network_pb2_grpc,
    scenarios_pb2,
    scenarios_pb2_grpc,
)


def test_plans_get_list_compare_approve(db: Database, channel: grpc.Channel) -> None:
    line = allocation_pb2.OrderLine(store_id="S001", trim_id="T1", units=4, reason="hot trim")
    body = body_to_json(allocation_pb2.PlanPickupResponse(lines=[line]))
    kpis = {"fill_rate": {"before": 0.8, "after": 0.93, "unit": "ratio"}}
    with db.write() as conn:
        plan = plans.save_draft(conn, plans.PlanKind.PICKUP, kpis, body)
        other = plans.save_draft(conn, plans.PlanKind.PICKUP, {}, {})
    stub = scenarios_pb2_grpc.ScenarioServiceStub(channel)

    got = stub.GetPlan(scenarios_pb2.GetPlanRequest(plan_id=plan.plan_id))
    assert got.plan.status == common_pb2.PLAN_STATUS_DRAFT
    assert got.WhichOneof("body") == "pickup" and got.pickup.lines[0] == line
    assert got.pickup.plan == got.plan

    listed = stub.ListPlans(scenarios_pb2.ListPlansRequest(page_size=1))
    assert len(listed.plans) == 1 and listed.next_page_token
    rest = stub.ListPlans(
        scenarios_pb2.ListPlansRequest(page_size=1, page_token=listed.next_page_token)
    )
    assert {listed.plans[0].plan_id, rest.plans[0].plan_id} == {plan.plan_id, other.plan_id}

    compared = stub.ComparePlans(scenarios_pb2.ComparePlansRequest(plan_ids=[plan.plan_id]))
    assert compared.plans[0].kpis[0].name == "fill_rate" and compared.plans[0].kpis[0].after == 0.93

    approve = scenarios_pb2.ApprovePlanRequest(
        plan_id=plan.plan_id, version=1, approved_by="hq-planner"
    )
    assert stub.ApprovePlan(approve).plan.status == common_pb2.PLAN_STATUS_APPROVED
    with pytest.raises(grpc.RpcError) as err:
        stub.ApprovePlan(approve)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as err:
        stub.GetPlan(scenarios_pb2.GetPlanRequest(plan_id="pickup-missing"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.fixture
def secured(db: Database) -> Iterator[RunningServer]:
    config = ServerConfig(
        host="127.0.0.1", port=0, metrics_port=-1, load_demo=False, auth_token="s3cret"
    )
    running = RunningServer(config, db)
    yield running
    running.stop()


def test_auth_token_is_required_except_for_health(secured: RunningServer) -> None:
    with grpc.insecure_channel(secured.address) as ch:
        stub = network_pb2_grpc.NetworkServiceStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest(), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        ok = stub.GetNetworkSummary(
            network_pb2.GetNetworkSummaryRequest(),
            timeout=5,
            metadata=[("authorization", "Bearer s3cret")],
        )
        assert ok.stores == 0
        chunk = network_pb2.ProductionScheduleChunk(oem="OEM", schedule_version=1)
        with pytest.raises(grpc.RpcError) as err:
            stub.StreamProductionSchedule(iter([chunk]), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_metrics_count_requests_by_method_and_code(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    stub.GetNetworkSummary(network_pb2.GetNetworkSummaryRequest())
    with pytest.raises(grpc.RpcError):
        stub.UpsertRegions(network_pb2.UpsertRegionsRequest())
    port = start_metrics_server("127.0.0.1", 0)
    assert port is not None
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    summary = 'method="/turnwise.v1.NetworkService/GetNetworkSummary"'
    assert f'turnwise_grpc_requests_total{{code="OK",{summary}}}' in text
    assert 'code="INVALID_ARGUMENT",method="/turnwise.v1.NetworkService/UpsertRegions"' in text
    assert "turnwise_grpc_request_seconds_bucket" in text
