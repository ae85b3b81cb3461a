"""Benchmark ``grpc``: unary round-trip latency and throughput of Turnwise RPCs against a bare
grpc.aio echo server (``benchmarks.echo_server``), measured in the same run.

Cases (``RPC/callers``):
    GetNetworkSummary/{sequential,concurrent-50}  the read path, on a store holding a small
                                                  network (3 regions, 3 brands, 6 stores, 6 trims)
    UpsertRegions/{sequential,concurrent-50}      the write path: one region, renamed each call,
                                                  with a fresh idempotency key each call
Methods: ``turnwise`` (``turnwise serve`` on a fresh SQLite store) and ``baseline-grpcio-echo``.
Each server runs in its own process; the clients run in this one, as asyncio tasks on one
grpc.aio channel per server (1 caller, or 50 concurrent callers). Both methods of a case are
warmed up, then measured in alternating rounds, so drift on a noisy machine hits both alike.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import grpc

from benchmarks import echo_server
from benchmarks.closed_loop import Timings, closed_loop
from benchmarks.runner import Row
from benchmarks.server_process import LOCALHOST, ServerProcess
from turnwise.errors import FailedPrecondition, InvalidArgument
from turnwise.v1 import network_pb2, network_pb2_grpc

__all__ = [
    "BASELINE",
    "CONCURRENT_CALLERS",
    "FULL",
    "METHOD",
    "QUICK",
    "Sizes",
    "measure",
    "run",
]

METHOD: Final = "turnwise"
BASELINE: Final = "baseline-grpcio-echo"
CONCURRENT_CALLERS: Final = 50
RPCS: Final = ("GetNetworkSummary", "UpsertRegions")
CALL_TIMEOUT_S: Final = 10.0
STARTUP_TIMEOUT_S: Final = 120.0
MEASURE_TIMEOUT_S: Final = 1200.0
# The echo payload, in the ballpark of an UpsertRegions request (~55 bytes), the larger
# message of the two RPCs.
ECHO_PAYLOAD: Final = b"x" * 64
_TURNWISE_READY: Final = "Turnwise is listening on "
_REPO_ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    """How many calls each method makes per case, after ``warmup_calls`` unmeasured ones,
    split into ``rounds`` alternating rounds."""

    sequential_calls: int
    concurrent_calls: int
    warmup_calls: int
    rounds: int

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.warmup_calls < 0:
            raise InvalidArgument("sizes", f"need rounds >= 1 and warmup_calls >= 0, got {self}")
        if min(self.sequential_calls, self.concurrent_calls) < self.rounds:
            raise InvalidArgument("sizes", f"need at least one call per round, got {self}")


QUICK: Final = Sizes(sequential_calls=300, concurrent_calls=1500, warmup_calls=50, rounds=3)
FULL: Final = Sizes(sequential_calls=3000, concurrent_calls=10000, warmup_calls=300, rounds=5)


def run(quick: bool) -> list[Row]:
    """The ``grpc`` benchmark at QUICK or FULL size."""
    return measure(QUICK if quick else FULL)


def measure(sizes: Sizes) -> list[Row]:
    """Start both servers, measure every case at ``sizes``, stop both servers."""
    with (
        tempfile.TemporaryDirectory(prefix="turnwise-bench-grpc-") as tmp,
        ExitStack() as servers,
    ):
        work = Path(tmp)
        turnwise = servers.enter_context(
            ServerProcess(
                METHOD,
                _turnwise_argv(work),
                _TURNWISE_READY,
                work / "turnwise.log",
                env=_turnwise_env(),
                cwd=_REPO_ROOT,
            )
        )
        echo = servers.enter_context(
            ServerProcess(
                BASELINE,
                [sys.executable, "-m", "benchmarks.echo_server", "--port", "0"],
                echo_server.READY_PREFIX,
                work / "echo.log",
                cwd=_REPO_ROOT,
            )
        )
        turnwise_address = turnwise.wait_ready(STARTUP_TIMEOUT_S)
        echo_address = echo.wait_ready(STARTUP_TIMEOUT_S)
        return asyncio.run(_measure_cases(turnwise_address, echo_address, sizes))


def _turnwise_argv(work: Path) -> list[str]:
    database_url = f"sqlite:///{work / 'turnwise.db'}"
    return [
        *(sys.executable, "-m", "serving.cli", "serve", "--host", LOCALHOST, "--port", "0"),
        *("--database-url", database_url, "--metrics-port", "-1", "--no-demo"),
    ]


def _turnwise_env() -> dict[str, str]:
    """This environment without TURNWISE_* settings (auth, limits) or RAY_ADDRESS, so every
    run measures the defaults; one CPU worker, as these RPCs never use it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TURNWISE_") and key != "RAY_ADDRESS"
    }
    return {**env, "TURNWISE_CPU_WORKERS": "1", "TURNWISE_GRACE_SECONDS": "1"}


