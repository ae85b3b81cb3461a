"""Hierarchical forecasts: coherent at every level, new trims borrow from their siblings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.forecaster import ForecastConfig
from forecasting.hierarchy import ReconcileMethod
from forecasting.model import ModelName
from forecasting.panel import Frequency
from forecasting.reconciled import forecast_hierarchy
from turnwise.errors import InvalidArgument

LEVELS = [[], ["region_id"], ["brand_id"], ["store_id", "model_id"]]
TRIMS = {"T1": ("M1", "B1"), "T2": ("M1", "B1"), "T3": ("M2", "B2")}
STORES = {"S1": "R1", "S2": "R1", "S3": "R2"}


def _group(weeks: int = 110) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    ds = pd.date_range("2021-01-04", periods=weeks, freq="W-MON")
    rows, attrs = [], []
    for store, region in STORES.items():
        for trim, (model, brand) in TRIMS.items():
            uid = f"{store}/{trim}"
            attrs.append((uid, region, store, model, brand))
            level = 2.0 + 3.0 * len(attrs) / 9
            y = rng.poisson(level * (1 + 0.4 * np.sin(np.arange(weeks) * 2 * np.pi / 52)))
            rows += [(uid, d, float(v)) for d, v in zip(ds, y, strict=True)]
    history = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    attributes = pd.DataFrame(
        attrs, columns=["unique_id", "region_id", "store_id", "model_id", "brand_id"]
    )
    return history, attributes


def _coherence_error(result: object) -> float:
    h = result.hierarchy  # type: ignore[attr-defined]
    mean = result.mean  # type: ignore[attr-defined]
    return float(np.abs(h.summing @ mean[h.n_aggregates :] - mean).max())


@pytest.mark.parametrize("method", list(ReconcileMethod))
def test_reconciled_means_add_up_at_every_level(method: ReconcileMethod) -> None:
    history, attributes = _group()
    result = forecast_hierarchy(
        history,
        attributes,
        LEVELS,
        Frequency.WEEKLY,
        6,
        method=method,
        config=ForecastConfig(model=ModelName.ETS),
    )
    assert result.method is method
    assert _coherence_error(result) < 1e-9
    frame = result.to_frame()
    assert set(frame["level"]) == {"total", "region_id", "brand_id", "store_id/model_id", "bottom"}
    q = frame[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (q >= 0).all()
    total = frame.loc[frame["unique_id"] == "total", "mean"].to_numpy()
    bottom = frame[frame["level"] == "bottom"].groupby("ds")["mean"].sum().to_numpy()
    np.testing.assert_allclose(total, bottom, rtol=1e-9)
    assert (result.ds == pd.date_range("2023-02-13", periods=6, freq="W-MON")).all()


def test_bottom_up_keeps_the_bottom_base_forecasts() -> None:
    history, attributes = _group()
    result = forecast_hierarchy(
        history,
        attributes,
        LEVELS,
        Frequency.WEEKLY,
        4,
        method=ReconcileMethod.BOTTOM_UP,
        config=ForecastConfig(model=ModelName.ETS),
    )
    base = {f.unique_id: f.mean for f in result.base.forecasts}
    h = result.hierarchy
    for j, uid in enumerate(h.bottom_ids):
        np.testing.assert_allclose(result.mean[h.n_aggregates + j], np.maximum(base[uid], 0))


def test_a_new_trim_borrows_the_average_of_its_model_siblings() -> None:
    history, attributes = _group()
    new = pd.DataFrame(
        [("S1/T9", "R1", "S1", "M1", "B1")], columns=attributes.columns
    )  # a new trim of model M1 at store S1: siblings S1/T1 and S1/T2
    result = forecast_hierarchy(
        history,
        pd.concat([attributes, new], ignore_index=True),
        LEVELS,
        Frequency.WEEKLY,
        4,
        method=ReconcileMethod.BOTTOM_UP,
        config=ForecastConfig(model=ModelName.ETS),
    )
    assert result.borrowed == {"S1/T9": "store_id=S1/model_id=M1"}
    base = {f.unique_id: f.mean for f in result.base.forecasts}
    row = result.hierarchy.node_ids.index("S1/T9")
    np.testing.assert_allclose(result.mean[row], base["store_id=S1/model_id=M1"] / 2)
    assert result.mean[row].sum() > 0
    assert _coherence_error(result) < 1e-9


def test_a_new_trim_of_a_new_model_borrows_from_a_coarser_level() -> None:
    history, attributes = _group()
    new = pd.DataFrame([("S3/T8", "R2", "S3", "M3", "B2")], columns=attributes.columns)
    result = forecast_hierarchy(
        history,
        pd.concat([attributes, new], ignore_index=True),
        LEVELS,
        Frequency.WEEKLY,
        4,
        method=ReconcileMethod.MINT_SHRINK,
        config=ForecastConfig(model=ModelName.ETS),
        borrow_from=[["store_id", "model_id"], ["brand_id"]],
    )
    # No sibling of model M3 at S3: the brand is next in line (region R2 ties with it on
    # three series and would win by default only if listed last).
    assert result.borrowed == {"S3/T8": "brand_id=B2"}
    assert _coherence_error(result) < 1e-9


def test_an_unknown_borrow_level_is_named() -> None:
    history, attributes = _group()
    with pytest.raises(InvalidArgument, match=r"borrow_from"):
        forecast_hierarchy(
            history, attributes, LEVELS, Frequency.WEEKLY, 4, borrow_from=[["trim_id"]]
        )


def test_series_without_an_attribute_row_is_named() -> None:
    history, attributes = _group()
    with pytest.raises(InvalidArgument, match=r"S3/T3"):
        forecast_hierarchy(
            history, attributes[attributes["unique_id"] != "S3/T3"], LEVELS, Frequency.WEEKLY, 4
        )


def test_regressors_are_refused_with_the_column_named() -> None:
    history, attributes = _group()
    with pytest.raises(InvalidArgument, match=r"price_cny"):
        forecast_hierarchy(history.assign(price_cny=1.0), attributes, LEVELS, Frequency.WEEKLY, 4)


def test_a_new_series_with_no_level_in_common_is_an_error() -> None:
    history, attributes = _group()
    lonely = pd.DataFrame([("S9/T9", "R9", "S9", "M9", "B9")], columns=attributes.columns)
    with pytest.raises(InvalidArgument, match=r"S9/T9"):
        forecast_hierarchy(
            history,
            pd.concat([attributes, lonely], ignore_index=True),
            [["region_id"], ["brand_id"]],
            Frequency.WEEKLY,
            4,
            config=ForecastConfig(model=ModelName.ETS),
        )
