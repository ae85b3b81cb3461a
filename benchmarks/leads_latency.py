"""The ``latency`` and ``batch`` cases of benchmark ``leads`` (``benchmarks.leads``), on a
synthetic network of ``stores`` x ``per_store`` advisors (1,000 at full size).

``synthetic_network``: 10 stores a region, 12 brands, each store authorised for 3 of them,
its advisors certified for subsets that cover the store's brands (as the demo group draws
them), levels 1-5, a 90-day history whose rate follows the level (as in the demo), 24-hour
shifts ("00:00"-"00:00", so that every advisor is on shift whenever the benchmark runs).

- ``latency`` (in process): ``routing.route`` on the 1,000-advisor table, one call at a time
  (``latency/region-scope``: leads naming a region of 100 advisors instead of a store)
  with the default scorer (``PriorCandidateScorer``), the loads and recent-share counts
  updated after each call as the server does, ``max_open_leads`` 100,000 so that capacity
  never binds; ``baseline-least-loaded``: eligibility and the least-loaded choice alone.
- ``latency/grpc-1``, ``latency/grpc-100``: ``LeadRoutingService.RouteLead`` on a real
  ``turnwise serve --port 0 --no-demo --metrics-port -1`` (temporary SQLite store, the
  default settings: ``TURNWISE_*`` variables dropped) bound to 127.0.0.1, after its regions,
  brands, stores and advisors were upserted over gRPC; 1 or 100 concurrent asyncio callers
  on one ``grpc.aio`` channel (closed loop, a new lead_id each call, every reply checked).
  The client freezes its start-up objects out of the garbage collector first (as the
  server does): its own full collection, 50-60 ms about 16 s into the open-loop case, had
  stalled every call in flight and made a third of that case's slowest 1%.
- ``batch``: ``batch.route_batch`` of leads spread evenly over the stores (10,000 over
  1,000 advisors at full size) against advisors holding a uniform 0..max-1 open leads
  (``max_open_leads`` 10 + 5 level + 0..5, as the demo), limits 30 s and gap 1e-4;
  ``baseline-least-loaded``: the same leads in order, each to the eligible advisor with a
  free slot and the fewest open leads. Both judged by the generator's probability
  (``replay_inputs.DemoGeneratorScorer``: grade x channel x level).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import grpc
import numpy as np
import pandas as pd
from google.protobuf.timestamp_pb2 import Timestamp

from benchmarks.closed_loop import Timings, closed_loop, open_loop
from benchmarks.runner import Row
from benchmarks.server_process import LOCALHOST, ServerProcess
from lead_routing.batch import BatchLead, route_batch
from lead_routing.replay_inputs import DemoGeneratorScorer
from lead_routing.routing import LeadRequest, RoutingPolicy, RoutingTable, eligible_advisors, route
from turnwise.errors import FailedPrecondition
from turnwise.solving import SolveLimits
from turnwise.v1 import lead_routing_pb2, lead_routing_pb2_grpc, network_pb2, network_pb2_grpc

__all__ = [
    "Network",
    "batch_rows",
    "grpc_rows",
    "inproc_rows",
    "synthetic_leads",
    "synthetic_network",
]

CALL_TIMEOUT_S: Final = 10.0
STARTUP_TIMEOUT_S: Final = 120.0
BATCH_LIMITS: Final = SolveLimits(time_limit_seconds=30.0, relative_gap=1e-4, workers=1)
UNLIMITED_OPEN_LEADS: Final = 100_000
_UPSERT_CHUNK: Final = 250
_READY: Final = "Turnwise is listening on "
_REPO_ROOT: Final = Path(__file__).resolve().parent.parent
_GRADES: Final = ("H", "A", "B", "C")
_GRADE_P: Final = (0.10, 0.25, 0.35, 0.30)
_CHANNELS: Final = ("WEB", "DOUYIN", "AUTOHOME", "DONGCHEDI", "WALK_IN", "PHONE")
_CHANNEL_P: Final = (0.15, 0.25, 0.20, 0.15, 0.15, 0.10)
_TAGS: Final = ("test_drive_request", "price_inquiry", "finance_inquiry", "trade_in")
_NOW: Final = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
_POLICY: Final = RoutingPolicy()


@dataclass(frozen=True, eq=False)
class Network:
    """Frames of ``dealer_group.schema``'s regions, brands, stores (with ``brand_ids``,
    ';'-joined authorisations) and advisors."""

    regions: pd.DataFrame
    brands: pd.DataFrame
    stores: pd.DataFrame
    advisors: pd.DataFrame

    def table(self) -> RoutingTable:
        return RoutingTable.from_frames(self.advisors, self.stores, self.brands)


def synthetic_network(
    stores: int, per_store: int, max_open_leads: int | None, seed: int = 0, brands: int = 12
) -> Network:
    """The network of the module docstring; ``max_open_leads`` None draws the demo's caps."""
    rng = np.random.default_rng(seed)
    brand_ids = [f"B{j + 1:02d}" for j in range(brands)]
    store_ids = [f"S{i + 1:03d}" for i in range(stores)]
    region_ids = [f"R{k + 1:02d}" for k in range(max(1, stores // 10))]
    authorised = [sorted(rng.choice(brands, size=3, replace=False)) for _ in store_ids]
    rows: list[tuple[object, ...]] = []
    for s, store in enumerate(store_ids):
        for k in range(per_store):
            own = [b for b in authorised[s] if rng.random() < 0.35]
            own = sorted({*own, authorised[s][k % 3]})
            level = int(rng.choice(5, p=(0.15, 0.30, 0.30, 0.15, 0.10))) + 1
            leads = int(rng.poisson(120))
            rate = 0.064 * (0.7 + 0.15 * (level - 1)) * rng.uniform(0.8, 1.2)
            cap = max_open_leads or 10 + 5 * level + int(rng.integers(0, 6))
            certified = ";".join(brand_ids[b] for b in own)
            converted = int(rng.binomial(leads, min(rate, 1.0)))
            advisor = f"A{len(rows) + 1:05d}"
            rows.append((advisor, store, level, certified, "00:00", "00:00", cap, leads, converted))
    advisors = pd.DataFrame(
        rows,
        columns=[
            "advisor_id", "store_id", "level", "brand_ids", "shift_start", "shift_end",
            "max_open_leads", "leads_90d", "conversions_90d",
        ],
    )  # fmt: skip
    return Network(
        regions=pd.DataFrame({"region_id": region_ids}),
        brands=pd.DataFrame({"brand_id": brand_ids}),
        stores=pd.DataFrame(
            {
                "store_id": store_ids,
                "region_id": [region_ids[i % len(region_ids)] for i in range(stores)],
                "brand_ids": [";".join(brand_ids[b] for b in a) for a in authorised],
            }
        ),
        advisors=advisors,
    )


def synthetic_leads(
    network: Network,
    n: int,
    seed: int,
    now: datetime = _NOW,
    spread: bool = False,
    region_scope: bool = False,
) -> list[LeadRequest]:
    """``n`` leads at ``now``, each for a store (uniform, or round the stores with
    ``spread``; with ``region_scope``, for any store of that store's region) and one of its
    brands, grade and channel as the demo draws them."""
    rng = np.random.default_rng(seed)
    stores = network.stores
    at = np.arange(n) % len(stores) if spread else rng.integers(0, len(stores), n)
    grades = rng.choice(len(_GRADES), size=n, p=_GRADE_P)
    channels = rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_P)
    leads = []
    for i in range(n):
        store = stores.iloc[int(at[i])]
        brands = str(store["brand_ids"]).split(";")
        tags = tuple(t for t in _TAGS if rng.random() < 0.3)
        leads.append(
            LeadRequest(
                lead_id=f"BENCH{i:06d}",
                created_at=now,
                channel=_CHANNELS[int(channels[i])],
                brand_id=brands[int(rng.integers(0, len(brands)))],
                grade=_GRADES[int(grades[i])],
                store_id="" if region_scope else str(store["store_id"]),
                region_id=str(store["region_id"]) if region_scope else "",
                tags=tags,
            )
        )
    return leads


def _ms(latencies: Sequence[float]) -> tuple[float, float]:
    array = np.asarray(latencies) * 1e3
    return float(np.percentile(array, 50)), float(np.percentile(array, 99))


def inproc_rows(
    network: Network, calls: int, seed: int = 1, region_scope: bool = False
) -> list[Row]:
    """``route`` and the least-loaded choice, timed one call at a time (case ``latency``,
    or ``latency/region-scope`` for leads that name a region, not a store)."""
    table = network.table()
    leads = synthetic_leads(network, calls, seed, region_scope=region_scope)
    case = "latency/region-scope" if region_scope else "latency"
    rows: list[Row] = []
    for method in ("turnwise", "baseline-least-loaded"):
        load = np.zeros(table.n_advisors, dtype=np.int64)
        recent = np.zeros(table.n_advisors, dtype=np.int64)
        latencies = []
        for lead in leads:
            start = time.perf_counter()
            if method == "turnwise":
                chosen = table.advisor_index[
                    route(table, lead, load, _NOW, recent_assignments=recent).advisor_id
                ]
            else:
                candidates = eligible_advisors(table, lead, load, _NOW, _POLICY).candidates
                chosen = int(candidates[np.argmin(load[candidates])])
            latencies.append(time.perf_counter() - start)
            load[chosen] += 1
            recent[chosen] += 1
        p50, p99 = _ms(latencies)
        rows += [
            Row(case, method, "routelead_p50_ms_inproc", p50, "ms"),
            Row(case, method, "routelead_p99_ms_inproc", p99, "ms"),
        ]
    rows.append(Row(case, "turnwise", "advisors", float(table.n_advisors), "advisors"))
    return rows


def batch_rows(network: Network, leads_count: int, seed: int = 2) -> list[Row]:
    """``route_batch`` against the least-loaded greedy rule on the same leads and loads."""
    table = network.table()
    rng = np.random.default_rng(seed)
    load = rng.integers(0, table.max_open_leads).astype(np.int64)
    leads = synthetic_leads(network, leads_count, seed, spread=True)
    truth = DemoGeneratorScorer()
    start = time.perf_counter()
    solved = route_batch(table, [BatchLead(x) for x in leads], load, _NOW, BATCH_LIMITS)
    seconds = time.perf_counter() - start
    by_id = {x.lead_id: x for x in leads}
    turnwise = sum(
        float(
            truth(table, by_id[d.lead_id], np.array([table.advisor_index[d.advisor_id]]), load)[0]
        )
        for d in solved.decisions
    )
    start = time.perf_counter()
    greedy, left = _least_loaded_batch(table, leads, load, truth)
    greedy_seconds = time.perf_counter() - start
    case = "batch"
    return [
        Row(case, "turnwise", "solve_seconds", seconds, "s"),
        Row(case, "turnwise", "solver_seconds", solved.solve_seconds, "s"),
        Row(case, "turnwise", "gap", solved.gap, "ratio"),
        Row(case, "turnwise", "expected_conversions", turnwise, "conversions"),
        Row(case, "turnwise", "unassigned", float(len(solved.unassigned)), "leads"),
        Row(case, "turnwise", "leads", float(len(leads)), "leads"),
        Row(case, "turnwise", "advisors", float(table.n_advisors), "advisors"),
        Row(case, "baseline-least-loaded", "solve_seconds", greedy_seconds, "s"),
        Row(case, "baseline-least-loaded", "expected_conversions", greedy, "conversions"),
        Row(case, "baseline-least-loaded", "unassigned", float(left), "leads"),
    ]


def _least_loaded_batch(
    table: RoutingTable, leads: Sequence[LeadRequest], load: np.ndarray, truth: DemoGeneratorScorer
) -> tuple[float, int]:
    """(expected conversions, unassigned) of the greedy rule on the batch."""
    now_load = load.copy()
    total, left = 0.0, 0
    for lead in leads:
        candidates = eligible_advisors(table, lead, load, _NOW, _POLICY).candidates
        candidates = candidates[now_load[candidates] < table.max_open_leads[candidates]]
        if len(candidates) == 0:
            left += 1
            continue
        chosen = int(candidates[np.argmin(now_load[candidates])])
        now_load[chosen] += 1
        total += float(truth(table, lead, np.array([chosen]), now_load)[0])
    return total, left


# ---- over gRPC ------------------------------------------------------------------------


def grpc_rows(
    network: Network, calls: dict[int, int], open_load: tuple[float, int], warmup: int
) -> list[Row]:
    """RouteLead p50/p99 with each number of closed-loop callers in ``calls`` (callers ->
    calls), then at Poisson arrivals of ``open_load`` (calls per second, calls), on a fresh
    server; no rows, with a printed reason, while RouteLead answers UNIMPLEMENTED."""
    with tempfile.TemporaryDirectory(prefix="turnwise-bench-leads-") as tmp:
        work = Path(tmp)
        argv = [
            *(sys.executable, "-m", "serving.cli", "serve", "--host", LOCALHOST, "--port", "0"),
            *("--database-url", f"sqlite:///{work / 'turnwise.db'}"),
            *("--metrics-port", "-1", "--no-demo"),
        ]
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TURNWISE_") and k != "RAY_ADDRESS"
        }
        env |= {"TURNWISE_CPU_WORKERS": "1", "TURNWISE_GRACE_SECONDS": "1"}
        server = ServerProcess(
            "turnwise", argv, _READY, work / "turnwise.log", env=env, cwd=_REPO_ROOT
        )
        with server:
            address = server.wait_ready(STARTUP_TIMEOUT_S)
            return asyncio.run(_grpc_cases(address, network, calls, open_load, warmup))


async def _grpc_cases(
    address: str,
    network: Network,
    calls: dict[int, int],
    open_load: tuple[float, int],
    warmup: int,
) -> list[Row]:
    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), CALL_TIMEOUT_S)
        await _upsert(network_pb2_grpc.NetworkServiceStub(channel), network)
        call = _route_call(lead_routing_pb2_grpc.LeadRoutingServiceStub(channel), network)
        try:
            await call()
        except grpc.aio.AioRpcError as err:
            if err.code() is grpc.StatusCode.UNIMPLEMENTED:
                print(f"leads benchmark: RouteLead is unimplemented ({err.details()}); "
                      "gRPC latency skipped", file=sys.stderr)  # fmt: skip
                return []
            raise
        if warmup:
            await closed_loop(call, max(calls), warmup)
        rows: list[Row] = []
        for callers, n in calls.items():
            _freeze_client_objects()
            timings: Timings = await closed_loop(call, callers, n)
            p50, p99 = timings.percentile_ms(50), timings.percentile_ms(99)
            case = f"latency/grpc-{callers}"
            rows += [
                Row(case, "turnwise", "routelead_p50_ms_grpc", p50, "ms"),
                Row(case, "turnwise", "routelead_p99_ms_grpc", p99, "ms"),
                Row(case, "turnwise", "calls_per_second", timings.calls_per_second, "calls/s"),
            ]
        rate, n = open_load
        _freeze_client_objects()
        timings = await open_loop(call, rate, n)
        case = f"latency/grpc-open-{rate:g}rps"
        rows += [
            Row(case, "turnwise", "routelead_p50_ms_grpc", timings.percentile_ms(50), "ms"),
            Row(case, "turnwise", "routelead_p99_ms_grpc", timings.percentile_ms(99), "ms"),
            Row(case, "turnwise", "calls_per_second", timings.calls_per_second, "calls/s"),
        ]
        gc.unfreeze()
        return rows