@dataclass(frozen=True)
class _Case:
    rpc: str
    callers: int

    @property
    def name(self) -> str:
        label = "sequential" if self.callers == 1 else f"concurrent-{self.callers}"
        return f"{self.rpc}/{label}"


def _cases() -> list[_Case]:
    return [_Case(rpc, callers) for rpc in RPCS for callers in (1, CONCURRENT_CALLERS)]


async def _measure_cases(turnwise_address: str, echo_address: str, sizes: Sizes) -> list[Row]:
    async with (
        asyncio.timeout(MEASURE_TIMEOUT_S),
        grpc.aio.insecure_channel(turnwise_address) as turnwise_channel,
        grpc.aio.insecure_channel(echo_address) as echo_channel,
    ):
        for channel in (turnwise_channel, echo_channel):
            await asyncio.wait_for(channel.channel_ready(), CALL_TIMEOUT_S)
        stub = network_pb2_grpc.NetworkServiceStub(turnwise_channel)
        await _seed_network(stub)
        rpc_calls = {"GetNetworkSummary": _summary_call(stub), "UpsertRegions": _upsert_call(stub)}
        echo = _echo_call(echo_channel)
        rows: list[Row] = []
        for case in _cases():
            calls = sizes.sequential_calls if case.callers == 1 else sizes.concurrent_calls
            turnwise, baseline = await _paired(
                rpc_calls[case.rpc], echo, case.callers, calls, sizes
            )
            rows.extend(_rows(case.name, turnwise, baseline))
        return rows


