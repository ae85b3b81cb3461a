"""The pick-up mix problem (提车): what the solver is given, validated when built.

``PickupProblem`` holds numpy arrays indexed by store ``s``, trim ``t``, week ``w`` and
quantile level ``l``, in the order of ``store_ids``, ``trim_ids`` and ``weeks``. Money is CNY.
A bad field raises ``InvalidArgument`` naming it (``demand[S003, T0012, 2026-11-09]``), so
that nothing malformed reaches the solver.

Conventions the solver relies on:

- A week's orders are picked up at its start (Monday) and can sell that week.
- ``cars`` are the cars the group holds now: on the lot (``arrival_week == -1``) or in
  transit, arriving at the start of week ``arrival_week``; they count towards lot space and
  credit from then on.
- Floor-plan credit is drawn at cost (``cost_cny`` per trim) from pick-up to sale;
  ``credit_rate_per_year`` is its interest.
- A brand target covers the orders of some weeks of the horizon (a month's weeks) and asks
  for at least ``units``; a soft target costs ``penalty_cny_per_unit`` per unit short.
- A bundle asks, for the group and cumulatively over the horizon (by each week), for at
  least one unit of the slow trim for every ``hot_units_per_slow`` units of the hot trim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from allocation.demand_curve import mean_demand
from turnwise.errors import InvalidArgument

__all__ = [
    "DEFAULT_COVER_WEEKS",
    "DEFAULT_CREDIT_RATE",
    "DEFAULT_MAX_DAYS_OF_SUPPLY",
    "DEFAULT_SLOW_MOVING_DAYS",
    "PickupBundle",
    "PickupProblem",
    "PickupTarget",
    "StockCars",
]

DEFAULT_MAX_DAYS_OF_SUPPLY = 60.0
"""Cap on the projected days of supply an order may build up (the industry aims at 27-45)."""
DEFAULT_CREDIT_RATE = 0.06
"""Yearly floor-plan interest rate."""
DEFAULT_SLOW_MOVING_DAYS = 90
"""A car older than this many days on the lot is slow-moving."""
DEFAULT_COVER_WEEKS = 2
"""Weeks of demand after the horizon that value the stock left at its end."""


@dataclass(frozen=True, eq=False)
class StockCars:
    """The cars the group holds, one entry per car (VIN): store and trim indices, days on
    the lot at the start of the horizon (0 for cars in transit), and the week index of
    arrival (-1 = on the lot now)."""

    store: np.ndarray
    trim: np.ndarray
    age_days: np.ndarray
    arrival_week: np.ndarray

    @staticmethod
    def empty() -> StockCars:
        zero = np.zeros(0, dtype=np.int64)
        return StockCars(zero, zero, zero, zero)

    def __len__(self) -> int:
        return int(self.store.size)


@dataclass(frozen=True)
class PickupTarget:
    """The OEM's volume target (任务) for one brand over some weeks of the horizon."""

    brand_id: str
    weeks: tuple[int, ...]
    units: int
    hard: bool
    penalty_cny_per_unit: float = 0.0
    label: str = ""
    """How a planner names it, e.g. ``target[B03,2026-11]``."""

    @property
    def name(self) -> str:
        return self.label or f"target[{self.brand_id}]"


@dataclass(frozen=True)
class PickupBundle:
    """For every ``hot_units_per_slow`` units of ``hot_trim`` taken, at least one unit of
    ``slow_trim`` (trim indices)."""

    hot_trim: int
    slow_trim: int
    hot_units_per_slow: int


