"""From the dealer network's tables to a ``TransferProblem``.

The stores, trims, authorisations, lot space, cars and demand are read as for the pick-up
mix (``pickup_network.build_problem``, with no OEM offer, targets or bundles: a transfer
orders nothing). On top:

- a car may move when it is ``IN_STOCK`` (not in transit) and was not moved within
  ``min_days_between_moves`` days before the first day of the horizon (``recent_moves``:
  VIN -> the day it last moved);
- a car in ``pending_moves`` (VIN -> destination store: a move approved but not yet shown
  in the inventory, the car still at its origin) counts as in transit to its destination,
  arriving in the first week, and does not move;
- lanes: a supplied ``distance_km`` matrix (store id -> store id -> km; a pair it does not
  name has no lane) or, when none, the distance estimated from the stores' coordinates;
  lead times from the distance (``transfer_problem.lane_lead_times``);
- the demand frame may carry a ``colours`` column (``;``-joined colours the demand of that
  store and trim names, most wanted first), which VIN selection prefers;
- loading limits per store: ``loading_limit`` overrides, else the default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation.pickup_network import NetworkTables, PickupOverrides, build_problem, held_cars
from allocation.transfer_problem import (
    DEFAULT_AGING_PENALTY_CNY,
    DEFAULT_COST_PER_CAR_KM_CNY,
    DEFAULT_LOADING_LIMIT,
    DEFAULT_MAX_LANE_KM,
    DEFAULT_MIN_DAYS_BETWEEN_MOVES,
    DEFAULT_TRUCK_CAPACITY,
    DEFAULT_TRUCK_TRIP_COST_CNY,
    TransferProblem,
    lane_distances,
    lane_lead_times,
)
from turnwise.errors import InvalidArgument

__all__ = ["TransferParameters", "build_transfer_problem"]


@dataclass(frozen=True)
class TransferParameters:
    """The planner's settings for one transfer solve."""

    cost_per_car_km_cny: float = DEFAULT_COST_PER_CAR_KM_CNY
    truck_trip_cost_cny: float = DEFAULT_TRUCK_TRIP_COST_CNY
    truck_capacity: int = DEFAULT_TRUCK_CAPACITY
    min_days_between_moves: int = DEFAULT_MIN_DAYS_BETWEEN_MOVES
    max_lane_km: float = DEFAULT_MAX_LANE_KM
    aging_penalty_cny: float = DEFAULT_AGING_PENALTY_CNY
    loading_limit: Mapping[str, int] = field(default_factory=dict)
    """store id -> cars it can load per day (others: ``default_loading_limit``)."""
    default_loading_limit: int = DEFAULT_LOADING_LIMIT
    distance_km: Mapping[str, Mapping[str, float]] | None = None
    """A road-distance matrix; ``None`` estimates it from the coordinates."""

    def __post_init__(self) -> None:
        if self.min_days_between_moves < 0:
            raise InvalidArgument(
                "min_days_between_moves", f"must be >= 0, got {self.min_days_between_moves}"
            )
        if self.default_loading_limit < 0:
            raise InvalidArgument(
                "default_loading_limit", f"must be >= 0, got {self.default_loading_limit}"
            )


