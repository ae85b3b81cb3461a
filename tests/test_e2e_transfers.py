"""AllocationService.PlanTransfers over a real gRPC channel, on a small demo group stored in
SQLite and PostgreSQL: plans stored as drafts that keep every rule, approved moves not
repeated, demand forecast from the stored sales, idempotent retries, and errors that name
the field and store nothing."""

from __future__ import annotations

import grpc
import pytest

from tests.test_e2e_pickup import FIRST, GROUP, _date, _demand, pickup_channel
from turnwise.v1 import allocation_pb2 as pb
from turnwise.v1 import allocation_pb2_grpc, common_pb2, scenarios_pb2, scenarios_pb2_grpc

pytestmark = pytest.mark.slow
__all__ = ["pickup_channel"]  # the fixture, shared with the pick-up tests

CONSOLIDATED = pb.TRANSFER_MODE_CONSOLIDATED


def _request(**fields: object) -> pb.PlanTransfersRequest:
    base: dict[str, object] = {
        "mode": CONSOLIDATED,
        "first_week": _date(FIRST),
        "weeks": 4,
        "demand": _demand(),
        "limits": common_pb2.SolveLimits(time_limit_seconds=20, relative_gap=1e-4),
        "loading_limit": {"S001": 3},
    }
    base.update(fields)
    return pb.PlanTransfersRequest(**base)  # type: ignore[arg-type]


def _authorised() -> set[tuple[str, str]]:
    a = GROUP.authorisations
    return set(zip(a["store_id"], a["brand_id"], strict=True))


def _check_rules(reply: pb.PlanTransfersResponse, capacity: int = 8) -> None:
    stock = GROUP.inventory.set_index("vin")
    authorised = _authorised()
    brand = dict(zip(GROUP.trims["trim_id"], GROUP.trims["brand_id"], strict=True))
    vins = [m.vin for m in reply.moves]
    assert len(vins) == len(set(vins)), "a VIN moves at most once"
    per_truck: dict[str, int] = {}
    loaded: dict[str, int] = {}
    for m in reply.moves:
        car = stock.loc[m.vin]
        assert car["status"] == "IN_STOCK" and car["store_id"] == m.from_store_id
        assert m.trim_id == car["trim_id"] and m.to_store_id != m.from_store_id
        assert (m.to_store_id, brand[m.trim_id]) in authorised
        assert m.reason and m.truck_id.startswith(f"{m.from_store_id}->{m.to_store_id}#")
        per_truck[m.truck_id] = per_truck.get(m.truck_id, 0) + 1
        loaded[m.from_store_id] = loaded.get(m.from_store_id, 0) + 1
    assert all(n <= capacity for n in per_truck.values())
    assert loaded.get("S001", 0) <= 3, "the loading limit asked for holds"
    assert sum(lane.trucks for lane in reply.lanes) == len(per_truck)
    assert sum(lane.cars for lane in reply.lanes) == len(reply.moves)
    assert reply.transport_cost_cny == pytest.approx(sum(lane.cost_cny for lane in reply.lanes))


def test_consolidated_plan_is_stored_as_a_draft_and_keeps_every_rule(
    pickup_channel: grpc.Channel,
) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    reply = stub.PlanTransfers(_request(), timeout=60)
    assert reply.solve.status == common_pb2.SOLVE_STATUS_OPTIMAL
    assert reply.solve.gap <= 1e-4 and reply.solve.bound_cny >= reply.solve.objective_cny - 1
    assert reply.plan.kind == common_pb2.PLAN_KIND_TRANSFER
    assert reply.plan.status == common_pb2.PLAN_STATUS_DRAFT and reply.plan.version == 1
    assert reply.moves, "the demo group has cars to rebalance"
    _check_rules(reply)
    kpis = {k.name: k for k in reply.kpis}
    assert {"expected_profit_cny", "days_of_supply", "slow_moving_share"} <= set(kpis)
    assert {"projected_lost_sales", "transport_cost_cny", "cars_moved"} <= set(kpis)
    assert kpis["cars_moved"].after == len(reply.moves)

    plans = scenarios_pb2_grpc.ScenarioServiceStub(pickup_channel)
    stored = plans.GetPlan(scenarios_pb2.GetPlanRequest(plan_id=reply.plan.plan_id), timeout=10)
    assert list(stored.transfers.moves) == list(reply.moves)