@dataclass(frozen=True, eq=False)
class PickupProblem:
    """See the module docstring. Shapes: S stores, T trims, W weeks, L levels."""

    store_ids: tuple[str, ...]
    trim_ids: tuple[str, ...]
    trim_brand_ids: tuple[str, ...]
    weeks: tuple[date, ...]
    lot_capacity: np.ndarray  # (S,) cars
    credit_limit_cny: np.ndarray  # (S,)
    authorised: np.ndarray  # (S, T) bool: the store sells the trim's brand
    price_cny: np.ndarray  # (T,) selling price
    cost_cny: np.ndarray  # (T,) pick-up cost
    holding_cny_per_day: np.ndarray  # (T,)
    order_multiple: np.ndarray  # (T,) cars per order unit, >= 1
    levels: np.ndarray  # (L,)
    demand: np.ndarray  # (S, T, W, L) weekly demand quantiles, cars
    offer: np.ndarray  # (T, W) cars the OEM offers the group
    cars: StockCars = field(default_factory=StockCars.empty)
    targets: tuple[PickupTarget, ...] = ()
    bundles: tuple[PickupBundle, ...] = ()
    group_credit_limit_cny: float | None = None
    max_days_of_supply: float = DEFAULT_MAX_DAYS_OF_SUPPLY
    credit_rate_per_year: float = DEFAULT_CREDIT_RATE
    slow_moving_days: int = DEFAULT_SLOW_MOVING_DAYS
    cover_weeks: int = DEFAULT_COVER_WEEKS
    """Weeks after the horizon whose demand the stock left at its end may still serve."""

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.store_ids), len(self.trim_ids), len(self.weeks)

    @property
    def margin_cny(self) -> np.ndarray:
        """(T,) gross margin per car sold."""
        return np.asarray(self.price_cny - self.cost_cny, dtype=float)

    @property
    def weekly_carrying_cny(self) -> np.ndarray:
        """(T,) what one car on the lot costs per week: holding plus credit interest."""
        daily = self.holding_cny_per_day + self.cost_cny * self.credit_rate_per_year / 365.0
        return np.asarray(7.0 * daily, dtype=float)

    def on_hand(self) -> np.ndarray:
        """(S, T) cars on the lot now."""
        n_s, n_t, _ = self.shape
        out = np.zeros((n_s, n_t), dtype=np.int64)
        lot = self.cars.arrival_week < 0
        np.add.at(out, (self.cars.store[lot], self.cars.trim[lot]), 1)
        return out

    def arriving(self) -> np.ndarray:
        """(S, T, W) cars already ordered or in transit that arrive at the start of week w."""
        n_s, n_t, n_w = self.shape
        out = np.zeros((n_s, n_t, n_w), dtype=np.int64)
        moving = self.cars.arrival_week >= 0
        np.add.at(
            out,
            (self.cars.store[moving], self.cars.trim[moving], self.cars.arrival_week[moving]),
            1,
        )
        return out

    def base_position(self) -> np.ndarray:
        """(S, T, W) cars on hand plus arrivals up to and including week w, with no orders."""
        position = self.on_hand()[:, :, None] + np.cumsum(self.arriving(), axis=2)
        return np.asarray(position, dtype=np.int64)

    def mean_weekly_demand(self) -> np.ndarray:
        """(S, T, W) expected demand of each week."""
        return np.asarray(mean_demand(self.levels, self.demand), dtype=float)

    def brand_index(self) -> dict[str, np.ndarray]:
        """brand id -> indices of its trims."""
        brands = np.asarray(self.trim_brand_ids, dtype=object)
        return {b: np.flatnonzero(brands == b) for b in dict.fromkeys(self.trim_brand_ids)}

    def describe(self, s: int | None = None, t: int | None = None, w: int | None = None) -> str:
        """``S003,T0012,2026-11-09``-style names of a cell, for messages."""
        parts = []
        if s is not None:
            parts.append(self.store_ids[s])
        if t is not None:
            parts.append(self.trim_ids[t])
        if w is not None:
            parts.append(self.weeks[w].isoformat())
        return ",".join(parts)


