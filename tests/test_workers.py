"""CPU-bound work runs in worker processes and never blocks the event loop."""

from __future__ import annotations

import asyncio
import time

from serving.workers import CpuPool


def _spin(seconds: float) -> int:
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def test_event_loop_keeps_ticking_while_a_worker_computes() -> None:
    async def scenario() -> tuple[int, int]:
        pool = CpuPool(1)
        try:
            await pool.run(_spin, 0.0)  # start the worker process first
            ticks = 0
            job = asyncio.ensure_future(pool.run(_spin, 1.0))
            while not job.done():
                ticks += 1
                await asyncio.sleep(0.01)
            return ticks, await job
        finally:
            pool.shutdown()

    ticks, spins = asyncio.run(scenario())
    assert spins > 0
    assert ticks >= 20  # ~100 possible in 1 s; a blocked loop would tick once or twice
