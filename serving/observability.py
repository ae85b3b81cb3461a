"""Structured logs (one JSON object per line) and Prometheus metrics.

Metrics: ``turnwise_grpc_requests_total{method,code}``,
``turnwise_grpc_request_seconds{method}`` and ``turnwise_solve_seconds{solver}`` (observed
by the engines' RPCs), served in the Prometheus text format on ``metrics_port``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Histogram, start_http_server

__all__ = [
    "REQUESTS",
    "REQUEST_SECONDS",
    "SOLVE_SECONDS",
    "JsonFormatter",
    "configure_logging",
    "start_metrics_server",
]

REQUESTS = Counter(
    "turnwise_grpc_requests", "gRPC requests handled, by method and status code", ["method", "code"]
)
REQUEST_SECONDS = Histogram(
    "turnwise_grpc_request_seconds",
    "gRPC request latency in seconds, by method",
    ["method"],
    buckets=(
        0.0005,
        0.001,
        0.0025,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
    ),
)
SOLVE_SECONDS = Histogram(
    "turnwise_solve_seconds",
    "Optimisation and forecast solve time in seconds, by solver",
    ["solver"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60, 120, 300),
)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, plus any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Solver and forecasting libraries are chatty: keep them quiet unless debugging.
    for noisy in ("cmdstanpy", "prophet", "ray", "alembic"):
        logging.getLogger(noisy).setLevel(
            logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG
        )


def start_metrics_server(host: str, port: int) -> int | None:
    """Serve /metrics; ``port`` -1 disables, 0 picks a free port. Returns the port."""
    if port < 0:
        return None
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)