def _validate(p: PickupProblem) -> None:
    n_s, n_t, n_w = len(p.store_ids), len(p.trim_ids), len(p.weeks)
    if n_s == 0:
        raise InvalidArgument("store_ids", "the problem needs at least one store")
    if n_t == 0:
        raise InvalidArgument("trim_ids", "the problem needs at least one trim")
    if not 1 <= n_w <= 26:
        raise InvalidArgument("weeks", f"the horizon must have 1..26 weeks, got {n_w}")
    _unique("store_ids", p.store_ids)
    _unique("trim_ids", p.trim_ids)
    if len(p.trim_brand_ids) != n_t:
        raise InvalidArgument("trim_brand_ids", f"needs one brand per trim ({n_t})")
    for i, week in enumerate(p.weeks):
        if week.weekday() != 0:
            raise InvalidArgument(f"weeks[{i}]", f"{week} is a {week:%A}; weeks start on Monday")
        if i and (week - p.weeks[i - 1]).days != 7:
            raise InvalidArgument(f"weeks[{i}]", f"{week} does not follow {p.weeks[i - 1]}")
    store_arrays = {"lot_capacity": p.lot_capacity, "credit_limit_cny": p.credit_limit_cny}
    for name, values in store_arrays.items():
        _nonnegative(p, name, values, (n_s,), "store")
    trim_arrays = {
        "price_cny": p.price_cny,
        "cost_cny": p.cost_cny,
        "holding_cny_per_day": p.holding_cny_per_day,
    }
    for name, values in trim_arrays.items():
        _nonnegative(p, name, values, (n_t,), "trim")
    _nonnegative(p, "order_multiple", p.order_multiple, (n_t,), "trim")
    if (p.order_multiple < 1).any() or not np.array_equal(
        p.order_multiple, np.round(p.order_multiple)
    ):
        t = int(
            np.argmax((p.order_multiple < 1) | (p.order_multiple != np.round(p.order_multiple)))
        )
        raise InvalidArgument(
            f"order_multiple[{p.trim_ids[t]}]",
            f"must be a whole number >= 1, got {p.order_multiple[t]}",
        )
    if p.authorised.shape != (n_s, n_t) or p.authorised.dtype != bool:
        raise InvalidArgument("authorised", f"must be a ({n_s}, {n_t}) boolean array")
    _nonnegative(p, "offer", p.offer, (n_t, n_w), "trim,week")
    if p.levels.ndim != 1 or p.demand.shape != (n_s, n_t, n_w, p.levels.size):
        raise InvalidArgument(
            "demand", f"needs shape ({n_s}, {n_t}, {n_w}, {p.levels.size}), got {p.demand.shape}"
        )
    _validate_demand(p)
    _validate_cars(p, n_s, n_t, n_w)
    _validate_targets(p, n_w)
    for i, bundle in enumerate(p.bundles):
        for name in ("hot_trim", "slow_trim"):
            if not 0 <= getattr(bundle, name) < n_t:
                raise InvalidArgument(f"bundles[{i}].{name}", "is not a trim index of the problem")
        if bundle.hot_trim == bundle.slow_trim:
            raise InvalidArgument(f"bundles[{i}].slow_trim", "must differ from hot_trim")
        if bundle.hot_units_per_slow < 1:
            raise InvalidArgument(f"bundles[{i}].hot_units_per_slow", "must be >= 1")
    if p.group_credit_limit_cny is not None:
        _finite_at_least("group_credit_limit_cny", p.group_credit_limit_cny, 0.0)
    _finite_at_least("max_days_of_supply", p.max_days_of_supply, 0.0)
    _finite_at_least("credit_rate_per_year", p.credit_rate_per_year, 0.0)
    if not 0 <= p.cover_weeks <= 26:
        raise InvalidArgument("cover_weeks", f"must be within 0..26, got {p.cover_weeks}")
    if p.slow_moving_days < 1:
        raise InvalidArgument("slow_moving_days", f"must be >= 1, got {p.slow_moving_days}")


