"""Server interceptors: bearer-token auth, request metrics and access logs.

Health and reflection are always open so that load balancers and tools can probe.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from serving.observability import REQUEST_SECONDS, REQUESTS

__all__ = ["AuthInterceptor", "ObservabilityInterceptor"]

log = logging.getLogger("turnwise.access")

_OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def _code_of(context: grpc.aio.ServicerContext) -> str:
    code = context.code()
    if code is None:
        return "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


def _wrap(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """Time and count unary-response handlers (unary-unary and stream-unary)."""

    def timed(inner: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            code = "UNKNOWN"
            try:
                response = await inner(request, context)
                code = _code_of(context)
                return response
            except BaseException:
                code = _code_of(context)
                raise
            finally:
                elapsed = time.perf_counter() - start
                REQUESTS.labels(method, code).inc()
                REQUEST_SECONDS.labels(method).observe(elapsed)
                log.info(
                    "rpc", extra={"method": method, "code": code, "ms": round(elapsed * 1e3, 3)}
                )

        return call

    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            timed(handler.unary_unary), handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            timed(handler.stream_unary), handler.request_deserializer, handler.response_serializer
        )
    return handler


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(_OPEN_PREFIXES):
            return handler
        return _wrap(handler, method)


def _deny(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same shape as ``handler`` that answers UNAUTHENTICATED."""

    async def abort(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    des, ser = handler.request_deserializer, handler.response_serializer
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(abort, des, ser)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(abort, des, ser)
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(abort, des, ser)
    return grpc.unary_unary_rpc_method_handler(abort, des, ser)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Requires ``authorization: Bearer <token>`` metadata on every Turnwise RPC."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}"

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(_OPEN_PREFIXES):
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        if not hmac.compare_digest(metadata.get("authorization", ""), self._expected):
            return _deny(handler, "missing or wrong 'authorization: Bearer <token>' metadata")
        return handler