def test_cars_of_an_approved_plan_do_not_move_again(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    first = stub.PlanTransfers(_request(), timeout=60)
    assert first.moves
    plans = scenarios_pb2_grpc.ScenarioServiceStub(pickup_channel)
    plans.ApprovePlan(
        scenarios_pb2.ApprovePlanRequest(
            plan_id=first.plan.plan_id, version=1, approved_by="planner-1"
        ),
        timeout=10,
    )
    again = stub.PlanTransfers(_request(), timeout=60)
    moved = {m.vin for m in first.moves}
    assert not moved & {m.vin for m in again.moves}
    # the approved moves count as on their way (the stored stock still shows them at their
    # origin), so the next plan does not send other cars to meet the same need
    assert len(again.moves) < len(first.moves)


def test_fast_plan_forecasts_the_demand_from_the_stored_sales(
    pickup_channel: grpc.Channel,
) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    request = pb.PlanTransfersRequest(mode=pb.TRANSFER_MODE_FAST, truck_capacity=4)
    reply = stub.PlanTransfers(request, timeout=120)
    assert reply.solve.status in (common_pb2.SOLVE_STATUS_FEASIBLE, common_pb2.SOLVE_STATUS_OPTIMAL)
    _check_rules(reply, capacity=4)


def test_a_retry_with_the_same_key_returns_the_first_plan(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    first = stub.PlanTransfers(_request(idempotency_key="night-1"), timeout=60)
    second = stub.PlanTransfers(_request(idempotency_key="night-1"), timeout=60)
    assert second.plan.plan_id == first.plan.plan_id
    assert list(second.moves) == list(first.moves)
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanTransfers(_request(idempotency_key="night-1", weeks=2), timeout=60)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mode": pb.TRANSFER_MODE_UNSPECIFIED}, "mode"),
        ({"store_ids": ["S001"]}, "store_ids"),
        ({"store_ids": ["S001", "S999"]}, "store_ids[1]"),
        ({"loading_limit": {"S999": 4}}, "loading_limit[S999]"),
        ({"loading_limit": {"S001": -1}}, "loading_limit[S001]"),
        ({"weeks": 27}, "weeks"),
        ({"truck_capacity": -2}, "truck_capacity"),
        ({"cost_per_car_km_cny": -1.0}, "cost_per_car_km_cny"),
    ],
)
def test_bad_requests_name_the_field_and_store_nothing(
    pickup_channel: grpc.Channel, fields: dict[str, object], field: str
) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanTransfers(_request(**fields), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in err.value.details()
    plans = scenarios_pb2_grpc.ScenarioServiceStub(pickup_channel)
    assert not plans.ListPlans(scenarios_pb2.ListPlansRequest(), timeout=10).plans


def test_demand_for_an_unauthorised_store_is_rejected(pickup_channel: grpc.Channel) -> None:
    authorised = _authorised()
    trim, brand = next(
        (t, b)
        for t, b in zip(GROUP.trims["trim_id"], GROUP.trims["brand_id"], strict=True)
        if ("S001", b) not in authorised
    )
    row = pb.DemandQuantiles(
        store_id="S001",
        trim_id=trim,
        week_start=_date(FIRST),
        quantiles=[
            common_pb2.QuantileValue(level=0.1, value=1.0),
            common_pb2.QuantileValue(level=0.5, value=2.0),
            common_pb2.QuantileValue(level=0.9, value=3.0),
        ],
    )
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanTransfers(_request(demand=[*_demand(), row]), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "demand[" in err.value.details() and brand in err.value.details()
