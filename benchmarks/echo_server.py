"""A bare grpc.aio echo server: the baseline of the ``grpc`` benchmark.

One generic unary method, ``/turnwise.bench.Echo/Echo``, answers with its request bytes: no
protobuf, no interceptors, no store. It is what any grpc.aio server costs, so a Turnwise RPC's
latency over this one's is what Turnwise adds (handler, interceptors, store).

    python -m benchmarks.echo_server --port 0

binds 127.0.0.1 only, prints ``echo server listening on 127.0.0.1:PORT`` once it accepts calls,
and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import Final

import grpc

__all__ = ["HOST", "METHOD", "READY_PREFIX", "main", "serve"]

HOST: Final = "127.0.0.1"
_SERVICE: Final = "turnwise.bench.Echo"
METHOD: Final = f"/{_SERVICE}/Echo"
READY_PREFIX: Final = "echo server listening on "


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def serve(port: int) -> None:
    """Serve on 127.0.0.1:``port`` (0 = any free port) until SIGTERM or SIGINT."""
    # Same server kind and socket option as serving.server.create_server, nothing else.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        _SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    bound = server.add_insecure_port(f"{HOST}:{port}")
    if bound == 0:
        raise OSError(f"could not bind {HOST}:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"{READY_PREFIX}{HOST}:{bound}", flush=True)
    await stop.wait()
    await server.stop(1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.echo_server", description="A bare grpc.aio echo server."
    )
    parser.add_argument("--port", type=int, default=0, help="port, 0 = any free port (default)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
