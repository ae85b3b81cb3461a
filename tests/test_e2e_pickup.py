"""AllocationService.PlanPickup over a real gRPC channel, on a small demo group stored in
SQLite and PostgreSQL: plans stored as drafts, warm-started versions, idempotent retries,
errors that name the field, the infeasibility diagnosis, and the deadline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import grpc
import pytest

from dealer_group.demo import DemoSpec, generate
from serving.config import ServerConfig
from serving.store.db import Database
from serving.store.demo_load import load_group
from tests.conftest import RunningServer
from turnwise.v1 import allocation_pb2 as pb
from turnwise.v1 import allocation_pb2_grpc, common_pb2, scenarios_pb2, scenarios_pb2_grpc

pytestmark = pytest.mark.slow

FIRST = date(2026, 11, 2)  # the demo's history ends the week before
GROUP = generate(DemoSpec(stores=6, trims=16, seed=0))


@pytest.fixture
def pickup_channel(db: Database) -> Iterator[grpc.Channel]:
    load_group(db, GROUP)
    config = ServerConfig(host="127.0.0.1", port=0, metrics_port=-1, load_demo=False, cpu_workers=1)
    running = RunningServer(config, db)
    try:
        with grpc.insecure_channel(running.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            yield channel
    finally:
        running.stop()


def _date(d: date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def _recent_rate() -> dict[tuple[str, str], float]:
    """Mean weekly sales of each store x trim over the last 8 weeks of the history."""
    sales = GROUP.sales
    recent = sales[sales["week_start"] >= (FIRST - timedelta(weeks=8)).isoformat()]
    means = recent.groupby(["store_id", "trim_id"])["units"].sum() / 8.0
    return {(str(s), str(t)): float(v) for (s, t), v in means.items()}


RATE = _recent_rate()


def _demand(weeks: int = 4) -> list[pb.DemandQuantiles]:
    """Demand for every store x trim that sold recently, each week: quantiles around its
    recent weekly sales."""
    rows = []
    for (store, trim), rate in sorted(RATE.items()):
        if rate > 0:
            for w in range(weeks):
                q = [(0.1, 0.4 * rate), (0.5, rate), (0.9, 1.8 * rate)]
                rows.append(
                    pb.DemandQuantiles(
                        store_id=store,
                        trim_id=trim,
                        week_start=_date(FIRST + timedelta(days=7 * w)),
                        quantiles=[common_pb2.QuantileValue(level=a, value=v) for a, v in q],
                    )
                )
    return rows


def _request(**fields: object) -> pb.PlanPickupRequest:
    base: dict[str, object] = {
        "first_week": _date(FIRST),
        "weeks": 4,
        "demand": _demand(),
        "limits": common_pb2.SolveLimits(time_limit_seconds=20),
    }
    base.update(fields)
    return pb.PlanPickupRequest(**base)  # type: ignore[arg-type]


def _offer(trim: str, week: date) -> int:
    o = GROUP.oem_offers
    hit = o[(o["trim_id"] == trim) & (o["week_start"] == week.isoformat())]
    return int(hit["max_units"].sum())


def test_plan_is_stored_as_a_draft_and_keeps_the_offer(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    reply = stub.PlanPickup(_request(), timeout=60)
    assert reply.solve.status == common_pb2.SOLVE_STATUS_OPTIMAL
    assert reply.solve.gap <= 1e-3 and reply.solve.bound_cny >= reply.solve.objective_cny - 1
    assert reply.plan.version == 1 and reply.plan.status == common_pb2.PLAN_STATUS_DRAFT
    assert reply.plan.kind == common_pb2.PLAN_KIND_PICKUP and reply.plan.scope == "group"
    assert reply.lines, "a plan with stock below demand orders something"
    per_offer: dict[tuple[str, date], int] = {}
    for line in reply.lines:
        week = date(line.week_start.year, line.week_start.month, line.week_start.day)
        per_offer[(line.trim_id, week)] = per_offer.get((line.trim_id, week), 0) + line.units
        assert line.units >= 1 and line.reason
        assert 0 <= line.expected_sales <= line.units + 1e-9
    for (trim, week), units in per_offer.items():
        assert units <= _offer(trim, week)
    kpis = {k.name: k for k in reply.kpis}
    assert {"expected_profit_cny", "fill_rate", "days_of_supply", "slow_moving_share"} <= set(kpis)
    assert kpis["fill_rate"].after > kpis["fill_rate"].before
    assert len(reply.trims) == len(GROUP.trims)
    assert all(t.reason for t in reply.trims)

    plans = scenarios_pb2_grpc.ScenarioServiceStub(pickup_channel)
    stored = plans.GetPlan(scenarios_pb2.GetPlanRequest(plan_id=reply.plan.plan_id), timeout=10)
    assert list(stored.pickup.lines) == list(reply.lines)
    assert stored.pickup.plan.version == 1


def test_hint_plan_makes_the_next_version_warm(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    first = stub.PlanPickup(_request(), timeout=60)
    store = GROUP.stores["store_id"].iloc[0]
    cut = pb.NetworkOverrides(credit_limit_cny={store: 1_000_000})
    second = stub.PlanPickup(_request(hint_plan_id=first.plan.plan_id, overrides=cut), timeout=60)
    assert second.plan.plan_id == first.plan.plan_id and second.plan.version == 2
    assert second.solve.status == common_pb2.SOLVE_STATUS_OPTIMAL
    cost = dict(zip(GROUP.trims["trim_id"], GROUP.trims["cost_cny"], strict=True))
    ordered = sum(cost[x.trim_id] * x.units for x in second.lines if x.store_id == store)
    assert ordered <= 1_000_000 or not any(x.store_id == store for x in second.lines)


def test_retry_with_the_same_key_returns_the_first_plan(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    request = _request(idempotency_key="dms-pickup-1")
    first = stub.PlanPickup(request, timeout=60)
    again = stub.PlanPickup(request, timeout=60)
    assert again.plan == first.plan and list(again.lines) == list(first.lines)
    plans = scenarios_pb2_grpc.ScenarioServiceStub(pickup_channel)
    listed = plans.ListPlans(scenarios_pb2.ListPlansRequest(), timeout=10)
    assert len(listed.plans) == 1
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanPickup(
            _request(idempotency_key="dms-pickup-1", weeks=3, demand=_demand(3)), timeout=60
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_demand_forecast_from_stored_sales(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    reply = stub.PlanPickup(_request(demand=[], weeks=2), timeout=120)
    assert reply.solve.status in (common_pb2.SOLVE_STATUS_OPTIMAL, common_pb2.SOLVE_STATUS_FEASIBLE)
    assert reply.plan.version == 1 and reply.lines


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first_week": _date(FIRST + timedelta(days=1))}, "first_week"),
        ({"weeks": 0}, "weeks"),
        (
            {"overrides": pb.NetworkOverrides(lot_capacity={"S999": 5})},
            "overrides.lot_capacity[S999]",
        ),
        (
            {"overrides": pb.NetworkOverrides(price_factor={"T0001": 0.0})},
            "overrides.price_factor[T0001]",
        ),
        ({"limits": common_pb2.SolveLimits(relative_gap=2.0)}, "limits.relative_gap"),
        ({"hint_plan_id": "pickup-nope"}, "hint_plan_id"),
    ],
)
def test_bad_requests_name_the_field(
    pickup_channel: grpc.Channel, fields: dict[str, object], field: str
) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanPickup(_request(**fields), timeout=60)
    assert err.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    assert err.value.details().startswith(field), err.value.details()


def test_bad_demand_rows_name_the_row(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    rows = _demand()
    rows[3].quantiles[1].level = 0.05  # below the 0.1 before it
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanPickup(_request(demand=rows), timeout=60)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("demand[3].quantiles[1].level")
    rows = _demand()
    rows[5].trim_id = "T9999"
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanPickup(_request(demand=rows), timeout=60)
    assert err.value.details().startswith("demand[5].trim_id")


def test_infeasible_hard_target_is_a_diagnosis_and_stores_nothing(
    pickup_channel: grpc.Channel,
) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    no_space = pb.NetworkOverrides(lot_capacity=dict.fromkeys(GROUP.stores["store_id"], 0))
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanPickup(_request(overrides=no_space), timeout=60)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = err.value.details()
    hard = GROUP.brand_targets[GROUP.brand_targets["is_hard"] == 1]
    assert any(f"target[{b},2026-11]" in details for b in hard["brand_id"]), details
    assert "free parking spaces" in details
    plans = scenarios_pb2_grpc.ScenarioServiceStub(pickup_channel)
    assert not plans.ListPlans(scenarios_pb2.ListPlansRequest(), timeout=10).plans


def test_a_deadline_too_short_is_deadline_exceeded(pickup_channel: grpc.Channel) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(pickup_channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PlanPickup(_request(), timeout=0.02)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
