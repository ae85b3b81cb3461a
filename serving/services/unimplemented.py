"""Servicers for the v1 RPCs whose engines land in later issues. Each RPC answers
UNIMPLEMENTED with a message naming the issue that brings it (see README)."""

from __future__ import annotations

from typing import Any

import grpc

from turnwise.v1 import lead_routing_pb2, lead_routing_pb2_grpc

__all__ = ["PENDING", "unimplemented_servicer"]

# service name -> (generated servicer base, file descriptor, what brings it)
PENDING: dict[str, tuple[type, Any, str]] = {
    "LeadRoutingService": (
        lead_routing_pb2_grpc.LeadRoutingServiceServicer,
        lead_routing_pb2.DESCRIPTOR,
        "lead routing (issue 6)",
    ),
}


def _method(name: str, reason: str) -> Any:
    async def handler(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            f"{name} is part of the turnwise.v1 contract but not implemented yet: it arrives "
            f"with {reason}",
        )

    handler.__name__ = name
    return handler


def unimplemented_servicer(service: str) -> Any:
    """An instance of the generated servicer whose every RPC answers UNIMPLEMENTED."""
    base, file_descriptor, reason = PENDING[service]
    methods = file_descriptor.services_by_name[service].methods
    cls = type(
        f"Pending{service}",
        (base,),
        {m.name: _method(f"{service}.{m.name}", reason) for m in methods},
    )
    return cls()
