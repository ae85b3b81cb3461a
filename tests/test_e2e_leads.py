"""LeadRoutingService over a real gRPC channel, on SQLite and PostgreSQL: routing within
each advisor's brands, shift and cap (also under many concurrent calls), DMS retries
answered with the same assignment, One-ID sticky owners, SLA timers on an injected clock
that survive a restart, the public pool (公海池), and errors that name the field."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select

from serving.config import ServerConfig
from serving.services import lead_routing as lead_routing_service
from serving.store import tables as t
from serving.store.db import Database
from tests.conftest import RunningServer
from turnwise.errors import InvalidArgument
from turnwise.v1 import common_pb2, lead_routing_pb2_grpc, network_pb2, network_pb2_grpc
from turnwise.v1 import lead_routing_pb2 as pb

pytestmark = pytest.mark.slow

START = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CONFIG = ServerConfig(
    host="127.0.0.1", port=0, metrics_port=-1, load_demo=False, cpu_workers=1, sla_sweep_seconds=0
)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# advisor, store, brands, cap, shift, leads_90d, conversions_90d
ADVISORS = [
    ("A1", "S1", ["B1"], 2, ("09:00", "21:00"), 100, 25),
    ("A2", "S1", ["B1"], 2, ("09:00", "21:00"), 100, 5),
    ("A3", "S1", ["B2"], 1, ("09:00", "21:00"), 50, 5),
    ("A4", "S1", ["B1"], 5, ("22:00", "06:00"), 50, 5),  # night shift: off at 10:00
    ("A5", "S2", ["B1", "B2"], 3, ("00:00", "00:00"), 80, 8),
    ("A6", "S3", ["B1"], 2, ("00:00", "00:00"), 80, 8),
]


def _network(channel: grpc.Channel) -> None:
    stub = network_pb2_grpc.NetworkServiceStub(channel)
    stub.UpsertRegions(
        network_pb2.UpsertRegionsRequest(
            regions=[network_pb2.Region(region_id=r, name=r) for r in ("R1", "R2")]
        )
    )
    stub.UpsertBrands(
        network_pb2.UpsertBrandsRequest(
            brands=[network_pb2.Brand(brand_id=b, name=b) for b in ("B1", "B2")]
        )
    )
    stores = [("S1", "R1", ["B1", "B2"]), ("S2", "R1", ["B1", "B2"]), ("S3", "R2", ["B1"])]
    stub.UpsertStores(
        network_pb2.UpsertStoresRequest(
            stores=[
                network_pb2.Store(
                    store_id=s,
                    name=s,
                    region_id=r,
                    city="Shanghai",
                    store_type=network_pb2.STORE_TYPE_4S,
                    latitude=31.2,
                    longitude=121.5,
                    lot_capacity=100,
                    credit_limit_cny=10_000_000,
                    authorised_brand_ids=brands,
                )
                for s, r, brands in stores
            ]
        )
    )
    stub.UpsertAdvisors(
        network_pb2.UpsertAdvisorsRequest(
            advisors=[
                network_pb2.Advisor(
                    advisor_id=a,
                    store_id=s,
                    name=f"Advisor {a}",
                    level=3,
                    brand_ids=brands,
                    shift_start=shift[0],
                    shift_end=shift[1],
                    max_open_leads=cap,
                    leads_90d=leads,
                    conversions_90d=conversions,
                )
                for a, s, brands, cap, shift, leads, conversions in ADVISORS
            ]
        )
    )


def _ts(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at)
    return ts


def _lead(lead_id: str, **fields: object) -> network_pb2.Lead:
    base: dict[str, object] = {
        "lead_id": lead_id,
        "created_at": _ts(START),
        "channel": network_pb2.LEAD_CHANNEL_WEB,
        "store_id": "S1",
        "brand_id": "B1",
        "grade": network_pb2.LEAD_GRADE_A,
        "phone": f"139{abs(hash(lead_id)) % 10**8:08d}",
    }
    base.update(fields)
    return network_pb2.Lead(**base)  # type: ignore[arg-type]


class Leads:
    """A server on a fake clock with the small network above, and its stub."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self.running = RunningServer(CONFIG, db, clock=clock)
        self.channel = grpc.insecure_channel(self.running.address)
        grpc.channel_ready_future(self.channel).result(timeout=10)
        self.stub = lead_routing_pb2_grpc.LeadRoutingServiceStub(self.channel)

    def route(self, lead_id: str, **fields: object) -> pb.Assignment:
        reply = self.stub.RouteLead(pb.RouteLeadRequest(lead=_lead(lead_id, **fields)))
        assignment: pb.Assignment = reply.assignment
        return assignment

    def sweep(self) -> int:
        return self.running.call(self.running.runtime.leads.sweep())

    def close(self) -> None:
        self.channel.close()
        self.running.stop()


