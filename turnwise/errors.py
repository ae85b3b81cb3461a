"""The one exception tree of Turnwise.

Every error the engines, the store or the server raise on purpose is a ``TurnwiseError``.
The core packages (forecasting, allocation, lead_routing, dealer_group) raise these without
knowing about gRPC; ``serving.errors`` maps each class to a ``grpc.StatusCode`` in one place.

Messages name the offending field (``field``) and say how to fix it (``hint``), e.g.
``InvalidArgument("stores[3].lot_capacity", "must be >= 0, got -5")``.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "DatasetMissing",
    "DeadlineExceeded",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "ResourceExhausted",
    "TurnwiseError",
    "Unimplemented",
]


class TurnwiseError(Exception):
    """Base of every deliberate Turnwise error.

    ``field`` is the dotted path of the request or record field at fault (empty when none
    applies); ``hint`` says how to fix it.
    """

    def __init__(self, field: str, hint: str) -> None:
        self.field = field
        self.hint = hint
        super().__init__(f"{field}: {hint}" if field else hint)

    def __reduce__(self) -> tuple[type[TurnwiseError], tuple[str, str]]:
        # Picklable with both arguments: an error raised in a worker process (CpuPool, Ray)
        # reaches the server intact instead of breaking the process pool.
        return (type(self), (self.field, self.hint))


class InvalidArgument(TurnwiseError):
    """The input is malformed: a missing, out-of-range or inconsistent field."""


class NotFound(TurnwiseError):
    """A referenced entity (store, trim, plan, job...) does not exist."""


class AlreadyExists(TurnwiseError):
    """A create collided with an existing entity, or an idempotency key was reused for a
    different request body."""


class FailedPrecondition(TurnwiseError):
    """The request is well-formed but cannot be carried out in the current state, e.g. an
    infeasible plan (the hint carries the diagnosis) or approving a plan that is not a draft."""


class DeadlineExceeded(TurnwiseError):
    """The caller's time budget ran out before any usable result was found."""


class ResourceExhausted(TurnwiseError):
    """A capacity limit was hit: request too large, too many concurrent jobs."""


class Unimplemented(TurnwiseError):
    """The RPC is part of the v1 contract but its engine has not landed yet."""


class DatasetMissing(FailedPrecondition):
    """A real dataset under ../shared/data (or TURNWISE_SHARED_DATA) is not present."""
