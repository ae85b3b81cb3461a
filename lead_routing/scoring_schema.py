"""The feature schema of a conversion scorer: which columns it reads and how they encode.

``FeatureSchema.infer(frame)`` reads the schema off a training frame: numeric and boolean
columns are numeric features; every other column (and any named in ``categorical``) is
categorical, its levels the distinct values seen in at least ``min_level_rows`` rows, sorted.
``FeatureSchema.encode(frame)`` turns a frame into the float matrix XGBoost reads: numerics
as floats (NaN where missing), categoricals as the index of their level, NaN where the value
is missing, empty, too rare in training or never seen there, so an unseen category at
predict time is a missing value, not an error. A feature column absent from the frame, a
non-numeric value in a numeric column or an infinite value raises ``InvalidArgument``
naming the column. ``as_target`` checks a 0/1 target the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from turnwise.errors import InvalidArgument

__all__ = ["FeatureSchema", "as_target"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FeatureSchema:
    """The feature columns a scorer reads, in order, and each categorical column's levels."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if len(self.levels) != len(self.categorical):
            raise InvalidArgument("levels", "needs one tuple of levels per categorical column")
        if not self.columns:
            raise InvalidArgument("frame", "has no feature columns")
        if len(set(self.columns)) != len(self.columns):
            raise InvalidArgument("frame", "column names must be unique")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    @property
    def feature_types(self) -> list[str]:
        return ["q"] * len(self.numeric) + ["c"] * len(self.categorical)

    @classmethod
    def infer(
        cls,
        frame: pd.DataFrame,
        categorical: Sequence[str] | None = None,
        min_level_rows: int = 1,
    ) -> FeatureSchema:
        """Numeric and boolean columns are numeric features, the others (and those named in
        ``categorical``) categorical, with the levels seen in >= ``min_level_rows`` rows."""
        forced = set(categorical or ())
        for name in forced:
            if name not in frame.columns:
                raise InvalidArgument(str(name), "is named as categorical but is not a column")
        numeric: list[str] = []
        cats: list[str] = []
        levels: list[tuple[str, ...]] = []
        for column in frame.columns:
            if not isinstance(column, str):
                raise InvalidArgument(str(column), "feature column names must be strings")
            series = frame[column]
            if pd.api.types.is_datetime64_any_dtype(series) or isinstance(
                series.dtype, pd.PeriodDtype | pd.IntervalDtype
            ):
                raise InvalidArgument(column, "dates are not features; derive hour/weekday")
            if column not in forced and pd.api.types.is_numeric_dtype(series):
                numeric.append(column)
                continue
            counts = _category_values(series).value_counts()
            kept = counts[counts >= min_level_rows].index
            cats.append(column)
            levels.append(tuple(sorted(str(v) for v in kept)))
        return cls(tuple(numeric), tuple(cats), tuple(levels))

    def encode(self, frame: pd.DataFrame) -> FloatArray:
        """The float matrix of ``frame``'s feature columns: numerics as floats (NaN where
        missing), categoricals as level codes (NaN where not a level)."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InvalidArgument(
                missing[0], f"column is missing; the scorer reads {', '.join(self.columns)}"
            )
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for j, column in enumerate(self.numeric):
            out[:, j] = _numeric_values(frame[column], column)
        for k, column in enumerate(self.categorical):
            values = pd.Index(_category_values(frame[column]).to_numpy(), dtype=object)
            codes = pd.Index(self.levels[k], dtype=object).get_indexer(values)
            out[:, len(self.numeric) + k] = np.where(codes < 0, np.nan, codes)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "levels": [list(v) for v in self.levels],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FeatureSchema:
        return cls(
            tuple(str(c) for c in raw["numeric"]),
            tuple(str(c) for c in raw["categorical"]),
            tuple(tuple(str(v) for v in levels) for levels in raw["levels"]),
        )


def _numeric_values(series: pd.Series, column: str) -> FloatArray:
    if not pd.api.types.is_numeric_dtype(series):
        raise InvalidArgument(column, f"must be numeric like in training, got {series.dtype}")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise InvalidArgument(column, "holds an infinite value; use NaN for a missing one")
    return values


def _category_values(series: pd.Series) -> pd.Series:
    """Category values as strings; missing and empty values dropped to NaN."""
    missing = series.isna().to_numpy()
    text = series.astype(object).map(str).to_numpy(dtype=object, copy=True)
    text[missing | (text == "")] = None
    return pd.Series(text, index=series.index, dtype=object)


def as_target(target: object, rows: int, field_name: str = "target") -> IntArray:
    """``target`` as an int array of 0/1 of length ``rows``; ``InvalidArgument`` otherwise."""
    values = np.asarray(target)
    if values.ndim != 1 or len(values) != rows:
        raise InvalidArgument(
            field_name, f"must be one 0/1 value per row: {rows} rows, got shape {values.shape}"
        )
    try:
        numeric = values.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidArgument(field_name, "must hold only 0 and 1") from err
    bad = ~np.isin(numeric, (0.0, 1.0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidArgument(
            field_name,
            f"must hold only 0 and 1, got {values[first : first + 1].tolist()[0]!r} at row {first}",
        )
    return numeric.astype(np.int64)