def _validate_demand(p: PickupProblem) -> None:
    # Levels are checked by the curve's own validation; the values below, naming the cell.
    try:
        mean_demand(p.levels, np.zeros(p.levels.size))
        bad = (
            ~np.isfinite(p.demand)
            | (p.demand < 0)
            | (np.diff(p.demand, axis=-1) < 0).any(axis=-1, keepdims=True)
        )
    except InvalidArgument as err:
        raise InvalidArgument(f"demand.{err.field}", err.hint) from err
    if bad.any():
        s, t, w, _ = (int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
        raise InvalidArgument(
            f"demand[{p.describe(s, t, w)}]",
            f"quantiles {p.demand[s, t, w].tolist()} must be finite, >= 0 and non-decreasing",
        )
    stray = (p.demand[..., -1] > 0).any(axis=2) & ~p.authorised
    if stray.any():
        s, t = (int(i) for i in np.unravel_index(int(np.argmax(stray)), stray.shape))
        raise InvalidArgument(
            f"demand[{p.describe(s, t)}]",
            f"{p.store_ids[s]} is not authorised for brand {p.trim_brand_ids[t]}; "
            "drop the demand or authorise the store",
        )


def _validate_cars(p: PickupProblem, n_s: int, n_t: int, n_w: int) -> None:
    c = p.cars
    n = len(c)
    for name in ("store", "trim", "age_days", "arrival_week"):
        if getattr(c, name).shape != (n,):
            raise InvalidArgument(f"cars.{name}", f"needs one entry per car ({n})")
    checks = (
        ("store", (c.store < 0) | (c.store >= n_s), "is not a store index"),
        ("trim", (c.trim < 0) | (c.trim >= n_t), "is not a trim index"),
        ("age_days", c.age_days < 0, "must be >= 0"),
        ("arrival_week", (c.arrival_week < -1) | (c.arrival_week >= n_w), "must be -1..W-1"),
    )
    for name, bad, why in checks:
        if bad.any():
            i = int(np.argmax(bad))
            raise InvalidArgument(f"cars.{name}[{i}]", f"{getattr(c, name)[i]} {why}")


def _validate_targets(p: PickupProblem, n_w: int) -> None:
    brands = set(p.trim_brand_ids)
    for i, target in enumerate(p.targets):
        where = f"targets[{i}]"
        if target.brand_id not in brands:
            raise InvalidArgument(f"{where}.brand_id", f"no trim of brand {target.brand_id!r}")
        if not target.weeks or any(not 0 <= w < n_w for w in target.weeks):
            raise InvalidArgument(f"{where}.weeks", f"must be week indices 0..{n_w - 1}")
        if target.units < 0:
            raise InvalidArgument(f"{where}.units", f"must be >= 0, got {target.units}")
        _finite_at_least(f"{where}.penalty_cny_per_unit", target.penalty_cny_per_unit, 0.0)


def _unique(field_name: str, ids: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise InvalidArgument(f"{field_name}[{i}]", f"{value!r} is listed twice")
        seen.add(value)


def _nonnegative(
    p: PickupProblem, name: str, values: np.ndarray, shape: tuple[int, ...], axes: str
) -> None:
    if values.shape != shape:
        raise InvalidArgument(name, f"needs shape {shape} (one per {axes}), got {values.shape}")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), shape))
        label = _label(p, axes, at)
        raise InvalidArgument(f"{name}[{label}]", f"must be a finite number >= 0, got {values[at]}")


def _label(p: PickupProblem, axes: str, at: tuple[int, ...]) -> str:
    names = []
    for axis, i in zip(axes.split(","), at, strict=True):
        ids = {"store": p.store_ids, "trim": p.trim_ids}.get(axis)
        names.append(ids[i] if ids is not None else p.weeks[i].isoformat())
    return ",".join(names)


def _finite_at_least(name: str, value: float, lo: float) -> None:
    if not math.isfinite(value) or value < lo:
        raise InvalidArgument(name, f"must be a finite number >= {lo}, got {value}")
