"""Typed server configuration, from defaults, environment variables and CLI flags.

| setting | env | default |
|---|---|---|
| host | TURNWISE_HOST | 127.0.0.1 |
| port | TURNWISE_PORT | 50051 (0 = any free port) |
| database_url | TURNWISE_DATABASE_URL | sqlite:///turnwise-data/turnwise.db |
| ray_address | RAY_ADDRESS | "" (forecast jobs in the CPU workers; set: on that Ray cluster) |
| auth_token | TURNWISE_AUTH_TOKEN | "" (no auth) |
| metrics_port | TURNWISE_METRICS_PORT | 9464 (-1 = off, 0 = any free port) |
| cpu_workers | TURNWISE_CPU_WORKERS | number of cores |
| default_solve_seconds | TURNWISE_DEFAULT_SOLVE_SECONDS | 10 |
| max_message_mb | TURNWISE_MAX_MESSAGE_MB | 64 |
| load_demo | TURNWISE_LOAD_DEMO | true (load the demo group into an empty store) |
| sla_sweep_seconds | TURNWISE_SLA_SWEEP_SECONDS | 10 (how often lead SLA timers fire; 0 = off) |
| lead_scorer_path | TURNWISE_LEAD_SCORER_PATH | "" (prior scores; else a LeadScorer.save dir) |
| routing_rules_path | TURNWISE_ROUTING_RULES_PATH | "" (defaults; else a TOML file, see below) |
| rules_poll_seconds | TURNWISE_RULES_POLL_SECONDS | 5 (rules file checked for changes; 0 = never) |

``routing_rules_path`` names the lead-routing rules file: the routing weights and the SLA
timings per grade and channel (format: ``serving.routing_rules``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from turnwise.errors import InvalidArgument

__all__ = ["DEFAULT_DATABASE_URL", "ServerConfig"]

DEFAULT_DATABASE_URL = "sqlite:///turnwise-data/turnwise.db"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 50051
    database_url: str = DEFAULT_DATABASE_URL
    ray_address: str = ""
    auth_token: str = ""
    metrics_port: int = 9464
    cpu_workers: int = max(1, os.cpu_count() or 1)
    default_solve_seconds: float = 10.0
    max_message_mb: int = 64
    load_demo: bool = True
    demo_stores: int = 60
    demo_trims: int = 120
    demo_seed: int = 0
    grace_seconds: float = 5.0
    sla_sweep_seconds: float = 10.0
    lead_scorer_path: str = ""
    routing_rules_path: str = ""
    rules_poll_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise InvalidArgument("port", f"must be within [0, 65535], got {self.port}")
        if not -1 <= self.metrics_port <= 65535:
            raise InvalidArgument(
                "metrics_port", f"must be -1 (off) or a port, got {self.metrics_port}"
            )
        if self.cpu_workers < 1:
            raise InvalidArgument("cpu_workers", f"must be >= 1, got {self.cpu_workers}")
        if self.sla_sweep_seconds < 0:
            raise InvalidArgument("sla_sweep_seconds", "must be >= 0 (0 = no sweeper)")
        if self.rules_poll_seconds < 0:
            raise InvalidArgument("rules_poll_seconds", "must be >= 0 (0 = never reloaded)")
        if self.default_solve_seconds <= 0:
            raise InvalidArgument("default_solve_seconds", "must be > 0")
        if not 1 <= self.max_message_mb <= 1024:
            raise InvalidArgument("max_message_mb", "must be within [1, 1024]")
        if "://" not in self.database_url:
            raise InvalidArgument(
                "database_url",
                f"{self.database_url!r} is not a URL; use sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST:PORT/DB",
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
        """Defaults, then TURNWISE_* / RAY_ADDRESS variables, then non-None overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = "RAY_ADDRESS" if f.name == "ray_address" else f"TURNWISE_{f.name.upper()}"
            if name in env:
                values[f.name] = _parse(f.name, env[name], type(getattr(cls(), f.name)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _parse(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise InvalidArgument(name, f"{raw!r} is not a boolean (true/false)")
    try:
        return kind(raw)
    except ValueError:
        raise InvalidArgument(name, f"{raw!r} is not a valid {kind.__name__}") from None
