"""Real datasets from ``shared/data`` in the canonical long format of the forecasters.

Every loader returns a frame with exactly the columns ``unique_id`` (str), ``ds``
(``datetime64[ns]``) and ``y`` (float64), sorted by ``unique_id`` then ``ds``, with no
duplicate (``unique_id``, ``ds``). Monthly series are stamped on the first of the month,
quarterly ones on the first day of the quarter. The loaders are pure: they read local files
only (never the network) and raise ``DatasetMissing`` naming the dataset folder when a file
is absent. Each folder's ``SOURCE.md`` records the origin, licence and quirks of its data.

The data directory is ``$TURNWISE_SHARED_DATA`` when set, else ``shared/data`` beside the
repository (``<repo root>/../shared/data``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from turnwise.errors import DatasetMissing, InvalidArgument

__all__ = [
    "M4_TEST_HORIZON",
    "M4_TRAIN_END",
    "TOURISM_LEVELS",
    "load_aus_vehicle_sales",
    "load_m4_weekly",
    "load_norway_by_make",
    "load_norway_total",
    "load_quebec_car_sales",
    "load_tourism",
    "load_us_total_vehicle_sales",
    "shared_data_dir",
    "tourism_hierarchy",
]

M4_TRAIN_END = pd.Timestamp("2017-12-25")
"""Synthetic date of every M4 weekly series' last training value (a Monday). M4 publishes
no dates for its weekly series (``M4-info.csv`` is not in the snapshot), so the loader puts
each series on a weekly grid that ends here; the 13 test weeks follow it."""
M4_TEST_HORIZON = 13
TOURISM_LEVELS = ("State", "Region", "Purpose")

_COLUMNS = ["unique_id", "ds", "y"]


def shared_data_dir() -> Path:
    """``$TURNWISE_SHARED_DATA`` if set, else ``<repo root>/../shared/data``."""
    configured = os.environ.get("TURNWISE_SHARED_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _require(folder: str, file_name: str) -> Path:
    path = shared_data_dir() / folder / file_name
    if not path.is_file():
        raise DatasetMissing(
            folder,
            f"{file_name} not found at {path}; set TURNWISE_SHARED_DATA or place shared/data "
            "beside the repo",
        )
    return path


def _canonical(unique_id: pd.Series, ds: pd.Series, y: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unique_id": unique_id.astype(str).to_numpy(),
            "ds": pd.to_datetime(ds).astype("datetime64[ns]").to_numpy(),
            "y": y.astype(np.float64).to_numpy(),
        }
    )
    return frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def _first_of_month(year: pd.Series, month: pd.Series) -> pd.Series:
    return pd.to_datetime({"year": year, "month": month, "day": np.ones(len(year), dtype=int)})


def load_norway_by_make() -> pd.DataFrame:
    """Monthly new-car registrations in Norway by make, 2007-01..2017-01 (65 makes).

    ``unique_id`` is the make. The two rows of Lexus 2015-04 (73 and 1) are summed. A make
    absent from a month between its first and last month is filled with 0: the makes sum
    exactly to the national total, so an absent make sold nothing that month. Months before
    a make's first sale and after its last are left out, so each series starts when the
    make does.
    """
    raw = pd.read_csv(_require("norway_car_sales", "norway_new_car_sales_by_make.csv"))
    monthly = (
        raw.assign(ds=_first_of_month(raw["Year"], raw["Month"]))
        .groupby(["Make", "ds"], sort=True)["Quantity"]
        .sum()
    )
    filled = []
    for make, series in monthly.groupby(level="Make", sort=True):
        values = series.droplevel("Make")
        span = pd.date_range(values.index.min(), values.index.max(), freq="MS")
        values = values.reindex(span, fill_value=0)
        filled.append(pd.DataFrame({"unique_id": make, "ds": span, "y": values.to_numpy()}))
    long = pd.concat(filled, ignore_index=True)
    return _canonical(long["unique_id"], long["ds"], long["y"])


def load_norway_total() -> pd.DataFrame:
    """Monthly new-car registrations in Norway, 2007-01..2017-01: one series, ``"Norway"``."""
    raw = pd.read_csv(_require("norway_car_sales", "norway_new_car_sales_by_month.csv"))
    ids = pd.Series(["Norway"] * len(raw))
    return _canonical(ids, _first_of_month(raw["Year"], raw["Month"]), raw["Quantity"])


def load_aus_vehicle_sales() -> pd.DataFrame:
    """Australian new motor vehicle sales by type, monthly 1994-01..2017-12 (fpp3, GPL-3):
    ``unique_id`` in ``Other``, ``Passenger``, ``SUV``; 3 x 288 rows."""
    raw = pd.read_csv(_require("aus_vehicle_sales", "aus_vehicle_sales.csv"))
    ds = pd.to_datetime(raw["Month"], format="%Y %b")
    return _canonical(raw["Type"], ds, raw["Count"])


def load_us_total_vehicle_sales() -> pd.DataFrame:
    """US total vehicle sales (FRED TOTALNSA, not seasonally adjusted), monthly
    1976-01..2021-07, in **thousands** of units: one series, ``"TOTALNSA"``."""
    raw = pd.read_csv(_require("us_total_vehicle_sales", "TOTALNSA.csv"))
    ids = pd.Series(["TOTALNSA"] * len(raw))
    return _canonical(ids, pd.to_datetime(raw["DATE"], format="%Y-%m-%d"), raw["TOTALNSA"])


def load_quebec_car_sales() -> pd.DataFrame:
    """Monthly car sales in Quebec, 1960-01..1968-12: one series, ``"Quebec"``."""
    raw = pd.read_csv(_require("quebec_car_sales", "monthly-car-sales.csv"))
    ids = pd.Series(["Quebec"] * len(raw))
    return _canonical(ids, pd.to_datetime(raw["Month"], format="%Y-%m"), raw["Sales"])


def load_m4_weekly(split: Literal["train", "test"] = "train") -> pd.DataFrame:
    """The 359 weekly series of the M4 competition (``W1``..``W359``).

    M4 gives no dates, so the dates are synthetic: weekly (Mondays), each series' last
    training value on ``M4_TRAIN_END`` and its 13 test values on the 13 Mondays after it.
    Train series have 80..2597 values (the wide file is right-padded with blanks, which are
    dropped). ``unique_id`` sorts as text (``W1``, ``W10``, ``W100``, ...).
    """
    if split not in ("train", "test"):
        raise InvalidArgument("split", f"must be 'train' or 'test', got {split!r}")
    file_name = "Weekly-train.csv" if split == "train" else "Weekly-test.csv"
    wide = pd.read_csv(_require("m4_weekly", file_name))
    long = wide.melt(id_vars="V1", var_name="column", value_name="y").dropna()
    long = long.assign(
        unique_id=long["V1"], order=long["column"].str[1:].astype(np.int64)
    ).sort_values(["unique_id", "order"], kind="stable")
    position = long.groupby("unique_id", sort=False).cumcount()
    if split == "train":
        length = long.groupby("unique_id", sort=False)["y"].transform("size")
        offset = position - length + 1  # 0 for the last training value
    else:
        offset = position + 1
    ds = M4_TRAIN_END + pd.to_timedelta(offset * 7, unit="D")
    return _canonical(long["unique_id"], ds, long["y"])


def _tourism_raw() -> pd.DataFrame:
    raw = pd.read_csv(_require("aus_tourism_hierarchical", "tourism.csv"))
    raw["unique_id"] = raw["State"] + "/" + raw["Region"] + "/" + raw["Purpose"]
    return raw


def load_tourism() -> pd.DataFrame:
    """Australian domestic overnight trips (thousands), quarterly 1998 Q1..2017 Q4: 304
    bottom series ``"State/Region/Purpose"`` x 80 quarters. See ``tourism_hierarchy``."""
    raw = _tourism_raw()
    ds = pd.PeriodIndex(raw["Quarter"].str.replace(" ", "-", regex=False), freq="Q")
    return _canonical(raw["unique_id"], pd.Series(ds.to_timestamp(how="start")), raw["Trips"])


def tourism_hierarchy() -> pd.DataFrame:
    """One row per bottom series of ``load_tourism``: ``unique_id``, ``State``, ``Region``,
    ``Purpose`` (sorted by ``unique_id``). Regions nest in states; purposes cross both."""
    raw = _tourism_raw()
    columns = ["unique_id", *TOURISM_LEVELS]
    return (
        raw[columns]
        .drop_duplicates()
        .sort_values("unique_id", kind="stable")
        .reset_index(drop=True)
    )
