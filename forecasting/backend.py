"""Where per-series work runs: in this process, or on Ray.

The forecaster hands a backend a top-level function and a list of work items (chunks of
series); the backend returns one result per item, in order, calls ``on_done(i)`` with the
index of each item as it finishes (progress; items may finish out of order) and stops early
when ``should_stop`` turns true (cancellation). Results do not depend on the backend: every
item is computed from its own inputs and seeds only.

- ``SequentialBackend``: one process, item by item; small requests and tests.
- ``RayBackend``: Ray tasks, one per item. ``address=None`` starts (or reuses) a local Ray
  with ``num_cpus`` workers; ``RAY_ADDRESS`` (or ``address``) connects to an existing cluster.

``make_backend(workers, address)`` picks: an address -> Ray cluster; ``workers > 1`` -> local
Ray with that many CPUs; otherwise sequential.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Backend", "RayBackend", "RunCancelled", "SequentialBackend", "make_backend"]

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


class RunCancelled(Exception):
    """The caller asked the run to stop (``should_stop`` returned true at a checkpoint)."""


class Backend(Protocol):
    """Maps a function over work items. ``workers`` is the parallelism it offers;
    ``on_done(i)`` is called with the index in ``items`` of each item that finished."""

    @property
    def workers(self) -> int: ...

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[R]: ...


def _check_stop(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise RunCancelled("cancelled at a checkpoint")


@dataclass(frozen=True)
class SequentialBackend:
    """Runs every item in this process, in order."""

    @property
    def workers(self) -> int:
        return 1

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[R]:
        out: list[R] = []
        for i, item in enumerate(items):
            _check_stop(should_stop)
            out.append(fn(item))
            if on_done is not None:
                on_done(i)
        return out


@dataclass(frozen=True)
class RayBackend:
    """Runs every item as a Ray task (local Ray, or the cluster at ``address``)."""

    address: str | None = None
    num_cpus: int | None = None

    @property
    def workers(self) -> int:
        self._init()
        import ray

        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        return max(1, int(resources.get("CPU", 1)))

    def _init(self) -> None:
        import ray

        if ray.is_initialized():
            return
        ray.init(
            address=self.address,
            num_cpus=None if self.address else self.num_cpus,
            include_dashboard=False,
            log_to_driver=log.isEnabledFor(logging.DEBUG),
            logging_level=logging.WARNING,
            configure_logging=False,
        )

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[R]:
        self._init()
        import ray

        remote = ray.remote(num_cpus=1)(fn)
        refs: list[Any] = [remote.remote(item) for item in items]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = list(refs)
        try:
            while pending:
                _check_stop(should_stop)
                ready, pending = ray.wait(pending, num_returns=1, timeout=0.5)
                for ref in ready:
                    results[index[ref]] = ray.get(ref)
                    if on_done is not None:
                        on_done(index[ref])
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        return results


def make_backend(workers: int = 1, address: str | None = None) -> Backend:
    """``address`` (or ``$RAY_ADDRESS``) -> that Ray cluster; ``workers > 1`` -> a local Ray
    with ``workers`` CPUs; else the sequential backend."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        return RayBackend(address=address)
    if workers > 1:
        return RayBackend(num_cpus=workers)
    return SequentialBackend()
