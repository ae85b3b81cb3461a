"""Real market shapes for the demo: monthly Norway new-car sales by make (2007-01..2017-01,
``data/norway_new_car_sales_by_make.csv``, see ``data/SOURCE.md``) turned into weekly
demand shapes for the demo's history.

Each target month is shaped by the Norway month of the same calendar month, a whole number
of years earlier (the latest such month in the data), so seasonality lines up: a history
ending in October 2026 is shaped by the months up to October 2016. A make's monthly counts
become a daily rate (spread evenly over the month's days, then a 15-day moving average
smooths the steps between months while keeping each month's total), which is summed over
each week and scaled to mean 1 over the history: the shape keeps the make's trend (the
electric makes bring the shift to electric cars) and seasonality, not its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from turnwise.errors import InvalidArgument

__all__ = [
    "SOURCE_CSV",
    "SOURCE_FIRST_MONTH",
    "SOURCE_LAST_MONTH",
    "aligned_source_months",
    "read_source_makes",
    "source_year_offset",
    "weekly_shapes",
]

SOURCE_CSV = Path(__file__).resolve().parent / "data" / "norway_new_car_sales_by_make.csv"
SOURCE_FIRST_MONTH = np.datetime64("2007-01", "M")
SOURCE_LAST_MONTH = np.datetime64("2017-01", "M")
_SMOOTH_DAYS = 15  # a month's count is spread evenly over its days, then smoothed over 15


def read_source_makes(path: Path = SOURCE_CSV) -> pd.DataFrame:
    """Monthly sales by make: index = month (``datetime64[M]`` values as Timestamps at the
    first of the month), one column per make, 0 where a make sold nothing (absent rows).
    The duplicate Lexus 2015-04 rows are summed."""
    raw = pd.read_csv(path)
    months = pd.to_datetime(
        {"year": raw["Year"], "month": raw["Month"], "day": np.ones(len(raw), dtype=int)}
    )
    table = (
        raw.assign(month=months)
        .pivot_table(index="month", columns="Make", values="Quantity", aggfunc="sum")
        .fillna(0.0)
        .astype(np.float64)
    )
    table.columns = [str(column) for column in table.columns]
    return table


def source_year_offset(history_end: date) -> int:
    """How many years before each target month its Norway source month lies."""
    last = np.datetime64(history_end - timedelta(days=1), "M")
    diff = int((last - SOURCE_LAST_MONTH).astype(int))
    return -((-diff) // 12)


def aligned_source_months(
    target_months: npt.NDArray[np.datetime64], history_end: date
) -> npt.NDArray[np.datetime64]:
    """The Norway month that shapes each target month (``datetime64[M]``)."""
    offset = np.timedelta64(12 * source_year_offset(history_end), "M")
    return cast(npt.NDArray[np.datetime64], target_months.astype("datetime64[M]") - offset)


def weekly_shapes(
    makes: Sequence[str], first_week: date, weeks: int, history_end: date
) -> npt.NDArray[np.float64]:
    """One row per make: its weekly demand shape over ``weeks`` weeks from ``first_week``,
    scaled to mean 1 over the weeks before ``history_end`` (later weeks continue the shape
    where the data allows, else repeat its last level)."""
    table = read_source_makes()
    first_month = np.datetime64(first_week, "M") - np.timedelta64(1, "M")
    last_day = first_week + timedelta(days=7 * weeks - 1)
    last_month = np.datetime64(last_day, "M") + np.timedelta64(1, "M")
    target = np.arange(first_month, last_month + np.timedelta64(1, "M"))
    source = aligned_source_months(target, history_end)
    if source[0] < SOURCE_FIRST_MONTH:
        raise InvalidArgument("weeks", "the history reaches back before the source data")
    starts = target.astype("datetime64[D]")
    lengths = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - starts).astype(int)
    month_of_day = np.repeat(np.arange(len(target)), lengths)
    skip = int((np.datetime64(first_week, "D") - starts[0]).astype(int)) - _SMOOTH_DAYS // 2
    history_weeks = (history_end - first_week).days // 7
    kernel = np.full(_SMOOTH_DAYS, 1.0 / _SMOOTH_DAYS)
    shapes = np.empty((len(makes), weeks), dtype=np.float64)
    index = pd.DatetimeIndex(source.astype("datetime64[ns]"))
    for row, make in enumerate(makes):
        counts = table[make].reindex(index).ffill().fillna(0.0).to_numpy(np.float64)
        steps = (counts / lengths)[month_of_day]
        daily = np.convolve(steps[skip : skip + 7 * weeks + _SMOOTH_DAYS - 1], kernel, "valid")
        weekly = daily.reshape(weeks, 7).sum(axis=1)
        level = weekly[:history_weeks].mean()
        if level <= 0:
            raise InvalidArgument("history_end", f"source make {make} sold nothing in the span")
        shapes[row] = weekly / level
    return shapes