def build_transfer_problem(
    tables: NetworkTables,
    first_week: date,
    weeks: int,
    demand: pd.DataFrame,
    parameters: TransferParameters | None = None,
    overrides: PickupOverrides | None = None,
    store_ids: Sequence[str] = (),
    recent_moves: Mapping[str, date] | None = None,
    drop_unauthorised_demand: bool = False,
    pending_moves: Mapping[str, str] | None = None,
) -> TransferProblem:
    """The transfer problem of ``weeks`` weeks from ``first_week`` (rules in the module
    docstring); unknown ids raise ``InvalidArgument`` naming the field."""
    params = parameters or TransferParameters()
    if pending_moves:
        tables = replace(tables, inventory=_in_transit(tables.inventory, pending_moves, first_week))
    empty = tables.oem_offers.iloc[0:0]
    no_supply = replace(
        tables,
        oem_offers=empty,
        brand_targets=tables.brand_targets.iloc[0:0],
        bundles=tables.bundles.iloc[0:0],
    )
    base = build_problem(
        no_supply,
        first_week,
        weeks,
        demand,
        overrides,
        store_ids,
        drop_unauthorised_demand=drop_unauthorised_demand,
    )
    s_of = {s: i for i, s in enumerate(base.store_ids)}
    t_of = {t: i for i, t in enumerate(base.trim_ids)}
    rows, _ = held_cars(tables.inventory, base.weeks, s_of, t_of)
    held = tables.inventory.iloc[rows]
    vins = tuple(held["vin"].astype(str))
    cutoff = first_week - timedelta(days=params.min_days_between_moves)
    recent = recent_moves or {}
    movable = np.array(
        [
            status == "IN_STOCK" and not (vin in recent and recent[vin] > cutoff)
            for vin, status in zip(vins, held["status"].astype(str), strict=True)
        ],
        dtype=bool,
    )
    stores = tables.stores.set_index("store_id").loc[list(base.store_ids)]
    distance = _distances(stores, base.store_ids, params.distance_km)
    loading = np.full(len(base.store_ids), params.default_loading_limit, dtype=np.int64)
    for s_id, limit in params.loading_limit.items():
        if s_id not in s_of:
            raise InvalidArgument(f"loading_limit[{s_id}]", f"no store {s_id!r} in the plan")
        if limit < 0:
            raise InvalidArgument(f"loading_limit[{s_id}]", f"must be >= 0, got {limit}")
        loading[s_of[s_id]] = limit
    return TransferProblem(
        base=base,
        vins=vins,
        colours=tuple(held["colour"].astype(str)),
        movable=movable,
        distance_km=distance,
        lead_time_days=lane_lead_times(distance),
        loading_limit=loading,
        cost_per_car_km_cny=params.cost_per_car_km_cny,
        truck_trip_cost_cny=params.truck_trip_cost_cny,
        truck_capacity=params.truck_capacity,
        max_lane_km=params.max_lane_km,
        aging_penalty_cny=params.aging_penalty_cny,
        wanted_colours=_wanted_colours(demand, s_of, t_of),
    )


def _in_transit(
    inventory: pd.DataFrame, pending: Mapping[str, str], first_week: date
) -> pd.DataFrame:
    """``inventory`` with the cars of ``pending`` on their way to their destination."""
    out = inventory.copy()
    hit = out["vin"].isin(list(pending)) & (out["status"] == "IN_STOCK")
    out.loc[hit, "store_id"] = out.loc[hit, "vin"].map(pending)
    out.loc[hit, "status"] = "IN_TRANSIT"
    out.loc[hit, "arrival_date"] = first_week.isoformat()
    return out


def _distances(
    stores: pd.DataFrame,
    store_ids: tuple[str, ...],
    matrix: Mapping[str, Mapping[str, float]] | None,
) -> np.ndarray:
    n = len(store_ids)
    if matrix is None:
        lat = stores["latitude"].to_numpy(dtype=float)
        lon = stores["longitude"].to_numpy(dtype=float)
        for i, s_id in enumerate(store_ids):
            if not (-90 <= lat[i] <= 90 and -180 <= lon[i] <= 180) or (lat[i] == 0 and lon[i] == 0):
                raise InvalidArgument(
                    f"stores[{s_id}].latitude",
                    f"({lat[i]}, {lon[i]}) is not a location; set the store's coordinates or "
                    "supply a distance matrix",
                )
        return lane_distances(lat, lon)
    s_of = {s: i for i, s in enumerate(store_ids)}
    out = np.full((n, n), np.inf)
    np.fill_diagonal(out, 0.0)
    for a, row in matrix.items():
        for b, km in row.items():
            if a not in s_of or b not in s_of:
                continue  # a store outside the plan
            if not math.isfinite(km) or km < 0:
                raise InvalidArgument(f"distance_km[{a}][{b}]", f"must be >= 0, got {km}")
            out[s_of[a], s_of[b]] = km
    return out


def _wanted_colours(
    demand: pd.DataFrame, s_of: Mapping[str, int], t_of: Mapping[str, int]
) -> dict[tuple[int, int], tuple[str, ...]]:
    if "colours" not in demand.columns:
        return {}
    out: dict[tuple[int, int], tuple[str, ...]] = {}
    for s_id, t_id, text in zip(
        demand["store_id"].astype(str),
        demand["trim_id"].astype(str),
        demand["colours"].fillna("").astype(str),
        strict=True,
    ):
        colours = tuple(c.strip() for c in text.split(";") if c.strip())
        if colours and s_id in s_of and t_id in t_of:
            out[s_of[s_id], t_of[t_id]] = colours
    return out