@pytest.fixture
def leads(db: Database) -> Iterator[Leads]:
    running = Leads(db, Clock())
    _network(running.channel)
    yield running
    running.close()


def _open_counts(db: Database) -> dict[str, int]:
    """Open leads per advisor, counted from the routed leads, and checked against the
    counter routing caps (they must agree)."""
    with db.read() as conn:
        owned: dict[str, int] = dict(
            conn.execute(
                select(t.lead_routes.c.owner, func.count())
                .where(t.lead_routes.c.status.in_(("ASSIGNED", "CONTACTED")))
                .group_by(t.lead_routes.c.owner)
            ).all()
        )
        counter = {
            a: n
            for a, n in conn.execute(
                select(t.advisor_load.c.advisor_id, t.advisor_load.c.open_leads)
            )
            if n
        }
    assert owned == counter
    return {str(a): int(n) for a, n in owned.items()}


def _code(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()  # type: ignore[operator]
    return info.value.code(), info.value.details()


def test_routes_within_brand_shift_and_cap_and_replays_a_retry(leads: Leads) -> None:
    first = leads.route("L1")
    assert first.advisor_id == "A1"  # the best B1 advisor of S1 on shift (A4 is off)
    assert 0 < first.score < 1 and first.reason == "best expected conversion"
    assert first.first_contact_due.ToDatetime(tzinfo=UTC) == START + timedelta(minutes=5)
    assert not first.replayed

    again = leads.route("L1", grade=network_pb2.LEAD_GRADE_C)  # a DMS retry
    assert (again.advisor_id, again.replayed) == ("A1", True)
    assert again.first_contact_due == first.first_contact_due

    others = [leads.route(f"L{i}").advisor_id for i in range(2, 5)]
    assert sorted(["A1", *others]) == ["A1", "A1", "A2", "A2"]  # caps of 2 each
    assert _open_counts(leads.db) == {"A1": 2, "A2": 2}

    code, details = _code(lambda: leads.route("L5"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "0 with spare capacity" in details and "public pool" in details
    pool = leads.stub.ListPool(pb.ListPoolRequest(store_id="S1"))
    assert [p.lead.lead_id for p in pool.leads] == ["L5"]
    assert pool.leads[0].pooled_at.ToDatetime(tzinfo=UTC) == START

    b2 = leads.route("L6", brand_id="B2")
    assert b2.advisor_id == "A3"  # the only B2 advisor of S1
    region = leads.route("L7", store_id="", region_id="R2")
    assert region.advisor_id == "A6"


def test_bad_requests_name_the_field_and_store_nothing(leads: Leads) -> None:
    cases = [
        (pb.RouteLeadRequest(), grpc.StatusCode.INVALID_ARGUMENT, "lead"),
        (
            pb.RouteLeadRequest(lead=_lead("X1", channel=0)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "lead.channel",
        ),
        (
            pb.RouteLeadRequest(lead=_lead("X2", store_id="", region_id="")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "lead.store_id",
        ),
        (
            pb.RouteLeadRequest(lead=_lead("X3", brand_id="B9")),
            grpc.StatusCode.NOT_FOUND,
            "lead.brand_id",
        ),
        (
            pb.RouteLeadRequest(lead=_lead("X4", store_id="S9")),
            grpc.StatusCode.NOT_FOUND,
            "lead.store_id",
        ),
        (
            pb.RouteLeadRequest(lead=_lead("X5", advisor_id="A1")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "lead.advisor_id",
        ),
    ]
    for request, code, field in cases:
        got, details = _code(lambda r=request: leads.stub.RouteLead(r))
        assert got == code, details
        assert details.startswith(field), details
    with leads.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.lead_routes)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(t.leads)).scalar() == 0
    follow = pb.RecordFollowUpRequest(
        lead_id="nope", advisor_id="A1", kind=pb.FOLLOW_UP_KIND_CALL, at=_ts(START)
    )
    assert _code(lambda: leads.stub.RecordFollowUp(follow))[0] == grpc.StatusCode.NOT_FOUND
    future = pb.RecordFollowUpRequest(
        lead_id="nope",
        advisor_id="A1",
        kind=pb.FOLLOW_UP_KIND_CALL,
        at=_ts(START + timedelta(hours=1)),
    )
    code, details = _code(lambda: leads.stub.RecordFollowUp(future))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("at")
    code, details = _code(lambda: leads.stub.ListPool(pb.ListPoolRequest(page_token="zz")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("page_token")


def test_one_id_sends_a_returning_customer_to_their_advisor(leads: Leads) -> None:
    network = network_pb2_grpc.NetworkServiceStub(leads.channel)
    old = _lead("H1", phone="+86 138-1234-5678", advisor_id="A2", converted=False)
    old.created_at.CopyFrom(_ts(START - timedelta(days=20)))
    network.UpsertLeads(network_pb2.UpsertLeadsRequest(leads=[old]))
    back = leads.route("L1", phone="0086 13812345678", channel=network_pb2.LEAD_CHANNEL_DOUYIN)
    assert back.advisor_id == "A2" and back.reason == "sticky owner (same phone)"
    wechat = _lead("H2", phone="", wechat_id="WXID_Zhang", advisor_id="A5", store_id="S2")
    network.UpsertLeads(network_pb2.UpsertLeadsRequest(leads=[wechat]))
    other_store = leads.route("L2", phone="", wechat_id="wxid_zhang")
    assert other_store.advisor_id != "A5"  # A5 works at S2; the lead asks for S1
    assert "sticky owner A5 passed over: works at S2, not S1" in other_store.reason


def test_a_lead_upsert_keeps_the_advisor_routing_gave_and_refuses_another(
    leads: Leads,
) -> None:
    network = network_pb2_grpc.NetworkServiceStub(leads.channel)
    assert leads.route("L1", phone="13800000001").advisor_id == "A1"
    network.UpsertLeads(  # the DMS sends the lead back without an advisor: A1 stays
        network_pb2.UpsertLeadsRequest(leads=[_lead("L1", phone="13800000001", tags=["x"])])
    )
    with leads.db.read() as conn:
        row = conn.execute(select(t.leads).where(t.leads.c.lead_id == "L1")).one()
    assert (row.advisor_id, list(row.tags)) == ("A1", ["x"])
    again = leads.route("L9", phone="+86 138 0000 0001")  # One-ID still finds A1
    assert again.advisor_id == "A1" and again.reason == "sticky owner (same phone)"
    other = _lead("L1", phone="13800000001", advisor_id="A2", tags=["y"])
    code, details = _code(
        lambda: network.UpsertLeads(network_pb2.UpsertLeadsRequest(leads=[_lead("N1"), other]))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.startswith("leads[1].advisor_id") and "routed to A1" in details
    with leads.db.read() as conn:  # nothing of the refused request was written
        assert conn.execute(select(t.leads).where(t.leads.c.lead_id == "N1")).first() is None
        row = conn.execute(select(t.leads).where(t.leads.c.lead_id == "L1")).one()
    assert (row.advisor_id, list(row.tags)) == ("A1", ["x"])


def test_routing_a_lead_the_dms_upserted_first_stores_the_routed_fields(leads: Leads) -> None:
    network = network_pb2_grpc.NetworkServiceStub(leads.channel)
    network.UpsertLeads(
        network_pb2.UpsertLeadsRequest(leads=[_lead("L1", phone="13800000001", tags=["old"])])
    )
    routed = leads.route("L1", phone="13900000002", tags=["test_drive"])
    with leads.db.read() as conn:
        rows = conn.execute(select(t.leads).where(t.leads.c.lead_id == "L1")).all()
    assert len(rows) == 1  # the lead's row was updated in place, not duplicated
    row = rows[0]
    assert (row.advisor_id, row.phone, row.phone_key, list(row.tags)) == (
        routed.advisor_id,
        "13900000002",
        "13900000002",
        ["test_drive"],
    )


def _events(db: Database, lead_id: str) -> list[tuple[str, str, str | None]]:
    with db.read() as conn:
        rows = conn.execute(
            select(t.lead_events.c.kind, t.lead_events.c.actor, t.lead_events.c.advisor_id)
            .where(t.lead_events.c.lead_id == lead_id)
            .order_by(t.lead_events.c.event_id)
        ).all()
    return [(r.kind, r.actor, r.advisor_id) for r in rows]


def test_sla_timers_recycle_reroute_escalate_and_survive_a_restart(db: Database) -> None:
    clock = Clock()
    first = Leads(db, clock)
    _network(first.channel)
    try:
        assert first.route("L1").advisor_id == "A1"
        clock.advance(minutes=3)
        reply = first.stub.RecordFollowUp(
            pb.RecordFollowUpRequest(
                lead_id="L1",
                advisor_id="A1",
                kind=pb.FOLLOW_UP_KIND_CALL,
                at=_ts(clock.now),
                note="asked for a test drive",
            )
        )
        assert reply.next_due.ToDatetime(tzinfo=UTC) == clock.now + timedelta(hours=2)
        code, details = _code(
            lambda: first.stub.RecordFollowUp(
                pb.RecordFollowUpRequest(
                    lead_id="L1", advisor_id="A2", kind=pb.FOLLOW_UP_KIND_CALL, at=_ts(clock.now)
                )
            )
        )
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "only the owner" in details
        assert first.route("L2").advisor_id in ("A1", "A2")
    finally:
        first.close()

    clock.advance(hours=3)  # the server is down while the 2-hour timers expire
    second = Leads(db, clock)
    try:
        assert second.sweep() > 0
        kinds = [k for k, _, _ in _events(db, "L1")]
        assert kinds == ["ASSIGNED", "FOLLOWED_UP", "RECYCLED", "ASSIGNED"]
        assert _events(db, "L1")[2] == ("RECYCLED", "system", "A1")
        again = second.route("L1")  # a retry after the re-route answers the new owner
        assert again.replayed and again.advisor_id == "A2"  # A1 missed it: excluded
        assert second.sweep() == 0  # nothing more is due
        with db.read() as conn:
            reason = conn.execute(
                select(t.lead_events.c.reason).where(
                    t.lead_events.c.lead_id == "L1", t.lead_events.c.kind == "FOLLOWED_UP"
                )
            ).scalar_one()
        assert "note: asked for a test drive" in reason
        closed = second.stub.RecordFollowUp(
            pb.RecordFollowUpRequest(
                lead_id="L1", advisor_id="A2", kind=pb.FOLLOW_UP_KIND_ORDER, at=_ts(clock.now)
            )
        )
        assert not closed.HasField("next_due")
        counts = _open_counts(db)
        assert "A2" not in counts or counts["A2"] <= 1
        clock.advance(hours=50)
        second.sweep()
        assert [k for k, _, _ in _events(db, "L1")][-1] == "CLOSED"  # closed: no escalation
        assert "ESCALATED" in [k for k, _, _ in _events(db, "L2")]  # A grade, 48 h silent
    finally:
        second.close()


def test_claim_from_the_pool(leads: Leads) -> None:
    for i in range(4):
        leads.route(f"L{i}")
    with pytest.raises(grpc.RpcError):
        leads.route("P1")  # S1's day advisors are full: pooled
    claims = [
        ("A1", grpc.StatusCode.FAILED_PRECONDITION, "open leads"),  # at its cap
        ("A3", grpc.StatusCode.FAILED_PRECONDITION, "not certified"),
        ("A6", grpc.StatusCode.FAILED_PRECONDITION, "works in R2"),
        ("A9", grpc.StatusCode.NOT_FOUND, "advisor_id"),
    ]
    for advisor, code, text in claims:
        request = pb.ClaimFromPoolRequest(lead_id="P1", advisor_id=advisor)
        got, details = _code(lambda r=request: leads.stub.ClaimFromPool(r))
        assert got == code and text in details, details
    claimed = leads.stub.ClaimFromPool(
        pb.ClaimFromPoolRequest(lead_id="P1", advisor_id="A5", idempotency_key="claim-1")
    ).assignment
    assert claimed.advisor_id == "A5" and "claimed" in claimed.reason
    retry = leads.stub.ClaimFromPool(
        pb.ClaimFromPoolRequest(lead_id="P1", advisor_id="A5", idempotency_key="claim-1")
    ).assignment
    assert retry == claimed
    code, details = _code(
        lambda: leads.stub.ClaimFromPool(pb.ClaimFromPoolRequest(lead_id="P1", advisor_id="A2"))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "not in the public pool" in details
    assert not leads.stub.ListPool(pb.ListPoolRequest()).leads
    assert _open_counts(leads.db)["A5"] == 1


def test_pool_pages_oldest_first(leads: Leads) -> None:
    for i in range(4):
        leads.route(f"L{i}")
    for i in range(5):
        leads.clock.advance(minutes=1)
        with pytest.raises(grpc.RpcError):
            leads.route(f"P{i}")
    seen: list[str] = []
    token = ""
    while True:
        page = leads.stub.ListPool(
            pb.ListPoolRequest(region_id="R1", page_size=2, page_token=token)
        )
        seen += [p.lead.lead_id for p in page.leads]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"P{i}" for i in range(5)]
    assert not leads.stub.ListPool(pb.ListPoolRequest(region_id="R2")).leads


def test_concurrent_route_leads_never_exceed_a_cap_and_retries_agree(leads: Leads) -> None:
    """200 leads, each sent twice at once, against 4 day-shift B1 slots in S1 and 3 in S2
    (region leads): exactly the capacity is assigned, each lead to one advisor."""

    async def storm() -> list[tuple[str, str, grpc.StatusCode]]:
        async with grpc.aio.insecure_channel(leads.running.address) as channel:
            stub = lead_routing_pb2_grpc.LeadRoutingServiceStub(channel)

            async def one(i: int) -> tuple[str, str, grpc.StatusCode]:
                lead_id = f"C{i // 2}"
                fields = {"store_id": "", "region_id": "R1"} if (i // 2) % 2 else {}
                try:
                    reply = await stub.RouteLead(
                        pb.RouteLeadRequest(lead=_lead(lead_id, **fields)), timeout=60
                    )
                    return lead_id, reply.assignment.advisor_id, grpc.StatusCode.OK
                except grpc.aio.AioRpcError as err:
                    return lead_id, "", err.code()

            return await asyncio.gather(*(one(i) for i in range(400)))

    results = asyncio.run(storm())
    assert {code for _, _, code in results} <= {
        grpc.StatusCode.OK,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
    by_lead: dict[str, set[str]] = {}
    for lead_id, advisor, code in results:
        if code == grpc.StatusCode.OK:
            by_lead.setdefault(lead_id, set()).add(advisor)
    assert all(len(advisors) == 1 for advisors in by_lead.values()), "a retry got another advisor"
    counts = _open_counts(leads.db)
    caps = {a: cap for a, _, _, cap, _, _, _ in ADVISORS}
    assert all(counts[a] <= caps[a] for a in counts)
    assert sum(counts.values()) == len(by_lead) == 2 + 2 + 3  # A1, A2 (S1) and A5 (R1)
    pool = leads.stub.ListPool(pb.ListPoolRequest(page_size=1000))
    assert len(pool.leads) == 200 - len(by_lead)


def test_route_leads_past_its_budget_answers_deadline_exceeded_and_routes_nothing(
    leads: Leads, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A grace far below zero: the wait for the worker times out at once.
    monkeypatch.setattr(lead_routing_service, "_WORKER_GRACE_SECONDS", -1e6)
    request = pb.RouteLeadsRequest(leads=[_lead(f"T{i}") for i in range(3)])
    code, details = _code(lambda: leads.stub.RouteLeads(request))
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert details.startswith("deadline") and "nothing was routed" in details
    with leads.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.lead_routes)).scalar() == 0


def test_route_leads_batch_within_caps_replays_and_pools_the_rest(leads: Leads) -> None:
    leads.route("L0")  # routed live first: the batch answers it as a replay
    batch = [_lead(f"B{i}") for i in range(6)] + [
        _lead("L0"),
        _lead("R1", store_id="", region_id="R1", brand_id="B2"),
    ]
    request = pb.RouteLeadsRequest(idempotency_key="morning-1", leads=batch)
    reply = leads.stub.RouteLeads(request)
    assert reply.solve.status == common_pb2.SOLVE_STATUS_OPTIMAL
    assert reply.solve.gap == pytest.approx(0.0, abs=1e-6)
    fresh_scores = [a.score for a in reply.assignments if not a.replayed]
    assert reply.expected_conversions == pytest.approx(sum(fresh_scores))
    got = {a.lead_id: a for a in reply.assignments}
    assert got["L0"].replayed and got["L0"].advisor_id == "A1"
    fresh = [a for a in reply.assignments if not a.replayed]
    assert {a.advisor_id for a in fresh if a.lead_id.startswith("B")} <= {"A1", "A2"}
    assert len([a for a in fresh if a.lead_id.startswith("B")]) == 3  # 4 slots, 1 taken
    assert got["R1"].advisor_id in ("A3", "A5")  # R1's B2 advisors
    assert sorted(reply.unassigned_lead_ids) == sorted({f"B{i}" for i in range(6)} - set(got))
    assert [a.lead_id for a in reply.assignments] == [
        m.lead_id for m in batch if m.lead_id in got
    ], "in the order of the request"
    pooled = {p.lead.lead_id for p in leads.stub.ListPool(pb.ListPoolRequest()).leads}
    assert pooled == set(reply.unassigned_lead_ids)
    caps = {a: cap for a, _, _, cap, _, _, _ in ADVISORS}
    assert all(n <= caps[a] for a, n in _open_counts(leads.db).items())
    assert leads.stub.RouteLeads(request) == reply  # the idempotency key replays
    code, details = _code(
        lambda: leads.stub.RouteLeads(pb.RouteLeadsRequest(leads=[_lead("D1"), _lead("D1")]))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("leads[1].lead_id")
    code, details = _code(
        lambda: leads.stub.RouteLeads(pb.RouteLeadsRequest(leads=[_lead("D2", brand_id="B9")]))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("leads[0].brand_id")


def test_a_rules_file_sets_the_sla_per_grade_and_channel(db: Database, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[sla]\nfirst_contact_minutes = 10\n\n"
        '[[sla.overrides]]\ngrade = "H"\nchannel = "DOUYIN"\nfirst_contact_minutes = 3\n',
        encoding="utf-8",
    )
    config = dataclasses.replace(CONFIG, routing_rules_path=str(rules))
    running = RunningServer(config, db, clock=Clock())
    try:
        with grpc.insecure_channel(running.address) as channel:
            _network(channel)
            stub = lead_routing_pb2_grpc.LeadRoutingServiceStub(channel)
            hot = _lead(
                "R1", grade=network_pb2.LEAD_GRADE_H, channel=network_pb2.LEAD_CHANNEL_DOUYIN
            )
            due = stub.RouteLead(pb.RouteLeadRequest(lead=hot)).assignment.first_contact_due
            assert due.ToDatetime(tzinfo=UTC) == START + timedelta(minutes=3)
            web = stub.RouteLead(pb.RouteLeadRequest(lead=_lead("R2"))).assignment
            assert web.first_contact_due.ToDatetime(tzinfo=UTC) == START + timedelta(minutes=10)
    finally:
        running.stop()
    rules.write_text('[[sla.overrides]]\nchannel = "FAX"\nfirst_contact_minutes = 1\n')
    with pytest.raises(InvalidArgument) as err:  # the server does not start on it
        RunningServer(config, db, clock=Clock())
    assert err.value.field == "routing_rules:sla.overrides[0].channel"


def test_a_running_server_reloads_its_rules_file_and_keeps_them_on_a_bad_one(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[sla]\nfirst_contact_minutes = 10\n", encoding="utf-8")
    config = dataclasses.replace(  # the test looks at the file itself, not a timer
        CONFIG, routing_rules_path=str(rules), rules_poll_seconds=0
    )
    running = RunningServer(config, db, clock=Clock())

    def due(lead_id: str) -> datetime:
        reply = stub.RouteLead(pb.RouteLeadRequest(lead=_lead(lead_id)))
        return reply.assignment.first_contact_due.ToDatetime(tzinfo=UTC)

    try:
        with grpc.insecure_channel(running.address) as channel:
            _network(channel)
            stub = lead_routing_pb2_grpc.LeadRoutingServiceStub(channel)
            runtime = running.runtime
            assert due("R1") == START + timedelta(minutes=10)
            assert not runtime.reload_rules()  # unchanged
            rules.write_text("[sla]\nfirst_contact_minutes = 4\n", encoding="utf-8")
            assert runtime.reload_rules()
            assert due("R2") == START + timedelta(minutes=4)
            assert due("R1") == START + timedelta(minutes=10)  # a retry keeps its deadline
            rules.write_text("[sla]\nfirst_contact_minuts = 2\n", encoding="utf-8")
            with caplog.at_level(logging.ERROR, logger="turnwise.server"):
                assert not runtime.reload_rules()
            assert "routing_rules:sla.first_contact_minuts" in caplog.text
            assert "the rules in force stay" in caplog.text
            assert due("R3") == START + timedelta(minutes=4)
            assert not runtime.reload_rules()  # the bad file is not read again unchanged
    finally:
        running.stop()