def _freeze_client_objects() -> None:
    """Keep what the client holds so far out of its garbage collector's full passes: one
    over the network and the leads built for the calls stalls every call in flight for
    tens of ms, which would count against the server."""
    gc.collect()
    gc.freeze()


async def _upsert(stub: network_pb2_grpc.NetworkServiceStub, network: Network) -> None:
    pb, timeout = network_pb2, CALL_TIMEOUT_S
    regions = [pb.Region(region_id=r, name=r) for r in network.regions["region_id"]]
    await stub.UpsertRegions(pb.UpsertRegionsRequest(regions=regions), timeout=timeout)
    brands = [pb.Brand(brand_id=b, name=b) for b in network.brands["brand_id"]]
    await stub.UpsertBrands(pb.UpsertBrandsRequest(brands=brands), timeout=timeout)
    stores = [
        pb.Store(
            store_id=s["store_id"], name=s["store_id"], region_id=s["region_id"], city="City",
            store_type=pb.STORE_TYPE_4S, latitude=30.0, longitude=120.0, lot_capacity=100,
            credit_limit_cny=20_000_000, authorised_brand_ids=s["brand_ids"].split(";"),
        )
        for s in network.stores.to_dict("records")
    ]  # fmt: skip
    await stub.UpsertStores(pb.UpsertStoresRequest(stores=stores), timeout=timeout)
    advisors = [
        pb.Advisor(
            advisor_id=a["advisor_id"], store_id=a["store_id"], name=a["advisor_id"],
            level=int(a["level"]), brand_ids=a["brand_ids"].split(";"),
            shift_start=a["shift_start"], shift_end=a["shift_end"],
            max_open_leads=int(a["max_open_leads"]), leads_90d=int(a["leads_90d"]),
            conversions_90d=int(a["conversions_90d"]),
        )
        for a in network.advisors.to_dict("records")
    ]  # fmt: skip
    for k in range(0, len(advisors), _UPSERT_CHUNK):
        chunk = advisors[k : k + _UPSERT_CHUNK]
        await stub.UpsertAdvisors(pb.UpsertAdvisorsRequest(advisors=chunk), timeout=timeout)
    summary = await stub.GetNetworkSummary(pb.GetNetworkSummaryRequest(), timeout=timeout)
    if (summary.stores, summary.advisors) != (len(stores), len(advisors)):
        raise FailedPrecondition(
            "leads.grpc.seed",
            f"the store holds {summary.stores} stores and {summary.advisors} advisors, "
            f"not {len(stores)} and {len(advisors)}",
        )


