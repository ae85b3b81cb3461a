"""Load from asyncio tasks, with the latency of every call kept.

``closed_loop``: each caller sends its next call as soon as its previous one returns (the
server's throughput decides the latency: Little's law). ``open_loop``: calls arrive as a
Poisson process at a fixed rate, whatever the replies (what many independent clients, each
sending now and then, look like to the server).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from turnwise.errors import InvalidArgument

__all__ = ["Timings", "closed_loop", "open_loop"]


@dataclass(frozen=True)
class Timings:
    """The latency of each completed call, in seconds, and the wall time of the run."""

    latencies_s: tuple[float, ...]
    elapsed_s: float

    @property
    def calls(self) -> int:
        return len(self.latencies_s)

    def percentile_ms(self, q: float) -> float:
        """The ``q``-th percentile latency (0..100, linear interpolation) in milliseconds."""
        return float(np.percentile(np.asarray(self.latencies_s), q)) * 1e3

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.elapsed_s

    @staticmethod
    def merge(parts: Sequence[Timings]) -> Timings:
        """Several runs of the same load as one: latencies pooled, wall times added."""
        return Timings(
            latencies_s=tuple(lat for part in parts for lat in part.latencies_s),
            elapsed_s=sum(part.elapsed_s for part in parts),
        )


async def closed_loop(call: Callable[[], Awaitable[object]], callers: int, calls: int) -> Timings:
    """Make ``calls`` calls of ``call`` from ``callers`` concurrent tasks on the running event
    loop. A caller takes the next call as soon as its previous one returns, so ``callers``
    calls are in flight until the last ones. The first failing call fails the run."""
    if callers < 1 or calls < 1:
        raise InvalidArgument("callers, calls", f"must both be >= 1, got {callers}, {calls}")
    latencies: list[float] = []
    remaining = calls

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1  # one event loop: no other caller runs between test and decrement
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(min(callers, calls)):
            group.create_task(caller())
    return Timings(latencies_s=tuple(latencies), elapsed_s=time.perf_counter() - start)


async def open_loop(
    call: Callable[[], Awaitable[object]], rate_per_second: float, calls: int, seed: int = 0
) -> Timings:
    """Send ``calls`` calls of ``call`` at Poisson arrivals of ``rate_per_second`` (seeded),
    each in its own task, so a slow reply never delays the next arrival. The first failing
    call fails the run; ``elapsed_s`` runs from the first arrival to the last reply."""
    if rate_per_second <= 0 or calls < 1:
        raise InvalidArgument(
            "rate_per_second, calls", f"must be > 0 and >= 1, got {rate_per_second}, {calls}"
        )
    gaps = np.random.default_rng(seed).exponential(1.0 / rate_per_second, calls)
    latencies: list[float] = []

    async def one() -> None:
        start = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    due = start
    async with asyncio.TaskGroup() as group:
        for gap in gaps:
            due += float(gap)
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            group.create_task(one())
    return Timings(latencies_s=tuple(latencies), elapsed_s=time.perf_counter() - start)
