"""Weekly sales of every authorised store x trim pair.

The expected units of pair p (store s, trim t of brand b) in week w are

    volume[s, b] * trim_share[t] * pair_effect[p] * shape[b, w] * calendar[w] * ramp[t, w]

where ``shape`` is the brand's source-make shape (``demo_market``), ``calendar`` the Chinese
retail calendar (``demo_calendar``), ``pair_effect`` a lognormal store x trim taste and
``ramp`` 0 before a trim's launch, rising to 1 over its first four weeks. Units are drawn
from a negative binomial (a gamma-mixed Poisson) around that mean, over whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealer_group.demo_calendar import calendar_factors
from dealer_group.demo_market import weekly_shapes
from dealer_group.demo_network import Network

__all__ = ["Demand", "simulate_sales", "week_starts"]

_DISPERSION = 4.0  # gamma shape of the negative binomial: variance = mu + mu^2 / 4
_RECENT_WEEKS = 8

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Demand:
    """The sales table and, per store x trim pair, the expected weekly units now."""

    sales: pd.DataFrame
    pair_store: IntArray
    pair_trim: IntArray
    pair_rate: FloatArray  # expected weekly units at the end of the history, calendar-free
    first_week: date


def week_starts(first_week: date, weeks: int) -> list[str]:
    """ISO dates of ``weeks`` consecutive Mondays from ``first_week``."""
    return [(first_week + timedelta(days=7 * i)).isoformat() for i in range(weeks)]


def simulate_sales(
    network: Network, weeks: int, history_end: date, rng: np.random.Generator
) -> Demand:
    """Draw ``weeks`` weeks of sales ending the week before ``history_end``."""
    first_week = history_end - timedelta(days=7 * weeks)
    pair_store, pair_trim = np.nonzero(network.auth[:, network.trim_brand])
    pair_brand = network.trim_brand[pair_trim]
    makes = network.brands["source_make"].tolist()
    shape = weekly_shapes(makes, first_week, weeks, history_end)
    calendar = calendar_factors(first_week, weeks)
    ramp = _launch_ramp(network.trim_launch, weeks)
    base = (
        network.volume[pair_store, pair_brand]
        * network.trim_share[pair_trim]
        * rng.lognormal(-0.045, 0.3, size=len(pair_store))
    )
    mean = base[:, None] * shape[pair_brand] * calendar[None, :] * ramp[pair_trim]
    lam = mean * rng.gamma(_DISPERSION, 1.0 / _DISPERSION, size=mean.shape)
    units = rng.poisson(lam)
    recent = shape[:, weeks - _RECENT_WEEKS :].mean(axis=1)
    rate = base * recent[pair_brand] * ramp[pair_trim, -1]
    store_ids = network.stores["store_id"].to_numpy(dtype=object)
    trim_ids = network.trims["trim_id"].to_numpy(dtype=object)
    sales = pd.DataFrame(
        {
            "week_start": np.tile(
                np.array(week_starts(first_week, weeks), dtype=object), len(base)
            ),
            "store_id": np.repeat(store_ids[pair_store], weeks),
            "trim_id": np.repeat(trim_ids[pair_trim], weeks),
            "units": units.ravel().astype(np.int64),
        }
    )
    return Demand(
        sales=sales,
        pair_store=pair_store.astype(np.int64),
        pair_trim=pair_trim.astype(np.int64),
        pair_rate=rate,
        first_week=first_week,
    )


def _launch_ramp(launch: IntArray, weeks: int) -> FloatArray:
    """Per trim and week: 1 for trims on sale all along; 0 before a launch, then 1/4, 2/4,
    3/4, 1."""
    since = np.arange(weeks)[None, :] - launch[:, None]
    ramp = np.clip((since + 1) / 4.0, 0.0, 1.0)
    return np.where(launch[:, None] < 0, 1.0, ramp)
