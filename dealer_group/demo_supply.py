"""The supply side of the demo group: lot capacities and credit limits, the stock on the lots
(VIN by VIN), and the OEM's offer (weekly allocation, monthly brand targets, bundles).

Stock is a few weeks of each pair's current demand: hot trims run short (1-3 weeks), slow
ones pile up (4-10 weeks) and age, so that about 15% of the cars on the lots are
slow-moving (arrived more than 90 days before the end of the history). The OEM offers hot
trims below demand and pushes slow ones above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_calendar import calendar_factors
from dealer_group.demo_catalogue import BRANDS, COLOURS
from dealer_group.demo_network import HOT, NORMAL, SLOW, Network
from dealer_group.demo_sales import Demand, week_starts

__all__ = ["Supply", "build_supply"]

VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_VIN_VALUES = dict(zip("0123456789", range(10), strict=True)) | dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
        strict=True,
    )
)
_VIN_WEIGHTS = np.array([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_MODEL_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010, 2011, ... (a 30-year cycle)
_POWERTRAIN_CODE = {"ICE": "A", "HEV": "H", "PHEV": "P", "BEV": "E"}
# weeks of supply on the lot, and the chance a car on the lot is older than 90 days, per class
_WEEKS_OF_SUPPLY = {HOT: (1.0, 3.0), NORMAL: (2.0, 5.0), SLOW: (4.0, 10.0)}
_SLOW_MOVING = {HOT: 0.04, NORMAL: 0.12, SLOW: 0.35}
_IN_TRANSIT = 0.08

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Supply:
    stores: pd.DataFrame  # the network's stores plus lot_capacity and credit_limit_cny
    inventory: pd.DataFrame
    oem_offers: pd.DataFrame
    brand_targets: pd.DataFrame
    bundles: pd.DataFrame


def build_supply(
    network: Network,
    demand: Demand,
    history_end: date,
    offer_weeks: int,
    rng: np.random.Generator,
) -> Supply:
    """Draw capacities, stock and the OEM offer for a network and its demand."""
    n_stores = len(network.stores)
    store_rate = np.bincount(demand.pair_store, weights=demand.pair_rate, minlength=n_stores)
    lot = np.maximum(10, np.ceil(store_rate * rng.uniform(4.5, 6.5, n_stores) / 5) * 5)
    lot = lot.astype(np.int64)
    cost = network.trim_cost[demand.pair_trim]
    value = np.bincount(demand.pair_store, weights=demand.pair_rate * cost, minlength=n_stores)
    mean_cost = np.where(store_rate > 0, value / np.maximum(store_rate, 1e-9), cost.mean())
    credit = np.round(lot * mean_cost * rng.uniform(0.6, 0.9, n_stores), -5).astype(np.int64)
    stores = network.stores.assign(lot_capacity=lot, credit_limit_cny=credit)
    offers = _offers(network, demand, history_end, offer_weeks, rng)
    return Supply(
        stores=stores,
        inventory=_inventory(network, demand, lot, history_end, rng),
        oem_offers=offers,
        brand_targets=_brand_targets(network, demand, offers, rng),
        bundles=_bundles(network, rng),
    )


def _inventory(
    network: Network,
    demand: Demand,
    lot: IntArray,
    history_end: date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    pair_class = network.trim_class[demand.pair_trim]
    low = np.array([_WEEKS_OF_SUPPLY[int(c)][0] for c in pair_class])
    high = np.array([_WEEKS_OF_SUPPLY[int(c)][1] for c in pair_class])
    cars = rng.poisson(demand.pair_rate * rng.uniform(low, high))
    pair = np.repeat(np.arange(len(cars)), cars)
    pair = _fit_lots(pair, demand.pair_store, lot, rng)
    trim = demand.pair_trim[pair]
    n = len(pair)
    in_transit = rng.random(n) < _IN_TRANSIT
    old = rng.random(n) < np.array([_SLOW_MOVING[int(c)] for c in network.trim_class[trim]])
    age = np.where(old, 91 + np.minimum(rng.exponential(50.0, n), 270).astype(np.int64), 0)
    age = np.where(old, age, rng.integers(1, 91, n))
    launch = network.trim_launch[trim]
    weeks_on_sale = (history_end - demand.first_week).days // 7
    age = np.where(launch >= 0, np.minimum(age, (weeks_on_sale - launch) * 7 + 14), age)
    age = np.where(in_transit, -rng.integers(0, 14, n), age)
    arrival = np.datetime64(history_end, "D") - age.astype("timedelta64[D]")
    colours = np.array([c for c, _ in COLOURS], dtype=object)
    weights = np.array([w for _, w in COLOURS])
    price = network.trim_cost[trim] * rng.uniform(0.99, 1.01, n)
    store_ids = network.stores["store_id"].to_numpy(dtype=object)
    trim_ids = network.trims["trim_id"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "vin": _vins(network, trim, arrival, rng),
            "store_id": store_ids[demand.pair_store[pair]],
            "trim_id": trim_ids[trim],
            "colour": colours[rng.choice(len(colours), size=n, p=weights / weights.sum())],
            "arrival_date": np.datetime_as_string(arrival, unit="D").astype(object),
            "status": np.where(in_transit, "IN_TRANSIT", "IN_STOCK").astype(object),
            "cost_cny": (np.round(price / 100) * 100).astype(np.int64),
        }
    )


def _fit_lots(
    pair: IntArray, pair_store: IntArray, lot: IntArray, rng: np.random.Generator
) -> IntArray:
    """Drop random cars from stores whose stock exceeds the lot; keep the order by pair."""
    order = rng.permutation(len(pair))
    store = pair_store[pair[order]]
    rank = pd.Series(store).groupby(store).cumcount().to_numpy()
    kept = np.sort(order[rank < lot[store]])
    return pair[kept]


def _vins(
    network: Network,
    trim: IntArray,
    arrival: npt.NDArray[np.datetime64],
    rng: np.random.Generator,
) -> npt.NDArray[np.object_]:
    """17-character VINs with the brand's WMI, a trim code, a valid check digit (position
    9), the model year and a unique plant + serial number."""
    n = len(trim)
    alphabet = np.frombuffer(VIN_ALPHABET.encode(), dtype=np.uint8)
    codes = np.full((n, 17), ord("0"), dtype=np.uint8)
    wmi = np.array([list(BRANDS[b].wmi.encode()) for b in range(len(network.brands))])
    codes[:, 0:3] = wmi[network.trim_brand[trim]]
    for k in range(3):  # trim number in base 33
        codes[:, 3 + k] = alphabet[(trim // 33 ** (2 - k)) % 33]
    powertrain = network.trims["powertrain"].to_numpy()
    codes[:, 6] = [ord(_POWERTRAIN_CODE[str(p)]) for p in powertrain[trim]]
    codes[:, 7] = ord("1")
    years = arrival.astype("datetime64[Y]").astype(np.int64) + 1970
    codes[:, 9] = np.frombuffer(_MODEL_YEAR.encode(), dtype=np.uint8)[(years - 2010) % 30]
    unique = rng.choice(33 * 10**6, size=n, replace=False)
    codes[:, 10] = alphabet[unique // 10**6]
    serial = unique % 10**6
    for k in range(6):
        codes[:, 11 + k] = ord("0") + (serial // 10 ** (5 - k)) % 10
    table = np.zeros(128, dtype=np.int64)
    for char, value in _VIN_VALUES.items():
        table[ord(char)] = value
    remainder = (table[codes] * _VIN_WEIGHTS).sum(axis=1) % 11
    codes[:, 8] = np.where(remainder == 10, ord("X"), ord("0") + remainder)
    return codes.view("S17").ravel().astype(str).astype(object)


def _offers(
    network: Network,
    demand: Demand,
    history_end: date,
    offer_weeks: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Weekly allocation per trim: expected demand times a class-dependent ratio."""
    n_trims = len(network.trims)
    trim_rate = np.bincount(demand.pair_trim, weights=demand.pair_rate, minlength=n_trims)
    ratio_range = {HOT: (0.6, 0.9), NORMAL: (0.9, 1.2), SLOW: (1.2, 1.8)}
    low = np.array([ratio_range[int(c)][0] for c in network.trim_class])
    high = np.array([ratio_range[int(c)][1] for c in network.trim_class])
    calendar = calendar_factors(history_end, offer_weeks)
    noise = rng.uniform(0.85, 1.15, size=(offer_weeks, n_trims))
    units = np.round(calendar[:, None] * (trim_rate * rng.uniform(low, high))[None, :] * noise)
    units[rng.random(units.shape) < 0.03] = 0  # production gaps
    weeks = np.array(week_starts(history_end, offer_weeks), dtype=object)
    return pd.DataFrame(
        {
            "schedule_version": np.ones(units.size, dtype=np.int64),
            "week_start": np.repeat(weeks, n_trims),
            "trim_id": np.tile(network.trims["trim_id"].to_numpy(dtype=object), offer_weeks),
            "max_units": units.ravel().astype(np.int64),
        }
    )


