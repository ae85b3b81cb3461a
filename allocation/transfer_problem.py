"""The transfer problem (调拨): which cars in stock move between stores tonight.

``TransferProblem`` holds, around a ``PickupProblem`` with no orders (``base``: stores,
trims, authorisations, lot space, prices and costs, the weekly demand quantiles of the
horizon and the cars held), what only transfers need: one VIN and colour per car, which
cars may move (in stock, not moved within the last N days), the lanes between stores
(road distance and lead time), each store's daily loading limit, and the transport and
aging parameters. Validated when built; errors name the field.

Lanes: ``distance_km[i, j]`` is the road distance from store i to store j (``inf`` = no
lane); ``lane_distances`` estimates it from coordinates when no matrix is supplied
(great-circle distance x ``ROAD_FACTOR``), and ``lane_lead_times`` the lead time from the
distance. Lanes longer than ``max_lane_km`` are not used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from allocation.pickup_problem import PickupProblem
from turnwise.errors import InvalidArgument

__all__ = [
    "DEFAULT_AGING_PENALTY_CNY",
    "DEFAULT_COST_PER_CAR_KM_CNY",
    "DEFAULT_LOADING_LIMIT",
    "DEFAULT_MAX_LANE_KM",
    "DEFAULT_MIN_DAYS_BETWEEN_MOVES",
    "DEFAULT_TRUCK_CAPACITY",
    "DEFAULT_TRUCK_TRIP_COST_CNY",
    "ROAD_FACTOR",
    "TransferProblem",
    "lane_distances",
    "lane_lead_times",
]

DEFAULT_COST_PER_CAR_KM_CNY = 1.0
"""A car carrier costs about 8 CNY per km loaded with 8 cars (fuel, tolls, driver)."""
DEFAULT_TRUCK_TRIP_COST_CNY = 800.0
"""Fixed cost of one truck trip: booking, loading and unloading, the driver's day."""
DEFAULT_TRUCK_CAPACITY = 8
"""Cars per car-carrier truck (a two-deck carrier takes 7-9)."""
DEFAULT_LOADING_LIMIT = 16
"""Cars a store can load onto trucks in one day (two trucks)."""
DEFAULT_MIN_DAYS_BETWEEN_MOVES = 30
"""A car moved within this many days does not move again."""
DEFAULT_MAX_LANE_KM = 1500.0
"""Longest lane used: about three days on the road."""
DEFAULT_AGING_PENALTY_CNY = 3000.0
"""What a car costs when it turns slow-moving unsold: the markdown and the OEM's aged-stock
charges a planner expects on a car past the slow-moving age."""
ROAD_FACTOR = 1.3
"""Road distance / great-circle distance between two Chinese cities (typically 1.2-1.4)."""
_EARTH_KM = 6371.0
_KM_PER_DAY = 500.0
_HANDLING_DAYS = 0.5


def lane_distances(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """(S, S) estimated road distances in km: haversine x ``ROAD_FACTOR``, 0 on the diagonal."""
    lat = np.radians(np.asarray(latitude, dtype=float))
    lon = np.radians(np.asarray(longitude, dtype=float))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * ROAD_FACTOR)


def lane_lead_times(distance_km: np.ndarray) -> np.ndarray:
    """(S, S) lead time in days: half a day of handling plus 500 km per day on the road."""
    d = np.asarray(distance_km, dtype=float)
    return np.where(np.isfinite(d), _HANDLING_DAYS + d / _KM_PER_DAY, np.inf)


@dataclass(frozen=True, eq=False)
class TransferProblem:
    """See the module docstring. ``base.cars`` has one entry per car, aligned with ``vins``,
    ``colours`` and ``movable``."""

    base: PickupProblem
    vins: tuple[str, ...]
    colours: tuple[str, ...]
    movable: np.ndarray  # (N,) bool
    distance_km: np.ndarray  # (S, S), inf = no lane
    lead_time_days: np.ndarray  # (S, S)
    loading_limit: np.ndarray  # (S,) cars loaded per day
    cost_per_car_km_cny: float = DEFAULT_COST_PER_CAR_KM_CNY
    truck_trip_cost_cny: float = DEFAULT_TRUCK_TRIP_COST_CNY
    truck_capacity: int = DEFAULT_TRUCK_CAPACITY
    max_lane_km: float = DEFAULT_MAX_LANE_KM
    aging_penalty_cny: float = DEFAULT_AGING_PENALTY_CNY
    wanted_colours: Mapping[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    """(store, trim) -> colours its demand names, most wanted first (VIN selection prefers
    them)."""

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def stores(self) -> int:
        return len(self.base.store_ids)

    @property
    def trims(self) -> int:
        return len(self.base.trim_ids)

    @property
    def horizon_days(self) -> int:
        return 7 * len(self.base.weeks)

    def lanes(self) -> np.ndarray:
        """(S, S) bool: the lanes that may carry cars (finite, within ``max_lane_km``)."""
        ok = np.isfinite(self.distance_km) & (self.distance_km <= self.max_lane_km)
        np.fill_diagonal(ok, False)
        return np.asarray(ok)

    def car_cost_cny(self) -> np.ndarray:
        """(S, S) transport cost per car on each lane, without the truck's fixed cost."""
        d = np.where(np.isfinite(self.distance_km), self.distance_km, 0.0)
        return np.asarray(self.cost_per_car_km_cny * d)


def _validate(p: TransferProblem) -> None:
    n_cars, n_s = len(p.base.cars), len(p.base.store_ids)
    for name in ("vins", "colours"):
        if len(getattr(p, name)) != n_cars:
            raise InvalidArgument(name, f"needs one entry per car ({n_cars})")
    if len(set(p.vins)) != n_cars:
        seen: set[str] = set()
        for vin in p.vins:
            if vin in seen:
                raise InvalidArgument("vins", f"VIN {vin} appears twice")
            seen.add(vin)
    if np.asarray(p.movable).shape != (n_cars,) or np.asarray(p.movable).dtype != bool:
        raise InvalidArgument("movable", f"needs shape ({n_cars},) of bool")
    for name in ("distance_km", "lead_time_days"):
        value = np.asarray(getattr(p, name), dtype=float)
        if value.shape != (n_s, n_s):
            raise InvalidArgument(name, f"needs shape ({n_s}, {n_s}), got {value.shape}")
        bad = np.argwhere(np.isnan(value) | (value < 0))
        if bad.size:
            i, j = (int(x) for x in bad[0])
            raise InvalidArgument(
                f"{name}[{p.base.store_ids[i]},{p.base.store_ids[j]}]",
                f"must be >= 0 (inf = no lane), got {value[i, j]}",
            )
    limit = np.asarray(p.loading_limit)
    if limit.shape != (n_s,) or (limit < 0).any():
        raise InvalidArgument("loading_limit", f"needs shape ({n_s},) of values >= 0")
    for name in ("cost_per_car_km_cny", "truck_trip_cost_cny", "aging_penalty_cny"):
        number = float(getattr(p, name))
        if not math.isfinite(number) or number < 0:
            raise InvalidArgument(name, f"must be a number >= 0, got {number}")
    if p.truck_capacity < 1:
        raise InvalidArgument("truck_capacity", f"must be >= 1, got {p.truck_capacity}")
    if not p.max_lane_km > 0:
        raise InvalidArgument("max_lane_km", f"must be > 0, got {p.max_lane_km}")
    for s, t in p.wanted_colours:
        if not (0 <= s < n_s and 0 <= t < len(p.base.trim_ids)):
            raise InvalidArgument("wanted_colours", f"cell ({s}, {t}) is outside the problem")
