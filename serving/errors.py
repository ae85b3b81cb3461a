"""The one place where Turnwise errors become gRPC status codes.

Handlers are wrapped by ``grpc_errors``: a ``TurnwiseError`` aborts the call with its
mapped code and a message naming the field; anything unexpected is logged with its stack
trace under an error id and answered INTERNAL with only that id (never a stack trace).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from turnwise.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    TurnwiseError,
    Unimplemented,
)

__all__ = ["grpc_errors", "status_code_for"]

log = logging.getLogger("turnwise.errors")

_CODES: tuple[tuple[type[TurnwiseError], grpc.StatusCode], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
)

R = TypeVar("R")


def status_code_for(error: TurnwiseError) -> grpc.StatusCode:
    for cls, code in _CODES:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.UNKNOWN


def grpc_errors(
    handler: Callable[..., Awaitable[R]],
) -> Callable[..., Awaitable[R]]:
    """Decorator for async unary handlers ``(self, request, context)``."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        try:
            return await handler(self, request, context)
        except TurnwiseError as err:
            await context.abort(status_code_for(err), str(err))
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("unhandled error in %s (error_id=%s)", handler.__qualname__, error_id)
            await context.abort(
                grpc.StatusCode.INTERNAL, f"internal error (error_id={error_id}); see server logs"
            )
        raise AssertionError("unreachable: context.abort raises")

    return wrapper