def _brand_targets(
    network: Network, demand: Demand, offers: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Per brand and month of the offer: a pick-up target of 45-75% (35-55% when hard) of
    what the OEM offers in that month or of the brand's expected sales in those weeks,
    whichever is lower (so that the stores can sell what they take and the target can be
    met); 40% of brands make it a hard target."""
    brand_of = dict(zip(network.trims["trim_id"], network.trims["brand_id"], strict=True))
    n_brands = len(network.brands)
    weekly = np.bincount(
        network.trim_brand[demand.pair_trim], weights=demand.pair_rate, minlength=n_brands
    )
    brand_ids = network.brands["brand_id"].to_numpy(dtype=object)
    offered = (
        offers.assign(brand_id=offers["trim_id"].map(brand_of), month=offers["week_start"].str[:7])
        .groupby(["brand_id", "month"], sort=True)
        .agg(max_units=("max_units", "sum"), weeks=("week_start", "nunique"))
        .reset_index()
    )
    expected = offered["weeks"] * offered["brand_id"].map(dict(zip(brand_ids, weekly, strict=True)))
    offered["max_units"] = np.minimum(offered["max_units"], np.floor(expected))
    hard = dict(zip(network.brands["brand_id"], rng.random(len(network.brands)) < 0.4, strict=True))
    is_hard = offered["brand_id"].map(hard).to_numpy(dtype=bool)
    # hard targets lower than soft ones: the OEM does not make a stretch target binding
    fraction = np.where(is_hard, 0.35, 0.45) + rng.random(len(offered)) * np.where(
        is_hard, 0.2, 0.3
    )
    return pd.DataFrame(
        {
            "brand_id": offered["brand_id"],
            "month": offered["month"],
            "target_units": np.floor(offered["max_units"] * fraction).astype(np.int64),
            "is_hard": offered["brand_id"].map(hard).astype(np.int64),
        }
    )


def _bundles(network: Network, rng: np.random.Generator) -> pd.DataFrame:
    """1-3 bundles per brand: for every k (2-5) units of a hot trim, one slow unit."""
    trim_ids = network.trims["trim_id"].to_numpy(dtype=object)
    rows: list[tuple[str, str, int]] = []
    for b in range(len(network.brands)):
        members = np.flatnonzero(network.trim_brand == b)
        hot = members[network.trim_class[members] == HOT]
        slow = members[network.trim_class[members] == SLOW]
        hot = hot[np.argsort(-network.trim_share[hot], kind="stable")]
        slow = slow[np.argsort(network.trim_share[slow], kind="stable")]
        count = min(len(hot), len(slow), int(rng.integers(1, 4)))
        for i in range(count):
            rows.append((trim_ids[hot[i]], trim_ids[slow[i]], int(rng.integers(2, 6))))
    return pd.DataFrame(rows, columns=["hot_trim_id", "slow_trim_id", "hot_units_per_slow"])
