"""What a pick-up plan is asked for and what its lines are: plain dataclasses that cross
the server's process boundary (the server validates requests and stores lines without
loading the solver; ``pickup_plan`` makes the plan in a worker process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from allocation.pickup_kpis import DEFAULT_SAMPLES
from allocation.pickup_network import DEFAULT_TARGET_PENALTY_CNY, PickupOverrides
from allocation.pickup_problem import DEFAULT_MAX_DAYS_OF_SUPPLY
from turnwise.solving import SolveLimits

__all__ = ["OrderLine", "PickupRequest"]


@dataclass(frozen=True)
class PickupRequest:
    first_week: date
    weeks: int
    limits: SolveLimits = field(default_factory=SolveLimits)
    store_ids: tuple[str, ...] = ()
    overrides: PickupOverrides = field(default_factory=PickupOverrides)
    max_days_of_supply: float = DEFAULT_MAX_DAYS_OF_SUPPLY
    target_penalty_cny: float = DEFAULT_TARGET_PENALTY_CNY
    kpi_samples: int = DEFAULT_SAMPLES


@dataclass(frozen=True)
class OrderLine:
    store_id: str
    trim_id: str
    week_start: date
    units: int
    expected_sales: float
    reason: str
