"""The demo group's network: regions, stores, brands, authorisations and trims.

``build_network`` returns the tables (stores without ``lot_capacity`` and
``credit_limit_cny``, which depend on demand and are added by ``demo_supply``) together
with the arrays the later stages draw from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_catalogue import (
    BRANDS,
    LEVEL_MULTIPLIERS,
    LEVELS,
    REGIONS,
    BrandInfo,
    City,
    brand_count,
)

__all__ = ["HOT", "NORMAL", "SLOW", "STORE_TYPES", "Network", "build_network", "padded_ids"]

STORE_TYPES: tuple[str, ...] = ("4S", "SHOWROOM", "OUTLET")
_TYPE_SHARE = (0.55, 0.30, 0.15)
_TYPE_BRANDS = ((1, 1), (2, 4), (3, 6))  # brands per store, inclusive range, per type
_TYPE_VOLUME = (25.0, 9.0, 5.0)  # weekly units of an average brand at an average store
HOT, NORMAL, SLOW = 0, 1, 2  # trim classes

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Network:
    """The network tables and the arrays behind them (row i of an array = row i of its
    table)."""

    regions: pd.DataFrame
    stores: pd.DataFrame  # without lot_capacity, credit_limit_cny
    brands: pd.DataFrame
    authorisations: pd.DataFrame
    trims: pd.DataFrame
    store_type: IntArray  # index into STORE_TYPES
    auth: BoolArray  # (stores, brands)
    volume: FloatArray  # (stores, brands): mean weekly units, 0 where not authorised
    trim_brand: IntArray
    trim_share: FloatArray  # share of its brand's volume; sums to 1 within a brand
    trim_class: IntArray  # HOT, NORMAL or SLOW
    trim_launch: IntArray  # week index of launch, -1 when on sale all along
    trim_cost: IntArray


def padded_ids(prefix: str, count: int, width: int) -> list[str]:
    """``prefix`` + 1-based numbers, zero-padded to ``width`` (wider if needed)."""
    width = max(width, len(str(count)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


def build_network(stores: int, trims: int, weeks: int, rng: np.random.Generator) -> Network:
    """Draw the network of a group of ``stores`` stores selling ``trims`` trims."""
    brands = BRANDS[: brand_count(stores)]
    region_of, city_of = _place_stores(stores, rng)
    store_type = rng.choice(3, size=stores, p=_TYPE_SHARE).astype(np.int64)
    auth, primary = _authorise(store_type, brands, rng)
    scale = np.array([_TYPE_VOLUME[t] for t in store_type]) * rng.lognormal(0, 0.35, stores)
    scale *= np.where([city.tier1 for city in city_of], 1.25, 1.0)
    volume = scale[:, None] * np.array([b.share for b in brands])[None, :] * auth
    trim_table, trim_brand, trim_share, trim_cost = _trims(brands, trims, rng)
    trim_class = _classify(trim_brand, trim_share)
    trim_launch = _launches(trim_brand, trim_class, weeks, rng)
    return Network(
        regions=_regions_frame(max(region_of) + 1),
        stores=_stores_frame(region_of, city_of, store_type, primary, brands, rng),
        brands=_brands_frame(brands),
        authorisations=_authorisations_frame(auth),
        trims=trim_table,
        store_type=store_type,
        auth=auth,
        volume=volume,
        trim_brand=trim_brand,
        trim_share=trim_share,
        trim_class=trim_class,
        trim_launch=trim_launch,
        trim_cost=trim_cost,
    )


def _place_stores(stores: int, rng: np.random.Generator) -> tuple[list[int], list[City]]:
    """Region and city of each store, ordered by region then city; every region used has
    a store (a group with fewer stores than regions uses the largest regions)."""
    regions = REGIONS[: min(len(REGIONS), stores)]
    weights = np.array([r.weight for r in regions])
    drawn = rng.choice(len(regions), size=stores - len(regions), p=weights / weights.sum())
    region_of = np.concatenate([np.arange(len(regions)), drawn])
    city_index = np.empty(stores, dtype=np.int64)
    for r, region in enumerate(regions):
        members = np.flatnonzero(region_of == r)
        city_weights = np.array([c.weight for c in region.cities])
        city_index[members] = rng.choice(
            len(region.cities), size=len(members), p=city_weights / city_weights.sum()
        )
    order = np.lexsort((city_index, region_of))
    regs = [int(region_of[i]) for i in order]
    return regs, [regions[r].cities[int(city_index[i])] for r, i in zip(regs, order, strict=True)]


def _authorise(
    store_type: IntArray, brands: tuple[BrandInfo, ...], rng: np.random.Generator
) -> tuple[BoolArray, IntArray]:
    """Which brands each store sells, and its primary brand. Every brand has at least one
    store whose primary brand it is; extra brands are drawn by market share."""
    stores, n_brands = len(store_type), len(brands)
    share = np.array([b.share for b in brands])
    primary = rng.choice(n_brands, size=stores, p=share / share.sum())
    primary[rng.permutation(stores)[:n_brands]] = np.arange(n_brands)
    lo = np.array([_TYPE_BRANDS[t][0] for t in store_type])
    hi = np.array([_TYPE_BRANDS[t][1] for t in store_type])
    count = np.minimum(rng.integers(lo, hi + 1), n_brands)
    keys = np.log(share)[None, :] + rng.gumbel(size=(stores, n_brands))  # Gumbel top-k
    keys[np.arange(stores), primary] = np.inf
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return rank < count[:, None], primary.astype(np.int64)


def _trims(
    brands: tuple[BrandInfo, ...], trims: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, IntArray, FloatArray, IntArray]:
    """The trim table, each trim's brand, its share of the brand's volume and its cost."""
    counts = _apportion(np.array([b.share**0.7 for b in brands]), trims)
    rows: list[dict[str, object]] = []
    for b, brand in enumerate(brands):
        models = brand.models
        for j in range(int(counts[b])):
            model = models[j % len(models)]
            level = (j // len(models)) % len(LEVELS)
            edition = j // (len(models) * len(LEVELS))
            name = LEVELS[level] if edition == 0 else f"{LEVELS[level]} Gen {edition + 1}"
            rows.append(
                {
                    "brand": b,
                    "brand_id": f"B{b + 1:02d}",
                    "model": model.name,
                    "trim": name,
                    "powertrain": model.powertrain,
                    "list": model.msrp_cny * LEVEL_MULTIPLIERS[level] * (1 + 0.03 * edition),
                    "level": level,
                }
            )
    table = pd.DataFrame(rows)
    n = len(table)
    msrp = np.round(table["list"].to_numpy() * rng.uniform(0.97, 1.03, n) / 1000) * 1000 - 200
    cost = np.round(msrp * (1 - rng.uniform(0.01, 0.08, n)) / 100) * 100
    holding = np.round(cost * 0.055 / 365 + rng.uniform(15, 30, n), 2)
    weight = rng.lognormal(0, 0.7, n) * np.array([1.3, 1.2, 1.0, 0.8, 0.6])[table["level"]]
    brand_of = table["brand"].to_numpy(np.int64)
    weight = _make_niche(weight, brand_of, rng)
    share = weight / np.bincount(brand_of, weights=weight)[brand_of]
    frame = pd.DataFrame(
        {
            "trim_id": padded_ids("T", n, 4),
            "brand_id": table["brand_id"],
            "model": table["model"],
            "trim": table["trim"],
            "powertrain": table["powertrain"],
            "msrp_cny": msrp.astype(np.int64),
            "cost_cny": cost.astype(np.int64),
            "holding_cost_cny_per_day": holding,
        }
    )
    return frame, brand_of, share, cost.astype(np.int64)


def _apportion(weights: FloatArray, total: int) -> IntArray:
    """Split ``total`` into integer parts, each at least 1, proportional to ``weights``
    (largest remainder)."""
    extra = total - len(weights)
    raw = weights / weights.sum() * extra
    parts = np.floor(raw).astype(np.int64)
    short = extra - int(parts.sum())
    parts[np.argsort(-(raw - parts), kind="stable")[:short]] += 1
    return np.asarray(parts + 1, dtype=np.int64)


def _make_niche(weight: FloatArray, brand_of: IntArray, rng: np.random.Generator) -> FloatArray:
    """Turn about 5% of trims (of brands with 3+ trims) into niche trims that sell so
    rarely that most of their weeks are zero: intermittent demand."""
    sizes = np.bincount(brand_of)
    eligible = np.flatnonzero(sizes[brand_of] >= 3)
    count = min(len(eligible), max(1, round(0.05 * len(weight))))
    niche = rng.choice(eligible, size=count, replace=False) if count else eligible[:0]
    out = weight.copy()
    out[niche] = (
        0.04 * np.bincount(brand_of, weights=weight)[brand_of[niche]] / sizes[brand_of[niche]]
    )
    return out


def _classify(trim_brand: IntArray, trim_share: FloatArray) -> IntArray:
    """HOT for the top fifth of a brand's trims by share, SLOW for the bottom quarter
    (brands with 3+ trims), NORMAL otherwise."""
    classes = np.full(len(trim_brand), NORMAL, dtype=np.int64)
    for b in np.unique(trim_brand):
        members = np.flatnonzero(trim_brand == b)
        if len(members) < 3:
            continue
        ranked = members[np.argsort(-trim_share[members], kind="stable")]
        classes[ranked[: math.ceil(0.2 * len(members))]] = HOT
        classes[ranked[len(members) - math.ceil(0.25 * len(members)) :]] = SLOW
    return classes


def _launches(
    trim_brand: IntArray, trim_class: IntArray, weeks: int, rng: np.random.Generator
) -> IntArray:
    """Launch weeks: a couple of trims (2%, at least 2 where possible; not slow ones, of
    brands with 2+ trims) went on sale 6-20 weeks before the end of the history."""
    launch = np.full(len(trim_brand), -1, dtype=np.int64)
    eligible = np.flatnonzero((np.bincount(trim_brand)[trim_brand] >= 2) & (trim_class != SLOW))
    count = min(len(eligible), max(2, round(0.02 * len(trim_brand))))
    if count == 0 or weeks < 8:
        return launch
    chosen = rng.choice(eligible, size=count, replace=False)
    launch[chosen] = np.maximum(1, weeks - rng.integers(6, 21, size=count))
    return launch


def _regions_frame(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"region_id": padded_ids("R", count, 2), "name": [r.name for r in REGIONS[:count]]}
    )


def _stores_frame(
    region_of: list[int],
    city_of: list[City],
    store_type: IntArray,
    primary: IntArray,
    brands: tuple[BrandInfo, ...],
    rng: np.random.Generator,
) -> pd.DataFrame:
    names: list[str] = []
    seen: dict[str, int] = {}
    for city, kind, brand in zip(city_of, store_type, primary, strict=True):
        base = (
            f"{city.name} {brands[brand].name} 4S",
            f"{city.name} Multi-brand Showroom",
            f"{city.name} Auto Outlet",
        )[kind]
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} #{seen[base]}")
    n = len(city_of)
    jitter = rng.normal(0.0, 0.03, size=(n, 2))
    return pd.DataFrame(
        {
            "store_id": padded_ids("S", n, 3),
            "name": names,
            "region_id": [f"R{r + 1:02d}" for r in region_of],
            "city": [c.name for c in city_of],
            "store_type": [STORE_TYPES[t] for t in store_type],
            "latitude": np.round([c.latitude for c in city_of] + jitter[:, 0], 6),
            "longitude": np.round([c.longitude for c in city_of] + jitter[:, 1], 6),
        }
    )


def _brands_frame(brands: tuple[BrandInfo, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brand_id": padded_ids("B", len(brands), 2),
            "name": [b.name for b in brands],
            "is_nev": [int(b.is_nev) for b in brands],
            "source_make": [b.source_make for b in brands],
        }
    )


def _authorisations_frame(auth: BoolArray) -> pd.DataFrame:
    store, brand = np.nonzero(auth)
    store_ids = np.array(padded_ids("S", auth.shape[0], 3), dtype=object)
    brand_ids = np.array(padded_ids("B", auth.shape[1], 2), dtype=object)
    return pd.DataFrame({"store_id": store_ids[store], "brand_id": brand_ids[brand]})
