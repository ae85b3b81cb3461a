"""Time budgets: the caller's gRPC deadline, turned into a solver time limit.

Every solve gets ``time_budget(...)`` seconds: the requested limit, or the server
default, capped by what is left of the caller's deadline minus a reserve for converting
and sending the answer. A budget that is already spent raises DeadlineExceeded before
any work starts.
"""

from __future__ import annotations

from turnwise.errors import DeadlineExceeded

__all__ = ["MIN_RESERVE_SECONDS", "RESERVE_FRACTION", "time_budget"]

RESERVE_FRACTION = 0.1
MIN_RESERVE_SECONDS = 0.05


def time_budget(
    time_remaining: float | None, requested_seconds: float, default_seconds: float
) -> float:
    """Seconds a solve may take.

    ``time_remaining`` is ``context.time_remaining()`` (None without a deadline);
    ``requested_seconds`` the request's own limit (0 = none).
    """
    budget = requested_seconds if requested_seconds > 0 else default_seconds
    if time_remaining is None:
        return budget
    reserve = max(MIN_RESERVE_SECONDS, RESERVE_FRACTION * time_remaining)
    usable = time_remaining - reserve
    if usable <= 0:
        raise DeadlineExceeded(
            "deadline",
            f"only {time_remaining * 1e3:.0f} ms were left of the caller's deadline; "
            "allow more time",
        )
    return min(budget, usable)