async def _paired(
    method: Callable[[], Awaitable[object]],
    baseline: Callable[[], Awaitable[object]],
    callers: int,
    calls: int,
    sizes: Sizes,
) -> tuple[Timings, Timings]:
    """Warm both up, then ``sizes.rounds`` rounds of ``calls / rounds`` calls each, the one
    going first alternating between rounds."""
    if sizes.warmup_calls:
        await closed_loop(baseline, callers, sizes.warmup_calls)
        await closed_loop(method, callers, sizes.warmup_calls)
    per_round = [calls // sizes.rounds + (i < calls % sizes.rounds) for i in range(sizes.rounds)]
    method_parts: list[Timings] = []
    baseline_parts: list[Timings] = []
    for i, n in enumerate(per_round):
        if i % 2 == 0:
            baseline_parts.append(await closed_loop(baseline, callers, n))
            method_parts.append(await closed_loop(method, callers, n))
        else:
            method_parts.append(await closed_loop(method, callers, n))
            baseline_parts.append(await closed_loop(baseline, callers, n))
    return Timings.merge(method_parts), Timings.merge(baseline_parts)


def _rows(case: str, turnwise: Timings, baseline: Timings) -> list[Row]:
    def latency_rows(method: str, timings: Timings) -> list[Row]:
        return [
            Row(case, method, "p50_ms", timings.percentile_ms(50), "ms"),
            Row(case, method, "p99_ms", timings.percentile_ms(99), "ms"),
            Row(case, method, "calls_per_second", timings.calls_per_second, "calls/s"),
        ]

    ratio = turnwise.percentile_ms(50) / baseline.percentile_ms(50)
    return [
        *latency_rows(METHOD, turnwise),
        Row(case, METHOD, "p50_ratio_vs_echo", ratio, "x"),
        *latency_rows(BASELINE, baseline),
    ]


async def _seed_network(stub: network_pb2_grpc.NetworkServiceStub) -> None:
    """A small network for GetNetworkSummary to count: 3 regions, 3 brands, 6 stores, 6 trims."""
    pb = network_pb2
    regions = [pb.Region(region_id=f"R0{i}", name=f"Region {i}") for i in range(1, 4)]
    brands = [pb.Brand(brand_id=f"B0{i}", name=f"Brand {i}", is_nev=i == 3) for i in range(1, 4)]
    stores = [
        pb.Store(
            store_id=f"S00{i}",
            name=f"Store {i}",
            region_id=f"R0{i % 3 + 1}",
            city=f"City {i}",
            store_type=pb.STORE_TYPE_4S,
            latitude=30.0 + i / 10,
            longitude=120.0 + i / 10,
            lot_capacity=100,
            credit_limit_cny=20_000_000,
            authorised_brand_ids=[f"B0{i % 3 + 1}"],
        )
        for i in range(1, 7)
    ]
    trims = [
        pb.Trim(
            trim_id=f"T000{i}",
            brand_id=f"B0{i % 3 + 1}",
            model=f"Model {i}",
            trim="Standard",
            powertrain=pb.POWERTRAIN_ICE,
            msrp_cny=200_000,
            cost_cny=180_000,
            holding_cost_cny_per_day=40.0,
        )
        for i in range(1, 7)
    ]
    timeout = CALL_TIMEOUT_S
    await stub.UpsertRegions(pb.UpsertRegionsRequest(regions=regions), timeout=timeout)
    await stub.UpsertBrands(pb.UpsertBrandsRequest(brands=brands), timeout=timeout)
    await stub.UpsertStores(pb.UpsertStoresRequest(stores=stores), timeout=timeout)
    await stub.UpsertTrims(pb.UpsertTrimsRequest(trims=trims), timeout=timeout)
    summary = await stub.GetNetworkSummary(pb.GetNetworkSummaryRequest(), timeout=timeout)
    counts = (summary.regions, summary.brands, summary.stores, summary.trims)
    if counts != (3, 3, 6, 6):
        raise FailedPrecondition(
            "grpc.seed",
            f"the store holds (regions, brands, stores, trims) = {counts}, not (3, 3, 6, 6)",
        )


def _summary_call(stub: network_pb2_grpc.NetworkServiceStub) -> Callable[[], Awaitable[object]]:
    request = network_pb2.GetNetworkSummaryRequest()

    async def call() -> object:
        return await stub.GetNetworkSummary(request, timeout=CALL_TIMEOUT_S)

    return call


def _upsert_call(stub: network_pb2_grpc.NetworkServiceStub) -> Callable[[], Awaitable[object]]:
    """UpsertRegions of one region, renamed each call (so each call writes), with a fresh
    idempotency key each call (so none is answered from the idempotency record)."""
    run_id = uuid.uuid4().hex[:12]
    counter = itertools.count()

    async def call() -> object:
        i = next(counter)
        request = network_pb2.UpsertRegionsRequest(
            idempotency_key=f"bench-{run_id}-{i}",
            regions=[network_pb2.Region(region_id="R99", name=f"Benchmark region {i}")],
        )
        reply = await stub.UpsertRegions(request, timeout=CALL_TIMEOUT_S)
        if reply.summary.replayed or reply.summary.inserted + reply.summary.updated != 1:
            raise FailedPrecondition("grpc.UpsertRegions", f"expected one write, got {reply}")
        return reply

    return call


def _echo_call(channel: grpc.aio.Channel) -> Callable[[], Awaitable[object]]:
    echo = channel.unary_unary(echo_server.METHOD)

    async def call() -> object:
        reply = await echo(ECHO_PAYLOAD, timeout=CALL_TIMEOUT_S)
        if reply != ECHO_PAYLOAD:
            raise FailedPrecondition(
                BASELINE, f"echoed {len(reply)} bytes, sent {len(ECHO_PAYLOAD)}"
            )
        return reply

    return call
