"""What every optimisation solve of Turnwise shares: its limits and how it ended.

The solvers (allocation/, lead_routing/) take ``SolveLimits`` and return a ``SolveStatus``
inside their own solution dataclasses; ``serving`` maps both to and from the v1 contract's
``SolveLimits`` and ``SolveSummary``. Infeasibility is a status with a diagnosis, not an
exception.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from turnwise.errors import InvalidArgument

__all__ = ["SolveLimits", "SolveStatus", "relative_gap"]


class SolveStatus(enum.Enum):
    OPTIMAL = "OPTIMAL"
    """Proven optimal within the requested relative gap."""
    FEASIBLE = "FEASIBLE"
    """A plan was found and the solver stopped with a gap above the requested one."""
    TIME_LIMIT = "TIME_LIMIT"
    """The time ran out; the best plan found so far is returned with its gap."""
    INFEASIBLE = "INFEASIBLE"
    """No plan meets the hard constraints; the solution carries a diagnosis."""


@dataclass(frozen=True)
class SolveLimits:
    """Limits on one solve, always set by the caller (the server derives the time limit
    from the gRPC deadline)."""

    time_limit_seconds: float = 10.0
    relative_gap: float = 1e-3
    workers: int = 1

    def __post_init__(self) -> None:
        if not math.isfinite(self.time_limit_seconds) or self.time_limit_seconds <= 0:
            raise InvalidArgument(
                "time_limit_seconds", f"must be a number > 0, got {self.time_limit_seconds}"
            )
        if not math.isfinite(self.relative_gap) or not 0 <= self.relative_gap < 1:
            raise InvalidArgument("relative_gap", f"must be within [0, 1), got {self.relative_gap}")
        if self.workers < 1:
            raise InvalidArgument("workers", f"must be >= 1, got {self.workers}")


def relative_gap(objective: float, bound: float) -> float:
    """``|bound - objective| / max(|objective|, 1)``: 0 when proven optimal."""
    return abs(bound - objective) / max(abs(objective), 1.0)
