"""The ``pickup`` benchmark at a tiny size: every figure it promises, finite, per case and
method (correctness only; benchmarks are never timed in tests)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import pickup
from benchmarks.runner import RESULTS_ENV, Row, run_benchmark

KPIS = {
    "expected_profit_cny": "CNY",
    "fill_rate": "ratio",
    "days_of_supply": "days",
    "slow_moving_share": "ratio",
    "aged_share": "ratio",
    "target_attainment": "ratio",
    "cars_ordered": "cars",
    "bundle_rows_broken": "rows",
}
SOLVE = {
    "solve_seconds": "s",
    "gap": "ratio",
    "objective_cny": "CNY",
    "bound_cny": "CNY",
    "forecast_seconds": "s",
}
RESOLVE = {"resolve_seconds": "s", "gap": "ratio", "objective_cny": "CNY"}


@pytest.mark.slow
def test_pickup_benchmark_writes_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    monkeypatch.setattr(pickup, "CASES", {"g60": (6, 16, 1e-3)})
    monkeypatch.setattr(pickup, "SAMPLES", 50)

    run_benchmark("pickup", quick=True)

    rows = [Row(**r) for r in json.loads((tmp_path / "pickup.json").read_text())["rows"]]
    got = {(r.case, r.method, r.metric): r for r in rows}
    assert len(got) == len(rows)
    expected = {("g60", "turnwise", m): u for m, u in SOLVE.items()}
    for method in ("turnwise", "baseline-proportional", "no-orders"):
        expected |= {("g60", method, m): u for m, u in KPIS.items()}
    for change in ("credit-cut", "offer-cut"):
        for method in ("turnwise-warm", "turnwise-cold"):
            expected |= {(f"g60/{change}", method, m): u for m, u in RESOLVE.items()}
    assert set(got) == set(expected)
    for key, row in got.items():
        assert row.unit == expected[key], key
        assert math.isfinite(row.value), key
    turnwise = got["g60", "turnwise", "objective_cny"].value
    assert got["g60", "turnwise", "bound_cny"].value >= turnwise - 1e-6 * abs(turnwise)
    assert got["g60", "no-orders", "cars_ordered"].value == 0
    assert got["g60", "turnwise", "cars_ordered"].value > 0
    assert got["g60", "turnwise", "bundle_rows_broken"].value == 0
