"""The Chinese car-retail calendar as features of weekly, monthly and quarterly periods.

Each event is a window of days around an anchor (from ``holidays.China`` for the moving
lunar holidays, fixed dates for the others). A period's feature for an event is the share of
the period's days that fall inside the event's window, in [0, 1]: a week that holds the
whole Spring Festival holiday has 1.0, a month that holds it has 9/31.

Events (windows in days from the anchor, inclusive):

- ``pre_spring_festival`` (-24..-3): the pre-festival buying bump (people drive home new cars);
- ``spring_festival`` (-2..+6): the holiday week, when showrooms are near empty;
- ``post_spring_festival`` (+7..+13): the recovery week;
- ``qingming`` (0..+2), ``dragon_boat`` (0..+2), ``mid_autumn`` (0..+2): short holidays;
- ``labour_day`` (May 1-5) and ``national_day`` (Oct 1-7): golden weeks with auto shows;
- ``year_end`` (Dec 16-31): the year-end push to hit annual targets.

Prophet's own holiday frame works on daily dates and would never match a Monday-stamped
week, so both Prophet and XGBoost take these period features as regressors.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd

from forecasting.panel import Frequency

__all__ = ["CALENDAR_FEATURES", "calendar_features", "event_days"]

_LUNAR = {
    "spring_festival": "Spring Festival",
    "qingming": "Tomb-Sweeping Day",
    "dragon_boat": "Dragon Boat Festival",
    "mid_autumn": "Mid-Autumn Festival",
}
# event -> (anchor, first offset, last offset); anchors are _LUNAR keys or (month, day)
_WINDOWS: dict[str, tuple[str | tuple[int, int], int, int]] = {
    "pre_spring_festival": ("spring_festival", -24, -3),
    "spring_festival": ("spring_festival", -2, 6),
    "post_spring_festival": ("spring_festival", 7, 13),
    "qingming": ("qingming", 0, 2),
    "labour_day": ((5, 1), 0, 4),
    "dragon_boat": ("dragon_boat", 0, 2),
    "mid_autumn": ("mid_autumn", 0, 2),
    "national_day": ((10, 1), 0, 6),
    "year_end": ((12, 16), 0, 15),
}
CALENDAR_FEATURES: tuple[str, ...] = tuple(_WINDOWS)


@functools.lru_cache(maxsize=256)
def _lunar_anchors(year: int) -> dict[str, date]:
    found: dict[str, date] = {}
    days = holidays.country_holidays("CN", years=year, language="en_US")
    for day, name in sorted(days.items()):
        if "observed" in name:
            continue
        for key, label in _LUNAR.items():
            if label in name and key not in found:
                found[key] = day
    return found


@functools.lru_cache(maxsize=256)
def event_days(year: int) -> dict[str, tuple[date, date]]:
    """First and last day of each event of ``year`` (events without a known anchor in the
    ``holidays`` tables, e.g. before 1950, are left out)."""
    anchors = _lunar_anchors(year)
    out: dict[str, tuple[date, date]] = {}
    for event, (anchor, first, last) in _WINDOWS.items():
        if isinstance(anchor, tuple):
            day = date(year, *anchor)
        elif anchor in anchors:
            day = anchors[anchor]
        else:
            continue
        out[event] = (day + timedelta(days=first), day + timedelta(days=last))
    return out


def calendar_features(ds: pd.DatetimeIndex, freq: Frequency) -> pd.DataFrame:
    """One row per date of ``ds`` (grid dates of ``freq``), one column per event: the share
    of the period's days inside the event's window."""
    starts = ds.normalize()
    if freq is Frequency.WEEKLY:
        ends = starts + pd.DateOffset(days=7)
    else:
        ends = starts + pd.DateOffset(months=3 if freq is Frequency.QUARTERLY else 1)
    length = (ends - starts).days.to_numpy(dtype=float)
    out = np.zeros((len(ds), len(CALENDAR_FEATURES)))
    if len(ds) == 0:
        return pd.DataFrame(out, index=ds, columns=list(CALENDAR_FEATURES))
    start_ns = starts.to_numpy()
    end_ns = ends.to_numpy()
    years = range(int(starts.min().year) - 1, int(ends.max().year) + 1)
    for year in years:
        for j, event in enumerate(CALENDAR_FEATURES):
            window = event_days(year).get(event)
            if window is None:
                continue
            lo = np.datetime64(window[0], "ns")
            hi = np.datetime64(window[1] + timedelta(days=1), "ns")
            overlap = (np.minimum(end_ns, hi) - np.maximum(start_ns, lo)) / np.timedelta64(1, "D")
            out[:, j] += np.clip(overlap, 0.0, None)
    return pd.DataFrame(out / length[:, None], index=ds, columns=list(CALENDAR_FEATURES))
