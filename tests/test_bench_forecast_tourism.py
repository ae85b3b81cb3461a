"""The ``tourism`` benchmark case: rows of a tiny synthetic quarterly hierarchy through its
helper (finite, named as documented, reconciled sets coherent), and a slice of the real data
where shared/data holds it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks import forecast_tourism as bt
from benchmarks.runner import Row
from forecasting.forecaster import ForecastConfig
from forecasting.hierarchy import aggregate, build_hierarchy, node_matrix
from forecasting.model import ModelName
from tests.test_datasets import needs

LEVEL_METRICS = {
    "mase_total",
    "mase_state",
    "mase_state-region",
    "mase_purpose",
    "mase_state-purpose",
    "mase_bottom",
}
RECONCILED = ("bu", "ols", "wls", "mint")


def _synthetic(quarters: int = 28) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ds = pd.date_range("2010-01-01", periods=quarters, freq="QS")
    season = np.array([1.3, 0.8, 0.9, 1.0])[np.arange(quarters) % 4]
    attrs, frames = [], []
    for state, regions in (("A", ("a1", "a2")), ("B", ("b1",))):
        for region in regions:
            for purpose in ("Holiday", "Business"):
                uid = f"{state}/{region}/{purpose}"
                level = rng.uniform(20, 80)
                y = level * season * (1 + 0.01 * np.arange(quarters))
                y = np.maximum(y + rng.normal(0, 3, quarters), 0.0)
                attrs.append(
                    {"unique_id": uid, "State": state, "Region": region, "Purpose": purpose}
                )
                frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True), pd.DataFrame(attrs)


def _check(rows: list[Row], names: list[str]) -> dict[tuple[str, str], float]:
    table = {(r.method, r.metric): r.value for r in rows}
    assert len(table) == len(rows), "one row per (method, metric)"
    assert all(math.isfinite(r.value) for r in rows)
    for name in names:
        for label in (name, *(f"{name}+{suffix}" for suffix in RECONCILED)):
            metrics = {m for (meth, m) in table if meth == label}
            assert LEVEL_METRICS | {"mase", "seconds"} <= metrics, label
            levels = [table[label, m] for m in LEVEL_METRICS]
            assert table[label, "mase"] == pytest.approx(np.mean(levels))
            assert all(0.0 < v < 10.0 for v in levels), (label, levels)
        for suffix in RECONCILED:
            assert table[f"{name}+{suffix}", "coherence_max_abs_error"] < 1e-6
        assert (name, "coherence_max_abs_error") not in table
        assert 0.0 <= table[f"{name}+mint", "mint_shrinkage"] <= 1.0
        # bottom-up keeps the bottom series as they were
        assert table[f"{name}+bu", "mase_bottom"] == pytest.approx(table[name, "mase_bottom"])
    return table


def test_synthetic_hierarchy_rows_are_finite_and_reconciled_sets_coherent() -> None:
    history, attributes = _synthetic()
    methods: dict[str, bt.Method] = {
        "turnwise-ets": bt.engine(ForecastConfig(model=ModelName.ETS)),
        "seasonal-naive": bt.seasonal_naive,
    }
    rows = bt.hierarchy_rows("synthetic", history, attributes, bt.LEVELS, methods, horizon=4)
    assert {r.case for r in rows} == {"synthetic"}
    table = _check(rows, list(methods))
    # seasonal naive of the sums is the sum of the seasonal naives: already coherent
    for metric in LEVEL_METRICS:
        assert table["seasonal-naive+mint", metric] == pytest.approx(
            table["seasonal-naive", metric]
        )


def test_coherence_error_sums_the_bottom_afresh() -> None:
    history, attributes = _synthetic()
    h = build_hierarchy(attributes, bt.LEVELS)
    values, _ = node_matrix(h, aggregate(h, history))
    assert bt.coherence_error(h, attributes, bt.LEVELS, values) < 1e-9
    broken = values.copy()
    broken[h.node_ids.index("State=B/Purpose=Holiday"), 3] += 0.5  # an aggregate off its sum
    assert bt.coherence_error(h, attributes, bt.LEVELS, broken) == pytest.approx(0.5)
    broken = values.copy()
    broken[-1, 0] -= 2.0  # a bottom series changed, its ancestors not
    assert bt.coherence_error(h, attributes, bt.LEVELS, broken) == pytest.approx(2.0)


def test_quick_methods_name_the_engine_model_honestly() -> None:
    assert list(bt.methods(quick=True)) == ["turnwise-ets", "seasonal-naive", "autoets"]
    assert list(bt.methods(quick=False)) == ["turnwise", "seasonal-naive", "autoets"]


@needs("aus_tourism_hierarchical")
def test_tourism_slice_runs_through_the_case() -> None:
    from forecasting.datasets import load_tourism, tourism_hierarchy

    attributes = tourism_hierarchy()
    attributes = attributes[attributes["State"].isin(["ACT", "Tasmania"])]
    history = load_tourism()
    history = history[history["unique_id"].isin(attributes["unique_id"])]
    methods: dict[str, bt.Method] = {"seasonal-naive": bt.seasonal_naive}
    rows = bt.hierarchy_rows("tourism-slice", history, attributes, bt.LEVELS, methods)
    _check(rows, list(methods))
