"""The canonical tables of a dealer group, as exchanged in CSV.

``TABLES`` names every table, its columns (in file order) and its key. The CSV file of a
table is ``<name>.csv``. The names are a contract: the state store loader
(``serving.store.demo_load``) and ``turnwise demo-data`` depend on them, so never rename a
table or a column; add new ones instead.

Every column has one ``ColumnType``. Text columns hold Python strings (the pandas ``str``
dtype), never NaN: an absent value is the empty string. Dates are ISO strings
(``2026-11-02``), timestamps ISO 8601 UTC with ``Z``; ``;`` joins list-valued text columns.
``conform`` brings a frame to exactly this shape, so that a generated group and one read
back from CSV compare equal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import pandas as pd

from turnwise.errors import InvalidArgument

__all__ = ["COLUMN_TYPES", "TABLES", "ColumnType", "TableSpec", "conform", "table_spec"]


class ColumnType(enum.Enum):
    """How a column is stored in a frame (and parsed from CSV)."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"


@dataclass(frozen=True)
class TableSpec:
    """One table: its name (the CSV file is ``<name>.csv``), columns in order, and key."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


TABLES: tuple[TableSpec, ...] = (
    TableSpec("regions", ("region_id", "name"), ("region_id",)),
    TableSpec(
        "stores",
        (
            "store_id",
            "name",
            "region_id",
            "city",
            "store_type",
            "latitude",
            "longitude",
            "lot_capacity",
            "credit_limit_cny",
        ),
        ("store_id",),
    ),
    TableSpec("brands", ("brand_id", "name", "is_nev", "source_make"), ("brand_id",)),
    TableSpec("authorisations", ("store_id", "brand_id"), ("store_id", "brand_id")),
    TableSpec(
        "trims",
        (
            "trim_id",
            "brand_id",
            "model",
            "trim",
            "powertrain",
            "msrp_cny",
            "cost_cny",
            "holding_cost_cny_per_day",
        ),
        ("trim_id",),
    ),
    TableSpec(
        "inventory",
        ("vin", "store_id", "trim_id", "colour", "arrival_date", "status", "cost_cny"),
        ("vin",),
    ),
    TableSpec(
        "sales",
        ("week_start", "store_id", "trim_id", "units"),
        ("store_id", "trim_id", "week_start"),
    ),
    TableSpec(
        "oem_offers",
        ("schedule_version", "week_start", "trim_id", "max_units"),
        ("schedule_version", "week_start", "trim_id"),
    ),
    TableSpec(
        "brand_targets",
        ("brand_id", "month", "target_units", "is_hard"),
        ("brand_id", "month"),
    ),
    TableSpec(
        "bundles",
        ("hot_trim_id", "slow_trim_id", "hot_units_per_slow"),
        ("hot_trim_id", "slow_trim_id"),
    ),
    TableSpec(
        "advisors",
        (
            "advisor_id",
            "store_id",
            "name",
            "level",
            "brand_ids",
            "shift_start",
            "shift_end",
            "max_open_leads",
            "leads_90d",
            "conversions_90d",
        ),
        ("advisor_id",),
    ),
    TableSpec(
        "leads",
        (
            "lead_id",
            "created_at",
            "channel",
            "store_id",
            "brand_id",
            "model",
            "grade",
            "phone",
            "wechat_id",
            "tags",
            "advisor_id",
            "converted",
        ),
        ("lead_id",),
    ),
)

_INT_COLUMNS = (
    "lot_capacity",
    "credit_limit_cny",
    "is_nev",
    "msrp_cny",
    "cost_cny",
    "units",
    "schedule_version",
    "max_units",
    "target_units",
    "is_hard",
    "hot_units_per_slow",
    "level",
    "max_open_leads",
    "leads_90d",
    "conversions_90d",
)
_FLOAT_COLUMNS = ("latitude", "longitude", "holding_cost_cny_per_day")

COLUMN_TYPES: dict[str, ColumnType] = {
    column: (
        ColumnType.INT
        if column in _INT_COLUMNS
        else ColumnType.FLOAT
        if column in _FLOAT_COLUMNS
        else ColumnType.TEXT
    )
    for table in TABLES
    for column in table.columns
}
"""The type of every column of every table (a column name means the same in every table)."""


def table_spec(name: str) -> TableSpec:
    """The ``TableSpec`` called ``name``; ``InvalidArgument`` if there is none."""
    for table in TABLES:
        if table.name == name:
            return table
    known = ", ".join(t.name for t in TABLES)
    raise InvalidArgument("table", f"no table {name!r}; the tables are {known}")


def conform(frame: pd.DataFrame, table: TableSpec) -> pd.DataFrame:
    """``frame`` with exactly ``table``'s columns, in order, each cast to its ``ColumnType``.

    Raises ``InvalidArgument`` naming ``<file>:<column>`` when a column is missing or a
    value does not parse as the column's type (e.g. a blank in an integer column).
    """
    out: dict[str, pd.Series] = {}
    for column in table.columns:
        field = f"{table.file_name}:{column}"
        if column not in frame.columns:
            raise InvalidArgument(field, f"column is missing; expected {', '.join(table.columns)}")
        out[column] = _cast(frame[column], COLUMN_TYPES[column], field)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _cast(values: pd.Series, kind: ColumnType, field: str) -> pd.Series:
    if kind is ColumnType.TEXT:
        return values.fillna("").astype(str).reset_index(drop=True)
    try:
        numbers = pd.to_numeric(values, errors="raise")
    except (ValueError, TypeError) as err:
        raise InvalidArgument(field, f"holds a value that is not a number: {err}") from err
    if kind is ColumnType.FLOAT:
        return numbers.astype(np.float64).reset_index(drop=True)
    if numbers.isna().any() or not np.array_equal(numbers, np.round(numbers)):
        raise InvalidArgument(field, "must hold whole numbers with no blanks")
    return numbers.astype(np.int64).reset_index(drop=True)
