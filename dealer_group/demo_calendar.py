"""The Chinese retail calendar of car sales, as multiplicative demand factors.

A day's factor is 1 except around these events (each a documented pattern of the Chinese car
market):

- Spring Festival (lunar new year, from ``holidays.China``): a pre-festival buying bump in
  the three weeks before it (people buy a car to drive home), then a slump of about 55%
  from New Year's Eve through the holiday week, recovering over the following week.
- Labour Day (May 1-5) and National Day golden week (Oct 1-7): promotion and auto-show lifts.
- December: the year-end push to hit annual targets, strongest in the second half.

A week's factor is the mean of its seven days' factors.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

__all__ = [
    "calendar_factors",
    "daily_calendar_factors",
    "spring_festival_dates",
]

# (first day offset from the Spring Festival, last day offset inclusive, factor)
_SPRING_FESTIVAL_PROFILE: tuple[tuple[int, int, float], ...] = (
    (-24, -10, 1.25),
    (-9, -3, 1.10),
    (-2, 6, 0.45),
    (7, 13, 0.75),
)
_LABOUR_DAY = ((5, 1), (5, 5), 1.25)
_NATIONAL_DAY = ((10, 1), (10, 7), 1.40)
_DECEMBER = (((12, 1), (12, 15), 1.10), ((12, 16), (12, 31), 1.25))


@functools.lru_cache(maxsize=64)
def _spring_festival(year: int) -> date:
    import holidays  # imported here: building the holiday tables takes a noticeable while

    table = holidays.country_holidays("CN", years=year)
    days = [
        day
        for day, name in table.items()
        if "Spring Festival" in name and "observed" not in name.lower()
    ]
    if not days:
        raise LookupError(f"holidays has no Spring Festival for {year}")
    return min(days)


def spring_festival_dates(years: Sequence[int]) -> tuple[date, ...]:
    """The first day of the lunar new year (Spring Festival) for each of ``years``."""
    return tuple(_spring_festival(year) for year in years)


def daily_calendar_factors(start: date, days: int) -> npt.NDArray[np.float64]:
    """The demand factor of each of the ``days`` days from ``start``."""
    factors = np.ones(days, dtype=np.float64)
    day0 = np.datetime64(start, "D")

    def apply(first: date, last: date, factor: float) -> None:
        lo = max(0, int((np.datetime64(first, "D") - day0).astype(int)))
        hi = min(days, int((np.datetime64(last, "D") - day0).astype(int)) + 1)
        if lo < hi:
            factors[lo:hi] *= factor

    end = start + timedelta(days=days)
    for year in range(start.year - 1, end.year + 2):
        festival = _spring_festival(year)
        for lo, hi, factor in _SPRING_FESTIVAL_PROFILE:
            apply(festival + timedelta(days=lo), festival + timedelta(days=hi), factor)
        for (m0, d0), (m1, d1), factor in (_LABOUR_DAY, _NATIONAL_DAY, *_DECEMBER):
            apply(date(year, m0, d0), date(year, m1, d1), factor)
    return factors


def calendar_factors(first_week: date, weeks: int) -> npt.NDArray[np.float64]:
    """The demand factor of each of ``weeks`` consecutive weeks starting on ``first_week``."""
    daily = daily_calendar_factors(first_week, 7 * weeks)
    return np.asarray(daily.reshape(weeks, 7).mean(axis=1), dtype=np.float64)