def _route_call(
    stub: lead_routing_pb2_grpc.LeadRoutingServiceStub, network: Network
) -> Callable[[], Awaitable[object]]:
    """RouteLead of a new lead of a new customer each call (fresh id and phone), for a
    random store and brand."""
    leads = synthetic_leads(network, 5000, seed=3)
    run_id = uuid.uuid4().hex[:8]
    counter = itertools.count()

    async def call() -> object:
        i = next(counter)
        lead = leads[i % len(leads)]
        created = Timestamp()
        created.FromDatetime(datetime.now(UTC) - timedelta(seconds=1))
        message = network_pb2.Lead(
            lead_id=f"{run_id}-{i}",
            created_at=created,
            channel=getattr(network_pb2, f"LEAD_CHANNEL_{lead.channel}"),
            store_id=lead.store_id,
            brand_id=lead.brand_id,
            grade=getattr(network_pb2, f"LEAD_GRADE_{lead.grade}"),
            phone=f"139{i % 10**8:08d}",  # a new customer each call
            tags=list(lead.tags),
        )
        reply = await stub.RouteLead(
            lead_routing_pb2.RouteLeadRequest(lead=message), timeout=CALL_TIMEOUT_S
        )
        if not reply.assignment.advisor_id or reply.assignment.replayed:
            raise FailedPrecondition("leads.grpc.RouteLead", f"unexpected reply {reply}")
        return reply

    return call
