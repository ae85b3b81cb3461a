"""Accuracy metrics: hand-computed cases, the documented zero-denominator answers, and the
published M4 weekly Naive2 row reproduced from the repository's data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting import datasets, metrics
from turnwise.errors import InvalidArgument

M4_DIR = datasets.shared_data_dir() / "m4_weekly"


def test_exported_names() -> None:
    assert sorted(metrics.__all__) == ["coverage", "mase", "owa", "pinball", "smape", "wape"]
    for name in metrics.__all__:
        assert callable(getattr(metrics, name))


def test_wape_pools_everything() -> None:
    assert metrics.wape([1, 2, 3], [2, 2, 2]) == pytest.approx(2 / 6)
    two_series = metrics.wape([[1, 2], [3, 4]], [[1, 3], [1, 4]])
    assert two_series == pytest.approx(3 / 10)


def test_wape_zero_actuals() -> None:
    assert math.isnan(metrics.wape([0, 0], [0, 0]))
    assert metrics.wape([0, 0], [1, 0]) == math.inf


def test_smape_m4_definition_in_percent() -> None:
    value = metrics.smape([100, 0, 50], [110, 0, 0])
    assert value == pytest.approx((200 * 10 / 210 + 0 + 200) / 3)
    assert metrics.smape([5, 5], [5, 5]) == 0.0
    assert metrics.smape([1], [-1]) == pytest.approx(200.0)


def test_mase_scales_by_insample_lag_differences() -> None:
    insample = [1, 2, 4, 7]
    assert metrics.mase([3, 5], [4, 4], insample, 1) == pytest.approx(1 / 2)
    assert metrics.mase([3, 5], [4, 4], insample, 2) == pytest.approx(1 / 4)


def test_mase_without_scale() -> None:
    assert math.isnan(metrics.mase([2, 2], [2, 2], [2, 2, 2], 1))  # 0 / 0
    assert metrics.mase([2, 3], [2, 2], [2, 2, 2], 1) == math.inf  # error / 0
    assert math.isnan(metrics.mase([1], [2], [1, 2], 2))  # no lag-2 difference


def test_pinball_by_hand() -> None:
    # level 0.1: y above f by 2 -> 0.2; 0.5: exact -> 0; 0.9: y below f by 3 -> 0.3
    loss = metrics.pinball([10], [[8, 10, 13]], [0.1, 0.5, 0.9])
    assert loss == pytest.approx(0.5 / 3)
    two_steps = metrics.pinball([0, 4], [[1.0], [2.0]], [0.5])
    assert two_steps == pytest.approx((0.5 * 1 + 0.5 * 2) / 2)


def test_coverage_closed_interval() -> None:
    assert metrics.coverage([1, 5, 10], [0, 6, 10], [2, 7, 12]) == pytest.approx(2 / 3)


def test_owa_of_published_damped_row() -> None:
    assert metrics.owa(9.161, 2.777, 9.161, 2.777) == 1.0
    assert metrics.owa(8.866, 2.404, 9.161, 2.777) == pytest.approx(0.917, abs=5e-4)


def test_bad_shapes_name_the_field() -> None:
    with pytest.raises(InvalidArgument, match="forecast"):
        metrics.wape([1, 2], [1, 2, 3])
    with pytest.raises(InvalidArgument, match="quantiles"):
        metrics.pinball([1, 2], [[1, 2]], [0.1, 0.9])
    with pytest.raises(InvalidArgument, match="actual"):
        metrics.smape([], [])


@pytest.mark.shared_data
@pytest.mark.skipif(not M4_DIR.is_dir(), reason=f"M4 weekly data not found at {M4_DIR}")
def test_m4_weekly_naive2_row_reproduced() -> None:
    """Last-value naive on the 359 weekly series: published sMAPE 9.161, MASE 2.777 (m=1)."""
    train = datasets.load_m4_weekly("train")
    test = datasets.load_m4_weekly("test")
    history = {uid: g["y"].to_numpy() for uid, g in train.groupby("unique_id")}
    smapes, mases = [], []
    for uid, g in test.groupby("unique_id"):
        y, x = g["y"].to_numpy(), history[uid]
        naive = np.full(len(y), x[-1])
        smapes.append(metrics.smape(y, naive))
        mases.append(metrics.mase(y, naive, x, 1))
    assert len(smapes) == 359
    assert round(float(np.mean(smapes)), 3) == 9.161
    assert round(float(np.mean(mases)), 3) == 2.777
