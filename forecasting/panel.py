"""The validated input of every forecaster: a panel of regular series.

``build_panel`` turns the long format (``unique_id, ds, y`` plus optional exogenous
regressor columns) and, where regressors are used, a frame of their future values into a
``Panel`` of ``SeriesData``: one regular date grid per series, ``y`` as float64, the
regressors as a matrix for the history and for the ``horizon`` future steps.

Bad input raises ``InvalidArgument`` naming the series and its rows (0-based positions in
the input frame, plus ``row_base``: the CLI passes 2 so that they read as CSV line numbers;
only the rows of the series named are listed): duplicate (unique_id, ds), NaN or infinite
y, dates off the frequency's grid, dates out of order within a series, a regressor missing
in the history or for a future step. Blank unique_ids and blank or unparseable dates name
their rows alone. Gaps in the dates are not errors: demand not recorded in a period is
taken as zero demand (the regressors carry the last known value forward), and
``Panel.gaps`` reports them.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from turnwise.errors import InvalidArgument

__all__ = [
    "DEFAULT_LEVELS",
    "Frequency",
    "Panel",
    "SeriesData",
    "build_panel",
    "check_levels",
    "future_dates",
    "infer_frequency",
    "parse_dates",
]

DEFAULT_LEVELS = (0.1, 0.5, 0.9)
_MAX_LISTED = 5
_QUARTER_MONTHS = (1, 4, 7, 10)


class Frequency(enum.Enum):
    """Sampling frequency. The value is the pandas offset alias of the grid."""

    WEEKLY = "W-MON"
    MONTHLY = "MS"
    QUARTERLY = "QS"
    """Quarters stamped on their first day (1 Jan, 1 Apr, 1 Jul, 1 Oct)."""

    @property
    def season_length(self) -> int:
        return {Frequency.WEEKLY: 52, Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4}[self]

    @classmethod
    def parse(cls, text: str, field_name: str = "freq") -> Frequency:
        """``W``/``W-MON``/``weekly``, ``MS``/``M``/``monthly`` or ``QS``/``Q``/``quarterly``;
        anything else is an error."""
        key = text.strip().upper()
        if key in ("W", "W-MON", "WEEKLY"):
            return cls.WEEKLY
        if key in ("MS", "M", "MONTHLY"):
            return cls.MONTHLY
        if key in ("QS", "QS-JAN", "Q", "QUARTERLY"):
            return cls.QUARTERLY
        raise InvalidArgument(
            field_name, f"unknown frequency {text!r}; use W (weekly), MS (monthly) or QS"
        )


@dataclass(frozen=True)
class SeriesData:
    """One regular series: ``y[i]`` observed at ``ds[i]``; ``x`` (n x k) and ``x_future``
    (horizon x k) hold the regressors in ``Panel.regressors`` order."""

    unique_id: str
    ds: pd.DatetimeIndex
    y: np.ndarray
    x: np.ndarray
    x_future: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def truncated(self, n: int, h: int) -> SeriesData:
        """The first ``n`` observations, with the next ``h`` observed regressors as the
        future: the training view of a backtest fold whose cutoff is ``ds[n - 1]``."""
        return SeriesData(self.unique_id, self.ds[:n], self.y[:n], self.x[:n], self.x[n : n + h])


@dataclass(frozen=True)
class Panel:
    """Validated series of one frequency, ready to forecast ``horizon`` steps."""

    freq: Frequency
    horizon: int
    series: tuple[SeriesData, ...]
    regressors: tuple[str, ...] = ()
    gaps: dict[str, int] = field(default_factory=dict)
    """Per unique_id, how many missing dates were filled with zero demand."""

    def __len__(self) -> int:
        return len(self.series)

    @property
    def ids(self) -> list[str]:
        return [s.unique_id for s in self.series]


def future_dates(last: pd.Timestamp, freq: Frequency, h: int) -> pd.DatetimeIndex:
    """The ``h`` grid dates after ``last``."""
    return pd.date_range(last, periods=h + 1, freq=freq.value)[1:]


def infer_frequency(ds: pd.Series) -> Frequency:
    """QUARTERLY when every date is the first of January, April, July or October and there
    are at least two distinct dates; else MONTHLY when every date is the first of a month;
    else WEEKLY when every date is a Monday (month and quarter starts win for dates that are
    also Mondays); else an error asking for the frequency."""
    dates = pd.DatetimeIndex(pd.to_datetime(ds.to_numpy()))
    if len(dates) and (dates.day == 1).all():
        quarter_starts = np.isin(dates.month, _QUARTER_MONTHS).all()
        return Frequency.QUARTERLY if quarter_starts and dates.nunique() > 1 else Frequency.MONTHLY
    if len(dates) and (dates.day_of_week == 0).all():
        return Frequency.WEEKLY
    raise InvalidArgument(
        "freq",
        "cannot tell the frequency from the dates (neither all Mondays nor all firsts "
        "of a month); give it: W (weekly), MS (monthly) or QS (quarterly)",
    )


def parse_dates(ds: pd.Series, field_name: str = "ds", row_base: int = 0) -> pd.Series:
    """``ds`` as datetimes; blank or unparseable dates raise ``InvalidArgument`` naming
    their rows (positions plus ``row_base``, as in ``build_panel``)."""
    try:
        with warnings.catch_warnings():  # "could not infer format": the rows say it better
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.Series(pd.to_datetime(ds, errors="coerce"), index=ds.index)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(field_name, f"not a date column ({exc}); use YYYY-MM-DD") from None
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        raise InvalidArgument(
            field_name, f"missing or not a date at rows {_rows(bad, row_base)}; use YYYY-MM-DD"
        )
    return parsed


def check_levels(levels: Sequence[float], field_name: str = "quantiles") -> tuple[float, ...]:
    """Sorted, de-duplicated quantile levels, each strictly inside (0, 1)."""
    if not levels:
        raise InvalidArgument(field_name, "give at least one quantile level, e.g. 0.1,0.5,0.9")
    for i, level in enumerate(levels):
        if not 0.0 < float(level) < 1.0:
            raise InvalidArgument(f"{field_name}[{i}]", f"must be in (0, 1), got {level}")
    return tuple(sorted({float(v) for v in levels}))


def build_panel(
    df: pd.DataFrame,
    freq: Frequency,
    horizon: int,
    future: pd.DataFrame | None = None,
    row_base: int = 0,
) -> Panel:
    """Validate the long frame ``df`` (and ``future`` regressors) into a ``Panel``."""
    if horizon < 1:
        raise InvalidArgument("horizon", f"must be >= 1, got {horizon}")
    for column in ("unique_id", "ds", "y"):
        if column not in df.columns:
            raise InvalidArgument(column, "missing column; the long format is unique_id, ds, y")
    if df.empty:
        raise InvalidArgument("y", "no observations; give at least one row per series")
    regressors = tuple(str(c) for c in df.columns if c not in ("unique_id", "ds", "y"))
    frame = _typed(df, regressors, row_base)
    _check_grid(frame, freq, row_base)
    _check_order(frame, row_base)
    futures = _future_matrix(future, regressors, freq, horizon, frame)
    series: list[SeriesData] = []
    gaps: dict[str, int] = {}
    for uid, part in frame.groupby("unique_id", sort=False):
        x_future = futures.get(str(uid), np.empty((horizon, 0)))
        data, missing = _regular(str(uid), part, freq, regressors, x_future)
        series.append(data)
        if missing:
            gaps[str(uid)] = missing
    return Panel(freq, horizon, tuple(series), regressors, gaps)


def _rows(positions: Sequence[int] | np.ndarray, row_base: int) -> str:
    listed = [str(int(p) + row_base) for p in list(positions)[:_MAX_LISTED]]
    more = len(positions) - len(listed)
    return ", ".join(listed) + (f" and {more} more" if more > 0 else "")


def _first_series(frame: pd.DataFrame, bad: np.ndarray) -> tuple[str, np.ndarray]:
    """The series of the first bad row, and the bad rows of that series alone."""
    ids = frame["unique_id"].to_numpy()
    uid = ids[bad[0]]
    return str(uid), bad[ids[bad] == uid]


def _check_ids(ids: pd.Series, row_base: int) -> None:
    blank = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    bad = np.flatnonzero(blank)
    if bad.size:
        raise InvalidArgument(
            "unique_id",
            f"blank unique_id at rows {_rows(bad, row_base)}; give every row its series id",
        )


def _typed(df: pd.DataFrame, regressors: tuple[str, ...], row_base: int) -> pd.DataFrame:
    _check_ids(df["unique_id"], row_base)
    frame = pd.DataFrame({"unique_id": df["unique_id"].astype(str).to_numpy()})
    frame["pos"] = np.arange(len(df))
    frame["ds"] = parse_dates(df["ds"], "ds", row_base).to_numpy()
    y = pd.to_numeric(df["y"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        uid, bad = _first_series(frame, bad)
        raise InvalidArgument(
            "y",
            f"series {uid!r}: missing, NaN or non-numeric y at rows {_rows(bad, row_base)}; "
            "give a number (0 for no demand) or drop the rows",
        )
    frame["y"] = y
    for name in regressors:
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            uid, bad = _first_series(frame, bad)
            raise InvalidArgument(
                name,
                f"series {uid!r}: regressor missing or not a number at rows {_rows(bad, row_base)}",
            )
        frame[name] = values
    dup = frame.duplicated(["unique_id", "ds"], keep=False).to_numpy()
    if dup.any():
        uid, first = _first_series(frame, np.flatnonzero(dup))
        raise InvalidArgument(
            "ds",
            f"series {uid!r}: duplicate (unique_id, ds) at rows {_rows(first, row_base)}; "
            "aggregate them to one row per date",
        )
    return frame


def _check_grid(frame: pd.DataFrame, freq: Frequency, row_base: int) -> None:
    ds = pd.DatetimeIndex(frame["ds"])
    if freq is Frequency.WEEKLY:
        off = (ds.day_of_week != 0) | (ds.normalize() != ds)
        want = "a Monday (weeks start on Monday)"
    elif freq is Frequency.QUARTERLY:
        off = (ds.day != 1) | ~np.isin(ds.month, _QUARTER_MONTHS) | (ds.normalize() != ds)
        want = "the first day of a quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct)"
    else:
        off = (ds.day != 1) | (ds.normalize() != ds)
        want = "the first of a month"
    bad = np.flatnonzero(np.asarray(off))
    if bad.size:
        uid, bad = _first_series(frame, bad)
        raise InvalidArgument(
            "ds",
            f"series {uid!r}: date not on the {freq.value} grid at rows "
            f"{_rows(bad, row_base)}; each ds must be {want}",
        )


def _check_order(frame: pd.DataFrame, row_base: int) -> None:
    previous = frame.groupby("unique_id", sort=False)["ds"].shift()
    bad = np.flatnonzero((frame["ds"] < previous).to_numpy())
    if bad.size:
        uid, bad = _first_series(frame, bad)
        raise InvalidArgument(
            "ds",
            f"series {uid!r}: dates out of order at rows {_rows(bad, row_base)}; "
            "sort each series by ds",
        )


def _future_matrix(
    future: pd.DataFrame | None,
    regressors: tuple[str, ...],
    freq: Frequency,
    horizon: int,
    frame: pd.DataFrame,
) -> dict[str, np.ndarray]:
    if not regressors:
        return {}
    if future is None:
        raise InvalidArgument(
            "future",
            f"regressors {', '.join(regressors)} are in the history: give their values for "
            f"each of the {horizon} future steps of every series",
        )
    for column in ("unique_id", "ds", *regressors):
        if column not in future.columns:
            raise InvalidArgument(f"future.{column}", "missing column in the future regressors")
    fut = future.assign(
        unique_id=future["unique_id"].astype(str), ds=parse_dates(future["ds"], "future.ds")
    )
    last = frame.groupby("unique_id", sort=False)["ds"].max()
    out: dict[str, np.ndarray] = {}
    by_id = {str(k): v for k, v in fut.groupby("unique_id", sort=False)}
    for uid, end in last.items():
        want = future_dates(pd.Timestamp(end), freq, horizon)
        part = by_id.get(str(uid))
        got = part.set_index("ds").reindex(want) if part is not None else None
        if got is None or got[list(regressors)].isna().to_numpy().any():
            missing = want if got is None else want[got[list(regressors)].isna().any(axis=1)]
            raise InvalidArgument(
                "future",
                f"series {uid!r}: future regressor values missing for "
                f"{', '.join(d.strftime('%Y-%m-%d') for d in missing[:_MAX_LISTED])}; every "
                f"regressor needs a value for each of the {horizon} steps (no silent zeros)",
            )
        out[str(uid)] = got[list(regressors)].to_numpy(dtype=float)
    return out


def _regular(
    uid: str,
    part: pd.DataFrame,
    freq: Frequency,
    regressors: tuple[str, ...],
    x_future: np.ndarray,
) -> tuple[SeriesData, int]:
    grid = pd.date_range(part["ds"].iloc[0], part["ds"].iloc[-1], freq=freq.value)
    indexed = part.set_index("ds")
    missing = len(grid) - len(part)
    if missing:
        indexed = indexed.reindex(grid)
        indexed["y"] = indexed["y"].fillna(0.0)
        if regressors:
            indexed[list(regressors)] = indexed[list(regressors)].ffill()
    y = indexed["y"].to_numpy(dtype=float)
    x = indexed[list(regressors)].to_numpy(dtype=float) if regressors else np.empty((len(y), 0))
    return SeriesData(uid, pd.DatetimeIndex(grid), y, x, x_future), missing
