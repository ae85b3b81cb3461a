"""From the dealer network's tables to a ``PickupProblem``.

The tables are frames with the columns of ``dealer_group.schema`` (as ``turnwise demo-data``
writes them and as the state store reads them back): stores, authorisations, trims,
inventory, oem_offers (the latest schedule version is used), brand_targets and bundles.
Demand comes as a long frame ``store_id, trim_id, week_start, q<level>...`` (the columns
``turnwise forecast`` writes, e.g. ``q0.1, q0.5, q0.9``); a store x trim x week without a row
has no demand. ``PickupOverrides`` are the planner's what-ifs for one solve.

Choices made here, for the planner to know:

- A brand target is for a month; the horizon may cover only some of its weeks (Mondays), so
  the target asked of the horizon is prorated: ``ceil(target x weeks in the horizon / weeks
  of the month)``.
- The offer of a trim and week is the line of the latest schedule version that names them.
- A car ``IN_STOCK`` is on the lot with its age at the first week; ``IN_TRANSIT`` arrives in
  the week of its ``arrival_date`` (before the first week: on the lot now; after the
  horizon: not counted). ``SOLD`` cars are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation.pickup_problem import (
    DEFAULT_MAX_DAYS_OF_SUPPLY,
    PickupBundle,
    PickupProblem,
    PickupTarget,
    StockCars,
)
from dealer_group.demo import DemoGroup
from turnwise.errors import InvalidArgument

__all__ = [
    "DEFAULT_TARGET_PENALTY_CNY",
    "NetworkTables",
    "PickupOverrides",
    "build_problem",
    "held_cars",
    "quantile_columns",
]

DEFAULT_TARGET_PENALTY_CNY = 3000.0
"""What one unit short of a soft brand target costs (the OEM's volume rebate at stake)."""


@dataclass(frozen=True, eq=False)
class NetworkTables:
    """The frames a pick-up problem is built from (``dealer_group.schema`` columns)."""

    stores: pd.DataFrame
    authorisations: pd.DataFrame
    trims: pd.DataFrame
    inventory: pd.DataFrame
    oem_offers: pd.DataFrame
    brand_targets: pd.DataFrame
    bundles: pd.DataFrame

    @staticmethod
    def of(group: DemoGroup) -> NetworkTables:
        """The tables of a dealer group read from CSV or generated."""
        return NetworkTables(
            group.stores,
            group.authorisations,
            group.trims,
            group.inventory,
            group.oem_offers,
            group.brand_targets,
            group.bundles,
        )


@dataclass(frozen=True)
class PickupOverrides:
    """What-ifs for one solve; ids not named keep their stored values."""

    credit_limit_cny: Mapping[str, float] = field(default_factory=dict)
    lot_capacity: Mapping[str, int] = field(default_factory=dict)
    group_credit_limit_cny: float | None = None
    offers: Mapping[tuple[date, str], int] = field(default_factory=dict)
    """(week_start, trim_id) -> cars offered."""
    price_factor: Mapping[str, float] = field(default_factory=dict)
    demand_factor: Mapping[str, float] = field(default_factory=dict)
    order_multiple: Mapping[str, int] = field(default_factory=dict)


def quantile_columns(frame: pd.DataFrame) -> tuple[tuple[float, ...], list[str]]:
    """The levels and names of the ``q<level>`` columns of a demand frame, by level."""
    found: list[tuple[float, str]] = []
    for column in frame.columns:
        name = str(column)
        if name.startswith("q"):
            try:
                found.append((float(name[1:]), name))
            except ValueError:
                continue
    if not found:
        raise InvalidArgument("demand", "has no quantile columns; name them q0.1, q0.5, q0.9 ...")
    found.sort()
    return tuple(level for level, _ in found), [name for _, name in found]


def build_problem(
    tables: NetworkTables,
    first_week: date,
    weeks: int,
    demand: pd.DataFrame,
    overrides: PickupOverrides | None = None,
    store_ids: Sequence[str] = (),
    max_days_of_supply: float = DEFAULT_MAX_DAYS_OF_SUPPLY,
    target_penalty_cny: float = DEFAULT_TARGET_PENALTY_CNY,
    drop_unauthorised_demand: bool = False,
) -> PickupProblem:
    """The pick-up problem of ``weeks`` weeks from ``first_week`` for the stores named (all
    when empty). Unknown ids anywhere raise ``InvalidArgument`` naming the field, and so
    does demand for a trim its store may not sell, unless ``drop_unauthorised_demand``
    (demand forecast from sales of a brand the store no longer sells)."""
    overrides = overrides or PickupOverrides()
    if first_week.weekday() != 0:
        raise InvalidArgument(
            "first_week", f"{first_week} is a {first_week:%A}; weeks start on Monday"
        )
    if not 1 <= weeks <= 26:
        raise InvalidArgument("weeks", f"must be within 1..26, got {weeks}")
    horizon = tuple(first_week + timedelta(days=7 * i) for i in range(weeks))
    stores = _select_stores(tables.stores, store_ids)
    trims = tables.trims.sort_values("trim_id", kind="stable").reset_index(drop=True)
    s_ids = tuple(stores["store_id"].astype(str))
    t_ids = tuple(trims["trim_id"].astype(str))
    s_of = {s: i for i, s in enumerate(s_ids)}
    t_of = {t: i for i, t in enumerate(t_ids)}
    brands = tuple(trims["brand_id"].astype(str))

    authorised = np.zeros((len(s_ids), len(t_ids)), dtype=bool)
    brand_trims: dict[str, list[int]] = {}
    for t, b in enumerate(brands):
        brand_trims.setdefault(b, []).append(t)
    for s_id, b_id in zip(
        tables.authorisations["store_id"], tables.authorisations["brand_id"], strict=True
    ):
        if s_id in s_of:
            authorised[s_of[s_id], brand_trims.get(b_id, [])] = True

    lot = _store_values(
        stores, "lot_capacity", overrides.lot_capacity, s_of, "overrides.lot_capacity"
    )
    credit = _store_values(
        stores, "credit_limit_cny", overrides.credit_limit_cny, s_of, "overrides.credit_limit_cny"
    )
    price = trims["msrp_cny"].to_numpy(dtype=float).copy()
    for t_id, factor in overrides.price_factor.items():
        _positive(f"overrides.price_factor[{t_id}]", factor)
        price[_trim(t_of, t_id, "overrides.price_factor")] *= factor
    multiple = np.ones(len(t_ids), dtype=np.int64)
    for t_id, m in overrides.order_multiple.items():
        if m < 1:
            raise InvalidArgument(f"overrides.order_multiple[{t_id}]", f"must be >= 1, got {m}")
        multiple[_trim(t_of, t_id, "overrides.order_multiple")] = m

    levels, values = _demand(demand, horizon, s_of, t_of, overrides.demand_factor)
    stray = (values > 0).any(axis=(2, 3)) & ~authorised
    if stray.any() and not drop_unauthorised_demand:
        s, t = (int(i) for i in np.argwhere(stray)[0])
        rows = demand.index[
            (demand["store_id"].astype(str) == s_ids[s])
            & (demand["trim_id"].astype(str) == t_ids[t])
        ]
        raise InvalidArgument(
            f"demand[{int(rows[0])}]",
            f"{s_ids[s]} is not authorised for brand {brands[t]} (trim {t_ids[t]}); drop the "
            "row or authorise the store",
        )
    return PickupProblem(
        store_ids=s_ids,
        trim_ids=t_ids,
        trim_brand_ids=brands,
        weeks=horizon,
        lot_capacity=lot.astype(np.int64),
        credit_limit_cny=credit,
        authorised=authorised,
        price_cny=price,
        cost_cny=trims["cost_cny"].to_numpy(dtype=float),
        holding_cny_per_day=trims["holding_cost_cny_per_day"].to_numpy(dtype=float),
        order_multiple=multiple,
        levels=np.asarray(levels, dtype=float),
        demand=values * authorised[:, :, None, None],
        offer=_offer(tables.oem_offers, horizon, t_of, overrides.offers),
        cars=held_cars(tables.inventory, horizon, s_of, t_of)[1],
        targets=_targets(tables.brand_targets, horizon, set(brands), target_penalty_cny),
        bundles=_bundles(tables.bundles, t_of),
        group_credit_limit_cny=overrides.group_credit_limit_cny,
        max_days_of_supply=max_days_of_supply,
    )


def _select_stores(stores: pd.DataFrame, store_ids: Sequence[str]) -> pd.DataFrame:
    ordered = stores.sort_values("store_id", kind="stable").reset_index(drop=True)
    if not store_ids:
        return ordered
    known = set(ordered["store_id"])
    for i, s_id in enumerate(store_ids):
        if s_id not in known:
            raise InvalidArgument(f"store_ids[{i}]", f"no store {s_id!r} in the network")
    return ordered[ordered["store_id"].isin(set(store_ids))].reset_index(drop=True)


def _trim(t_of: Mapping[str, int], t_id: str, field_name: str) -> int:
    if t_id not in t_of:
        raise InvalidArgument(f"{field_name}[{t_id}]", f"no trim {t_id!r} in the network")
    return t_of[t_id]


def _positive(field_name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgument(field_name, f"must be a number > 0, got {value}")


def _store_values(
    stores: pd.DataFrame,
    column: str,
    replaced: Mapping[str, float],
    s_of: Mapping[str, int],
    field_name: str,
) -> np.ndarray:
    values = stores[column].to_numpy(dtype=float).copy()
    for s_id, value in replaced.items():
        if s_id not in s_of:
            raise InvalidArgument(
                f"{field_name}[{s_id}]", f"no store {s_id!r} in the plan's stores"
            )
        if not math.isfinite(value) or value < 0:
            raise InvalidArgument(f"{field_name}[{s_id}]", f"must be >= 0, got {value}")
        values[s_of[s_id]] = value
    return values


def _demand(
    demand: pd.DataFrame,
    horizon: tuple[date, ...],
    s_of: Mapping[str, int],
    t_of: Mapping[str, int],
    factors: Mapping[str, float],
) -> tuple[tuple[float, ...], np.ndarray]:
    levels, columns = quantile_columns(demand)
    values = np.zeros((len(s_of), len(t_of), len(horizon), len(levels)))
    w_of = {w.isoformat(): i for i, w in enumerate(horizon)}
    weeks = demand["week_start"].astype(str).str[:10].to_numpy()
    stores = demand["store_id"].astype(str).to_numpy()
    trims = demand["trim_id"].astype(str).to_numpy()
    in_scope = np.array(
        [w in w_of and s in s_of for w, s in zip(weeks, stores, strict=True)], dtype=bool
    )
    for i in np.flatnonzero(in_scope & ~np.isin(trims, list(t_of))):
        raise InvalidArgument(f"demand[{i}].trim_id", f"no trim {trims[i]!r} in the network")
    rows = np.flatnonzero(in_scope)
    s = np.array([s_of[x] for x in stores[rows]], dtype=np.int64)
    t = np.array([t_of[x] for x in trims[rows]], dtype=np.int64)
    w = np.array([w_of[x] for x in weeks[rows]], dtype=np.int64)
    values[s, t, w] = demand[columns].to_numpy(dtype=float)[rows]
    for t_id, factor in factors.items():
        if not math.isfinite(factor) or factor < 0:
            raise InvalidArgument(f"overrides.demand_factor[{t_id}]", f"must be >= 0, got {factor}")
        values[:, _trim(t_of, t_id, "overrides.demand_factor")] *= factor
    return levels, values


def _offer(
    offers: pd.DataFrame,
    horizon: tuple[date, ...],
    t_of: Mapping[str, int],
    replaced: Mapping[tuple[date, str], int],
) -> np.ndarray:
    out = np.zeros((len(t_of), len(horizon)), dtype=np.int64)
    if len(offers):
        # the line of the latest schedule version that names the trim and week
        latest = offers.sort_values("schedule_version", kind="stable").drop_duplicates(
            ["week_start", "trim_id"], keep="last"
        )
        w_of = {w.isoformat(): i for i, w in enumerate(horizon)}
        lines = zip(
            latest["week_start"].astype(str), latest["trim_id"], latest["max_units"], strict=True
        )
        for day, t_id, units in lines:
            if day[:10] in w_of and t_id in t_of:
                out[t_of[t_id], w_of[day[:10]]] = int(units)
    w_index = {w: i for i, w in enumerate(horizon)}
    for (week, t_id), units in replaced.items():
        where = f"overrides.offers[{week.isoformat()},{t_id}]"
        if week not in w_index:
            raise InvalidArgument(
                where, f"week {week} is not in the horizon {horizon[0]}..{horizon[-1]}"
            )
        if units < 0:
            raise InvalidArgument(where, f"max_units must be >= 0, got {units}")
        out[_trim(t_of, t_id, "overrides.offers"), w_index[week]] = units
    return out


def held_cars(
    inventory: pd.DataFrame,
    horizon: tuple[date, ...],
    s_of: Mapping[str, int],
    t_of: Mapping[str, int],
) -> tuple[np.ndarray, StockCars]:
    """The cars of ``inventory`` that count in the horizon (rules in the module docstring):
    their row positions in ``inventory`` and the ``StockCars`` in the same order."""
    first = np.datetime64(horizon[0], "D")
    arrival = pd.to_datetime(inventory["arrival_date"]).to_numpy(dtype="datetime64[D]")
    days = (arrival - first).astype(np.int64)  # < 0: arrived before the first week
    status = inventory["status"].astype(str).to_numpy()
    keep = np.isin(inventory["store_id"].to_numpy(), list(s_of)) & np.isin(
        inventory["trim_id"].to_numpy(), list(t_of)
    )
    keep &= (status == "IN_STOCK") | ((status == "IN_TRANSIT") & (days < 7 * len(horizon)))
    on_lot = (status == "IN_STOCK") | (days < 0)
    return np.flatnonzero(keep), StockCars(
        store=np.array([s_of[x] for x in inventory["store_id"].to_numpy()[keep]], dtype=np.int64),
        trim=np.array([t_of[x] for x in inventory["trim_id"].to_numpy()[keep]], dtype=np.int64),
        age_days=np.where(on_lot, np.maximum(-days, 0), 0)[keep].astype(np.int64),
        arrival_week=np.where(on_lot, -1, days // 7)[keep].astype(np.int64),
    )


def _targets(
    targets: pd.DataFrame, horizon: tuple[date, ...], brands: set[str], penalty: float
) -> tuple[PickupTarget, ...]:
    out: list[PickupTarget] = []
    for brand, month, units, hard in zip(
        targets["brand_id"],
        targets["month"],
        targets["target_units"],
        targets["is_hard"],
        strict=True,
    ):
        weeks = tuple(i for i, w in enumerate(horizon) if w.strftime("%Y-%m") == month)
        if not weeks or brand not in brands:
            continue
        year, mon = (int(x) for x in str(month).split("-"))
        mondays = _mondays_in_month(year, mon)
        asked = math.ceil(int(units) * len(weeks) / mondays)
        out.append(
            PickupTarget(
                brand_id=str(brand),
                weeks=weeks,
                units=asked,
                hard=bool(hard),
                penalty_cny_per_unit=0.0 if hard else penalty,
                label=f"target[{brand},{month}]",
            )
        )
    return tuple(out)


def _mondays_in_month(year: int, month: int) -> int:
    day = date(year, month, 1)
    day += timedelta(days=(7 - day.weekday()) % 7)
    count = 0
    while day.month == month:
        count += 1
        day += timedelta(days=7)
    return count


def _bundles(bundles: pd.DataFrame, t_of: Mapping[str, int]) -> tuple[PickupBundle, ...]:
    out: list[PickupBundle] = []
    for hot, slow, k in zip(
        bundles["hot_trim_id"], bundles["slow_trim_id"], bundles["hot_units_per_slow"], strict=True
    ):
        if hot in t_of and slow in t_of:
            out.append(PickupBundle(t_of[hot], t_of[slow], int(k)))
    return tuple(out)
