"""CPU-bound work off the event loop.

``CpuPool`` runs picklable functions in worker processes (spawned, never forked from the
gRPC server), so one long solve never blocks latency-critical RPCs such as RouteLead.
Engines with many independent items (forecast series) use a Ray backend instead; see
``forecasting``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["CpuPool"]

R = TypeVar("R")


class CpuPool:
    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:  # started lazily: most RPCs never need it
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), fn, *args)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
